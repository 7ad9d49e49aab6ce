"""
The rate-based equilibrium-propagation network in Brian2 (Scellier & Bengio 2017; Mesnard,
Gerstner & Brea 2016, arXiv:1612.03214). Dynamics and rule: `protocols.eqprop_reference`.

Each layer ``l >= 1`` is a `NeuronGroup` ``ep_L{l}`` of the model ``rate_ep_neuron``
(``brianlearn.models``; the input layer ``ep_L0`` of ``rate_ep_input``)::

    tau ds/dt = -s + rho'(s) (I_up + I_down + b) + nudge * beta * sign * (y_hat - s)   (output only)
    rho = clip(s, 0, 1),  rho' = 1 on [0, 1]

integrated with ``method='euler'`` and clipped to ``[0, 1]`` after every step (an operation in
the ``after_groups`` slot). **Time unit**: one Euler step of size ``eps`` (in units of ``tau``)
is ``dt = eps * tau`` with ``tau = TIME_UNIT = 1 ms``; 30 free and 10 nudged steps of
``eps = 0.5`` are phases of 15 ms and 5 ms at ``dt = 0.5 ms``.

``I_up`` and ``I_down`` are ``(summed)`` variables of the synapses ``ep_W{l}`` (layer l to
l+1, weights ``W_l``) and ``ep_B{l}`` (layer l+1 to l, top-down ``B_l = W_l^T``): one
`Synapses` object per direction, both updated at the trial end with the same change (the
contrastive model's ``update``, see `protocols.eqprop_layers`), so they stay equal (unless
``fixed_feedback``: ``ep_B`` then never changes). The summed variables are computed before the
state update, so all layers are updated synchronously from the previous step, as in NumPy.

Per trial (one sample): trial start ``s = 0`` (inputs ``s = x``); free phase (``signal_nudge =
0``); snapshot ``rho_free``; nudged phase (``signal_nudge = 1``; ``beta`` times the per-trial
signal ``sign`` = +-1); at the trial end ``rho_nudged`` and the update, scaled by the per-trial
learning rate ``step_l = lr * eta_l / (beta * sign)`` (``lr = 0``: no learning, e.g. `predict`).
"""

from brianlearn.models import get_model
from brianlearn.schedule import Phase, Schedule
from brianlearn.validation import TIME_UNIT

from .eqprop_layers import EPNetwork

__all__ = ["RateEPNetwork", "TIME_UNIT"]


class RateEPNetwork(EPNetwork):
    """The rate EP network as a `brianlearn.Protocol` (one trial per sample).

    Parameters
    ----------
    sizes : tuple of int
        Layer sizes, input first.
    beta, etas, rule, learn, fixed_feedback
        As in `protocols.eqprop_reference.RateEPReference` (``etas``: one per weight layer;
        ``rule`` may also be a contrastive `SynapseModel`).
    n_free, n_nudged : int
        Euler steps per phase; ``eps`` the step in units of ``TIME_UNIT``.

    Learned variables: ``ep_W{l}.w`` (pre-major: ``w[i*n_{l+1} + j] = W_l[j, i]``),
    ``ep_B{l}.w`` (``B_l[j, i]`` at ``i*n_l + j``), ``ep_L{l}.b``. Data ``x``, ``y``; trial signals
    ``lr``, ``sign``, ``beta``, ``eta{l}`` (see `EPNetwork`). Records ``ep_L{L}.rho_free`` (the free-phase outputs).
    The neuron models are looked up (``get_model('rate_ep_neuron')``, ``'rate_ep_input'``) when the
    network is built.
    """

    name = "eqprop_rate"
    default_chunk_size = 1000
    layer_keys = ("ep_W{}.w", "ep_B{}.w", "ep_L{}.b")

    def __init__(self, sizes=(2, 20, 2), beta=0.3, etas=(0.1, 0.05), rule="chl", learn="all", fixed_feedback=False,
                 n_free=30, n_nudged=10, eps=0.5, **kwds):
        super().__init__(**kwds)
        self.sizes = tuple(int(n) for n in sizes)
        self._init_signals(beta, etas)
        self.rule, self.learn, self.fixed_feedback = rule, learn, bool(fixed_feedback)
        self.n_free, self.n_nudged, self.eps = int(n_free), int(n_nudged), float(eps)
        dt = self.eps * TIME_UNIT
        self.schedule = Schedule([Phase("free", self.n_free * dt, {"nudge": 0.0}),
                                  Phase("nudged", self.n_nudged * dt, {"nudge": 1.0})], dt=dt)
        self.init_state = None

    def config(self):
        return {"sizes": self.sizes, "rule": self.rule_model().describe(), "learn": self.learn,
                "fixed_feedback": self.fixed_feedback, "eps": self.eps,
                "models": [get_model(m).describe() for m in ("rate_ep_input", "rate_ep_neuron")]}

    def data_shapes(self):
        return {"x": self.sizes[0], "y": self.sizes[-1]}

    def initial_state(self, rng):
        if self.init_state is None:  # (EquilibriumPropagation sets init_state)
            Ws, bs = self.init_weights(rng)
            return self.state_from_weights(Ws, [None] + [W.T for W in Ws[1:]], bs)
        return dict(self.init_state)

    def build_network(self, b):
        n, L = self.sizes, len(self.sizes) - 1
        b.data("x")
        b.data("y")
        b.trial_signal("beta_sign")
        layers = [get_model("rate_ep_input").make_group(n[0], "ep_L0", clock=b.clock)]
        neuron = get_model("rate_ep_neuron")
        layers += [neuron.make_group(n[l], f"ep_L{l}", clock=b.clock) for l in range(1, L + 1)]
        b.add(*layers)
        # the output layer is nudged toward the sample's target; every state is clipped to [0, 1]
        b.every_step(layers[L], "nudge = signal_nudge(t) * trial_beta_sign(t)\ntarget = data_y(t, i)",
                     when="before_groups", name=f"ep_L{L}_nudge")
        for g in layers[1:]:
            b.every_step(g, "s = clip(s, 0, 1)", when="after_groups", name=f"{g.name}_clip")
        fw = [self.rule_synapses(b, layers[l], layers[l + 1], f"ep_W{l}", "I_up_post = w * rho_pre : 1 (summed)")
              for l in range(L)]
        bw = [None] + [self.rule_synapses(b, layers[l + 1], layers[l], f"ep_B{l}",
                                          "I_down_post = w * rho_pre : 1 (summed)") for l in range(1, L)]
        for l in range(L):
            b.learn(fw[l], "w", size=n[l] * n[l + 1])
            b.learn(layers[l + 1], "b")
            if l >= 1:
                b.learn(bw[l], "w", size=n[l] * n[l + 1])
        # trial start: clamp the inputs, start the other layers at 0
        b.on_trial_start(layers[0], "s = data_x(t, i)")
        for g in layers[1:]:
            b.on_trial_start(g, "s = 0")
            b.on_phase_end(g, "free", "rho_free = clip(s, 0, 1)")
            b.on_phase_end(g, "nudged", "rho_nudged = clip(s, 0, 1)", order=0)  # (the trial end)
        # end of trial: the contrastive update times step = lr * eta / (beta * sign)
        self.add_updates(b, fw, bw, layers[1:], bias_weight="b", bias_suffix="")
        b.record(layers[L], "rho_free")

    def outputs_from_records(self, records):
        """Free-phase outputs ``(n_trials, n_out)`` from the run's records."""
        return records[f"ep_L{len(self.sizes) - 1}.rho_free"]
