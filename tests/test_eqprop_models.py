"""The equilibrium-propagation networks take every equation from ``brianlearn.models``: editing a
model in `brianlearn.models.MODELS` changes the network built on it (runtime device, NumPy target,
one or two short trials)."""

import numpy as np
import pytest
from brian2 import ms, mV

import brianlearn.models as models
from brianlearn.datasets.regression import two_link_arm
from brianlearn.protocols.eqprop_layers import contrastive_update
from brianlearn.protocols.eqprop_lif import LIFEPNetwork
from brianlearn.protocols.eqprop_rate import RateEPNetwork

pytestmark = pytest.mark.runtime

X, Y = two_link_arm(2, seed=0)


def _rate_run(**kw):
    """Two trials of a 2-3-2 rate network: (the network, its final learned state, the free outputs)."""
    net = RateEPNetwork((2, 3, 2), n_free=6, n_nudged=2, device="runtime", seed=0, chunk_size=2, **kw)
    res = net.run_trials({"x": X, "y": Y})
    return net, res.state, net.outputs_from_records(res.records)


def _lif_run():
    net = LIFEPNetwork((2, 3, 2), 1.0, (0.01, 0.01), neurons_per_dim=2, free_duration=10 * ms,
                       nudged_duration=5 * ms, device="runtime", seed=0, chunk_size=1)
    Ws, bs = net.init_weights(np.random.default_rng(0), output_scale=1.0)
    net.init_state = net.state_from_weights(Ws, [None, Ws[1].T], bs)
    net.run_trials({"x": X[:1], "y": Y[:1]})
    return net


def test_rate_network_uses_the_rate_ep_neuron_model(numpy_target, monkeypatch):
    """A new time constant and an extra leak in the rate neuron's equation reach the built network."""
    _, state, out = _rate_run()
    neuron = models.MODELS["rate_ep_neuron"]
    monkeypatch.setitem(models.MODELS, "rate_ep_neuron", neuron(tau=2 * ms))
    net, state2, out2 = _rate_run()
    assert net.objects_["ep_L1"].namespace["tau"] == 2 * ms
    assert not np.allclose(out, out2)
    leaky = neuron.replace(equations=neuron.equations.replace("(-s +", "(-2 * s +"))
    monkeypatch.setitem(models.MODELS, "rate_ep_neuron", leaky)
    net, _, out3 = _rate_run()
    assert "-2 * s" in str(net.objects_["ep_L2"].equations).replace("-2*s", "-2 * s")
    assert not np.allclose(out, out3)


def test_rate_network_takes_its_update_from_the_contrastive_models(numpy_target, monkeypatch):
    """rule='chl' runs the update of the model 'contrastive_hebbian': replaced by the delta rule's
    statement, the network learns exactly what rule='delta' learns."""
    assert contrastive_update(models.MODELS["contrastive_hebbian"]) == (
        "w += 1 * (rho_nudged_post * rho_nudged_pre - rho_free_post * rho_free_pre)")
    assert contrastive_update(models.MODELS["contrastive_delta"], transpose=True) == (
        "w += 1 * (rho_nudged_pre - rho_free_pre) * rho_free_post")
    assert contrastive_update(models.MODELS["contrastive_delta"], "b", unit_pre=True, post_suffix="") == (
        "b += 1 * (rho_nudged - rho_free) * 1")
    _, chl, _ = _rate_run()
    _, delta, _ = _rate_run(rule="delta")
    monkeypatch.setitem(models.MODELS, "contrastive_hebbian", models.MODELS["contrastive_delta"])
    _, patched, _ = _rate_run()
    assert np.abs(chl["ep_W0.w"] - delta["ep_W0.w"]).max() > 1e-8
    for key in delta:
        np.testing.assert_array_equal(patched[key], delta[key])


def test_lif_network_uses_the_lif_ep_models(numpy_target, monkeypatch):
    """The hidden neurons' time constant, the output neurons' nudging conductance and the rate traces'
    time constant come from the models 'lif_ep_hidden', 'lif_ep_output' and 'lif_ep_traces'."""
    net = _lif_run()
    hidden, out = net.objects_["lif_L1"], net.objects_["lif_L2"]
    assert hidden.namespace["tau"] == 15 * ms and hidden.namespace["tau_r"] == 40 * ms
    assert "I_down" in hidden.equations.names and "lam" in out.equations.names
    assert out.namespace["u_nudge"] == 25 * mV
    for name, change in (("lif_ep_hidden", dict(tau=7 * ms)), ("lif_ep_traces", dict(tau_r=20 * ms)),
                         ("lif_ep_output", dict(u_nudge=10 * mV))):
        monkeypatch.setitem(models.MODELS, name, models.MODELS[name](**change))
    net = _lif_run()
    hidden, out = net.objects_["lif_L1"], net.objects_["lif_L2"]
    assert hidden.namespace["tau"] == 7 * ms and hidden.namespace["tau_r"] == 20 * ms
    assert out.namespace["u_nudge"] == 10 * mV and out.namespace["tau"] == 15 * ms
    assert net.objects_["lif_L0"].namespace["tau_r"] == 20 * ms


def test_output_nudging_factor_is_the_seeds_formula():
    """Seed 003, section 3.3: lam = RI / (RI + sum_j w_ij s_j), the dendritic input clipped at 0;
    0 in the free phase (nudge = 0); the 'constant' form beta G / (beta G + [I_up]+), G = 25 mV."""
    from brianlearn.models.lif_ep_output import lif_ep_output

    RI = np.array([10.0, 20.0, 30.0, 5.0, 40.0])
    I_up = np.array([0.0, 10.0, -5.0, 40.0, 25.0])
    for form, G in ((1.0, RI), (0.0, np.full(5, 25.0))):
        g = lif_ep_output(seed_form=form).make_group(5, f"out_form{int(form)}")
        g.RI, g.I_up = RI * mV, I_up * mV
        for nudge in (1.0, 0.7, 0.0):
            g.nudge = nudge
            expected = nudge * G / (nudge * G + np.maximum(I_up, 0)) if nudge else np.zeros(5)
            np.testing.assert_allclose(np.asarray(g.lam), expected, rtol=1e-9)
    np.testing.assert_allclose(RI / (RI + np.maximum(I_up, 0)), [1, 2 / 3, 1, 1 / 9, 40 / 65])  # (by hand)


def test_lif_defaults_are_the_seeds_model():
    """EquilibriumPropagation(neuron='lif') builds seed 003's network: CHL and the seed's nudging."""
    from brianlearn.protocols.eqprop import EquilibriumPropagation

    net = EquilibriumPropagation(hidden=(3,), neuron="lif", device="runtime")._build_network(2, 2)
    assert (net.rule, net.nudging) == ("chl", "seed")
    assert EquilibriumPropagation()._build_network(2, 2).rule == "chl"
