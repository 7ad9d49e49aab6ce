"""
Neuron and synapse models as Brian2 equation strings with default parameters (with units).

One module per model; edit a module's equations and every protocol that uses the model
picks the change up. Each module defines its model(s) in ``__all__``; this package collects
every `NeuronModel` / `SynapseModel` it finds there into `MODELS` (so a new model module is
listed by ``brianlearn list`` without being registered by hand). `get_model` looks one up;
`use_models` swaps edited models in for a block of code, so that the learning systems built
inside it use them without a file being edited.
"""

import contextlib
import importlib
import pkgutil

from brianlearn.modelspec import ModelSpec

__all__ = ["MODELS", "get_model", "use_models"]

#: All models by name
MODELS = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        _obj = getattr(_module, _name)
        globals()[_name] = _obj
        __all__.append(_name)
        if isinstance(_obj, ModelSpec):
            if _obj.name in MODELS and MODELS[_obj.name] is not _obj:
                raise ImportError(f"Two models are called '{_obj.name}' (the second in {_module.__name__}).")
            MODELS[_obj.name] = _obj
del _info, _module, _name, _obj


def get_model(name):
    """Return the model called ``name`` (or the model itself if one is passed)."""
    if not isinstance(name, str):
        return name
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model '{name}'. Known models: {', '.join(sorted(MODELS))}.") from None


@contextlib.contextmanager
def use_models(*models):
    """Use edited models in place of the registered ones of the same names, inside a ``with`` block.

    The learning systems look their models up by name (`get_model`) when they build a network,
    so every network built inside the block uses ``models``; the registered ones are back
    afterwards, also after an error. A different model gives different generated code, so it
    compiles its own binary (the build cache never runs a stale one).

    Parameters
    ----------
    *models : NeuronModel or SynapseModel
        Each replaces the registered model called ``model.name`` (which must exist).

    Examples
    --------
    >>> from brian2 import ms
    >>> from brianlearn.models import get_model, use_models
    >>> slow = get_model("nsm_neuron")(tau_s=5 * ms)
    >>> with use_models(slow):
    ...     get_model("nsm_neuron").parameters["tau_s"]
    5. * msecond
    >>> get_model("nsm_neuron").parameters["tau_s"]
    1. * msecond
    """
    for model in models:
        if not isinstance(model, ModelSpec):
            raise TypeError(f"use_models takes NeuronModel or SynapseModel objects, got {model!r}.")
        get_model(model.name)  # a ValueError listing the known names if there is no such model
    saved = {model.name: MODELS[model.name] for model in models}
    try:
        MODELS.update({model.name: model for model in models})
        yield
    finally:
        MODELS.update(saved)
