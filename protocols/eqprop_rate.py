"""
The rate-based equilibrium-propagation network in Brian2 (Scellier & Bengio 2017; Mesnard,
Gerstner & Brea 2016, arXiv:1612.03214). Dynamics and rule: `protocols.eqprop_reference`.

Each layer ``l >= 1`` is a `NeuronGroup` ``ep_L{l}`` of the rate neuron `rate_ep_neuron`::

    tau ds/dt = -s + rho'(s) (I_up + I_down + b) + nudge * beta * sign * (y_hat - s)   (output only)
    rho = clip(s, 0, 1),  rho' = 1 on [0, 1]

integrated with ``method='euler'`` and clipped to ``[0, 1]`` after every step (a
``run_regularly`` in the ``after_groups`` slot). **Time unit**: one Euler step of size
``eps`` (in units of ``tau``) is ``dt = eps * tau`` with ``tau = 1 ms``; 30 free and 10 nudged
steps of ``eps = 0.5`` are phases of 15 ms and 5 ms at ``dt = 0.5 ms``.

``I_up`` and ``I_down`` are ``(summed)`` variables of the synapses ``ep_W{l}`` (layer l to
l+1, weights ``W_l``) and ``ep_B{l}`` (layer l+1 to l, top-down ``B_l = W_l^T``): one
`Synapses` object per direction, both updated at the trial end with the same symmetric
formula from the pre/post rates, so they stay equal (unless ``fixed_feedback``: ``ep_B`` then
never changes). The summed variables are computed before the state update (``groups`` slot,
order -1), so all layers are updated synchronously from the previous step, as in NumPy.

Per trial (one sample): trial start ``s = 0`` (inputs ``s = x``); free phase (``signal_nudge =
0``); snapshot ``rho_free``; nudged phase (``signal_nudge = 1``; ``beta`` times the per-trial
signal ``sign`` = +-1); at the trial end ``rho_nudged`` and the update, scaled by the per-trial
learning-rate signal ``lr`` (0: no learning, e.g. `predict`).
"""

import numpy as np
from brian2 import NeuronGroup, Synapses, ms

from brianlearn.modelspec import NeuronModel
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule

__all__ = ["RateEPNetwork", "rate_ep_neuron", "TIME_UNIT"]

#: the time constant of the rate neurons: Euler steps of eps (units of tau) are dt = eps * tau
TIME_UNIT = 1 * ms

rate_ep_neuron = NeuronModel(
    "rate_ep",
    equations="""
        ds/dt = (-s + rhop * (I_up + I_down + b) + nudge * (target - s)) / tau : 1
        rho = clip(s, 0, 1) : 1
        rhop = int(s >= 0) * int(s <= 1) : 1
        I_up : 1
        I_down : 1
        b : 1
        nudge : 1
        target : 1
        rho_free : 1
        rho_nudged : 1
    """,
    method="euler",
    parameters=dict(tau=TIME_UNIT),
    reference="Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea (2016) "
              "arXiv:1612.03214",
    doc="Rate neuron of the equilibrium-propagation energy: hard-sigmoid rate rho = clip(s, 0, 1), "
        "rho' = 1 on [0, 1], state clipped to [0, 1] after each Euler step; 'nudge' = beta*sign in the "
        "nudged phase for output neurons (target = the sample's target), 0 otherwise.",
)


def layers_to_state(Ws, Bs, bs, keys):
    """Learned-variable arrays (synapses pre-major) from per-layer weights and biases.

    ``keys`` = (forward, top-down, bias) name patterns, formatted with the layer index
    (biases with the index of the layer they belong to, 1..L)."""
    w_key, b_key, bias_key = keys
    st = {}
    for l, W in enumerate(Ws):
        st[w_key.format(l)] = np.asarray(W, dtype=float).T.ravel().copy()
        st[bias_key.format(l + 1)] = np.asarray(bs[l], dtype=float).copy()
    for l, B in enumerate(Bs):
        if B is not None:
            st[b_key.format(l)] = np.asarray(B, dtype=float).T.ravel().copy()
    return st


def state_to_layers(state, sizes, keys):
    """``(Ws, Bs, bs)`` from learned-variable arrays (inverse of `layers_to_state`)."""
    w_key, b_key, bias_key = keys
    n = sizes
    Ws = [state[w_key.format(l)].reshape(n[l], n[l + 1]).T.copy() for l in range(len(n) - 1)]
    Bs = [None] + [state[b_key.format(l)].reshape(n[l + 1], n[l]).T.copy() for l in range(1, len(n) - 1)]
    bs = [state[bias_key.format(l)].copy() for l in range(1, len(n))]
    return Ws, Bs, bs


class EPNetwork(Protocol):
    """What the rate and the LIF equilibrium-propagation networks share.

    - ``beta`` and the per-layer learning rates are trial signals, not code literals: ``lr`` (a
      schedule factor), ``sign`` (of beta), ``beta`` and ``eta0``, ``eta1``, ... (defaults: the
      constructor's values) give the derived signals ``beta_sign`` (the nudging strength of each
      trial) and ``step{l} = lr * eta_l / (beta * sign)``, the factor of layer ``l``'s contrastive
      update. They are run arguments: a network with other ``beta`` or ``etas`` runs the same
      compiled binary, and both may change from trial to trial.
    - Layer weights map to learned variables through `layer_keys` (forward, top-down, bias
      name patterns) with `layers_to_state` / `state_to_layers`.
    """

    #: learned-variable names of forward weights, top-down weights and biases (layer index)
    layer_keys = ()

    def _init_signals(self, beta, etas):
        self.beta, self.etas = float(beta), [float(e) for e in etas]
        if self.beta == 0 or not np.isfinite(self.beta):
            raise ValueError(f"beta must be a non-zero number, got {beta!r}.")
        self.trial_signal_defaults = {"lr": 1.0, "sign": 1.0, "beta": self.beta,
                                      **{f"eta{l}": e for l, e in enumerate(self.etas)}}
        self.derived_signals = ("beta_sign",) + tuple(f"step{l}" for l in range(len(self.etas)))

    def derive_signals(self, signals):
        beta_sign = signals["beta"] * signals["sign"]
        if np.any(beta_sign == 0):
            raise ValueError("The trial signals 'beta' and 'sign' must be non-zero in every trial.")
        return {"beta_sign": beta_sign,
                **{f"step{l}": signals["lr"] * signals[f"eta{l}"] / beta_sign for l in range(len(self.etas))}}

    def state_from_weights(self, Ws, Bs, bs):
        """Learned-variable arrays from ``W_l`` (n_{l+1}, n_l), ``B_l`` (n_l, n_{l+1}) and biases."""
        return layers_to_state(Ws, Bs, bs, self.layer_keys)

    def weights_from_state(self, state):
        """``(Ws, Bs, bs)`` from learned-variable arrays (inverse of `state_from_weights`)."""
        return state_to_layers(state, self.sizes, self.layer_keys)


class RateEPNetwork(EPNetwork):
    """The rate EP network as a `brianlearn.Protocol` (one trial per sample).

    Parameters
    ----------
    sizes : tuple of int
        Layer sizes, input first.
    beta, etas, rule, learn, fixed_feedback
        As in `protocols.eqprop_reference.RateEPReference` (``etas``: one per weight layer).
    n_free, n_nudged : int
        Euler steps per phase; ``eps`` the step in units of ``TIME_UNIT``.

    Learned variables: ``ep_W{l}.w`` (pre-major: ``w[i*n_{l+1} + j] = W_l[j, i]``),
    ``ep_B{l}.w`` (``B_l[j, i]`` at ``i*n_l + j``), ``ep_L{l}.b``. Data ``x``, ``y``; trial signals
    ``lr``, ``sign``, ``beta``, ``eta{l}`` (see `EPNetwork`). Records ``ep_L{L}.rho_free`` (the free-phase outputs).
    """

    name = "eqprop_rate"
    default_chunk_size = 1000

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
        return {"sizes": self.sizes, "rule": self.rule, "learn": self.learn,
                "fixed_feedback": self.fixed_feedback, "eps": self.eps, "model": rate_ep_neuron.describe()}

    def data_shapes(self):
        return {"x": self.sizes[0], "y": self.sizes[-1]}

    def initial_state(self, rng):
        if self.init_state is None:  # (EquilibriumPropagation sets init_state)
            from .eqprop_reference import init_weights

            Ws, bs = init_weights(self.sizes, rng)
            return self.state_from_weights(Ws, [None] + [W.T for W in Ws[1:]], bs)
        return dict(self.init_state)

    @classmethod
    def experiment(cls, out="figures", quick=True, seed=0, device=None):
        from .eqprop_experiments import run_all

        return run_all(out=out, quick=quick, seed=seed, device=device)

    @classmethod
    def example_data(cls, quick=True, seed=0):
        from brianlearn.datasets.regression import two_link_arm

        X, Y = two_link_arm(1000 if quick else 20000, seed=seed)
        return {"x": X, "y": Y}

    layer_keys = ("ep_W{}.w", "ep_B{}.w", "ep_L{}.b")

    def build_network(self, b):
        n, L = self.sizes, len(self.sizes) - 1
        b.data("x")
        b.data("y")
        b.trial_signal("beta_sign")
        first = L - 1 if self.learn == "output" else 0
        for l in range(first, L):
            b.trial_signal(f"step{l}", ended=True)
        layers = [NeuronGroup(n[0], "s : 1\nrho = clip(s, 0, 1) : 1\nrho_free = rho : 1\nrho_nudged = rho : 1",
                              clock=b.clock, name="ep_L0")]
        for l in range(1, L + 1):
            g = rate_ep_neuron.make_group(n[l], f"ep_L{l}", clock=b.clock)
            if l == L:  # the output layer is nudged toward the sample's target
                b.add(g.run_regularly("nudge = signal_nudge(t) * trial_beta_sign(t)\n"
                                      "target = data_y(t, i)", when="before_groups", name=f"ep_L{l}_nudge",
                                      clock=b.clock))
            layers.append(g)
        b.add(*layers)
        for g in layers[1:]:
            clip = g.run_regularly("s = clip(s, 0, 1)", when="after_groups", name=f"{g.name}_clip", clock=b.clock)
            b.add(clip)
        fw, bw = [], [None]
        for l in range(L):
            syn = Synapses(layers[l], layers[l + 1], "w : 1\nI_up_post = w * rho_pre : 1 (summed)",
                           clock=b.clock, name=f"ep_W{l}")
            syn.connect()
            fw.append(syn)
            b.add(syn)
            b.learn(syn, "w", size=n[l] * n[l + 1])
            b.learn(layers[l + 1], "b")
        for l in range(1, L):
            syn = Synapses(layers[l + 1], layers[l], "w : 1\nI_down_post = w * rho_pre : 1 (summed)",
                           clock=b.clock, name=f"ep_B{l}")
            syn.connect()
            bw.append(syn)
            b.add(syn)
            b.learn(syn, "w", size=n[l] * n[l + 1])
        # trial start: clamp the inputs, start the other layers at 0
        b.on_trial_start(layers[0], "s = data_x(t, i)")
        for g in layers[1:]:
            b.on_trial_start(g, "s = 0")
            b.on_phase_end(g, "free", "rho_free = clip(s, 0, 1)")
            b.on_phase_end(g, "nudged", "rho_nudged = clip(s, 0, 1)", order=0)  # (the trial end)
        # end of trial: the contrastive update times step = lr * eta / (beta * sign)
        gate = "trial_ended(t)"
        for l in range(first, L):
            k = f"trial_step{l}_ended(t)"
            if self.rule == "chl":
                dw = "rho_nudged_post * rho_nudged_pre - rho_free_post * rho_free_pre"
                dw_back = dw
            else:  # delta rule of the forward weight (upper layer's change times lower's free rate)
                dw = "(rho_nudged_post - rho_free_post) * rho_free_pre"
                dw_back = "(rho_nudged_pre - rho_free_pre) * rho_free_post"
            b.on_trial_end(fw[l], f"w += {k} * ({dw})", gate=gate, order=1)
            b.on_trial_end(layers[l + 1], f"b += {k} * (rho_nudged - rho_free)", gate=gate, order=1)
            if l >= 1 and not self.fixed_feedback:
                b.on_trial_end(bw[l], f"w += {k} * ({dw_back})", gate=gate, order=1)
        b.record(layers[L], "rho_free")

    def outputs_from_records(self, records):
        """Free-phase outputs ``(n_trials, n_out)`` from the run's records."""
        return records[f"ep_L{len(self.sizes) - 1}.rho_free"]
