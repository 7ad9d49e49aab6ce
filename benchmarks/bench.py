"""
Speed of brianlearn's compiled learning systems, side by side with hand-written implementations.

``brianlearn bench [--quick]`` (or ``python -m brianlearn.benchmarks.bench``) writes
``benchmarks/RESULTS.md`` and ``benchmarks/throughput.png``. For each learning system and size,
in one run:

- brianlearn ``cpp_standalone`` with 1 and 2 OpenMP threads (compile time apart: the first fit
  into an empty build cache; then repeated fits of new estimators finding the cached binary),
- brianlearn on Brian2's ``runtime`` device (fewer samples: it is slow),
- a NumPy loop (vectorised over neurons, a Python loop over time steps: the references
  `brianlearn.protocols.nsm_reference` and `brianlearn.protocols.dictionary_reference`),
- a compiled Numba loop of the same dynamics (`brianlearn.benchmarks.numba_loops`; needs the
  ``bench`` extra).

Before its time counts, every implementation is checked against brianlearn ``cpp_standalone`` on
the same samples, initial weights and order: the same learned weights (or codes) within
``TOLERANCE``. Timings are wall-clock on the machine that runs it; the minimum and the median of
``repeats`` runs are reported, and throughput is samples / minimum time. Nothing here is asserted
in tests (tests check the references' equality, not speed).
"""

import argparse
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time

import numpy as np

__all__ = ["run_bench", "render", "main", "TOLERANCE"]

#: largest absolute difference of learned weights / codes accepted as "the same result"
TOLERANCE = 1e-9


def _timed(fn, repeats):
    """``(times, last result)`` of ``repeats`` calls."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def _maxdiff(a, b):
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b))


# ---------------------------------------------------------------- the systems
class _NSM:
    """Spiking NSM on centred digits (the table of issue 11): tau = 100, dtau = 0.05."""

    name, duration, dt, eta = "nsm", 100.0, 0.05, 1e-3

    def __init__(self, k):
        from brianlearn.datasets.images import load_digits_data

        X = load_digits_data()
        self.X = X - X.mean(axis=0)
        self.k = k
        self.W0 = np.random.default_rng(0).uniform(0, 1 / np.sqrt(k), (k, 64))
        self.what = f"SpikingNSM, k = {k}, 64 inputs (centred digits), tau = 100, dtau = 0.05, eta = 1e-3"
        self.steps = int(round(self.duration / self.dt))

    def brianlearn(self, device, n, chunk_size=None):
        from brianlearn.protocols.nsm import SpikingNSM

        est = SpikingNSM(self.k, eta=self.eta, duration=self.duration, dt=self.dt, W_init=self.W0, shuffle=False,
                         device=device, seed=0, chunk_size=chunk_size or n)
        est.fit(self.X[:n], X_val=None)  # no held-out evaluation: the training run alone
        return est, (est.W_, est.M_)

    def numpy(self, n):
        from brianlearn.protocols.nsm_reference import simulate_nsm_network

        r = simulate_nsm_network(self.X[:n], self.W0, self.eta, duration=self.duration, dt=self.dt)
        return r, (r["W"], r["Mbar"] + np.diag(r["Mii"]))

    def numba(self, n):
        from brianlearn.benchmarks.numba_loops import nsm_numba

        r = nsm_numba(self.X[:n], self.W0, self.eta, duration=self.duration, dt=self.dt)
        return r, (r["W"], r["Mbar"] + np.diag(r["Mii"]))

    def events(self, ref):
        """Synaptic events per sample: each output spike reaches the k - 1 other outputs."""
        return float(np.mean(ref["Y"].sum(axis=1)) * self.duration * (self.k - 1))


class _LCA(_NSM):
    """Spiking LCA inference (no learning): random non-negative unit-norm atoms, 64 inputs."""

    name, lam = "lca", 0.1

    def __init__(self, k):
        from brianlearn.protocols.lca import DEFAULT_DT, DEFAULT_DURATION

        rng = np.random.default_rng(0)
        D = np.abs(rng.normal(size=(k, 64)))
        self.D = D / np.linalg.norm(D, axis=1, keepdims=True)
        self.X = np.abs(rng.normal(size=(2000, 64))) / 8
        self.k, self.duration, self.dt = k, float(DEFAULT_DURATION), float(DEFAULT_DT)
        self.steps = int(round(self.duration / self.dt))
        self.what = f"spiking_sparse_encode, {k} atoms, 64 inputs, lam = 0.1, T = {self.duration:g}, dt = {self.dt:g}"

    def brianlearn(self, device, n, chunk_size=None):
        from brianlearn.protocols.lca import spiking_sparse_encode

        A = spiking_sparse_encode(self.X[:n], self.D, self.lam, device=device, chunk_size=chunk_size or n)
        return None, (A,)

    def _ref_args(self):
        G = self.D @ self.D.T
        return dict(lam1=self.lam, duration=self.duration, dt=self.dt, Mbar=G - np.diag(np.diag(G)), Mii=np.diag(G))

    def numpy(self, n):
        from brianlearn.protocols.nsm_reference import simulate_nsm_network

        r = simulate_nsm_network(self.X[:n], self.D, 0.0, **self._ref_args())
        return r, (r["Y"],)

    def numba(self, n):
        from brianlearn.benchmarks.numba_loops import nsm_numba

        r = nsm_numba(self.X[:n], self.D, 0.0, **self._ref_args())
        return r, (r["Y"],)


class _Dictionary:
    """The two-phase dictionary-learning network (Lin & Tang): 8x8 patches in 128 channels."""

    name, kappa, T, dt, lam1, eta_d, ratio = "dictionary", 0.7, 100.0, 1 / 32, 0.1, 0.02, 15.0

    def __init__(self, k):
        from brianlearn.datasets.images import image_patches
        from brianlearn.protocols.dictionary import DEFAULT_LAM2, initial_weights

        self.X = image_patches(2000, seed=100)
        self.k, self.lam2 = k, DEFAULT_LAM2
        self.F0, self.B0, self.H0 = initial_weights(128, k, seed=0)[:3]
        self.steps = 2 * int(round(self.T / self.dt))
        self.what = (f"SpikingDictionaryLearning, {k} atoms, 128 inputs, 2 phases of {self.T:g} at dt = 1/32, "
                     f"eta_D = {self.eta_d:g}")

    def brianlearn(self, device, n, chunk_size=None):
        from brianlearn.protocols.dictionary import SpikingDictionaryLearning

        est = SpikingDictionaryLearning(n_components=self.k, lam1=self.lam1, eta_d=self.eta_d, shuffle=False,
                                        seed=0, device=device, chunk_size=chunk_size or n)
        est.fit(self.X[:n], X_val=None)  # no held-out evaluation: the training run alone
        return est, (est.feedforward_, est.feedback_, est.inhibition_)

    def _args(self):
        return dict(kappa=self.kappa, phase_duration=self.T, dt=self.dt, eta_d=self.eta_d,
                    eta_h=self.ratio * self.eta_d, lam2=self.lam2)

    def numpy(self, n):
        from brianlearn.protocols.dictionary_reference import simulate_dictionary_network

        F, B, H, codes = simulate_dictionary_network(self.X[:n], self.F0, self.B0, self.H0, self.lam1, **self._args())
        return codes, (F, B, H)

    def numba(self, n):
        from brianlearn.benchmarks.numba_loops import dictionary_numba

        F, B, H, codes = dictionary_numba(self.X[:n], self.F0, self.B0, self.H0, self.lam1, **self._args())
        return codes, (F, B, H)

    def events(self, codes):
        """Synaptic events per sample (coding spikes reach N - 1 coding and M input neurons;
        input spikes are not counted: a lower bound)."""
        return float(np.mean(codes["ak"].sum(axis=1)) * self.T * 2 * (self.k - 1 + 128))


class _EPLIF:
    """Equilibrium propagation with LIF neurons on the two-link arm: brianlearn, and the NumPy and
    Numba loops of `brianlearn.benchmarks.lif_ep_loops` from the estimator's initial weights,
    sample order and learning-rate schedule (`lif_ep_init`)."""

    name, neuron, ms = "eqprop lif", "lif", 500.0

    def __init__(self, hidden):
        from brianlearn.datasets.regression import two_link_arm

        self.X, self.Y = two_link_arm(2000, seed=0)
        self.hidden = hidden
        self._inits = {}  # sample count -> `lif_ep_init` of the hand-written loops
        self.what = (f"EquilibriumPropagation(neuron='{self.neuron}', hidden=({hidden},)), two-link arm, "
                     f"{self.ms:g} ms per sample")
        self.steps = float("nan")

    def estimator(self, device=None, n=1, chunk_size=None):
        from brianlearn.protocols.eqprop import EquilibriumPropagation

        return EquilibriumPropagation(hidden=(self.hidden,), neuron=self.neuron, epochs=1, shuffle=False, seed=0,
                                      device=device, chunk_size=chunk_size or n)

    def brianlearn(self, device, n, chunk_size=None):
        est = self.estimator(device, n, chunk_size)
        est.fit(self.X[:n], self.Y[:n])
        return est, self._flat(est.feedforward_, est.biases_, est.feedback_)

    def _loop(self, loop, n):
        from brianlearn.benchmarks import lif_ep_loops

        if n not in self._inits:  # (the estimator's draws, ~13 ms: once per sample count, not in every timed run)
            self._inits[n] = lif_ep_loops.lif_ep_init(self.estimator(None, n), self.X[:n], self.Y[:n])
        Ws, bs, Bs, out = getattr(lif_ep_loops, loop)(self._inits[n])
        return out, self._flat(Ws, bs, Bs)

    def numpy(self, n):
        return self._loop("ep_lif_numpy", n)

    def numba(self, n):
        return self._loop("ep_lif_numba", n)

    @staticmethod
    def _flat(Ws, bs, Bs):
        return tuple(np.concatenate([np.ravel(w) for w in ws if w is not None]) for ws in (Ws, bs, Bs))

    def events(self, _):
        return float("nan")


class _EP(_EPLIF):
    """Rate equilibrium propagation on the two-link arm: brianlearn, `RateEPReference` (NumPy)
    one sample at a time, and its Numba loop, from the estimator's initial weights, beta signs and
    learning-rate schedule (``EquilibriumPropagation.fit`` with ``seed=0``, no shuffling)."""

    name, neuron, ms = "eqprop rate", "rate", 20.0

    def __init__(self, hidden):
        super().__init__(hidden)
        est = self.estimator()
        self.net = est._build_network(2, 2)
        self.Ws, self.bs = self.net.init_weights(np.random.default_rng(0))  # (fit's draws, seed 0)
        self.signs = np.random.default_rng(1).choice([-1.0, 1.0], size=len(self.X))
        self.anneal = 1.0 if est.anneal is None else float(est.anneal)
        self.steps = self.net.n_free + self.net.n_nudged

    def _lr(self, n):
        return np.linspace(1.0, self.anneal, n) if n > 1 else np.ones(1)

    def numpy(self, n):
        from brianlearn.protocols.eqprop_reference import RateEPReference

        net = self.net
        ref = RateEPReference(net.sizes, beta=net.beta, eta=net.etas, eps=net.eps, n_free=net.n_free,
                              n_nudged=net.n_nudged, rule=net.rule, learn=net.learn, fixed_feedback=net.fixed_feedback,
                              weights=(self.Ws, self.bs))
        lr = self._lr(n)
        out = np.concatenate([ref.step(self.X[q:q + 1], self.Y[q:q + 1], self.signs[q:q + 1], lr=lr[q])
                              for q in range(n)])
        return out, self._flat(ref.W, ref.b, ref.B)

    def numba(self, n):
        from brianlearn.benchmarks.numba_loops import ep_rate_numba

        net = self.net
        if net.rule != "chl" or net.learn != "all" or net.fixed_feedback:
            raise ValueError("the Numba loop runs the contrastive Hebbian rule, all layers learning, symmetric feedback")
        Bs = [None] + [W.T.copy() for W in self.Ws[1:]]
        Ws, bs, Bs, out = ep_rate_numba(self.X[:n], self.Y[:n], self.Ws, self.bs, Bs, self.signs[:n], self._lr(n),
                                        net.beta, net.etas, net.eps, net.n_free, net.n_nudged)
        return out, self._flat(Ws, bs, Bs)


class _Plasticity:
    """Triplet STDP (Pfister & Gerstner 2006, visual cortex, minimal model) on an STDP-window
    protocol: ``size`` synapses, each its own pre/post pair of spike trains (60 pairings at
    10 Hz, dt = -50 ... 50 ms), all in one simulation at dt = 0.1 ms (`run_conditions`); a
    'sample' is a synapse. References: the NumPy event loop (`event_weight_change`) and its
    Numba loop, on the same spike times (on the simulation grid)."""

    name, dt = "plasticity", 1e-4

    def __init__(self, size):
        from brian2 import Hz, ms

        from brianlearn.protocols.plasticity.parameters import resolve_synapse
        from brianlearn.protocols.plasticity.stimuli import PairingStimulus

        self.model = resolve_synapse("triplet_stdp", "pfister_visual_cortex_minimal")
        self.params = {k: float(v) for k, v in self.model.parameters.items()}
        self.conds = PairingStimulus(np.linspace(-50, 50, size) * ms, 60, 10 * Hz).conditions()
        self.k = size
        self.what = (f"run_conditions('triplet_stdp', params='pfister_visual_cortex_minimal'), {size} synapses, "
                     "60 pairings at 10 Hz each (6.06 s simulated at dt = 0.1 ms, all synapses in one run)")
        self.steps = float("nan")  # (all synapses share the run's steps)

    def brianlearn(self, device, n, chunk_size=None):
        from brianlearn.protocols.plasticity.simulate import run_conditions

        step = chunk_size or n
        pct = np.concatenate([run_conditions(self.model, self.conds[lo:min(lo + step, n)], device=device)
                              for lo in range(0, n, step)])
        return None, (1 + pct / 100,)

    def numpy(self, n):
        from brian2 import second

        from brianlearn.protocols.plasticity.simulate import run_conditions

        return None, (1 + run_conditions(self.model, self.conds[:n], engine="numpy", dt=self.dt * second) / 100,)

    def numba(self, n):
        from brianlearn.benchmarks.numba_loops import triplet_numba
        from brianlearn.protocols.plasticity.simulate import _snap

        grid = [(_snap(a, self.dt) * self.dt, _snap(b, self.dt) * self.dt) for a, b in self.conds[:n]]
        return grid, (triplet_numba(grid, self.params),)

    def events(self, grid):
        """Synaptic events per synapse: its presynaptic and postsynaptic spikes."""
        return float(np.mean([len(a) + len(b) for a, b in grid]))


SYSTEMS = {"nsm": _NSM, "lca": _LCA, "dictionary": _Dictionary, "eqprop rate": _EP, "eqprop lif": _EPLIF,
           "plasticity": _Plasticity}
#: sizes and samples per size: quick, full
SIZES = {True: {"nsm": (64, 256), "lca": (64, 256), "dictionary": (64, 256), "eqprop rate": (20,),
               "eqprop lif": (300,), "plasticity": (10, 100)},
         False: {"nsm": (64, 128, 256, 512, 1024), "lca": (64, 128, 256, 512, 1024), "dictionary": (64, 128, 256, 512),
                 "eqprop rate": (20, 100), "eqprop lif": (300,), "plasticity": (10, 100, 1000)}}
SAMPLES = {True: {"nsm": 1000, "lca": 200, "dictionary": 200, "eqprop rate": 2000, "eqprop lif": 100,
                  "plasticity": None},
           False: {"nsm": 1000, "lca": 500, "dictionary": 500, "eqprop rate": 2000, "eqprop lif": 200,
                   "plasticity": None}}  # (None: as many as the size, e.g. synapses)
#: the chunk size the per-chunk cost is stated against (issue 11: <= 5 % of a 1 000-sample chunk)
CHUNK = 1000
#: samples for the slow implementations (NumPy loop, Brian2 runtime)
SLOW_SAMPLES = {"nsm": 10, "lca": 5, "dictionary": 3, "eqprop rate": 20, "eqprop lif": 2, "plasticity": 5}


def bench_system(name, size, n, repeats, cache, log=print):
    """Every implementation of one system at one size; returns its rows."""
    from brianlearn.devices import DeviceConfig

    sysm = SYSTEMS[name](size)
    rows = []

    def row(impl, samples, times, compile_s=float("nan"), diff=float("nan"), extra=""):
        best = min(times)
        rows.append({"system": name, "size": size, "implementation": impl, "samples": samples,
                     "time min (s)": best, "time median (s)": statistics.median(times),
                     "samples/s": samples / best, "steps/s": samples * sysm.steps / best,
                     "events/s": samples * events / best, "compile (s)": compile_s, "max |diff|": diff,
                     "note": extra})
        log(f"  {name} {size} {impl}: {samples / best:.1f} samples/s (max |diff| {diff:.2g}) {extra}", flush=True)

    # brianlearn cpp_standalone, 1 and 2 threads: compile into an empty cache, then warm repeats
    # (2 threads: a tenth of the samples, once: Brian2's OpenMP forks and joins in every step)
    n2 = max(SLOW_SAMPLES[name], n // 10)
    results = {}
    for threads in (None, 2):
        device = DeviceConfig("cpp_standalone", os.path.join(cache, f"t{threads}"), threads)
        m = n if threads is None else n2
        start = time.perf_counter()
        est, _ = sysm.brianlearn(device, m)
        first = time.perf_counter() - start
        info = getattr(est, "build_info_", None)
        times, (_, out) = _timed(lambda: sysm.brianlearn(device, m), repeats if threads is None else 1)
        if threads is None:
            results[None] = out
            ref_small = sysm.brianlearn(device, SLOW_SAMPLES[name])[1]
            ref_n2 = sysm.brianlearn(device, n2)[1]
            if hasattr(sysm, "numpy"):
                if _numba():
                    t_jit, _ = _timed(lambda: sysm.numba(2), 1)  # the first call: Numba compiles
                spikes = sysm.numba(n)[0] if _numba() else sysm.numpy(SLOW_SAMPLES[name])[0]
                events = sysm.events(spikes)
            else:
                events = float("nan")
        label = "brianlearn cpp_standalone, 1 thread" if threads is None else "brianlearn cpp_standalone, 2 threads"
        compile_s = info.seconds if info is not None and info.compiled else first
        row(label, m, times, compile_s, _maxdiff(out, results[None] if threads is None else ref_n2))
    device = DeviceConfig("cpp_standalone", os.path.join(cache, "tNone"), None)
    # fixed cost of a fit (a new estimator, replaying its build: the key, the run-argument files,
    # starting the binary, reading results), and the throughput without it
    t1, _ = _timed(lambda: sysm.brianlearn(device, 1), repeats)
    one = min(r["time min (s)"] for r in rows if r["implementation"].endswith("1 thread"))
    rest = one - min(t1)
    row("brianlearn cpp_standalone, 1 sample (the fixed cost of a fit)", 1, t1,
        extra=(f"without it (estimate; noisy when the fit is mostly fixed cost): {(n - 1) / rest:.0f} samples/s"
               if rest > 0.1 * one else "without it: not estimable (the fixed cost is over 90 % of the fit's time)"))
    # per-chunk cost of run arguments: the same samples in 10 chunks, each such fit right after a
    # fit of one chunk, so that the difference of the pair holds the same machine load (the median
    # of the pairs: a difference of minima taken minutes apart moved by more than a chunk's cost)
    t10, pairs = [], []
    for _ in range(repeats):
        (t_one,), _ = _timed(lambda: sysm.brianlearn(device, n), 1)
        (t_ten,), _ = _timed(lambda: sysm.brianlearn(device, n, chunk_size=n // 10), 1)
        t10.append(t_ten)
        pairs.append((t_ten - t_one) / 9)
    per_chunk = statistics.median(pairs)
    of_1000 = "" if n == CHUNK else (f"; {100 * per_chunk / (one * CHUNK / n):.1f} % of a {CHUNK}-sample chunk "
                                     "at this throughput (extrapolated)")
    row("brianlearn cpp_standalone, 10 chunks", n, t10,
        extra=f"per-chunk cost {per_chunk * 1000:.1f} ms = {100 * per_chunk / one:.1f} % of the {n}-sample chunk"
              + of_1000)
    # Brian2 runtime
    ns = SLOW_SAMPLES[name]
    with _empty_cython_cache():
        t_rt, (_, out) = _timed(lambda: sysm.brianlearn("runtime", ns), 1)
        t_rt2, (_, out) = _timed(lambda: sysm.brianlearn("runtime", ns), max(1, repeats - 1))
    row("brianlearn runtime (Brian2 runtime device, Cython)", ns, t_rt2, max(0.0, t_rt[0] - min(t_rt2)),
        _maxdiff(out, ref_small))
    # hand-written references
    if not hasattr(sysm, "numpy"):
        return _described(rows, sysm)
    t_np, (_, out) = _timed(lambda: sysm.numpy(ns), max(1, repeats - 1))
    row("NumPy loop (hand-written)", ns, t_np, diff=_maxdiff(out, ref_small))
    if _numba():
        # checked on the 2-thread run's samples; over all n samples, spiking runs of two compilers
        # can part (C++ is built with -ffast-math; a rounding difference that moves one threshold
        # crossing by a step changes everything after it), so that difference is reported beside
        check = _maxdiff(sysm.numba(n2)[1], ref_n2)
        t_nb, (_, out) = _timed(lambda: sysm.numba(n), repeats)
        whole = _maxdiff(out, results[None])
        row("Numba loop (hand-written)", n, t_nb, t_jit[0], check,
            f"max abs diff on {n2} samples; on all {n}: {whole:.2g}" if whole > TOLERANCE else "")
    return _described(rows, sysm)


@contextlib.contextmanager
def _empty_cython_cache():
    """Brian2's Cython extensions compiled into an empty folder (removed afterwards), so that the
    first runtime run compiles what a new user's first run compiles. (Brian2 also keeps the
    modules it loaded in memory: code this process compiled before, e.g. for another size of the
    same system, is not compiled again.)"""
    from brian2 import prefs

    saved = prefs.codegen.runtime.cython.cache_dir
    with tempfile.TemporaryDirectory() as folder:
        prefs.codegen.runtime.cython.cache_dir = folder
        try:
            yield
        finally:
            prefs.codegen.runtime.cython.cache_dir = saved


def _described(rows, sysm):
    for r in rows:
        r["what"] = sysm.what
    return rows


def _numba():
    from brianlearn.benchmarks.numba_loops import have_numba

    return have_numba()


def _fmt(v):
    if isinstance(v, float):
        if np.isnan(v):
            return "-"
        return f"{v:.3g}" if abs(v) < 1e5 else f"{v:.3e}"
    return str(v)


def _table(rows, keys):
    lines = ["| " + " | ".join(_SHOWN.get(k, k) for k in keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r[k]) for k in keys) + " |")
    return lines


def _plot(rows, path):
    from brianlearn.figures._plotting import plt

    pyplot = plt()
    names = list(dict.fromkeys(r["system"] for r in rows))
    fig, ax = pyplot.subplots(1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False)
    for a, name in zip(ax[0], names):
        sub = [r for r in rows if r["system"] == name and "chunks" not in r["implementation"]
               and "1 sample" not in r["implementation"]]
        for impl in dict.fromkeys(r["implementation"] for r in sub):
            pts = sorted((r["size"], r["samples/s"]) for r in sub if r["implementation"] == impl)
            a.plot(*zip(*pts), "o-", label=impl.replace("brianlearn ", "").replace(" (hand-written)", ""))
        a.set(xscale="log", yscale="log", xlabel="network size (neurons / atoms)", ylabel="samples / s", title=name)
        a.legend(frameon=False, fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot.close(fig)


#: column names in RESULTS.md (JSON keys that differ)
_SHOWN = {"max |diff|": "max abs diff"}


def run_bench(quick=True, systems=None, repeats=5, out=None, log=print):
    """Run the benchmark; store the rows in ``results.json`` and write ``RESULTS.md`` and
    ``throughput.png`` into ``out`` (default: the ``benchmarks/`` folder); return the rows.
    With ``systems``, the other systems' rows already stored are kept."""
    import brian2

    out = out or os.path.dirname(os.path.abspath(__file__))
    store = os.path.join(out, "results.json")
    kept = []
    if systems and os.path.exists(store):
        with open(store) as f:
            kept = [r for r in json.load(f)["rows"] if r["system"] not in systems]
    rows, start = [], time.time()
    with tempfile.TemporaryDirectory() as cache:
        for name in systems or SYSTEMS:
            for size in SIZES[quick][name]:
                rows += bench_system(name, size, SAMPLES[quick][name] or size, repeats, cache, log)
    header = (f"`brianlearn bench{' --quick' if quick else ''}{' --systems ' + ' '.join(systems) if systems else ''}` "
              f"on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}), Python "
              f"{platform.python_version()}, Brian2 {brian2.__version__}, {time.strftime('%Y-%m-%d')}; {repeats} "
              f"repeats, this run {time.time() - start:.0f} s.")
    for r in rows:
        r["run"] = header
    os.makedirs(out, exist_ok=True)
    with open(store, "w") as f:
        json.dump({"header": header, "rows": kept + rows}, f, indent=0, default=float)
    render(out, log)
    return kept + rows


def _openmp_line(sub):
    """What 2 OpenMP threads do at the system's largest size: the speed-up and the extra time per step."""
    size = max(r["size"] for r in sub)
    one = [r for r in sub if r["size"] == size and r["implementation"].endswith("1 thread")]
    two = [r for r in sub if r["size"] == size and r["implementation"].endswith("2 threads")]
    if not one or not two:
        return []
    line = f"OpenMP at size {size}: 2 threads run at {two[0]['samples/s'] / one[0]['samples/s']:.3g} x the speed of one"
    if np.isfinite(one[0]["steps/s"]) and np.isfinite(two[0]["steps/s"]):
        extra = 1e6 * (1 / two[0]["steps/s"] - 1 / one[0]["steps/s"])
        line += f"; each time step takes {extra:.2f} us more (one step with 1 thread: {1e6 / one[0]['steps/s']:.3f} us)"
    return [line + "."]


def render(out=None, log=print):
    """Write ``RESULTS.md`` and ``throughput.png`` from the stored ``results.json``."""
    out = out or os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(out, "results.json")) as f:
        stored = json.load(f)
    rows = stored["rows"]
    keys = ["system", "size", "implementation", "samples", "time min (s)", "time median (s)", "samples/s",
            "vs brianlearn", "steps/s", "events/s", "compile (s)", "max |diff|", "note"]
    for r in rows:  # throughput over brianlearn cpp_standalone (1 thread) at the same size
        base = next(b for b in rows if b["system"] == r["system"] and b["size"] == r["size"]
                    and b["implementation"].endswith("1 thread"))
        r["vs brianlearn"] = r["samples/s"] / base["samples/s"]
    runs = list(dict.fromkeys(r.get("run", stored["header"]) for r in rows))
    if len(runs) > 1:  # (a run of some systems keeps the other systems' rows of earlier runs)
        head = ["The rows come from these runs:", ""] + [
            f"- {', '.join(dict.fromkeys(r['system'] for r in rows if r.get('run', stored['header']) == run))}: {run}"
            for run in runs]
    else:
        head = runs
    lines = ["# Benchmarks", ""] + head + ["",
             "Throughput is samples / the minimum time of the repeats; 'vs brianlearn' is that throughput over "
             "brianlearn cpp_standalone with 1 thread at the same size. 'compile' is the first fit's code generation "
             "and compilation into an empty build cache (Numba: its first call, which JIT-compiles; runtime: the "
             "first run into an empty Cython cache minus a warm one; 0 where this process had compiled the same code "
             "for another size). '10 chunks': the same samples in ten compiled runs of a tenth each (run_args), "
             "against one run of all of them; the per-chunk cost is the median over the repeats of (the 10-chunk fit - "
             "a 1-chunk fit run just before it) / 9. 'max abs diff' is the largest difference of the learned weights (NSM, "
             f"dictionary, EP) or codes (LCA) from brianlearn cpp_standalone on the same samples (accepted: <= "
             f"{TOLERANCE:g}); 2 threads, runtime, the NumPy loop and the Numba loop are compared on their (fewer) samples "
             "(Numba: the 2-thread run's; its note gives the difference over all samples where it is larger: "
             "spiking runs built by two compilers can part after many steps, where a rounding difference moves a "
             "threshold crossing by one step. Until brianlearn's network loop took Brian2 runtime's rule for clocks "
             "due together, NSM k = 64 parted by 8e-6 after 1 000 samples (100 s in one run: past 64 s the trial "
             "clock and the step clock parted); it agrees to 1e-16 now). Events: "
             "synaptic events (spikes x targets, from the reference's spike counts). The repeated brianlearn "
             "cpp_standalone fits replay the build of the first one (brianlearn.replay: no code generation; a new "
             "estimator whose configuration has been generated before). 'the fixed cost of a fit': a new estimator "
             "fitting one sample, replayed (its key, the run-argument files, starting the binary, reading the "
             "results).", "",
             "Why 2 OpenMP threads are slower here: Brian2's OpenMP code opens a parallel region, with its "
             "barrier, for each of its parallel loops (state updates, resets, synaptic propagation: templates "
             "'#pragma omp parallel for') in every time step. These networks do well under a microsecond of work "
             "per step (a few hundred neurons or less, 0.05-0.1 ms steps, a dozen code objects), so synchronising "
             "two threads in each code object costs more than the work it shares; the line under each table gives "
             "the extra time per step. More threads can pay only where one step's work is much larger than that.", ""]
    for name in dict.fromkeys(r["system"] for r in rows):
        sub = [r for r in rows if r["system"] == name]
        lines += [f"## {name}", "", "; ".join(dict.fromkeys(r["what"] for r in sub)), ""]
        lines += _table(sub, keys) + [""] + _openmp_line(sub) + [""]
    bad = [r for r in rows if not np.isnan(r["max |diff|"]) and r["max |diff|"] > TOLERANCE]
    lines += ["Implementations whose result differed (their times do not count): "
              + (", ".join(f"{r['system']} {r['size']} {r['implementation']}" for r in bad) or "none") + ".",
              "", "![throughput](throughput.png)", ""]
    with open(os.path.join(out, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines))
    _plot(rows, os.path.join(out, "throughput.png"))
    log(f"  wrote {os.path.join(out, 'RESULTS.md')}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true", help="two sizes per system (default: the full size scan)")
    p.add_argument("--systems", nargs="*", default=None, choices=list(SYSTEMS), help="only these systems")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--out", default=None, help="folder of RESULTS.md and throughput.png")
    p.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from the stored results.json")
    args = p.parse_args(argv)
    if args.render:
        render(args.out)
    else:
        run_bench(quick=args.quick, systems=args.systems, repeats=args.repeats, out=args.out)


if __name__ == "__main__":
    main()
