"""
Exact event-by-event references for the shipped plasticity rules (NumPy).

`event_weight_change` processes the spikes of one synapse in time order and applies the jumps
and exponential decays of `brianlearn.models.pair_stdp`, `triplet_stdp` or
`triplet_stdp_nearest` exactly; it is the independent check of the Brian2 simulation and the
fast inner loop of `brianlearn.protocols.plasticity.fit`. `pair_sum_weight_change` is the sum
of the pair window over all spike pairs, a second, closed-form reference for all-to-all pair
STDP without clipping.
"""

import numpy as np

from .parameters import RULE_MODELS

__all__ = ["event_weight_change", "pair_sum_weight_change"]


def event_weight_change(rule, params, pre_times, post_times, w0=1.0, same_step_order=True):
    """Final weight of a shipped rule, computed event by event with NumPy (exact).

    An independent reference for the Brian2 simulation and the fast inner loop of `fit`.

    Parameters
    ----------
    rule : {'pair', 'triplet', 'triplet_nearest'}
        `pair_stdp` (all-to-all), `triplet_stdp` (all-to-all) or `triplet_stdp_nearest`.
    params : dict
        Parameter values (quantities or SI floats), as in the model; missing ones take the
        shipped model's defaults.
    pre_times, post_times : array
        Spike times in seconds.
    w0 : float
        Initial weight.
    same_step_order : bool
        At equal times the presynaptic spike is processed first (as in Brian2).

    Returns
    -------
    float
        The final weight.
    """
    if rule not in RULE_MODELS:
        raise ValueError(f"rule must be 'pair', 'triplet' or 'triplet_nearest', got {rule!r}.")
    p = {k: float(v) for k, v in params.items()}
    for k, v in RULE_MODELS[rule].parameters.items():
        p.setdefault(k, float(v))
    pre = np.asarray(pre_times, dtype=float)
    post = np.asarray(post_times, dtype=float)
    times = np.concatenate([pre, post])
    kinds = np.concatenate([np.zeros(len(pre), int), np.ones(len(post), int)])
    order = np.lexsort((kinds if same_step_order else -kinds, times))
    w, wmin, wmax = float(w0), p["w_min"], p["w_max"]
    last = times[order[0]] if len(order) else 0.0
    if rule == "pair":
        apre = apost = 0.0
        tp, tm, Ap, Am = p["tau_plus"], p["tau_minus"], p["A_plus"], p["A_minus"]
        for idx in order:
            t = times[idx]
            gap = t - last
            apre *= np.exp(-gap / tp)
            apost *= np.exp(-gap / tm)
            last = t
            if kinds[idx] == 0:
                apre += Ap
                w = min(max(w - apost, wmin), wmax)
            else:
                apost += Am
                w = min(max(w + apre, wmin), wmax)
        return w
    nearest = rule == "triplet_nearest"
    r1 = r2 = o1 = o2 = 0.0
    for idx in order:
        t = times[idx]
        gap = t - last
        r1 *= np.exp(-gap / p["tau_plus"])
        r2 *= np.exp(-gap / p["tau_x"])
        o1 *= np.exp(-gap / p["tau_minus"])
        o2 *= np.exp(-gap / p["tau_y"])
        last = t
        if kinds[idx] == 0:
            w = min(max(w - o1 * (p["A2_minus"] + p["A3_minus"] * r2), wmin), wmax)
            r1, r2 = (1.0, 1.0) if nearest else (r1 + 1.0, r2 + 1.0)
        else:
            w = min(max(w + r1 * (p["A2_plus"] + p["A3_plus"] * o2), wmin), wmax)
            o1, o2 = (1.0, 1.0) if nearest else (o1 + 1.0, o2 + 1.0)
    return w


def pair_sum_weight_change(params, pre_times, post_times):
    """``Σ_pre Σ_post K(t_post - t_pre)`` of the pair window.

    An independent reference for all-to-all pair STDP without clipping (``K(0) = A_plus``:
    Brian2 processes the presynaptic spike of a time step first).

    Parameters
    ----------
    params : dict
        ``A_plus``, ``A_minus``, ``tau_plus``, ``tau_minus`` (quantities or SI floats).
    pre_times, post_times : array
        Spike times in seconds.

    Returns
    -------
    float
        The weight change ``w - w0``.
    """
    p = {k: float(v) for k, v in params.items()}
    d = np.asarray(post_times, float)[None, :] - np.asarray(pre_times, float)[:, None]
    return float(np.sum(np.where(d >= 0, p["A_plus"] * np.exp(-np.abs(d) / p["tau_plus"]),
                                 -p["A_minus"] * np.exp(-np.abs(d) / p["tau_minus"]))))
