"""
Replay: run a cached C++ standalone build again without generating its code.

A warm fit used to spend most of its fixed cost (~0.3 s of a 0.35 s one-sample NSM fit) in
Brian2: creating the network's objects and generating its code again, only for
`brianlearn.buildcache` to find that the digest of the generated project matches a build it
already holds. Replay skips that step when it can prove the result would be the same:

- after a full generation and build, `describe` writes a *manifest* next to the build cache,
  under a key (`replay_key`) made from everything code generation reads: the protocol's class,
  its and its bases' class attributes and the source files they are defined in, the module-level
  values of those modules and of the brianlearn modules they refer to, every attribute of the
  protocol object (values of arrays included; the class and source file of every object), the source files of the brianlearn, models and protocols
  packages, the whole model registry, all of Brian2's preferences (after the device was
  activated), the versions of Python, NumPy, Brian2 and brianlearn, the device configuration,
  the number of trials and the shapes of the data, signals and learned variables. Data values
  are not in it: they reach the binary as run arguments (the engine never puts them in code);
- the manifest names the build folder and its digest, the command-line names, types and shapes
  of the run arguments (the seed, every learned variable, every data and signal TimedArray),
  the results files to read, and the SHA-256 of every static array that run arguments do not
  overwrite (e.g. a monitor's indices);
- a later network with the same key loads the manifest (`load`), checks that the folder still
  holds a successful build of that digest and the same static arrays, and runs the binary with
  its run arguments written as Brian2 writes them (`run`). If anything does not match, or the
  key cannot be formed (an attribute that has no canonical form, such as a function), the
  network is generated as before.

A network built outside a `Protocol` (the plasticity comparisons' `run_conditions`) has a key of
its own (`network_key`: the parts its code generation reads, named by its caller) and a manifest
of its run arguments and of the static arrays each run writes itself (`describe_network`,
`write_static`: a SpikeGeneratorGroup's spikes, `spike_generator_arrays`), in the run's scratch
folder, which the binary reads through ``$BRIANLEARN_STATIC_ARRAYS``.

Networks with Brian2 monitors other than the builder's per-trial records are not replayed:
their monitors are read through the Brian2 objects (`Protocol.objects_`). Only the
``cpp_standalone`` device replays (brian2cuda's run differs). ``BRIANLEARN_REPLAY=0`` turns
replay off; ``BRIANLEARN_REPLAY_DEBUG=PREFIX`` writes the parts of every key to
``PREFIX.<pid>.<class>.json`` (to see why two processes' keys differ).
"""

import ast
import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np
from brian2 import Equations, Quantity
from brian2.units.fundamentalunits import Dimension

__all__ = ["enabled", "replay_key", "network_key", "describe", "describe_network", "spike_generator_arrays",
           "save", "load", "scratch", "write_static", "run", "read_results"]

#: bumped when the manifest's meaning changes (old manifests are then never found)
_FORMAT = 1


def enabled(config):
    """Whether runs on the `DeviceConfig` ``config`` may be replayed."""
    return (config.name == "cpp_standalone" and not config.compile_only
            and os.environ.get("BRIANLEARN_REPLAY", "1") != "0")


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
    removed or renamed changes its folder's modification time; an edited file is seen by
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
        if cached is None or any(_mtime(d) != t for d, t in cached[0]):
            folders, listing = [], []
            for base, dirs, names in os.walk(root):
                folders.append((base, _mtime(base)))
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                listing += [os.path.join(base, n) for n in sorted(names) if n.endswith(".py")]
            cached = _cache[root] = (folders, listing)
        files += cached[1]
    return files


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


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
    return {"format": _FORMAT,
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


def manifest_path(key_folder, key):
    """Where the manifest of ``key`` lives (beside the builds of the key folder)."""
    parent, name = os.path.split(key_folder)
    return os.path.join(parent, ".replay", f"{name}-{key[:32]}.json")


def _static_hashes(directory, skip, static_folder="static_arrays"):
    folder = os.path.join(directory, static_folder)
    names = sorted(n for n in os.listdir(folder) if not n.startswith("init_") and not n.endswith(".lock")
                   and n not in skip) if os.path.isdir(folder) else []
    return {n: _file_hash(os.path.join(folder, n)) for n in names}


def _entry(device, var, **extra):
    return dict(name=f"{var.owner.name}.{var.name}", dtype=np.dtype(var.dtype).str,
                file=device.get_array_filename(var), **extra)


def describe(device, builder, network, seed_variable, build):
    """The manifest of a generated, built and not yet run network (None: not replayable).

    ``builder`` is its `NetworkBuilder`, ``network`` the Brian2 `Network`, ``seed_variable`` the
    run-time seed and ``build`` the `BuildInfo` of its build folder.
    """
    from brian2 import EventMonitor, PopulationRateMonitor, StateMonitor

    records = set(id(m) for m in builder.records.values())
    if any(isinstance(o, (EventMonitor, PopulationRateMonitor, StateMonitor)) and id(o) not in records
           for o in network.objects):
        return None
    learned, overwritten = {}, set()
    for key, (obj, var, size) in builder.learned.items():
        v = obj.variables[var]
        learned[key] = _entry(device, v, size=int(size), dynamic=bool(v.dynamic))
        overwritten.add(f"_static_array_{device.get_array_name(v)}")
    timed = {}
    for name, ta in builder.timed_arrays.items():
        if ta in device.timed_arrays:  # (used by the code: in the binary)
            timed[name] = dict(name=f"{ta.name}.values", dtype=np.dtype(ta.values.dtype).str,
                               shape=list(np.shape(ta.values)), file=f"{ta.name}_values")
    records = {}
    for key, mon in builder.records.items():
        records[key] = _entry(device, mon.variables[key.split(".", 1)[1]], columns=int(len(mon.record)))
    return {"format": _FORMAT, "directory": build.directory, "digest": build.source_hash,
            "seed": _entry(device, seed_variable), "learned": learned, "timed": timed, "records": records,
            "environment": dict(device.run_environment_variables),
            "arguments": {}, "static": None, "_overwritten": sorted(overwritten)}


def describe_network(device, build, learned, arguments, static):
    """The manifest of a generated and built network without a `NetworkBuilder` or a seed.

    ``learned``: ``key -> (variable, size)``, run arguments whose values are read back after
    the run; ``arguments``: ``key -> variable``, run arguments only; ``static``: the names of
    the static arrays that every run writes itself (`write_static`), e.g. a SpikeGeneratorGroup's
    spikes (`spike_generator_arrays`).
    """
    entries = {k: _entry(device, v, size=int(size), dynamic=bool(v.dynamic)) for k, (v, size) in learned.items()}
    variables = [v for v, _ in learned.values()] + list(arguments.values())
    overwritten = {f"_static_array_{device.get_array_name(v, access_data=False)}" for v in variables}
    return {"format": _FORMAT, "directory": build.directory, "digest": build.source_hash, "seed": None,
            "learned": entries, "arguments": {k: _entry(device, v) for k, v in arguments.items()},
            "timed": {}, "records": {}, "environment": dict(device.run_environment_variables),
            "static": None, "_overwritten": sorted(overwritten | set(static))}


def spike_generator_arrays(indices, times, dt):
    """The arrays a `SpikeGeneratorGroup` of spikes ``indices`` at ``times`` (seconds, floats)
    with time step ``dt`` (seconds) stores, as Brian2 2.9 and 2.10 compute them: spikes sorted
    by time, then by index (``np.lexsort``); ``_timebins`` the time steps of ``times`` shifted
    by ``1e-3 dt``. ``variable -> array`` (``neuron_index``, ``spike_time``, ``spike_number``,
    ``_timebins``); the caller checks them against what Brian2 wrote before relying on them."""
    indices, times = np.asarray(indices), np.asarray(times, dtype=float)
    order = np.lexsort((indices, times))
    indices, times = indices[order], times[order]
    return {"neuron_index": indices.astype(np.int32), "spike_time": times,
            "spike_number": np.arange(len(times), dtype=np.int32),
            "_timebins": np.asarray((times + 1e-3 * dt) / dt, dtype=np.int32)}


def write_static(folder, arrays):
    """Write ``name -> array`` (static arrays, in their dtype) into ``folder/static/``; returns
    that folder as the binary reads it (`codepatch.STATIC_ARRAYS_VARIABLE`: an absolute path
    ending in a separator)."""
    target = os.path.join(os.path.abspath(folder), "static", "")
    os.makedirs(target, exist_ok=True)
    for name, arr in arrays.items():
        np.ascontiguousarray(arr).tofile(os.path.join(target, name))
    return target


def save(path, manifest, data_timed, static_folder="static_arrays"):
    """Write ``manifest`` to ``path`` atomically, with the hashes of the static arrays that no
    run argument overwrites (``data_timed``: the TimedArrays that get run arguments on every
    run), as the network's run read them from ``static_folder`` (`BuildInfo.static_arrays`):
    `load` replays it only while the build folder's own static arrays are the same."""
    manifest = dict(manifest)
    skip = set(manifest.pop("_overwritten")) | {manifest["timed"][n]["file"] for n in data_timed}
    manifest["static"] = _static_hashes(manifest["directory"], skip, static_folder)
    manifest["skip"] = sorted(skip)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(manifest, f, indent=0, sort_keys=True)
    os.replace(tmp, path)


def load(path):
    """The manifest at ``path`` if its build folder still holds that build and the same static
    arrays (else None)."""
    from .buildcache import _STAMP, _read_stamp

    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if manifest.get("format") != _FORMAT:
        return None
    directory = manifest["directory"]
    stamp = _read_stamp(os.path.join(directory, _STAMP))
    if (stamp is None or stamp.get("digest") != manifest["digest"]
            or not os.path.exists(os.path.join(directory, "main"))):
        return None
    try:
        if _static_hashes(directory, set(manifest["skip"])) != manifest["static"]:
            return None
    except OSError:
        return None
    return manifest


def scratch_root():
    """Where a replayed run writes its run-argument and results files: a memory-backed folder
    (``/dev/shm``) where the machine has one, else the system's temporary folder. Measured here
    (Spiking NSM, k = 64, 100 samples, the binary alone, min of 30): results on the ext4 build
    folder 21.7 ms, on ``/dev/shm`` 17.3 ms. ``BRIANLEARN_SCRATCH`` names another folder."""
    chosen = os.environ.get("BRIANLEARN_SCRATCH")
    if chosen:
        return chosen
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else tempfile.gettempdir()


@contextlib.contextmanager
def scratch():
    """A new folder for one replayed run (its run-argument files, its ``results/``), deleted
    when the block ends, failed runs included."""
    root = scratch_root()
    try:
        folder = tempfile.mkdtemp(prefix="brianlearn-run-", dir=root)
    except OSError as e:
        raise OSError(f"Cannot create a folder for a run in '{root}' ({e}); set BRIANLEARN_SCRATCH "
                      "to a writable folder.") from e
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _argument(folder, entry, value):
    """``name=value`` for the binary's command line, as Brian2's ``run_args`` writes it: a single
    value literally, an array as a raw file in ``folder`` (an absolute path)."""
    value = np.asarray(value, dtype=np.dtype(entry["dtype"]))
    if value.size == 1:
        return f"{entry['name']}={value.item()!r}"
    path = os.path.join(folder, f"init_{entry['name'].replace('.', '_')}.dat")
    np.ascontiguousarray(value).tofile(path)
    return f"{entry['name']}={path}"


def run(manifest, folder, seed, learned, timed, with_output=False, arguments=None, static_arrays=None):
    """Run the manifest's binary (the caller holds `buildcache.running`) with its run-argument
    files and results in ``folder`` (from `scratch`); returns the results folder.

    ``seed``: the run-time seed (None for a manifest without one); ``learned``: ``key -> values``
    for every learned variable; ``timed``: ``name -> values`` for the TimedArrays that get new
    values; ``arguments``: ``key -> values`` for the manifest's other run arguments;
    ``static_arrays``: the folder the binary reads its static arrays from (`write_static`; by
    default the build folder's, which `load` checked).
    """
    from brian2 import prefs

    from .codepatch import RESULTS_VARIABLE, SERVE_VARIABLE, STATIC_ARRAYS, STATIC_ARRAYS_VARIABLE
    from .forkserver import run as served

    directory = manifest["directory"]
    results = os.path.join(os.path.abspath(folder), "results", "")
    os.makedirs(results, exist_ok=True)
    args = [] if manifest["seed"] is None else [_argument(folder, manifest["seed"], seed)]
    args += [_argument(folder, manifest["learned"][k], v) for k, v in learned.items()]
    args += [_argument(folder, manifest["arguments"][k], v) for k, v in (arguments or {}).items()]
    for name, values in timed.items():
        entry = manifest["timed"][name]
        if list(np.shape(values)) != entry["shape"]:
            raise ValueError(f"TimedArray '{name}' has shape {np.shape(values)}; the build expects "
                             f"{tuple(entry['shape'])}.")
        args.append(_argument(folder, entry, values))
    env = dict(os.environ)
    env.update(prefs["devices.cpp_standalone.run_environment_variables"])
    env.update(manifest["environment"])
    env.pop(SERVE_VARIABLE, None)  # (only a fork server is started with it)
    settings = {STATIC_ARRAYS_VARIABLE: static_arrays or STATIC_ARRAYS,
                # (a build patched by codepatch.patch_results writes only these; an older one writes all)
                RESULTS_VARIABLE: ",".join(e["file"] for part in ("learned", "records") for e in manifest[part].values())}
    run_cmd = prefs["devices.cpp_standalone.run_cmd_unix"]
    run_cmd = [run_cmd] if isinstance(run_cmd, str) else list(run_cmd)
    command = run_cmd + ["--results_dir", results] + args
    stdout_path = os.path.join(folder, "stdout.txt")
    code = None if with_output else served(command, directory, env, settings, stdout_path)
    if code is None:
        env.update(settings)
        if with_output:
            code = subprocess.call(command, cwd=directory, env=env)
        else:
            with open(stdout_path, "w") as out:
                code = subprocess.call(command, cwd=directory, env=env, stdout=out)
    if code:
        if not with_output and os.path.exists(stdout_path):
            with open(stdout_path) as f:
                print(f.read())
        raise RuntimeError(f"Project run failed (exit status {code}; project directory: {os.path.abspath(directory)})")
    return results


def read_results(results, manifest):
    """``(state, records)`` from a results folder: learned variables as 1-D float arrays,
    records as ``(n_trials, n)`` arrays without row 0 (taken at t = 0, before the first trial)."""
    def read(entry):
        return np.fromfile(os.path.join(results, entry["file"]), dtype=np.dtype(entry["dtype"])).astype(float)

    state = {k: read(e) for k, e in manifest["learned"].items()}
    records = {k: read(e).reshape(-1, e["columns"])[1:] for k, e in manifest["records"].items()}
    return state, records
