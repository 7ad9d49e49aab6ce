"""
STDP and rate differences: Poisson rates that step from a "free" to a "clamped" value.

With slowly varying rates, pair STDP with window K changes the weight on average by
``r_pre r_post ∫K`` plus ``r_pre ṙ_post ∫τK(τ)dτ`` (Xie & Seung 2000; Bengio et al. 2015,
arXiv:1509.05936); integrated over a step of the postsynaptic rate from the free to the
clamped phase the second term is ``r_pre Δr_post ∫τK`` -- the contrastive, rate-difference
update. `RateStepStimulus` draws the spike trains and gives these predictions;
`rate_difference` runs the comparison over random rate pairs (numbers only; the figure is
``brianlearn.figures.plasticity_rate_difference``).

References
----------
Xie X & Seung HS (2000) NIPS 12. Bengio Y, Mesnard T, Fischer A, Zhang S & Wu Y (2017)
Neural Comput. 29:555.
"""

import numpy as np
from brian2 import Hz, ms, second

from brianlearn.validation import check_int, check_quantity

from .parameters import resolve_synapse
from .simulate import _snap, run_conditions
from .stimuli import Stimulus

__all__ = ["RateStepStimulus", "rate_difference", "pair_kernel_moments"]


def pair_kernel_moments(model):
    """∫K, ∫τK and the one-sided moments of the pair-STDP window of ``model`` (SI units).

    Returns
    -------
    dict
        ``int_K = A+τ+ - A-τ-``, ``int_tauK = A+τ+² + A-τ-²``, ``M_plus = A+τ+²``,
        ``M_minus = A-τ-²`` and ``int_abs_tauK = ∫|τ|K = A+τ+² - A-τ-²``.
    """
    p = {k: float(v) for k, v in model.parameters.items() if np.ndim(v) == 0 and not callable(v)}
    for key in ("A_plus", "A_minus", "tau_plus", "tau_minus"):
        if key not in p:
            raise ValueError(f"synapse '{model.name}' has no parameter '{key}': the rate-difference prediction "
                             "needs the pair-STDP window (A_plus, A_minus, tau_plus, tau_minus).")
    Ap, Am, tp, tm = p["A_plus"], p["A_minus"], p["tau_plus"], p["tau_minus"]
    return {"int_K": Ap * tp - Am * tm, "int_tauK": Ap * tp ** 2 + Am * tm ** 2,
            "M_plus": Ap * tp ** 2, "M_minus": Am * tm ** 2, "int_abs_tauK": Ap * tp ** 2 - Am * tm ** 2}


class RateStepStimulus(Stimulus):
    """Poisson rates that step from a "free" to a "clamped" value (contrastive phases).

    For rate pair k the presynaptic neuron fires at ``pre[k, 0]`` for ``free`` then at
    ``pre[k, 1]`` for ``clamped``; the postsynaptic neuron at ``post[k, 0]`` then ``post[k, 1]``.
    The postsynaptic train extends by ``margin`` before and after the presynaptic one (at the
    free and clamped rates), so that every presynaptic spike sees its whole STDP window and
    there are no boundary effects: the expected weight change is then exactly
    ``∫ r_pre(s) ∫ K(τ) r_post(s+τ) dτ ds``. Each rate pair is repeated on ``n_repeats``
    independent synapses (separate neuron pairs). Spike trains are drawn with NumPy from
    ``seed`` (identical on every device).

    Parameters
    ----------
    pre, post : Quantity, shape (n_pairs, 2)
        Free and clamped rates.
    n_repeats : int
    free, clamped, margin : Quantity
    seed : int
    dt : Quantity
        Grid of the spike times (spikes falling into the same step are merged).
    """

    def __init__(self, pre, post, n_repeats=50, free=250 * ms, clamped=250 * ms, margin=300 * ms, seed=0,
                 dt=0.1 * ms):
        self.pre = check_quantity("pre", pre, Hz, "Hz")
        self.post = check_quantity("post", post, Hz, "Hz")
        if self.pre.ndim != 2 or self.pre.shape[1] != 2 or self.post.shape != self.pre.shape:
            raise ValueError(f"pre and post must have shape (n_pairs, 2) (free, clamped rates), got "
                             f"{self.pre.shape} and {self.post.shape}.")
        if np.any(self.pre < 0) or np.any(self.post < 0):
            raise ValueError("pre and post rates must be >= 0 Hz.")
        self.n_repeats = check_int("n_repeats", n_repeats)
        self.free = float(check_quantity("free", free, second, "second", allow_array=False, positive=True))
        self.clamped = float(check_quantity("clamped", clamped, second, "second", allow_array=False, positive=True))
        self.margin = float(check_quantity("margin", margin, second, "second", allow_array=False))
        self.dt = float(check_quantity("dt", dt, second, "second", allow_array=False, positive=True))
        self.seed = seed
        self._cache = None

    def _trains(self, rates, segments, rng):
        """Spike steps of every synapse: rates (n_syn, n_seg), segments [(start, length)]."""
        owners, steps = [], []
        n_syn = rates.shape[0]
        for j, (start, length) in enumerate(segments):
            counts = rng.poisson(rates[:, j] * length)
            times = start + rng.uniform(0, length, counts.sum())
            owners.append(np.repeat(np.arange(n_syn), counts))
            steps.append(_snap(times, self.dt))
        owner = np.concatenate(owners)
        step = np.concatenate(steps)
        key = np.unique(owner * (10 ** 12) + step)
        owner, step = key // 10 ** 12, key % 10 ** 12
        bounds = np.searchsorted(owner, np.arange(n_syn + 1))
        return [step[bounds[i]:bounds[i + 1]] * self.dt for i in range(n_syn)]

    def conditions(self):
        if self._cache is None:
            rng = np.random.default_rng(self.seed)
            pre = np.repeat(self.pre, self.n_repeats, axis=0)
            post = np.repeat(self.post, self.n_repeats, axis=0)
            m, tf, tc = self.margin, self.free, self.clamped
            pre_tr = self._trains(pre, [(m, tf), (m + tf, tc)], rng)
            post_tr = self._trains(post, [(0.0, m + tf), (m + tf, tc + m)], rng)
            self._cache = list(zip(pre_tr, post_tr))
        return self._cache

    def predictions(self, model):
        """Predicted weight changes (percent) for each rate pair.

        Returns
        -------
        dict
            ``hebbian``: ``(r_pre^f r_post^f T_free + r_pre^c r_post^c T_clamped) ∫K``;
            ``rate_difference``: ``r̄_pre Δr_post ∫τK(τ)dτ`` with ``r̄_pre`` the mean of the free
            and clamped presynaptic rates; ``predicted``: their sum (the formula of Xie & Seung 2000);
            ``second_order``: ``-½ Δr_pre Δr_post ∫|τ|K(τ)dτ`` (zero when the presynaptic rate does
            not step); ``exact``: the sum of all three (the exact expectation of this stimulus).
        """
        mom = pair_kernel_moments(model)
        a1, a2 = self.pre[:, 0], self.pre[:, 1]
        b1, b2 = self.post[:, 0], self.post[:, 1]
        heb = (a1 * b1 * self.free + a2 * b2 * self.clamped) * mom["int_K"]
        rate = 0.5 * (a1 + a2) * (b2 - b1) * mom["int_tauK"]
        second_order = -0.5 * (a2 - a1) * (b2 - b1) * mom["int_abs_tauK"]
        out = {"hebbian": heb, "rate_difference": rate, "predicted": heb + rate, "second_order": second_order,
               "exact": heb + rate + second_order}
        return {k: 100.0 * v for k, v in out.items()}


def rate_difference(n_pairs=200, n_repeats=50, rates=(5 * Hz, 50 * Hz), free=250 * ms, clamped=250 * ms,
                    synapse="pair_stdp", params="bi_poo_1998", pre_steps=True, seed=0, device=None,
                    engine="brian2", dt=0.1 * ms):
    """STDP versus the rate-difference prediction over random free/clamped rate pairs.

    Draws ``n_pairs`` random rate quadruples (free and clamped, pre and post, uniform in
    ``rates``), runs `RateStepStimulus` (all synapses in one network) and compares the mean
    weight change of each rate pair with ``r_pre Δr_post ∫τK(τ)dτ + r_pre r_post ∫K(τ)dτ``
    integrated over the phases (Xie & Seung 2000; Bengio et al. 2017).

    Parameters
    ----------
    n_pairs : int
        Random rate pairs.
    n_repeats : int
        Independent synapses per rate pair (the measured change is their mean).
    rates : (Quantity, Quantity)
        Range of the rates.
    free, clamped : Quantity
        Phase durations.
    synapse, params
        A pair-STDP model (default ``pair_stdp`` with ``'bi_poo_1998'``).
    pre_steps : bool
        Whether the presynaptic rate also steps (``False``: the same rate in both phases).
    seed : int
    device, engine, dt
        See `run_conditions`.

    Returns
    -------
    dict
        ``measured`` and ``measured_sem`` (percent, per rate pair), the `RateStepStimulus.predictions`
        terms, ``correlation`` (measured versus ``predicted``), ``correlation_rate_term``
        (measured minus Hebbian term versus the rate-difference term), ``correlation_exact``,
        ``rates_pre``, ``rates_post`` (Hz, shape (n_pairs, 2)), ``n_pairs``, ``n_repeats`` and
        the ``stimulus``.
    """
    n_pairs = check_int("n_pairs", n_pairs, 2)
    lo, hi = (float(check_quantity("rates", r, Hz, "Hz", allow_array=False)) for r in rates)
    if not 0 <= lo < hi:
        raise ValueError(f"rates must be (low, high) with 0 <= low < high, got {rates!r}.")
    rng = np.random.default_rng(seed)
    pre = rng.uniform(lo, hi, (n_pairs, 2))
    if not pre_steps:
        pre[:, 1] = pre[:, 0]
    post = rng.uniform(lo, hi, (n_pairs, 2))
    model = resolve_synapse(synapse, params)
    stim = RateStepStimulus(pre * Hz, post * Hz, n_repeats, free, clamped, seed=seed + 1, dt=dt)
    change = run_conditions(model, stim.conditions(), device=device, engine=engine, dt=dt)
    change = change.reshape(n_pairs, n_repeats)
    pred = stim.predictions(model)
    measured = change.mean(axis=1)
    out = dict(pred)
    out.update(measured=measured, measured_sem=change.std(axis=1, ddof=1) / np.sqrt(n_repeats),
               correlation=float(np.corrcoef(measured, pred["predicted"])[0, 1]),
               correlation_rate_term=float(np.corrcoef(measured - pred["hebbian"], pred["rate_difference"])[0, 1]),
               correlation_exact=float(np.corrcoef(measured, pred["exact"])[0, 1]),
               rates_pre=pre, rates_post=post, n_pairs=n_pairs, n_repeats=n_repeats, stimulus=stim)
    return out
