"""
Pair-based spike-timing-dependent plasticity with event-driven traces (all-to-all pairing).

Song, Miller & Abbott (2000); Bi & Poo (1998). With ``dt = t_post - t_pre``, one pairing
changes the weight by::

    dw = A_plus  * exp(-dt / tau_plus)     dt > 0  (potentiation)
    dw = -A_minus * exp( dt / tau_minus)   dt < 0  (depression)

implemented with a presynaptic trace ``apre`` and a postsynaptic trace ``apost`` that decay
between spikes and are only updated at spikes (event-driven). The weight is relative
(``w = 1`` at the start of an experiment), so ``100 * (w - 1)`` is the percent change.
Defaults: the Bi & Poo (2001) fit divided by 60 pairings (``'bi_poo_1998'`` set).
"""

from brian2 import ms

from brianlearn.modelspec import SynapseModel

__all__ = ["pair_stdp", "stdp_kernel"]

pair_stdp = SynapseModel(
    "pair_stdp",
    model="""
        w : 1
        dapre/dt = -apre / tau_plus : 1 (event-driven)
        dapost/dt = -apost / tau_minus : 1 (event-driven)
    """,
    on_pre="""
        apre += A_plus
        w = clip(w - apost, w_min, w_max)
    """,
    on_post="""
        apost += A_minus
        w = clip(w + apre, w_min, w_max)
    """,
    parameters=dict(A_plus=0.777 / 60, A_minus=0.273 / 60, tau_plus=16.8 * ms,
                    tau_minus=33.7 * ms, w_min=0.0, w_max=100.0),
    reference="Song, Miller & Abbott (2000) Nat. Neurosci. 3:919; Bi & Poo (1998) J. Neurosci. "
              "18:10464, fit of Bi & Poo (2001) Annu. Rev. Neurosci. 24:139",
    doc="Additive pair STDP, all-to-all interactions via event-driven traces.",
)


def stdp_kernel(dt, A_plus, A_minus, tau_plus, tau_minus):
    """Analytic pair-STDP window K(dt) (weight change of one pairing, dt = t_post - t_pre)."""
    import numpy as np

    dt = np.asarray(dt / ms, dtype=float)
    return np.where(dt > 0, A_plus * np.exp(-dt / float(tau_plus / ms)),
                    np.where(dt < 0, -A_minus * np.exp(dt / float(tau_minus / ms)), 0.0))
