"""
A NumPy re-implementation of the Spiking NSM network, step by step.

An independent reference for the compiled Brian2 network (`NSMNetwork`, `SpikingNSM`) and the
hand-written implementation the speed benchmarks compare it with. It follows the models
``nsm_neuron``, ``nsm_feedforward`` and ``nsm_lateral`` and Brian2's order within a time step
(DESIGN.md section 1): at the start of a trial the new ``x``, ``Wx`` with the current ``W``,
``I = bias = Wx - alpha b - lam1``, ``v = 0``; in every step Euler integration (every derivative
from the old values), thresholds, the lateral effect of this step's spikes (``I_post -= Mbar``),
resets (subtractive); at the end of the trial ``y = count / T`` and the local rules (Pehlevan
2019, arXiv:1902.01429, section 3.1) scaled by the trial's learning rate.
"""

import numpy as np

__all__ = ["simulate_nsm_network", "nsm_arrays"]


def nsm_arrays(X, W, eta, Mbar=None, Mii=None, b=None):
    """Contiguous float copies of the inputs and initial state of `simulate_nsm_network`
    (defaults ``M = I``, ``b = 0``) and the per-trial learning rates; the loops update them in place."""
    X = np.ascontiguousarray(X, dtype=float)
    W = np.array(W, dtype=float)
    k = W.shape[0]
    Mbar = np.zeros((k, k)) if Mbar is None else np.array(Mbar, dtype=float)
    Mii = np.ones(k) if Mii is None else np.array(Mii, dtype=float)
    b = np.zeros(k) if b is None else np.array(b, dtype=float)
    etas = np.ascontiguousarray(np.broadcast_to(np.asarray(eta, dtype=float), (len(X),)))
    return X, W, Mbar, Mii, b, etas


def simulate_nsm_network(X, W, eta, alpha=0.0, lam1=0.0, lam2=0.0, duration=100.0, dt=0.05, Mbar=None, Mii=None,
                         b=None):
    """Run the network on the rows of ``X``, one trial each, learning with rates ``eta``.

    Parameters
    ----------
    X : array (n_samples, n_features)
    W : array (k, n_features)
        Initial feed-forward weights.
    eta : float or array (n_samples,)
        Learning rate of each trial (0: no learning).
    alpha, lam1, lam2 : float
        Cost parameters.
    duration, dt : float
        Trial length and time step, paper units (pass the network's own ``dt`` for equal spikes).
    Mbar, Mii, b : arrays, optional
        Initial lateral weights (zero diagonal), homeostatic thresholds and biases (defaults:
        ``M = I``, ``b = 0``).

    Returns
    -------
    dict
        ``W``, ``Mbar``, ``Mii``, ``b`` after the last update and ``Y``, the outputs
        ``(n_samples, k)``.
    """
    X, W, Mbar, Mii, b, etas = nsm_arrays(X, W, eta, Mbar, Mii, b)
    k = W.shape[0]
    steps = int(round(duration / dt))
    off = ~np.eye(k, dtype=bool)
    Y = np.zeros((len(X), k))
    for s, x in enumerate(X):
        bias = W @ x - alpha * b - lam1
        theta = lam2 + Mii
        v, I, count = np.zeros(k), bias.copy(), np.zeros(k)
        for _ in range(steps):
            v, I = v + dt * I, I + dt * (bias - I)
            sp = v > theta
            if sp.any():
                I = I - Mbar[sp].sum(axis=0)
                v = v - theta * sp
                count = count + sp
        y = Y[s] = count / duration
        e = etas[s]
        Mii = Mii + e * (y * y - Mii)
        b = b + e * (alpha * y - b)
        Mbar = Mbar + e * off * (np.outer(y, y) - Mbar)
        W = W + e * (np.outer(y, x) - W)
    return {"W": W, "Mbar": Mbar, "Mii": Mii, "b": b, "Y": Y}
