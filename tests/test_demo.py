"""The demo as a scikit-learn regressor: API conventions and scikit-learn's estimator checks."""

import numpy as np
import pytest
from brian2 import ms, second
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from _sklearn_checks import parametrize_sklearn_checks

from brianlearn.protocols.demo import ContrastiveDemo, DemoNetwork, target_rates, teacher_task

#: a tiny network for the checks: 2 ms windows at dt = 0.5 ms (the rates are then coarse, which
#: the checks do not mind), runtime device, small chunks
TINY = dict(window=4 * ms, settle=1 * ms, dt=0.5 * ms, device="runtime", seed=0, chunk_size=128)

#: checks left out, and why
EXPECTED_FAILED = {
    "check_parameters_default_constructible": "eta, window, settle and dt default to Brian2 quantities (values "
                                              "with units), a type the check does not list",
    "check_regressors_train": "predictions are firing rates (Hz) of the spiking outputs, not the targets' "
                              "scale: y are target drives in volts; score() compares rates with target_rates(y)",
    "check_regressor_data_not_an_array": "predictions are rates counted over a 4 ms window: list and array "
                                         "inputs agree, but the check compares them with a 1e-7 tolerance on "
                                         "R^2-like scores of target drives",
}


@parametrize_sklearn_checks([ContrastiveDemo(**TINY)], EXPECTED_FAILED)
def test_scikit_learn_estimator_checks(estimator, check, numpy_target):
    check(estimator)


def test_clone_get_set_params_and_not_fitted():
    est = ContrastiveDemo(**TINY)
    assert clone(est).get_params() == est.get_params()
    est.set_params(**est.get_params())
    with pytest.raises(NotFittedError):
        est.predict(np.ones((2, 4)))


def test_estimator_learns_what_the_network_learns(numpy_target):
    """The estimator's weights are the DemoNetwork's learned synapses (pre-major), same seed."""
    X, Y, _ = teacher_task(6, seed=1)
    est = ContrastiveDemo(eta=4e-3 * second**2, **TINY).fit(X, Y)
    net = DemoNetwork(n_in=4, n_out=2, eta=4e-3 * second**2, window=4 * ms, settle=1 * ms, dt=0.5 * ms,
                      device="runtime", seed=0, chunk_size=8)
    w = net.train(X, Y).state["ff.w"].reshape(5, 2).T
    np.testing.assert_allclose(est.feedforward_, w[:, :4], rtol=1e-12)
    np.testing.assert_allclose(est.biases_, w[:, 4], rtol=1e-12)
    assert est.n_features_in_ == 4 and est.history_["r_free"].shape == (6, 2)
    assert est.predict(X[:3]).shape == (3, 2)
    assert np.isfinite(est.score(X, Y)) and target_rates(Y).shape == Y.shape
    assert est.build_info_ is None  # (runtime: no build)
