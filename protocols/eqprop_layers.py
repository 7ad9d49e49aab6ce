"""
What the rate and the LIF equilibrium-propagation networks share (Scellier & Bengio 2017;
Mesnard, Gerstner & Brea 2016, arXiv:1612.03214): per-trial signals for ``beta`` and the
learning rates, the mapping of layer weights to learned variables, and the contrastive update
taken from the synapse models ``contrastive_hebbian`` (``rule='chl'``) and ``contrastive_delta``
(``rule='delta'``) of ``brianlearn.models``.

The models' ``update`` is written on the rates ``r_free`` / ``r_clamped`` with a learning rate
``eta``; on the EP networks it runs on ``rho_free`` / ``rho_nudged``, with the learning rate
``step_l = lr * eta_l / (beta * sign)`` of each trial as the operation's gate
(`NetworkBuilder.learning_gate`). Top-down synapses (layer ``l+1`` to ``l``) get the change of
the forward weight they mirror (``_pre`` and ``_post`` swapped); a bias is the weight from a
unit of rate 1.
"""

import numpy as np
from brian2.utils.stringtools import word_substitute

from brianlearn.models import get_model
from brianlearn.protocol import Protocol

from .eqprop_reference import init_weights

__all__ = ["EPNetwork", "RULES", "contrastive_update", "layers_to_state", "state_to_layers", "init_weights"]

#: ``rule`` -> the synapse model whose ``update`` is the weight change
RULES = {"chl": "contrastive_hebbian", "delta": "contrastive_delta"}


def contrastive_update(model, weight="w", transpose=False, unit_pre=False, post_suffix="_post"):
    """The end-of-trial statement of the contrastive synapse ``model`` on the EP rates.

    Parameters
    ----------
    model : SynapseModel
        Its ``update`` uses ``r_free_pre/post``, ``r_clamped_pre/post`` and ``eta``.
    weight : str
        The variable that learns (``'b'`` for a bias held by the neurons).
    transpose : bool
        Swap pre- and postsynaptic rates (a top-down synapse mirroring a forward weight).
    unit_pre : bool
        Presynaptic rates of 1 (a bias: the weight from a unit of constant rate 1).
    post_suffix : str
        Suffix of the postsynaptic rates (``''`` when the neurons themselves learn).

    Returns
    -------
    str
        The statement, with ``eta`` = 1: the learning rate is the gate of the operation.
    """
    subs = {"eta": "1", model.weight: weight}
    for rate, ep in (("r_free", "rho_free"), ("r_clamped", "rho_nudged")):
        pre, post = (ep + "_post", ep + "_pre") if transpose else (ep + "_pre", ep + post_suffix)
        subs[rate + "_pre"] = "1" if unit_pre else pre
        subs[rate + "_post"] = post
    return word_substitute(model.update, subs)


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
    - ``rule`` (``'chl'``, ``'delta'`` or a `SynapseModel` with a contrastive ``update``) names the
      synapse model of the weight change (looked up in ``brianlearn.models`` at build time).
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

    def rule_model(self):
        """The synapse model of the weight change (``RULES[rule]`` from ``brianlearn.models``)."""
        return get_model(RULES.get(self.rule, self.rule) if isinstance(self.rule, str) else self.rule)

    def rule_synapses(self, b, source, target, name, transmission="", on_pre=None):
        """`Synapses` ``source -> target`` of the rule's model (``w : 1``) plus ``transmission``
        equations or an ``on_pre`` statement, connected all to all and added to ``b`` (the
        update runs as an end-of-trial operation, see `add_updates`)."""
        model = self.rule_model()
        model = model.replace(model=model.model + ("\n" + transmission if transmission else ""), on_pre=on_pre,
                              update=None)
        return b.add(model.make_synapses(source, target, name, clock=b.clock))

    def add_updates(self, b, forward, feedback, biases, bias_weight="w", bias_suffix="_post"):
        """The contrastive updates at the trial end, gated by ``step{l}`` per weight layer.

        ``forward[l]``: layer l -> l+1 synapses; ``feedback[l]``: l+1 -> l (``None`` for l = 0);
        ``biases[l]``: what holds the biases of layer l+1 (variable ``bias_weight``, postsynaptic
        rates with ``bias_suffix``). With ``learn='output'`` only the last layer learns.
        """
        model, L = self.rule_model(), len(forward)
        for l in range(L - 1 if self.learn == "output" else 0, L):
            gate = b.learning_gate(f"step{l}")
            b.on_trial_end(forward[l], contrastive_update(model), gate=gate, order=1)
            b.on_trial_end(biases[l], contrastive_update(model, bias_weight, unit_pre=True, post_suffix=bias_suffix),
                           gate=gate, order=1)
            if l >= 1 and not self.fixed_feedback:
                b.on_trial_end(feedback[l], contrastive_update(model, transpose=True), gate=gate, order=1)

    def init_weights(self, rng, output_scale=0.1):
        """Glorot-uniform weights on the layer sizes (output layer scaled down), zero biases."""
        return init_weights(self.sizes, rng, output_scale)

    def state_from_weights(self, Ws, Bs, bs):
        """Learned-variable arrays from ``W_l`` (n_{l+1}, n_l), ``B_l`` (n_l, n_{l+1}) and biases."""
        return layers_to_state(Ws, Bs, bs, self.layer_keys)

    def weights_from_state(self, state):
        """``(Ws, Bs, bs)`` from learned-variable arrays (inverse of `state_from_weights`)."""
        return state_to_layers(state, self.sizes, self.layer_keys)
