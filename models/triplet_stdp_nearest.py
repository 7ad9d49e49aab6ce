"""
Triplet spike-timing-dependent plasticity with nearest-spike interactions (Pfister & Gerstner
2006, J. Neurosci. 26:9673).

The same four traces as `triplet_stdp` -- presynaptic ``r1`` (tau_plus) and ``r2`` (tau_x),
postsynaptic ``o1`` (tau_minus) and ``o2`` (tau_y), each decaying exponentially between spikes
-- but a spike *sets* its neuron's traces to 1 instead of adding 1, so only the most recent
spike of each neuron interacts::

    at a presynaptic spike:   w -> clip(w - o1 (A2_minus + A3_minus r2)),  r1 = r2 = 1
    at a postsynaptic spike:  w -> clip(w + r1 (A2_plus + A3_plus o2)),    o1 = o2 = 1

with the triplet traces (``r2``, ``o2``) read *before* their own update. The default
parameters are those of `triplet_stdp` (minimal all-to-all, visual cortex); the nearest-spike
rows of Pfister & Gerstner's Table 4 are the ``'pfister_*_nearest_*'`` parameter sets of
`brianlearn.protocols.plasticity.parameter_sets`.
"""

from brian2 import ms

from brianlearn.modelspec import SynapseModel

__all__ = ["triplet_stdp_nearest"]

triplet_stdp_nearest = SynapseModel(
    "triplet_stdp_nearest",
    model="""
        w : 1
        dr1/dt = -r1 / tau_plus : 1 (event-driven)
        dr2/dt = -r2 / tau_x : 1 (event-driven)
        do1/dt = -o1 / tau_minus : 1 (event-driven)
        do2/dt = -o2 / tau_y : 1 (event-driven)
    """,
    on_pre="""
        w = clip(w - o1 * (A2_minus + A3_minus * r2), w_min, w_max)
        r1 = 1
        r2 = 1
    """,
    on_post="""
        w = clip(w + r1 * (A2_plus + A3_plus * o2), w_min, w_max)
        o1 = 1
        o2 = 1
    """,
    parameters=dict(A2_plus=0.0, A3_plus=6.5e-3, A2_minus=7.1e-3, A3_minus=0.0,
                    tau_plus=16.8 * ms, tau_minus=33.7 * ms, tau_x=101 * ms, tau_y=114 * ms,
                    w_min=0.0, w_max=100.0),
    reference="Pfister & Gerstner (2006) J. Neurosci. 26:9673 (nearest-spike interactions; Table 4)",
    doc="Triplet STDP with nearest-spike interactions (traces reset to 1 at a spike).",
)
