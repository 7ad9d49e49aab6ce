"""
Neuron and synapse models as Brian2 equation strings with default parameters (with units).

One module per model; edit a module's equations and every protocol that uses the model
picks the change up. Each module defines its model(s) in ``__all__``; this package collects
every `NeuronModel` / `SynapseModel` it finds there into `MODELS` (so a new model module is
listed by ``brianlearn list`` without being registered by hand). `get_model` looks one up.
"""

import importlib
import pkgutil

from brianlearn.modelspec import ModelSpec

__all__ = ["MODELS", "get_model"]

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
