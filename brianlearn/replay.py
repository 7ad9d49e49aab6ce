"""
Replay: run a cached C++ standalone build again without generating its code.

A warm fit used to spend most of its fixed cost (~0.3 s of a 0.35 s one-sample NSM fit) in
Brian2: creating the network's objects and generating its code again, only for
`brianlearn.buildcache` to find that the digest of the generated project matches a build it
already holds. Replay skips that step when it can prove the result would be the same:

- after a full generation and build, `describe` writes a *manifest* next to the build cache,
  under a key (`replay_key`, in `brianlearn.replaykey`) made from everything code generation reads: the protocol's class,
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

import contextlib
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

from .replaykey import FORMAT as _FORMAT
from .replaykey import _file_hash, network_key, replay_key

__all__ = ["enabled", "replay_key", "network_key", "describe", "describe_network", "spike_generator_arrays",
           "save", "load", "scratch", "write_static", "run", "read_results", "results_folder", "run_arguments",
           "environment", "settings_of", "run_command", "run_line", "stdout_file", "check_status"]



def enabled(config):
    """Whether runs on the `DeviceConfig` ``config`` may be replayed."""
    return (config.name == "cpp_standalone" and not config.compile_only
            and os.environ.get("BRIANLEARN_REPLAY", "1") != "0")


def manifest_path(key_folder, key):
    """Where the manifest of ``key`` lives (beside the builds of the key folder)."""
    parent, name = os.path.split(key_folder)
    return os.path.join(parent, ".replay", f"{name}-{key[:32]}.json")


def _static_hashes(directory, skip, static_folder="static_arrays"):
    folder = os.path.join(directory, static_folder)
    names = sorted(n for n in os.listdir(folder) if not n.startswith("init_") and not n.endswith(".lock")
                   and n not in skip) if os.path.isdir(folder) else []
    return {n: _file_hash(os.path.join(folder, n)) for n in names}


def _static_name(device, var):
    """The name of ``var``'s static array in the build (``_static_array__dynamic_array_...`` for a
    synaptic variable), which a run argument of ``var`` replaces."""
    return f"_static_array_{device.get_array_name(var, access_data=False)}"


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
    learned = {}
    for key, (obj, var, size) in builder.learned.items():
        v = obj.variables[var]
        learned[key] = _entry(device, v, size=int(size), dynamic=bool(v.dynamic), static=_static_name(device, v))
    overwritten = {e["static"] for e in learned.values()}
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
    entries = {k: _entry(device, v, size=int(size), dynamic=bool(v.dynamic), static=_static_name(device, v))
               for k, (v, size) in learned.items()}
    overwritten = {_static_name(device, v) for v in [v for v, _ in learned.values()] + list(arguments.values())}
    return {"format": _FORMAT, "directory": build.directory, "digest": build.source_hash, "seed": None,
            "learned": entries, "arguments": {k: _entry(device, v, static=_static_name(device, v)) for k, v in arguments.items()},
            "timed": {}, "records": {}, "environment": dict(device.run_environment_variables),
            "static": None, "_overwritten": sorted(overwritten | set(static))}


def spike_generator_arrays(indices, times, dt, steps=None):
    """The arrays a `SpikeGeneratorGroup` of spikes ``indices`` at ``times`` (seconds, floats)
    with time step ``dt`` (seconds) stores, as Brian2 2.9 and 2.10 compute them: spikes sorted
    by time, then by index (``np.lexsort``); ``_timebins`` the time steps of ``times`` shifted
    by ``1e-3 dt``. ``variable -> array`` (``neuron_index``, ``spike_time``, ``spike_number``,
    ``_timebins``); the caller checks them against what Brian2 wrote before relying on them.

    ``steps``, if given, are the integer time steps that ``times`` are ``steps * dt`` of: where
    they are below 2**32 and ``indices`` do not decrease, a stable radix sort of ``steps`` (its
    low, then its high 16 bits) gives the same order (lexsort took 1.2-4 ms per side of a
    1 000-condition plasticity call, the radix sort 0.7 ms)."""
    indices, times = np.asarray(indices), np.asarray(times, dtype=float)
    steps = None if steps is None else np.asarray(steps, dtype=np.int64)
    if (steps is not None and len(steps) and 0 <= steps.min() and steps.max() < 2 ** 32
            and np.all(indices[1:] >= indices[:-1])):
        order = np.argsort((steps & 0xFFFF).astype(np.uint16), kind="stable")  # (NumPy's radix sort)
        if steps.max() >= 2 ** 16:
            order = order[np.argsort((steps[order] >> 16).astype(np.uint16), kind="stable")]
    else:
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


def load(path, _cache={}):
    """The manifest at ``path`` if its build folder still holds that build and the same static
    arrays (else None). The manifest and build stamp files are parsed again only when one of
    them or the binary has another inode, size or modification time (a chunk of a fit asks)."""
    from .buildcache import _STAMP, _read_stamp, file_signature

    def signatures(directory):  # (taken before the files are read: a change after it is seen next time)
        return (first, file_signature(os.path.join(directory, _STAMP)), file_signature(os.path.join(directory, "main")))

    first = file_signature(path)
    cached = _cache.get(path)
    if cached is not None and None not in cached[0] and cached[0] == signatures(cached[1]["directory"]):
        manifest = cached[1]
        directory = manifest["directory"]
    else:
        _cache.pop(path, None)
        try:
            with open(path) as f:
                manifest = json.load(f)
        except (OSError, ValueError):
            return None
        if manifest.get("format") != _FORMAT:
            return None
        directory = manifest["directory"]
        stamp_path = os.path.join(directory, _STAMP)
        files = signatures(directory)
        stamp = _read_stamp(stamp_path)
        if stamp is None or stamp.get("digest") != manifest["digest"] or files[2] is None:
            return None
        if None not in files:
            _cache[path] = (files, manifest)
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
    root = os.path.abspath(scratch_root())  # (the binary runs in its build folder)
    try:
        folder = tempfile.mkdtemp(prefix="brianlearn-run-", dir=root)
    except OSError as e:
        raise OSError(f"Cannot create a folder for a run in '{root}' ({e}); set BRIANLEARN_SCRATCH "
                      "to a writable folder.") from e
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class _Arguments:
    """``name=value`` for the binary's command line, as Brian2's ``run_args`` writes them: a single
    value literally, an array as raw values in a file in ``folder`` (an absolute path). A build that
    reads ``FILE@OFFSET:LENGTH`` (``packed``: `codepatch.patch_packed_arguments`) gets every array in
    one file, each at its offset with its length in bytes; another build a file per array. A value
    of another size than the manifest's ``size`` (where it has one) is a ValueError. Use as a context manager."""

    def __init__(self, folder, packed):
        self.folder, self.file = folder, None
        if packed:
            self.path = os.path.join(folder, "init_arguments.dat")
            self.file = open(self.path, "wb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()

    def __call__(self, entry, value):
        value = np.asarray(value, dtype=np.dtype(entry["dtype"]))
        if "size" in entry and value.size != entry["size"]:
            raise ValueError(f"Run argument '{entry['name']}' has {value.size} values; the build expects {entry['size']}.")
        if value.size == 1:
            return f"{entry['name']}={value.item()!r}"
        value = np.ascontiguousarray(value)
        if self.file is None:
            path = os.path.join(self.folder, f"init_{entry['name'].replace('.', '_')}.dat")
            value.tofile(path)
            return f"{entry['name']}={path}"
        offset = self.file.tell()
        self.file.write(value.data.cast("B"))
        return f"{entry['name']}={self.path}@{offset}:{value.nbytes}"


def _packs(manifest, _cache={}):
    """Whether the manifest's build reads packed run arguments (its digest fixes its sources)."""
    from .codepatch import reads_packed_arguments

    key = (manifest["directory"], manifest["digest"])
    if key not in _cache:
        _cache[key] = reads_packed_arguments(manifest["directory"])
    return _cache[key]


def run(manifest, folder, seed, learned, timed, with_output=False, arguments=None, static_arrays=None):
    """Run the manifest's binary (the caller holds `buildcache.running`) with its run-argument
    files and results in ``folder`` (from `scratch`); returns the results folder.

    ``seed``: the run-time seed (None for a manifest without one); ``learned``: ``key -> values``
    for every learned variable; ``timed``: ``name -> values`` for the TimedArrays that get new
    values; ``arguments``: ``key -> values`` for the manifest's other run arguments;
    ``static_arrays``: the folder the binary reads its static arrays from (`write_static`; by
    default the build folder's, which `load` checked).
    """
    from .forkserver import run as served

    directory = manifest["directory"]
    results = results_folder(folder)
    args = run_arguments(manifest, folder, seed, learned, timed, arguments)
    env = environment(manifest)
    settings = settings_of(manifest, {"learned": learned, "timed": timed, "arguments": arguments or {}}, static_arrays)
    command = run_command() + run_line(results, args)
    stdout_path = stdout_file(folder)
    code = None if with_output else served(command, directory, env, settings, stdout_path)
    if code is None:
        env.update(settings)
        if with_output:
            code = subprocess.call(command, cwd=directory, env=env)
        else:
            with open(stdout_path, "w") as out:
                code = subprocess.call(command, cwd=directory, env=env, stdout=out)
    check_status(code, manifest, None if with_output else stdout_path)
    return results


def results_folder(folder):
    """The results folder of a run in the scratch folder ``folder`` (created; absolute, ends in a separator)."""
    results = os.path.join(os.path.abspath(folder), "results", "")
    os.makedirs(results, exist_ok=True)
    return results


def run_arguments(manifest, folder, seed, learned, timed, arguments=None):
    """The binary's ``name=value`` run arguments (`run`), array values written in ``folder``.
    A learned value may also be a string: a file the binary reads it from (the results file of
    the run before: `brianlearn.chain`)."""
    for name, values in timed.items():
        if list(np.shape(values)) != manifest["timed"][name]["shape"]:
            raise ValueError(f"TimedArray '{name}' has shape {np.shape(values)}; the build expects "
                             f"{tuple(manifest['timed'][name]['shape'])}.")
    with _Arguments(folder, _packs(manifest)) as argument:
        args = [] if manifest["seed"] is None else [argument(manifest["seed"], seed)]
        args += [f"{manifest['learned'][k]['name']}={v}" if isinstance(v, str) else argument(manifest["learned"][k], v)
                 for k, v in learned.items()]
        args += [argument(manifest["arguments"][k], v) for k, v in (arguments or {}).items()]
        args += [argument(manifest["timed"][name], values) for name, values in timed.items()]
    return args


def environment(manifest):
    """The environment of the manifest's binary (without the settings of one run: `settings_of`)."""
    from brian2 import prefs

    from .codepatch import SERVE_VARIABLE

    env = dict(os.environ)
    env.update(prefs["devices.cpp_standalone.run_environment_variables"])
    env.update(manifest["environment"])
    env.pop(SERVE_VARIABLE, None)  # (only a fork server is started with it)
    return env


def settings_of(manifest, replaced, static_arrays=None):
    """The environment settings of one run: where its static arrays are, which results it writes
    and which static arrays it does not read (``replaced``: ``part -> keys`` of its run arguments,
    e.g. ``{"learned": state, "timed": timed}``; each replaces its static array)."""
    from .codepatch import RESULTS_VARIABLE, SKIP_STATIC_VARIABLE, STATIC_ARRAYS, STATIC_ARRAYS_VARIABLE

    skipped = [manifest["timed"][k]["file"] if part == "timed" else manifest[part][k].get("static")
               for part, keys in replaced.items() for k in keys]
    return {STATIC_ARRAYS_VARIABLE: static_arrays or STATIC_ARRAYS,
            # (a build patched by codepatch.patch_results writes only these; an older one writes all)
            RESULTS_VARIABLE: ",".join(e["file"] for part in ("learned", "records") for e in manifest[part].values()),
            SKIP_STATIC_VARIABLE: ",".join(name for name in skipped if name)}


def run_command():
    """Brian2's ``run_cmd_unix`` as a list (``["./main"]``)."""
    from brian2 import prefs

    run_cmd = prefs["devices.cpp_standalone.run_cmd_unix"]
    return [run_cmd] if isinstance(run_cmd, str) else list(run_cmd)


def run_line(results, args):
    """The command line of one run after `run_command`: the results folder, the arguments."""
    return ["--results_dir", results] + args


def stdout_file(folder):
    """Where a run in the scratch folder ``folder`` writes its standard output."""
    return os.path.join(folder, "stdout.txt")


def check_status(code, manifest, stdout_path):
    """Raise where a run ended with a non-zero status ``code``, showing its standard output."""
    if code:
        if stdout_path is not None and os.path.exists(stdout_path):
            with open(stdout_path) as f:
                print(f.read())
        raise RuntimeError(f"Project run failed (exit status {code}; project directory: "
                           f"{os.path.abspath(manifest['directory'])})")


def read_results(results, manifest):
    """``(state, records)`` from a results folder: learned variables as 1-D float arrays,
    records as ``(n_trials, n)`` arrays without row 0 (taken at t = 0, before the first trial)."""
    def read(entry):
        return np.fromfile(os.path.join(results, entry["file"]), dtype=np.dtype(entry["dtype"])).astype(float)

    state = {k: read(e) for k, e in manifest["learned"].items()}
    records = {k: read(e).reshape(-1, e["columns"])[1:] for k, e in manifest["records"].items()}
    return state, records
