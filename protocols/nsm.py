"""
Spiking non-negative similarity matching (Spiking NSM): Pehlevan (2019), "A spiking neural
network with local learning rules derived from nonnegative similarity matching",
arXiv:1902.01429 (ICASSP 2019).

Cost (inputs ``x_t``, outputs ``y_t >= 0``, ``T`` samples; `brianlearn.measures.nsm_cost`)::

    1/(2T^2) sum_{t,t'} (x_t.x_t' - y_t.y_t' - alpha^2)^2 + 2 lam1/T sum_t |y_t|_1 + lam2/T sum_t |y_t|^2

Online algorithm, per sample ``x``:

1. the spiking network (`spiking_elastic_net`, module `nsm_solver`) computes
   ``y = argmin_{y>=0} -2y.(Wx - alpha b) + y.My + 2 lam1 |y|_1 + lam2 |y|^2`` as spike count /
   duration: perfect integrate-and-fire neurons (model ``nsm_neuron``), threshold
   ``lam2 + M_ii``, current ``dI/dtau = -I + Wx - alpha b - lam1 - Mbar sigma``;
2. local learning rules with rate ``eta``::

       W    += eta (y x^T - W)          Hebbian, feed-forward (model nsm_feedforward)
       Mbar += eta (y y^T - Mbar)       anti-Hebbian, lateral, off-diagonal (model nsm_lateral)
       M_ii += eta (y_i^2 - M_ii)       homeostatic: moves the firing threshold lam2 + M_ii
       b    += eta (alpha y - b)

Both steps run inside one compiled Brian2 simulation (`NSMNetwork`): one trial per sample, the
feed-forward drive ``Wx`` summed once per trial by a ``(summed)`` variable on the trial clock,
lateral inhibition event-driven (``on_pre: I_post -= w``), the updates at the end of every trial
scaled by a per-trial learning-rate signal. `SpikingNSM` is the scikit-learn estimator;
`AnalogNSM` is the non-spiking NumPy reference (the same rules, ``y`` from the analog network's
dynamics).

**Time unit**: the paper's time is dimensionless; here one unit is **1 ms** of Brian2 time
(``duration=500, dt=0.01`` = the paper's tau = 500, dtau = 0.01).
"""


import numpy as np
from brian2 import NeuronGroup, linked_var
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from brianlearn.estimator import CompiledNetworkMixin, OnlineTrainingMixin, compiled_block
from brianlearn.measures import nsm_cost
from brianlearn.models import get_model
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule
from brianlearn.validation import TIME_UNIT, as_time, check_array, check_int, check_scalar

from .nsm_solver import (check_reset, elastic_net_objective, elastic_net_reference, solver_check_problems,
                         solver_neuron, spiking_elastic_net)

__all__ = ["spiking_elastic_net", "elastic_net_reference", "elastic_net_objective", "solver_check_problems",
           "SpikingNSM", "AnalogNSM", "NSMNetwork", "nsm_cost", "paper_eta", "TIME_UNIT"]


def paper_eta(n):
    """The paper's learning-rate schedule for sample ``n`` (0-based; array or int): 1e-3 for the
    first 10^4 samples, 1e-5 for the next 9x10^4, then 0.5e-5 (Pehlevan 2019, section 4.2)."""
    n = np.asarray(n)
    return np.where(n < 10_000, 1e-3, np.where(n < 100_000, 1e-5, 0.5e-5))


def _eta_values(eta, start, n):
    """Learning rates of samples ``start .. start + n - 1`` (checked: finite, in [0, 1])."""
    idx = np.arange(start, start + n)
    if isinstance(eta, str):
        if eta != "paper":
            raise ValueError(f"eta must be a number, a callable, an array or 'paper', got {eta!r}.")
        return paper_eta(idx).astype(float)
    if callable(eta):
        vals = np.broadcast_to(np.asarray(eta(idx), dtype=float), (n,)).copy()
    elif np.ndim(eta) == 0:
        vals = np.full(n, check_scalar("eta", eta))
    else:
        arr = check_array("eta", eta, ndim=1)
        vals = arr[np.minimum(idx, len(arr) - 1)]
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or np.any(vals > 1):
        raise ValueError("eta must be finite and in [0, 1] for every sample.")
    return vals


# ====================================================================== the compiled network
class NSMNetwork(Protocol):
    """The Spiking NSM network as a `brianlearn.Protocol` (one trial per sample).

    Objects: ``nsm_in`` (``n_features`` neurons holding the trial's ``x``, the data set ``'x'``),
    ``nsm_drive`` (trial clock; ``Wx`` summed once per trial by ``nsm_ff``), ``nsm_out`` (the
    perfect-IF neurons), ``nsm_lat`` (lateral ``Mbar``, all to all, diagonal kept at 0).
    Learned: ``nsm_ff.w`` (``W``, pre-major: ``w[i*k + j] = W[j, i]``), ``nsm_lat.w`` (``Mbar``),
    ``nsm_out.Mii``, ``nsm_out.bb``. Per-trial signal ``lr`` (the learning rate; 0 = no learning).
    The models ``nsm_neuron``, ``nsm_feedforward`` and ``nsm_lateral`` are looked up in
    `brianlearn.models.MODELS` when the network is built.

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
    and updates of the previous trial (``when='start'``), recording, the new ``x``, then
    (``when='groups'``) the summed ``Wx`` with the new ``W`` and ``x``, then
    ``I = Wx - alpha b - lam1``, ``V = 0``.
    """

    name = "nsm"
    #: the paper's learning rate of the first 10^4 samples (`SpikingNSM` always passes its own)
    trial_signal_defaults = {"lr": 1e-3}

    def __init__(self, n_features=64, n_components=64, alpha=0.0, lam1=0.0, lam2=0.0, duration=500, dt=0.01,
                 reset="subtract", **kwds):
        super().__init__(**kwds)
        self.n_features, self.k = int(n_features), int(n_components)
        self.alpha, self.lam1, self.lam2 = float(alpha), float(lam1), float(lam2)
        self.reset = check_reset(reset)
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
        n, k = self.n_features, self.k
        T = float(self.duration / TIME_UNIT)
        b.data("x")
        gate = b.learning_gate("lr")
        neuron = solver_neuron(self.reset, self.lam2)(alpha=float(self.alpha))
        inp = NeuronGroup(n, "x : 1", clock=b.trial_clock, name="nsm_in")
        drive = NeuronGroup(k, "Wx : 1\ny : 1 (linked)", clock=b.trial_clock, name="nsm_drive", order=-10)
        out = neuron.replace(equations=str(neuron.equations) + "\nWx : 1 (linked)").make_group(
            k, "nsm_out", clock=b.clock)
        out.Wx = linked_var(drive, "Wx")
        drive.y = linked_var(out, "y")
        # feed-forward: Wx summed once per trial (the updater runs on the target's trial clock)
        ff_model, lat_model = get_model("nsm_feedforward"), get_model("nsm_lateral")
        ff = ff_model.make_synapses(inp, drive, "nsm_ff", clock=b.trial_clock)
        lat = lat_model.make_synapses(out, out, "nsm_lat", clock=b.clock)
        b.add(inp, drive, out, ff, lat)
        # end of trial: output, then the local learning rules scaled by the learning rate
        b.on_trial_end(out, f"y = count / {T!r}", order=0)
        b.on_trial_end(out, neuron.update, gate=gate, order=1)
        b.on_trial_end(lat, lat_model.update, gate=gate, order=1)
        b.on_trial_end(ff, ff_model.update, gate=gate, order=1)
        # start of trial: the new x (before the summed Wx, when='groups', order -11), then the
        # neurons' initial state from it (when='groups', order -5)
        b.on_trial_start(inp, "x = data_x(t, i)", name="nsm_in_trial_init")
        b.on_trial_start(out, f"bias = Wx - {self.alpha!r}*bb - {self.lam1!r}\nI = bias\nv = 0\ncount = 0",
                         when="groups", order=-105, name="nsm_out_trial_init")
        for obj, var, size in ((ff, "w", n * k), (lat, "w", k * k), (out, "Mii", k), (out, "bb", k)):
            b.learn(obj, var, size=size)
        b.record(out, "y")


# ====================================================================== estimators
class _NSMBase(CompiledNetworkMixin, OnlineTrainingMixin, TransformerMixin, BaseEstimator):
    """What `SpikingNSM` and `AnalogNSM` share: validation, initialisation, the training loop
    (blocks of ``eval_every`` samples, the held-out history, checkpoints) and the fitted names."""

    # ------------------------------------------------------------ fitted names
    @property
    def components_(self):
        """The learned features: the rows of ``feedforward_`` (k, n_features)."""
        check_is_fitted(self)
        return self.feedforward_

    W_ = property(lambda self: self.components_, doc="Old name of ``feedforward_`` (read-only).")
    M_ = property(lambda self: check_is_fitted(self) or self.lateral_, doc="Old name of ``lateral_`` (read-only).")
    b_ = property(lambda self: check_is_fitted(self) or self.biases_, doc="Old name of ``biases_`` (read-only).")

    @property
    def history(self):
        """``history_`` as an array of ``(samples seen, held-out NSM cost)`` rows."""
        check_is_fitted(self)
        return np.column_stack([self.history_["samples_seen"], self.history_["cost"]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.seed is None
        return tags

    # ------------------------------------------------------------ validation
    def _check_params(self):
        """Validate the constructor arguments (a `ValueError` names the bad one)."""
        check_int("n_components", self.n_components)
        for name in ("alpha", "lam1", "lam2"):
            check_scalar(name, getattr(self, name), minimum=0.0)
        _eta_values(self.eta, 0, 1)
        if self.n_iter is not None:
            check_int("n_iter", self.n_iter)
        if self.eval_every is not None:
            check_int("eval_every", self.eval_every)
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}.")
        if self.init not in ("uniform", "normal"):
            raise ValueError(f"init must be 'uniform' or 'normal', got {self.init!r}.")
        if self.seed is not None:
            check_int("seed", self.seed, minimum=0)
        self._check_solver_params()

    def _init(self, n_features):
        """Initial weights: ``W`` (``init`` or ``W_init``), ``M = I``, ``b = 0``."""
        k = self.n_components
        if self.W_init is not None:
            W = check_array("W_init", self.W_init, ndim=2, shape=(k, n_features)).copy()
        elif self.init == "uniform":  # MNIST in the paper: U[0, 1/sqrt(k)] (1/14 for k = 196)
            W = np.random.default_rng(self.seed).uniform(0, 1 / np.sqrt(k), (k, n_features))
        else:  # whitened patches: N(0, 1/k) (1/196 in the paper)
            W = np.random.default_rng(self.seed).normal(0, 1 / np.sqrt(k), (k, n_features))
        self.feedforward_, self.lateral_, self.biases_ = W, np.eye(k), np.zeros(k)
        self.n_samples_seen_ = 0
        self.history_ = {"samples_seen": np.zeros(0, dtype=int), "cost": np.zeros(0)}

    def _validate(self, X, name="X", reset=False):
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_samples=1)
        return np.ascontiguousarray(X)

    # ------------------------------------------------------------ fit / transform
    def fit(self, X, y=None, X_val="auto", checkpoint=None, resume=False, max_chunks=None):
        """Learn from ``X`` (n_samples, n_features), starting from the initial weights.

        ``n_iter`` samples are presented (default ``len(X)``), each a randomly chosen row of
        ``X`` (``shuffle=True``, as in the paper) or the rows in order, cycling.

        Parameters
        ----------
        X : array (n_samples, n_features)
        y : None
            Ignored.
        X_val : array or 'auto' or None
            Held-out samples for the learning history ``history_`` (NSM cost of their outputs,
            after every ``eval_every`` samples, default about 10 times per fit). ``'auto'``
            (default): the last ``min(100, len(X) // 10)`` rows of ``X`` are held out (not
            trained on) when ``X`` has at least 50 rows; ``None``: no history.
        checkpoint : str, optional
            ``.npz`` file that receives the weights and the history after every evaluation block
            (``<checkpoint>.run.npz``: after every compiled chunk within a block).
        resume : bool
            Continue from ``checkpoint`` if it exists; the fit must be the same (data, parameters,
            ``seed``), otherwise a `ValueError`.
        max_chunks : int, optional
            Stop after this many compiled chunks (``complete_`` is then False; resume later).

        Returns
        -------
        self
        """
        return self._fit_online(X, X_val, checkpoint, resume, max_chunks)

    def partial_fit(self, X, y=None, X_val=None):
        """Learn from the rows of ``X`` in order, continuing from the current weights.

        Parameters
        ----------
        X : array (n_samples, n_features)
        y : None
            Ignored.
        X_val : array, optional
            Held-out samples: their NSM cost is added to ``history_`` every ``eval_every`` samples.

        Returns
        -------
        self
        """
        return self._partial_fit_online(X, X_val)

    def transform(self, X):
        """Outputs ``y`` (n_samples, k) with the current weights (no learning).

        Parameters
        ----------
        X : array (n_samples, n_features)

        Returns
        -------
        array (n_samples, n_components)
        """
        check_is_fitted(self)
        return self._outputs(self._validate(X))

    def score(self, X, y=None):
        """Negative NSM cost of the outputs for ``X`` (higher is better; see `cost`)."""
        return -self.cost(X)

    def cost(self, X):
        """NSM cost (`brianlearn.measures.nsm_cost`) of the outputs for ``X`` (no learning)."""
        check_is_fitted(self)
        X = self._validate(X)
        return nsm_cost(X, self._outputs(X), self.alpha, self.lam1, self.lam2)

    # ------------------------------------------------------------ the training loop (OnlineTrainingMixin)
    _learned_attributes = ("feedforward_", "lateral_", "biases_")
    _fingerprint_exclude = ("eta", "W_init", "device", "progress")

    def _fingerprint_arrays(self, n):
        return {"eta": _eta_values(self.eta, self.n_samples_seen_, n)}

    def _evaluate(self, X_val):
        c = nsm_cost(X_val, self._outputs(X_val), self.alpha, self.lam1, self.lam2)
        self._append_history(cost=c)
        return c


_COMMON_DOC = """
    Parameters
    ----------
    n_components : int
        Number of output neurons ``k``.
    alpha, lam1, lam2 : float
        Cost parameters (>= 0).
    eta : float, array, callable or 'paper'
        Learning rate per sample (callable of the sample index; array indexed by it). Default
        ``'paper'``: 1e-3 for 10^4 samples, 1e-5 for 9x10^4, then 0.5e-5.
    n_iter : int, optional
        Samples presented by `fit` (default: ``len(X)``).
    eval_every : int, optional
        Samples between evaluations of the held-out cost (default: about 10 per fit).
    shuffle : bool
        `fit` presents randomly drawn rows (the paper) or the rows in order, cycling.
    init : {'uniform', 'normal'}
        Initial ``W``: ``U[0, 1/sqrt(k)]`` (the paper's MNIST) or ``N(0, 1/k)`` (patches). ``M``
        starts at the identity, ``b`` at 0.
    W_init : array (k, n_features), optional
        Explicit initial ``W``.
    seed : int, optional
        Seed of the initial ``W`` and of the sample order.
"""

_FITTED_DOC = """
    Attributes
    ----------
    feedforward_ : array (k, n_features)
        ``W``; ``components_`` (its rows: the learned features) and ``W_`` are the same.
    lateral_ : array (k, k)
        ``M``: off-diagonal the lateral weights, diagonal the thresholds minus ``lam2`` (``M_``).
    biases_ : array (k,)
        ``b`` (``b_``).
    history_ : dict of arrays
        ``samples_seen`` and held-out ``cost`` at every evaluation (`history`: as rows).
    n_features_in_, n_samples_seen_ : int
    complete_ : bool
        False if `fit` stopped at ``max_chunks``.
    last_outputs_ : array (n, k)
        Outputs of the last block of learning.
"""


class SpikingNSM(_NSMBase):
    __doc__ = """Spiking non-negative similarity matching (Pehlevan 2019, arXiv:1902.01429).

    Per sample, the spiking network computes the output ``y`` (spike count / ``duration``) and
    then applies the local rules (Hebbian ``W``, anti-Hebbian ``Mbar``, homeostatic threshold
    ``M_ii``, bias ``b``) — all inside one compiled Brian2 simulation (`NSMNetwork`).
    `score` is the negative NSM cost (higher is better).
    """ + _COMMON_DOC + """    duration, dt : float or Quantity
        Simulated time per sample and time step, paper units (1 unit = 1 ms); default the
        paper's 500 and 0.01.
    reset : {'subtract', 'zero'}
    device : str, optional
    chunk_size : int
        Samples per compiled run (one binary serves every run of this size).
    progress : bool
    """ + _FITTED_DOC

    def __init__(self, n_components=64, alpha=0.0, lam1=0.0, lam2=0.0, eta="paper", n_iter=None, eval_every=None,
                 shuffle=True, duration=500, dt=0.01, reset="subtract", init="uniform", W_init=None, device=None,
                 seed=0, chunk_size=100, progress=False):
        self.n_components, self.alpha, self.lam1, self.lam2 = n_components, alpha, lam1, lam2
        self.eta, self.n_iter, self.eval_every, self.shuffle = eta, n_iter, eval_every, shuffle
        self.duration, self.dt, self.reset, self.init, self.W_init = duration, dt, reset, init, W_init
        self.device, self.seed, self.chunk_size, self.progress = device, seed, chunk_size, progress

    def _check_solver_params(self):
        as_time("duration", self.duration), as_time("dt", self.dt)
        check_reset(self.reset)
        check_int("chunk_size", self.chunk_size)

    def _network(self):
        return self._compiled_network(lambda: NSMNetwork(
            self.n_features_in_, self.n_components, self.alpha, self.lam1, self.lam2, self.duration, self.dt,
            self.reset, device=self.device, seed=self.seed, chunk_size=self.chunk_size, progress=self.progress))

    def _state(self):
        k = self.n_components
        return {"nsm_ff.w": self.feedforward_.T.ravel().copy(),
                "nsm_lat.w": (self.lateral_ * (1 - np.eye(k))).ravel().copy(),
                "nsm_out.Mii": np.diag(self.lateral_).copy(), "nsm_out.bb": self.biases_.copy()}

    def _set_state(self, state):
        k, n = self.n_components, self.n_features_in_
        self.feedforward_ = state["nsm_ff.w"].reshape(n, k).T.copy()
        M = state["nsm_lat.w"].reshape(k, k).copy()
        M = 0.5 * (M + M.T)  # symmetric up to rounding (the rule keeps it so)
        M[np.diag_indices(k)] = state["nsm_out.Mii"]
        self.lateral_ = M
        self.biases_ = state["nsm_out.bb"].copy()

    def _run(self, X, lr, **run_kw):
        net = self._network()
        net.init_state = self._state()
        net.state_ = self._state()
        return net.run_trials({"x": X}, signals={"lr": lr}, **run_kw)

    def _learn(self, X, checkpoint=None, resume=False, budget=(None,)):
        """One block of learning; False if it stopped at the chunk budget (``budget[0]``)."""
        etas = _eta_values(self.eta, self.n_samples_seen_, len(X))
        res = compiled_block(lambda **kw: self._run(X, etas, **kw), checkpoint, resume, budget)
        self._set_state(res.state)
        if not res.info["complete"]:
            return False
        self.last_outputs_ = res.records["nsm_out.y"]
        return True

    def _outputs(self, X):
        return self._run(X, 0.0).records["nsm_out.y"]


class AnalogNSM(_NSMBase):
    __doc__ = """Non-spiking reference: the analog NSM network in NumPy with the same rules (Pehlevan 2019,
    section 2).

    The output is the fixed point of the analog dynamics (eq. 6-7)::

        du/dtau = -u + Wx - alpha b - Mbar y,   y_i = max(u_i - lam1, 0) / (lam2 + M_ii)

    integrated by Euler steps ``dt`` up to ``duration`` or until ``|du| < tol``
    (``solver='dynamics'``), or computed by the convex solver (``solver='exact'``). Same
    parameters, initialisation (same ``seed`` gives the same ``W``) and sample order as `SpikingNSM`.
    """ + _COMMON_DOC + """    solver : {'dynamics', 'exact'}
    duration, dt, tol : float
        Time (paper units), Euler step and convergence tolerance of the dynamics.
    """ + _FITTED_DOC

    def __init__(self, n_components=64, alpha=0.0, lam1=0.0, lam2=0.0, eta="paper", n_iter=None, eval_every=None,
                 shuffle=True, init="uniform", W_init=None, seed=0, solver="dynamics", duration=500, dt=0.1,
                 tol=1e-8):
        self.n_components, self.alpha, self.lam1, self.lam2 = n_components, alpha, lam1, lam2
        self.eta, self.n_iter, self.eval_every, self.shuffle = eta, n_iter, eval_every, shuffle
        self.init, self.W_init, self.seed = init, W_init, seed
        self.solver, self.duration, self.dt, self.tol = solver, duration, dt, tol

    def _check_solver_params(self):
        if self.solver not in ("dynamics", "exact"):
            raise ValueError(f"solver must be 'dynamics' or 'exact', got {self.solver!r}.")
        for name in ("duration", "dt", "tol"):
            check_scalar(name, getattr(self, name), minimum=0.0, strict=True)

    def _output(self, x):
        k = self.n_components
        M = self.lateral_
        c = self.feedforward_ @ x - self.alpha * self.biases_
        if self.solver == "exact":
            return elastic_net_reference(c, M, np.zeros(k), 0.0, self.lam1, self.lam2)
        Mbar = M - np.diag(np.diag(M))
        gain = 1.0 / (self.lam2 + np.diag(M))
        u = c.copy()
        y = np.maximum(u - self.lam1, 0) * gain
        for _ in range(int(round(self.duration / self.dt))):
            du = -u + c - Mbar @ y
            u += self.dt * du
            y = np.maximum(u - self.lam1, 0) * gain
            if np.max(np.abs(du)) < self.tol:
                break
        return y

    def _learn(self, X, checkpoint=None, resume=False, budget=None):
        """One block of learning (NumPy: checkpoints are written per block only)."""
        etas = _eta_values(self.eta, self.n_samples_seen_, len(X))
        Y = np.empty((len(X), self.n_components))
        for t, (x, eta) in enumerate(zip(X, etas)):
            y = Y[t] = self._output(x)
            self.feedforward_ += eta * (np.outer(y, x) - self.feedforward_)
            self.lateral_ += eta * (np.outer(y, y) - self.lateral_)  # off-diagonal: anti-Hebbian; diagonal: homeostatic
            self.biases_ += eta * (self.alpha * y - self.biases_)
        self.last_outputs_ = Y
        return True

    def _outputs(self, X):
        return np.array([self._output(x) for x in X]).reshape(len(X), self.n_components)
