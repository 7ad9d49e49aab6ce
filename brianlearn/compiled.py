"""
Compiled runs: the one place that builds, runs, reads back and cleans up a network.

`Protocol` (trials in chunks) and the one-shot simulations of the plasticity comparisons both
go through these functions:

- `take_device` makes a device Brian2's current one in a history-independent state, dropping
  the Brian2 objects of every other compiled network (Brian2 names objects uniquely among
  *live* objects, so the same network must always generate the same code);
- `build_cached` compiles the generated project into a build folder cached by a hash of its
  sources (`brianlearn.buildcache`);
- `standalone_run` runs a built project with ``run_args`` and removes the run-argument files
  afterwards (Brian2 leaves one per distinct array in ``static_arrays/``);
- a network whose build a manifest describes runs that build without generating its code again
  (`brianlearn.replay`), with its run-argument and results files in a scratch folder (memory-
  backed where the machine has ``/dev/shm``) that is removed when the run has been read.
"""

import contextlib
import gc
import itertools
import os
import time
import weakref

import numpy as np
from brian2 import NeuronGroup, Network, Quantity, defaultclock, seed as brian_seed, set_device
from brian2.devices.device import all_devices, get_device

import brianlearn.replay as replay
from .buildcache import BUILD_LOG, BuildInfo, build_directory, compile_cached, own_folder, prune_folders, running
from .chain import run_chained
from .codepatch import RESULTS_VARIABLE, SERVE_VARIABLE, SKIP_STATIC_VARIABLE, STATIC_ARRAYS, STATIC_ARRAYS_VARIABLE
from .devices import activate, insert_seed_code, standalone_prefs
from .network import TRIAL_ENDED, NetworkBuilder

__all__ = ["take_device", "release_all", "build_cached", "require_runnable", "standalone_run", "find_replay",
           "run_replayed", "RunResult"]

#: the compiled network currently loaded in Brian2's standalone device
_ACTIVE = [None]
#: every compiled run that may hold Brian2 objects
_RUNS = weakref.WeakSet()


class RunResult(dict):
    """What `Protocol.run_trials` returns: ``records`` (per-trial arrays), ``state``, ``info``."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def release_all(keep=None):
    """Drop the Brian2 objects of every compiled run except ``keep`` (another network takes the device)."""
    for run in list(_RUNS):
        if run is not keep:
            run.release()
    _ACTIVE[0] = None


#: `_freeze_long_lived`: the (type, name) of the Brian2 objects alive at the first `take_device`
#: (its singletons: default clocks, the magic network), and whether it has frozen the long-lived objects
_FREEZE = {"baseline": None, "frozen": False}
#: a full collection in `take_device` slower than this (seconds) freezes again (see `_freeze_long_lived`)
SLOW_COLLECTION = 0.02


def _freeze_long_lived(collection_s=0.0):
    """At the second network, and again whenever ``take_device``'s full collection took more than
    `SLOW_COLLECTION` seconds, but only when no Brian2 object but its singletons is alive: move the
    objects alive now out of the garbage collector's view (`gc.freeze`). Those are modules and
    caches: what Brian2's and SymPy's code generation filled while building the first network,
    and what a first Brian2 ``runtime`` run leaves when it compiles Cython code (the Cython
    compiler's symbol tables: ~520 000 objects, which made every later full collection take
    ~0.25 s and a plasticity `run_conditions` call 1 s instead of 0.15 s). The full collections of
    `take_device` then take ~1 ms and code generation runs without collector passes over them.
    Frozen objects are still freed by reference counting; only reference cycles among them would
    no longer be collected, which is why this happens only with no network alive, right after two
    full collections (everything frozen is reachable then), and only when collections have become slow."""
    from brian2.core.names import Nameable

    if _FREEZE["frozen"] and collection_s <= SLOW_COLLECTION:
        return
    objects = [ref() for ref in Nameable.__instances__()]
    alive = sorted((type(o).__name__, o.name) for o in objects if o is not None)
    del objects
    if _FREEZE["baseline"] is None:
        _FREEZE["baseline"] = alive
    elif alive == _FREEZE["baseline"]:
        gc.freeze()
        _FREEZE["frozen"] = True


def take_device(config, keep=None):
    """Activate ``config``'s device for a new network (see the module docstring)."""
    release_all(keep)
    gc.collect()
    activate(config)  # (reinit: the device lets go of the old code objects)
    start = time.perf_counter()
    gc.collect()
    _freeze_long_lived(time.perf_counter() - start)


def build_cached(label, config_dict, config, own_static=False):
    """Compile the project Brian2's device has recorded; returns ``(directory, BuildInfo)``.

    The folder is ``build_directory(label, config_dict, ...)`` below the cache root of the
    `DeviceConfig` ``config``, followed by the digest of the generated project; an unchanged
    project is not recompiled. ``own_static``: see `compile_cached`.
    """
    info = compile_cached(get_device(), build_directory(label, config_dict, config.name, config.directory),
                          own_static=own_static)
    return info.directory, info


def require_runnable(config, directory):
    """Raise if ``config`` only compiles (``compile_only=True``): the built project cannot run here."""
    if config.compile_only:
        raise RuntimeError("This device was chosen with compile_only=True: the project is built in "
                           f"'{directory}' but cannot be run here.")


#: build folders whose results folders of ended processes this process has removed
_PRUNED = set()


def _results_folder(directory):
    """This process's results folder in ``directory`` (relative name; reused by its later runs).
    On the first run in ``directory``, the results and static-array folders that ended processes
    of this machine left there are removed."""
    if directory not in _PRUNED:
        _PRUNED.add(directory)
        prune_folders(directory)
    return own_folder("results")


@contextlib.contextmanager
def _run_folder(directory):
    """Hold ``directory``'s binary for one run; yields this process's results folder. The run
    that leaves last deletes the run-argument files (``static_arrays/init_*``)."""
    with running(directory) as alone:
        try:
            yield _results_folder(directory)
        finally:
            if alone():
                sdir = os.path.join(directory, "static_arrays")
                for fname in os.listdir(sdir) if os.path.isdir(sdir) else ():
                    if fname.startswith("init_"):  # (run-argument files and their locks)
                        os.remove(os.path.join(sdir, fname))


@contextlib.contextmanager
def standalone_run(directory, run_args, with_output=False, static_arrays=STATIC_ARRAYS):
    """Run the built project in ``directory`` with ``run_args``; read results inside the block.
    ``static_arrays``: the folder of this run's static arrays (`BuildInfo.static_arrays`).

    Several processes may run one build folder at once: each process writes its results into
    its own folder (``results-HOST-PID``, kept until its next run so that monitors stay
    readable) and holds the folder's binary while it runs (`buildcache.running`). The
    run-argument files Brian2 leaves in ``static_arrays/`` (one per distinct array, shared by
    runs with equal values) are deleted by the run that leaves last, so the build folder does
    not grow with every run.
    """
    from brian2 import prefs

    dev = get_device()
    key = "devices.cpp_standalone.run_environment_variables"
    variables = prefs[key]
    before = {name: os.environ.get(name)
              for name in (STATIC_ARRAYS_VARIABLE, RESULTS_VARIABLE, SERVE_VARIABLE, SKIP_STATIC_VARIABLE)}
    with _run_folder(directory) as results:
        # (Brian2 copies these variables into os.environ: all are restored after the run;
        # an empty SERVE_VARIABLE: Brian2's run is not a fork server, and an empty
        # SKIP_STATIC_VARIABLE: it reads every static array, whatever the user's environment says)
        # (every results file: Brian2 reads any of them after the run)
        prefs[key] = {**variables, STATIC_ARRAYS_VARIABLE: static_arrays, RESULTS_VARIABLE: "", SERVE_VARIABLE: "",
                      SKIP_STATIC_VARIABLE: ""}
        try:
            dev.run(directory=directory, results_directory=results, with_output=with_output, run_args=run_args)
        finally:
            prefs[key] = variables
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        yield dev


def find_replay(label, config_dict, config, parts):
    """``(path, manifest)`` of a network built outside a `Protocol` (a plasticity stimulus): the
    manifest (`brianlearn.replay`) of its key ``replay.network_key(label, parts)`` beside the
    builds of ``build_directory(label, config_dict, ...)`` if it still holds (else None), and
    where the manifest of a generated build goes (None: not replayable). Leaves Brian2's device
    as it was: the key reads the preferences ``config``'s activation would set
    (`standalone_prefs`), and a replay creates no Brian2 object (activating the device took
    0.7-1.2 ms of a 10 ms plasticity call)."""
    if not replay.enabled(config):
        return None, None
    key = replay.network_key(label, parts, prefs=standalone_prefs(config))
    if key is None:
        return None, None
    path = replay.manifest_path(build_directory(label, config_dict, config.name, config.directory), key)
    manifest = replay.load(path)
    if manifest is not None:
        BUILD_LOG.append(BuildInfo(manifest["directory"], manifest["digest"], False, 0.0, replayed=True))
    return path, manifest


def run_replayed(manifest, learned, arguments, static):
    """Run the build of a `find_replay` manifest with run arguments ``learned`` and
    ``arguments`` and this run's static arrays ``static`` (``file name -> array``), all in a
    scratch folder of its own; returns ``key -> values`` of the learned variables."""
    with running(manifest["directory"]), replay.scratch() as scratch:
        folder = replay.write_static(scratch, static)
        results = replay.run(manifest, scratch, None, learned, {}, arguments=arguments, static_arrays=folder)
        state, _ = replay.read_results(results, manifest)
    return state


class _CompiledRun:
    """One network for ``n_trials`` trials on one device."""

    def __init__(self, protocol, config, n_trials, data, signals, valid, state):
        self.protocol = protocol
        self.config = config
        self.n_trials = n_trials
        self.directory = None
        self.build_info = None
        self._first = (data, signals, valid, state)
        self.builder = None
        #: the manifest this run replays (`brianlearn.replay`) and where it is stored
        self.replay = self.replay_path = None
        _RUNS.add(self)

    # ----------------------------------------------------------- construction
    def _create(self, data, signals, valid, state, bake_all=False, chunk_seed=0):
        p = self.protocol
        defaultclock.dt = p.schedule.dt
        b = NetworkBuilder(p.schedule, self.n_trials, data, signals, valid)
        extra = []
        if self.config.standalone:
            # the random seed is a run argument, not a literal in the code: every chunk draws
            # new random numbers and a new seed does not force a recompilation
            rng = NeuronGroup(1, "bl_seed : 1 (shared, constant)", name="bl_rng")
            if bake_all:  # (a single value is a literal in the code: only for exported projects)
                rng.bl_seed = chunk_seed
            self.seed_group = rng
            extra.append(rng)
        else:
            brian_seed(chunk_seed)
        p.build_network(b)
        objects = b.finalize() + extra
        for key, (obj, var, size) in b.learned.items():
            if key not in state:
                raise ValueError(f"{type(p).__name__}.initial_state() has no value for learned '{key}'.")
            _check_size(key, state[key], size)
            if not self.config.standalone:  # (standalone: the created size is checked after the run)
                _check_created_size(key, obj.name, var, size, np.size(obj.variables[var].get_value()))
            # standalone: arrays are baked into static_arrays/ (values not in the code, so the
            # build cache stays valid); single values would be literals in the code, so they
            # only go in through run_args
            if not self.config.standalone or bake_all or np.size(state[key]) > 1:
                _set(obj, var, state[key])
        if self.config.standalone:
            # run arguments are applied after every value set above, then the seed is used
            dev = get_device()
            dev.apply_run_args()
            insert_seed_code(self.config, self.seed_group.variables["bl_seed"])
        net = Network(objects, name="bl_network")
        self.builder, self.net = b, net
        return net

    def release(self):
        """Drop this run's Brian2 objects (another network takes the device)."""
        self.builder = self.net = self.seed_group = None

    def _take_device(self):
        """Activate this run's device, letting go of every other network's Brian2 objects."""
        take_device(self.config, keep=self)

    def _run(self, net):
        net.run(self.builder.duration, namespace=self.builder.namespace(),
                report="stderr" if self.protocol.progress == "brian" else None)

    def generate(self, bake_all=False):
        """Activate the device and create and 'run' the network (standalone: records it)."""
        self._take_device()
        data, signals, valid, state = self._first
        self._run(self._create(data, signals, valid, state, bake_all=bake_all,
                               chunk_seed=self.protocol._chunk_seed(0)))
        return get_device()

    def ensure_active(self):
        """Standalone: replay the cached build a manifest describes, or generate the code and
        compile it unless the cached build matches (then write the manifest)."""
        if self.replay is not None:
            return
        if _ACTIVE[0] is self:
            if get_device() is not all_devices[self.config.name]:  # someone switched devices
                set_device(self.config.name, build_on_run=False)
            return
        p = self.protocol
        key_folder = build_directory(p.label(), p.config_dict(self.n_trials), self.config.name,
                                     self.config.directory)
        if replay.enabled(self.config):
            # the key holds the preferences the device sets; no collections (`take_device`): a
            # replayed network creates no Brian2 object, and a generated one collects below
            release_all(keep=self)
            activate(self.config)
            data, signals, valid, state = self._first
            shapes = {"data": {k: np.shape(v) for k, v in data.items()},
                      "signals": {k: np.shape(v) for k, v in signals.items()},
                      "valid": np.shape(valid), "state": {k: int(np.size(v)) for k, v in state.items()}}
            key = replay.replay_key(p, self.n_trials, shapes)
            self.replay_path = None if key is None else replay.manifest_path(key_folder, key)
            if self.replay_path is not None and self._start_replay():
                return
        self.generate()
        self.directory, self.build_info = build_cached(p.label(), p.config_dict(self.n_trials), self.config)
        _ACTIVE[0] = self
        self._describe()

    def _start_replay(self):
        """Replay the stored manifest if it still holds (True), else forget it (False)."""
        manifest = replay.load(self.replay_path)
        if manifest is None:
            return False
        self.replay, self.directory = manifest, manifest["directory"]
        self.build_info = BuildInfo(self.directory, manifest["digest"], False, 0.0, replayed=True)
        BUILD_LOG.append(self.build_info)
        return True

    def _describe(self):
        """Write the manifest of the network just generated and built (when it can be replayed)."""
        if self.replay_path is None:
            return
        manifest = replay.describe(get_device(), self.builder, self.net, self.seed_group.variables["bl_seed"],
                                   self.build_info)
        if manifest is not None:
            data, signals, valid, _ = self._first
            renewed = [name for name in manifest["timed"] if _timed_array_values(name, data, signals, valid) is not None]
            replay.save(self.replay_path, manifest, renewed, self.build_info.static_arrays)

    # ----------------------------------------------------------- execution
    def execute(self, data, signals, valid, state, chunk_seed=0):
        if not self.config.standalone:  # runtime: a fresh network with this chunk's values
            self._take_device()
            self._run(self._create(data, signals, valid, state, chunk_seed=chunk_seed))
            return self._read()
        if self._replaying():
            return self._execute_replay(data, signals, valid, state, chunk_seed)
        b = self.builder
        run_args = {self.seed_group.bl_seed: chunk_seed}
        for key, (obj, var, size) in b.learned.items():
            value = _check_size(key, state[key], size)
            run_args[getattr(obj, var)] = Quantity(np.ascontiguousarray(value.reshape(-1)) if size > 1 else value.reshape(()),
                                                   dim=obj.variables[var].dim)
        dev = get_device()
        for name, ta in b.timed_arrays.items():
            if ta not in dev.timed_arrays:  # not used by any code: not in the binary
                continue
            values = _timed_array_values(name, data, signals, valid)
            if values is not None:
                run_args[ta] = Quantity(np.ascontiguousarray(values), dim=getattr(ta.values, "dim", None))
        with standalone_run(self.directory, run_args, with_output=bool(self.protocol.progress),
                            static_arrays=self.build_info.static_arrays):
            try:
                return self._read()
            except ValueError:  # (a network that does not create what it declares is not replayed)
                if self.replay_path is not None and os.path.exists(self.replay_path):
                    os.remove(self.replay_path)
                raise

    def run_chunks(self, inputs, state):
        """``(state, records)`` of each chunk of ``inputs`` (``(data, signals, valid, seed)``), in
        order, each chunk starting from the learned variables of the one before (the first from
        ``state``). A replayed build with a fork server runs two chunks or more chained
        (`brianlearn.chain`: a chunk is sent before the one before it has answered); another runs
        them one at a time, and so does a build generated by the first chunk."""
        inputs = iter(inputs)
        first = list(itertools.islice(inputs, 2))  # (a run of one chunk is not chained)
        inputs = itertools.chain(first, inputs)
        if len(first) == 2 and not self.protocol.progress and self._replaying():
            yield from self._execute_chained(inputs, state)
            return
        for data, signals, valid, seed in inputs:
            state, records = self.execute(data, signals, valid, state, chunk_seed=seed)
            yield state, records

    def _replaying(self):
        """Standalone: make the build ready to run (replayed, cached or generated and compiled) and
        say whether it is replayed."""
        if not self.config.standalone:
            return False
        if self.replay is not None and replay.load(self.replay_path) is None:
            self.replay = None  # (since the last chunk, another network renewed the build folder)
        self.ensure_active()
        require_runnable(self.config, self.directory)
        return self.replay is not None

    def _execute_chained(self, inputs, state):
        m = self.replay
        prepared = ((seed, _replayed_timed(m, data, signals, valid)) for data, signals, valid, seed in inputs)
        with running(self.directory):
            for state, records in run_chained(m, prepared, _replayed_learned(m, state)):
                yield _replayed_created(m, state), records

    def _execute_replay(self, data, signals, valid, state, chunk_seed):
        m = self.replay
        learned = _replayed_learned(m, state)
        timed = _replayed_timed(m, data, signals, valid)
        with running(self.directory), replay.scratch() as scratch:  # (its files: all in the scratch folder)
            folder = replay.run(m, scratch, chunk_seed, learned, timed, with_output=bool(self.protocol.progress))
            state, records = replay.read_results(folder, m)
        return _replayed_created(m, state), records

    def _read(self):
        b = self.builder
        state = {}
        for key, (obj, var, size) in b.learned.items():
            state[key] = np.array(obj.variables[var].get_value(), dtype=float).reshape(-1)
            _check_created_size(key, obj.name, var, size, state[key].size)
        records = {}
        for key, mon in b.records.items():
            var = key.split(".", 1)[1]
            records[key] = np.array(mon.variables[var].get_value(), dtype=float)[1:]
        return state, records


def _check_size(key, value, size):
    value = np.asarray(value, dtype=float)
    if value.size != size:
        raise ValueError(f"Learned variable '{key}' needs {size} values, got {value.size}.")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"Learned variable '{key}' contains NaN or infinite values.")
    return value


def _check_created_size(key, owner, var, size, created):
    """Refuse a learned variable whose declared ``size`` is not what the network created (a
    standalone binary would only print an error and carry on with default values)."""
    if created != size:
        raise ValueError(f"Learned variable '{key}' was declared with size={size} (NetworkBuilder.learn), but "
                         f"'{owner}' has {created} values of '{var}': declare the size its connect() creates.")


def _set(obj, var, value):
    value = np.asarray(value, dtype=float)
    setattr(obj, var, Quantity(value if value.size > 1 else value.item(), dim=obj.variables[var].dim))


def _replayed_learned(manifest, state):
    """The learned variables ``state`` of a replayed run, checked against the manifest's sizes."""
    return {key: _check_size(key, state[key], e["size"]) for key, e in manifest["learned"].items()}


def _replayed_created(manifest, state):
    """``state`` after a replayed run, once each learned variable has the size the network declares."""
    for key, e in manifest["learned"].items():
        _check_created_size(key, *e["name"].split("."), e["size"], state[key].size)
    return state


def _replayed_timed(manifest, data, signals, valid):
    """``name -> values`` of the manifest's TimedArrays that get new values in a chunk."""
    values = {name: _timed_array_values(name, data, signals, valid) for name in manifest["timed"]}
    return {name: v for name, v in values.items() if v is not None}


def _timed_array_values(name, data, signals, valid):
    """New values of the builder's TimedArray ``name`` for a chunk (None: constant)."""
    if name == TRIAL_ENDED:
        return NetworkBuilder.ended_values(valid)
    for prefix, source in (("data_", data), ("trial_", signals)):
        if name.startswith(prefix):
            base = name[len(prefix):]
            if base.endswith("_ended") and base[:-6] in source:
                return NetworkBuilder.ended_values(source[base[:-6]])
            if base in source:
                return NetworkBuilder.padded(source[base])
    return None
