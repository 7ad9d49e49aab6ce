"""
Low-pass rate trace of a spike train, a fragment to add to any neuron model::

    tau_r dr/dt = -r + s(t)        s(t) = sum_k delta(t - t_k)

so ``r`` (Hz) jumps by ``1/tau_r`` at each spike and relaxes with ``tau_r``; for a regular
spike train at rate ``f`` its mean converges to ``f``. Use ``model.extend(rate_trace)``.

Reference: the rate read-out of the spiking equilibrium-propagation network (Mesnard,
Gerstner & Brea 2016, arXiv:1612.03214).
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["rate_trace"]

rate_trace = NeuronModel(
    "rate_trace",
    equations="dr/dt = -r / tau_r : Hz",
    reset="r += 1 / tau_r",
    method="exact",
    parameters=dict(tau_r=50 * ms),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214",
    doc="Low-pass filtered spike train (a fragment: combine with a neuron model by "
        "model.extend(rate_trace)).",
)
