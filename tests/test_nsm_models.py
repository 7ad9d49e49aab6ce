"""The NSM networks take their equations from brianlearn.models: editing a model changes them.

The neuron (``nsm_neuron``), the lateral synapse (``nsm_lateral``) and the feed-forward synapse
(``nsm_feedforward``) are looked up in `brianlearn.models.MODELS` when a network is built, so a
model replaced there (as a user editing ``models/nsm_neuron.py`` would) changes the generated
network and its output as the NumPy reference predicts.
"""

import numpy as np
import pytest
from brian2 import ms

import brianlearn.models
from brianlearn.protocols.nsm import AnalogNSM, SpikingNSM, elastic_net_reference
from brianlearn.protocols.nsm_solver import ElasticNetSolver

pytestmark = pytest.mark.runtime


def _problems():
    rng = np.random.default_rng(0)
    k = 3
    M = np.diag(rng.uniform(0.8, 1.2, k))  # no lateral coupling: y_i = max(c_i, 0) * rate gain / theta_i
    return rng.uniform(0.5, 2.0, (2, k)), M, rng.uniform(0, 0.5, (2, k))


def test_neuron_time_constant_edit_changes_the_solver(numpy_target, monkeypatch):
    """Halving the neuron model's ``tau`` doubles the integration speed, so the spiking solver
    returns twice the minimum of h (as the convex solver predicts for 2 Wx, 2 b, 2 lam1)."""
    Wx, M, b = _problems()
    alpha, lam1, lam2 = 0.5, 0.2, 0.1
    run = dict(duration=50, dt=0.02, M=M, device="runtime", chunk_size=2)
    y = ElasticNetSolver(3, alpha, lam1, lam2, **run).solve(Wx, b)
    model = brianlearn.models.MODELS["nsm_neuron"]
    monkeypatch.setitem(brianlearn.models.MODELS, "nsm_neuron", model(tau=0.5 * ms))
    solver = ElasticNetSolver(3, alpha, lam1, lam2, **run)
    y_edit = solver.solve(Wx, b)
    out = solver.objects_["nsm_out"]
    assert out.namespace["tau"] == 0.5 * ms and out.namespace["lam2"] == lam2
    ref = elastic_net_reference(Wx, M, b, alpha, lam1, lam2)
    ref2 = elastic_net_reference(2 * Wx, M, 2 * b, alpha, 2 * lam1, lam2)
    np.testing.assert_allclose(ref2, 2 * ref)
    # (the spike count over 50 time units resolves y to 0.02)
    np.testing.assert_allclose(y, ref, rtol=0.02, atol=0.03)
    np.testing.assert_allclose(y_edit, ref2, rtol=0.02, atol=0.03)
    assert np.abs(y_edit - y).max() > 0.5


def test_lateral_and_threshold_edits_change_the_nsm_network(numpy_target, monkeypatch):
    """A replaced threshold and reset (``v > 2*theta``, ``v -= 2*theta``) halve the NSM network's
    outputs; the generated group carries the edited code, the lateral synapses theirs."""
    X = np.random.default_rng(1).uniform(0, 1, (4, 5))
    kw = dict(n_components=3, lam1=0.1, eta=0.0, seed=0)  # eta = 0: the initial weights (M = I)
    ref = AnalogNSM(solver="exact", **kw).fit(X).transform(X)
    net = SpikingNSM(duration=50, dt=0.02, device="runtime", chunk_size=4, **kw).fit(X)
    np.testing.assert_allclose(net.transform(X), ref, rtol=0.05, atol=0.02)
    models = brianlearn.models.MODELS
    monkeypatch.setitem(models, "nsm_neuron", models["nsm_neuron"].replace(threshold="v > 2*theta",
                                                                                reset="v -= 2*theta\ncount += 1"))
    monkeypatch.setitem(models, "nsm_lateral", models["nsm_lateral"].replace(on_pre="I_post -= 0.5*w"))
    y_edit = net.transform(X)  # the runtime device builds the network again, from the edited models
    objects = net._net.objects_
    assert objects["nsm_out"].events["spike"] == "v > 2*theta"
    assert "v -= 2*theta" in objects["nsm_out"].event_codes["spike"]
    assert "I_post -= 0.5*w" in objects["nsm_lat"].pre.code
    np.testing.assert_allclose(y_edit, ref / 2, rtol=0.05, atol=0.02)
