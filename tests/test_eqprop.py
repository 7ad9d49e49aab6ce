"""Equilibrium propagation (Scellier & Bengio 2017; Mesnard, Gerstner & Brea 2016): the
regression task, the NumPy reference, the Brian2 rate network against it, the findings."""

import os

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score

from brianlearn.datasets.regression import arm_targets, regression_task, regression_validation, two_link_arm
from brianlearn.protocols.eqprop import EquilibriumPropagation
from brianlearn.protocols.eqprop_reference import (RateEPReference, backprop_baseline, hard_sigmoid,
                                                   linear_baseline, mse)


# ------------------------------------------------------------------ the task and baselines
def test_two_link_arm_is_the_arm_end_point():
    """Targets = end point of two links (angles pi*phi, pi*(phi+theta)) as complex numbers."""
    X, Y = two_link_arm(500, seed=3)
    z = (np.exp(1j * np.pi * X[:, 0]) + np.exp(1j * np.pi * (X[:, 0] + X[:, 1])) + 2 + 2j) / 4
    np.testing.assert_allclose(Y[:, 0], z.real, atol=1e-12)
    np.testing.assert_allclose(Y[:, 1], z.imag, atol=1e-12)
    assert X.min() >= 0 and X.max() <= 1 and Y.min() >= 0 and Y.max() <= 1
    np.testing.assert_array_equal(two_link_arm(5, seed=1)[0], two_link_arm(5, seed=1)[0])
    Xtr, _, Xte, _ = regression_task(100, 50, seed=0)
    assert Xtr.shape == (100, 2) and Xte.shape == (50, 2) and not np.allclose(Xtr[:50], Xte)
    with pytest.raises(ValueError, match="n_samples"):
        two_link_arm(0)
    with pytest.raises(ValueError, match=r"X \(phi, theta\) must have shape \(n, 2\)"):
        arm_targets(np.zeros((3, 3)))


def test_validation_set_is_an_independent_draw():
    """The validation set that chooses the learning rates shares no sample with the training and
    held-out sets of the same seed, is the task (targets = the arm's end point) and is reproducible."""
    Xtr, _, Xte, _ = regression_task(20000, 1000, seed=0)
    Xval, Yval = regression_validation(1000, seed=0)
    np.testing.assert_allclose(Yval, arm_targets(Xval), atol=1e-12)
    seen = {tuple(x) for x in np.vstack([Xtr, Xte])}
    assert not any(tuple(x) in seen for x in Xval)
    np.testing.assert_array_equal(Xval, regression_validation(1000, seed=0)[0])
    assert not np.allclose(Xval, regression_validation(1000, seed=1)[0])


def test_tuning_choice_rule():
    """The tuning's choice: the largest factor among scores within 5 % of the lowest, with the
    anneal that scores best at that factor."""
    from brianlearn.figures.eqprop_tuning import choose

    assert choose({(0.5, 0.1): 1.0, (1.0, 0.1): 1.04, (2.0, 0.1): 1.2}) == (1.0, 0.1)
    assert choose({(0.5, 0.1): 1.0, (1.0, 0.1): 1.06}) == (0.5, 0.1)
    assert choose({(1.0, 0.1): 1.0, (1.0, 1.0): 1.01}) == (1.0, 0.1)
    assert choose({(0.5, 0.1): 1.0, (1.0, 0.1): 1.2, (1.0, 1.0): 1.03}) == (1.0, 1.0)


def test_default_learning_rates_are_the_tuned_ones():
    """Consistency check (true by construction once the defaults are copied): the estimator's
    default rates and anneal are the values ``figures/eqprop_tuning.py`` chose on the validation
    set, as its stored rows say."""
    import inspect
    import json
    import re

    from brianlearn.protocols.eqprop import DEFAULT_ETAS

    with open(os.path.join(os.path.dirname(__file__), "..", "figures", "results", "eqprop_tuning.json")) as f:
        rows = [r for r in json.load(f)["rows"] if ": chosen" in r["quantity"]]
    anneal = inspect.signature(EquilibriumPropagation).parameters["anneal"].default
    keys = {"rate 2-20-2": ("rate", "chl"), "LIF 2-300-2, rule chl": ("lif", "chl"),
            "LIF 2-300-2, rule delta": ("lif", "delta")}
    assert len(rows) == len(keys)
    for row in rows:
        hidden, output, an = map(float, re.fullmatch(r"eta = (\S+), (\S+), anneal (\S+)", row["measured"]).groups())
        key = keys[row["quantity"].split(": chosen")[0]]
        np.testing.assert_allclose(DEFAULT_ETAS[key], (hidden, output), rtol=1e-12, err_msg=str(key))
        assert an == anneal
    assert DEFAULT_ETAS["rate", "delta"] == DEFAULT_ETAS["rate", "chl"]  # (the rate network's delta rule: untuned)


def test_full_learning_rate_factor_is_the_tuned_one():
    """Consistency check (true by construction once the value is copied): the LIF ``--full``
    run's factor of the default rates is the one ``figures/eqprop_tuning.py --full`` chose on the
    validation set, as its stored rows say, and that choice lies inside its grid."""
    import json

    from brianlearn.figures.eqprop_lif import FULL_ETA_FACTOR
    from brianlearn.figures.eqprop_tuning import FULL_GRID

    with open(os.path.join(os.path.dirname(__file__), "..", "figures", "results", "eqprop_tuning_full.json")) as f:
        rows = json.load(f)["rows"]
    chosen = [r for r in rows if "chosen factor" in r["quantity"]]
    assert len(chosen) == 1 and float(chosen[0]["measured"]) == FULL_ETA_FACTOR
    (_, _, factors, _), = FULL_GRID.values()
    assert min(factors) < FULL_ETA_FACTOR < max(factors)


def test_baselines():
    """Linear least squares ~1.6e-2 (DESIGN.md); backprop 2-20-2 far better (spec: 3e-4)."""
    Xtr, Ytr, Xte, Yte = regression_task(4000, 1000, seed=0)
    lin = linear_baseline(Xtr, Ytr, Xte, Yte)
    assert 1.3e-2 < lin < 2.0e-2
    assert backprop_baseline(Xtr, Ytr, Xte, Yte, max_iter=400) < 1e-3


# ------------------------------------------------------------------ NumPy reference
def _energy(net, s, x, y, beta):
    """F = E + beta/2 |y - s_L|^2 of the layered network (s: hidden and output states in (0, 1))."""
    r = [x] + list(s)
    E = 0.5 * sum(np.sum(v * v) for v in s)
    for l, W in enumerate(net.W):
        E -= r[l + 1] @ W @ r[l]
        E -= net.b[l] @ r[l + 1]
    return E + 0.5 * beta * np.sum((y - s[-1]) ** 2)


def test_reference_step_is_minus_the_energy_gradient():
    """One Euler step of the reference = s - eps dF/ds (finite differences of the energy), for states
    inside (0, 1) and symmetric weights."""
    net = RateEPReference((2, 5, 3, 2), eps=0.1, seed=0, output_scale=1.0)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (1, 2)), rng.uniform(0, 1, 2)
    s = [rng.uniform(0.3, 0.7, (1, n)) for n in (5, 3, 2)]
    beta = 0.4
    new = net.relax(x, [x] + s, np.array([beta]), y[None], n_steps=1)
    h = 1e-6
    for l, v in enumerate(s):
        grad = np.zeros(v.shape[1])
        for k in range(v.shape[1]):
            plus = [u[0].copy() for u in s]
            minus = [u[0].copy() for u in s]
            plus[l][k] += h
            minus[l][k] -= h
            grad[k] = (_energy(net, plus, x[0], y, beta) - _energy(net, minus, x[0], y, beta)) / (2 * h)
        np.testing.assert_allclose(new[l + 1][0], v[0] - 0.1 * grad, atol=1e-8)


def test_reference_update_is_the_contrastive_rule():
    """A per-sample update equals eta/beta (rho^b rho^b - rho* rho*) computed by hand, and the
    top-down weights stay the transposes (symmetric) — or fixed with fixed_feedback."""
    X, Y = two_link_arm(1, seed=2)
    for fixed in (False, True):
        net = RateEPReference((2, 4, 2), eta=(0.3, 0.2), seed=0, output_scale=1.0, fixed_feedback=fixed)
        W0, B0 = [w.copy() for w in net.W], net.B[1].copy()
        free = net.free_phase(X)
        nudged = net.relax(X, free, np.array([-0.3]), Y, net.n_nudged)
        net.step(X, Y, [-1.0])
        rf, rn = [hard_sigmoid(v)[0] for v in free], [hard_sigmoid(v)[0] for v in nudged]
        for l, eta in enumerate((0.3, 0.2)):
            dW = eta / -0.3 * (np.outer(rn[l + 1], rn[l]) - np.outer(rf[l + 1], rf[l]))
            np.testing.assert_allclose(net.W[l], W0[l] + dW, atol=1e-14)
        np.testing.assert_allclose(net.B[1], B0 if fixed else net.W[1].T, atol=1e-14)


@pytest.mark.slow
def test_reference_reaches_the_spec_numbers():
    """DESIGN.md 4.4: 2-20-2, minibatches of 20, 5-25 passes over 20 000 samples -> 5e-4 - 1e-3.

    Measured: 1.06e-3 after 5 passes, 2.1e-4 after 10 (seed 1)."""
    Xtr, Ytr, Xte, Yte = regression_task(20000, 1000, seed=0)
    net = RateEPReference((2, 20, 2), eta=(0.5, 0.25), batch_size=20, seed=1).fit(Xtr, Ytr, epochs=10)
    assert net.score(Xte, Yte) < 1e-3


# ------------------------------------------------------------------ Brian2 rate network
@pytest.mark.cpp_standalone
def test_brian2_rate_network_matches_numpy_reference():
    """After 100 per-sample updates (random beta signs) inside the compiled simulation, every weight
    and bias equals the NumPy reference within 1e-6 relative; so do the free-phase outputs of every
    trial. (The match also checks the timing: the free-phase rates are read after its 30th step.)"""
    X, Y = two_link_arm(100, seed=5)
    signs = np.random.default_rng(0).choice([-1.0, 1.0], 100)
    net = EquilibriumPropagation(eta=(0.1, 0.05), seed=0, epochs=1, shuffle=False, anneal=None)
    net.fit(X, Y, signs=signs)
    ref = RateEPReference((2, 20, 2), eta=(0.1, 0.05), seed=0)
    outs = np.concatenate([ref.step(X[k:k + 1], Y[k:k + 1], signs[k:k + 1]) for k in range(100)])
    for W, Wr in zip(net.feedforward_ + net.biases_, ref.W + ref.b):
        assert np.abs(W - Wr).max() <= 1e-6 * np.abs(Wr).max()
    np.testing.assert_allclose(net.feedback_[1], net.feedforward_[1].T, rtol=0, atol=1e-15)
    assert net.weights_ is net.feedforward_ and net.feedback_weights_ is net.feedback_  # the old names
    np.testing.assert_allclose(net.train_outputs_, outs, atol=1e-9)
    assert np.abs(net.feedforward_[0] - RateEPReference((2, 20, 2), seed=0).W[0]).max() > 1e-3  # it learned
    # predict does not learn, and equals the reference's free phase
    W = [w.copy() for w in net.feedforward_]
    np.testing.assert_allclose(net.predict(X[:10]), ref.predict(X[:10]), atol=1e-9)
    np.testing.assert_array_equal(net.feedforward_[0], W[0])


@pytest.mark.cpp_standalone
def test_new_beta_and_learning_rates_run_the_same_binary():
    """beta and the learning rates are run arguments (trial signals), not literals in the code:
    a network with other values finds the cached binary, and still equals the NumPy reference.
    They may also change per trial: a second half with eta = 0 leaves the weights alone."""
    from brianlearn.protocols.eqprop_rate import RateEPNetwork

    X, Y = two_link_arm(40, seed=4)
    signs = np.random.default_rng(2).choice([-1.0, 1.0], 40)
    kw = dict(epochs=1, shuffle=False, anneal=None)
    EquilibriumPropagation(seed=0, **kw).fit(X[:5], Y[:5], signs=signs[:5])
    net = EquilibriumPropagation(seed=0, beta=0.5, eta=(0.2, 0.02), **kw)
    net.fit(X, Y, signs=signs)
    assert net._net.build_info_.compiled is False, net._net.build_info_.changed
    ref = RateEPReference((2, 20, 2), beta=0.5, eta=(0.2, 0.02), seed=0)
    for k in range(40):
        ref.step(X[k:k + 1], Y[k:k + 1], signs[k:k + 1])
    for W, Wr in zip(net.feedforward_ + net.biases_, ref.W + ref.b):
        assert np.abs(W - Wr).max() <= 1e-6 * np.abs(Wr).max()
    # per-trial learning rates: layer 0 learns in the first 20 trials only
    p = RateEPNetwork((2, 20, 2), beta=0.5, etas=(0.2, 0.02), seed=0)
    eta0 = np.r_[np.full(20, 0.2), np.zeros(20)]
    res = p.run_trials({"x": X, "y": Y}, signals={"sign": signs, "eta0": eta0})
    assert p.build_info_.compiled is False
    ref = RateEPReference((2, 20, 2), beta=0.5, eta=(0.2, 0.02), seed=0)
    for k in range(20):
        ref.step(X[k:k + 1], Y[k:k + 1], signs[k:k + 1])
    W0 = p.weights_from_state(res.state)[0][0]
    assert np.abs(W0 - ref.W[0]).max() <= 1e-6 * np.abs(ref.W[0]).max()
    with pytest.raises(ValueError, match="'beta' and 'sign' must be non-zero"):
        p.run_trials({"x": X, "y": Y}, signals={"beta": np.r_[0.0, np.ones(39)]})


@pytest.mark.cpp_standalone
def test_fit_checkpoints_and_resumes(tmp_path):
    """A fit stopped after one chunk and resumed from its checkpoint equals an uninterrupted fit."""
    X, Y = two_link_arm(60, seed=7)
    Xv, Yv = two_link_arm(20, seed=8)
    kw = dict(X_val=Xv, Y_val=Yv)
    est = EquilibriumPropagation(seed=3, chunk_size=40, epochs=1, eval_every=20)
    full = clone(est).fit(X, Y, **kw)
    ck = str(tmp_path / "ep.npz")
    part = clone(est).fit(X, Y, checkpoint=ck, max_chunks=1, **kw)
    assert not part.complete_ and 0 < part.n_samples_seen_ < 60
    assert not np.allclose(part.feedforward_[0], full.feedforward_[0])
    resumed = clone(est).fit(X, Y, checkpoint=ck, resume=True, **kw)
    assert resumed.complete_ and resumed.n_samples_seen_ == 60
    for a, b in zip(resumed.feedforward_ + resumed.biases_, full.feedforward_ + full.biases_):
        np.testing.assert_array_equal(a, b)
    assert set(resumed.history_) == {"n_samples", "train_mse", "val_mse"}
    for key in full.history_:
        np.testing.assert_array_equal(resumed.history_[key], full.history_[key])
    with pytest.raises(ValueError, match="different run"):  # other data, same size
        clone(est).fit(X[::-1], Y[::-1], checkpoint=ck, resume=True, **kw)


@pytest.mark.cpp_standalone
def test_brian2_delta_rule_two_hidden_layers_fixed_feedback_match_reference():
    """The delta rule, two hidden layers and fixed random top-down weights: the Brian2 weights after
    60 samples equal the NumPy reference's within 1e-6 relative; the top-down weights never change."""
    X, Y = two_link_arm(60, seed=6)
    signs = np.random.default_rng(1).choice([-1.0, 1.0], 60)
    kw = dict(rule="delta", fixed_feedback=True)
    net = EquilibriumPropagation(hidden=(5, 3), eta=(0.2, 0.1, 0.05), seed=2, epochs=1, shuffle=False, anneal=None,
                                 **kw)
    net.fit(X, Y, signs=signs)
    ref = RateEPReference((2, 5, 3, 2), eta=(0.2, 0.1, 0.05), seed=2, **kw)
    B0 = [None] + [B.copy() for B in net.feedback_[1:]]
    assert np.abs(B0[1] - ref.W[1].T).max() > 1e-3  # random feedback of its own
    ref.B = [None if B is None else B.copy() for B in B0]
    for k in range(60):
        ref.step(X[k:k + 1], Y[k:k + 1], signs[k:k + 1])
    for W, Wr in zip(net.feedforward_ + net.biases_, ref.W + ref.b):
        assert np.abs(W - Wr).max() <= 1e-6 * np.abs(Wr).max()
    for B, Bi in zip(net.feedback_[1:], B0[1:]):
        np.testing.assert_array_equal(B, Bi)


@pytest.mark.cpp_standalone
def test_brian2_rate_network_learns_the_task():
    """3000 samples (one compiled binary, chunks of 1000): the held-out MSE falls well below its
    initial value and below the linear baseline; history holds training and held-out MSE; score is R^2."""
    Xtr, Ytr, Xte, Yte = regression_task(3000, 1000, seed=1)
    net = EquilibriumPropagation(seed=0, epochs=1, eval_every=1000).fit(Xtr, Ytr, X_val=Xte, Y_val=Yte)
    n, train, val = (net.history_[k] for k in ("n_samples", "train_mse", "val_mse"))
    assert val.shape == (4,) and n[0] == 0 and n[-1] == 3000
    assert val[-1] < 0.05 * val[0]
    assert val[-1] < 0.5 * linear_baseline(Xtr, Ytr, Xte, Yte)
    assert np.isfinite(train[1:]).all()
    pred = net.predict(Xte)
    assert mse(pred, Yte) == pytest.approx(val[-1], rel=1e-9)
    assert net.score(Xte, Yte) == pytest.approx(r2_score(Yte, pred), rel=1e-9) and net.score(Xte, Yte) > 0.9


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_rate_findings_acceptance():
    """The four findings of the seed with the Brian2 network, 3 passes over 20 000 samples, held-out
    set of 1000: all layers <= 1e-3 (also with fixed feedback); no hidden layer no better than the
    linear fit (ratio >= 0.8); fixed random hidden (output only) >= 2x the all-layers MSE."""
    Xtr, Ytr, Xte, Yte = regression_task(20000, 1000, seed=0)
    lin = linear_baseline(Xtr, Ytr, Xte, Yte)
    score = {}
    for name, kw in {"none": dict(hidden=()), "output": dict(learn="output"), "all": {},
                     "fixed_fb": dict(fixed_feedback=True)}.items():
        score[name] = mse(EquilibriumPropagation(seed=0, **kw).fit(Xtr, Ytr).predict(Xte), Yte)
    assert score["all"] <= 1e-3 and score["fixed_fb"] <= 1e-3, score
    assert score["none"] / lin >= 0.8, score
    assert score["output"] >= 2 * score["all"], score


# ------------------------------------------------------------------ errors
def test_bad_input_raises_value_error():
    """Every check happens in fit (the constructor only stores), before anything is simulated."""
    net = EquilibriumPropagation(seed=0)
    X, Y = two_link_arm(10, seed=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        net.fit(X, Y[:9])
    with pytest.raises(ValueError, match=r"y must lie in the output range \[0.0, 1.0\]"):
        net.fit(X, Y + 1.0)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        net.fit(Xn, Y)
    Yn = Y.copy()
    Yn[0, 0] = np.inf
    with pytest.raises(ValueError, match="y contains infinity"):
        net.fit(X, Yn)
    with pytest.raises(ValueError, match="Y_val must lie in the output range"):
        net.fit(X, Y, X_val=X, Y_val=Y + 1.0)
    with pytest.raises(NotFittedError, match="not fitted"):
        net.predict(X)
    with pytest.raises(ValueError, match="epochs"):
        EquilibriumPropagation(epochs=0).fit(X, Y)
    with pytest.raises(ValueError, match="signs"):
        EquilibriumPropagation(epochs=1).fit(X, Y, signs=np.zeros(10))
    for kw, msg in ((dict(neuron="izhikevich"), "neuron"), (dict(rule="oja"), "rule"), (dict(learn="some"), "learn"),
                    (dict(beta=-1.0), "beta"), (dict(eta=(0.1, 0.2, 0.3)), "eta"), (dict(hidden=(0,)), "hidden"),
                    (dict(neurons_per_dim=0), "neurons_per_dim"), (dict(eval_every=0), "eval_every"),
                    (dict(anneal=-1.0), "anneal"), (dict(free_duration=15), "free_duration"),
                    (dict(nudged_duration=0.7 * _ms()), "nudged_duration")):
        est = EquilibriumPropagation(**kw)
        assert est.get_params()[next(iter(kw))] is kw[next(iter(kw))]  # stored as given
        with pytest.raises(ValueError, match=msg):
            est.fit(X, Y)


def test_mse_is_mean_over_samples_and_outputs():
    assert mse([[0, 0], [1, 1]], [[0, 1], [1, 1]]) == pytest.approx(0.25)


# ------------------------------------------------------------------ LIF network
def test_lif_target_drive_inverts_the_lif_rate():
    """The output neurons' target drive is the exact inverse of the analytic LIF rate."""
    from brian2 import Hz, mV, ms, volt

    from brianlearn.models.lif import lif_rate
    from brianlearn.protocols.eqprop_lif import lif_drive

    rates = np.array([20.0, 50.0, 100.0, 150.0])
    D = lif_drive(rates)
    back = lif_rate(D * volt, 15 * ms, 20 * mV, 0 * mV, 5 * ms) / Hz
    np.testing.assert_allclose(back, rates, rtol=1e-10)


def _recorded_lif(beta, etas, rule="delta", nudging="seed", seed=0):
    """A small LIF network (2-6-2, 4 neurons per dimension, phases of 100 and 60 ms, chunks of 4
    trials) that also records the rates of its input and hidden layers. The tests below share its
    binary (beta, the learning rates and the seed are run arguments)."""
    from brianlearn.protocols.eqprop_lif import LIFEPNetwork

    class Recorded(LIFEPNetwork):
        def build_network(self, b):
            super().build_network(b)
            for g in [o for o in b.objects if o.name in ("lif_L0", "lif_L1")]:
                b.record(g, "rho_free")
                b.record(g, "rho_nudged")

    return Recorded((2, 6, 2), beta, etas, rule=rule, nudging=nudging, neurons_per_dim=4,
                    free_duration=100 * _ms(), nudged_duration=60 * _ms(), seed=seed, chunk_size=4)


@pytest.mark.cpp_standalone
@pytest.mark.parametrize("nudging", [pytest.param("constant", marks=pytest.mark.slow), "seed"])  # (27 s build)
def test_lif_network_nudges_outputs_toward_targets(nudging):
    """A small LIF network (4 neurons per dimension): without learning the weights do not
    change; in the nudged phase the decoded outputs move toward the targets. With the seed's factor
    lam = RI / (RI + I_up) a target below the free output has a small drive RI and barely nudges
    (measured here: those outputs rose from about 0.8 to 0.9-1.0, through the top-down input), so
    that form is checked where the target lies above the free output."""
    X, Y = two_link_arm(20, seed=0)
    if nudging == "seed":  # (the binary of the next test)
        net = _recorded_lif(1.0, (0.01, 0.01), nudging=nudging, seed=0)
    else:  # (at 2-6-2 and 60 ms the constant conductance saturates an output: the larger network)
        from brianlearn.protocols.eqprop_lif import LIFEPNetwork

        net = LIFEPNetwork((2, 10, 2), 1.0, (0.01, 0.01), neurons_per_dim=4, free_duration=150 * _ms(),
                           nudged_duration=150 * _ms(), seed=0, chunk_size=20, nudging=nudging)
    Ws, bs = net.init_weights(np.random.default_rng(0), output_scale=1.0)
    net.init_state = net.state_from_weights(Ws, [None, Ws[1].T], bs)
    res = net.run_trials({"x": X, "y": Y}, signals={"lr": 0.0})
    np.testing.assert_array_equal(res.state["lif_W0.w"], net.init_state["lif_W0.w"])
    free = net.decode(res.records["lif_L2.rho_free"])
    nudged = net.decode(res.records["lif_L2.rho_nudged"])
    up = Y > free + 0.1  # (targets well above the free outputs)
    if nudging == "constant":
        assert mse(nudged, Y) < 0.5 * mse(free, Y)
    else:
        assert up.sum() >= 10
        assert np.mean((nudged - Y)[up] ** 2) < 0.5 * np.mean((free - Y)[up] ** 2)
    assert res.records["lif_L2.rho_nudged"].max() > 0.2


@pytest.mark.cpp_standalone
@pytest.mark.parametrize("rule", [pytest.param("chl", marks=pytest.mark.slow), "delta"])  # (~30 s of build each;
def test_lif_network_updates_equal_the_rule_on_its_rates(rule):  # CHL of the rate network: test_eqprop_models)
    """Inside the compiled LIF simulation, every trial changes the forward, top-down and bias
    weights by exactly the rule applied (in NumPy) to that trial's recorded free and nudged rates
    of every layer, with step = lr * eta / beta per layer (per-trial signals)."""
    X, Y = two_link_arm(4, seed=3)
    net = _recorded_lif(1.5, (0.02, 0.01), rule=rule, seed=1)
    Ws, bs = net.init_weights(np.random.default_rng(0), output_scale=1.0)
    net.init_state = net.state_from_weights(Ws, [None, Ws[1].T], bs)
    lr = np.array([1.0, 0.5, 2.0, 1.0])
    res = net.run_trials({"x": X, "y": Y}, signals={"lr": lr})
    rho = {l: (res.records[f"lif_L{l}.rho_free"], res.records[f"lif_L{l}.rho_nudged"]) for l in range(3)}
    assert all(r.max() > 0.05 for pair in rho.values() for r in pair)  # every layer fires
    W, B, b = [w.copy() for w in Ws], Ws[1].T.copy(), [v.copy() for v in bs]
    for t in range(4):
        for l, eta in enumerate((0.02, 0.01)):
            step = lr[t] * eta / 1.5
            (fpre, npre), (fpost, npost) = (rho[l][0][t], rho[l][1][t]), (rho[l + 1][0][t], rho[l + 1][1][t])
            if rule == "chl":
                dW = np.outer(npost, npre) - np.outer(fpost, fpre)
            else:  # the upper layer's change times the lower layer's free rate
                dW = np.outer(npost - fpost, fpre)
            W[l] += step * dW
            b[l] += step * (npost - fpost)
            if l == 1:
                B += step * dW.T  # top-down weights stay the transpose
    Ws2, Bs2, bs2 = net.weights_from_state(res.state)
    for got, want in zip(Ws2 + [Bs2[1]] + bs2, W + [B] + b):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.abs(Ws2[0] - Ws[0]).max() > 1e-4  # it learned


def _ms():
    from brian2 import ms

    return ms


@pytest.mark.slow
@pytest.mark.cpp_standalone
@pytest.mark.xfail(strict=True, reason="seed 003's model (the default: rule 'chl', seed nudging, rates chosen on "
                   "the validation set) misses the 5e-3 bound: held-out MSE about 7x it (RESULTS.md, eqprop_lif)")
def test_lif_network_acceptance():
    """300 LIF hidden neurons, 20 neurons per dimension, 2 passes over 20 000 samples: held-out MSE
    (1000 points) <= 5e-3 and falling with training (~7 minutes on one core)."""
    Xtr, Ytr, Xte, Yte = regression_task(20000, 1000, seed=0)
    net = EquilibriumPropagation(hidden=(300,), neuron="lif", seed=0, epochs=2, eval_every=10000)
    net.fit(Xtr, Ytr, X_val=Xte, Y_val=Yte)
    h = net.history_["val_mse"]
    assert h[-1] <= 5e-3, h
    assert h[1] < 0.1 * h[0] and h[-1] < 0.8 * h[1], h  # falling with training


@pytest.mark.slow  # (17 s; the engine, LCA and NSM runtime/standalone tests run by default)
@pytest.mark.runtime
@pytest.mark.cpp_standalone
def test_runtime_and_cpp_standalone_agree(numpy_target):
    """The rate network learns the same weights on Brian2's runtime device (NumPy target) as in
    the compiled simulation: 8 samples, 1e-9 relative."""
    X, Y = two_link_arm(8, seed=9)
    signs = np.random.default_rng(4).choice([-1.0, 1.0], 8)
    nets = {}
    for device in ("runtime", "cpp_standalone"):
        nets[device] = EquilibriumPropagation(seed=5, device=device, epochs=1, shuffle=False).fit(X, Y, signs=signs)
    rt, cpp = nets["runtime"], nets["cpp_standalone"]
    for a, b in zip(rt.feedforward_ + rt.biases_, cpp.feedforward_ + cpp.biases_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert np.abs(rt.feedforward_[0] - RateEPReference((2, 20, 2), seed=5).W[0]).max() > 1e-4  # it learned
