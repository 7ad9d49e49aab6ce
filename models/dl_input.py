"""
Input neuron of the two-phase dictionary-learning network: it holds one input channel ``x_j``
in the first phase and mixes in the network's reconstruction ``(B a)_j`` in the second.

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (DESIGN.md section 4.2). A perfect integrate-and-fire neuron (`perfect_if`) with
threshold 1, the subtractive reset, and the current::

    dv/dt = I / tau
    dI/dt = ((1 - gamma) x - I) / tau_s      gamma: the phase signal (0, then kappa)
    feedback synapses (`dl_feedback`):  I_post += gamma B_ji  on every spike of coding neuron i

so its rate ``b`` is ``x`` in the phase ``gamma = 0`` and ``(1 - kappa) x + kappa B a`` in the
phase ``gamma = kappa``. The protocol reads the rate of each phase, ``b0`` and ``bk`` (spike
count / phase length); at the end of the trial the neuron computes the gradient it sends back
to its synapses (``update``)::

    gD = bk - b0          ~ kappa (B a - x), the reconstruction error of channel j
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["dl_input"]

dl_input = NeuronModel(
    "dl_input",
    equations="""
        dv/dt = I / tau : 1
        dI/dt = ((1 - gamma) * x - I) / tau_s : 1
        x : 1
        gamma : 1 (shared)
        count : 1
        b0 : 1
        bk : 1
        gD : 1
    """,
    threshold="v > 1",
    reset="v -= 1\ncount += 1",
    update="gD = bk - b0",
    method="euler",
    parameters=dict(tau=1 * ms, tau_s=1 * ms),
    reference="Lin & Tang (2018) arXiv:1805.08952, Algorithm 1",
    doc="Input neuron of the dictionary-learning network: bias (1 - gamma) x, feedback gamma B a, "
        "threshold 1; end-of-trial gradient gD = bk - b0 (the reconstruction error).",
)
