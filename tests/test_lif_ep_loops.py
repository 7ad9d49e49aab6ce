"""The hand-written loops of the spiking EP network (`brianlearn.benchmarks.lif_ep_loops`) compute
what the compiled network computes.

The estimator is the benchmark's, ``EquilibriumPropagation(hidden=(300,), neuron='lif', epochs=1,
shuffle=False, seed=0)`` (every other parameter its default), on the two-link arm. Spike times are
discontinuous in the state: the loops agree with brianlearn only while every threshold crossing
falls in the same time step; they do on these samples (measured: within 2e-16 over 2000 samples).
"""

import numpy as np
import pytest

from brianlearn.datasets.regression import two_link_arm
from brianlearn.protocols.eqprop import EquilibriumPropagation

#: largest absolute difference of learned weights, biases, feedback weights and outputs accepted
ATOL = 1e-12


def _estimator(**kw):
    return EquilibriumPropagation(hidden=(300,), neuron="lif", epochs=1, shuffle=False, seed=0, **kw)


def _arrays(Ws, bs, Bs):
    return {**{f"feedforward_[{l}]": w for l, w in enumerate(Ws)}, **{f"biases_[{l}]": b for l, b in enumerate(bs)},
            **{f"feedback_[{l}]": B for l, B in enumerate(Bs) if B is not None}}


def _assert_equal_fit(got, est, init):
    """``got`` = (Ws, bs, Bs, outputs) equals ``est``'s fit, and the fit changed every array."""
    Ws, bs, Bs, out = got
    want = _arrays(est.feedforward_, est.biases_, est.feedback_)
    start = _arrays(init["Ws"], init["bs"], init["Bs"])
    mine = _arrays(Ws, bs, Bs)
    assert mine.keys() == want.keys()
    for key in want:
        assert np.abs(want[key] - start[key]).max() > 1e-5, f"{key} did not learn"
        np.testing.assert_allclose(mine[key], want[key], rtol=0, atol=ATOL, err_msg=key)
    np.testing.assert_allclose(out, est.train_outputs_, rtol=0, atol=ATOL)


@pytest.mark.cpp_standalone
def test_numpy_lif_loop_equals_the_compiled_network():
    """Three samples: the NumPy loop's feedforward, bias and feedback weights and free-phase
    outputs equal the brianlearn cpp_standalone fit within 1e-12 (both from the estimator's
    initial weights, learning-rate schedule and order)."""
    from brianlearn.benchmarks.lif_ep_loops import ep_lif_numpy, lif_ep_init

    X, Y = two_link_arm(3, seed=0)
    est = _estimator().fit(X, Y)
    init = lif_ep_init(_estimator(), X, Y)
    assert init["lr"][0] > init["lr"][-1]  # (the annealed schedule of the fit)
    got = ep_lif_numpy(init, rates=True)
    assert got[4]["spikes"].min() > 100  # every layer fires in every sample
    _assert_equal_fit(got[:4], est, init)


@pytest.mark.cpp_standalone
def test_numba_lif_loop_equals_the_compiled_network_over_a_chunk():
    """A whole compiled chunk (200 samples, 100 s): the Numba loop, every end-of-free-phase
    snapshot on time, equals the cpp_standalone fit within 1e-12. (Brian2's own standalone loop
    took the snapshot a step late in trials 154-200, its clocks' times parting by more than its
    absolute 1e-14 s beyond 64 s; brianlearn's loop compares them as runtime does.)"""
    pytest.importorskip("numba")
    from brianlearn.benchmarks.lif_ep_loops import ep_lif_numba, lif_ep_init

    X, Y = two_link_arm(200, seed=0)
    est = _estimator().fit(X, Y)
    init = lif_ep_init(_estimator(), X, Y)
    assert not init["late_free"].any()
    _assert_equal_fit(ep_lif_numba(init), est, init)


def _assert_same(a, b, tol=0.0):
    for x, y in zip(a[0] + a[1] + [B for B in a[2] if B is not None] + [a[3]],
                    b[0] + b[1] + [B for B in b[2] if B is not None] + [b[3]]):
        np.testing.assert_allclose(x, y, rtol=0, atol=tol)


@pytest.mark.parametrize("contract", [True, False])
def test_numba_lif_loop_equals_the_numpy_loop(contract):
    """The Numba loop equals the NumPy loop (the defaults, two samples), with the compiled
    program's fused multiply-adds in the input neurons and without."""
    pytest.importorskip("numba")
    from brianlearn.benchmarks.lif_ep_loops import ep_lif_numba, ep_lif_numpy, lif_ep_init

    X, Y = two_link_arm(2, seed=0)
    init = lif_ep_init(_estimator(), X, Y)
    a, b = ep_lif_numpy(init, contract=contract), ep_lif_numba(init, contract=contract)
    assert np.abs(a[0][0] - init["Ws"][0]).max() > 1e-5
    _assert_same(b, a, 1e-15)


def test_numba_lif_loop_equals_the_numpy_loop_in_every_variant():
    """The delta rule, output-layer learning, fixed feedback, the constant nudging conductance,
    shuffled epochs and a snapshot made late (as Brian2's own loop took some): the same in both loops."""
    pytest.importorskip("numba")
    from brianlearn.benchmarks.lif_ep_loops import ep_lif_numba, ep_lif_numpy, lif_ep_init

    X, Y = two_link_arm(2, seed=4)
    for kw in (dict(rule="delta", nudging="constant", anneal=None, seed=1),
               dict(learn="output", fixed_feedback=True, epochs=2, shuffle=True, seed=2)):
        est = EquilibriumPropagation(hidden=(40,), neuron="lif", **kw)
        init = lif_ep_init(est, X, Y)
        init["late_free"] = np.arange(len(init["X"])) % 2 == 1
        a, b = ep_lif_numpy(init), ep_lif_numba(init)
        assert np.abs(a[0][1] - init["Ws"][1]).max() > 1e-5
        if est.learn == "output":
            np.testing.assert_array_equal(a[0][0], init["Ws"][0])
        if est.fixed_feedback:
            np.testing.assert_array_equal(a[2][1], init["Bs"][1])
        _assert_same(b, a, 1e-15)
