"""
Plasticity rules against biological data: the experiments' spike protocols, run on any
synapse model, compared with and fitted to the shipped reference data.

The protocols drive a synapse model (``brianlearn.models.pair_stdp``, ``triplet_stdp`` or one
the user writes) with `SpikeGeneratorGroup` s, exactly as the experiments did. Every condition
(one Δt, one frequency, one triplet) gets its own presynaptic neuron, postsynaptic neuron and
synapse, so that all conditions of a protocol run in **one** simulation (one compiled binary
on ``cpp_standalone``) without interacting. The weight is relative (``w = 1`` at the start)
and results are percent changes ``100 (w - 1)``. Sign convention: ``dt = t_post - t_pre``.

- `stdp_window`: pairings at Δt, ``n_pairs`` at a repetition frequency (Bi & Poo 1998:
  60 pairings at 1 Hz).
- `frequency_dependence`: Sjöström, Turrigiano & Nelson (2001): 15 trains of 5 pairings at
  10-50 Hz (trains 10 s apart) and 50 pairings at 0.1 Hz (``pairing='trains'``, what was done
  to the cells), or 60 regularly spaced pairings (``pairing='regular60'``, the protocol
  Pfister & Gerstner 2006 modelled).
- `triplets`: Wang, Gerkin, Nauen & Bi (2005) pre-post-pre and post-pre-post triplets,
  60 repetitions at 1 Hz.
- `compare` / `fit`: model versus data (RMSE, χ² with the SEMs) and least-squares fits of
  chosen parameters (SciPy), with an exact event-by-event NumPy evaluation of the shipped
  rules (`event_weight_change`) as the optimiser's inner loop, verified with Brian2.
- `rate_difference`: pre- and postsynaptic Poisson rates step from a "free" to a "clamped"
  value; pair STDP then changes the weight by the Hebbian term ``r_pre r_post ∫K`` integrated
  over time plus ``r_pre Δr_post ∫τK(τ)dτ`` (Xie & Seung 2000; Bengio et al. 2015,
  arXiv:1509.05936): the contrastive, rate-difference update.

Parameter sets (``params=``): ``'bi_poo_1998'`` (pair rule, the Bi & Poo 2001 fit divided by
60 pairings) and the Pfister & Gerstner (2006) Table 4 rows (``'pfister_visual_cortex_minimal'``,
``'pfister_hippocampus_minimal'``, ..., see `parameter_sets`).

References
----------
Bi G-Q & Poo M-M (1998) J. Neurosci. 18:10464. Bi G-Q & Poo M-M (2001) Annu. Rev. Neurosci.
24:139. Sjöström PJ, Turrigiano GG & Nelson SB (2001) Neuron 32:1149. Wang H-X, Gerkin RC,
Nauen DW & Bi G-Q (2005) Nat. Neurosci. 8:187. Pfister J-P & Gerstner W (2006) J. Neurosci.
26:9673. Xie X & Seung HS (2000) NIPS 12. Bengio Y, Mesnard T, Fischer A, Zhang S & Wu Y
(2017) Neural Comput. 29:555 (STDP as presynaptic activity times rate of change of
postsynaptic activity).
"""

import gc
import os
import re

import numpy as np
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

from brianlearn.datasets import plasticity as _data
from brianlearn.modelspec import SynapseModel
from brianlearn.models import get_model, pair_stdp, triplet_stdp

__all__ = ["stdp_window", "frequency_dependence", "triplets", "run_conditions", "dataset_protocol",
           "pair_sum_weight_change",
           "PairingProtocol",
           "FrequencyProtocol", "TripletProtocol", "SpikeProtocol", "parameter_sets", "resolve_synapse",
           "event_weight_change", "triplet_stdp_nearest", "compare", "fit", "Comparison", "FitResult",
           "rate_difference", "RateStepProtocol", "synthetic_window_dataset",
           "PlasticityExperiments"]

#: Nearest-spike variant of the triplet rule (Pfister & Gerstner 2006): traces are *set* to 1
#: at a spike instead of jumping by 1 (used for the ``*_nearest_*`` parameter sets).
triplet_stdp_nearest = triplet_stdp.replace(
    on_pre="""
        w = clip(w - o1 * (A2_minus + A3_minus * r2), w_min, w_max)
        r1 = 1
        r2 = 1
    """,
    on_post="""
        w = clip(w + r1 * (A2_plus + A3_plus * o2), w_min, w_max)
        o1 = 1
        o2 = 1
    """)
triplet_stdp_nearest.name = "triplet_stdp_nearest"
triplet_stdp_nearest.doc = "Triplet STDP with nearest-spike interactions (traces reset to 1 at a spike)."

_LOCAL_MODELS = {"triplet_stdp_nearest": triplet_stdp_nearest}


# ============================================================================ input checks
def _check_quantity(name, value, unit, unit_name, allow_array=True, positive=False):
    """``value`` in SI floats, or a ValueError naming ``name``."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Quantity) for v in value):
        try:
            value = Quantity(value)
        except Exception:  # mixed units
            raise ValueError(f"{name} must have units of {unit_name}, got {value!r}.") from None
    try:
        dim = get_dimensions(value)
    except Exception:  # lists of quantities etc.
        dim = None
    if dim is not get_dimensions(unit):
        raise ValueError(f"{name} must be a Brian2 quantity in units of {unit_name} (e.g. 10*{unit_name}), "
                         f"got {value!r}.")
    arr = np.asarray(value, dtype=float)
    if not allow_array and arr.ndim != 0:
        raise ValueError(f"{name} must be a single value, got an array of shape {arr.shape}.")
    if np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values: {value!r}.")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be positive, got {value!r}.")
    return arr


def _check_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


# ============================================================================ models and parameter sets
def _norm_code(text):
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _rule_of(model):
    """'pair', 'triplet' or 'triplet_nearest' if ``model``'s code is a shipped rule, else None."""
    for rule, ref in (("pair", pair_stdp), ("triplet", triplet_stdp), ("triplet_nearest", triplet_stdp_nearest)):
        if all(_norm_code(getattr(model, f)) == _norm_code(getattr(ref, f)) for f in ("model", "on_pre", "on_post")):
            return rule
    return None


def parameter_sets():
    """All named parameter sets.

    Returns
    -------
    dict
        name -> ``{'rule': 'pair' | 'triplet' | 'triplet_nearest', 'params': {...}, 'source': str}``.
        ``'bi_poo_1998'``: the pair rule with ``A_plus = 0.777/60``, ``A_minus = 0.273/60``,
        ``tau_plus = 16.8 ms``, ``tau_minus = 33.7 ms`` (60 pairings at 1 Hz give the Bi & Poo
        fit); the ``pfister_*`` sets: Pfister & Gerstner (2006), Table 4 (file
        ``pfister_gerstner_2006.csv``).
    """
    sets = {"bi_poo_1998": {"rule": "pair", "source": "Bi & Poo (2001) fit of Bi & Poo (1998), per pairing (/60)",
                            "params": dict(A_plus=0.777 / 60, A_minus=0.273 / 60, tau_plus=16.8 * ms,
                                           tau_minus=33.7 * ms)}}
    table = _data.load("pfister_gerstner_2006")
    for row in table.rows():
        p = {k: float(row[k]) for k in ("A2_plus", "A3_plus", "A2_minus", "A3_minus")}
        for key in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            if not np.isnan(row[key + "_ms"]):
                p[key] = row[key + "_ms"] * ms
        sets[row["name"]] = {"rule": "triplet_nearest" if row["interaction"] == "nearest" else "triplet",
                             "params": p, "source": f"Pfister & Gerstner (2006) Table 4, {row['data']}, "
                                                    f"{row['interaction']}, {row['model']}"}
    return sets


def resolve_synapse(synapse, params=None):
    """The synapse model with parameters applied.

    Parameters
    ----------
    synapse : str or SynapseModel
        A model name (``'pair_stdp'``, ``'triplet_stdp'``, ``'triplet_stdp_nearest'``) or a
        `SynapseModel` with a weight variable ``w``.
    params : dict or str, optional
        Parameter values (quantities for time constants) or the name of a parameter set (see
        `parameter_sets`). A nearest-spike Pfister & Gerstner set given with the shipped
        all-to-all ``triplet_stdp`` selects `triplet_stdp_nearest`.

    Returns
    -------
    SynapseModel
    """
    if isinstance(synapse, str):
        model = _LOCAL_MODELS.get(synapse) or get_model(synapse)
    else:
        model = synapse
    if not isinstance(model, SynapseModel):
        raise ValueError(f"synapse must be a synapse model name or a SynapseModel, got {synapse!r}.")
    names = _model_variables(model)
    if "w" not in names:
        raise ValueError(f"synapse '{model.name}' has no weight variable 'w'; the plasticity protocols measure "
                         "the change of a relative weight w (w = 1 at the start). Define 'w : 1' in its model.")
    if params is None:
        return model
    if isinstance(params, str):
        sets = parameter_sets()
        if params not in sets:
            raise ValueError(f"Unknown parameter set {params!r} (params). Known sets: {', '.join(sets)}.")
        entry = sets[params]
        rule = _rule_of(model)
        if entry["rule"] == "triplet_nearest" and rule == "triplet":
            model = triplet_stdp_nearest
        elif entry["rule"] == "triplet" and rule == "triplet_nearest":
            model = triplet_stdp
        params = entry["params"]
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, a parameter-set name or None, got {params!r}.")
    unknown = sorted(set(params) - set(model.parameters))
    if unknown:
        raise ValueError(f"params: synapse '{model.name}' has no parameter(s) {', '.join(unknown)}. "
                         f"Its parameters: {', '.join(sorted(model.parameters))}.")
    try:
        return model(**params)
    except ValueError as exc:
        raise ValueError(f"params: {exc}") from None


def _model_variables(model):
    from brian2.equations.equations import Equations

    return set(Equations(SynapseModel._model_text(model.model)).names)


def _param_names(model):
    """Parameters that become per-synapse constants (scalars; functions stay in the namespace)."""
    out = []
    for key, value in model.parameters.items():
        if callable(value) or hasattr(value, "is_locally_constant"):
            continue
        if np.ndim(value) == 0:
            out.append(key)
    return sorted(out)


def _unit_text(value):
    dim = get_dimensions(value)
    return "1" if dim is DIMENSIONLESS else dim._str_representation(python_code=True)


# ============================================================================ spike schedules
def _snap(times, dt):
    """Spike times (s) on the simulation grid (integer steps)."""
    return np.round(np.asarray(times, dtype=float) / dt).astype(np.int64)


class SpikeProtocol:
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


class PairingProtocol(SpikeProtocol):
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
        self.dts = np.atleast_1d(_check_quantity("dts", dts, ms, "ms"))
        self.n_pairs = _check_int("n_pairs", n_pairs)
        self.frequency = float(_check_quantity("frequency", frequency, Hz, "Hz", allow_array=False, positive=True))
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


class FrequencyProtocol(SpikeProtocol):
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
        self.frequencies = np.atleast_1d(_check_quantity("frequencies", frequencies, Hz, "Hz", positive=True))
        if isinstance(delays, (tuple, list)):
            delays = Quantity(delays) if all(isinstance(d, Quantity) for d in delays) else delays
        self.delays = np.atleast_1d(_check_quantity("delays", delays, ms, "ms"))
        if pairing not in ("trains", "regular60"):
            raise ValueError(f"pairing must be 'trains' or 'regular60', got {pairing!r}.")
        self.pairing = pairing
        self.n_trains = _check_int("n_trains", n_trains)
        self.pairs_per_train = _check_int("pairs_per_train", pairs_per_train)
        self.train_interval = float(_check_quantity("train_interval", train_interval, second, "second",
                                                    allow_array=False, positive=True))
        self.low_frequency_pairs = _check_int("low_frequency_pairs", low_frequency_pairs)
        self.n_regular = _check_int("n_regular", n_regular)
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


#: Wang et al. (2005) triplets: (pattern, dt1, dt2) with dt = t_post - t_pre
WANG_TRIPLETS = (("post-pre-post", -5 * ms, 5 * ms), ("post-pre-post", -10 * ms, 10 * ms),
                 ("pre-post-pre", 5 * ms, -5 * ms), ("pre-post-pre", 10 * ms, -10 * ms))


class TripletProtocol(SpikeProtocol):
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
            d1 = float(_check_quantity(f"patterns[{k}] dt1", d1, ms, "ms", allow_array=False))
            d2 = float(_check_quantity(f"patterns[{k}] dt2", d2, ms, "ms", allow_array=False))
            if kind == "pre-post-pre":
                if not (d1 > 0 > d2):
                    raise ValueError(f"patterns[{k}]: a pre-post-pre triplet needs dt1 > 0 > dt2, got {pat!r}.")
            elif kind == "post-pre-post":
                if not (d1 < 0 < d2):
                    raise ValueError(f"patterns[{k}]: a post-pre-post triplet needs dt1 < 0 < dt2, got {pat!r}.")
            else:
                raise ValueError(f"patterns[{k}]: kind must be 'pre-post-pre' or 'post-pre-post', got {kind!r}.")
            self.patterns.append((kind, d1, d2))
        self.n_repetitions = _check_int("n_repetitions", n_repetitions)
        self.frequency = float(_check_quantity("frequency", frequency, Hz, "Hz", allow_array=False, positive=True))
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


# ============================================================================ running
def run_conditions(synapse, conditions, params=None, device=None, engine="brian2", dt=0.1 * ms, param_rows=None):
    """Percent weight change of one synapse per condition, all conditions in one simulation.

    Parameters
    ----------
    synapse : str or SynapseModel
    conditions : list of (array, array)
        Presynaptic and postsynaptic spike times per condition (seconds as floats, or time
        quantities). Times are rounded to the ``dt`` grid; a presynaptic and a postsynaptic
        spike in the same time step are processed presynaptic first (Brian2's order).
    params : dict or str, optional
        See `resolve_synapse`.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` (default: brianlearn's default device) or
        ``'cuda_standalone'``. Standalone builds are cached by a hash of the generated code;
        parameter values and spike times are not part of the code, so a new parameter set
        or protocol reuses the compiled objects.
    engine : {'brian2', 'numpy'}
        ``'numpy'``: the exact event-by-event evaluation `event_weight_change` (shipped rules only).
    dt : Quantity
        Simulation time step.
    param_rows : list of dict, optional
        Per-condition parameter overrides (one dict per condition).

    Returns
    -------
    ndarray
        ``100 * (w - 1)`` per condition.
    """
    model = resolve_synapse(synapse, params)
    dt = float(_check_quantity("dt", dt, second, "second", allow_array=False, positive=True))
    conds = []
    for k, cond in enumerate(conditions):
        if len(cond) != 2:
            raise ValueError(f"conditions[{k}] must be (pre_times, post_times).")
        pair = []
        for which, times in zip(("pre", "post"), cond):
            if isinstance(times, Quantity):
                times = _check_quantity(f"conditions[{k}] {which} times", times, second, "second")
            arr = np.atleast_1d(np.asarray(times, dtype=float))
            if np.any(~np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"conditions[{k}]: {which}synaptic spike times must be finite and >= 0.")
            steps = _snap(arr, dt)
            if len(np.unique(steps)) != len(steps):
                raise ValueError(f"conditions[{k}]: two {which}synaptic spikes fall into the same time step "
                                 f"(dt = {dt * 1e3:g} ms).")
            pair.append(np.sort(steps))
        conds.append(tuple(pair))
    if not conds:
        raise ValueError("conditions must not be empty.")
    if param_rows is not None and len(param_rows) != len(conds):
        raise ValueError(f"param_rows needs one dict per condition ({len(conds)}), got {len(param_rows)}.")
    names = _param_names(model)
    values = {}
    for key in names:
        default = model.parameters[key]
        col = []
        for k in range(len(conds)):
            v = default if param_rows is None else param_rows[k].get(key, default)
            if get_dimensions(v) is not get_dimensions(default):
                raise ValueError(f"param_rows[{k}]['{key}'] must have the units of {default!r}.")
            col.append(float(v))
        values[key] = np.array(col)
    if param_rows is not None:
        for k, row in enumerate(param_rows):
            extra = set(row) - set(names)
            if extra:
                raise ValueError(f"param_rows[{k}]: unknown parameter(s) {sorted(extra)}.")
    if engine == "numpy":
        rule = _rule_of(model)
        if rule is None:
            raise ValueError(f"engine='numpy' evaluates only the shipped rules (pair_stdp, triplet_stdp, "
                             f"triplet_stdp_nearest); synapse '{model.name}' has other code. Use engine='brian2'.")
        w = np.array([event_weight_change(rule, {k: values[k][i] for k in names}, pre * dt, post * dt,
                                          same_step_order=True)
                      for i, (pre, post) in enumerate(conds)])
    elif engine == "brian2":
        w = _simulate(model, conds, names, values, dt, device)
    else:
        raise ValueError(f"engine must be 'brian2' or 'numpy', got {engine!r}.")
    return 100.0 * (w - 1.0)


def _release_engine():
    """Drop the engine's active standalone network (a new one takes the device)."""
    try:
        from brianlearn import protocol as _engine

        if _engine._ACTIVE[0] is not None:
            _engine._ACTIVE[0].release()
            _engine._ACTIVE[0] = None
    except (ImportError, AttributeError):  # pragma: no cover - engine internals changed
        pass


def _bucket(size, minimum):
    """The next power of two >= size (at least ``minimum``)."""
    return int(max(minimum, 2 ** int(np.ceil(np.log2(max(size, 1))))))


def _simulate(model, conds, names, values, dt, device):
    """Build, run once and read back ``w`` (runtime or standalone, one network)."""
    from brian2 import Clock, Network, SpikeGeneratorGroup, Synapses, set_device
    from brian2.devices.device import get_device

    from brianlearn.buildcache import build_directory, compile_cached
    from brianlearn.devices import activate, resolve_device

    config = resolve_device(device)
    n = n_total = len(conds)
    pre_i = np.concatenate([np.full(len(p), k) for k, (p, _) in enumerate(conds)]).astype(np.int64)
    pre_s = np.concatenate([p for p, _ in conds]).astype(np.int64)
    post_i = np.concatenate([np.full(len(q), k) for k, (_, q) in enumerate(conds)]).astype(np.int64)
    post_s = np.concatenate([q for _, q in conds]).astype(np.int64)
    last = max(pre_s.max() if len(pre_s) else 0, post_s.max() if len(post_s) else 0)
    steps = int(last) + 3
    if config.standalone:
        # sizes and the duration are literals in the generated code: round them up to buckets
        # (a padding neuron holds padding spikes after the end), so that protocols of similar
        # size share one compiled binary
        n_total = _bucket(n + 1, 4)
        steps = int(np.ceil(2 ** (np.ceil(8 * np.log2(steps)) / 8)))
        pads = []
        for idx, times in ((pre_i, pre_s), (post_i, post_s)):
            extra = _bucket(len(times), 64) - len(times)
            pads.append((np.concatenate([idx, np.full(extra, n_total - 1)]),
                         np.concatenate([times, steps + 2 + np.arange(extra)])))
        (pre_i, pre_s), (post_i, post_s) = pads
    duration = steps * dt
    values = {k: np.concatenate([v, np.full(n_total - n, v[0])]) for k, v in values.items()}
    _release_engine()
    gc.collect()  # Brian2 names objects uniquely among live ones: same network, same code
    activate(config)
    gc.collect()  # (again: reinit released the device's references to the last network)
    clock = Clock(dt=dt * second, name="pl_clock")
    pre = SpikeGeneratorGroup(n_total, pre_i, pre_s * dt * second, clock=clock, name="pl_pre")
    post = SpikeGeneratorGroup(n_total, post_i, post_s * dt * second, clock=clock, name="pl_post")
    decl = "\n".join(f"{k} : {_unit_text(model.parameters[k])} (constant)" for k in names)
    namespace = {k: v for k, v in model.parameters.items() if k not in names}
    syn = Synapses(pre, post, model=str(model.model) + "\n" + decl, on_pre=model.on_pre, on_post=model.on_post,
                   method=model.method, namespace=namespace, clock=clock, name="pl_syn")
    syn.connect(j="i")
    net = Network(pre, post, syn, name="pl_network")
    quantities = {k: Quantity(values[k], dim=get_dimensions(model.parameters[k])) for k in names}
    try:
        if config.name == "runtime":
            for k in names:
                setattr(syn, k, quantities[k])
            syn.w = 1.0
            net.run(duration * second, namespace={})
            return np.array(syn.w[:], dtype=float)[:n]
        dev = get_device()
        dev.apply_run_args()
        net.run(duration * second, namespace={})
        cfg = {"rule": [_norm_code(getattr(model, f)) for f in ("model", "on_pre", "on_post")],
               "variables": names, "namespace": sorted(namespace), "n": n_total, "dt": dt, "method": model.method,
               "spikes": [len(pre_s), len(post_s)], "steps": steps}
        directory = build_directory("plasticity", cfg, config.name, config.directory)
        compile_cached(dev, directory)
        if config.compile_only:
            raise RuntimeError(f"device chosen with compile_only=True: built in '{directory}' but not run.")
        run_args = {syn.w: np.ones(n_total)}
        for k in names:
            run_args[getattr(syn, k)] = quantities[k]
        dev.run(directory=directory, run_args=run_args, with_output=False)
        try:
            return np.array(syn.variables["w"].get_value(), dtype=float)[:n]
        finally:
            dev.delete(code=False, data=False, run_args=True, directory=False, force=True)
            sdir = os.path.join(directory, "static_arrays")
            if os.path.isdir(sdir):
                for fname in os.listdir(sdir):
                    if fname.startswith("init_") and fname.endswith(".lock"):
                        os.remove(os.path.join(sdir, fname))
    finally:
        del net, syn, pre, post, clock
        set_device("runtime")
        gc.collect()


# ============================================================================ exact event-by-event reference
def event_weight_change(rule, params, pre_times, post_times, w0=1.0, same_step_order=True):
    """Final weight of a shipped rule, computed event by event with NumPy (exact).

    An independent reference for the Brian2 simulation and the fast inner loop of `fit`.

    Parameters
    ----------
    rule : {'pair', 'triplet', 'triplet_nearest'}
        `pair_stdp` (all-to-all), `triplet_stdp` (all-to-all) or `triplet_stdp_nearest`.
    params : dict
        Parameter values (quantities or SI floats), as in the model.
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
    p = {k: float(v) for k, v in params.items()}
    defaults = (pair_stdp if rule == "pair" else triplet_stdp).parameters
    for k, v in defaults.items():
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
    if rule not in ("triplet", "triplet_nearest"):
        raise ValueError(f"rule must be 'pair', 'triplet' or 'triplet_nearest', got {rule!r}.")
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
    return PairingProtocol(dts, n_pairs, frequency).run(synapse, params, device, engine, dt)


def frequency_dependence(synapse, frequencies, delays=(10 * ms, -10 * ms), pairing="trains", params=None,
                         device=None, engine="brian2", dt=0.1 * ms, **protocol):
    """Percent weight change versus pairing frequency (Sjöström et al. 2001).

    Parameters
    ----------
    synapse : str or SynapseModel
    frequencies : Quantity or array
        Pairing frequencies, e.g. ``[0.1, 10, 20, 40, 50] * Hz`` (plain numbers are taken as Hz).
    delays : Quantity or tuple of Quantity
        Δt values (default ``(10 ms, -10 ms)``).
    pairing : {'trains', 'regular60'}
        See `FrequencyProtocol`.
    params, device, engine, dt
        See `run_conditions`.
    **protocol
        `FrequencyProtocol` options (``n_trains``, ``pairs_per_train``, ``train_interval``, ...).

    Returns
    -------
    ndarray, shape (n_delays, n_frequencies)
        Percent change, one row per delay.
    """
    return FrequencyProtocol(frequencies, delays, pairing, **protocol).run(synapse, params, device, engine, dt)


def triplets(synapse, patterns=WANG_TRIPLETS, params=None, n_repetitions=60, frequency=1 * Hz, device=None,
             engine="brian2", dt=0.1 * ms):
    """Percent weight change after repeated spike triplets (Wang et al. 2005).

    Parameters
    ----------
    synapse : str or SynapseModel
    patterns : sequence of (kind, dt1, dt2)
        See `TripletProtocol`; default: Wang et al.'s (5, 5) and (10, 10) ms triplets.
    params, device, engine, dt
        See `run_conditions`.
    n_repetitions, frequency
        60 repetitions at 1 Hz.

    Returns
    -------
    ndarray
        Percent change per pattern.
    """
    return TripletProtocol(patterns, n_repetitions, frequency).run(synapse, params, device, engine, dt)


# ============================================================================ data sets as protocols
class _RowsProtocol(SpikeProtocol):
    """Conditions aligned with the rows of a data set."""

    def __init__(self, conditions, labels):
        self._conditions, self._labels = conditions, labels

    def conditions(self):
        return self._conditions

    def labels(self):
        return self._labels


def _load_dataset(dataset):
    if isinstance(dataset, _data.Table):
        return dataset
    if isinstance(dataset, str):
        return _data.load(dataset)  # ValueError for unknown names
    raise ValueError(f"dataset must be a data-set name ({', '.join(_data.names())}) or a Table, got {dataset!r}.")


def _meta_float(table, key, default):
    value = table.meta.get(key)
    return default if value in (None, "") else float(value)


def dataset_protocol(dataset, pairing="trains"):
    """The spike protocol of a data set, one condition per row (see `compare`).

    Parameters
    ----------
    dataset : str or Table
        ``'bi_poo_1998'`` (window), ``'sjostrom_2001'`` (frequency), ``'wang_2005'``
        (triplets), or a `Table` whose ``meta['protocol']`` is one of ``'window'``,
        ``'frequency'``, ``'triplets'`` with the same columns.
    pairing : {'trains', 'regular60'}
        For frequency data.

    Returns
    -------
    SpikeProtocol
    """
    table = _load_dataset(dataset)
    kind = table.meta.get("protocol")
    if kind == "window":
        return PairingProtocol(table["dt_ms"] * ms, int(_meta_float(table, "n_pairings", 60)),
                               _meta_float(table, "frequency_hz", 1.0) * Hz)
    if kind == "frequency":
        opts = dict(n_trains=int(_meta_float(table, "n_trains", 15)),
                    pairs_per_train=int(_meta_float(table, "pairings_per_train", 5)),
                    train_interval=_meta_float(table, "train_interval_s", 10.0) * second,
                    low_frequency_pairs=int(_meta_float(table, "low_frequency_pairings", 50)))
        conds, labels = [], []
        for f, d in zip(table["frequency_hz"], table["dt_ms"]):
            proto = FrequencyProtocol([f] * Hz, [d] * ms, pairing, **opts)
            conds += proto.conditions()
            labels += proto.labels()
        return _RowsProtocol(conds, labels)
    if kind == "triplets":
        patterns = [(p, d1 * ms, d2 * ms) for p, d1, d2 in zip(table["pattern"], table["dt1_ms"], table["dt2_ms"])]
        return TripletProtocol(patterns, int(_meta_float(table, "n_pairings", 60)),
                               _meta_float(table, "frequency_hz", 1.0) * Hz)
    if kind == "parameters":
        raise ValueError(f"dataset '{table.name}' holds parameter sets, not measurements: pass one of its names "
                         "as params= (see parameter_sets()).")
    raise ValueError(f"dataset '{table.name}': unknown protocol {kind!r} in its metadata "
                     "(expected 'window', 'frequency' or 'triplets').")


# ============================================================================ model versus data
class Comparison:
    """Model versus data for one data set (what `compare` returns).

    Attributes
    ----------
    dataset : str
    synapse : str
        Model name and parameter-set label.
    labels : list of str
        One per data row.
    data, sem, model : ndarray
        Percent changes (``sem`` is None when the data set has none).
    rmse : float
        Root mean square of ``model - data`` (percentage points).
    chi2 : float or None
        ``sum(((model - data) / sem)**2)``.
    n_within_sem : int or None
        Rows with ``|model - data| <= sem``.
    table : Table
        Data columns plus ``model_percent`` and ``residual_percent``.
    """

    def __init__(self, table, labels, model_values, synapse_label, pairing=None):
        self.dataset = table.name
        self.synapse = synapse_label
        self.pairing = pairing
        self.labels = list(labels)
        self.data = np.asarray(table["change_percent"], dtype=float)
        self.sem = np.asarray(table["sem_percent"], dtype=float) if "sem_percent" in table else None
        self.model = np.asarray(model_values, dtype=float)
        resid = self.model - self.data
        self.rmse = float(np.sqrt(np.mean(resid ** 2)))
        self.chi2 = None if self.sem is None else float(np.sum((resid / self.sem) ** 2))
        self.n_within_sem = None if self.sem is None else int(np.sum(np.abs(resid) <= self.sem))
        cols = {c: table[c] for c in table.columns}
        cols["model_percent"] = self.model
        cols["residual_percent"] = resid
        self.table = _data.Table(cols, dict(table.meta), name=table.name)
        self.figure = None

    def summary(self):
        """Text: the table and the statistics."""
        lines = [f"{self.synapse} versus {self.dataset}" + (f" (pairing='{self.pairing}')" if self.pairing else "")]
        w = max(len(s) for s in self.labels)
        head = f"  {'condition':<{w}}  {'data %':>8}" + (f"  {'SEM':>6}" if self.sem is not None else "") + \
            f"  {'model %':>8}"
        lines.append(head)
        for k, lab in enumerate(self.labels):
            row = f"  {lab:<{w}}  {self.data[k]:8.1f}"
            if self.sem is not None:
                ok = abs(self.model[k] - self.data[k]) <= self.sem[k]
                row += f"  {self.sem[k]:6.1f}"
            row += f"  {self.model[k]:8.1f}"
            if self.sem is not None:
                row += "" if ok else "   (outside SEM)"
            lines.append(row)
        stats = f"  RMSE = {self.rmse:.2f} %"
        if self.sem is not None:
            stats += f", chi2 = {self.chi2:.2f} ({len(self.data)} points), within one SEM: " \
                     f"{self.n_within_sem}/{len(self.data)}"
        lines.append(stats)
        return "\n".join(lines)

    def as_dict(self):
        return {"dataset": self.dataset, "synapse": self.synapse, "pairing": self.pairing, "labels": self.labels,
                "data": self.data.tolist(), "sem": None if self.sem is None else self.sem.tolist(),
                "model": self.model.tolist(), "rmse": self.rmse, "chi2": self.chi2,
                "n_within_sem": self.n_within_sem, "figure": self.figure}

    def plot(self, ax=None, label=None, color=None, data=True):
        """Draw data (with SEM) and model on ``ax`` (a new figure if None); returns ax."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.6))
        x = np.arange(len(self.data))
        kind = self.table.meta.get("protocol")
        if kind == "window":
            x = self.table["dt_ms"]
        if data:
            if self.sem is not None:
                ax.errorbar(x, self.data, yerr=self.sem, fmt="o", color="k", ms=4, capsize=2, label=self.dataset)
            else:
                ax.plot(x, self.data, "o", color="k", ms=4, label=self.dataset)
        ax.plot(x, self.model, "s--" if kind != "window" else "-", color=color, ms=4,
                label=label or f"{self.synapse} (RMSE {self.rmse:.1f} %)")
        if kind != "window":
            ax.set_xticks(x)
            ax.set_xticklabels(self.labels, rotation=45, ha="right", fontsize=7)
        else:
            ax.set_xlabel("dt = t_post - t_pre (ms)")
        ax.axhline(0, color="0.7", lw=0.6)
        ax.set_ylabel("weight change (%)")
        ax.legend(frameon=False, fontsize=7)
        return ax

    def save_figure(self, path):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        self.plot(ax)
        ax.set_title(f"{self.synapse} vs {self.dataset}", fontsize=9)
        fig.tight_layout()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        self.figure = path
        return path


def _label(model, params):
    if isinstance(params, str):
        return f"{model.name} [{params}]"
    return model.name if not params else f"{model.name} [custom]"


def compare(synapse, dataset, params=None, pairing="trains", device=None, engine="brian2", dt=0.1 * ms,
            figure=None):
    """Run the data set's protocol on a synapse model and compare with the data.

    Parameters
    ----------
    synapse : str or SynapseModel
    dataset : str or Table
        ``'bi_poo_1998'``, ``'sjostrom_2001'``, ``'wang_2005'`` or a `Table` (see
        `dataset_protocol`).
    params : dict or str, optional
        Parameter values or set name (default: the model's own defaults).
    pairing : {'trains', 'regular60'}
        Frequency data only.
    device, engine, dt
        See `run_conditions`.
    figure : str, optional
        Write a PNG of model versus data there.

    Returns
    -------
    Comparison
        ``.rmse``, ``.chi2`` (with the SEMs), ``.n_within_sem``, ``.table``, ``.summary()``.
    """
    table = _load_dataset(dataset)
    model = resolve_synapse(synapse, params)
    proto = dataset_protocol(table, pairing)
    values = proto.run(model, None, device, engine, dt)
    comp = Comparison(table, proto.labels(), values, _label(model, params),
                      pairing if table.meta.get("protocol") == "frequency" else None)
    if figure:
        comp.save_figure(figure)
    return comp


class FitResult:
    """What `fit` returns.

    Attributes
    ----------
    params : dict
        Fitted values (with units).
    stderr : dict
        Standard errors of the fitted values from the Jacobian at the optimum (with the data's
        SEMs; without SEMs, scaled by the residual variance).
    initial : dict
        Starting values.
    model : SynapseModel
        The synapse model with the fitted parameters.
    before, after : Comparison
        Model versus data before and after the fit (``after`` from the Brian2 simulation
        when ``verify=True``).
    engine : str
        Evaluation used by the optimiser.
    verify_max_diff : float or None
        Largest difference (percentage points) between the optimiser's evaluation and the
        Brian2 simulation at the fitted parameters.
    result : scipy.optimize.OptimizeResult
    """

    def __init__(self, **kwds):
        self.__dict__.update(kwds)

    def summary(self):
        lines = [f"fit of {', '.join(self.names)} to {self.before.dataset} ({self.engine} evaluation, "
                 f"{self.result.nfev} evaluations, {'converged' if self.result.success else 'NOT converged'})"]
        for k in self.names:
            lines.append(f"  {k}: {_fmtq(self.initial[k])} -> {_fmtq(self.params[k])} "
                         f"(± {_fmtq(self.stderr[k])})")
        lines.append(f"  RMSE {self.before.rmse:.2f} % -> {self.after.rmse:.2f} %"
                     + ("" if self.after.chi2 is None else
                        f"; chi2 {self.before.chi2:.2f} -> {self.after.chi2:.2f}; within one SEM "
                        f"{self.before.n_within_sem} -> {self.after.n_within_sem} of {len(self.after.data)}"))
        if self.verify_max_diff is not None:
            lines.append(f"  Brian2 simulation versus optimiser's evaluation: max difference "
                         f"{self.verify_max_diff:.2e} percentage points")
        return "\n".join(lines)


def _fmtq(v):
    if isinstance(v, Quantity) and get_dimensions(v) is not DIMENSIONLESS:
        return str(v.in_best_unit(precision=4))
    return f"{float(v):.4g}"


def fit(synapse, dataset, params, initial=None, pairing="trains", bounds=None, engine="auto", device=None,
        verify=True, dt=0.1 * ms, max_nfev=300):
    """Fit chosen parameters of a synapse model to a data set (SciPy least squares).

    Minimises ``sum(((model - data) / sem)**2)`` (plain squared errors when the data set has
    no SEM) with `scipy.optimize.least_squares` over the chosen parameters, the others kept at
    ``initial``. The shipped rules are evaluated exactly event by event with NumPy
    (`event_weight_change`, equal to the Brian2 simulation to rounding errors); other models
    run as Brian2 simulations, all finite-difference probes of a Jacobian in one simulation.
    With ``verify=True`` the fitted model is simulated with Brian2 on ``device``.

    Parameters
    ----------
    synapse : str or SynapseModel
    dataset : str or Table
    params : sequence of str
        Names of the parameters to fit (e.g. ``['A_plus', 'A_minus', 'tau_plus', 'tau_minus']``).
    initial : dict or str, optional
        Starting values (default: the model's parameters).
    pairing : {'trains', 'regular60'}
    bounds : dict, optional
        name -> (low, high) with units; default: amplitudes >= 0, time constants 0.5 ms - 10 s.
    engine : {'auto', 'numpy', 'brian2'}
    device : str, optional
        Device of the Brian2 runs.
    verify : bool
    dt : Quantity
    max_nfev : int

    Returns
    -------
    FitResult
    """
    from scipy.optimize import least_squares

    table = _load_dataset(dataset)
    model = resolve_synapse(synapse, initial)
    if isinstance(params, str):
        params = [params]
    names = list(params)
    if not names:
        raise ValueError("params: give at least one parameter name to fit.")
    fittable = _param_names(model)
    for k in names:
        if k not in fittable:
            raise ValueError(f"params: '{k}' is not a parameter of synapse '{model.name}' "
                             f"(parameters: {', '.join(fittable)}).")
    if engine == "auto":
        engine = "numpy" if _rule_of(model) else "brian2"
    if engine not in ("numpy", "brian2"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'brian2', got {engine!r}.")
    proto = dataset_protocol(table, pairing)
    conds = proto.conditions()
    data = np.asarray(table["change_percent"], dtype=float)
    sem = np.asarray(table["sem_percent"], dtype=float) if "sem_percent" in table else np.ones_like(data)
    dims = {k: get_dimensions(model.parameters[k]) for k in names}
    x0 = np.array([float(model.parameters[k]) for k in names])
    scale = np.array([abs(v) if v != 0 else (1e-3 if dims[k] is DIMENSIONLESS else 10e-3)
                      for k, v in zip(names, x0)])
    lo, hi = [], []
    for k in names:
        if bounds and k in bounds:
            low, high = bounds[k]
            lo.append(float(low)), hi.append(float(high))
        elif dims[k] is DIMENSIONLESS:
            lo.append(0.0), hi.append(np.inf)
        else:
            lo.append(0.5e-3), hi.append(10.0)
    lo, hi = np.array(lo) / scale, np.array(hi) / scale
    u0 = np.clip(x0 / scale, lo, hi)

    def rows_for(u):
        return {k: Quantity(v, dim=dims[k]) for k, v in zip(names, u * scale)}

    def evaluate(us):
        if engine == "numpy":
            return np.array([run_conditions(model, conds, engine="numpy", dt=dt,
                                            param_rows=[rows_for(u)] * len(conds)) for u in us])
        all_conds, rows = [], []
        for u in us:
            all_conds += conds
            rows += [rows_for(u)] * len(conds)
        out = run_conditions(model, all_conds, device=device, engine="brian2", dt=dt, param_rows=rows)
        return out.reshape(len(us), len(conds))

    def fun(u):
        return (evaluate([u])[0] - data) / sem

    def jac(u):
        h = 1e-6 * np.maximum(np.abs(u), 1e-2)
        probes = [u] + [u + h[i] * np.eye(len(u))[i] for i in range(len(u))]
        vals = evaluate(probes)
        return ((vals[1:] - vals[0]) / h[:, None]).T / sem[:, None]

    res = least_squares(fun, u0, jac=jac, bounds=(lo, hi), x_scale=1.0, max_nfev=max_nfev)
    stderr = {}
    try:  # standard errors from the Jacobian (residuals in units of the SEM; without SEMs, scaled
        cov = np.linalg.inv(res.jac.T @ res.jac)  # by the residual variance)
        if "sem_percent" not in table and len(data) > len(names):
            cov *= 2 * res.cost / (len(data) - len(names))
        for k, var, sc in zip(names, np.diag(cov), scale):
            stderr[k] = Quantity(np.sqrt(max(var, 0.0)) * sc, dim=dims[k])
    except np.linalg.LinAlgError:
        stderr = {k: Quantity(np.nan, dim=dims[k]) for k in names}
    fitted = rows_for(res.x)
    fitted_model = model(**fitted)
    initial_values = {k: Quantity(v, dim=dims[k]) if dims[k] is not DIMENSIONLESS else float(v)
                      for k, v in zip(names, x0)}
    fitted = {k: (v if dims[k] is not DIMENSIONLESS else float(v)) for k, v in fitted.items()}
    label = _label(model, initial)
    is_freq = table.meta.get("protocol") == "frequency"
    before = Comparison(table, proto.labels(), evaluate([u0])[0], label, pairing if is_freq else None)
    fit_values = evaluate([res.x])[0]
    verify_diff = None
    if verify:
        sim = proto.run(fitted_model, None, device, "brian2", dt)
        verify_diff = float(np.max(np.abs(sim - fit_values)))
        fit_values = sim
    after = Comparison(table, proto.labels(), fit_values, f"{model.name} [fitted {', '.join(names)}]",
                       pairing if is_freq else None)
    return FitResult(params=fitted, stderr=stderr, initial=initial_values, names=names, model=fitted_model,
                     before=before,
                     after=after, engine=engine, verify_max_diff=verify_diff, result=res, dataset=table.name)


def synthetic_window_dataset(synapse, dts, params=None, noise=2.0, seed=0, n_pairs=60, frequency=1 * Hz,
                             engine="numpy", device=None):
    """A window data set generated by a model plus Gaussian noise (to test `fit`).

    Returns a `Table` like ``'bi_poo_1998'`` with ``change_percent`` = model + N(0, noise²)
    and ``sem_percent = noise``.
    """
    if not np.isfinite(noise) or noise <= 0:
        raise ValueError(f"noise must be a positive number of percentage points, got {noise!r}.")
    clean = stdp_window(synapse, dts, params=params, n_pairs=n_pairs, frequency=frequency, engine=engine,
                        device=device)
    rng = np.random.default_rng(seed)
    dts = np.atleast_1d(np.asarray(dts / ms, dtype=float))
    meta = {"name": "synthetic_window", "protocol": "window", "n_pairings": str(n_pairs),
            "frequency_hz": str(float(frequency / Hz)), "sign_convention": "dt = t_post - t_pre",
            "citation": f"synthetic: {synapse if isinstance(synapse, str) else synapse.name} [{params}] plus "
                        f"Gaussian noise (sd {noise} %, seed {seed})",
            "units": "dt_ms=ms, change_percent=percent, sem_percent=percent"}
    return _data.Table({"dt_ms": dts, "change_percent": clean + rng.normal(0, noise, len(dts)),
                        "sem_percent": np.full(len(dts), float(noise))}, meta, name="synthetic_window")


# ============================================================================ STDP <-> rate differences
def _pair_kernel_moments(model):
    """∫K, ∫τK and the one-sided moments of the pair-STDP window of ``model`` (SI units)."""
    p = {k: float(v) for k, v in model.parameters.items() if np.ndim(v) == 0 and not callable(v)}
    for key in ("A_plus", "A_minus", "tau_plus", "tau_minus"):
        if key not in p:
            raise ValueError(f"synapse '{model.name}' has no parameter '{key}': the rate-difference prediction "
                             "needs the pair-STDP window (A_plus, A_minus, tau_plus, tau_minus).")
    Ap, Am, tp, tm = p["A_plus"], p["A_minus"], p["tau_plus"], p["tau_minus"]
    return {"int_K": Ap * tp - Am * tm, "int_tauK": Ap * tp ** 2 + Am * tm ** 2,
            "M_plus": Ap * tp ** 2, "M_minus": Am * tm ** 2, "int_abs_tauK": Ap * tp ** 2 - Am * tm ** 2}


class RateStepProtocol(SpikeProtocol):
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
        self.pre = _check_quantity("pre", pre, Hz, "Hz")
        self.post = _check_quantity("post", post, Hz, "Hz")
        if self.pre.ndim != 2 or self.pre.shape[1] != 2 or self.post.shape != self.pre.shape:
            raise ValueError(f"pre and post must have shape (n_pairs, 2) (free, clamped rates), got "
                             f"{self.pre.shape} and {self.post.shape}.")
        if np.any(self.pre < 0) or np.any(self.post < 0):
            raise ValueError("pre and post rates must be >= 0 Hz.")
        self.n_repeats = _check_int("n_repeats", n_repeats)
        self.free = float(_check_quantity("free", free, second, "second", allow_array=False, positive=True))
        self.clamped = float(_check_quantity("clamped", clamped, second, "second", allow_array=False, positive=True))
        self.margin = float(_check_quantity("margin", margin, second, "second", allow_array=False))
        self.dt = float(_check_quantity("dt", dt, second, "second", allow_array=False, positive=True))
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
            not step); ``exact``: the sum of all three (the exact expectation of this protocol).
        """
        mom = _pair_kernel_moments(model)
        a1, a2 = self.pre[:, 0], self.pre[:, 1]
        b1, b2 = self.post[:, 0], self.post[:, 1]
        heb = (a1 * b1 * self.free + a2 * b2 * self.clamped) * mom["int_K"]
        rate = 0.5 * (a1 + a2) * (b2 - b1) * mom["int_tauK"]
        second_order = -0.5 * (a2 - a1) * (b2 - b1) * mom["int_abs_tauK"]
        out = {"hebbian": heb, "rate_difference": rate, "predicted": heb + rate, "second_order": second_order,
               "exact": heb + rate + second_order}
        return {k: 100.0 * v for k, v in out.items()}


def pair_sum_weight_change(params, pre_times, post_times):
    """``Σ_pre Σ_post K(t_post - t_pre)`` of the pair window (an independent reference for
    all-to-all pair STDP without clipping; ``K(0) = A_plus``: Brian2 processes the
    presynaptic spike of a time step first)."""
    p = {k: float(v) for k, v in params.items()}
    d = np.asarray(post_times, float)[None, :] - np.asarray(pre_times, float)[:, None]
    return float(np.sum(np.where(d >= 0, p["A_plus"] * np.exp(-np.abs(d) / p["tau_plus"]),
                                 -p["A_minus"] * np.exp(-np.abs(d) / p["tau_minus"]))))


def rate_difference(n_pairs=200, n_repeats=50, rates=(5 * Hz, 50 * Hz), free=250 * ms, clamped=250 * ms,
                    synapse="pair_stdp", params="bi_poo_1998", pre_steps=True, seed=0, device=None,
                    engine="brian2", dt=0.1 * ms):
    """STDP versus the rate-difference prediction over random free/clamped rate pairs.

    Draws ``n_pairs`` random rate quadruples (free and clamped, pre and post, uniform in
    ``rates``), runs `RateStepProtocol` (all synapses in one network) and compares the mean
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
        ``measured`` and ``measured_sem`` (percent, per rate pair), the `RateStepProtocol.predictions`
        terms, ``correlation`` (measured versus ``predicted``), ``correlation_rate_term``
        (measured minus Hebbian term versus the rate-difference term), ``correlation_exact``,
        ``rates_pre``, ``rates_post`` (Hz, shape (n_pairs, 2)).
    """
    n_pairs = _check_int("n_pairs", n_pairs, 2)
    lo, hi = (float(_check_quantity("rates", r, Hz, "Hz", allow_array=False)) for r in rates)
    if not 0 <= lo < hi:
        raise ValueError(f"rates must be (low, high) with 0 <= low < high, got {rates!r}.")
    rng = np.random.default_rng(seed)
    pre = rng.uniform(lo, hi, (n_pairs, 2))
    if not pre_steps:
        pre[:, 1] = pre[:, 0]
    post = rng.uniform(lo, hi, (n_pairs, 2))
    model = resolve_synapse(synapse, params)
    proto = RateStepProtocol(pre * Hz, post * Hz, n_repeats, free, clamped, seed=seed + 1, dt=dt)
    change = run_conditions(model, proto.conditions(), device=device, engine=engine, dt=dt)
    change = change.reshape(n_pairs, n_repeats)
    pred = proto.predictions(model)
    measured = change.mean(axis=1)
    out = dict(pred)
    out.update(measured=measured, measured_sem=change.std(axis=1, ddof=1) / np.sqrt(n_repeats),
               correlation=float(np.corrcoef(measured, pred["predicted"])[0, 1]),
               correlation_rate_term=float(np.corrcoef(measured - pred["hebbian"], pred["rate_difference"])[0, 1]),
               correlation_exact=float(np.corrcoef(measured, pred["exact"])[0, 1]),
               rates_pre=pre, rates_post=post, n_pairs=n_pairs, n_repeats=n_repeats, protocol=proto)
    return out


class PlasticityExperiments:
    """Plasticity rules against biological data (Bi & Poo, Sjöström, Wang; rate differences)."""

    name = "plasticity"

    @classmethod
    def experiment(cls, out="figures", quick=True, seed=0, device=None):
        from .plasticity_figures import experiment

        return experiment(out=out, quick=quick, seed=seed, device=device)
