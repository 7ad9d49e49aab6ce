"""
Equilibrium propagation with rate neurons and with leaky integrate-and-fire neurons
(Scellier & Bengio 2017, Front. Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea 2016,
"Towards deep learning with spiking neurons in energy based models with contrastive Hebbian
plasticity", arXiv:1612.03214; DESIGN.md section 4.4).

`EquilibriumPropagation` is the scikit-learn-style estimator. Per sample, a free phase relaxes
the network with the inputs clamped, a nudged phase pulls the outputs toward the target with
strength ``beta`` (random sign per sample), and at the trial end every weight changes by the
contrastive Hebbian rule ``eta/beta (rho_i^beta rho_j^beta - rho_i^* rho_j^*)`` (or the delta
rule) — the two phases and the update run inside one compiled Brian2 simulation
(`protocols.eqprop_rate.RateEPNetwork`, `protocols.eqprop_lif.LIFEPNetwork`).
`protocols.eqprop_reference` holds the NumPy reference of the rate network and the baselines;
`brianlearn.datasets.regression` the two-link-arm task.
"""

import numpy as np
from brian2 import Quantity, ms
from brian2.units.fundamentalunits import get_dimensions

from brianlearn.datasets.regression import regression_task, two_link_arm

from .eqprop_lif import LIFEPNetwork, lif_ep_hidden, lif_ep_output
from .eqprop_rate import TIME_UNIT, RateEPNetwork, rate_ep_neuron
from .eqprop_reference import (RateEPReference, backprop_baseline, check_xy, init_weights, layer_etas,
                               linear_baseline, mse)

__all__ = ["EquilibriumPropagation", "RateEPNetwork", "LIFEPNetwork", "RateEPReference", "rate_ep_neuron",
           "lif_ep_hidden", "lif_ep_output", "two_link_arm",
           "regression_task", "linear_baseline", "backprop_baseline", "experiment"]


def _as_steps(name, value, dt, default):
    if value is None:
        value = default
    if not isinstance(value, Quantity) or get_dimensions(value) is not ms.dim:
        raise ValueError(f"{name} must be a time (e.g. 15*ms), got {value!r}.")
    n = float(value / dt)
    if not n >= 1 or abs(n - round(n)) > 1e-6:
        raise ValueError(f"{name} ({value}) must be a positive multiple of the time step {dt}.")
    return int(round(n))


class EquilibriumPropagation:
    """Equilibrium propagation network for regression (outputs in ``[0, 1]``).

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer sizes (``()``: no hidden layer).
    neuron : {'rate', 'lif'}
        Rate neurons (hard-sigmoid energy network) or leaky integrate-and-fire neurons
        (population-coded inputs and outputs, nudged two-compartment outputs; see
        `protocols.eqprop_lif`).
    beta : float, optional
        Nudging strength (default 0.3 for rate neurons, its sign drawn at random per sample; 1 for
        LIF neurons, where it scales the nudging conductance and the sign is always +1).
    eta : float or sequence, optional
        Learning rate(s), one per weight layer (default: rate ``0.1`` per layer, ``0.05`` into the
        output layer; LIF ``0.003`` and ``0.0015``).
    free_duration, nudged_duration : Quantity, optional
        Phase durations (rate: 15 ms and 5 ms = 30 and 10 Euler steps of ``eps = 0.5``,
        ``tau = 1 ms``, ``dt = 0.5 ms``; LIF: 300 ms and 200 ms at ``dt = 0.5 ms``).
    rule : {'chl', 'delta'}, optional
        Contrastive Hebbian or delta rule (default: ``'chl'`` for rate neurons, ``'delta'`` for LIF
        neurons, where the product of two noisy spike-based rates makes CHL learn worse).
    learn : {'all', 'output'}
        ``'output'``: only the weights into the output layer (and its biases) learn.
    fixed_feedback : bool
        Top-down weights keep their random initial values.
    neurons_per_dim : int
        LIF network: neurons per input and per output dimension (population coding).
    seed : int, optional
    device : str, optional
        Default: brianlearn's default device (``cpp_standalone``).
    chunk_size : int, optional
        Trials per compiled run.

    Attributes
    ----------
    weights_ : list of arrays ``(n_{l+1}, n_l)``; feedback_weights_ : list (None for the input
    layer) of ``(n_l, n_{l+1})``; biases_ : list of arrays; history_ : array of rows
    ``(samples seen, training MSE since the previous row, held-out MSE)``.
    """

    def __init__(self, hidden=(20,), neuron="rate", beta=None, eta=None, free_duration=None, nudged_duration=None,
                 rule=None, learn="all", fixed_feedback=False, neurons_per_dim=20, seed=None, device=None,
                 chunk_size=None, progress=False):
        if neuron not in ("rate", "lif"):
            raise ValueError(f"neuron must be 'rate' or 'lif', got {neuron!r}.")
        try:
            hidden = tuple(int(h) for h in hidden)
        except TypeError:
            raise ValueError(f"hidden must be a tuple of layer sizes, got {hidden!r}.") from None
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden layer sizes must be positive, got {hidden!r}.")
        if rule is None:  # the delta rule is less noisy with spike-based rates (measured)
            rule = "chl" if neuron == "rate" else "delta"
        if rule not in ("chl", "delta"):
            raise ValueError(f"rule must be 'chl' or 'delta', got {rule!r}.")
        if learn not in ("all", "output"):
            raise ValueError(f"learn must be 'all' or 'output', got {learn!r}.")
        if not isinstance(neurons_per_dim, (int, np.integer)) or neurons_per_dim < 1:
            raise ValueError(f"neurons_per_dim must be a positive integer, got {neurons_per_dim!r}.")
        self.hidden, self.neuron, self.rule, self.learn = hidden, neuron, rule, learn
        self.fixed_feedback, self.neurons_per_dim = bool(fixed_feedback), int(neurons_per_dim)
        self.beta = (0.3 if neuron == "rate" else 1.0) if beta is None else beta
        if not np.isfinite(self.beta) or self.beta <= 0:
            raise ValueError(f"beta must be a positive number, got {beta!r}.")
        self.eta = eta
        self.free_duration, self.nudged_duration = free_duration, nudged_duration
        self.seed, self.device, self.chunk_size, self.progress = seed, device, chunk_size, progress
        self.weights_ = self.feedback_weights_ = self.biases_ = None
        self.history_ = np.zeros((0, 3))
        self._net = None
        self._n_in = self._n_out = None
        self._etas(2, 2)  # validate eta early

    # ------------------------------------------------------------------ set-up
    def _sizes(self, n_in, n_out):
        return (n_in,) + self.hidden + (n_out,)

    def _etas(self, n_in, n_out):
        L = len(self._sizes(n_in, n_out)) - 1
        if self.eta is None:
            default = [0.1] * (L - 1) + [0.05] if self.neuron == "rate" else None
            if default is None:
                from .eqprop_lif import default_etas

                default = default_etas(L)
            return layer_etas(default, L)
        return layer_etas(self.eta, L)

    def _network(self, n_in, n_out):
        if self._net is not None and (self._n_in, self._n_out) == (n_in, n_out):
            return self._net
        kw = dict(device=self.device, seed=self.seed, chunk_size=self.chunk_size, progress=self.progress)
        sizes, etas = self._sizes(n_in, n_out), self._etas(n_in, n_out)
        if self.neuron == "rate":
            dt = 0.5 * TIME_UNIT
            n_free = _as_steps("free_duration", self.free_duration, dt, 30 * dt)
            n_nudged = _as_steps("nudged_duration", self.nudged_duration, dt, 10 * dt)
            self._net = RateEPNetwork(sizes, self.beta, etas, self.rule, self.learn, self.fixed_feedback,
                                      n_free=n_free, n_nudged=n_nudged, eps=0.5, **kw)
        else:
            self._net = LIFEPNetwork(sizes, self.beta, etas, self.rule, self.learn, self.fixed_feedback,
                                     neurons_per_dim=self.neurons_per_dim, free_duration=self.free_duration,
                                     nudged_duration=self.nudged_duration, **kw)
        self._n_in, self._n_out = n_in, n_out
        return self._net

    def _init(self, n_in, n_out):
        net = self._network(n_in, n_out)
        rng = np.random.default_rng(self.seed)
        Ws, bs = net.init_weights(rng) if hasattr(net, "init_weights") else init_weights(self._sizes(n_in, n_out), rng)
        self.weights_ = [W.copy() for W in Ws]
        self.feedback_weights_ = [None] + [W.T.copy() for W in Ws[1:]]
        if self.fixed_feedback:  # random top-down weights of their own, Glorot scale (not shrunk)
            sizes = [W.shape[1] for W in Ws] + [Ws[-1].shape[0]]
            fb, _ = init_weights(sizes, rng, output_scale=1.0)
            self.feedback_weights_ = [None] + [W.T.copy() for W in fb[1:]]
        self.biases_ = [v.copy() for v in bs]
        self._sign_rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        self.n_samples_seen_ = 0
        self.history_ = np.zeros((0, 3))

    def _state(self):
        return self._net.state_from_weights(self.weights_, self.feedback_weights_, self.biases_)

    def _run(self, X, Y, lr, signs, **run_kw):
        net = self._net
        net.init_state = self._state()
        net.state_ = self._state()
        res = net.run_trials({"x": X, "y": Y}, signals={"lr": lr, "sign": signs}, **run_kw)
        self.weights_, self.feedback_weights_, self.biases_ = net.weights_from_state(res.state)
        self.complete_ = res.info["complete"]
        return net.outputs_from_records(res.records)

    # ------------------------------------------------------------------ API
    def fit(self, X, Y, epochs=3, X_val=None, Y_val=None, eval_every=None, signs=None, shuffle=True,
            anneal=0.1, checkpoint=None, resume=False, max_chunks=None):
        """Learn from ``X`` (n, n_in) and targets ``Y`` (n, n_out) in ``[0, 1]``, from new weights.

        Parameters
        ----------
        epochs : int
            Passes over the data (in a new random order each, with ``shuffle``).
        X_val, Y_val : arrays, optional
            Held-out set: its MSE is measured (without learning, inside the same compiled runs)
            after every ``eval_every`` samples (default: 10 points per fit) and stored in
            ``history_`` with the training MSE of the free-phase outputs since the last point.
        signs : array, optional
            The sign of ``beta`` for each presented sample (default: random).
        anneal : float or None
            The learning rate falls linearly from ``eta`` to ``anneal * eta`` over the presented
            samples (a per-trial signal ``lr``); ``None`` or 1: constant.
        checkpoint : str, optional
            ``.npz`` file that receives the weights (and outputs so far) after every compiled
            chunk of trials.
        resume : bool
            Continue from ``checkpoint`` if it exists. The fit must be the same (data, arguments
            and a ``seed``, which fixes the order of the samples); otherwise a `ValueError`.
        max_chunks : int, optional
            Stop after this many chunks (``complete_`` is then False; resume later).
        """
        X, Y = check_xy(X, Y)
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
        if (X_val is None) != (Y_val is None):
            raise ValueError("Give both X_val and Y_val, or neither.")
        if X_val is not None:
            X_val, Y_val = check_xy(X_val, Y_val, X.shape[1], Y.shape[1])
        self._init(X.shape[1], Y.shape[1])
        rng = np.random.default_rng(None if self.seed is None else self.seed + 2)
        n = len(X)
        order = np.concatenate([rng.permutation(n) if shuffle else np.arange(n) for _ in range(epochs)])
        if signs is None:  # (the LIF network nudges toward the target only: sign +1)
            signs = (self._sign_rng.choice([-1.0, 1.0], size=len(order)) if self.neuron == "rate"
                     else np.ones(len(order)))
        signs = np.asarray(signs, dtype=float)
        if signs.shape != order.shape or not np.all(np.abs(signs) == 1):
            raise ValueError(f"signs must be {len(order)} values of +1 or -1 (one per presented sample).")
        eval_every = int(eval_every or max(1, int(np.ceil(len(order) / 10))))
        if anneal is None:
            anneal = 1.0
        if not np.isfinite(anneal) or not 0 <= anneal:
            raise ValueError(f"anneal must be a number >= 0 or None, got {anneal!r}.")
        lr = np.linspace(1.0, anneal, len(order)) if len(order) > 1 else np.ones(1)
        # the stream of trials: training blocks, each followed by the held-out set (lr = 0)
        xs, ys, lrs, sg, kinds = [], [], [], [], []
        if X_val is not None:
            xs, ys, lrs, sg, kinds = [X_val], [Y_val], [np.zeros(len(X_val))], [np.ones(len(X_val))], [("val", 0)]
        for k in range(0, len(order), eval_every):
            idx = order[k: k + eval_every]
            xs.append(X[idx]), ys.append(Y[idx]), lrs.append(lr[k: k + len(idx)]), sg.append(signs[k: k + len(idx)])
            kinds.append(("train", k + len(idx)))
            if X_val is not None:
                xs.append(X_val), ys.append(Y_val), lrs.append(np.zeros(len(X_val))), sg.append(np.ones(len(X_val)))
                kinds.append(("val", k + len(idx)))
        out = self._run(np.concatenate(xs), np.concatenate(ys), np.concatenate(lrs), np.concatenate(sg),
                        checkpoint=checkpoint, resume=resume, max_chunks=max_chunks)
        hist, pos, train_err = [], 0, np.nan
        for (kind, seen), x, y in zip(kinds, xs, ys):
            if pos + len(x) > len(out):  # (a fit stopped by max_chunks: the blocks done so far)
                break
            err = mse(out[pos: pos + len(x)], y)
            pos += len(x)
            if kind == "train":
                train_err = err
                if X_val is None:
                    hist.append((seen, err, np.nan))
            else:
                hist.append((seen, train_err, err))
                train_err = np.nan
        self.history_ = np.array(hist, dtype=float).reshape(-1, 3)
        trained = np.concatenate([np.full(len(x), kind == "train") for (kind, _), x in zip(kinds, xs)])
        self.n_samples_seen_ = int(trained[: len(out)].sum())
        self.train_outputs_ = out
        return self

    def _check_fitted(self):
        if self.weights_ is None:
            raise ValueError(f"This {type(self).__name__} is not fitted yet: call fit first.")

    def predict(self, X):
        """Free-phase outputs ``(n, n_out)`` for inputs ``X`` (no learning)."""
        self._check_fitted()
        X = check_xy(X, n_in=self._n_in)
        Y = np.full((len(X), self._n_out), 0.5)
        saved = (self.weights_, self.feedback_weights_, self.biases_)
        out = self._run(X, Y, np.zeros(len(X)), np.ones(len(X)))
        self.weights_, self.feedback_weights_, self.biases_ = saved
        return out

    def score(self, X, Y):
        """Mean squared error of `predict` on ``(X, Y)`` (lower is better)."""
        self._check_fitted()
        X, Y = check_xy(X, Y, self._n_in, self._n_out)
        return mse(self.predict(X), Y)

    def reference(self):
        """A `RateEPReference` (NumPy) with this estimator's settings and current weights."""
        if self.neuron != "rate":
            raise ValueError("The NumPy reference exists for neuron='rate' only.")
        self._check_fitted()
        net = self._net
        ref = RateEPReference(net.sizes, beta=self.beta, eta=net.etas, eps=net.eps, n_free=net.n_free,
                              n_nudged=net.n_nudged, rule=self.rule, learn=self.learn,
                              fixed_feedback=self.fixed_feedback, weights=(self.weights_, self.biases_))
        ref.B = [None if B is None else B.copy() for B in self.feedback_weights_]
        return ref


def experiment(out="figures", quick=True, seed=0, device=None):
    """Regenerate the equilibrium-propagation figures and results rows (``brianlearn run eqprop``)."""
    from . import eqprop_experiments as ex

    return ex.run_all(out=out, quick=quick, seed=seed, device=device)
