"""
Triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006, J. Neurosci. 26:9673),
all-to-all interactions.

Two presynaptic traces ``r1`` (tau_plus), ``r2`` (tau_x) and two postsynaptic traces ``o1``
(tau_minus), ``o2`` (tau_y), each jumping by 1 at a spike. At a presynaptic spike the weight
is depressed by ``o1 * (A2_minus + A3_minus * r2)``, at a postsynaptic spike potentiated by
``r1 * (A2_plus + A3_plus * o2)``, with the triplet traces read *before* their own update.
Defaults: the minimal all-to-all visual-cortex set (A2+ = 0, A3+ = 6.5e-3, A2- = 7.1e-3,
A3- = 0, tau+ = 16.8 ms, tau- = 33.7 ms, tau_y = 114 ms).
"""

from brian2 import ms

from brianlearn.modelspec import SynapseModel

__all__ = ["triplet_stdp"]

triplet_stdp = SynapseModel(
    "triplet_stdp",
    model="""
        w : 1
        dr1/dt = -r1 / tau_plus : 1 (event-driven)
        dr2/dt = -r2 / tau_x : 1 (event-driven)
        do1/dt = -o1 / tau_minus : 1 (event-driven)
        do2/dt = -o2 / tau_y : 1 (event-driven)
    """,
    on_pre="""
        w = clip(w - o1 * (A2_minus + A3_minus * r2), w_min, w_max)
        r1 += 1
        r2 += 1
    """,
    on_post="""
        w = clip(w + r1 * (A2_plus + A3_plus * o2), w_min, w_max)
        o1 += 1
        o2 += 1
    """,
    parameters=dict(A2_plus=0.0, A3_plus=6.5e-3, A2_minus=7.1e-3, A3_minus=0.0,
                    tau_plus=16.8 * ms, tau_minus=33.7 * ms, tau_x=101 * ms, tau_y=114 * ms,
                    w_min=0.0, w_max=100.0),
    reference="Pfister & Gerstner (2006) J. Neurosci. 26:9673, Table 4 (minimal all-to-all, "
              "visual cortex)",
    doc="Triplet STDP with all-to-all interactions.",
)
