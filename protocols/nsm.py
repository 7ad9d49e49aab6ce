"""
Spiking non-negative similarity matching (Spiking NSM): Pehlevan (2019), "A spiking neural
network with local learning rules derived from nonnegative similarity matching",
arXiv:1902.01429 (ICASSP 2019).

Cost (inputs ``x_t``, outputs ``y_t >= 0``, ``T`` samples)::

    1/(2T^2) sum_{t,t'} (x_t.x_t' - y_t.y_t' - alpha^2)^2 + 2 lam1/T sum_t |y_t|_1 + lam2/T sum_t |y_t|^2

Online algorithm, per sample ``x``:

1. the spiking network (`spiking_elastic_net`, module `nsm_solver`) computes
   ``y = argmin_{y>=0} -2y.(Wx - alpha b) + y.My + 2 lam1 |y|_1 + lam2 |y|^2`` as spike count /
   duration: perfect integrate-and-fire neurons, threshold ``lam2 + M_ii``, current
   ``dI/dtau = -I + Wx - alpha b - lam1 - Mbar sigma``;
2. local learning rules with rate ``eta``::

       W    += eta (y x^T - W)          Hebbian, feed-forward
       Mbar += eta (y y^T - Mbar)       anti-Hebbian, lateral (off-diagonal)
       M_ii += eta (y_i^2 - M_ii)       homeostatic: moves the firing threshold lam2 + M_ii
       b    += eta (alpha y - b)

Both steps run inside one compiled Brian2 simulation (`NSMNetwork`): one trial per sample, the
feed-forward drive ``Wx`` summed once per trial by a ``(summed)`` variable on the trial clock,
lateral inhibition event-driven (``on_pre: I_post -= w``), the updates in end-of-trial
``run_regularly`` operations scaled by a per-trial learning-rate signal. `SpikingNSM` is the
scikit-learn-style estimator; `AnalogNSM` is the non-spiking NumPy reference (the same rules,
``y`` from the analog network's dynamics).

**Time unit**: the paper's time is dimensionless; here one unit is **1 ms** of Brian2 time
(``duration=500, dt=0.01`` = the paper's tau = 500, dtau = 0.01).
"""

import hashlib
import json
import os

import numpy as np
from brian2 import NeuronGroup, Synapses

from brianlearn.models.perfect_if import RESETS
from brianlearn.protocol import Protocol, check_array
from brianlearn.schedule import Phase, Schedule

from .nsm_solver import (TIME_UNIT, as_time, elastic_net_objective, elastic_net_reference, lateral_synapse,
                         solver_check_problems, solver_neuron_model, spiking_elastic_net)

__all__ = ["spiking_elastic_net", "elastic_net_reference", "elastic_net_objective", "solver_check_problems",
           "SpikingNSM", "AnalogNSM", "NSMNetwork", "nsm_cost", "paper_eta", "experiment", "TIME_UNIT"]


def paper_eta(n):
    """The paper's learning-rate schedule for sample ``n`` (0-based; array or int): 1e-3 for the
    first 10^4 samples, 1e-5 for the next 9x10^4, then 0.5e-5 (Pehlevan 2019, section 4.2)."""
    n = np.asarray(n)
    return np.where(n < 10_000, 1e-3, np.where(n < 100_000, 1e-5, 0.5e-5))


def _eta_values(eta, start, n):
    idx = np.arange(start, start + n)
    if isinstance(eta, str):
        if eta != "paper":
            raise ValueError(f"eta must be a number, a callable, an array or 'paper', got {eta!r}.")
        return paper_eta(idx).astype(float)
    if callable(eta):
        vals = np.asarray(eta(idx), dtype=float)
        vals = np.broadcast_to(vals, (n,)).copy()
    elif np.ndim(eta) == 0:
        vals = np.full(n, float(eta))
    else:
        arr = np.asarray(eta, dtype=float)
        vals = arr[np.minimum(idx, len(arr) - 1)]
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or np.any(vals > 1):
        raise ValueError("eta must be finite and in [0, 1] for every sample.")
    return vals


def nsm_cost(X, Y, alpha=0.0, lam1=0.0, lam2=0.0):
    """The NSM cost of outputs ``Y`` (T, k) for inputs ``X`` (T, n) (eq. 1 of the paper)::

        1/(2T^2) |X X^T - Y Y^T - alpha^2|_F^2 + 2 lam1/T sum|Y| + lam2/T |Y|_F^2
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    T = len(X)
    D = X @ X.T - Y @ Y.T - alpha ** 2
    return float(np.sum(D * D) / (2 * T * T) + 2 * lam1 / T * np.sum(np.abs(Y)) + lam2 / T * np.sum(Y * Y))


def _init_weights(init, k, n, rng, W_init=None):
    if W_init is not None:
        W = check_array("W_init", W_init, ndim=2, shape=(k, n))
        return W.copy()
    if init == "uniform":  # MNIST in the paper: U[0, 1/sqrt(k)] (1/14 for k = 196)
        return rng.uniform(0, 1 / np.sqrt(k), (k, n))
    if init == "normal":  # whitened patches: N(0, 1/k) (1/196 in the paper)
        return rng.normal(0, 1 / np.sqrt(k), (k, n))
    raise ValueError(f"init must be 'uniform' or 'normal', got {init!r}.")


# ====================================================================== the compiled network
def nsm_neuron_model(reset="subtract", lam2=0.0):
    """The output neuron: ``models.perfect_if`` with the homeostatic threshold ``lam2 + Mii``,
    the bias ``b`` (``bb``), the end-of-trial output ``y`` and the feed-forward drive ``Wx``
    (linked to the trial-clock group that sums it)."""
    return solver_neuron_model(reset, extra="Mii : 1\nbb : 1\ntheta = lam2 + Mii : 1\nWx : 1 (linked)",
                               lam2=float(lam2))


class NSMNetwork(Protocol):
    """The Spiking NSM network as a `brianlearn.Protocol` (one trial per sample).

    Objects: ``nsm_in`` (``n_features`` placeholders, the inputs ``x`` are the data set ``'x'``),
    ``nsm_drive`` (trial clock; ``Wx`` summed once per trial by ``nsm_ff``), ``nsm_out`` (the
    perfect-IF neurons), ``nsm_lat`` (lateral ``Mbar``, all to all, diagonal kept at 0).
    Learned: ``nsm_ff.w`` (``W``, pre-major: ``w[i*k + j] = W[j, i]``), ``nsm_lat.w`` (``Mbar``),
    ``nsm_out.Mii``, ``nsm_out.bb``. Per-trial signal ``lr`` (the learning rate; 0 = no learning).

    Parameters
    ----------
    n_features, n_components : int
        Input dimension and number of output neurons ``k`` (defaults: 64 and 64, digits).
    alpha, lam1, lam2 : float
    duration, dt : float or Quantity
        Per-sample simulation time and step, paper units (1 unit = 1 ms).
    reset : {'subtract', 'zero'}
    **kwds
        `Protocol` arguments (``device``, ``seed``, ``chunk_size``, ``progress``).

    In the first time step of a trial, in this order: end-of-trial output ``y = count/duration``
    and updates of the previous trial (``when='start'``), recording, then (``when='groups'``)
    the summed ``Wx`` with the new ``W`` and ``x``, then ``I = Wx - alpha b - lam1``, ``V = 0``.
    """

    name = "nsm"
    #: the paper's learning rate of the first 10^4 samples (`SpikingNSM` always passes its own)
    trial_signal_defaults = {"lr": 1e-3}

    def __init__(self, n_features=64, n_components=64, alpha=0.0, lam1=0.0, lam2=0.0, duration=500, dt=0.01,
                 reset="subtract", **kwds):
        super().__init__(**kwds)
        self.n_features, self.k = int(n_features), int(n_components)
        self.alpha, self.lam1, self.lam2 = float(alpha), float(lam1), float(lam2)
        self.reset = reset
        self.neuron_model = nsm_neuron_model(reset, lam2)
        self.duration, self.dt = as_time("duration", duration), as_time("dt", dt)
        self.schedule = Schedule([Phase("solve", self.duration)], dt=self.dt)
        self.init_state = None

    def config(self):
        return {"n_features": self.n_features, "k": self.k, "alpha": self.alpha, "lam1": self.lam1,
                "lam2": self.lam2, "reset": self.reset}

    def data_shapes(self):
        return {"x": self.n_features}

    def initial_state(self, rng):
        if self.init_state is not None:  # set by SpikingNSM
            return dict(self.init_state)
        # the paper's MNIST initialisation: W ~ U[0, 1/sqrt(k)], M = I, b = 0
        k, n = self.k, self.n_features
        W = rng.uniform(0, 1 / np.sqrt(k), (k, n))
        return {"nsm_ff.w": W.T.ravel(), "nsm_lat.w": np.zeros(k * k), "nsm_out.Mii": np.ones(k),
                "nsm_out.bb": np.zeros(k)}

    def build_network(self, b):
        from brian2 import linked_var

        n, k = self.n_features, self.k
        T = float(self.duration / TIME_UNIT)
        b.data("x")
        b.data("x", ended=True)
        b.trial_signal("lr", ended=True)
        inp = NeuronGroup(n, "x_in : 1", clock=b.trial_clock, name="nsm_in")
        drive = NeuronGroup(k, "Wx : 1\ny : 1 (linked)", clock=b.trial_clock, name="nsm_drive", order=-10)
        out = self.neuron_model.make_group(k, "nsm_out", clock=b.clock)
        out.Wx = linked_var(drive, "Wx")
        drive.y = linked_var(out, "y")
        # feed-forward: Wx summed once per trial (the updater runs on the target's trial clock)
        ff = Synapses(inp, drive, "w : 1\nWx_post = w * data_x(t, i) : 1 (summed)", name="nsm_ff",
                      clock=b.trial_clock)
        ff.connect()
        lat = lateral_synapse.make_synapses(out, out, "nsm_lat", clock=b.clock)
        b.add(inp, drive, out, ff, lat)
        # end of trial: output, then the local learning rules scaled by the learning rate
        b.on_trial_end(out, f"y = count / {T!r}", order=0)
        gate = "trial_ended(t) * trial_lr_ended(t)"
        b.on_trial_end(out, f"Mii += y*y - Mii\nbb += {self.alpha!r}*y - bb", gate=gate, order=1)
        b.on_trial_end(lat, "w += int(i != j) * (y_pre*y_post - w)", gate=gate, order=1)
        b.on_trial_end(ff, "w += y_post * data_x_ended(t, i) - w", gate=gate, order=1)
        # start of trial, after the summed Wx of this trial's x (when='groups', order -11)
        op = out.run_regularly(f"bias = Wx - {self.alpha!r}*bb - {self.lam1!r}\nI = bias\nv = 0\ncount = 0",
                               clock=b.trial_clock, when="groups", order=-5, name="nsm_out_trial_init")
        b.add(op)
        for obj, var, size in ((ff, "w", n * k), (lat, "w", k * k), (out, "Mii", k), (out, "bb", k)):
            b.learn(obj, var, size=size)
        b.record(out, "y")

    @classmethod
    def experiment(cls, out="figures", quick=True, seed=0, device=None):
        return experiment(out=out, quick=quick, seed=seed, device=device)

    @classmethod
    def example_data(cls, quick=True, seed=0):
        from brianlearn.datasets.images import load_digits_data

        return {"x": load_digits_data()[: 200 if quick else None]}


# ====================================================================== estimators
class _NSMBase:
    """Shared parts of `SpikingNSM` and `AnalogNSM`."""

    def _check_params(self):
        if not isinstance(self.n_components, (int, np.integer)) or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}.")
        for name in ("alpha", "lam1", "lam2"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}.")
        _eta_values(self.eta, 0, 1)

    def _check_X(self, X, name="X"):
        X = check_array(name, X, ndim=2)
        if len(X) == 0:
            raise ValueError(f"{name} is empty (0 samples).")
        if self.W_ is not None and X.shape[1] != self.W_.shape[1]:
            raise ValueError(f"{name} must have {self.W_.shape[1]} features (as in fit), got {X.shape[1]}.")
        return X

    def _init(self, n_features):
        rng = np.random.default_rng(self.seed)
        k = self.n_components
        self.W_ = _init_weights(self.init, k, n_features, rng, self.W_init)
        self.M_ = np.eye(k)
        self.b_ = np.zeros(k)
        self.n_samples_seen_ = 0
        self.history_ = []

    def fit(self, X, n_iter=None, X_val="auto", eval_every=None, shuffle=True, checkpoint=None, resume=False,
            max_chunks=None):
        """Learn from ``X`` (n_samples, n_features), starting from the initial weights.

        Parameters
        ----------
        X : array (n_samples, n_features)
        n_iter : int, optional
            Samples presented (default ``len(X)``); each a randomly chosen row of ``X`` (with
            ``shuffle``, as in the paper) or the rows in order, cycling.
        X_val : array or 'auto' or None
            Held-out samples for the learning history ``history_`` (NSM cost of their outputs,
            evaluated about 10 times per fit). ``'auto'`` (default): the last
            ``min(100, len(X) // 10)`` rows of ``X`` are held out (not trained on) when ``X``
            has at least 50 rows; ``None``: no history.
        eval_every : int, optional
            Samples between evaluations of the held-out cost (default: about 10 per fit).
        checkpoint : str, optional
            ``.npz`` file that receives the weights and the history after every evaluation block
            (``<checkpoint>.run.npz``: after every compiled chunk within a block).
        resume : bool
            Continue from ``checkpoint`` if it exists; the fit must be the same (data, arguments,
            ``seed``), otherwise a `ValueError`.
        max_chunks : int, optional
            Stop after this many compiled chunks (``complete_`` is then False; resume later).
        """
        X = check_array("X", X, ndim=2)
        if isinstance(X_val, str):
            if X_val != "auto":
                raise ValueError(f"X_val must be an array, 'auto' or None, got {X_val!r}.")
            n_val = min(100, len(X) // 10) if len(X) >= 50 else 0
            X, X_val = (X[:-n_val], X[-n_val:]) if n_val else (X, None)
        self.W_ = None
        self._check_params()
        self._init(X.shape[1])
        X = self._check_X(X)
        return self._train(X, n_iter, X_val, eval_every, shuffle, checkpoint, resume, max_chunks)

    def partial_fit(self, X, X_val=None, eval_every=None):
        """Learn from the rows of ``X`` in order, continuing from the current weights."""
        X = check_array("X", X, ndim=2)
        if getattr(self, "W_", None) is None:
            self._check_params()
            self._init(X.shape[1])
        X = self._check_X(X)
        return self._train(X, len(X), X_val, eval_every, shuffle=False)

    def _train(self, X, n_iter, X_val, eval_every, shuffle, checkpoint=None, resume=False, max_chunks=None):
        n_iter = len(X) if n_iter is None else int(n_iter)
        if n_iter < 1:
            raise ValueError(f"n_iter must be a positive integer, got {n_iter!r}.")
        rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        order = rng.integers(0, len(X), n_iter) if shuffle else np.arange(n_iter) % len(X)
        if X_val is not None:
            X_val = self._check_X(X_val, "X_val")
        if eval_every is None:
            eval_every = max(1, int(np.ceil(n_iter / 10)))
        if max_chunks is not None and (not isinstance(max_chunks, (int, np.integer)) or max_chunks < 1):
            raise ValueError(f"max_chunks must be a positive integer or None, got {max_chunks!r}.")
        fingerprint = self._fit_fingerprint(X, order, X_val, eval_every) if checkpoint else None
        done = 0
        if resume and checkpoint and os.path.exists(checkpoint):
            done = self._load_fit_checkpoint(checkpoint, fingerprint)
        elif X_val is not None and self.n_samples_seen_ == 0:
            self._evaluate(X_val)
        block_checkpoint = checkpoint + ".run.npz" if checkpoint else None
        budget = [max_chunks]
        self.complete_ = False
        while done < n_iter:
            m = min(eval_every, n_iter - done) if X_val is not None else n_iter - done
            idx = order[done: done + m]
            if not self._learn(X[idx], _eta_values(self.eta, self.n_samples_seen_, m),
                               checkpoint=block_checkpoint, resume=resume, budget=budget):
                return self  # stopped by max_chunks: resume from the checkpoints
            done += m
            self.n_samples_seen_ += m
            if X_val is not None:
                self._evaluate(X_val)
            if checkpoint:
                self._save_fit_checkpoint(checkpoint, fingerprint, done)
                if os.path.exists(block_checkpoint):
                    os.remove(block_checkpoint)
        self.complete_ = True
        return self

    def _fit_fingerprint(self, X, order, X_val, eval_every):
        h = hashlib.sha256()
        for arr in (X, order, np.zeros(0) if X_val is None else X_val):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        h.update(repr((type(self).__name__, self.n_components, self.alpha, self.lam1, self.lam2, self.eta,
                       getattr(self, "duration", None), getattr(self, "dt", None), self.seed, eval_every,
                       self.n_samples_seen_)).encode())
        return h.hexdigest()

    def _save_fit_checkpoint(self, path, fingerprint, done):
        tmp = path + ".tmp.npz"
        np.savez(tmp, W=self.W_, M=self.M_, b=self.b_, history=np.array(self.history_, dtype=float).reshape(-1, 2),
                 meta=json.dumps({"fingerprint": fingerprint, "done": done, "seen": self.n_samples_seen_}))
        os.replace(tmp, path)

    def _load_fit_checkpoint(self, path, fingerprint):
        with np.load(path) as f:
            meta = json.loads(str(f["meta"]))
            if meta["fingerprint"] != fingerprint:
                raise ValueError(f"Checkpoint '{path}' comes from a different fit (other data, arguments or "
                                 "seed); it cannot be resumed with these.")
            self.W_, self.M_, self.b_ = f["W"].copy(), f["M"].copy(), f["b"].copy()
            self.history_ = [(int(n), float(c)) for n, c in f["history"]]
        self.n_samples_seen_ = meta["seen"]
        return meta["done"]

    def _evaluate(self, X_val):
        Y = self.transform(X_val)
        c = nsm_cost(X_val, Y, self.alpha, self.lam1, self.lam2)
        self.history_.append((self.n_samples_seen_, c))
        return c

    def cost(self, X):
        """NSM cost of the outputs for ``X`` (no learning)."""
        return nsm_cost(X, self.transform(X), self.alpha, self.lam1, self.lam2)

    @property
    def history(self):
        """Learning history as an array of ``(samples seen, held-out NSM cost)`` rows."""
        return np.array(self.history_, dtype=float).reshape(-1, 2)


class SpikingNSM(_NSMBase):
    """Spiking non-negative similarity matching (Pehlevan 2019, arXiv:1902.01429).

    Per sample, the spiking network computes the output ``y`` (spike count / ``duration``) and
    then applies the local rules (Hebbian ``W``, anti-Hebbian ``Mbar``, homeostatic threshold
    ``M_ii``, bias ``b``) — all inside one compiled Brian2 simulation (`NSMNetwork`).

    Parameters
    ----------
    n_components : int
        Number of output neurons ``k``.
    alpha, lam1, lam2 : float
        Cost parameters (>= 0).
    eta : float, array, callable or 'paper'
        Learning rate per sample (callable of the sample index; array indexed by it). Default
        ``'paper'``: 1e-3 for 10^4 samples, 1e-5 for 9x10^4, then 0.5e-5.
    duration, dt : float or Quantity
        Simulated time per sample and time step, paper units (1 unit = 1 ms); default the
        paper's 500 and 0.01.
    reset : {'subtract', 'zero'}
    init : {'uniform', 'normal'}
        Initial ``W``: ``U[0, 1/sqrt(k)]`` (the paper's MNIST) or ``N(0, 1/k)`` (patches). ``M``
        starts at the identity, ``b`` at 0.
    W_init : array (k, n_features), optional
        Explicit initial ``W``.
    device : str, optional
    seed : int, optional
    chunk_size : int
        Samples per compiled run (one binary serves every run of this size).

    Attributes
    ----------
    W_ : (k, n_features); M_ : (k, k) (diagonal = thresholds - lam2); b_ : (k,);
    history_ : list of (samples seen, held-out NSM cost); n_samples_seen_ : int
    """

    def __init__(self, n_components, alpha=0.0, lam1=0.0, lam2=0.0, eta="paper", duration=500, dt=0.01,
                 reset="subtract", init="uniform", W_init=None, device=None, seed=0, chunk_size=100,
                 progress=False):
        self.n_components, self.alpha, self.lam1, self.lam2 = n_components, float(alpha), float(lam1), float(lam2)
        self.eta, self.reset, self.init, self.W_init = eta, reset, init, W_init
        self.duration, self.dt = as_time("duration", duration), as_time("dt", dt)
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {sorted(RESETS)}, got {reset!r}.")
        self.device, self.seed, self.chunk_size, self.progress = device, seed, chunk_size, progress
        self.W_ = self.M_ = self.b_ = None
        self.history_ = []
        self._net = None
        self._check_params()

    def _network(self):
        n = self.W_.shape[1]
        if self._net is None or self._net.n_features != n:
            self._net = NSMNetwork(n, self.n_components, self.alpha, self.lam1, self.lam2, self.duration,
                                   self.dt, self.reset, device=self.device, seed=self.seed,
                                   chunk_size=self.chunk_size, progress=self.progress)
        return self._net

    def _state(self):
        k = self.n_components
        return {"nsm_ff.w": self.W_.T.ravel().copy(), "nsm_lat.w": (self.M_ * (1 - np.eye(k))).ravel().copy(),
                "nsm_out.Mii": np.diag(self.M_).copy(), "nsm_out.bb": self.b_.copy()}

    def _set_state(self, state):
        k, n = self.n_components, self.W_.shape[1]
        self.W_ = state["nsm_ff.w"].reshape(n, k).T.copy()
        M = state["nsm_lat.w"].reshape(k, k).copy()
        M = 0.5 * (M + M.T)  # symmetric up to rounding (the rule keeps it so)
        M[np.diag_indices(k)] = state["nsm_out.Mii"]
        self.M_ = M
        self.b_ = state["nsm_out.bb"].copy()

    def _run(self, X, lr, **run_kw):
        net = self._network()
        net.init_state = self._state()
        net.state_ = self._state()
        res = net.run_trials({"x": X}, signals={"lr": lr}, **run_kw)
        return res

    def _learn(self, X, etas, checkpoint=None, resume=False, budget=(None,)):
        """One block of learning; False if it stopped at the chunk budget (``budget[0]``)."""
        before = Protocol.checkpoint_progress(checkpoint) if resume else 0
        res = self._run(X, etas, checkpoint=checkpoint, resume=resume, max_chunks=budget[0])
        self._set_state(res.state)
        if budget[0] is not None:
            budget[0] -= res.info["chunks_done"] - before
        if not res.info["complete"]:
            return False
        self.last_outputs_ = res.records["nsm_out.y"]
        return True

    def transform(self, X):
        """Outputs ``y`` (n_samples, k): spike counts / duration, with the current weights (no learning)."""
        if self.W_ is None:
            raise ValueError("This SpikingNSM is not fitted yet: call fit or partial_fit first.")
        X = self._check_X(X)
        return self._run(X, 0.0).records["nsm_out.y"]


class AnalogNSM(_NSMBase):
    """Non-spiking reference: the analog NSM network in NumPy with the same rules (Pehlevan 2019,
    section 2).

    The output is the fixed point of the analog dynamics (eq. 6-7)::

        du/dtau = -u + Wx - alpha b - Mbar y,   y_i = max(u_i - lam1, 0) / (lam2 + M_ii)

    integrated by Euler steps ``dt`` up to ``duration`` or until ``|du| < tol``
    (``solver='dynamics'``), or computed by the convex solver (``solver='exact'``). Same
    parameters, initialisation (same ``seed`` gives the same ``W``) and sample order as `SpikingNSM`.
    """

    def __init__(self, n_components, alpha=0.0, lam1=0.0, lam2=0.0, eta="paper", init="uniform", W_init=None,
                 seed=0, solver="dynamics", duration=500, dt=0.1, tol=1e-8):
        self.n_components, self.alpha, self.lam1, self.lam2 = n_components, float(alpha), float(lam1), float(lam2)
        self.eta, self.init, self.W_init, self.seed = eta, init, W_init, seed
        if solver not in ("dynamics", "exact"):
            raise ValueError(f"solver must be 'dynamics' or 'exact', got {solver!r}.")
        self.solver, self.duration, self.dt, self.tol = solver, float(duration), float(dt), float(tol)
        self.W_ = self.M_ = self.b_ = None
        self.history_ = []
        self._check_params()

    def _output(self, x):
        k = self.n_components
        c = self.W_ @ x - self.alpha * self.b_
        if self.solver == "exact":
            return elastic_net_reference(c, self.M_, np.zeros(k), 0.0, self.lam1, self.lam2)
        Mbar = self.M_ - np.diag(np.diag(self.M_))
        gain = 1.0 / (self.lam2 + np.diag(self.M_))
        u = c.copy()
        y = np.maximum(u - self.lam1, 0) * gain
        for _ in range(int(round(self.duration / self.dt))):
            du = -u + c - Mbar @ y
            u += self.dt * du
            y = np.maximum(u - self.lam1, 0) * gain
            if np.max(np.abs(du)) < self.tol:
                break
        return y

    def _learn(self, X, etas, checkpoint=None, resume=False, budget=None):
        """One block of learning (NumPy: checkpoints are written per block only)."""
        Y = np.empty((len(X), self.n_components))
        for t, (x, eta) in enumerate(zip(X, etas)):
            y = self._output(x)
            Y[t] = y
            self.W_ += eta * (np.outer(y, x) - self.W_)
            self.M_ += eta * (np.outer(y, y) - self.M_)  # off-diagonal: anti-Hebbian; diagonal: homeostatic
            self.b_ += eta * (self.alpha * y - self.b_)
        self.last_outputs_ = Y
        return True

    def transform(self, X):
        """Outputs ``y`` (n_samples, k) of the analog network (no learning)."""
        if self.W_ is None:
            raise ValueError("This AnalogNSM is not fitted yet: call fit or partial_fit first.")
        X = self._check_X(X)
        return np.array([self._output(x) for x in X])


# ====================================================================== experiments
def experiment(out="figures", quick=True, seed=0, device=None):
    """Regenerate every NSM figure and results row (``brianlearn run nsm``).

    Solver check (Fig. 2), spiking vs analog training, sparse features on digits and whitened
    patches (Fig. 3), manifold tiling (Fig. 4). ``quick``: reduced sizes (minutes).
    """
    from . import nsm_experiments as ex

    results = {"solver_check": ex.solver_check(out=out, quick=quick, seed=seed, device=device)}
    for name in ("training_comparison", "sparse_features", "manifold_tiling"):
        fn = getattr(ex, name, None)
        if fn is not None:
            results[name] = fn(out=out, quick=quick, seed=seed, device=device)
    return results
