"""
Intersphinx inventories written offline from the installed packages.

The documentation builds without a network (CI and the machines this project runs on reach
only package registries), so instead of downloading Brian2's, NumPy's and scikit-learn's
``objects.inv`` this module writes one for each from the names the installed package exports,
with the URL pattern that project's documentation uses for them:

* Brian2: ``reference/<defining module>.<Name>.html`` (Brian2's generated reference), under
  both ``brian2.<Name>`` and ``<defining module>.<Name>``, plus its user-guide pages;
* NumPy: ``reference/generated/numpy.<name>.html``;
* scikit-learn: ``modules/generated/sklearn.<module>.<Name>.html`` for every public module.

A name whose page does not follow the pattern gives a dead link, never a wrong one to another
object; nothing in the build depends on the network.
"""

import importlib
import inspect
import os
import zlib

__all__ = ["write_inventories", "INVENTORY_URLS"]

INVENTORY_URLS = {
    "brian2": "https://brian2.readthedocs.io/en/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "sklearn": "https://scikit-learn.org/stable/",
}

#: Brian2 user-guide pages (std:doc) that this documentation links to
BRIAN2_PAGES = ("user/equations", "user/models", "user/computation", "user/input", "user/running",
                "user/units", "user/synapses", "advanced/preferences", "advanced/random")


def _role(obj):
    if inspect.isclass(obj):
        return "py:class"
    if callable(obj):
        return "py:function"
    return "py:data"


#: labels of scikit-learn's user guide that its docstrings (inherited by ours) refer to
SKLEARN_LABELS = {"r2_score": ("modules/model_evaluation.html#r2-score", "R² score, the coefficient of determination")}


def _write(path, project, version, entries):
    rows = [e if len(e) == 4 else e + ("-",) for e in entries]
    lines = "".join(f"{name} {role} {-1 if role == 'std:label' else 1} {uri} {disp}\n"
                    for name, role, uri, disp in sorted(set(rows)))
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    with open(path, "wb") as f:
        f.write(header.encode() + zlib.compress(lines.encode()))


def _brian2_entries():
    import brian2

    entries = [(page, "std:doc", page + ".html") for page in BRIAN2_PAGES]
    for name in dir(brian2):
        obj = getattr(brian2, name)
        module = getattr(obj, "__module__", None) or ""
        if name.startswith("_") or not module.startswith("brian2.") or inspect.ismodule(obj):
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        uri = f"reference/{module}.{name}.html#{module}.{name}"
        entries += [(f"brian2.{name}", _role(obj), uri), (f"{module}.{name}", _role(obj), uri)]
    return brian2.__version__, entries


def _numpy_entries():
    import numpy

    entries = [("numpy.random.Generator", "py:class", "reference/random/generator.html#numpy.random.Generator"),
               ("numpy.random.default_rng", "py:function",
                "reference/random/generator.html#numpy.random.default_rng")]
    for name in getattr(numpy, "__all__", dir(numpy)):
        obj = getattr(numpy, name, None)
        if name.startswith("_") or obj is None or inspect.ismodule(obj):
            continue
        entries.append((f"numpy.{name}", _role(obj), f"reference/generated/numpy.{name}.html#numpy.{name}"))
    return numpy.__version__, entries


def _sklearn_entries():
    import sklearn

    entries = [(label, "std:label", uri, title) for label, (uri, title) in SKLEARN_LABELS.items()]
    for sub in sklearn.__all__:
        try:
            module = importlib.import_module(f"sklearn.{sub}")
        except ImportError:
            continue
        for name in getattr(module, "__all__", ()):
            try:
                obj = getattr(module, name, None)
            except ImportError:  # experimental names need an explicit enable_* import
                continue
            if obj is None or inspect.ismodule(obj):
                continue
            full = f"sklearn.{sub}.{name}"
            entries.append((full, _role(obj), f"modules/generated/{full}.html#{full}"))
    return sklearn.__version__, entries


def write_inventories(folder):
    """Write ``<folder>/<project>.inv`` for Brian2, NumPy and scikit-learn; returns the
    ``intersphinx_mapping`` that reads them (no download)."""
    os.makedirs(folder, exist_ok=True)
    mapping = {}
    for project, entries in (("brian2", _brian2_entries), ("numpy", _numpy_entries), ("sklearn", _sklearn_entries)):
        version, items = entries()
        path = os.path.join(folder, f"{project}.inv")
        _write(path, project, version, items)
        mapping[project] = (INVENTORY_URLS[project], path)
    return mapping
