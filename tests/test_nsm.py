"""Spiking NSM learning (Pehlevan 2019, arXiv:1902.01429): in-simulation rules vs NumPy."""

import numpy as np
import pytest

from sklearn.exceptions import NotFittedError

from brianlearn import Protocol
from brianlearn.datasets.images import load_digits_data
from brianlearn.protocols.nsm import AnalogNSM, SpikingNSM, elastic_net_reference, nsm_cost, paper_eta


def _digits(n_train, n_val, seed=0):
    X = load_digits_data()
    X = X[np.random.default_rng(seed).permutation(len(X))]
    return X[:n_train], X[n_train:n_train + n_val]


def test_nsm_cost_and_eta():
    """The cost is the paper's eq. 1 (checked on a brute-force double sum); the schedule is the paper's."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), np.abs(rng.normal(size=(5, 2)))
    a, l1, l2 = 0.4, 0.2, 0.3
    T = len(X)
    brute = sum((X[t] @ X[s] - Y[t] @ Y[s] - a * a) ** 2 for t in range(T) for s in range(T)) / (2 * T * T)
    brute += 2 * l1 / T * np.abs(Y).sum() + l2 / T * (Y ** 2).sum()
    assert nsm_cost(X, Y, a, l1, l2) == pytest.approx(brute)
    np.testing.assert_allclose(paper_eta([0, 9999, 10000, 99999, 100000]), [1e-3, 1e-3, 1e-5, 1e-5, 0.5e-5])


def test_analog_dynamics_reach_the_elastic_net_minimum():
    """The analog network's fixed point is the convex solver's minimum of h."""
    X, _ = _digits(5, 0)
    net = AnalogNSM(6, alpha=0.3, lam1=0.2, lam2=0.1, eta=0.0, seed=1).fit(X)  # eta = 0: the initial weights
    net.lateral_ = net.lateral_ + 0.05 * (1 - np.eye(6))
    net.biases_ = np.linspace(0, 1, 6)
    y = net.transform(X)
    ref = elastic_net_reference(X @ net.feedforward_.T, net.lateral_, net.biases_, 0.3, 0.2, 0.1)
    np.testing.assert_allclose(y, ref, atol=1e-6)


@pytest.mark.cpp_standalone
def test_in_simulation_rules_equal_numpy_rules():
    """W, Mbar, M_ii and b updates inside the compiled simulation equal the NumPy rules applied
    to the spiking outputs of the same trials (and each trial's update uses its own x and y)."""
    X, _ = _digits(12, 0, seed=2)
    etas = np.linspace(0.05, 0.2, 12)
    net = SpikingNSM(5, alpha=0.5, lam1=0.1, lam2=0.1, eta=etas, duration=50, dt=0.05, seed=3, chunk_size=6)
    net.partial_fit(X[:6])
    W, M, b = net.W_.copy(), net.M_.copy(), net.b_.copy()
    W0 = W.copy()
    net.partial_fit(X[6:])  # second chunk: starts from the carried state
    Y = net.last_outputs_
    assert Y.shape == (6, 5) and Y.sum() > 0
    for t in range(6):
        eta, x, y = etas[6 + t], X[6 + t], Y[t]
        W += eta * (np.outer(y, x) - W)
        M += eta * (np.outer(y, y) - M)
        b += eta * (0.5 * y - b)
    np.testing.assert_allclose(net.W_, W, atol=1e-12)
    np.testing.assert_allclose(net.M_, M, atol=1e-12)
    np.testing.assert_allclose(net.b_, b, atol=1e-12)
    assert np.abs(net.W_ - W0).max() > 1e-3
    # transform does not learn, and gives the elastic-net minimum for the learned weights
    Y2 = net.transform(X[:3])
    np.testing.assert_allclose(net.W_, W, atol=1e-12)
    ref = elastic_net_reference(X[:3] @ W.T, M, b, 0.5, 0.1, 0.1)
    assert np.linalg.norm(Y2 - ref) / np.linalg.norm(ref) < 0.1


@pytest.mark.cpp_standalone
def test_compiled_network_equals_a_step_by_step_numpy_network():
    """The whole compiled network (dynamics, spikes, lateral effects, resets and rules) against
    `simulate_nsm_network`, an independent NumPy loop in Brian2's order of operations: the same
    spikes in every trial and the same learned weights to rounding, after 30 samples that
    learn (the NumPy loop is also the reference the speed benchmark times)."""
    from brianlearn.protocols.nsm_reference import simulate_nsm_network

    X, _ = _digits(30, 0, seed=4)
    W0 = np.random.default_rng(1).uniform(0, 0.25, (16, 64))
    net = SpikingNSM(16, alpha=0.3, lam1=0.05, lam2=0.1, eta=0.02, duration=50, dt=0.05, W_init=W0, shuffle=False,
                     seed=0, chunk_size=15).fit(X)
    ref = simulate_nsm_network(X, W0, 0.02, alpha=0.3, lam1=0.05, lam2=0.1, duration=50, dt=0.05)
    np.testing.assert_array_equal(np.rint(net.last_outputs_ * 50), np.rint(ref["Y"] * 50))  # spike counts
    assert ref["Y"].sum() > 10 and np.abs(ref["W"] - W0).max() > 1e-3
    np.testing.assert_allclose(net.W_, ref["W"], atol=1e-12)
    np.testing.assert_allclose(net.M_, ref["Mbar"] + np.diag(ref["Mii"]), atol=1e-12)
    np.testing.assert_allclose(net.b_, ref["b"], atol=1e-12)


@pytest.mark.cpp_standalone
def test_spiking_cost_within_5_percent_of_analog():
    """Acceptance: the spiking NSM's held-out cost ends within 5 % of the NumPy analog network's
    (same data, seed, sample order and learning rates), and learning lowers it."""
    Xtr, Xval = _digits(200, 50)
    kw = dict(alpha=0.0, lam1=0.5, lam2=0.0, eta=0.01, eval_every=200, seed=0)
    s = SpikingNSM(8, duration=200, dt=0.02, chunk_size=50, **kw).fit(Xtr, X_val=Xval)
    a = AnalogNSM(8, solver="exact", **kw).fit(Xtr, X_val=Xval)
    cs, ca = s.history[-1, 1], a.history[-1, 1]
    assert s.history[0, 1] > 3 * cs  # it learned
    assert abs(cs - ca) / ca < 0.05, (cs, ca)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_components=0), "n_components"),
    (dict(alpha=-1), "alpha"),
    (dict(lam1=np.nan), "lam1"),
    (dict(eta=2.0), "eta"),
    (dict(eta="fast"), "eta"),
    (dict(reset="none"), "reset"),
    (dict(duration=-1), "duration"),
    (dict(n_iter=0), "n_iter"),
    (dict(eval_every=1.5), "eval_every"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(init="zeros"), "init"),
    (dict(chunk_size=0), "chunk_size"),
])
def test_bad_parameters(kwargs, match):
    """The constructor only stores its arguments; fit names the bad one (before building anything)."""
    kw = dict(n_components=3)
    kw.update(kwargs)
    net = SpikingNSM(**kw)
    assert net.get_params()[next(iter(kwargs))] is next(iter(kwargs.values()))
    with pytest.raises(ValueError, match=match):
        net.fit(np.ones((4, 2)))
    with pytest.raises(ValueError, match=match):
        net.partial_fit(np.ones((4, 2)))


def test_bad_analog_parameters():
    for kwargs, match in ((dict(solver="newton"), "solver"), (dict(dt=0), "dt"), (dict(tol=-1), "tol")):
        with pytest.raises(ValueError, match=match):
            AnalogNSM(3, **kwargs).fit(np.ones((4, 2)))


def test_bad_data():
    net = AnalogNSM(3, seed=0)
    with pytest.raises(ValueError, match="2D array"):
        net.fit(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        net.fit(np.array([[1.0, np.nan]]))
    with pytest.raises(NotFittedError, match="not fitted"):
        net.transform(np.ones((2, 2)))
    net.fit(np.ones((4, 2)))
    with pytest.raises(ValueError, match="2 features"):
        net.transform(np.ones((2, 3)))
    with pytest.raises(NotFittedError, match="not fitted"):
        SpikingNSM(3).transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="W_init"):
        SpikingNSM(3, W_init=np.ones((2, 2))).fit(np.ones((4, 5)))


def test_auto_held_out_history():
    """fit() holds out a subset by default and records the NSM cost on it, which learning lowers."""
    X, _ = _digits(200, 0, seed=4)
    net = AnalogNSM(4, lam1=0.1, eta=0.02, seed=0, solver="exact").fit(X)
    h = net.history
    assert net.n_samples_seen_ == 180 and h.shape == (11, 2)
    np.testing.assert_allclose(h[:, 0], np.arange(0, 181, 18))
    assert h[-1, 1] < 0.5 * h[0, 1]
    assert h[-1, 1] == pytest.approx(net.cost(X[180:]))


@pytest.mark.cpp_standalone
def test_fit_checkpoints_and_resumes(tmp_path):
    """A fit stopped mid-block (max_chunks) and resumed from its checkpoints equals an uninterrupted
    fit: weights, thresholds, biases and the held-out history; another fit's checkpoint is refused."""
    X, _ = _digits(60, 0, seed=5)
    kw = dict(X_val=X[:6])
    make = lambda: SpikingNSM(4, lam1=0.05, eta=0.05, n_iter=40, eval_every=20, duration=40, dt=0.1, seed=1,  # noqa: E731
                              chunk_size=10)
    full = make().fit(X, **kw)
    ck = str(tmp_path / "nsm.npz")
    part = make().fit(X, checkpoint=ck, max_chunks=3, **kw)  # block 1 (2 chunks) + 1 chunk of block 2
    assert not part.complete_ and part.n_samples_seen_ == 20 and len(part.history_["cost"]) == 2
    assert Protocol.checkpoint_progress(ck + ".run.npz") == 1
    resumed = make().fit(X, checkpoint=ck, resume=True, max_chunks=1, **kw)  # the one chunk left
    assert resumed.complete_ and resumed.n_samples_seen_ == 40
    np.testing.assert_array_equal(resumed.feedforward_, full.feedforward_)
    np.testing.assert_array_equal(resumed.lateral_, full.lateral_)
    np.testing.assert_array_equal(resumed.biases_, full.biases_)
    np.testing.assert_array_equal(resumed.history, full.history)
    with pytest.raises(ValueError, match="different run"):
        make().fit(X[::-1], checkpoint=ck, resume=True, **kw)
    # the NumPy reference checkpoints per block
    ack = str(tmp_path / "analog.npz")
    analog = lambda: AnalogNSM(4, lam1=0.05, eta=0.05, n_iter=40, eval_every=20, seed=1, solver="exact")  # noqa: E731
    a_full = analog().fit(X, **kw)
    a_res = analog().fit(X, checkpoint=ack, resume=True, **kw)
    np.testing.assert_array_equal(a_res.feedforward_, a_full.feedforward_)
    a_part = analog().fit(X, checkpoint=ack, **kw)  # the checkpoint of a complete fit resumes to the same
    np.testing.assert_array_equal(analog().fit(X, checkpoint=ack, resume=True, **kw).history, a_part.history)


@pytest.mark.runtime
@pytest.mark.cpp_standalone
def test_runtime_and_cpp_standalone_agree(numpy_target):
    """SpikingNSM learns the same weights on the runtime device (NumPy target) as compiled."""
    X, _ = _digits(6, 0, seed=6)
    nets = {device: SpikingNSM(4, alpha=0.3, lam1=0.05, eta=0.1, duration=30, dt=0.1, seed=2, device=device,
                               chunk_size=6).fit(X, X_val=None)
            for device in ("runtime", "cpp_standalone")}
    rt, cpp = nets["runtime"], nets["cpp_standalone"]
    np.testing.assert_allclose(rt.last_outputs_, cpp.last_outputs_, rtol=0, atol=1e-12)
    assert cpp.last_outputs_.sum() > 0
    for attr in ("feedforward_", "lateral_", "biases_"):
        np.testing.assert_allclose(getattr(rt, attr), getattr(cpp, attr), rtol=1e-9, atol=1e-12)


@pytest.mark.slow  # (19 s of build; the engine's OpenMP test runs by default)
@pytest.mark.cpp_standalone
def test_openmp_threads_give_the_same_weights():
    """NSM with its synapses (W, M and the summed recurrent input) on 2 OpenMP threads learns the
    same weights as on 1 (bit for bit: each synapse and each neuron is updated by one thread)."""
    from brianlearn.devices import DeviceConfig

    X, _ = _digits(6, 0, seed=6)
    nets = [SpikingNSM(4, alpha=0.3, lam1=0.05, eta=0.1, duration=30, dt=0.1, seed=2, chunk_size=6,
                       device=DeviceConfig("cpp_standalone", threads=n)).fit(X, X_val=None) for n in (1, 2)]
    assert nets[0].last_outputs_.sum() > 0
    np.testing.assert_array_equal(nets[1].last_outputs_, nets[0].last_outputs_)
    for attr in ("feedforward_", "lateral_", "biases_"):
        np.testing.assert_array_equal(getattr(nets[1], attr), getattr(nets[0], attr))
