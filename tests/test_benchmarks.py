"""The benchmark's hand-written implementations compute what brianlearn computes.

`brianlearn bench` times NumPy and Numba loops against the compiled networks only after checking
equal results; these tests check the loops against each other and the bench's own comparison on a
tiny case (the compiled networks are checked against the NumPy loops in test_nsm / test_dictionary).
"""

import numpy as np
import pytest

from brianlearn.datasets.images import image_patches, load_digits_data
from brianlearn.protocols.dictionary import initial_weights
from brianlearn.protocols.dictionary_reference import simulate_dictionary_network
from brianlearn.protocols.nsm_reference import simulate_nsm_network


def test_numba_nsm_and_lca_loops_equal_the_numpy_loop():
    pytest.importorskip("numba")
    from brianlearn.benchmarks.numba_loops import nsm_numba

    X = load_digits_data()[:12] - 0.3
    W0 = np.random.default_rng(0).uniform(0, 0.25, (12, 64))
    kw = dict(alpha=0.2, lam1=0.05, lam2=0.1, duration=40, dt=0.05)
    a, b = simulate_nsm_network(X, W0, 0.05, **kw), nsm_numba(X, W0, 0.05, **kw)
    assert a["Y"].sum() > 10 and np.abs(a["W"] - W0).max() > 1e-3
    for key in ("Y", "W", "Mbar", "Mii", "b"):
        np.testing.assert_allclose(b[key], a[key], atol=1e-12, err_msg=key)
    # LCA: no learning, W = D, lateral weights D D^T off the diagonal, thresholds its diagonal
    rng = np.random.default_rng(1)
    D = np.abs(rng.normal(size=(10, 64)))
    G = D @ D.T
    lca = dict(lam1=0.1, duration=20, dt=0.01, Mbar=G - np.diag(np.diag(G)), Mii=np.diag(G))
    a, b = simulate_nsm_network(X[:4], D, 0.0, **lca), nsm_numba(X[:4], D, 0.0, **lca)
    assert a["Y"].sum() > 0
    np.testing.assert_allclose(b["Y"], a["Y"], atol=1e-12)
    np.testing.assert_array_equal(b["W"], D)


def test_numba_triplet_loop_equals_the_event_loop():
    """All-to-all and nearest-spike triplet STDP on pairings and triplets, presynaptic spike first at equal times."""
    pytest.importorskip("numba")
    from brianlearn.benchmarks.numba_loops import triplet_numba
    from brianlearn.protocols.plasticity.parameters import resolve_synapse
    from brianlearn.protocols.plasticity.reference import event_weight_change

    params = {k: float(v) for k, v in resolve_synapse("triplet_stdp", "pfister_hippocampus_full").parameters.items()}
    pre = 0.01 + np.arange(6) * 0.1
    conds = [(pre, pre + d) for d in (-0.02, -0.005, 0.0, 0.005, 0.02)] + [(pre, np.sort(np.r_[pre + 0.005, pre - 0.01]))]
    for rule, nearest in (("triplet", False), ("triplet_nearest", True)):
        ref = np.array([event_weight_change(rule, params, a, b) for a, b in conds])
        assert np.ptp(ref) > 0.05
        np.testing.assert_allclose(triplet_numba(conds, params, nearest=nearest), ref, rtol=0, atol=1e-14)


def test_numba_dictionary_loop_equals_the_numpy_loop():
    pytest.importorskip("numba")
    from brianlearn.benchmarks.numba_loops import dictionary_numba

    X = image_patches(4, seed=3)
    F, B, H = initial_weights(128, 12, seed=0)[:3]
    kw = dict(phase_duration=10.0, eta_d=0.05, eta_h=0.5, lam2=0.01)
    a, b = simulate_dictionary_network(X, F, B, H, 0.1, **kw), dictionary_numba(X, F, B, H, 0.1, **kw)
    assert a[3]["ak"].sum() > 0 and np.abs(a[0] - F).max() > 1e-4
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_allclose(y, x, atol=1e-12)
    np.testing.assert_allclose(b[3]["ak"], a[3]["ak"], atol=1e-12)


def test_numba_rate_ep_loop_equals_the_numpy_reference():
    """One update per sample, random beta signs, an annealed learning rate: the Numba loop's
    weights, biases, feedback weights and free-phase outputs equal `RateEPReference`'s."""
    pytest.importorskip("numba")
    from brianlearn.benchmarks.numba_loops import ep_rate_numba
    from brianlearn.datasets.regression import two_link_arm
    from brianlearn.protocols.eqprop_reference import RateEPReference

    X, Y = two_link_arm(30, seed=2)
    signs = np.random.default_rng(0).choice([-1.0, 1.0], 30)
    lr = np.linspace(1.0, 0.5, 30)
    ref = RateEPReference((2, 7, 2), beta=0.4, eta=(0.3, 0.2), eps=0.4, n_free=12, n_nudged=5, seed=1,
                          output_scale=1.0)
    W0, b0, B0 = [w.copy() for w in ref.W], [v.copy() for v in ref.b], [None, ref.B[1].copy()]
    out = np.concatenate([ref.step(X[q:q + 1], Y[q:q + 1], signs[q:q + 1], lr=lr[q]) for q in range(30)])
    Ws, bs, Bs, out_nb = ep_rate_numba(X, Y, W0, b0, B0, signs, lr, 0.4, (0.3, 0.2), 0.4, 12, 5)
    assert np.abs(ref.W[0] - W0[0]).max() > 1e-3  # it learned
    for a, b in zip(ref.W + ref.b + [ref.B[1]], Ws + bs + [Bs[1]]):
        np.testing.assert_allclose(b, a, atol=1e-12)
    np.testing.assert_allclose(out_nb, out, atol=1e-12)
    with pytest.raises(ValueError, match="one hidden layer"):
        ep_rate_numba(X, Y, W0 + W0[1:], b0, B0, signs, lr, 0.4, (0.3, 0.2, 0.1))


@pytest.mark.slow
@pytest.mark.cpp_standalone
@pytest.mark.runtime
def test_bench_runs_and_every_implementation_agrees(tmp_path):
    """The whole benchmark on tiny sizes: every row's result equals brianlearn's."""
    pytest.importorskip("numba")
    import brianlearn.benchmarks.bench as bench

    sizes, samples, slow = dict(bench.SIZES[True]), dict(bench.SAMPLES[True]), dict(bench.SLOW_SAMPLES)
    try:
        bench.SIZES[True] = {"nsm": (8,), "lca": (8,), "dictionary": (8,), "eqprop rate": (4,), "plasticity": (4,)}
        bench.SAMPLES[True] = {"nsm": 20, "lca": 10, "dictionary": 10, "eqprop rate": 20, "plasticity": None}
        bench.SLOW_SAMPLES.update({"nsm": 2, "lca": 2, "dictionary": 2, "eqprop rate": 2, "plasticity": 2})
        rows = bench.run_bench(quick=True, systems=["nsm", "lca", "dictionary", "eqprop rate", "plasticity"],
                               repeats=1, out=str(tmp_path))
    finally:
        bench.SIZES[True], bench.SAMPLES[True] = sizes, samples
        bench.SLOW_SAMPLES.update(slow)
    diffs = [r["max |diff|"] for r in rows if not np.isnan(r["max |diff|"])]
    assert len(diffs) == 5 * 5 and max(diffs) <= bench.TOLERANCE
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.count("| nsm |") == 7 and "max abs diff" in text
