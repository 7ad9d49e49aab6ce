"""
The two-phase dictionary-learning network of Lin & Tang as a compiled Brian2 simulation.

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (seed 001; DESIGN.md section 4.2). The problem::

    min_{a >= 0, D >= 0}  sum_x 1/2 |x - D a|^2 + lam1 |S a|_1 + lam2/2 |D|_F^2

``M`` input neurons (model ``dl_input``: rates ``b``) and ``N`` coding neurons (``dl_coding``:
rates ``a``, thresholds ``theta = diag(H)`` = the penalty weights ``s``), connected by

- ``F`` (``dl_feedforward``, input -> coding),
- ``B`` (``dl_feedback``, coding -> input, scaled by the phase signal ``gamma``),
- ``H`` off its diagonal (``dl_inhibition``, lateral inhibition among the coding neurons).

Per sample (one trial) the phase ``free`` (``gamma = 0``: the network is the spiking LCA of
``x``) and then the phase ``feedback`` (``gamma = kappa``), **with all states kept** between
them. At the end of each phase every neuron reads its own rate (and the coding neurons ``e =
dv / T``); at the end of the trial, inside the simulation, the neurons form their gradients
``gD = bk - b0`` and ``gH``, the inhibition synapses sum ``H (a0 - ak)`` once, and every
synapse updates its weight from the rates and gradients of the two neurons it joins (the
models' ``update`` statements; weights projected onto >= 0). Learning rates ``eta_d``,
``eta_h``, the penalties ``lam1``, ``lam2`` are per-trial signals: other values run the same
binary.

**Time unit**: as for the spiking LCA, one unit of the paper's dimensionless time is 1 ms of
Brian2 time (``phase_duration=20, dt=1/32`` = the paper's 20 time units per phase, 640 steps).
"""

import numpy as np
from brian2 import SpikeMonitor

from brianlearn.models import get_model
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule
from brianlearn.validation import TIME_UNIT, as_time, check_scalar

__all__ = ["DictionaryNetwork", "state_from_weights", "weights_from_state", "check_phase_duration"]


def check_phase_duration(phase_duration, dt):
    """``(phase_duration, dt)`` as Brian2 times, or a `ValueError`: the phase must be a multiple of dt."""
    T, dt_ = as_time("phase_duration", phase_duration), as_time("dt", dt)
    n = float(T / dt_)
    if abs(n - round(n)) > 1e-6 or round(n) < 1:
        raise ValueError(f"phase_duration ({float(T / TIME_UNIT):g}) must be a positive multiple of dt "
                         f"({float(dt_ / TIME_UNIT):g}); {n:.4g} steps is not a whole number.")
    return T, dt_


def state_from_weights(F, B, H):
    """The network's learned variables from the matrices ``F`` (N, M), ``B`` (M, N), ``H`` (N, N).

    Synapses are ordered pre-major (``connect()``): ``dl_ff.w[j*N + i] = F[i, j]``,
    ``dl_fb.w[i*M + j] = B[j, i]``, ``dl_inh.w`` = the off-diagonal of ``H[post, pre]``, pre-major.
    """
    N = H.shape[0]
    off = ~np.eye(N, dtype=bool)
    return {"dl_ff.w": np.ascontiguousarray(F.T).ravel(), "dl_fb.w": np.ascontiguousarray(B.T).ravel(),
            "dl_inh.w": np.ascontiguousarray(H.T)[off], "dl_code.theta": np.diag(H).copy()}


def weights_from_state(state, n_features, n_components):
    """Inverse of `state_from_weights`: ``(F, B, H)``."""
    M, N = n_features, n_components
    F = state["dl_ff.w"].reshape(M, N).T.copy()
    B = state["dl_fb.w"].reshape(N, M).T.copy()
    HT = np.zeros((N, N))
    HT[~np.eye(N, dtype=bool)] = state["dl_inh.w"]
    H = HT.T.copy()
    H[np.diag_indices(N)] = state["dl_code.theta"]
    return F, B, H


class DictionaryNetwork(Protocol):
    """The dictionary-learning network as a `brianlearn.Protocol` (one trial per sample).

    Objects: ``dl_in`` (``n_features`` input neurons; data set ``'x'``), ``dl_code``
    (``n_components`` coding neurons), synapses ``dl_ff`` (F), ``dl_fb`` (B), ``dl_inh`` (H off
    the diagonal). Learned: ``dl_ff.w``, ``dl_fb.w``, ``dl_inh.w``, ``dl_code.theta`` (see
    `state_from_weights`). Recorded per trial: ``dl_code.a0`` (the code: rates of the ``free``
    phase) and ``dl_code.ak``. Per-trial signals ``eta_d``, ``eta_h``, ``lam1``, ``lam2``
    (``eta_d = eta_h = 0``: no learning).

    Parameters
    ----------
    n_features, n_components : int
    kappa : float
        Feedback strength ``gamma`` of the second phase, in (0, 1).
    phase_duration, dt : float or Quantity
        Length of each phase and time step (paper units, 1 unit = 1 ms).
    record_spikes : bool
        Add spike monitors ``dl_in_spikes`` and ``dl_code_spikes`` (rasters; another binary).
    **kwds
        `Protocol` arguments (``device``, ``seed``, ``chunk_size``, ``progress``).
    """

    name = "dictionary"
    trial_signal_defaults = {"eta_d": 0.0, "eta_h": 0.0, "lam1": 0.1, "lam2": 0.0}

    def __init__(self, n_features, n_components, kappa=0.7, phase_duration=100, dt=1 / 32, record_spikes=False,
                 **kwds):
        super().__init__(**kwds)
        self.n_features, self.n_components = int(n_features), int(n_components)
        self.kappa = check_scalar("kappa", kappa, minimum=0, maximum=1, strict=True)
        self.phase_duration, self.dt = check_phase_duration(phase_duration, dt)
        self.record_spikes = bool(record_spikes)
        self.schedule = Schedule([Phase("free", self.phase_duration, {"gamma": 0.0}),
                                  Phase("feedback", self.phase_duration, {"gamma": self.kappa})], dt=self.dt)
        self.init_state = None

    def config(self):
        return {"n_features": self.n_features, "n_components": self.n_components, "kappa": self.kappa,
                "record_spikes": self.record_spikes}

    def data_shapes(self):
        return {"x": self.n_features}

    def initial_state(self, rng):
        if self.init_state is None:
            raise ValueError("DictionaryNetwork needs init_state (set by SpikingDictionaryLearning).")
        return dict(self.init_state)

    def build_network(self, b):
        M, N, kappa = self.n_features, self.n_components, self.kappa
        T = float(self.phase_duration / TIME_UNIT)
        b.data("x")
        for name in self.trial_signal_defaults:  # (lam1 is read at trial start, the others at trial end)
            b.trial_signal(name, ended=name != "lam1")
        models = {name: get_model(name) for name in ("dl_input", "dl_coding", "dl_feedforward", "dl_feedback",
                                                     "dl_inhibition")}
        models = {name: m(kappa=kappa) if "kappa" in m.parameters else m for name, m in models.items()}
        inp = models["dl_input"].make_group(M, "dl_in", clock=b.clock)
        code = models["dl_coding"].make_group(N, "dl_code", clock=b.clock)
        ff = models["dl_feedforward"].make_synapses(inp, code, "dl_ff", clock=b.clock)
        fb = models["dl_feedback"].make_synapses(code, inp, "dl_fb", clock=b.clock)
        inh = models["dl_inhibition"].make_synapses(code, code, "dl_inh", connect="i != j", clock=b.clock)
        b.add(inp, code, ff, fb, inh)
        if self.record_spikes:
            b.add(SpikeMonitor(inp, name="dl_in_spikes"), SpikeMonitor(code, name="dl_code_spikes"))
        # every phase: the phase signal gamma into the neurons (synaptic code reads gamma_post)
        for group in (inp, code):
            b.on_phase_start(group, "gamma = signal_gamma(t)")
        # end of the free phase: each neuron's rate (and e) of the phase; states are kept
        b.on_phase_end(code, "free", f"a0 = count / {T!r}\ne0 = (v - vstart) / {T!r}\ncount = 0\nvstart = v")
        b.on_phase_end(inp, "free", f"b0 = count / {T!r}\ncount = 0")
        # end of the trial: read-outs of the feedback phase and this trial's rates and penalty
        # (order 0), the summed H (a0 - ak) (1), the neurons' gradients and thresholds (2), then
        # the synapses' updates (3); gated: no effect at t = 0 or after padding trials
        b.on_trial_end(code, "eta_d = trial_eta_d_ended(t)\neta_h = trial_eta_h_ended(t)\n"
                             f"lam2 = trial_lam2_ended(t)\nak = count / {T!r}\nek = (v - vstart) / {T!r}",
                       gate=None, order=0)
        b.on_trial_end(inp, f"bk = count / {T!r}", gate=None, order=0)
        b.sum_at_trial_end(inh, "hsum_post", order=1)
        b.on_trial_end(inp, models["dl_input"].update, order=2)
        b.on_trial_end(code, models["dl_coding"].update, order=2)
        for syn, model in ((ff, "dl_feedforward"), (fb, "dl_feedback"), (inh, "dl_inhibition")):
            b.on_trial_end(syn, models[model].update, order=3)
        # start of a trial: the new sample, the neurons at rest
        b.on_trial_start(inp, "x = data_x(t, i)\nv = 0\nI = x\ncount = 0", name="dl_in_trial_init")
        b.on_trial_start(code, "lam1 = trial_lam1(t)\nv = 0\nI = -lam1 * theta\ncount = 0\nvstart = 0",
                         name="dl_code_trial_init")
        for obj, var, size in ((ff, "w", M * N), (fb, "w", M * N), (inh, "w", N * (N - 1)), (code, "theta", N)):
            b.learn(obj, var, size=size)
        b.record(code, "a0")
        b.record(code, "ak")
