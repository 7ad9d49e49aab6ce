"""
NumPy reference of the rate-based equilibrium-propagation network (Scellier & Bengio 2017,
Front. Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea 2016, arXiv:1612.03214) and the
baselines of the regression task.

Layers ``0..L``: layer 0 is the input (clamped to ``x``), layer ``L`` the output. Energy::

    E = 1/2 sum_i s_i^2 - sum_{layers} rho(s_{l+1}).W_l rho(s_l) - sum_i b_i rho(s_i)
    F = E + beta/2 |y_hat - s_L|^2,        rho(s) = clip(s, 0, 1) (hard sigmoid)

Dynamics: Euler steps of size ``eps`` (in units of the time constant) of ``ds/dt = -dF/ds``,
all layers updated synchronously from the previous states, the states clipped to ``[0, 1]``
after each step (Scellier & Bengio's code), with ``rho'(s) = 1`` on the **closed** interval
``[0, 1]`` (so a neuron at a bound can leave it)::

    s_l <- clip(s_l + eps (-s_l + rho'(s_l) (W_{l-1} rho(s_{l-1}) + B_l rho(s_{l+1}) + b_l)
                          + [l = L] beta (y_hat - s_L)), 0, 1)

``B_l`` (top-down) equals ``W_l^T`` (symmetric weights) unless ``fixed_feedback``: then it keeps
its random initial value. Per sample: ``n_free`` steps from ``s = 0`` with ``beta = 0`` (free
phase, fixed point ``s*``), then ``n_nudged`` steps with ``beta = beta0 * sign`` (nudged phase,
``s^beta``; the sign is random per sample), then (``rule='chl'``)::

    dW_l = eta_l / beta (rho(s^beta_{l+1}) rho(s^beta_l)^T - rho(s*_{l+1}) rho(s*_l)^T)
    db_l = eta_l / beta (rho(s^beta_l) - rho(s*_l))

or (``rule='delta'``) ``dW_l = eta_l / beta (rho(s^beta_{l+1}) - rho(s*_{l+1})) rho(s*_l)^T``.
``B_l`` receives ``dW_l^T`` (unless fixed). ``eta_l`` is the rate of the weights into layer
``l + 1`` and of that layer's biases.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor

from brianlearn.validation import check_array

__all__ = ["RateEPReference", "init_weights", "hard_sigmoid", "linear_baseline", "backprop_baseline", "mse",
           "check_xy", "check_targets", "layer_etas"]


def hard_sigmoid(s):
    """``rho(s) = clip(s, 0, 1)``."""
    return np.clip(s, 0.0, 1.0)


def rho_prime(s):
    """``rho'(s) = 1`` on the closed interval ``[0, 1]``, else 0."""
    return ((s >= 0.0) & (s <= 1.0)).astype(float)


def mse(A, B):
    """Mean squared error over samples and output dimensions."""
    return float(np.mean((np.asarray(A, dtype=float) - np.asarray(B, dtype=float)) ** 2))


def check_targets(Y, y_range=(0.0, 1.0), name="Y"):
    """`ValueError` unless every target lies in the network's output range ``y_range``."""
    lo, hi = y_range
    if Y.min() < lo or Y.max() > hi:
        raise ValueError(f"{name} must lie in the output range [{lo}, {hi}] of the network (rho = clip(s, 0, 1)), "
                         f"got values in [{Y.min():.3g}, {Y.max():.3g}].")
    return Y


def check_xy(X, Y=None, n_in=None, n_out=None, y_range=(0.0, 1.0), names=("X", "Y")):
    """Validated float arrays ``X`` (n, n_in) and ``Y`` (n, n_out), targets in ``y_range``;
    `ValueError` (naming ``names``) otherwise."""
    X = check_array(names[0], X, ndim=2, shape=(None, n_in))
    if len(X) == 0:
        raise ValueError(f"{names[0]} is empty (0 samples).")
    if Y is None:
        return X
    Y = check_array(names[1], Y, ndim=2, shape=(None, n_out))
    if len(X) != len(Y):
        raise ValueError(f"{names[0]} and {names[1]} must have the same number of samples, got {len(X)} and {len(Y)}.")
    return X, check_targets(Y, y_range, names[1])


def layer_etas(eta, n_layers):
    """Per-layer learning rates from a number or a sequence of ``n_layers`` numbers."""
    arr = np.atleast_1d(np.asarray(eta, dtype=float))
    if arr.size == 1:
        arr = np.full(n_layers, arr.item())
    if arr.size != n_layers or arr.ndim != 1:
        raise ValueError(f"eta must be a number or a sequence of {n_layers} numbers (one per weight layer), "
                         f"got {eta!r}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"eta must be finite and >= 0, got {eta!r}.")
    return arr


def init_weights(sizes, rng, output_scale=0.1):
    """Initial weights ``W_l`` ``(n_{l+1}, n_l)`` and biases (zeros) for layer sizes ``sizes``.

    Glorot-uniform ``U(-a, a)``, ``a = sqrt(6 / (n_l + n_{l+1}))``; the weights into the output
    layer are multiplied by ``output_scale`` (small initial output weights: large ones make the
    clipped outputs stick at 0 or 1).
    """
    Ws = []
    for l in range(len(sizes) - 1):
        a = np.sqrt(6.0 / (sizes[l] + sizes[l + 1]))
        W = rng.uniform(-a, a, size=(sizes[l + 1], sizes[l]))
        if l == len(sizes) - 2:
            W = W * output_scale
        Ws.append(W)
    bs = [np.zeros(n) for n in sizes[1:]]
    return Ws, bs


class RateEPReference:
    """The rate-based EP network in NumPy (see the module docstring).

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes, input first, output last (``(2, 20, 2)``; ``(2, 2)`` = no hidden layer).
    beta : float
        Nudging strength (the sign is drawn per sample when ``random_sign``).
    eta : float or sequence
        Learning rate(s), one per weight layer.
    eps : float
        Euler step in units of the time constant.
    n_free, n_nudged : int
        Steps of the free and the nudged phase.
    rule : {'chl', 'delta'}
    learn : {'all', 'output'}
        ``'output'``: only the weights into the output layer and its biases learn.
    fixed_feedback : bool
        Top-down weights stay at their initial values.
    batch_size : int
        1: update after every sample (as the Brian2 network does); ``> 1``: average the updates of
        a minibatch (states computed with the weights of the batch's start).
    seed : int, optional
    weights : (list, list), optional
        Initial ``(Ws, bs)`` (default `init_weights`).
    """

    def __init__(self, sizes=(2, 20, 2), beta=0.3, eta=0.1, eps=0.5, n_free=30, n_nudged=10, rule="chl",
                 learn="all", fixed_feedback=False, batch_size=1, random_sign=True, seed=None, weights=None,
                 output_scale=0.1):
        self.sizes = tuple(int(n) for n in sizes)
        self.beta, self.eps, self.n_free, self.n_nudged = float(beta), float(eps), int(n_free), int(n_nudged)
        self.etas = layer_etas(eta, len(self.sizes) - 1)
        if rule not in ("chl", "delta"):
            raise ValueError(f"rule must be 'chl' or 'delta', got {rule!r}.")
        if learn not in ("all", "output"):
            raise ValueError(f"learn must be 'all' or 'output', got {learn!r}.")
        self.rule, self.learn, self.fixed_feedback = rule, learn, bool(fixed_feedback)
        self.batch_size, self.random_sign = int(batch_size), bool(random_sign)
        self.rng = np.random.default_rng(seed)
        Ws, bs = weights if weights is not None else init_weights(self.sizes, self.rng, output_scale)
        self.W = [np.array(W, dtype=float) for W in Ws]
        self.b = [np.array(v, dtype=float) for v in bs]
        # top-down weights B[l] from layer l+1 to layer l (l >= 1; layer 0 is clamped)
        self.B = [None] + [W.T.copy() for W in self.W[1:]]
        self.n_samples_seen_ = 0
        self.history_ = []

    # ------------------------------------------------------------------ dynamics
    def relax(self, X, states=None, beta=None, Y=None, n_steps=None):
        """Euler steps from ``states`` (default zeros) for inputs ``X`` (batch, n_in); returns the
        list of layer states ``[x, s_1, ..., s_L]``. ``beta`` (per sample) nudges the output to ``Y``."""
        L = len(self.sizes) - 1
        n = len(X)
        s = [X] + ([np.zeros((n, k)) for k in self.sizes[1:]] if states is None else [v.copy() for v in states[1:]])
        for _ in range(n_steps):
            r = [hard_sigmoid(v) for v in s]
            new = [X]
            for l in range(1, L + 1):
                drive = r[l - 1] @ self.W[l - 1].T + self.b[l - 1]
                if l < L:
                    drive = drive + r[l + 1] @ self.B[l].T
                ds = -s[l] + rho_prime(s[l]) * drive
                if l == L and beta is not None:
                    ds = ds + beta[:, None] * (Y - s[l])
                new.append(np.clip(s[l] + self.eps * ds, 0.0, 1.0))
            s = new
        return s

    def free_phase(self, X):
        return self.relax(X, n_steps=self.n_free)

    def predict(self, X):
        """Free-phase outputs ``rho(s*_L)`` (n, n_out)."""
        return hard_sigmoid(self.free_phase(np.asarray(X, dtype=float))[-1])

    def score(self, X, Y):
        """Mean squared error of `predict` against ``Y``."""
        return mse(self.predict(X), Y)

    def signs(self, n):
        """Random signs of beta for ``n`` samples (+1 everywhere without ``random_sign``)."""
        return self.rng.choice([-1.0, 1.0], size=n) if self.random_sign else np.ones(n)

    def step(self, X, Y, signs, lr=1.0):
        """One update from a minibatch; returns the free-phase outputs."""
        L = len(self.sizes) - 1
        beta = self.beta * np.asarray(signs, dtype=float)
        free = self.free_phase(X)
        nudged = self.relax(X, free, beta, Y, self.n_nudged)
        rf = [hard_sigmoid(v) for v in free]
        rn = [hard_sigmoid(v) for v in nudged]
        scale = (lr / beta)[:, None] / len(X)  # (batch, 1)
        first = L - 1 if self.learn == "output" else 0
        for l in range(first, L):
            if self.rule == "chl":
                dW = (scale * rn[l + 1]).T @ rn[l] - (scale * rf[l + 1]).T @ rf[l]
            else:
                dW = (scale * (rn[l + 1] - rf[l + 1])).T @ rf[l]
            db = (scale * (rn[l + 1] - rf[l + 1])).sum(axis=0)
            self.W[l] += self.etas[l] * dW
            self.b[l] += self.etas[l] * db
            if l >= 1 and not self.fixed_feedback:
                self.B[l] += self.etas[l] * dW.T
        return rf[-1]

    def fit(self, X, Y, epochs=1, X_val=None, Y_val=None, eval_every=None, signs=None, shuffle=True):
        """Train for ``epochs`` passes over ``(X, Y)``; with ``X_val`` record ``history_`` rows
        ``(samples seen, training MSE since the last evaluation, held-out MSE)``."""
        X, Y = check_xy(X, Y, self.sizes[0], self.sizes[-1])
        n = len(X)
        order = np.concatenate([self.rng.permutation(n) if shuffle else np.arange(n) for _ in range(int(epochs))])
        signs = self.signs(len(order)) if signs is None else np.asarray(signs, dtype=float)
        eval_every = eval_every or max(1, len(order) // 10)
        if X_val is not None and self.n_samples_seen_ == 0:
            self.history_.append((0, np.nan, self.score(X_val, Y_val)))
        err, cnt, since = 0.0, 0, 0
        for k in range(0, len(order), self.batch_size):
            idx = order[k: k + self.batch_size]
            out = self.step(X[idx], Y[idx], signs[k: k + len(idx)])
            err += np.sum((out - Y[idx]) ** 2) / Y.shape[1]
            cnt += len(idx)
            self.n_samples_seen_ += len(idx)
            since += len(idx)
            if X_val is not None and (since >= eval_every or k + self.batch_size >= len(order)):
                self.history_.append((self.n_samples_seen_, err / cnt, self.score(X_val, Y_val)))
                err, cnt, since = 0.0, 0, 0
        return self

    @property
    def history(self):
        return np.array(self.history_, dtype=float).reshape(-1, 3)


# ---------------------------------------------------------------------- baselines
def linear_baseline(Xtr, Ytr, Xte, Yte):
    """Held-out MSE of a linear least-squares fit (scikit-learn ``LinearRegression``)."""
    model = LinearRegression().fit(Xtr, Ytr)
    return mse(model.predict(Xte), Yte)


def backprop_baseline(Xtr, Ytr, Xte, Yte, hidden=(20,), seed=0, max_iter=2000):
    """Held-out MSE of a backprop network of the same shape (scikit-learn ``MLPRegressor``,
    logistic hidden units, Adam, early stopping off)."""
    model = MLPRegressor(hidden_layer_sizes=tuple(hidden), activation="logistic", solver="adam",
                         learning_rate_init=1e-2, max_iter=max_iter, tol=1e-7, n_iter_no_change=50,
                         random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, Ytr)
    return mse(model.predict(Xte), Yte)
