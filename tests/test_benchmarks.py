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


@pytest.mark.slow
@pytest.mark.cpp_standalone
@pytest.mark.runtime
def test_bench_runs_and_every_implementation_agrees(tmp_path):
    """The whole benchmark on tiny sizes: every row's result equals brianlearn's."""
    pytest.importorskip("numba")
    import brianlearn.benchmarks.bench as bench

    sizes, samples, slow = dict(bench.SIZES[True]), dict(bench.SAMPLES[True]), dict(bench.SLOW_SAMPLES)
    try:
        bench.SIZES[True] = {"nsm": (8,), "lca": (8,), "dictionary": (8,)}
        bench.SAMPLES[True] = {"nsm": 20, "lca": 10, "dictionary": 10}
        bench.SLOW_SAMPLES.update({"nsm": 2, "lca": 2, "dictionary": 2})
        rows = bench.run_bench(quick=True, systems=["nsm", "lca", "dictionary"], repeats=1, out=str(tmp_path))
    finally:
        bench.SIZES[True], bench.SAMPLES[True] = sizes, samples
        bench.SLOW_SAMPLES.update(slow)
    diffs = [r["max |diff|"] for r in rows if not np.isnan(r["max |diff|"])]
    assert len(diffs) == 3 * 5 and max(diffs) <= bench.TOLERANCE
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.count("| nsm |") == 7 and "max abs diff" in text
