"""
Perfect (non-leaky) integrate-and-fire neuron with an exponentially filtered synaptic current.

Tang, Lin & Davies (2017), "Sparse coding by spiking neural networks: convergence theory and
computational results", arXiv:1705.05475, and Lin & Tang (2018) for the dictionary-learning network.

The potential integrates the current, the current relaxes to the bias with time constant
``tau_s`` and jumps by the synaptic weight on every presynaptic spike (a kernel
``exp(-t/tau_s)``)::

    dv/dt = I / tau                 (v, I dimensionless; tau sets the time unit)
    dI/dt = (bias - I) / tau_s
    spike when v > theta, then v = 0 (paper) or v -= theta (``RESETS['subtract']``)

With a constant current ``I`` the neuron fires at ``I / (theta * tau)`` (after the first
spike, exactly so with the subtractive reset). ``count`` counts spikes, for rate read-outs.
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["perfect_if", "RESETS"]

#: The two resets: the paper's reset to zero, and the reset that subtracts the threshold
#: (keeps the overshoot; much more accurate rates at coarse time steps, DESIGN.md §4.3).
RESETS = {"zero": "v = 0\ncount += 1", "subtract": "v -= theta\ncount += 1"}

perfect_if = NeuronModel(
    "perfect_if",
    equations="""
        dv/dt = I / tau : 1
        dI/dt = (bias - I) / tau_s : 1
        count : 1
    """,
    threshold="v > theta",
    reset=RESETS["zero"],
    method="euler",
    parameters=dict(tau=1 * ms, tau_s=1 * ms, bias=0.0, theta=1.0),
    reference="Tang, Lin & Davies (2017) arXiv:1705.05475; Lin & Tang (2018) arXiv:1805.08952",
    doc="Perfect integrate-and-fire neuron with exponentially filtered synaptic current "
        "(rate = I/(theta*tau) for constant I). Synapses act with 'I_post -= w' (inhibition).",
)
