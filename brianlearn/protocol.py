"""
The `Protocol` base class: build the network once, run a data set of any length in chunks.

A protocol describes one learning system: its `Schedule` of phases, the data each trial
reads, and a `build_network` method that creates the Brian2 objects with a `NetworkBuilder`
(end-of-phase snapshots, end-of-trial weight updates, resets). The engine then

- compiles the network once for a chunk of ``chunk_size`` trials (standalone devices: a build
  folder cached by a hash of the generated code, see `brianlearn.buildcache`);
- runs chunk after chunk with ``device.run(run_args=...)``, which replaces the data
  `TimedArray` values and the learned variables without recompiling; no Python code runs per
  trial;
- carries the learned variables between chunks, reports progress, checkpoints them to disk
  at chunk ends (at most every `Protocol.checkpoint_interval` seconds) and resumes from a
  checkpoint of the same run (same configuration, data and trial signals);
- turns hyper-parameters into per-trial signals (`Protocol.derive_signals`), so that changing
  them runs the same binary.

The same protocol code runs on ``runtime``, ``cpp_standalone`` and ``cuda_standalone``.
"""

import contextlib
import hashlib
import itertools
import json
import math
import os
import sys
import time

import numpy as np

from .checkpoint import checkpoint_meta, fingerprint, load_checkpoint, save_checkpoint
from .compiled import RunResult, _CompiledRun
from .devices import resolve_device
from .validation import check_array

__all__ = ["Protocol", "RunResult", "check_array"]


class _Report:
    """Progress report: per chunk to stderr; Brian2's own report inside long runs."""

    @staticmethod
    def brian(progress):
        return "stderr" if progress == "brian" else None

    def __init__(self, label, n_samples, n_chunks, enabled):
        self.label, self.n_samples, self.n_chunks, self.enabled = label, n_samples, n_chunks, enabled
        self.start = time.time()

    def __call__(self, chunk, done):
        if not self.enabled:
            return
        elapsed = time.time() - self.start
        rate = done / elapsed if elapsed > 0 else float("inf")
        eta = (self.n_samples - done) / rate if rate > 0 else 0.0
        print(f"[brianlearn] {self.label}: chunk {chunk + 1}/{self.n_chunks}, {done}/{self.n_samples} "
              f"samples, {elapsed:.1f} s elapsed, ~{eta:.1f} s left", file=sys.stderr, flush=True)


class Protocol:
    """Base class of the learning protocols.

    Subclasses set ``self.schedule`` and implement `data_shapes`, `build_network` and
    `initial_state` (and usually `config` for their own parameters).

    Parameters
    ----------
    device : str or DeviceConfig, optional
        ``'runtime'``, ``'cpp_standalone'`` or ``'cuda_standalone'``; default: the device set by
        `brianlearn.use_device` (``cpp_standalone`` unless changed).
    seed : int, optional
        Seed for the initial state and any randomness inside the simulation.
    chunk_size : int, optional
        Trials per compiled run (default `default_chunk_size`). Longer data sets run as several
        chunks of the same binary; a shorter last chunk is padded with trials that change nothing.
    progress : bool or 'brian', optional
        Report progress per chunk (``'brian'``: also Brian2's report within a chunk).
    """

    #: registry name (``brianlearn run NAME``)
    name = None
    #: trial signals every run needs (name -> default value)
    trial_signal_defaults = {}
    #: trial signals computed from the others by `derive_signals` (not given by the user)
    derived_signals = ()
    #: seconds between checkpoint writes (the first chunk, then at most this often; the last
    #: chunk of a run, or of a run stopped by ``max_chunks``, is always written)
    checkpoint_interval = 30.0
    #: trials per compiled run when ``chunk_size`` is not given (shorter data are padded, so
    #: runs of different lengths share one binary)
    default_chunk_size = 200

    def __init__(self, device=None, seed=None, chunk_size=None, progress=False):
        self.device_config = resolve_device(device)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}.")
        if chunk_size is not None and (not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1):
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
        self.seed = seed
        self.chunk_size = chunk_size
        self.progress = progress
        self.state_ = None
        self._compiled = {}

    # ------------------------------------------------------------ to implement
    def data_shapes(self):
        """``name -> n_features`` of the per-trial data sets."""
        return {}

    def build_network(self, b):
        """Create the Brian2 objects with the `NetworkBuilder` ``b``."""
        raise NotImplementedError

    def initial_state(self, rng):
        """Initial values of the learned variables: ``'obj.var' -> array``."""
        return {}

    def config(self):
        """JSON-serialisable parameters that shape the generated network."""
        return {}

    def derive_signals(self, signals):
        """Trial signals computed from the given ones (``name -> (n_trials,) array``).

        This is how a hyper-parameter becomes a run argument rather than a literal in the
        code: e.g. ``step = lr * eta / beta`` per trial, so a new ``eta`` or ``beta`` runs the
        same binary. Names must be listed in `derived_signals`.
        """
        return {}

    # ------------------------------------------------------------ helpers
    @classmethod
    def label(cls):
        return cls.name or cls.__name__.lower()

    def config_dict(self, n_trials):
        return {"protocol": type(self).__module__ + "." + type(self).__qualname__, "n_trials": n_trials,
                "config": self.config(), "data": self.data_shapes(),
                "signals": sorted(self.trial_signal_defaults) + sorted(self.derived_signals),
                "threads": self.device_config.threads,
                "schedule": [(p.name, float(p.duration), {k: float(np.asarray(v)) for k, v in p.signals.items()})
                             for p in self.schedule.phases] + [float(self.schedule.dt)]}

    def config_hash(self):
        cfg = self.config_dict(None)
        return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def build_info_(self):
        """`BuildInfo` of the last standalone build (None for runtime)."""
        builds = [c.build_info for c in self._compiled.values() if c.build_info is not None]
        return builds[-1] if builds else None

    @property
    def objects_(self):
        """Brian2 objects of the last network built, by name (read monitors after a run).

        A network that replayed its cached build (`brianlearn.replay`: no Brian2 monitors but the
        per-trial records) has no Brian2 objects: they are created here, without running, so
        their equations and code can be read but not their values."""
        runs = [c for c in self._compiled.values() if c.builder is not None or c.replay is not None]
        if not runs:
            return {}
        if runs[-1].builder is None:
            runs[-1].generate()
        return {o.name: o for o in runs[-1].builder.objects}

    def reset_state(self):
        """Forget learned values: the next run starts from `initial_state`."""
        self.state_ = None

    def _check_data(self, data, signals, n_trials=None):
        shapes = self.data_shapes()
        unknown = set(data) - set(shapes)
        if unknown:
            raise ValueError(f"Unknown data set(s) {sorted(unknown)}; this protocol reads {sorted(shapes)}.")
        out, n = {}, None
        for name, k in shapes.items():
            if name not in data:
                raise ValueError(f"Missing data set '{name}' of shape (n_samples, {k}).")
            arr = check_array(name, data[name], ndim=2, shape=(None, k))
            if n is not None and arr.shape[0] != n:
                raise ValueError(f"All data sets need the same number of samples: '{name}' has {arr.shape[0]}, "
                                 f"expected {n}.")
            n = arr.shape[0]
            out[name] = arr
        if n is None:  # a protocol without per-trial data
            if n_trials is None:
                raise ValueError("This protocol reads no data: give n_trials.")
            n = n_trials
        elif n_trials is not None and n_trials != n:
            raise ValueError(f"n_trials={n_trials} but the data have {n} samples.")
        if n == 0:
            raise ValueError("The data sets are empty (0 samples).")
        sigs = {}
        for name, default in self.trial_signal_defaults.items():
            value = signals.get(name, default)
            arr = check_array(f"signal '{name}'", np.broadcast_to(np.asarray(value, dtype=float), (n,)), ndim=1)
            sigs[name] = arr
        unknown = set(signals) - set(self.trial_signal_defaults)
        if unknown:
            raise ValueError(f"Unknown trial signal(s) {sorted(unknown)}; known: {sorted(self.trial_signal_defaults)}.")
        derived = self.derive_signals(dict(sigs))
        if set(derived) != set(self.derived_signals):
            raise ValueError(f"{type(self).__name__}.derive_signals() returned {sorted(derived)}, expected "
                             f"{sorted(self.derived_signals)}.")
        for name, value in derived.items():
            sigs[name] = check_array(f"derived signal '{name}'", np.broadcast_to(np.asarray(value, dtype=float), (n,)),
                                     ndim=1)
        return out, sigs, n

    def _compiled_for(self, n_trials, data, signals, valid, state):
        key = (self.device_config, n_trials)
        if key not in self._compiled:
            self._compiled[key] = _CompiledRun(self, self.device_config, n_trials, data, signals, valid, state)
        return self._compiled[key]

    # ------------------------------------------------------------ the engine
    def run_trials(self, data=None, signals=None, checkpoint=None, resume=False, max_chunks=None,
                   n_trials=None):
        """Run one trial per sample, in compiled chunks, carrying the learned variables.

        Parameters
        ----------
        data : dict
            ``name -> (n_samples, n_features)`` arrays (see `data_shapes`).
        signals : dict, optional
            Per-trial signals, ``name -> (n_samples,)`` array or scalar.
        checkpoint : str, optional
            ``.npz`` file written after chunks (learned variables, records, progress): after the
            first, then at most every `checkpoint_interval` seconds, and after the last.
        resume : bool, optional
            Continue from ``checkpoint`` if it exists (it must come from the same protocol
            configuration and data size).
        max_chunks : int, optional
            Stop after this many chunks (the rest can be resumed from the checkpoint).
        n_trials : int, optional
            Number of trials for a protocol that reads no data.

        Returns
        -------
        RunResult
            ``records``: per-trial recorded variables ``'obj.var' -> (n_done, n)``;
            ``state``: learned variables; ``info``: chunks, samples done, build info.
        """
        data, signals, n = self._check_data(data or {}, signals or {}, n_trials)
        chunk = self.chunk_size or self.default_chunk_size
        n_chunks = math.ceil(n / chunk)
        state = self.state_ if self.state_ is not None else self.initial_state(np.random.default_rng(self.seed))
        state = {k: np.asarray(v, dtype=float) for k, v in state.items()}
        records, first_chunk = {}, 0
        fingerprint_ = fingerprint(data, signals) if checkpoint else None
        if resume and checkpoint and os.path.exists(checkpoint):
            state, records, first_chunk = self._load_checkpoint(checkpoint, n, chunk, fingerprint_)
        report = _Report(self.label(), n, n_chunks, bool(self.progress))
        done_chunks, saved_at = first_chunk, -math.inf
        stop = n_chunks if max_chunks is None else min(n_chunks, first_chunk + max_chunks)
        inputs = self._chunk_inputs(data, signals, n, chunk, range(first_chunk, stop))
        first = next(inputs, None)
        outputs = (o for o in ()) if first is None else self._compiled_for(chunk, *first[:3], state).run_chunks(
            itertools.chain([first], inputs), state)
        with contextlib.closing(outputs):  # (chunks sent ahead end with the loop)
            for c, (state, rec) in zip(range(first_chunk, stop), outputs):
                done_chunks, saved_at = self._chunk_done(c, chunk, n, stop, state, rec, records, checkpoint,
                                                         saved_at, fingerprint_, report)
        self.state_ = state
        done = min(done_chunks * chunk, n)
        return RunResult(records=records, state=dict(state),
                         info={"n_samples": n, "samples_done": done, "chunk_size": chunk,
                               "chunks_done": done_chunks, "n_chunks": n_chunks, "complete": done == n,
                               "build": self.build_info_})

    def _chunk_inputs(self, data, signals, n, chunk, chunks):
        """``(data, signals, valid, seed)`` of each chunk of ``chunks``, padded to ``chunk`` trials."""
        for c in chunks:
            lo, hi = c * chunk, min((c + 1) * chunk, n)
            valid = np.zeros(chunk, dtype=bool)
            valid[: hi - lo] = True
            cdata = {k: _pad(v[lo:hi], chunk) for k, v in data.items()}
            csig = {k: _pad(v[lo:hi], chunk) for k, v in signals.items()}
            yield cdata, csig, valid, self._chunk_seed(c)

    def _chunk_done(self, c, chunk, n, stop, state, rec, records, checkpoint, saved_at, fingerprint_, report):
        """Check and keep chunk ``c``'s results, checkpoint and report; ``(chunks done, saved at)``."""
        lo, hi = c * chunk, min((c + 1) * chunk, n)
        bad = [k for k, v in state.items() if not np.all(np.isfinite(v))]
        if bad:  # never a silent wrong result
            raise FloatingPointError(
                f"Learned variable(s) {bad} became NaN or infinite in chunk {c + 1} (samples {lo}-{hi}). "
                "Check the learning rate and the end-of-trial code: gates multiply, they do not stop "
                "an expression (e.g. a division by a '_ended' signal that is 0 at t = 0) from being evaluated.")
        for key, value in rec.items():
            records[key] = np.concatenate([records[key], value[: hi - lo]]) if key in records else value[: hi - lo]
        self.state_ = state
        if checkpoint and (c == stop - 1 or time.time() - saved_at >= self.checkpoint_interval):
            self._save_checkpoint(checkpoint, state, records, c + 1, n, chunk, fingerprint_)
            saved_at = time.time()
        report(c, hi)
        return c + 1, saved_at

    def _chunk_seed(self, chunk):
        """Seed of the simulation's random numbers in chunk ``chunk`` (reproducible with ``seed``)."""
        if self.seed is None:
            return int(np.random.randint(0, 2**31 - 1))
        return int(np.random.SeedSequence([self.seed, chunk]).generate_state(1)[0] % (2**31 - 1))

    # ------------------------------------------------------------ checkpoints
    @staticmethod
    def checkpoint_progress(path):
        """Chunks done according to the checkpoint ``path`` (0 if there is none)."""
        return int(checkpoint_meta(path).get("chunks_done", 0))

    def _save_checkpoint(self, path, state, records, chunks_done, n, chunk, data_fingerprint):
        arrays = {f"state/{k}": v for k, v in state.items()}
        arrays.update({f"records/{k}": v for k, v in records.items()})
        save_checkpoint(path, arrays, {"config_hash": self.config_hash(), "chunks_done": chunks_done,
                                       "n_samples": n, "chunk_size": chunk, "protocol": type(self).__name__,
                                       "data": data_fingerprint})

    def _load_checkpoint(self, path, n, chunk, data_fingerprint):
        meta = checkpoint_meta(path)
        if meta["config_hash"] != self.config_hash() or meta["n_samples"] != n or meta["chunk_size"] != chunk:
            raise ValueError(
                f"Checkpoint '{path}' comes from a different run (protocol {meta['protocol']}, "
                f"{meta['n_samples']} samples in chunks of {meta['chunk_size']}); it cannot be resumed "
                f"with {n} samples in chunks of {chunk} and this configuration.")
        if meta.get("data") != data_fingerprint:
            raise ValueError(f"Checkpoint '{path}' comes from a different run: its data or trial signals "
                             "differ from the ones given now; it cannot be resumed with them.")
        arrays, _ = load_checkpoint(path)
        state = {k[6:]: v for k, v in arrays.items() if k.startswith("state/")}
        records = {k[8:]: v for k, v in arrays.items() if k.startswith("records/")}
        return state, records, meta["chunks_done"]


def _pad(values, n):
    values = np.asarray(values, dtype=float)
    if len(values) == n:
        return values
    pad = np.zeros((n - len(values),) + values.shape[1:])
    return np.concatenate([values, pad])
