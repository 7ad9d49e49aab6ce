"""
The keys of `brianlearn.replay`: everything a network's code generation reads, as one digest.

`replay_key` (a `Protocol`'s network) and `network_key` (a network built outside a protocol, the
plasticity comparisons') hash the parts that `brianlearn.replay`'s docstring lists; an attribute
or value without a canonical form (code, such as a function) gives no key, and the network is
generated as before.
"""

import ast
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import sys
import types

import numpy as np
from brian2 import Equations, Quantity
from brian2.units.fundamentalunits import Dimension

from .buildcache import file_signature

__all__ = ["replay_key", "network_key", "FORMAT"]

#: bumped when the manifest's meaning changes (old manifests are then never found)
FORMAT = 1


class _NoCanonicalForm(Exception):
    pass


def _array(a):
    a = np.ascontiguousarray(a)
    return ["array", a.dtype.str, list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()]


#: objects whose behaviour is code, not data (no canonical form: the network is generated)
_NOT_DATA = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.ModuleType, type,
             functools.partial)


def _canonical(obj, active=()):
    """A JSON-serialisable form of ``obj`` that is equal for objects that generate the same code
    (and differs otherwise); raises `_NoCanonicalForm` for what it cannot describe."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float, complex, np.generic)) and not isinstance(obj, np.ndarray):
        return [type(obj).__name__, repr(obj)]
    if isinstance(obj, Quantity):
        return ["quantity", repr(obj.dim), _array(np.asarray(obj))]
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise _NoCanonicalForm("object array")
        return _array(obj)
    if isinstance(obj, (Dimension, Equations)):
        return [type(obj).__name__, str(obj)]
    if id(obj) in active:
        raise _NoCanonicalForm("reference cycle")
    active = active + (id(obj),)
    if isinstance(obj, (list, tuple)):
        return [type(obj).__name__, [_canonical(v, active) for v in obj]]
    if isinstance(obj, (set, frozenset)):
        return ["set", sorted(json.dumps(_canonical(v, active)) for v in obj)]
    if isinstance(obj, dict):
        # (the sort key of a str key is the str itself, marked so that it differs from any other key's)
        items = [("s" + k if isinstance(k, str) else "j" + json.dumps(_canonical(k, active)), _canonical(v, active))
                 for k, v in obj.items()]
        return ["dict", sorted(items, key=lambda kv: kv[0])]
    if isinstance(obj, _NOT_DATA) or not hasattr(obj, "__dict__"):
        raise _NoCanonicalForm(type(obj).__qualname__)
    # an instance: its class (and the file that defines it) and its attributes
    name = [f"{type(obj).__module__}.{type(obj).__qualname__}"] + [(f, _file_hash(f)) for f in _class_files(type(obj))]
    if dataclasses.is_dataclass(obj):
        return [name, [(f.name, _canonical(getattr(obj, f.name), active)) for f in dataclasses.fields(obj)]]
    return [name, _canonical(vars(obj), active)]


def _file_hash(path, _cache={}):
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        with open(path, "rb") as f:
            _cache[key] = hashlib.sha256(f.read()).hexdigest()
    return _cache[key]


def _package_files(_cache={}):
    """The source files of the brianlearn, models and protocols packages, loaded or not (found
    with `importlib.util.find_spec`, which imports nothing but brianlearn itself).

    A package's listing is walked again only when one of its folders changed (a file added,
    removed or renamed changes its folder's signature; an edited file is seen by
    `_file_hash`)."""
    files = []
    for name in _PACKAGES:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path is None:
            spec = importlib.util.find_spec(name)
            path = spec.origin if spec is not None else None
        if path is None:
            raise _NoCanonicalForm(f"no source folder for {name}")
        root = os.path.dirname(path)
        cached = _cache.get(root)
        if cached is None or any(file_signature(d) != t for d, t in cached[0]):
            folders, listing = [], []
            for base, dirs, names in os.walk(root):
                folders.append((base, file_signature(base)))
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                listing += [os.path.join(base, n) for n in sorted(names) if n.endswith(".py")]
            cached = _cache[root] = (folders, listing)
        files += cached[1]
    return files


#: the packages whose sources are in the key (models and protocols install as brianlearn.models and
#: brianlearn.protocols)
_PACKAGES = ("brianlearn", "brianlearn.models", "brianlearn.protocols")


def _model_registry():
    """The model registry (``brianlearn.models.MODELS``) if it is loaded, else None."""
    module = sys.modules.get("brianlearn.models")
    return getattr(module, "MODELS", None)


def _class_files(cls):
    files = []
    for klass in cls.__mro__:
        path = getattr(sys.modules.get(klass.__module__), "__file__", None)
        if path is None:  # (a class defined where no file says what it is: no key)
            if klass.__module__ != "builtins":
                raise _NoCanonicalForm(f"no source file for {klass.__qualname__}")
            continue
        files.append(path)
    return files


def _class_data(cls):
    """The class attributes of ``cls`` and its bases that are data (a statement a subclass or a
    test replaces, say), not methods."""
    data = []
    for klass in cls.__mro__[:-1]:
        for name, value in vars(klass).items():
            if name.startswith("__") or isinstance(value, _NOT_DATA + _DESCRIPTORS):
                continue
            data.append((klass.__qualname__, name, _canonical(value)))
    return data


_DESCRIPTORS = (classmethod, staticmethod, property, types.MemberDescriptorType, types.GetSetDescriptorType,
                functools.cached_property)


#: the layers whose module-level values a network may read (the engine's are in its sources)
_USER_LAYERS = ("brianlearn.models", "brianlearn.protocols")


def _user_layer(name):
    return any(name == layer or name.startswith(layer + ".") for layer in _USER_LAYERS)


def _engine(name):
    return name.split(".")[0] == "brianlearn" and not _user_layer(name)


def _source_names(path, _cache={}):
    """``(assigned, bound)``: the names a module's source binds at its top level by assignment,
    and by any statement (assignments, imports, definitions). Attributes the import system adds
    later (a package's submodules) are in neither."""
    key = (path, _file_hash(path))
    if key not in _cache:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
        assigned, bound = set(), set()
        for node in ast.walk(tree):  # (module level and in its if/try blocks; not in functions)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
        for node in _top_level(tree.body):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                assigned.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        _cache[key] = (frozenset(assigned), frozenset(assigned | bound))
    return _cache[key]


def _top_level(body):
    """The statements of a module's top level, with those inside its if/try/with/for blocks."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(node, field, ()) if not isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ():
                yield from _top_level([child] if not isinstance(child, ast.ExceptHandler) else child.body)


def _module_data(cls):
    """The module-level values (constants, tables) of the modules that define ``cls`` and its
    bases (but the engine's), and of every models or protocols module those refer to,
    recursively: what a ``build_network`` may read besides the protocol's attributes (a test may
    monkeypatch them). Only names the module's own source assigns count (an imported value is
    its defining module's), so the result is the same in every process, whatever else it has
    loaded. Values without a canonical form (a logger, a lock) are listed by name only."""
    def refers_to(value):
        if isinstance(value, types.ModuleType):
            return value.__name__
        return getattr(value, "__module__", None) if isinstance(value, (type, types.FunctionType)) else None

    own = [klass.__module__ for klass in cls.__mro__[:-1] if not _engine(klass.__module__)]
    todo, seen, data = list(own), set(), []
    while todo:
        name = todo.pop()
        module = sys.modules.get(name)
        if name in seen or getattr(module, "__file__", None) is None:
            continue
        seen.add(name)
        assigned, bound = _source_names(module.__file__)
        for key, value in sorted(vars(module).items()):
            target = refers_to(value)
            if target is not None:
                if key in bound and (_user_layer(target) or target in own):
                    todo.append(target)
                continue
            if key.startswith("__") or key not in assigned or isinstance(value, _NOT_DATA + _DESCRIPTORS):
                continue
            try:
                data.append((name, key, _canonical(value)))
            except _NoCanonicalForm:
                data.append((name, key, None))
    return sorted(data, key=lambda d: (d[0], d[1]))


#: attributes of a protocol that do not shape its network: the compiled runs and the learned values
_RUN_STATE = ("_compiled", "state_")


def _common_parts(files=(), prefs=None):
    """The parts of every key: format, versions, the package sources (and ``files``), Brian2's
    preferences, with ``prefs`` (``name -> value``) in place of the current values of those
    (raises `_NoCanonicalForm` or OSError where they cannot be read)."""
    import brian2

    from ._version import __version__

    files = sorted(set(_package_files()) | set(files))
    return {"format": FORMAT,
            "versions": [sys.version, np.__version__, brian2.__version__, __version__],
            "sources": [(f, _file_hash(f)) for f in files],
            "prefs": _preference_values(prefs or {})}


def _preference_values(overrides):
    """Every registered Brian2 preference as ``[name, text]``, the text written as Brian2's
    preference file writes it (``prefs.as_file`` without its documentation, which took most of
    its 0.3 ms)."""
    from brian2 import prefs

    out = []
    for base, (definitions, _) in sorted(prefs.pref_register.items()):
        for name in sorted(definitions):
            full = f"{base}.{name}"
            out.append([full, definitions[name].representor(overrides[full] if full in overrides else prefs[full])])
    return out


def _digest(parts, name):
    if os.environ.get("BRIANLEARN_REPLAY_DEBUG"):
        with open(f"{os.environ['BRIANLEARN_REPLAY_DEBUG']}.{os.getpid()}.{name}.json", "w") as f:
            json.dump(parts, f, sort_keys=True, indent=0)
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def replay_key(protocol, n_trials, shapes):
    """The key of the network ``protocol`` generates for ``n_trials`` trials, or None.

    ``shapes`` describes the inputs: the shapes of the data, signals, validity mask and
    learned variables. Call it with the protocol's device active (its preferences set).
    """
    try:
        parts = _common_parts(_class_files(type(protocol)))
        parts.update({
            "class": [f"{type(protocol).__module__}.{type(protocol).__qualname__}", _class_data(type(protocol))],
            "protocol": _canonical({k: v for k, v in vars(protocol).items() if k not in _RUN_STATE}),
            "models": _canonical(_model_registry()),
            "modules": _module_data(type(protocol)),
            "config": _canonical(protocol.config_dict(n_trials)),
            "n_trials": n_trials,
            "shapes": _canonical(shapes),
        })
    except (_NoCanonicalForm, OSError):
        return None
    return _digest(parts, type(protocol).__name__)


def network_key(label, parts, prefs=None):
    """The key of a network that a function builds outside a `Protocol` (the plasticity
    comparisons' `run_conditions`), or None: ``parts`` must hold everything its code generation
    reads besides the package sources, versions and preferences (the model's code, sizes, time
    step, device configuration), and no value that reaches the binary as a run argument or a
    static array. Call it with the device active, or give the preferences its activation sets
    as ``prefs`` (`devices.standalone_prefs`)."""
    try:
        full = dict(_common_parts(prefs=prefs), label=label, network=_canonical(parts))
    except (_NoCanonicalForm, OSError):
        return None
    return _digest(full, label)
