"""
Nudged two-compartment output neuron (Urbanczik & Senn 2014 style) with the conductance-like
nudging factor of Mesnard, Gerstner & Brea (2016, arXiv:1612.03214, seed 003).

The soma is a leaky integrate-and-fire compartment (see ``lif``) that mixes the dendritic
input ``I_dend = sum_j w_ij s_j`` with a somatic nudging current ``I_nudge`` toward the target::

    tau du/dt = -(u - u0) + (1 - lam) * I_dend + lam * R * I_nudge
    lam = R I_nudge / (R I_nudge + I_dend)          (dendritic part clipped at 0)

``lam`` is zero whenever ``I_nudge`` is zero (the free phase), and it tends to 1 when the
nudging dominates, which bounds the somatic drive between the dendritic prediction and the
target (no run-away). Protocols set ``I_nudge`` at phase boundaries.
"""

from brian2 import Mohm, ms, mV

from brianlearn.modelspec import NeuronModel

__all__ = ["nudged_output", "nudging_factor"]

nudged_output = NeuronModel(
    "nudged_output",
    equations="""
        du/dt = (-(u - u0) + (1 - lam) * I_dend + lam * R * I_nudge) / tau : volt (unless refractory)
        lam = R * I_nudge / (R * I_nudge + clip(I_dend, 0*volt, inf*volt) + u_eps) : 1
        I_dend : volt
        I_nudge : amp
        count : 1
    """,
    threshold="u > theta",
    reset="u = u_r\ncount += 1",
    refractory="t_ref",
    method="euler",
    parameters=dict(tau=15 * ms, u0=0 * mV, u_r=0 * mV, theta=20 * mV, t_ref=5 * ms,
                    R=100 * Mohm, u_eps=1e-9 * mV),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003); "
              "Urbanczik & Senn (2014) Neuron 81:521",
    doc="Two-compartment output neuron: dendritic input and a somatic nudging current mixed by "
        "the nudging factor lam = R*I_nudge/(R*I_nudge + I_dend); lam = 0 in the free phase.",
)


def nudging_factor(R_I_nudge, I_dend):
    """The nudging factor ``R I / (R I + I_dend)`` (0 where ``R I`` is 0), NumPy reference."""
    import numpy as np

    num = np.asarray(R_I_nudge, dtype=float)
    den = num + np.clip(np.asarray(I_dend, dtype=float), 0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num > 0, num / den, 0.0)
