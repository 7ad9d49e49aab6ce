"""
Equilibrium propagation with rate neurons and with leaky integrate-and-fire neurons
(Scellier & Bengio 2017, Front. Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea 2016,
"Towards deep learning with spiking neurons in energy based models with contrastive Hebbian
plasticity", arXiv:1612.03214; DESIGN.md section 4.4).

`EquilibriumPropagation` is the scikit-learn regressor. Per sample, a free phase relaxes the
network with the inputs clamped, a nudged phase pulls the outputs toward the target with
strength ``beta`` (random sign per sample), and at the trial end every weight changes by the
contrastive Hebbian rule ``eta/beta (rho_i^beta rho_j^beta - rho_i^* rho_j^*)`` (or the delta
rule) — the two phases and the update run inside one compiled Brian2 simulation
(`protocols.eqprop_rate.RateEPNetwork`, `protocols.eqprop_lif.LIFEPNetwork`; their neuron and
synapse models are in ``brianlearn.models``). `protocols.eqprop_reference` holds the NumPy
reference of the rate network and the baselines; `brianlearn.datasets.regression` the
two-link-arm task; the experiments are ``figures/eqprop_rate.py`` and ``figures/eqprop_lif.py``.
"""

import numpy as np
from brian2 import ms
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from brianlearn.datasets.regression import regression_task, two_link_arm
from brianlearn.estimator import CompiledNetworkMixin
from brianlearn.validation import TIME_UNIT, check_int, check_quantity, check_scalar

from .eqprop_layers import RULES
from .eqprop_lif import LIFEPNetwork
from .eqprop_rate import RateEPNetwork
from .eqprop_reference import (RateEPReference, backprop_baseline, check_targets, check_xy, layer_etas,
                               linear_baseline, mse)

__all__ = ["EquilibriumPropagation", "RateEPNetwork", "LIFEPNetwork", "RateEPReference", "two_link_arm",
           "regression_task", "linear_baseline", "backprop_baseline", "mse", "default_etas", "DEFAULT_ETAS"]

#: default learning rates, (neuron, rule) -> (every hidden layer's weights, the output layer's):
#: chosen on a validation set by ``figures/eqprop_tuning.py`` (its rows in RESULTS.md)
DEFAULT_ETAS = {("rate", "chl"): (0.1, 0.05), ("rate", "delta"): (0.1, 0.05),
                ("lif", "chl"): (0.00075, 0.000375), ("lif", "delta"): (0.003, 0.0015)}


def default_etas(n_layers, neuron="lif", rule="chl"):
    """The default learning rates (per weight layer) of an EP network of ``n_layers`` weight layers."""
    hidden, output = DEFAULT_ETAS[neuron, rule]
    return [hidden] * (n_layers - 1) + [output]

#: time step of the rate network (Euler steps of eps = 0.5 in units of tau = TIME_UNIT)
RATE_DT = 0.5 * TIME_UNIT


def _duration(name, value):
    if value is not None:
        check_quantity(name, value, ms, "ms", allow_array=False, positive=True)
    return value


def _steps(name, value, dt, default):
    """Whole time steps of a rate-network phase (a `ValueError` naming ``name`` otherwise)."""
    value = default if value is None else value
    n = float(value / dt)
    if abs(n - round(n)) > 1e-6:
        raise ValueError(f"{name} ({value}) must be a positive multiple of the time step {dt}.")
    return int(round(n))


class EquilibriumPropagation(CompiledNetworkMixin, RegressorMixin, BaseEstimator):
    """Equilibrium propagation network for regression (targets in ``[0, 1]``).

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
        Learning rate(s), one per weight layer (default `DEFAULT_ETAS` of the neuron and rule,
        chosen on a validation set by ``figures/eqprop_tuning.py``: rate ``0.1`` per layer,
        ``0.05`` into the output layer; LIF, rule ``'chl'``: ``0.00075`` and ``0.000375``; LIF,
        rule ``'delta'``: ``0.003`` and ``0.0015``).
    free_duration, nudged_duration : Quantity, optional
        Phase durations (rate: 15 ms and 5 ms = 30 and 10 Euler steps of ``eps = 0.5``,
        ``tau = 1 ms``, ``dt = 0.5 ms``; LIF: 300 ms and 200 ms at ``dt = 0.5 ms``).
    rule : {'chl', 'delta'}
        Contrastive Hebbian rule (default: the seeds' eq. 3, for rate and LIF neurons) or the delta
        rule (the models ``contrastive_hebbian`` and ``contrastive_delta``).
    learn : {'all', 'output'}
        ``'output'``: only the weights into the output layer (and its biases) learn.
    fixed_feedback : bool
        Top-down weights keep their random initial values.
    neurons_per_dim : int
        LIF network: neurons per input and per output dimension (population coding).
    nudging : {'seed', 'constant'}
        LIF network: the output neurons' nudging factor. ``'seed'`` (default): seed 003's
        ``lam = RI / (RI + sum_j w_ij s_j)`` (times ``beta``); ``'constant'``: a target-independent
        nudging conductance ``lam = beta G / (beta G + [I_up]+)``, ``G = 25 mV``
        (`models.lif_ep_output`).
    epochs : int
        Passes over the data (in a new random order each, with ``shuffle``).
    eval_every : int, optional
        Samples between the points of ``history_`` (default: 10 points per fit).
    shuffle : bool
        Present the samples of each pass in a new random order.
    anneal : float or None
        The learning rate falls linearly from ``eta`` to ``anneal * eta`` over the presented
        samples (a per-trial signal ``lr``); ``None`` or 1: constant.
    seed : int, optional
        Fixes the initial weights, the order of the samples and the signs of ``beta``.
    device : str, optional
        Default: brianlearn's default device (``cpp_standalone``).
    chunk_size : int, optional
        Trials per compiled run.
    progress : bool
        Report progress per compiled chunk.

    Attributes
    ----------
    feedforward_ : list of arrays ``(n_{l+1}, n_l)``
        Forward weights of each layer ``l`` (input to output).
    feedback_ : list
        Top-down weights ``(n_l, n_{l+1})`` from layer ``l+1`` to ``l``; ``None`` for ``l = 0``
        (the inputs are clamped). Equal to ``feedforward_[l].T`` unless ``fixed_feedback``.
    biases_ : list of arrays ``(n_{l+1},)``
    history_ : dict of arrays
        ``'n_samples'`` (samples seen), ``'train_mse'`` (MSE of the free-phase outputs of the
        training samples since the previous point) and ``'val_mse'`` (held-out MSE; NaN without
        a held-out set).
    n_features_in_, n_outputs_, n_samples_seen_ : int
    train_outputs_ : array
        Free-phase outputs of every trial of the fit (training and held-out).
    complete_ : bool
        False when ``fit`` stopped after ``max_chunks``.
    """

    def __init__(self, hidden=(20,), neuron="rate", beta=None, eta=None, free_duration=None, nudged_duration=None,
                 rule="chl", learn="all", fixed_feedback=False, neurons_per_dim=20, nudging="seed", epochs=3,
                 eval_every=None, shuffle=True, anneal=0.1, seed=None, device=None, chunk_size=None, progress=False):
        self.hidden = hidden
        self.neuron = neuron
        self.beta = beta
        self.eta = eta
        self.free_duration = free_duration
        self.nudged_duration = nudged_duration
        self.rule = rule
        self.learn = learn
        self.fixed_feedback = fixed_feedback
        self.neurons_per_dim = neurons_per_dim
        self.nudging = nudging
        self.epochs = epochs
        self.eval_every = eval_every
        self.shuffle = shuffle
        self.anneal = anneal
        self.seed = seed
        self.device = device
        self.chunk_size = chunk_size
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = True
        return tags

    # ------------------------------------------------------------------ set-up
    @property
    def network_(self):
        """The Brian2 network of the fit (`RateEPNetwork` or `LIFEPNetwork`; rebuilt after unpickling)."""
        check_is_fitted(self, "feedforward_")
        if getattr(self, "_net", None) is None:
            self._net = self._build_network(self.n_features_in_, self.n_outputs_)
        return self._net

    def _build_network(self, n_in, n_out):
        """The Brian2 network (a `brianlearn.Protocol`) of the parameters, validated."""
        if self.neuron not in ("rate", "lif"):
            raise ValueError(f"neuron must be 'rate' or 'lif', got {self.neuron!r}.")
        try:
            hidden = tuple(int(h) for h in self.hidden)
        except TypeError:
            raise ValueError(f"hidden must be a tuple of layer sizes, got {self.hidden!r}.") from None
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden layer sizes must be positive, got {self.hidden!r}.")
        rule = self.rule
        if rule not in RULES:
            raise ValueError(f"rule must be 'chl' or 'delta', got {self.rule!r}.")
        if self.learn not in ("all", "output"):
            raise ValueError(f"learn must be 'all' or 'output', got {self.learn!r}.")
        P = check_int("neurons_per_dim", self.neurons_per_dim)
        beta = (0.3 if self.neuron == "rate" else 1.0) if self.beta is None else self.beta
        beta = check_scalar("beta (a positive number)", beta, minimum=0, strict=True)
        sizes = (n_in,) + hidden + (n_out,)
        L = len(sizes) - 1
        default = default_etas(L, self.neuron, rule)
        etas = layer_etas(default if self.eta is None else self.eta, L)
        free = _duration("free_duration", self.free_duration)
        nudged = _duration("nudged_duration", self.nudged_duration)
        kw = dict(device=self.device, seed=self.seed, chunk_size=self.chunk_size, progress=self.progress)
        common = (beta, etas, rule, self.learn, bool(self.fixed_feedback))
        if self.neuron == "rate":
            return RateEPNetwork(sizes, *common, n_free=_steps("free_duration", free, RATE_DT, 30 * RATE_DT),
                                 n_nudged=_steps("nudged_duration", nudged, RATE_DT, 10 * RATE_DT),
                                 eps=float(RATE_DT / TIME_UNIT), **kw)
        if self.nudging not in ("seed", "constant"):
            raise ValueError(f"nudging must be 'seed' or 'constant', got {self.nudging!r}.")
        return LIFEPNetwork(sizes, *common, neurons_per_dim=P, free_duration=free, nudged_duration=nudged,
                            nudging=self.nudging, **kw)

    def _weights(self):
        return self.feedforward_, self.feedback_, self.biases_

    @staticmethod
    def _simulate(net, X, Y, lr, signs, weights, **run_kw):
        """Free-phase outputs of ``net``, the weights after the run and whether it completed."""
        net.init_state = net.state_from_weights(*weights)
        net.state_ = net.state_from_weights(*weights)
        res = net.run_trials({"x": X, "y": Y}, signals={"lr": lr, "sign": signs}, **run_kw)
        return net.outputs_from_records(res.records), net.weights_from_state(res.state), res.info["complete"]

    # ------------------------------------------------------------------ API
    def fit(self, X, y, X_val=None, Y_val=None, signs=None, checkpoint=None, resume=False, max_chunks=None):
        """Learn from ``X`` (n, n_in) and targets ``y`` (n, n_out) or (n,) in ``[0, 1]``, from new weights.

        Parameters
        ----------
        X_val, Y_val : arrays, optional
            Held-out set: its MSE is measured (without learning, inside the same compiled runs)
            after every ``eval_every`` samples and stored in ``history_`` with the training MSE
            of the free-phase outputs since the last point.
        signs : array, optional
            The sign of ``beta`` for each presented sample (default: random).
        checkpoint : str, optional
            ``.npz`` file that receives the weights (and outputs so far) after every compiled
            chunk of trials.
        resume : bool
            Continue from ``checkpoint`` if it exists. The fit must be the same (data, arguments
            and a ``seed``, which fixes the order of the samples); otherwise a `ValueError`.
        max_chunks : int, optional
            Stop after this many chunks (``complete_`` is then False; resume later).
        """
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        Y = check_targets(np.asarray(y, dtype=float).reshape(len(y), -1), name="y")
        epochs = check_int("epochs", self.epochs)
        if (X_val is None) != (Y_val is None):
            raise ValueError("Give both X_val and Y_val, or neither.")
        if X_val is not None:
            Y_val = np.asarray(Y_val)
            X_val, Y_val = check_xy(X_val, Y_val.reshape(len(Y_val), -1), X.shape[1], Y.shape[1],
                                    names=("X_val", "Y_val"))
        anneal = 1.0 if self.anneal is None else check_scalar("anneal", self.anneal, minimum=0)
        self._net = net = self._build_network(X.shape[1], Y.shape[1])
        self.n_outputs_, self._single_output = Y.shape[1], y.ndim == 1
        rng = np.random.default_rng(self.seed)
        Ws, bs = net.init_weights(rng)
        Bs = [None] + [W.T.copy() for W in Ws[1:]]
        if self.fixed_feedback:  # random top-down weights of their own, Glorot scale (not shrunk)
            Bs = [None] + [W.T.copy() for W in net.init_weights(rng, output_scale=1.0)[0][1:]]
        sign_rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        order_rng = np.random.default_rng(None if self.seed is None else self.seed + 2)
        n = len(X)
        order = np.concatenate([order_rng.permutation(n) if self.shuffle else np.arange(n) for _ in range(epochs)])
        if signs is None:  # (the LIF network nudges toward the target only: sign +1)
            signs = (sign_rng.choice([-1.0, 1.0], size=len(order)) if self.neuron == "rate"
                     else np.ones(len(order)))
        signs = np.asarray(signs, dtype=float)
        if signs.shape != order.shape or not np.all(np.abs(signs) == 1):
            raise ValueError(f"signs must be {len(order)} values of +1 or -1 (one per presented sample).")
        every = max(1, int(np.ceil(len(order) / 10))) if self.eval_every is None else \
            check_int("eval_every", self.eval_every)
        lr = np.linspace(1.0, anneal, len(order)) if len(order) > 1 else np.ones(1)
        # the stream of trials: training blocks, each followed by the held-out set (lr = 0)
        blocks = [] if X_val is None else [("val", 0, X_val, Y_val, np.zeros(len(X_val)), np.ones(len(X_val)))]
        for k in range(0, len(order), every):
            idx = order[k: k + every]
            blocks.append(("train", k + len(idx), X[idx], Y[idx], lr[k: k + len(idx)], signs[k: k + len(idx)]))
            if X_val is not None:
                blocks.append(("val", k + len(idx), X_val, Y_val, np.zeros(len(X_val)), np.ones(len(X_val))))
        out, weights, self.complete_ = self._simulate(
            net, *(np.concatenate([blk[i] for blk in blocks]) for i in range(2, 6)), (Ws, Bs, bs),
            checkpoint=checkpoint, resume=resume, max_chunks=max_chunks)
        self.feedforward_, self.feedback_, self.biases_ = weights
        self.history_ = self._history(blocks, out, X_val is not None)
        trained = np.concatenate([np.full(len(blk[2]), blk[0] == "train") for blk in blocks])
        self.n_samples_seen_ = int(trained[: len(out)].sum())
        self.train_outputs_ = out
        return self

    @staticmethod
    def _history(blocks, out, with_val):
        """``history_`` from the outputs of the blocks of trials that ran."""
        hist, pos, train_err = [], 0, np.nan
        for kind, seen, x, y, _, _ in blocks:
            if pos + len(x) > len(out):  # (a fit stopped by max_chunks: the blocks done so far)
                break
            err = mse(out[pos: pos + len(x)], y)
            pos += len(x)
            if kind == "train":
                train_err = err
                if not with_val:
                    hist.append((seen, err, np.nan))
            else:
                hist.append((seen, train_err, err))
                train_err = np.nan
        h = np.array(hist, dtype=float).reshape(-1, 3)
        return {"n_samples": h[:, 0].astype(int), "train_mse": h[:, 1], "val_mse": h[:, 2]}

    def predict(self, X):
        """Free-phase outputs ``(n, n_out)`` (``(n,)`` after a fit on 1-D targets) for ``X``; no learning."""
        check_is_fitted(self, "feedforward_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Y = np.full((len(X), self.n_outputs_), 0.5)
        out = self._simulate(self.network_, X, Y, np.zeros(len(X)), np.ones(len(X)), self._weights())[0]
        return out.ravel() if self._single_output else out

    def reference(self):
        """A `RateEPReference` (NumPy) with this estimator's settings and current weights."""
        if self.neuron != "rate":
            raise ValueError("The NumPy reference exists for neuron='rate' only.")
        check_is_fitted(self, "feedforward_")
        net = self.network_
        ref = RateEPReference(net.sizes, beta=net.beta, eta=net.etas, eps=net.eps, n_free=net.n_free,
                              n_nudged=net.n_nudged, rule=net.rule, learn=net.learn,
                              fixed_feedback=net.fixed_feedback, weights=(self.feedforward_, self.biases_))
        ref.B = [None if B is None else B.copy() for B in self.feedback_]
        return ref

    # ------------------------------------------------------------------ old names
    @property
    def weights_(self):
        """Old name of `feedforward_`."""
        return self.feedforward_

    @property
    def feedback_weights_(self):
        """Old name of `feedback_`."""
        return self.feedback_
