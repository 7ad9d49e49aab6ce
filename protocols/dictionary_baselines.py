"""
Baselines for the dictionary-learning network (NumPy / scikit-learn; for comparison only).

- `sgd_dictionary_learning`: Lin & Tang's baseline (arXiv:1805.08952, section 5): stochastic
  gradient descent on the same objective with batch 1, the code of each sample solved exactly
  (non-negative LASSO), the atoms projected onto ``D >= 0`` and normalised to unit norm;
- `minibatch_dictionary_learning`: scikit-learn's online learner ``MiniBatchDictionaryLearning``
  (Mairal et al. 2009) with non-negative codes and dictionary.

Both record the held-out objective (`brianlearn.measures.heldout_objective`: unit-norm atoms,
codes re-solved exactly, the same ``lam1``) after the same numbers of samples as the network.
"""

import warnings

import numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning, sparse_encode
from sklearn.exceptions import ConvergenceWarning

from brianlearn.measures import heldout_objective
from brianlearn.validation import check_array, check_int, check_scalar

__all__ = ["sgd_dictionary_learning", "minibatch_dictionary_learning", "random_dictionary"]


def random_dictionary(n_features, n_components, seed=None):
    """Random non-negative atoms of unit norm as rows ``(n_components, n_features)`` (the
    network's consistent initialisation, `initial_weights`, draws the same ``D``)."""
    D = np.random.default_rng(seed).random((n_features, n_components))
    return (D / np.linalg.norm(D, axis=0)).T.copy()


def _checkpoints(n, eval_every):
    """Sample counts at which to evaluate: 0, every ``eval_every``, and ``n``."""
    return sorted(set(range(0, n, eval_every)) | {n})


def sgd_dictionary_learning(X, n_components, lam1, eta, X_val=None, eval_every=None, dictionary=None, seed=None):
    """SGD with batch 1 on ``1/2 |x - a D|^2 + lam1 |a|_1``, ``a, D >= 0``, unit-norm atoms.

    Per sample: ``a = argmin_{a >= 0} ...`` (scikit-learn's ``sparse_encode``, coordinate
    descent), ``D <- max(D - eta a (a D - x), 0)``, atoms renormalised.

    Parameters
    ----------
    X : array (n_samples, n_features)
        Presented in order.
    n_components : int
    lam1, eta : float
    X_val : array, optional
        Held-out samples: their objective is recorded every ``eval_every`` samples.
    dictionary : array (n_components, n_features), optional
        Initial atoms (rows); default `random_dictionary` with ``seed``.

    Returns
    -------
    dictionary : array (n_components, n_features)
    history : dict
        ``samples_seen`` and ``objective`` (empty without ``X_val``).
    """
    X = check_array("X", X, ndim=2)
    check_int("n_components", n_components)
    lam1 = check_scalar("lam1", lam1, minimum=0, strict=True)
    eta = check_scalar("eta", eta, minimum=0, strict=True)
    D = (random_dictionary(X.shape[1], n_components, seed) if dictionary is None
         else check_array("dictionary", dictionary, ndim=2, shape=(n_components, X.shape[1])).copy())
    history = {"samples_seen": [], "objective": []}
    marks = set(_checkpoints(len(X), eval_every or max(1, len(X) // 10))) if X_val is not None else set()
    for t in range(len(X) + 1):
        if t in marks:
            history["samples_seen"].append(t)
            history["objective"].append(heldout_objective(X_val, D, lam1))
        if t == len(X):
            break
        x = X[t]
        a = sparse_encode(x[None], D, algorithm="lasso_cd", alpha=lam1, positive=True)[0]
        if np.any(a):
            D = np.maximum(D - eta * np.outer(a, a @ D - x), 0)
            norms = np.linalg.norm(D, axis=1)
            D[norms > 0] /= norms[norms > 0, None]
    return D, {k: np.asarray(v) for k, v in history.items()}


def minibatch_dictionary_learning(X, n_components, lam1, X_val=None, eval_every=None, batch_size=16, seed=None):
    """scikit-learn's ``MiniBatchDictionaryLearning`` (non-negative code and dictionary,
    ``alpha = lam1``) fed the samples of ``X`` in order by ``partial_fit``.

    Returns ``(dictionary, history)`` as `sgd_dictionary_learning`.
    """
    X = check_array("X", X, ndim=2)
    check_int("batch_size", batch_size)
    lam1 = check_scalar("lam1", lam1, minimum=0, strict=True)
    model = MiniBatchDictionaryLearning(n_components=n_components, alpha=lam1, batch_size=batch_size,
                                        positive_code=True, positive_dict=True, fit_algorithm="cd",
                                        transform_algorithm="lasso_cd", random_state=seed)
    history = {"samples_seen": [], "objective": []}
    every = eval_every or max(1, len(X) // 10)
    done = 0

    def learn(rows):
        with warnings.catch_warnings():  # its coding step's coordinate descent stops short of its
            # 1e-8 tolerance on some batches; the held-out codes are solved separately
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(rows)

    if X_val is not None:
        learn(X[:batch_size])  # (scikit-learn initialises its dictionary from the first batch)
        done = batch_size
        history["samples_seen"].append(done)
        history["objective"].append(heldout_objective(X_val, model.components_, lam1))
    while done < len(X):
        stop = min(len(X), (done // every + 1) * every)
        for lo in range(done, stop, batch_size):
            learn(X[lo: min(lo + batch_size, stop)])
        done = stop
        if X_val is not None:
            history["samples_seen"].append(done)
            history["objective"].append(heldout_objective(X_val, model.components_, lam1))
    return model.components_.copy(), {k: np.asarray(v) for k, v in history.items()}
