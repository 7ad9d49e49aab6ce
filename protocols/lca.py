"""
Spiking LCA: sparse coding by a network of perfect integrate-and-fire neurons.

Tang, Lin & Davies (2017), "Sparse coding by spiking neural networks: convergence theory and
computational results", arXiv:1705.05475 (seed 000). The non-negative LASSO::

    min_{a >= 0}  1/2 |x - a D|^2 + lam |a|_1          D: (n_atoms, n_features), atoms as rows

is solved by ``n_atoms`` perfect integrate-and-fire neurons (``models/nsm_neuron.py``) with

- bias ``phi_i . x - lam``   (the feed-forward drive ``D x`` minus the sparsity penalty),
- lateral inhibition ``w_ij = phi_i . phi_j`` (``i != j``; each spike of ``j`` lowers ``I_i``),
- threshold ``theta_i = phi_i . phi_i``,

and the code is the time-averaged rate ``a_i = (spike count)/T``, which converges to the LASSO
solution as ``T`` grows (their theorem; inter-spike intervals stay bounded). Multiplying the
objective by 2 shows that this is the non-negative elastic net of the spiking NSM solver
(`brianlearn.protocols.nsm_solver`) with ``Wx = D x``, ``M = D D^T``, ``alpha = 0``,
``lam1 = lam``, ``lam2 = 0``: one spiking solver serves both, and every sample is one trial of
a single compiled simulation (the shared ``D D^T`` goes in through run arguments, so another
dictionary of the same size reuses the binary).

**Time unit**: as for the NSM solver, one unit of the paper's dimensionless time is 1 ms of
Brian2 time (``duration=50, dt=0.01`` = 5 000 Euler steps per sample).
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import Lasso
from sklearn.utils.validation import validate_data

from brianlearn.measures import sparse_coding_objective
from brianlearn.validation import check_array, check_scalar

from .nsm_solver import spiking_elastic_net

__all__ = ["SpikingLCA", "spiking_sparse_encode", "lasso_reference", "check_dictionary", "sparse_coding_objective",
           "DEFAULT_DURATION", "DEFAULT_DT"]

#: default simulated time per sample and Euler step (paper units): chosen by measurement, see
#: `SpikingLCA` (objective within 1 % of the convex optimum on random non-negative problems)
DEFAULT_DURATION, DEFAULT_DT = 50.0, 0.01


def check_dictionary(dictionary, n_features=None, name="dictionary"):
    """``dictionary`` as a float array ``(n_atoms, n_features)``: finite, no zero atom (else `ValueError`)."""
    D = check_array(name, dictionary, ndim=2, shape=(None, n_features))
    if D.shape[0] < 1 or D.shape[1] < 1:
        raise ValueError(f"{name} must have at least one atom and one feature, got shape {D.shape}.")
    zero = np.flatnonzero(np.sum(D * D, axis=1) == 0)
    if zero.size:
        raise ValueError(f"{name} has zero atoms (rows {zero[:5].tolist()}): every atom needs a positive norm, "
                         "its threshold phi_i . phi_i.")
    return D


def spiking_sparse_encode(X, dictionary, lam, duration=DEFAULT_DURATION, dt=DEFAULT_DT, reset="subtract",
                          device=None, chunk_size=None, progress=False):
    """Non-negative sparse codes of ``X`` computed by the spiking LCA network.

    Like scikit-learn's ``sparse_encode(X, dictionary, alpha=lam, positive=True)`` with the
    objective ``1/2 |x - a D|^2 + lam |a|_1`` per sample (module docstring).

    Parameters
    ----------
    X : array (n_samples, n_features)
    dictionary : array (n_atoms, n_features)
        Atoms as rows; they need not have unit norm (thresholds are ``|phi_i|^2``).
    lam : float
        Sparsity penalty (> 0).
    duration, dt : float or Quantity
        Simulated time per sample and Euler step, paper units (1 unit = 1 ms) or Brian2 times.
    reset : {'subtract', 'zero'}
        ``'subtract'`` (default) keeps the overshoot above threshold; ``'zero'`` is the paper's.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` (default) or ``'cuda_standalone'``.
    chunk_size : int, optional
        Samples per compiled run (default: all, at most 100).
    progress : bool, optional

    Returns
    -------
    codes : array (n_samples, n_atoms)
        Spike counts divided by ``duration`` (non-negative).
    """
    D = check_dictionary(dictionary)
    X = check_array("X", X, ndim=2, shape=(None, D.shape[1]))
    if X.shape[0] < 1:
        raise ValueError("X must hold at least one sample, got 0.")
    lam = check_scalar("lam", lam, minimum=0, strict=True)
    k = D.shape[0]
    return spiking_elastic_net(X @ D.T, D @ D.T, np.zeros(k), 0.0, lam, 0.0, duration=duration, dt=dt,
                               device=device, reset=reset, chunk_size=chunk_size, progress=progress)


def lasso_reference(X, dictionary, lam, tol=1e-10, max_iter=100_000):
    """Exact non-negative LASSO codes (scikit-learn's coordinate descent), the convex optimum.

    scikit-learn's ``Lasso`` minimises ``1/(2 n) |y - Z w|^2 + alpha |w|_1`` over ``n`` rows, so
    the code of ``x`` for ``D`` is ``Lasso(alpha=lam/n_features, positive=True)`` fitted with
    ``Z = D^T``, ``y = x``.
    """
    D = check_dictionary(dictionary)
    X = check_array("X", X, ndim=2, shape=(None, D.shape[1]))
    model = Lasso(alpha=lam / D.shape[1], positive=True, fit_intercept=False, tol=tol, max_iter=max_iter)
    return np.array([model.fit(D.T, x).coef_.copy() for x in X])


class SpikingLCA(TransformerMixin, BaseEstimator):
    """Sparse coding by the spiking LCA network (Tang, Lin & Davies 2017), like ``SparseCoder``.

    Parameters
    ----------
    dictionary : array (n_atoms, n_features)
        Atoms as rows (need not have unit norm).
    lam : float
        Sparsity penalty of ``1/2 |x - a D|^2 + lam |a|_1`` (> 0).
    duration, dt : float or Quantity
        Simulated time per sample and Euler step (paper units, 1 unit = 1 ms). The defaults
        (50, 0.01) were chosen by measurement: on random non-negative problems with 64-256
        unit-norm atoms the mean objective is within 1 % of the convex optimum
        (measured ~0.15 %; 0.8 % at T = 20, 0.04 % at T = 100; ``tests/test_lca.py``). The
        error of the spike-count read-out falls as 1/T and grows with the thresholds
        ``|phi_i|^2``: for atoms of norms 0.5-2 take T ~ 800 for 1 %.
    reset : {'subtract', 'zero'}
    device : str, optional
    chunk_size : int, optional
        Samples per compiled run.
    progress : bool

    Attributes
    ----------
    components_ : array (n_atoms, n_features)
        The dictionary (validated).
    n_components_, n_features_in_ : int
    """

    def __init__(self, dictionary, lam=0.1, duration=DEFAULT_DURATION, dt=DEFAULT_DT, reset="subtract", device=None,
                 chunk_size=None, progress=False):
        self.dictionary = dictionary
        self.lam = lam
        self.duration = duration
        self.dt = dt
        self.reset = reset
        self.device = device
        self.chunk_size = chunk_size
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # (as SparseCoder: the dictionary is given)
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def fit(self, X=None, y=None):
        """Validate the parameters (and ``X``'s width, if given); nothing is learned (as ``SparseCoder``)."""
        check_dictionary(self.dictionary)
        check_scalar("lam", self.lam, minimum=0, strict=True)
        if X is not None:
            validate_data(self, X, reset=False)
        return self

    def transform(self, X):
        """Non-negative codes ``(n_samples, n_atoms)``: spike counts of the LCA network / duration."""
        D = check_dictionary(self.dictionary)
        X = validate_data(self, X, reset=False)
        return spiking_sparse_encode(X, D, self.lam, duration=self.duration, dt=self.dt, reset=self.reset,
                                     device=self.device, chunk_size=self.chunk_size, progress=self.progress)

    def objective(self, X, A):
        """Mean over samples of ``1/2 |x - a D|^2 + lam |a|_1`` (reconstruction ``A @ dictionary``)."""
        D = check_dictionary(self.dictionary)
        X = check_array("X", X, ndim=2, shape=(None, D.shape[1]))
        A = check_array("A", A, ndim=2, shape=(len(X), D.shape[0]))
        return sparse_coding_objective(X, A, D, self.lam)

    @property
    def components_(self):
        """The dictionary, validated: ``(n_atoms, n_features)``."""
        return check_dictionary(self.dictionary)

    @property
    def n_components_(self):
        return self.components_.shape[0]

    @property
    def n_features_in_(self):
        return self.components_.shape[1]
