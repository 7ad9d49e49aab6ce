"""
Demo: a spiking two-phase (free / clamped) network that learns a linear map with the
contrastive delta rule — the smallest complete use of the engine.

Input neurons (perfect integrate-and-fire, ``models.perfect_if``) fire at rates set by the
sample ``x``; a constantly firing neuron provides a bias. Their low-pass rate traces
(``models.rate_trace``) drive the dendrites of nudged two-compartment LIF output neurons
(``models.nudged_output``): ``I_dend = sum_j w_ij r_j``. Each trial has four phases::

    free_settle (20 ms) | free (400 ms) | clamped_settle (20 ms) | clamped (400 ms)

In the clamped phases a somatic nudging current ``I_nudge = y / R`` pulls each output toward
its target drive ``y`` through the nudging factor. Output rates are spike counts over the free
and clamped windows (``models.phase_rates``), and at the end of the trial every synapse applies
``models.contrastive_delta``::

    dw = eta * (r_clamped_post - r_free_post) * r_free_pre

which vanishes when the dendritic prediction equals the target (Urbanczik & Senn 2014;
Mesnard, Gerstner & Brea 2016). The teacher is an affine map ``y = y0 + A x``.

`DemoNetwork` is the compiled network (a `brianlearn.Protocol`); `ContrastiveDemo` is the
scikit-learn regressor around it. The experiment that reproduces the README figure is
``figures/demo.py`` (``brianlearn demo``).
"""

import numpy as np
from brian2 import Hz, Mohm, ms, mV, second, volt
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted, validate_data

from brianlearn.estimator import CompiledNetworkMixin
from brianlearn.models import get_model, lif_rate
from brianlearn.models.phase_rates import window_end, window_start
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule

__all__ = ["DemoNetwork", "ContrastiveDemo", "teacher_task", "target_rates"]


def teacher_task(n_samples, n_in=4, n_out=2, seed=0):
    """Inputs ``x ~ U[0, 1]`` and target drives ``y = y0 + A x`` (volts) of a random teacher."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(2.0, 8.0, size=(n_out, n_in)) * 1e-3  # volt per unit input
    y0 = 22e-3
    X = rng.uniform(0, 1, size=(n_samples, n_in))
    return X, y0 + X @ A.T, A


class DemoNetwork(Protocol):
    """The compiled demo network: spiking delta-rule learner of an affine map (module docstring).

    Parameters
    ----------
    n_in, n_out : int
        Input features and output neurons.
    eta : Quantity
        Learning rate of ``contrastive_delta`` (units second**2).
    dt : Quantity
        Simulation time step.
    **kwds
        `Protocol` arguments (``device``, ``seed``, ``chunk_size``, ``progress``).
    """

    name = "demo"
    trial_signal_defaults = {"lr": 1.0}
    #: input rates: (offset + gain*x) / (theta*tau) = 20–100 Hz; bias neuron 50 Hz
    input_offset, input_gain, bias_level = 0.2, 0.8, 0.5
    w_unit = 1 * mV * second

    def __init__(self, n_in=4, n_out=2, eta=4e-5 * second**2, window=400 * ms, settle=20 * ms,
                 dt=0.1 * ms, **kwds):
        super().__init__(**kwds)
        self.n_in, self.n_out, self.eta = n_in, n_out, eta
        # a slow trace (small ripple on the dendrites), started at its mean: v0 -> rate
        self.input_model = get_model("perfect_if")(tau=10 * ms).extend(get_model("rate_trace")(tau_r=200 * ms))
        self.output_model = get_model("nudged_output")(R=100 * Mohm).extend(get_model("phase_rates"))
        self.synapse_model = get_model("contrastive_delta")(eta=eta)
        self.schedule = Schedule([Phase("free_settle", settle), Phase("free", window),
                                  Phase("clamped_settle", settle), Phase("clamped", window)], dt=dt)

    def config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "eta": float(self.eta),
                "models": [m.describe() for m in (self.input_model, self.output_model, self.synapse_model)]}

    def data_shapes(self):
        return {"x": self.n_in, "y": self.n_out}

    def initial_state(self, rng):
        return {"ff.w": rng.uniform(0.0, 0.05, (self.n_in + 1) * self.n_out)}

    def build_network(self, b):
        s = self.schedule
        b.data("x"), b.data("y")  # the TimedArrays data_x(t, i), data_y(t, i)
        # n_in input neurons and one constantly firing bias neuron (index n_in)
        inputs = self.input_model.extend(get_model("phase_rates")).make_group(self.n_in + 1, "inputs", variables=("bias",),
                                                                 clock=b.clock)
        out = self.output_model.make_group(self.n_out, "outputs", clock=b.clock)
        # dendritic input I_dend = sum_j w_ij r_j, summed every time step
        syn_model = self.synapse_model.replace(
            model=self.synapse_model.model + "\nI_dend_post = w * w_unit * r_pre : volt (summed)",
            parameters=dict(self.synapse_model.parameters, w_unit=self.w_unit))
        ff = syn_model.make_synapses(inputs, out, "ff", clock=b.clock)
        b.add(inputs, out, ff)
        # trial start: new sample, fresh state
        n = self.n_in
        level = (f"int(i < {n}) * ({self.input_offset} + {self.input_gain} * data_x(t, i % {n}))"
                 f" + int(i == {n}) * {self.bias_level}")
        b.on_trial_start(inputs, f"bias = {level}\nI = bias\nv = 0\nr = bias / (theta * tau)\ncount = 0")
        b.on_trial_start(out, "u = u0\nI_nudge = 0*amp\ncount = 0\nlastspike = -1e9*second\nnot_refractory = True")
        # counting windows; nudging on for the clamped phases
        for group in (inputs, out):
            b.on_phase_end(group, "free_settle", window_start())
            b.on_phase_end(group, "free", window_end("r_free", s.phase_duration("free")))
        b.on_phase_end(out, "free", "I_nudge = data_y(t, i) * volt / R")  # data are in SI units
        b.on_phase_end(out, "clamped_settle", window_start())
        b.on_phase_end(out, "clamped", window_end("r_clamped", s.phase_duration("clamped")))
        # end of trial: the contrastive delta rule, scaled by the per-trial learning rate
        b.on_trial_end(ff, self.synapse_model.update, gate=b.learning_gate("lr"), order=1)
        b.learn(ff, "w", size=(self.n_in + 1) * self.n_out)
        b.record(out, "r_free")
        b.record(out, "r_clamped")

    # ------------------------------------------------------------ user API
    def train(self, X, Y, **kwds):
        """Learn from samples ``X`` (n, n_in) and target drives ``Y`` (n, n_out, volts); a `RunResult`."""
        return self.run_trials({"x": X, "y": Y}, **kwds)

    def predict_rates(self, X):
        """Free-phase output rates (Hz) for inputs ``X``, without learning."""
        Y = np.zeros((len(X), self.n_out))
        state = self.state_
        res = self.run_trials({"x": X, "y": Y}, signals={"lr": 0.0})
        self.state_ = state if state is not None else self.state_
        return res.records["outputs.r_free"]

    def weights(self):
        """Learned weights: an ``(n_out, n_in)`` matrix and the bias neuron's ``(n_out,)`` weights."""
        w = self.state_["ff.w"].reshape(self.n_in + 1, self.n_out).T  # synapses are pre-major
        return w[:, : self.n_in], w[:, self.n_in]


def target_rates(Y, model=None):
    """Firing rates (Hz) of the output neurons driven at the target drives ``Y`` (volts)."""
    p = (model or get_model("nudged_output")).parameters
    return (lif_rate(np.asarray(Y).ravel() * volt, p["tau"], p["theta"], p["u_r"], p["t_ref"]) / Hz).reshape(
        np.shape(Y))


class ContrastiveDemo(CompiledNetworkMixin, RegressorMixin, BaseEstimator):
    """Spiking two-phase network that learns an affine map with the contrastive delta rule.

    A scikit-learn regressor around `DemoNetwork` (module docstring): ``fit(X, y)`` trains on
    inputs ``X`` in [0, 1] (``(n_samples, n_in)``) and target drives ``y`` in volts (floats,
    ``(n_samples, n_out)``: the somatic nudging current is ``y / R``); ``predict(X)`` returns
    the free-phase output firing rates in Hz, and ``score(X, y)`` is the R² of those rates
    against `target_rates` ``(y)``, the rates the targets drive.

    Parameters
    ----------
    eta : Quantity
        Learning rate of ``models.contrastive_delta`` (units second**2).
    window, settle : Quantity
        Duration of each counting window (free, clamped) and of the settling before each.
    dt : Quantity
        Simulation time step.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` or ``'cuda_standalone'`` (default: `brianlearn.use_device`).
    seed : int, optional
        Initial weights and the simulation's random numbers.
    chunk_size : int, optional
        Trials per compiled run (see `brianlearn.Protocol`).
    progress : bool
        Report progress per chunk.

    Attributes
    ----------
    feedforward_ : ndarray, shape (n_out, n_in)
        Learned weights (units of mV*s per Hz of presynaptic rate).
    biases_ : ndarray, shape (n_out,)
        Weights from the constantly firing bias neuron.
    history_ : dict
        ``'r_free'``, ``'r_clamped'``: output rates (Hz) of every training trial.
    n_features_in_ : int
    """

    def __init__(self, eta=4e-5 * second**2, window=400 * ms, settle=20 * ms, dt=0.1 * ms, device=None, seed=None,
                 chunk_size=None, progress=False):
        self.eta = eta
        self.window = window
        self.settle = settle
        self.dt = dt
        self.device = device
        self.seed = seed
        self.chunk_size = chunk_size
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # one output neuron per target column
        return tags

    def _make_network(self, n_in, n_out):
        return DemoNetwork(n_in=n_in, n_out=n_out, eta=self.eta, window=self.window, settle=self.settle, dt=self.dt,
                           device=self.device, seed=self.seed, chunk_size=self.chunk_size, progress=self.progress)

    def fit(self, X, y, checkpoint=None, resume=False, max_chunks=None):
        """Train on every sample once, in order (one two-phase trial each).

        ``checkpoint``/``resume``/``max_chunks``: see `brianlearn.Protocol.run_trials`.
        """
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        Y = y.reshape(len(y), -1)
        self._single_output = y.ndim == 1
        self._net = self._make_network(X.shape[1], Y.shape[1])
        result = self._net.train(X, Y, checkpoint=checkpoint, resume=resume, max_chunks=max_chunks)
        self.n_outputs_ = Y.shape[1]
        self.history_ = {"r_free": result.records["outputs.r_free"], "r_clamped": result.records["outputs.r_clamped"]}
        self.state_ = dict(result.state)
        w = self.state_["ff.w"].reshape(self.n_features_in_ + 1, self.n_outputs_).T  # synapses are pre-major
        self.feedforward_, self.biases_ = w[:, : self.n_features_in_].copy(), w[:, self.n_features_in_].copy()
        return self

    def predict(self, X):
        """Free-phase output rates (Hz) for inputs ``X``, without learning."""
        check_is_fitted(self, "state_")
        X = validate_data(self, X, reset=False)
        net = getattr(self, "_net", None)
        if net is None:  # (an unpickled estimator: the compiled network is rebuilt)
            net = self._net = self._make_network(self.n_features_in_, self.n_outputs_)
        net.state_ = dict(self.state_)
        rates = net.predict_rates(X)
        return rates[:, 0] if self._single_output else rates

    def score(self, X, y, sample_weight=None):
        """R² of the predicted rates against the rates the target drives ``y`` produce."""
        return r2_score(target_rates(y), self.predict(X), sample_weight=sample_weight)

    def weights(self):
        """``(feedforward_, biases_)`` (the former API)."""
        check_is_fitted(self, "state_")
        return self.feedforward_, self.biases_
