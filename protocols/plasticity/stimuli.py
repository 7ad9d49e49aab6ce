"""
Stimuli: the spike patterns of the plasticity experiments, and the functions that run them.

A `Stimulus` is a set of conditions, each a presynaptic and a postsynaptic spike train (in
seconds); `Stimulus.run` gives the percent weight change of a synapse model per condition
(`brianlearn.protocols.plasticity.simulate.run_conditions`, every condition on its own neuron
pair in one simulation). Sign convention: ``dt = t_post - t_pre``.

- `PairingStimulus` / `stdp_window`: ``n_pairs`` pairings at Δt, repeated at a frequency (Bi &
  Poo 1998: 60 pairings at 1 Hz).
- `FrequencyStimulus` / `frequency_dependence`: Sjöström, Turrigiano & Nelson (2001): 15 trains
  of 5 pairings at 10-50 Hz (trains 10 s apart) and 50 pairings at 0.1 Hz (``pairing='trains'``,
  what was done to the cells), or 60 regularly spaced pairings (``pairing='regular60'``, the
  protocol Pfister & Gerstner 2006 modelled).
- `TripletStimulus` / `triplets`: Wang, Gerkin, Nauen & Bi (2005) pre-post-pre and
  post-pre-post triplets, 60 repetitions at 1 Hz.
- `RowsStimulus`: given conditions with labels (one per row of a data set).
"""

import numpy as np
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

from brianlearn.validation import check_int, check_quantity

from .simulate import run_conditions

__all__ = ["Stimulus", "PairingStimulus", "FrequencyStimulus", "TripletStimulus", "RowsStimulus", "WANG_TRIPLETS",
           "stdp_window", "frequency_dependence", "triplets"]

#: Wang et al. (2005) triplets: (pattern, dt1, dt2) with dt = t_post - t_pre
WANG_TRIPLETS = (("post-pre-post", -5 * ms, 5 * ms), ("post-pre-post", -10 * ms, 10 * ms),
                 ("pre-post-pre", 5 * ms, -5 * ms), ("pre-post-pre", 10 * ms, -10 * ms))


class Stimulus:
    """A set of conditions, each a presynaptic and a postsynaptic spike train (seconds).

    Subclasses implement `conditions` (list of ``(pre_times, post_times)`` float arrays in
    seconds) and `labels`, and may reshape the result in `_shape`.
    """

    def conditions(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def labels(self):
        return [str(k) for k in range(len(self.conditions()))]

    def _shape(self, values):
        return values

    def run(self, synapse, params=None, device=None, engine="brian2", dt=0.1 * ms):
        """Percent weight change per condition (see `run_conditions`)."""
        return self._shape(run_conditions(synapse, self.conditions(), params=params, device=device,
                                          engine=engine, dt=dt))


def _pairing_train(delta, n_pairs, frequency, start):
    pre = start + np.arange(n_pairs) / frequency
    return pre, pre + delta


class PairingStimulus(Stimulus):
    """Spike pairing at each Δt: ``n_pairs`` pairings at a repetition ``frequency``.

    Pairing k: a presynaptic spike at ``t_k = start + k / frequency`` and a postsynaptic one
    at ``t_k + dt`` (Bi & Poo 1998: 60 pairings at 1 Hz).

    Parameters
    ----------
    dts : Quantity
        Spike-timing differences ``t_post - t_pre`` (time units), one condition each.
    n_pairs : int
    frequency : Quantity
        Repetition frequency (Hz); ``|dt|`` must be shorter than the period.
    """

    def __init__(self, dts, n_pairs=60, frequency=1 * Hz):
        self.dts = np.atleast_1d(check_quantity("dts", dts, ms, "ms"))
        self.n_pairs = check_int("n_pairs", n_pairs)
        self.frequency = float(check_quantity("frequency", frequency, Hz, "Hz", allow_array=False, positive=True))
        period = 1.0 / self.frequency
        bad = np.abs(self.dts) >= period
        if np.any(bad):
            raise ValueError(f"dts: |dt| = {np.abs(self.dts[bad]).max() * 1e3:g} ms is not shorter than the pairing "
                             f"period 1/frequency = {period * 1e3:g} ms; pairings would overlap.")

    def conditions(self):
        start = 0.01 + max(0.0, -self.dts.min())
        return [_pairing_train(d, self.n_pairs, self.frequency, start) for d in self.dts]

    def labels(self):
        return [f"dt = {d * 1e3:g} ms" for d in self.dts]


class FrequencyStimulus(Stimulus):
    """Sjöström et al. (2001) frequency dependence at fixed Δt.

    Parameters
    ----------
    frequencies : Quantity or array
        Pairing frequencies (a quantity in Hz, or plain numbers taken as Hz).
    delays : Quantity
        Δt values (``t_post - t_pre``), default ``(10 ms, -10 ms)``.
    pairing : {'trains', 'regular60'}
        ``'trains'`` (default, the experiment): ``n_trains`` trains of ``pairs_per_train``
        pairings at the frequency, trains ``train_interval`` apart; frequencies at which a
        train would not fit into ``train_interval`` (0.1 Hz) get ``low_frequency_pairs``
        regularly spaced pairings. ``'regular60'``: ``n_regular`` regularly spaced pairings
        (the protocol Pfister & Gerstner 2006 modelled).
    """

    def __init__(self, frequencies, delays=(10 * ms, -10 * ms), pairing="trains", n_trains=15, pairs_per_train=5,
                 train_interval=10 * second, low_frequency_pairs=50, n_regular=60):
        if get_dimensions(frequencies) is DIMENSIONLESS and not isinstance(frequencies, Quantity):
            try:  # plain numbers are frequencies in Hz (as in the data sets' frequency_hz column)
                frequencies = np.asarray(frequencies, dtype=float) * Hz
            except (TypeError, ValueError):
                raise ValueError("frequencies must be numbers (Hz) or a quantity in Hz, "
                                 f"got {frequencies!r}.") from None
        self.frequencies = np.atleast_1d(check_quantity("frequencies", frequencies, Hz, "Hz", positive=True))
        if isinstance(delays, (tuple, list)):
            delays = Quantity(delays) if all(isinstance(d, Quantity) for d in delays) else delays
        self.delays = np.atleast_1d(check_quantity("delays", delays, ms, "ms"))
        if pairing not in ("trains", "regular60"):
            raise ValueError(f"pairing must be 'trains' or 'regular60', got {pairing!r}.")
        self.pairing = pairing
        self.n_trains = check_int("n_trains", n_trains)
        self.pairs_per_train = check_int("pairs_per_train", pairs_per_train)
        self.train_interval = float(check_quantity("train_interval", train_interval, second, "second",
                                                   allow_array=False, positive=True))
        self.low_frequency_pairs = check_int("low_frequency_pairs", low_frequency_pairs)
        self.n_regular = check_int("n_regular", n_regular)
        period = 1.0 / self.frequencies.max()
        if np.abs(self.delays).max() >= period:
            raise ValueError(f"delays: |dt| = {np.abs(self.delays).max() * 1e3:g} ms is not shorter than the pairing "
                             f"period {period * 1e3:g} ms at {self.frequencies.max():g} Hz; pairings would overlap.")

    def uses_trains(self, f):
        """Whether frequency ``f`` (Hz) is paired in trains (else regular pairings)."""
        return self.pairing == "trains" and self.pairs_per_train / f < self.train_interval

    def conditions(self):
        out = []
        start = 0.01 + max(0.0, -self.delays.min())
        for d in self.delays:
            for f in self.frequencies:
                if self.pairing == "regular60":
                    out.append(_pairing_train(d, self.n_regular, f, start))
                elif self.uses_trains(f):
                    pre = (start + np.arange(self.n_trains)[:, None] * self.train_interval
                           + np.arange(self.pairs_per_train)[None, :] / f).ravel()
                    out.append((pre, pre + d))
                else:
                    out.append(_pairing_train(d, self.low_frequency_pairs, f, start))
        return out

    def labels(self):
        return [f"{f:g} Hz, dt = {d * 1e3:+g} ms" for d in self.delays for f in self.frequencies]

    def _shape(self, values):
        return np.asarray(values).reshape(len(self.delays), len(self.frequencies))


class TripletStimulus(Stimulus):
    """Spike triplets repeated ``n_repetitions`` times at ``frequency`` (Wang et al. 2005).

    Parameters
    ----------
    patterns : sequence of (str, Quantity, Quantity)
        ``('pre-post-pre', dt1, dt2)``: ``dt1 = t_post - t_pre1 > 0``, ``dt2 = t_post - t_pre2 < 0``;
        ``('post-pre-post', dt1, dt2)``: ``dt1 = t_post1 - t_pre < 0``, ``dt2 = t_post2 - t_pre > 0``.
        Default: the four triplets of Wang et al. (2005).
    n_repetitions : int
    frequency : Quantity
    """

    def __init__(self, patterns=WANG_TRIPLETS, n_repetitions=60, frequency=1 * Hz):
        self.patterns = []
        for k, pat in enumerate(patterns):
            if len(pat) != 3:
                raise ValueError(f"patterns[{k}] must be (kind, dt1, dt2), got {pat!r}.")
            kind, d1, d2 = pat
            d1 = float(check_quantity(f"patterns[{k}] dt1", d1, ms, "ms", allow_array=False))
            d2 = float(check_quantity(f"patterns[{k}] dt2", d2, ms, "ms", allow_array=False))
            if kind == "pre-post-pre":
                if not (d1 > 0 > d2):
                    raise ValueError(f"patterns[{k}]: a pre-post-pre triplet needs dt1 > 0 > dt2, got {pat!r}.")
            elif kind == "post-pre-post":
                if not (d1 < 0 < d2):
                    raise ValueError(f"patterns[{k}]: a post-pre-post triplet needs dt1 < 0 < dt2, got {pat!r}.")
            else:
                raise ValueError(f"patterns[{k}]: kind must be 'pre-post-pre' or 'post-pre-post', got {kind!r}.")
            self.patterns.append((kind, d1, d2))
        self.n_repetitions = check_int("n_repetitions", n_repetitions)
        self.frequency = float(check_quantity("frequency", frequency, Hz, "Hz", allow_array=False, positive=True))
        span = max(abs(d1) + abs(d2) for _, d1, d2 in self.patterns)
        if span >= 1.0 / self.frequency:
            raise ValueError(f"frequency: a triplet spans {span * 1e3:g} ms, not shorter than the repetition period "
                             f"{1e3 / self.frequency:g} ms.")

    def conditions(self):
        out = []
        onsets = 0.01 + np.arange(self.n_repetitions) / self.frequency
        for kind, d1, d2 in self.patterns:
            if kind == "pre-post-pre":  # pre1 at 0, post at dt1, pre2 at dt1 - dt2
                pre = np.concatenate([onsets[:, None], onsets[:, None] + d1 - d2], axis=1).ravel()
                post = onsets + d1
            else:  # post1 at 0, pre at -dt1, post2 at -dt1 + dt2
                pre = onsets - d1
                post = np.concatenate([onsets[:, None], onsets[:, None] - d1 + d2], axis=1).ravel()
            out.append((pre, post))
        return out

    def labels(self):
        return [f"{kind} ({d1 * 1e3:+g}, {d2 * 1e3:+g}) ms" for kind, d1, d2 in self.patterns]


class RowsStimulus(Stimulus):
    """Given conditions with their labels (e.g. one per row of a data set)."""

    def __init__(self, conditions, labels):
        self._conditions, self._labels = conditions, labels

    def conditions(self):
        return self._conditions

    def labels(self):
        return self._labels


# ============================================================================ the experiments' functions
def stdp_window(synapse, dts, params=None, n_pairs=60, frequency=1 * Hz, device=None, engine="brian2",
                dt=0.1 * ms):
    """Percent weight change after ``n_pairs`` pairings at each Δt (Bi & Poo 1998 protocol).

    Parameters
    ----------
    synapse : str or SynapseModel
        ``'pair_stdp'``, ``'triplet_stdp'`` or a `SynapseModel` with a weight ``w``.
    dts : Quantity
        ``t_post - t_pre`` per condition (e.g. ``np.array([-20, 10]) * ms``).
    params : dict or str, optional
        Parameter values or a set name (``'bi_poo_1998'``, ``'pfister_hippocampus_minimal'``, ...).
    n_pairs : int
        Pairings per condition (60).
    frequency : Quantity
        Repetition frequency (1 Hz); ``|dt|`` must be shorter than ``1/frequency``.
    device, engine, dt
        See `run_conditions`.

    Returns
    -------
    ndarray
        Percent change per Δt.

    Examples
    --------
    >>> from brian2 import ms
    >>> stdp_window('pair_stdp', [10, -10] * ms, params='bi_poo_1998', device='runtime',
    ...             n_pairs=2, frequency=10 * Hz)  # doctest: +SKIP
    """
    return PairingStimulus(dts, n_pairs, frequency).run(synapse, params, device, engine, dt)


def frequency_dependence(synapse, frequencies, delays=(10 * ms, -10 * ms), pairing="trains", params=None,
                         device=None, engine="brian2", dt=0.1 * ms, **stimulus):
    """Percent weight change versus pairing frequency (Sjöström et al. 2001).

    Parameters
    ----------
    synapse : str or SynapseModel
    frequencies : Quantity or array
        Pairing frequencies, e.g. ``[0.1, 10, 20, 40, 50] * Hz`` (plain numbers are taken as Hz).
    delays : Quantity or tuple of Quantity
        Δt values (default ``(10 ms, -10 ms)``).
    pairing : {'trains', 'regular60'}
        See `FrequencyStimulus`.
    params, device, engine, dt
        See `run_conditions`.
    **stimulus
        `FrequencyStimulus` options (``n_trains``, ``pairs_per_train``, ``train_interval``, ...).

    Returns
    -------
    ndarray, shape (n_delays, n_frequencies)
        Percent change, one row per delay.
    """
    return FrequencyStimulus(frequencies, delays, pairing, **stimulus).run(synapse, params, device, engine, dt)


def triplets(synapse, patterns=WANG_TRIPLETS, params=None, n_repetitions=60, frequency=1 * Hz, device=None,
             engine="brian2", dt=0.1 * ms):
    """Percent weight change after repeated spike triplets (Wang et al. 2005).

    Parameters
    ----------
    synapse : str or SynapseModel
    patterns : sequence of (kind, dt1, dt2)
        See `TripletStimulus`; default: Wang et al.'s (5, 5) and (10, 10) ms triplets.
    params, device, engine, dt
        See `run_conditions`.
    n_repetitions, frequency
        60 repetitions at 1 Hz.

    Returns
    -------
    ndarray
        Percent change per pattern.
    """
    return TripletStimulus(patterns, n_repetitions, frequency).run(synapse, params, device, engine, dt)
