"""scikit-learn's estimator checks for SpikingNSM and AnalogNSM (runtime device, NumPy target).

The spiking estimator runs with a tiny simulation (5 time units in steps of 0.25 per sample,
chunks of 50 samples: on the runtime device every chunk builds the network anew; one held-out
evaluation per fit) so that the ~45 checks, each fitting a few times, finish in about 1.5 minutes; the checks outside
`_sklearn_checks.FAST_CHECKS` run with ``-m slow``.
"""

import numpy as np
import pytest
from brian2 import prefs
from sklearn.base import clone
from _sklearn_checks import parametrize_sklearn_checks

from brianlearn.protocols.nsm import AnalogNSM, SpikingNSM

pytestmark = pytest.mark.runtime


@pytest.fixture(scope="module", autouse=True)
def _numpy_target():
    saved = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = saved


def _spiking():
    return SpikingNSM(n_components=3, lam1=0.05, eta=0.05, n_iter=10, eval_every=10, duration=5, dt=0.25,
                      device="runtime", chunk_size=50)


def _analog():
    return AnalogNSM(n_components=3, lam1=0.05, eta=0.05, n_iter=10, eval_every=10, duration=5, dt=0.1)


# every check passes: no expected_failed_checks (the two skipped ones are scikit-learn's array-API
# checks, skipped without SCIPY_ARRAY_API)
@parametrize_sklearn_checks([_spiking(), _analog()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("make", [_spiking, _analog])
def test_clone_params_and_fitted_names(make):
    """clone, get_params/set_params round trip; the fitted names and their old aliases."""
    est = make()
    assert clone(est).get_params() == est.get_params()
    est.set_params(**est.get_params())
    X = np.random.default_rng(0).uniform(0, 1, (12, 4))
    est.fit(X)
    k = est.n_components
    assert est.n_features_in_ == 4
    assert est.feedforward_.shape == (k, 4) and est.lateral_.shape == (k, k) and est.biases_.shape == (k,)
    assert est.components_ is est.feedforward_ and est.W_ is est.feedforward_
    assert est.M_ is est.lateral_ and est.b_ is est.biases_
    with pytest.raises(AttributeError):
        est.W_ = est.feedforward_
    assert est.score(X) == pytest.approx(-est.cost(X))
    assert set(est.history_) == {"samples_seen", "cost"}
