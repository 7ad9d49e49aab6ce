"""
Equilibrium propagation with leaky integrate-and-fire neurons (Mesnard, Gerstner & Brea 2016,
arXiv:1612.03214, seed 003). The neuron models live in ``brianlearn.models`` (each extended
by the rate read-out ``lif_ep_traces``) and are looked up when the network is built.

Populations (``P = neurons_per_dim``):

- **inputs** ``lif_L0`` (``n_in * P``, model ``lif_ep_input``): LIF neurons with a constant drive
  in both phases, population-coded: neuron ``k`` of dimension ``d`` prefers ``c_k = k/(P-1)`` and
  is driven at ``u0 + U g``, ``g = exp(-(x_d - c_k)^2 / (2 sigma^2))``, ``sigma = 1.5/(P-1)``;
- **hidden** ``lif_L1..`` (``lif_ep_hidden``): ``tau du/dt = -(u - u0) + I_up + I_down``;
  ``I_up``/``I_down`` are the summed synaptic traces ``sum_j w_ij s_j`` from the layer below /
  above, written event-driven (``on_pre: I_post += w U / (r_max tau_s)``, so that
  ``<I> = U sum_j w_ij rho_j``);
- **outputs** ``lif_L{L}`` (``n_out * P``, ``lif_ep_output``): nudged two-compartment neurons,
  ``tau du/dt = -(u - u0) + (1 - lam) I_dend + lam R I``, ``lam = b G / (b G + [I_dend]+)``
  (``b = beta`` in the nudged phase, 0 in the free phase), ``R I`` = the drive at which the LIF
  fires at the target rate ``r_max (rho_lo + (1 - rho_lo) y_hat)`` (analytic LIF rate
  inverted, `lif_drive`). The default ``nudging='seed'`` is the seed's factor ``G = R I``, i.e.
  ``lam = R I / (R I + I_dend)`` at ``b = 1`` (a low target nudges weakly and a high one
  strongly); ``nudging='constant'`` a target-independent nudging conductance ``G = u_nudge``
  (25 mV); ``figures/eqprop_lif.py`` compares both, with both rules;
- **bias** ``lif_bias`` (``lif_ep_bias``): one regularly firing neuron at ``r_max`` with learned
  weights ``lif_bias{l}`` onto every non-input layer.

Rates: two cascaded low-pass traces of the spike train, normalised ``rho = r2 / r_max``;
snapshots at the end of the free phase (``rho_free``) and of the nudged phase (``rho_nudged``).
At the trial end the same rule as the rate network (see `protocols.eqprop_layers`), the
top-down synapses ``lif_B{l}`` getting the same increment as ``lif_W{l}``. The decoded output of
dimension ``d`` is ``clip((mean rho of its population - rho_lo) / (1 - rho_lo), 0, 1)``.
"""

import numpy as np
from brian2 import Hz, SpikeMonitor, mV, ms

from brianlearn.models import get_model
from brianlearn.models.lif_ep_output import lif_drive
from brianlearn.schedule import Phase, Schedule

from .eqprop_layers import EPNetwork

__all__ = ["LIFEPNetwork", "lif_drive"]


def _model(name):
    """A LIF EP neuron model with the rate read-out (``name.extend(lif_ep_traces)``)."""
    return get_model(name).extend(get_model("lif_ep_traces"))


class LIFEPNetwork(EPNetwork):
    """The spiking EP network as a `brianlearn.Protocol` (see the module docstring).

    Parameters
    ----------
    sizes : tuple
        ``(n_in, hidden..., n_out)`` in dimensions (inputs and outputs) and neurons (hidden).
    beta : float
        Nudging strength ``b`` in the nudging factor, and the divisor of ``eta``.
    etas : sequence
        Learning rates per weight layer.
    rule, learn, fixed_feedback
        As in `RateEPNetwork`.
    neurons_per_dim : int
    free_duration, nudged_duration : Quantity, optional
        Default 300 ms and 200 ms.
    rho_lo : float
        Normalised output rate coding the value 0.
    monitor : bool
        Add spike monitors (for rasters).
    nudging : {'constant', 'seed'}
        The nudging conductance of the output neurons (``seed_form`` of ``lif_ep_output``).
    """

    name = "eqprop_lif"
    default_chunk_size = 200
    layer_keys = ("lif_W{}.w", "lif_B{}.w", "lif_bias{}.w")
    #: the models of the layers: input, hidden, output, bias (names in ``brianlearn.models``)
    models = ("lif_ep_input", "lif_ep_hidden", "lif_ep_output", "lif_ep_bias")

    def __init__(self, sizes, beta, etas, rule="chl", learn="all", fixed_feedback=False, neurons_per_dim=20,
                 free_duration=None, nudged_duration=None, dt=0.5 * ms, rho_lo=0.2, monitor=False,
                 nudging="seed", **kwds):
        super().__init__(**kwds)
        self.dims = tuple(int(n) for n in sizes)
        P = self.P = int(neurons_per_dim)
        self.sizes = (self.dims[0] * P,) + self.dims[1:-1] + (self.dims[-1] * P,)
        self._init_signals(beta, etas)
        self.rule, self.learn, self.fixed_feedback = rule, learn, bool(fixed_feedback)
        self.rho_lo, self.monitor = float(rho_lo), bool(monitor)
        if nudging not in ("constant", "seed"):
            raise ValueError(f"nudging must be 'constant' or 'seed', got {nudging!r}.")
        self.nudging = nudging
        self.free_duration = 300 * ms if free_duration is None else free_duration
        self.nudged_duration = 200 * ms if nudged_duration is None else nudged_duration
        self.schedule = Schedule([Phase("free", self.free_duration, {"nudge": 0.0}),
                                  Phase("nudged", self.nudged_duration, {"nudge": 1.0})], dt=dt)
        self.init_state = None

    def config(self):
        return {"sizes": self.sizes, "P": self.P, "rule": self.rule_model().describe(),
                "learn": self.learn, "fixed_feedback": self.fixed_feedback, "rho_lo": self.rho_lo,
                "monitor": self.monitor, "nudging": self.nudging,
                "models": [get_model(m).describe() for m in self.models + ("lif_ep_traces",)]}

    def data_shapes(self):
        return {"x": self.dims[0], "y": self.dims[-1]}

    def initial_state(self, rng):
        if self.init_state is None:
            raise RuntimeError("LIFEPNetwork needs init_state (set by EquilibriumPropagation).")
        return dict(self.init_state)

    def decode(self, rho):
        """Output values ``(n, n_out)`` from output-population rates ``(n, n_out * P)``."""
        m = np.asarray(rho, dtype=float).reshape(len(rho), self.dims[-1], self.P).mean(axis=2)
        return np.clip((m - self.rho_lo) / (1.0 - self.rho_lo), 0.0, 1.0)

    def derive_signals(self, signals):
        if np.any(signals["sign"] != 1):
            raise ValueError("The LIF network nudges toward the target only: the trial signal 'sign' must be +1 "
                             "(beta scales a conductance).")
        if np.any(signals["beta"] <= 0):
            raise ValueError("The LIF network's trial signal 'beta' (a nudging conductance scale) must be positive.")
        return super().derive_signals(signals)

    def outputs_from_records(self, records):
        return self.decode(records[f"lif_L{len(self.sizes) - 1}.rho_free"])

    def build_network(self, b):
        n, L, P = self.sizes, len(self.sizes) - 1, self.P
        b.data("x")
        b.data("y")
        b.trial_signal("beta_sign")
        m_in, m_hidden, m_out = (_model(m) for m in self.models[:3])
        m_out = m_out(seed_form=float(self.nudging == "seed"))
        inp = m_in.make_group(n[0], "lif_L0", clock=b.clock)
        layers = [inp] + [m_hidden.make_group(n[l], f"lif_L{l}", clock=b.clock) for l in range(1, L)]
        out = m_out.make_group(n[L], f"lif_L{L}", clock=b.clock)
        layers.append(out)
        bias = get_model(self.models[3]).make_group(1, "lif_bias", clock=b.clock)
        b.add(*layers, bias)
        # target drive of the output neurons and the nudging signal
        p = m_out.parameters
        rate_target = f"{float(p['r_max'] / Hz)!r} * ({self.rho_lo!r} + {1 - self.rho_lo!r} * data_y(t, i // {P}))"
        b.every_step(out, "nudge = signal_nudge(t) * trial_beta_sign(t)", when="before_groups", name="lif_out_nudge")
        # exact inverse of the LIF rate: a = exp((1/f - t_ref)/tau), D = (a theta - u_r)/(a - 1)
        inv = (f"a_inv = exp((1.0 / ({rate_target}) - {float(p['t_ref'])!r}) / {float(p['tau'])!r})\n"
               "RI = (a_inv * theta - u_r) / (a_inv - 1) - u0")

        def on_pre(target, var):  # mV per unit weight and spike: <I> = U sum_j w_ij rho_j
            q = target.namespace
            return f"{var}_post += w * {float(q['U'] / (q['r_max'] * q['tau_s']) / mV)!r}*mV"

        # synapses: forward (I_up), top-down (I_down), bias (I_up)
        fw, bw, bsyn = [], [None], []
        for l in range(L):
            fw.append(self.rule_synapses(b, layers[l], layers[l + 1], f"lif_W{l}",
                                         on_pre=on_pre(layers[l + 1], "I_up")))
            bsyn.append(self.rule_synapses(b, bias, layers[l + 1], f"lif_bias{l + 1}",
                                           on_pre=on_pre(layers[l + 1], "I_up")))
            b.learn(fw[l], "w", size=n[l] * n[l + 1])
            b.learn(bsyn[l], "w", size=n[l + 1])
        for l in range(1, L):
            bw.append(self.rule_synapses(b, layers[l + 1], layers[l], f"lif_B{l}",
                                         on_pre=on_pre(layers[l], "I_down")))
            b.learn(bw[l], "w", size=n[l] * n[l + 1])
        # trial start: fresh state; inputs get their drives, outputs their target drives
        sigma = 1.5 / (P - 1) if P > 1 else 1.0
        centre = f"(i % {P}) * {1.0 / max(P - 1, 1)!r}"
        reset = "u = u_r\nr1 = 0*Hz\nr2 = 0*Hz\nlastspike = -1e9*second\nnot_refractory = True"
        b.on_trial_start(inp, f"D = u0 + U * exp(-(data_x(t, i // {P}) - {centre})**2 / {2 * sigma ** 2!r})\n"
                         + reset)
        for g in layers[1:-1]:
            b.on_trial_start(g, reset + "\nI_up = 0*volt\nI_down = 0*volt")
        b.on_trial_start(out, reset + "\nI_up = 0*volt\n" + inv)
        b.on_trial_start(bias, "v = 0")
        for g in layers:
            b.on_phase_end(g, "free", "rho_free = r2 / r_max")
            b.on_phase_end(g, "nudged", "rho_nudged = r2 / r_max", order=0)
        # end of trial: the contrastive update times step = lr * eta / beta
        self.add_updates(b, fw, bw, bsyn)
        b.record(out, "rho_free")
        b.record(out, "rho_nudged")
        if self.monitor:
            for g in layers[1:-1]:
                b.record(g, "rho_free")
            for g in layers:
                b.add(SpikeMonitor(g, name=f"spikes_{g.name}"))
