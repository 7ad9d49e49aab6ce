"""What the scikit-learn estimators of the learning systems share."""

__all__ = ["CompiledNetworkMixin"]


class CompiledNetworkMixin:
    """For estimators that keep their compiled network (a `Protocol`) in ``self._net``.

    Brian2 objects do not pickle: a pickled estimator keeps its learned arrays and leaves the
    network out; the estimator rebuilds it when it next needs one (same build folder, no
    recompilation). Put it before scikit-learn's mixins and ``BaseEstimator`` in the bases.
    """

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_net", None)
        return state
