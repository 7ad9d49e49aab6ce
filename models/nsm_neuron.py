"""
Output neuron of the spiking non-negative similarity matching network and of its spiking
non-negative elastic-net solver: a perfect integrate-and-fire neuron with a per-neuron
threshold, bias and output.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, section 3.1; the solver and its convergence theorem are
Tang, Lin & Davies (2017), arXiv:1705.05475 (the neuron is `perfect_if` with its constants made
per-neuron state variables).

With time ``tau`` (one unit = ``tau`` = 1 ms of Brian2 time, the paper's time is
dimensionless)::

    dv/dt = I / tau
    dI/dt = (bias - I) / tau_s          bias_i = (Wx)_i - alpha b_i - lam1, set at trial start
    spike when v > theta,  theta_i = lam2 + M_ii  (M_ii: homeostatic, learned by the NSM network)
    then v -= theta ('subtract', this model's reset) or v = 0 (the paper's, `perfect_if.RESETS`)
    y_i = count_i / duration            the output, set at the end of every trial

Lateral inhibition enters through the synapses (`nsm_lateral`: ``I_post -= w``). The NSM network
also learns the bias ``bb`` (``b`` of the paper) and ``Mii`` at the end of every trial (``update``,
scaled by the learning rate ``eta`` through the protocol's learning gate)::

    M_ii += eta (y_i^2 - M_ii)        homeostatic: moves the threshold lam2 + M_ii
    b_i  += eta (alpha y_i - b_i)
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["nsm_neuron"]

nsm_neuron = NeuronModel(
    "nsm_neuron",
    equations="""
        dv/dt = I / tau : 1
        dI/dt = (bias - I) / tau_s : 1
        count : 1
        y : 1
        bias : 1
        Mii : 1
        bb : 1
        theta = lam2 + Mii : 1
    """,
    threshold="v > theta",
    reset="v -= theta\ncount += 1",
    update="Mii += y*y - Mii\nbb += alpha*y - bb",
    method="euler",
    parameters=dict(tau=1 * ms, tau_s=1 * ms, lam2=0.0, alpha=0.0),
    reference="Pehlevan (2019) arXiv:1902.01429; Tang, Lin & Davies (2017) arXiv:1705.05475",
    doc="Perfect integrate-and-fire neuron of the spiking NSM network and elastic-net solver: threshold "
        "lam2 + Mii, bias (Wx - alpha b - lam1) set per trial, output y = spike count / duration.",
)
