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
"""

import numpy as np
from brian2 import Mohm, ms, mV, second

from brianlearn.models import contrastive_delta, nudged_output, perfect_if, phase_rates, rate_trace
from brianlearn.models.phase_rates import window_end, window_start
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule

__all__ = ["ContrastiveDemo", "teacher_task", "run_demo"]


def teacher_task(n_samples, n_in=4, n_out=2, seed=0):
    """Inputs ``x ~ U[0, 1]`` and target drives ``y = y0 + A x`` (volts) of a random teacher."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(2.0, 8.0, size=(n_out, n_in)) * 1e-3  # volt per unit input
    y0 = 22e-3
    X = rng.uniform(0, 1, size=(n_samples, n_in))
    return X, y0 + X @ A.T, A


class ContrastiveDemo(Protocol):
    """Spiking delta-rule learner of an affine map (see the module docstring).

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
        self.input_model = perfect_if(tau=10 * ms).extend(rate_trace(tau_r=200 * ms))
        self.output_model = nudged_output(R=100 * Mohm).extend(phase_rates)
        self.synapse_model = contrastive_delta(eta=eta)
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
        inputs = self.input_model.extend(phase_rates).make_group(self.n_in + 1, "inputs", variables=("bias",),
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
        gate = "trial_ended(t) * trial_lr_ended(t)"
        b.on_trial_end(ff, self.synapse_model.update, gate=gate, order=1)
        b.trial_signal("lr", ended=True)
        b.learn(ff, "w", size=(self.n_in + 1) * self.n_out)
        b.record(out, "r_free")
        b.record(out, "r_clamped")

    @classmethod
    def experiment(cls, out="figures", quick=True, seed=0, device=None):
        return run_demo(out=out, quick=quick, seed=seed, device=device)

    @classmethod
    def example_data(cls, quick=True, seed=0):
        X, Y, _ = teacher_task(200 if quick else 3000, seed=seed)
        return {"x": X, "y": Y}

    # ------------------------------------------------------------ user API
    def fit(self, X, Y, **kwds):
        """Learn from samples ``X`` (n, n_in) and target drives ``Y`` (n, n_out, volts)."""
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


def target_rates(Y, model=nudged_output):
    """Firing rates (Hz) of the output neurons driven at the target drives ``Y`` (volts)."""
    from brian2 import Hz, volt

    from brianlearn.models.lif import lif_rate

    p = model.parameters
    return (lif_rate(np.asarray(Y).ravel() * volt, p["tau"], p["theta"], p["u_r"], p["t_ref"]) / Hz).reshape(
        np.shape(Y))


def run_demo(out=None, quick=True, seed=0, device=None, progress=True):
    """Train the demo network, print what it learned, write ``demo.png``; return the numbers.

    Parameters
    ----------
    out : str, optional
        Folder for the figure (default ``figures``).
    quick : bool
        600 training samples (``False``: 3000).
    seed : int
    device : str, optional
        Default: the current default device (``cpp_standalone``).
    """
    import os
    import time

    n_train, n_test = (600, 200) if quick else (3000, 200)
    X, Y, A = teacher_task(n_train + n_test, seed=seed)
    Xtr, Ytr, Xte, Yte = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
    net = ContrastiveDemo(device=device, seed=seed, progress=progress)
    target = target_rates(Yte)
    start = time.time()
    before = net.predict_rates(Xte)
    first = time.time() - start
    build = net.build_info_
    start = time.time()
    fit = net.fit(Xtr, Ytr)
    fit_time = time.time() - start
    after = net.predict_rates(Xte)
    rmse = lambda a: float(np.sqrt(np.mean((a - target) ** 2)))
    gap = np.abs(fit.records["outputs.r_clamped"] - fit.records["outputs.r_free"]).mean(axis=1)
    result = {"rmse_before_hz": rmse(before), "rmse_after_hz": rmse(after), "n_train": n_train,
              "n_test": n_test, "device": net.device_config.name, "first_run_s": first,
              "fit_s": fit_time, "compiled": None if build is None else build.compiled,
              "compile_s": None if build is None else build.seconds}
    print(f"brianlearn demo on {result['device']}: {n_in_words(net)} learning an affine teacher")
    if build is not None:
        print(f"  build: {'compiled in %.1f s' % build.seconds if build.compiled else 'cached binary reused'} "
              f"({build.directory})")
    print(f"  training: {n_train} samples (two phases each) in {fit_time:.1f} s")
    print(f"  free-minus-clamped rate gap: {gap[:50].mean():.1f} Hz (first 50 samples) -> "
          f"{gap[-50:].mean():.1f} Hz (last 50)")
    print(f"  output rate error on {n_test} held-out samples: {result['rmse_before_hz']:.1f} Hz before -> "
          f"{result['rmse_after_hz']:.1f} Hz after learning (target rates {target.min():.0f}-{target.max():.0f} Hz)")
    print("  sample  target (Hz)        predicted after learning (Hz)")
    for k in range(3):
        print(f"  {k:>6}  {np.array2string(target[k], precision=1):<18} {np.array2string(after[k], precision=1)}")
    out = out or "figures"
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "demo.png")
    _demo_figure(path, gap, target, before, after)
    print(f"  figure: {path}")
    result["figure"] = path
    from brianlearn.results import record_results

    record_results("demo", [
        {"quantity": f"output rate RMSE on {n_test} held-out samples, before learning (Hz)",
         "measured": result["rmse_before_hz"], "paper": "-", "figure": path},
        {"quantity": f"output rate RMSE after {n_train} samples of contrastive delta-rule learning (Hz)",
         "measured": result["rmse_after_hz"],
         "paper": "< 1/4 of before; count resolution of a 400 ms window is 2.5 Hz",
         "ok": result["rmse_after_hz"] < 0.25 * result["rmse_before_hz"], "figure": path},
    ], folder=out, title="Demo: two-phase contrastive learning of an affine map",
        command="brianlearn demo")
    return result


def n_in_words(net):
    return f"{net.n_in}+1 spiking inputs -> {net.n_out} nudged LIF outputs"


def _demo_figure(path, gap, target, before, after):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    k = 20
    smooth = np.convolve(gap, np.ones(k) / k, mode="valid")
    ax[0].plot(gap, color="0.8", lw=0.8, label="per sample")
    ax[0].plot(np.arange(k - 1, len(gap)), smooth, color="C0", label=f"mean of {k}")
    ax[0].set(xlabel="training sample", ylabel="|r_clamped - r_free| (Hz)", title="Contrastive signal")
    ax[0].legend(frameon=False)
    lim = [min(target.min(), before.min()) - 5, max(target.max(), after.max()) + 5]
    ax[1].plot(lim, lim, "k:", lw=0.8)
    ax[1].scatter(target.ravel(), before.ravel(), s=6, color="0.6", label="before learning")
    ax[1].scatter(target.ravel(), after.ravel(), s=6, color="C3", label="after learning")
    ax[1].set(xlabel="target rate (Hz)", ylabel="free-phase rate (Hz)", title="Held-out samples")
    ax[1].legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
