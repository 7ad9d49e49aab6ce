"""
Input neuron of the spiking equilibrium-propagation network (Mesnard, Gerstner & Brea 2016,
arXiv:1612.03214, seed 003): a leaky integrate-and-fire neuron with a constant drive ``D`` in
both phases, population-coded by the learning system (neuron ``k`` of an input dimension
prefers ``c_k = k / (P - 1)`` and is driven at ``D = u0 + U exp(-(x - c_k)^2 / (2 sigma^2))``)::

    tau du/dt = D - u          below threshold theta
    spike when u > theta, then u = u_r, refractory for t_ref

Integrated exactly; the rates come from the fragment `lif_ep_traces`.
"""

from brian2 import Hz, ms, mV

from brianlearn.modelspec import NeuronModel

__all__ = ["lif_ep_input"]

lif_ep_input = NeuronModel(
    "lif_ep_input",
    equations="""
        du/dt = (D - u) / tau : volt (unless refractory)
        D : volt
    """,
    threshold="u > theta",
    reset="u = u_r",
    refractory="t_ref",
    method="exact",
    parameters=dict(tau=15 * ms, u0=20 * mV, u_r=0 * mV, theta=20 * mV, t_ref=5 * ms, U=50 * mV, r_max=100 * Hz),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003)",
    doc="Input LIF neuron of the spiking EP network: constant drive D (population code of the input) in "
        "both phases; rates from the fragment lif_ep_traces.",
)
