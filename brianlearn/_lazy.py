"""A package namespace assembled from one table and loaded on first use (PEP 562)."""

import importlib

__all__ = ["lazy_namespace"]


def lazy_namespace(package, table, namespace):
    """``(__getattr__, __dir__)`` for ``package`` from ``table``: name -> module or (module, attribute).

    Module names starting with ``.`` are relative to ``package``. A loaded value is stored in
    the package's ``namespace`` (its ``globals()``), so later look-ups do not come here.
    """

    def __getattr__(name):
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module '{package}' has no attribute '{name}'") from None
        module, attr = target if isinstance(target, tuple) else (target, name)
        value = getattr(importlib.import_module(module, package), attr)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
