"""What the scikit-learn estimators of the learning systems share.

- `CompiledNetworkMixin`: pickling without the compiled network;
- `OnlineTrainingMixin`: the online training loop of ``fit`` / ``partial_fit`` — samples in
  blocks of ``eval_every``, a held-out evaluation after each block into ``history_``, and
  checkpoints of the learned arrays and the history that a later ``fit(..., resume=True)``
  continues from (only the same fit: data, parameters and starting weights).
"""

import math
import os

import numpy as np

from .checkpoint import fingerprint, load_checkpoint, save_checkpoint
from .protocol import Protocol
from .validation import check_int

__all__ = ["CompiledNetworkMixin", "OnlineTrainingMixin", "compiled_block"]


class CompiledNetworkMixin:
    """For estimators that keep their compiled network (a `Protocol`) in ``self._net``.

    Brian2 objects do not pickle: a pickled estimator keeps its learned arrays and leaves the
    network out; the estimator rebuilds it when it next needs one (same build folder, no
    recompilation). Put it before scikit-learn's mixins and ``BaseEstimator`` in the bases.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_net", None)
        return state

    @property
    def build_info_(self):
        """`BuildInfo` of the network's last build on a standalone device (folder, whether it
        compiled, seconds), or None (runtime device, or no network built yet)."""
        net = getattr(self, "_net", None)
        return None if net is None else net.build_info_

    def _compiled_network(self, factory):
        """The estimator's network: ``factory()`` again whenever a scalar parameter (or
        ``n_features_in_``) changed since it was built, e.g. by ``set_params(duration=...)``."""
        params = tuple((k, v) for k, v in sorted(self.get_params().items())
                       if not callable(v) and np.ndim(v) == 0 and not hasattr(v, "shape"))
        key = (getattr(self, "n_features_in_", None), repr(params))
        if getattr(self, "_net", None) is None or getattr(self, "_net_key", None) != key:
            self._net, self._net_key = factory(), key
        return self._net


class OnlineTrainingMixin:
    """The online training loop shared by the estimators that learn sample by sample.

    A subclass defines

    - ``_learned_attributes``: names of the fitted arrays (e.g. ``('feedforward_', ...)``);
    - ``_learn(X, checkpoint, resume, budget)``: learn from the rows of ``X`` in order (one
      block), False if it stopped at the chunk budget ``budget[0]`` (see `compiled_block`);
    - ``_evaluate(X_val)``: append the held-out measures of the current weights to
      ``history_`` (a dict of 1-D arrays, ``'samples_seen'`` first);
    - ``_validate(X, name)``; optionally ``_fingerprint_arrays(n)`` (per-sample values the fit
      depends on, e.g. learning rates) and ``_fingerprint_exclude`` (parameters that are not
      plain values, or that do not change the result, such as ``device``).

    It needs ``eval_every``, ``n_samples_seen_`` and ``history_``.
    """

    _learned_attributes = ()
    _fingerprint_exclude = ("device", "progress")
    #: rows that ``fit(X_val='auto')`` holds out: ``min(this, len(X) // 10)`` when ``len(X) >= 50``
    _auto_validation = 100

    def _fit_online(self, X, X_val, checkpoint, resume, max_chunks):
        """``fit``: validate, hold out ``X_val='auto'`` rows, start from the initial weights and
        present ``n_iter`` rows (drawn at random with ``shuffle``, else in order, cycling)."""
        X = self._validate(X, reset=True)
        self._check_params()
        if isinstance(X_val, str):
            if X_val != "auto":
                raise ValueError(f"X_val must be an array, 'auto' or None, got {X_val!r}.")
            n_val = min(self._auto_validation, len(X) // 10) if len(X) >= 50 else 0
            X, X_val = (X[:-n_val], X[-n_val:]) if n_val else (X, None)
        if max_chunks is not None:
            check_int("max_chunks", max_chunks)
        self._init(X.shape[1])
        n_iter = len(X) if self.n_iter is None else self.n_iter
        rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        order = rng.integers(0, len(X), n_iter) if self.shuffle else np.arange(n_iter) % len(X)
        return self._train(X[order], X_val, checkpoint, resume, max_chunks)

    def _partial_fit_online(self, X, X_val):
        """``partial_fit``: the rows of ``X`` in order, from the current weights (initial ones at first)."""
        first = not hasattr(self, self._learned_attributes[0])
        X = self._validate(X, reset=first)
        if first:
            self._check_params()
            self._init(X.shape[1])
        return self._train(X, X_val)

    def _train(self, X, X_val, checkpoint=None, resume=False, max_chunks=None):
        """Present the rows of ``X`` in order, in blocks of ``eval_every`` samples."""
        n_iter = len(X)
        if X_val is not None:
            X_val = self._validate(X_val, "X_val")
        eval_every = self.eval_every or max(1, int(math.ceil(n_iter / 10)))
        fp = self._fit_fingerprint(X, X_val, eval_every) if checkpoint else None
        done = 0
        if resume and checkpoint and os.path.exists(checkpoint):
            done = self._load_fit_checkpoint(checkpoint, fp)
        elif X_val is not None and self.n_samples_seen_ == 0:
            self._evaluate(X_val)
        block_checkpoint = checkpoint + ".run.npz" if checkpoint else None
        budget = [max_chunks]
        self.complete_ = False
        while done < n_iter:
            m = min(eval_every, n_iter - done) if X_val is not None else n_iter - done
            if not self._learn(X[done: done + m], checkpoint=block_checkpoint, resume=resume, budget=budget):
                return self  # stopped by max_chunks: resume from the checkpoints
            done += m
            self.n_samples_seen_ += m
            if X_val is not None:
                self._evaluate(X_val)
            if checkpoint:
                self._save_fit_checkpoint(checkpoint, fp, done)
                if os.path.exists(block_checkpoint):
                    os.remove(block_checkpoint)
        self.complete_ = True
        return self

    def _fingerprint_arrays(self, n):
        return {}

    def _fit_fingerprint(self, X, X_val, eval_every):
        params = {k: v for k, v in self.get_params().items() if k not in self._fingerprint_exclude}
        arrays = {"X": X, "X_val": np.zeros(0) if X_val is None else X_val}
        arrays.update(self._fingerprint_arrays(len(X)))
        arrays.update({f"start/{a}": getattr(self, a) for a in self._learned_attributes})
        return fingerprint(arrays, extra={"estimator": type(self).__name__, "params": params,
                                          "eval_every": eval_every, "seen": self.n_samples_seen_})

    def _save_fit_checkpoint(self, path, fp, done):
        arrays = {f"fit/{a}": getattr(self, a) for a in self._learned_attributes}
        arrays.update({f"history/{k}": v for k, v in self.history_.items()})
        save_checkpoint(path, arrays, {"fingerprint": fp, "done": done, "seen": self.n_samples_seen_,
                                       "history": list(self.history_)})

    def _load_fit_checkpoint(self, path, fp):
        arrays, meta = load_checkpoint(path, expect={"fingerprint": fp})
        for a in self._learned_attributes:
            setattr(self, a, arrays[f"fit/{a}"])
        self.history_ = {k: arrays[f"history/{k}"] for k in meta["history"]}
        self.history_["samples_seen"] = self.history_["samples_seen"].astype(int)
        self.n_samples_seen_ = meta["seen"]
        return meta["done"]

    def _append_history(self, **values):
        """Add one evaluation (``samples_seen`` = ``n_samples_seen_``) to ``history_``."""
        values = {"samples_seen": self.n_samples_seen_, **values}
        self.history_ = {k: np.append(self.history_.get(k, np.zeros(0, dtype=int if k == "samples_seen" else float)),
                                      v) for k, v in values.items()}


def compiled_block(run, checkpoint, resume, budget):
    """Run one block of learning on a compiled network, counting chunks against ``budget[0]``.

    ``run(checkpoint=..., resume=..., max_chunks=...)`` is the estimator's call of
    `Protocol.run_trials`; returns its `RunResult` (``res.info['complete']`` is False if the
    block stopped at the budget).
    """
    before = Protocol.checkpoint_progress(checkpoint) if resume and checkpoint else 0
    res = run(checkpoint=checkpoint, resume=resume, max_chunks=budget[0])
    if budget[0] is not None:
        budget[0] -= res.info["chunks_done"] - before
    return res
