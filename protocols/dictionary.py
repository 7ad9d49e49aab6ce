"""
Dictionary learning by a two-phase dynamical (spiking) network: Lin & Tang (2018/2019),
"Dictionary learning by dynamical neural networks", arXiv:1805.08952 (seed 001).

The problem (atoms are the columns of ``D``; here, as in scikit-learn, ``components_`` holds
them as rows)::

    min_{a >= 0, D >= 0}  sum_x 1/2 |x - D a|^2 + lam1 |S a|_1 + lam2/2 |D|_F^2

`SpikingDictionaryLearning` learns it with the network of `dictionary_network`: per sample a
phase without feedback (``gamma = 0``, the spiking LCA of ``x``) and a phase with feedback
``gamma = kappa``, states kept between them; the rate differences of the two phases are local
gradients, and every neuron and synapse updates its own weight at the end of the sample,
inside the compiled simulation (Algorithm 1)::

    gD = bk - b0                                          (input neurons)
    gH = (1-kappa) H (a0 - ak) + (1-kappa) e0 - ek         (coding neurons, e = u - theta a)
    F_ij -= eta_d (ak_i gD_j / kappa + lam2 F_ij)         B_ji -= eta_d (ak_i gD_j / kappa + lam2 B_ji)
    H_ij -= eta_h gH_i ak_j / kappa + 2 eta_d lam2 H_ij   eta_h = eta_h_ratio * eta_d;  all >= 0;  s = diag(H)

Measured while the spec was written (DESIGN.md section 4.2, a Numba version of this network):
the paper's 20 time units per phase leave ``gH`` dominated by rate quantisation, and H learning
then lowers the consistency; 100 units per phase reach SGD's held-out objective with
consistency above 0.9. The default ``phase_duration`` is therefore 100 (the paper's 20 is one
argument away).
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from brianlearn.estimator import CompiledNetworkMixin, OnlineTrainingMixin, compiled_block
from brianlearn.measures import consistency, heldout_objective, weight_symmetry
from brianlearn.validation import check_int, check_scalar

from .lca import check_dictionary
from .dictionary_network import DictionaryNetwork, check_phase_duration, state_from_weights, weights_from_state

__all__ = ["SpikingDictionaryLearning", "initial_weights", "DEFAULT_PHASE_DURATION", "PAPER_PHASE_DURATION",
           "DEFAULT_LAM2"]

#: time units per phase: the default (chosen by measurement, module docstring) and the paper's
DEFAULT_PHASE_DURATION, PAPER_PHASE_DURATION = 100.0, 20.0
#: weight decay: the smallest of ``figures/dictionary_symmetry.LAM2S`` > 0; F^T - B shrinks by
#: (1 - eta_d lam2) per sample, to exp(-4) of its start after the paper's 100 000 samples
DEFAULT_LAM2 = 0.002


def initial_weights(n_features, n_components, init="consistent", seed=None, dict_init=None):
    """Initial ``(F, B, H)`` of the network (Lin & Tang 2018, section 5).

    ``'consistent'``: a random non-negative ``D`` with unit-norm atoms (or the atoms given as the
    rows of ``dict_init``), ``F = D^T``, ``B = D``, ``H = F B`` (thresholds ``|atom|^2``).
    ``'asymmetric'``: ``F`` and ``B`` drawn independently, their columns normalised; ``H``
    uniform in [0, 1.5] with 1.5 on the diagonal (symmetry ~0.75).
    """
    rng = np.random.default_rng(seed)
    M, N = n_features, n_components
    if dict_init is not None:
        D = check_dictionary(dict_init, n_features, name="dict_init")
        if np.any(D < 0) or D.shape[0] != N:
            raise ValueError(f"dict_init must be non-negative with {N} atoms (n_components) as rows, got shape "
                             f"{D.shape} and minimum {D.min():.3g}.")
        return D.copy(), D.T.copy(), D @ D.T
    if init == "consistent":
        D = rng.random((M, N))
        D /= np.linalg.norm(D, axis=0)
        return D.T.copy(), D.copy(), D.T @ D
    if init == "asymmetric":
        F, B = rng.random((N, M)), rng.random((M, N))
        F /= np.linalg.norm(F, axis=0)
        B /= np.linalg.norm(B, axis=0)
        H = rng.uniform(0, 1.5, (N, N))
        H[np.diag_indices(N)] = 1.5
        return F, B, H
    raise ValueError(f"init must be 'consistent' or 'asymmetric', got {init!r}.")


class SpikingDictionaryLearning(CompiledNetworkMixin, OnlineTrainingMixin, TransformerMixin, BaseEstimator):
    """Dictionary learning by the two-phase spiking network of Lin & Tang (2018), arXiv:1805.08952.

    Parameters
    ----------
    n_components : int
        Number of atoms (coding neurons).
    lam1 : float
        Sparsity penalty (> 0).
    lam2 : float
        Weight decay of F, B (and 2 lam2 of H), >= 0. It is what makes an asymmetric start
        symmetric, at the price of smaller atoms and lower consistency (DESIGN.md section 4.2);
        default `DEFAULT_LAM2` (``figures/dictionary_symmetry.py`` shows the trade-off).
    kappa : float
        Feedback strength of the second phase, in (0, 1) (paper: 0.7).
    eta_d : float
        Learning rate of F and B (> 0).
    eta_h_ratio : float
        ``eta_h / eta_d`` (paper: about 15: the inhibition learns faster).
    init : {'consistent', 'asymmetric'}
        Initial weights (`initial_weights`).
    dict_init : array (n_components, n_features), optional
        Initial atoms as rows (non-negative, no zero atom): a consistent start from them.
    phase_duration : float or Quantity
        Time units per phase (1 unit = 1 ms); default 100 (module docstring), the paper's 20
        is `PAPER_PHASE_DURATION`.
    dt : float or Quantity
        Time step (paper: 1/32).
    n_iter : int, optional
        Samples presented by `fit` (default ``len(X)``).
    eval_every : int, optional
        Samples between held-out evaluations (default: about 10 per fit).
    shuffle : bool
        `fit` presents randomly drawn rows, or the rows in order, cycling.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` (default) or ``'cuda_standalone'``.
    seed : int, optional
        Seed of the initial weights and of the sample order.
    chunk_size : int
        Samples per compiled run.
    progress : bool

    Attributes
    ----------
    feedforward_ : array (n_components, n_features)
        ``F``.
    feedback_ : array (n_features, n_components)
        ``B``; its columns are the atoms.
    inhibition_ : array (n_components, n_components)
        ``H``: lateral weights off the diagonal, thresholds (= the penalty weights ``s``) on it.
    components_ : array (n_components, n_features)
        The atoms as rows (``feedback_.T``).
    history_ : dict of arrays
        At every evaluation: ``samples_seen``, held-out ``objective`` (`brianlearn.measures.heldout_objective`
        of ``components_``), ``consistency``, ``symmetry``, ``atom_norm`` (mean norm of the atoms).
    n_features_in_, n_samples_seen_ : int
    complete_ : bool
        False if `fit` stopped at ``max_chunks``.
    last_codes_ : array (n, n_components)
        Codes (rates of the first phase) of the last block of learning.
    """

    _learned_attributes = ("feedforward_", "feedback_", "inhibition_")
    _fingerprint_exclude = ("dict_init", "device", "progress")
    _auto_validation = 500

    def __init__(self, n_components=256, lam1=0.1, lam2=DEFAULT_LAM2, kappa=0.7, eta_d=0.02, eta_h_ratio=15.0,
                 init="consistent", dict_init=None, phase_duration=DEFAULT_PHASE_DURATION, dt=1 / 32, n_iter=None, eval_every=None,
                 shuffle=True, device=None, seed=0, chunk_size=200, progress=False):
        self.n_components, self.lam1, self.lam2, self.kappa = n_components, lam1, lam2, kappa
        self.eta_d, self.eta_h_ratio, self.init, self.dict_init = eta_d, eta_h_ratio, init, dict_init
        self.phase_duration, self.dt = phase_duration, dt
        self.n_iter, self.eval_every, self.shuffle = n_iter, eval_every, shuffle
        self.device, self.seed, self.chunk_size, self.progress = device, seed, chunk_size, progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.non_deterministic = self.seed is None
        return tags

    # ------------------------------------------------------------ fitted names
    @property
    def components_(self):
        """The atoms as rows: ``feedback_.T`` (n_components, n_features)."""
        check_is_fitted(self, "feedback_")
        return self.feedback_.T

    # ------------------------------------------------------------ validation
    def _check_params(self):
        check_int("n_components", self.n_components)
        check_scalar("lam1", self.lam1, minimum=0, strict=True)
        check_scalar("lam2", self.lam2, minimum=0)
        check_scalar("kappa", self.kappa, minimum=0, maximum=1, strict=True)
        check_scalar("eta_d", self.eta_d, minimum=0, strict=True)
        check_scalar("eta_h_ratio", self.eta_h_ratio, minimum=0)
        if self.init not in ("consistent", "asymmetric"):
            raise ValueError(f"init must be 'consistent' or 'asymmetric', got {self.init!r}.")
        check_phase_duration(self.phase_duration, self.dt)
        for name in ("n_iter", "eval_every"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name))
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}.")
        if self.seed is not None:
            check_int("seed", self.seed, minimum=0)
        check_int("chunk_size", self.chunk_size)

    def _validate(self, X, name="X", reset=False):
        X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_samples=1)
        if np.any(X < 0):
            raise ValueError(
                f"{name} has negative values ({np.min(X):.3g}); the network's input neurons fire at rates "
                "x_j >= 0. Split signed data into positive and negative channels: "
                "brianlearn.datasets.images.split_channels(X) = [max(X, 0), max(-X, 0)].")
        return np.ascontiguousarray(X)

    def _init(self, n_features):
        self.feedforward_, self.feedback_, self.inhibition_ = initial_weights(n_features, self.n_components,
                                                                              self.init, self.seed, self.dict_init)
        self.n_samples_seen_ = 0
        self.history_ = {k: np.zeros(0, dtype=int if k == "samples_seen" else float)
                         for k in ("samples_seen", "objective", "consistency", "symmetry", "atom_norm")}

    # ------------------------------------------------------------ fit / transform
    def fit(self, X, y=None, X_val="auto", checkpoint=None, resume=False, max_chunks=None):
        """Learn a dictionary from ``X`` (n_samples, n_features), non-negative, from the initial weights.

        Parameters
        ----------
        X : array (n_samples, n_features)
        y : None
            Ignored.
        X_val : array or 'auto' or None
            Held-out samples for ``history_``. ``'auto'``: the last ``min(500, len(X) // 10)``
            rows of ``X`` when it has at least 50 rows (not trained on); None: no history.
        checkpoint : str, optional
            ``.npz`` file with the weights and the history after every evaluation block
            (``<checkpoint>.run.npz``: after every compiled chunk within a block).
        resume : bool
            Continue from ``checkpoint`` (same data, parameters and seed, else a `ValueError`).
        max_chunks : int, optional
            Stop after this many compiled chunks (``complete_`` is then False).

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
            Held-out samples evaluated into ``history_`` every ``eval_every`` samples.

        Returns
        -------
        self
        """
        return self._partial_fit_online(X, X_val)

    def transform(self, X):
        """Codes ``(n_samples, n_components)``: rates of the coding neurons in the first phase
        (the spiking LCA of ``x`` with ``F`` and ``H``), no learning."""
        check_is_fitted(self, "feedback_")
        X = self._validate(X)
        return self._run(X, learn=False).records["dl_code.a0"]

    def objective(self, X):
        """Held-out objective of ``X`` for ``components_`` (unit-norm atoms, codes solved exactly):
        `brianlearn.measures.heldout_objective`, the measure by which Lin & Tang compare dictionaries."""
        check_is_fitted(self, "feedback_")
        X = self._validate(X)
        return heldout_objective(X, self.components_, self.lam1)

    def score(self, X, y=None):
        """Negative `objective` (higher is better)."""
        return -self.objective(X)

    # ------------------------------------------------------------ the network
    def _network(self):
        return self._compiled_network(lambda: DictionaryNetwork(
            self.n_features_in_, self.n_components, self.kappa, self.phase_duration, self.dt, device=self.device,
            seed=self.seed, chunk_size=self.chunk_size, progress=self.progress))

    def _run(self, X, learn=True, **run_kw):
        net = self._network()
        net.init_state = state_from_weights(self.feedforward_, self.feedback_, self.inhibition_)
        net.state_ = dict(net.init_state)
        eta_d = float(self.eta_d) if learn else 0.0
        signals = {"eta_d": eta_d, "eta_h": eta_d * float(self.eta_h_ratio), "lam1": float(self.lam1),
                   "lam2": float(self.lam2)}
        return net.run_trials({"x": X}, signals=signals, **run_kw)

    def _learn(self, X, checkpoint=None, resume=False, budget=(None,)):
        """One block of learning; False if it stopped at the chunk budget (``budget[0]``)."""
        res = compiled_block(lambda **kw: self._run(X, **kw), checkpoint, resume, budget)
        self.feedforward_, self.feedback_, self.inhibition_ = weights_from_state(res.state, self.n_features_in_,
                                                                                 self.n_components)
        if not res.info["complete"]:
            return False
        self.last_codes_ = res.records["dl_code.a0"]
        return True

    def _evaluate(self, X_val):
        F, B, H = self.feedforward_, self.feedback_, self.inhibition_
        obj = heldout_objective(X_val, B.T, self.lam1)
        self._append_history(objective=obj, consistency=consistency(H, F, B), symmetry=weight_symmetry(F, B),
                             atom_norm=float(np.mean(np.linalg.norm(B, axis=0))))
        return obj
