"""
Coding neuron of the two-phase dictionary-learning network: a spiking LCA neuron whose
threshold ``theta_i = H_ii`` (also the weight ``s_i`` of its sparsity penalty) it learns itself.

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (DESIGN.md section 4.2). A perfect integrate-and-fire neuron (`perfect_if`) with
the subtractive reset and the current::

    dv/dt = I / tau
    dI/dt = (-(1 - gamma) lam1 theta - I) / tau_s     bias -(1 - gamma) lam1 s_i,  s_i = theta_i
    feed-forward synapses (`dl_feedforward`):  I_post += F_ij  per spike of input neuron j
    inhibition (`dl_inhibition`):              I_post -= H_ij  per spike of coding neuron j != i
    spike when v > theta, then v -= theta

Per phase the protocol reads the rate ``a = count / T`` and ``e = u - theta a``, the mean
current minus what the spikes carried away, which with the subtractive reset is the net change
of ``v`` over the phase divided by its length: ``e = (v_end - v_start) / T``. The inhibition
synapses sum ``hsum_i = sum_{j != i} H_ij (a0_j - ak_j)`` once per trial. At the end of the
trial (``update``; ``eta_d``, ``eta_h``, ``lam2`` are set per trial by the protocol)::

    gH     = (1 - kappa) (hsum + theta (a0 - ak)) + (1 - kappa) e0 - ek      ~ kappa ((H - FB) a)_i
    theta <- max(theta - eta_h gH ak / kappa - 2 eta_d lam2 theta, theta_min)

``theta_min`` keeps the threshold positive (the paper projects H onto >= 0; a threshold of 0
would make the neuron fire in every step).
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["dl_coding"]

dl_coding = NeuronModel(
    "dl_coding",
    equations="""
        dv/dt = I / tau : 1
        dI/dt = (-(1 - gamma) * lam1 * theta - I) / tau_s : 1
        theta : 1
        gamma : 1 (shared)
        lam1 : 1 (shared)
        count : 1
        vstart : 1
        a0 : 1
        ak : 1
        e0 : 1
        ek : 1
        hsum : 1
        gH : 1
        eta_d : 1 (shared)
        eta_h : 1 (shared)
        lam2 : 1 (shared)
    """,
    threshold="v > theta",
    reset="v -= theta\ncount += 1",
    update="gH = (1 - kappa)*(hsum + theta*(a0 - ak)) + (1 - kappa)*e0 - ek\n"
           "theta = clip(theta - eta_h*gH*ak/kappa - 2*eta_d*lam2*theta, theta_min, inf)",
    method="euler",
    parameters=dict(tau=1 * ms, tau_s=1 * ms, kappa=0.7, theta_min=1e-3),
    reference="Lin & Tang (2018) arXiv:1805.08952, Algorithm 1",
    doc="Coding neuron of the dictionary-learning network: spiking LCA neuron with bias "
        "-(1 - gamma) lam1 theta and learned threshold theta = H_ii (end-of-trial gradient gH).",
)
