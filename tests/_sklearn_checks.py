"""scikit-learn's estimator checks, split into a fast default set and the rest (``-m slow``).

Each check that fits builds a new Brian2 network on the runtime device (about 1 s of code
generation each on 2 cores), and the full set of ~40 checks fits a hundred times or more:
2–7 minutes per estimator. The default run therefore runs the checks in `FAST_CHECKS`
(API conventions and input validation: none of them completes a fit; ``check_dtype_object``
does, on object arrays of numbers, 10-70 s per estimator, so it is slow); every other check
(pickling, idempotence, invariances, ...) runs with ``pytest -m slow``, so that the default
run stays under 15 minutes from a cold build cache on 2 cores. Checks an estimator cannot pass are listed, with the reason, in
the test module that uses `parametrize_sklearn_checks`.
"""

import functools

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

__all__ = ["FAST_CHECKS", "parametrize_sklearn_checks"]

FAST_CHECKS = {
    "check_estimator_cloneable", "check_estimator_repr", "check_estimator_tags_renamed", "check_valid_tag_types",
    "check_no_attributes_set_in_init", "check_mixin_order", "check_parameters_default_constructible",
    "check_get_params_invariance", "check_set_params", "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimators_unfitted", "check_complex_data", "check_estimators_empty_data",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix", "check_estimator_sparse_tag", "check_fit1d",
    "check_requires_y_none", "check_transformers_unfitted", "check_transformers_unfitted_stateless",
}


def _name(check):
    return (check.func if isinstance(check, functools.partial) else check).__name__


def parametrize_sklearn_checks(estimators, expected_failed_checks=None):
    """Like scikit-learn's ``parametrize_with_checks``; checks outside `FAST_CHECKS` are marked slow.

    ``expected_failed_checks``: ``check name -> reason`` (or a callable of the estimator
    returning one); those checks are expected to fail (xfail) and the reason is shown.
    """
    params = []
    for est in estimators:
        failed = expected_failed_checks(est) if callable(expected_failed_checks) else expected_failed_checks
        for item in estimator_checks_generator(est, legacy=True, expected_failed_checks=failed or {}, mark="xfail"):
            if hasattr(item, "marks"):  # a pytest.param (an expected failure)
                (e, check), marks = item.values, list(item.marks)
            else:
                (e, check), marks = item, []
            name = _name(check)
            if name not in FAST_CHECKS:
                marks.append(pytest.mark.slow)
            params.append(pytest.param(e, check, marks=marks, id=f"{type(est).__name__}-{name}"))
    return pytest.mark.parametrize("estimator, check", params)
