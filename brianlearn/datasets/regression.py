"""
The non-linear regression task of the spiking equilibrium-propagation network (Mesnard,
Gerstner & Brea 2016, arXiv:1612.03214; DESIGN.md section 4.4): the end point of a two-link
arm (joint angles ``pi phi`` and ``pi theta``, links of length 1/4), shifted into ``[0, 1]^2``.

Inputs ``phi, theta ~ U[0, 1]``; targets (both in ``[0, 1]``)::

    x = (cos(pi phi) + cos(pi (phi + theta)) + 2) / 4
    y = (sin(pi phi) + sin(pi (phi + theta)) + 2) / 4

Generated on the fly (no download). Reference numbers measured while writing the spec
(2-20-2 networks, held-out MSE): linear least squares ~1.6e-2, backprop ~3e-4.

Examples
--------
>>> from brianlearn.datasets.regression import two_link_arm
>>> X, Y = two_link_arm(5, seed=0)
>>> X.shape, Y.shape
((5, 2), (5, 2))
"""

import numpy as np

from brianlearn.validation import check_array, check_int

__all__ = ["two_link_arm", "arm_targets", "regression_task", "regression_validation"]


def arm_targets(X):
    """Targets ``(n, 2)`` of the two-link-arm task for inputs ``X = [phi, theta]`` ``(n, 2)``."""
    X = check_array("X (phi, theta)", X, ndim=2, shape=(None, 2), finite=False)
    phi, theta = X[:, 0], X[:, 1]
    x = (np.cos(np.pi * phi) + np.cos(np.pi * (phi + theta)) + 2) / 4
    y = (np.sin(np.pi * phi) + np.sin(np.pi * (phi + theta)) + 2) / 4
    return np.stack([x, y], axis=1)


def two_link_arm(n_samples, seed=None):
    """``n_samples`` random inputs ``(phi, theta) ~ U[0, 1]^2`` and their targets.

    Parameters
    ----------
    n_samples : int
    seed : int, optional

    Returns
    -------
    X, Y : arrays of shape (n_samples, 2)
    """
    n_samples = check_int("n_samples", n_samples)
    X = np.random.default_rng(seed).uniform(0.0, 1.0, size=(n_samples, 2))
    return X, arm_targets(X)


def regression_task(n_train=20000, n_test=1000, seed=0):
    """Training and held-out sets of the two-link-arm task (independent draws).

    Returns
    -------
    Xtr, Ytr, Xte, Yte : arrays ``(n_train, 2)``, ``(n_train, 2)``, ``(n_test, 2)``, ``(n_test, 2)``
    """
    Xtr, Ytr = two_link_arm(n_train, seed=np.random.SeedSequence([seed, 0]).generate_state(1)[0])
    Xte, Yte = two_link_arm(n_test, seed=np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    return Xtr, Ytr, Xte, Yte


def regression_validation(n_val=1000, seed=0):
    """A validation set of the two-link-arm task, drawn independently of `regression_task`'s
    training and held-out sets of the same ``seed`` (for choosing hyper-parameters).

    Returns
    -------
    Xval, Yval : arrays ``(n_val, 2)``
    """
    return two_link_arm(n_val, seed=np.random.SeedSequence([seed, 2]).generate_state(1)[0])
