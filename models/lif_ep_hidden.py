"""
Hidden leaky integrate-and-fire neuron of the spiking equilibrium-propagation network
(Mesnard, Gerstner & Brea 2016, arXiv:1612.03214, seed 003): the somatic equation without
nudging, driven by synaptic traces from the layer below (``I_up``) and above (``I_down``)::

    tau du/dt = -(u - u0) + I_up + I_down          below threshold theta
    spike when u > theta, then u = u_r, refractory for t_ref
    tau_s dI_up/dt = -I_up,  tau_s dI_down/dt = -I_down

The synapses add ``w U / (r_max tau_s)`` to ``I_up`` (``I_down``) per presynaptic spike, so that
``<I_up> = U sum_j w_ij rho_j`` with the normalised rates ``rho_j = r_j / r_max``. The same
somatic equation as `lif` (``u0`` here is the resting drive, 20 mV), written with two trace
inputs and integrated with Euler steps as in the seed; the rates come from the fragment
`lif_ep_traces` (``lif_ep_hidden.extend(lif_ep_traces)``).
"""

from brian2 import Hz, ms, mV

from brianlearn.modelspec import NeuronModel

__all__ = ["lif_ep_hidden"]

lif_ep_hidden = NeuronModel(
    "lif_ep_hidden",
    equations="""
        du/dt = (-(u - u0) + I_up + I_down) / tau : volt (unless refractory)
        dI_up/dt = -I_up / tau_s : volt
        dI_down/dt = -I_down / tau_s : volt
    """,
    threshold="u > theta",
    reset="u = u_r",
    refractory="t_ref",
    method="euler",
    parameters=dict(tau=15 * ms, tau_s=5 * ms, u0=20 * mV, u_r=0 * mV, theta=20 * mV, t_ref=5 * ms, U=50 * mV,
                    r_max=100 * Hz),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003), somatic equation",
    doc="Hidden LIF neuron of the spiking EP network: synaptic traces from below (I_up) and above (I_down); "
        "rates from the fragment lif_ep_traces.",
)
