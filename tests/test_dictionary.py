"""Dictionary learning by the two-phase network (Lin & Tang 2018): the compiled network against
an independent NumPy re-implementation, its first phase against the convex optimum, the
estimator's API, checkpoints, bad input, the baselines and the measures."""

import os

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from _sklearn_checks import parametrize_sklearn_checks
from brianlearn.datasets.images import image_patches, split_channels
from brianlearn.measures import consistency, heldout_objective, sparse_coding_objective, weight_symmetry
from brianlearn.protocols.dictionary import SpikingDictionaryLearning, initial_weights
from brianlearn.protocols.dictionary_baselines import (minibatch_dictionary_learning, random_dictionary,
                                                       sgd_dictionary_learning)
from brianlearn.protocols.dictionary_network import DictionaryNetwork, state_from_weights, weights_from_state
from brianlearn.protocols.dictionary_reference import simulate_dictionary_network
from brianlearn.protocols.lca import lasso_reference

# one small network shared by the compiled tests (one build): 12 inputs, 6 atoms, 40 time
# units per phase in steps of 1/16, 4 samples per compiled chunk
M, N, T, DT, CHUNK = 12, 6, 40.0, 1 / 16, 4
LEARN = dict(eta_d=0.05, eta_h=0.75, lam2=0.01)


def _data(n, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, M))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _net(device):
    return DictionaryNetwork(M, N, 0.7, T, DT, device=device, seed=0, chunk_size=CHUNK)


def _tiny(**kw):
    kw = {"n_components": N, "phase_duration": T, "dt": DT, "chunk_size": CHUNK, "eval_every": 4, **kw}
    return SpikingDictionaryLearning(**kw)


@pytest.mark.parametrize("device", [pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone),
                                    pytest.param("runtime", marks=pytest.mark.runtime)])
def test_network_equals_numpy_reimplementation(device, request):
    """Weights after 4 samples of learning (asymmetric start, weight decay) and the codes of
    both phases equal an independent NumPy implementation of the same equations."""
    if device == "runtime":
        request.getfixturevalue("numpy_target")
    X = _data(CHUNK)
    F, B, H = initial_weights(M, N, "asymmetric", seed=1)
    net = _net(device)
    net.init_state = state_from_weights(F, B, H)
    res = net.run_trials({"x": X}, signals={"lam1": 0.1, **LEARN})
    F1, B1, H1 = weights_from_state(res.state, M, N)
    F2, B2, H2, codes = simulate_dictionary_network(X, F, B, H, 0.1, 0.7, T, DT, **LEARN)
    assert np.max(np.abs(F2 - F)) > 1e-3 and np.max(np.abs(H2 - H)) > 1e-2  # (it learned)
    for got, want in ((F1, F2), (B1, B2), (H1, H2), (res.records["dl_code.a0"], codes["a0"]),
                      (res.records["dl_code.ak"], codes["ak"])):
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_weight_layout_round_trip():
    F, B, H = initial_weights(M, N, "asymmetric", seed=2)
    for got, want in zip(weights_from_state(state_from_weights(F, B, H), M, N), (F, B, H)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.cpp_standalone
def test_first_phase_is_the_spiking_lca():
    """With F = D^T, B = D, H = D^T D the rates of the first phase solve the non-negative LASSO
    (DESIGN.md section 4.2): objective within 3 % of the convex optimum at 40 time units."""
    X = _data(CHUNK, seed=5)
    D = random_dictionary(M, N, seed=4)
    est = _tiny(dict_init=D, lam1=0.05, seed=0).fit(X[:1], X_val=None)  # (one sample, then transform)
    est.feedforward_, est.feedback_, est.inhibition_ = initial_weights(M, N, dict_init=D)
    codes = est.transform(X)
    ref = lasso_reference(X, D, 0.05)
    f, f0 = sparse_coding_objective(X, codes, D, 0.05), sparse_coding_objective(X, ref, D, 0.05)
    assert f0 <= f < 1.03 * f0


@pytest.mark.cpp_standalone
def test_estimator_fit_partial_fit_reproducible(tmp_path):
    X = _data(12, seed=7)
    est = _tiny(seed=3, shuffle=False, **{"eta_d": 0.05})
    with pytest.raises(NotFittedError):
        est.transform(X)
    est.fit(X[:8], X_val=X[8:])
    assert set(est.history_) == {"samples_seen", "objective", "consistency", "symmetry", "atom_norm"}
    np.testing.assert_array_equal(est.history_["samples_seen"], [0, 4, 8])
    assert est.history_["consistency"][0] == pytest.approx(1.0)  # consistent start: H = FB
    assert est.history_["symmetry"][0] == pytest.approx(1.0)
    assert est.components_.shape == (N, M) and np.all(est.components_ >= 0)
    np.testing.assert_array_equal(est.components_, est.feedback_.T)
    assert est.inhibition_.shape == (N, N) and est.feedforward_.shape == (N, M)
    assert est.transform(X).shape == (12, N) and est.n_features_in_ == M
    assert os.path.isdir(est.build_info_.directory)  # (the public build record of the compiled network)
    assert est.score(X[8:]) == pytest.approx(-heldout_objective(X[8:], est.components_, est.lam1))
    # the same seed gives the same dictionary; partial_fit continues from the fitted weights
    again = clone(est).fit(X[:8], X_val=X[8:])
    np.testing.assert_array_equal(again.components_, est.components_)
    before = est.components_.copy()
    est.partial_fit(X[:4])
    assert est.n_samples_seen_ == 12 and not np.allclose(est.components_, before)
    # a fit stopped after one chunk and resumed equals the uninterrupted fit
    ck = str(tmp_path / "dl.npz")
    part = clone(again).fit(X[:8], X_val=X[8:], checkpoint=ck, max_chunks=1)
    assert not part.complete_
    resumed = clone(again).fit(X[:8], X_val=X[8:], checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.components_, again.components_)
    np.testing.assert_array_equal(resumed.history_["objective"], again.history_["objective"])


@pytest.mark.parametrize("kw, X, message", [
    ({}, np.full((3, M), np.nan), "NaN"),
    ({}, -np.ones((3, M)), "split_channels"),
    ({"lam1": 0.0}, None, "lam1"),
    ({"lam1": -1.0}, None, "lam1"),
    ({"kappa": 1.0}, None, "kappa"),
    ({"kappa": 0.0}, None, "kappa"),
    ({"eta_d": 0.0}, None, "eta_d"),
    ({"phase_duration": 10.01}, None, "phase_duration"),
    ({"init": "random"}, None, "init"),
    ({"dict_init": np.zeros((N, M))}, None, "zero atom"),
    ({"dict_init": np.ones((N, M + 1))}, None, "dict_init"),
])
def test_bad_input_names_the_parameter(kw, X, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**kw).fit(_data(3) if X is None else X, X_val=None)


def test_transform_checks_the_width():
    est = _tiny()
    est.feedforward_, est.feedback_, est.inhibition_ = initial_weights(M, N)
    est.n_features_in_ = M
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((2, M + 1)))


def test_measures_against_analytic_values():
    F, B, H = initial_weights(128, 64, "consistent", seed=0)
    assert consistency(H, F, B) == pytest.approx(1.0) and weight_symmetry(F, B) == pytest.approx(1.0)
    F, B, H = initial_weights(128, 64, "asymmetric", seed=0)
    # independent uniform vectors: E[cos] ~ E[u]^2 / E[u^2] = 3/4 (the paper's "near 0.76")
    assert weight_symmetry(F, B) == pytest.approx(0.75, abs=0.03)
    assert consistency(2 * F @ B, F, B) == pytest.approx(0.5)


def test_image_patches():
    X = image_patches(50, seed=1)
    assert X.shape == (50, 128) and np.all(X >= 0)
    signed = X[:, :64] - X[:, 64:]
    np.testing.assert_allclose(signed.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(signed, axis=1), 1)
    np.testing.assert_array_equal(split_channels(signed), X)


def test_sgd_step_is_the_projected_gradient():
    """One SGD sample: D <- normalise(max(D - eta a (a D - x), 0)) with the exact LASSO code."""
    X = image_patches(1, seed=2)
    D0 = random_dictionary(128, 16, seed=0)
    D1, _ = sgd_dictionary_learning(X, 16, 0.05, 0.5, dictionary=D0)
    a = lasso_reference(X, D0, 0.05)[0]
    want = np.maximum(D0 - 0.5 * np.outer(a, a @ D0 - X[0]), 0)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    assert np.any(a > 0)
    np.testing.assert_allclose(D1, want, atol=1e-5)


def test_baselines_lower_the_heldout_objective():
    X = image_patches(700, seed=3)
    Xtr, Xte = X[:500], X[500:]
    _, h_sgd = sgd_dictionary_learning(Xtr, 16, 0.1, 0.1, X_val=Xte, eval_every=250, seed=0)
    _, h_mb = minibatch_dictionary_learning(Xtr, 16, 0.1, X_val=Xte, eval_every=250, seed=0)
    np.testing.assert_array_equal(h_sgd["samples_seen"], [0, 250, 500])
    assert h_sgd["objective"][-1] < 0.95 * h_sgd["objective"][0]
    assert h_mb["objective"][-1] < h_sgd["objective"][0]


@parametrize_sklearn_checks([_tiny(device="runtime")], {
    "check_fit2d_1sample": "one sample is enough for the network; scikit-learn expects an error",
})
def test_scikit_learn_estimator_checks(estimator, check, numpy_target):
    check(estimator)


@pytest.mark.runtime
def test_network_takes_its_equations_from_the_models(numpy_target, monkeypatch):
    """Halving the input neuron's end-of-trial gradient (``models/dl_input.py``: ``gD = 0.5*(bk -
    b0)``) halves the first sample's (small) change of F and B (lam2 = 0) and leaves H's unchanged; the
    generated network carries the edited statement."""
    import brianlearn.models

    X = _data(1)
    F, B, H = initial_weights(M, N, "asymmetric", seed=1)

    def run():
        net = _net("runtime")
        net.init_state = state_from_weights(F, B, H)
        res = net.run_trials({"x": X}, signals={"lam1": 0.1, "eta_d": 0.002, "eta_h": 0.03, "lam2": 0.0})
        return net, weights_from_state(res.state, M, N)

    _, (F1, B1, H1) = run()
    assert np.abs(F1 - F).max() > 1e-4 and np.abs(B1 - B).max() > 1e-4  # (small: no weight reaches 0)
    models = brianlearn.models.MODELS
    monkeypatch.setitem(models, "dl_input", models["dl_input"].replace(update="gD = 0.5*(bk - b0)"))
    net, (F2, B2, H2) = run()
    for W0, W1, W2 in ((F, F1, F2), (B, B1, B2)):
        free = W1 > 0  # (weights the projection onto >= 0 did not stop)
        assert free.mean() > 0.9
        np.testing.assert_allclose((W2 - W0)[free], 0.5 * (W1 - W0)[free], atol=1e-12)
    np.testing.assert_allclose(H2, H1, atol=1e-12)
    assert any("0.5*(bk - b0)" in o.abstract_code for o in net.objects_.values()
               if o.name.startswith("dl_in_trial_end"))


def test_set_params_rebuilds_the_network():
    """A changed parameter after a fit gives a new network (the next transform runs with it)."""
    est = _tiny()
    est.feedforward_, est.feedback_, est.inhibition_ = initial_weights(M, N)
    est.n_features_in_ = M
    first = est._network()
    assert est._network() is first
    est.set_params(phase_duration=20.0)
    second = est._network()
    assert second is not first and float(second.phase_duration / first.phase_duration) == 0.5
