"""scikit-learn's estimator checks for `EquilibriumPropagation` (runtime device, NumPy target, a
2-n network without hidden layer, phases of 2 + 1 Euler steps, one pass over the data).

The network's outputs are rates ``rho = clip(s, 0, 1)``, so `fit` refuses targets outside
``[0, 1]`` with a `ValueError`; the checks that fit on scikit-learn's own targets (``make_regression``
values, integer labels 0..3) therefore fail on the estimator itself (`TARGET_RANGE` below). Those
checks run a second time on ``TransformedTargetRegressor(EquilibriumPropagation, MinMaxScaler)``,
which maps the targets into ``[0, 1]``: there every one of them passes, so the fitting path (dtypes,
memory maps, pickling, idempotence, sample order and subset invariance, n_features_in_, 1-D and 2-D
targets) is checked too (the slowest four with ``-m slow``). The R^2 thresholds of ``check_regressors_train`` are relaxed by the
``poor_score`` tag (a network without hidden layer fitted in one pass is not a good regressor).
"""

import pytest
from brian2 import ms, prefs
from sklearn.compose import TransformedTargetRegressor
from sklearn.preprocessing import MinMaxScaler
from _sklearn_checks import FAST_CHECKS, parametrize_sklearn_checks
from sklearn.utils.estimator_checks import _get_check_estimator_ids, estimator_checks_generator

from brianlearn.protocols.eqprop import EquilibriumPropagation

pytestmark = pytest.mark.runtime

_REASON = "targets outside [0, 1], the output range of the network (rho = clip(s, 0, 1)): fit raises ValueError"
#: the checks that fit on targets outside [0, 1]
TARGET_RANGE = {name: _REASON for name in (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_f_contiguous_array_estimator", "check_regressors_train", "check_regressor_data_not_an_array",
    "check_regressor_multioutput", "check_regressors_no_decision_function", "check_supervised_y_2d",
    "check_regressors_int", "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in", "check_fit2d_predict1d")}


def _tiny():
    return EquilibriumPropagation(hidden=(), free_duration=1 * ms, nudged_duration=0.5 * ms, epochs=1,
                                  device="runtime", seed=0, chunk_size=64)


def _scaled():
    return TransformedTargetRegressor(_tiny(), transformer=MinMaxScaler(clip=True))


@pytest.fixture(autouse=True, scope="module")
def _numpy_target():
    saved = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = saved


@parametrize_sklearn_checks([_tiny()], TARGET_RANGE)
def test_sklearn_checks(estimator, check):
    check(estimator)


def _scaled_checks():
    for estimator, check in estimator_checks_generator(_scaled()):
        name = getattr(check, "func", check).__name__
        if name in TARGET_RANGE:  # (the others ran above; outside FAST_CHECKS: -m slow, see _sklearn_checks)
            yield pytest.param(estimator, check, marks=[] if name in FAST_CHECKS else [pytest.mark.slow],
                               id=_get_check_estimator_ids(check))


@pytest.mark.parametrize("estimator, check", list(_scaled_checks()))
def test_sklearn_checks_with_targets_scaled_into_0_1(estimator, check):
    check(estimator)
