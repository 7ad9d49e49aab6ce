"""Spiking non-negative elastic net (Pehlevan 2019, arXiv:1902.01429, section 4.1 / Fig. 2)."""

import numpy as np
import pytest

from brianlearn.protocols.nsm_solver import (elastic_net_objective, elastic_net_reference, solver_check_problems,
                                             spiking_elastic_net)


def _errors(y, y_ref):
    return np.linalg.norm(y - y_ref, axis=1) / np.linalg.norm(y_ref, axis=1)


def test_reference_satisfies_kkt():
    """The convex solver's minimum satisfies the KKT conditions of h (independent check)."""
    P = solver_check_problems(16, 5, seed=3)
    for p in range(5):
        c = P["Wx"][p] - P["alpha"] * P["b"][p] - P["lam1"]
        y = P["y_ref"][p]
        grad = 2 * ((P["M"][p] + P["lam2"] * np.eye(16)) @ y - c)
        assert np.all(y >= 0)
        assert np.all(np.abs(grad[y > 1e-9]) < 1e-6)
        assert np.all(grad[y <= 1e-9] > -1e-6)
    # a non-positive-definite A takes the L-BFGS-B path; compare with a brute-force grid
    M = np.array([[1.0, 1.0], [1.0, 1.0]])
    y = elastic_net_reference([1.0, 0.5], M, [0, 0], 0.0, 0.0, 0.0)
    g = np.linspace(0, 2, 401)
    Y = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    h = elastic_net_objective(Y, np.array([1.0, 0.5]), M, np.zeros(2), 0, 0, 0)
    assert elastic_net_objective(y, np.array([1.0, 0.5]), M, np.zeros(2), 0, 0, 0)[0] <= h.min() + 1e-9


@pytest.mark.slow  # (~40 s: 2 x 50 000 steps per problem; the default run checks the solver via tests/test_lca.py)
@pytest.mark.cpp_standalone
def test_solver_check_paper_settings():
    """Fig. 2 at the paper's tau = 500, dtau = 0.01: max error <= 0.06, median <= 0.02 (subset of k).

    The 'zero' reset (the paper's) is less accurate than the default 'subtract' one.
    """
    for k in (4, 32):
        P = solver_check_problems(k, 8, seed=0)
        args = (P["Wx"], P["M"], P["b"], P["alpha"], P["lam1"], P["lam2"])
        err = _errors(spiking_elastic_net(*args, duration=500, dt=0.01), P["y_ref"])
        assert err.max() <= 0.06 and np.median(err) <= 0.02, (k, err)
        err_zero = _errors(spiking_elastic_net(*args, duration=500, dt=0.01, reset="zero"), P["y_ref"])
        assert np.median(err_zero) > 3 * np.median(err), (k, err, err_zero)


@pytest.mark.cpp_standalone
def test_shared_M_and_single_problem():
    """A shared (k, k) M (constant lateral weights) gives the convex solver's answer too."""
    rng = np.random.default_rng(1)
    k = 6
    V = rng.uniform(0, 1 / np.sqrt(k), (k, k))
    M = V @ V.T + 0.2 * np.eye(k)
    Wx = rng.uniform(0, 3, (4, k))
    b = rng.uniform(0, 1, k)
    y = spiking_elastic_net(Wx, M, b, 0.5, 0.2, 0.05, duration=300, dt=0.01)
    ref = elastic_net_reference(Wx, M, b, 0.5, 0.2, 0.05)
    assert y.shape == (4, k)
    assert _errors(y, ref).max() < 0.02
    y1 = spiking_elastic_net(Wx[0], M, b, 0.5, 0.2, 0.05, duration=300, dt=0.01)
    assert y1.shape == (k,)
    np.testing.assert_allclose(y1, y[0], atol=1e-12)


@pytest.mark.runtime
@pytest.mark.cpp_standalone
def test_runtime_matches_standalone(numpy_target):
    """The same network on Brian2's runtime device gives the same spike counts."""
    P = solver_check_problems(3, 2, seed=5)
    args = (P["Wx"], P["M"], P["b"], P["alpha"], P["lam1"], P["lam2"])
    y_rt = spiking_elastic_net(*args, duration=20, dt=0.02, device="runtime")
    y_cpp = spiking_elastic_net(*args, duration=20, dt=0.02, device="cpp_standalone")
    np.testing.assert_array_equal(y_rt, y_cpp)  # (measured: the same spike counts)
    assert _errors(y_rt, P["y_ref"]).max() < 0.05  # (measured: 0.028 after 20 time units)


@pytest.mark.parametrize("change, match", [
    (dict(M=np.ones((3, 3, 3))), "M must have shape"),
    (dict(b=np.ones(3)), "b must have shape"),
    (dict(Wx=np.ones((2, 2, 2))), "Wx must have shape"),
    (dict(M=np.array([[1.0, 0.5], [0.2, 1.0]])), "symmetric"),
    (dict(M=-np.eye(2)), "thresholds"),
    (dict(lam2=-0.1), "lam2"),
    (dict(lam1=-1.0), "lam1"),
    (dict(alpha=np.nan), "alpha"),
    (dict(Wx=np.array([[1.0, np.nan], [0.0, 1.0]])), "NaN"),
    (dict(M=np.array([[1.0, np.inf], [np.inf, 1.0]])), "NaN"),
    (dict(duration=-5), "duration"),
    (dict(dt=0), "dt"),
    (dict(duration=1.0, dt=0.3), "multiple of dt"),
    (dict(reset="soft"), "reset"),
])
def test_bad_input(change, match):
    kw = dict(Wx=np.ones((2, 2)), M=np.eye(2), b=np.zeros(2), alpha=0.1, lam1=0.1, lam2=0.1, duration=10, dt=0.01)
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        spiking_elastic_net(**kw)
    if not {"duration", "dt", "reset"} & set(change):
        with pytest.raises(ValueError, match=match):
            elastic_net_reference(*[kw[n] for n in ("Wx", "M", "b", "alpha", "lam1", "lam2")])


@pytest.mark.slow
@pytest.mark.cpp_standalone
def test_solver_check_all_k():
    """Fig. 2 in full: k in {2, 4, ..., 256}, 100 accepted sets each (about 3-10 minutes)."""
    for k in (2, 4, 8, 16, 32, 64, 128, 256):
        P = solver_check_problems(k, 100, seed=0)
        y = spiking_elastic_net(P["Wx"], P["M"], P["b"], P["alpha"], P["lam1"], P["lam2"], duration=500, dt=0.01)
        err = _errors(y, P["y_ref"])
        assert err.max() <= 0.06 and np.median(err) <= 0.02, (k, err.max(), np.median(err))
