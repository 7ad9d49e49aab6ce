"""Replay of cached builds without code generation (`brianlearn.replay`): the same results as a
generated network, and taken only when nothing that shapes the generated code has changed."""

import os

import numpy as np
import pytest
from brian2 import ms, prefs

import brianlearn.models as models
from brianlearn import BUILD_LOG, Phase, Schedule, replay
from test_engine import Ticker, _python, _tagged

pytestmark = pytest.mark.cpp_standalone


class Quiet(Ticker):
    """`Ticker` without its beta monitor: learned variables and records only, so replayable."""

    monitor_beta = False


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A build cache of this module's own (no manifest from an earlier session)."""
    return str(tmp_path_factory.mktemp("replay-cache"))


@pytest.fixture
def use_cache(cache, monkeypatch):
    monkeypatch.setenv("BRIANLEARN_CACHE", cache)
    return cache


def _run(cls=Quiet, X=None, replaying=True, monkeypatch=None, **kwds):
    p = cls(device="cpp_standalone", seed=kwds.pop("seed", 3), **kwds)
    if monkeypatch is not None:
        monkeypatch.setenv("BRIANLEARN_REPLAY", "1" if replaying else "0")
    r = p.run_trials({"x": np.arange(12.0).reshape(4, 3) if X is None else X})
    return p, r


def _same(a, b):
    assert sorted(a.state) == sorted(b.state) and sorted(a.records) == sorted(b.records)
    for key in a.state:
        np.testing.assert_array_equal(a.state[key], b.state[key])
    for key in a.records:
        np.testing.assert_array_equal(a.records[key], b.records[key])


def test_a_replayed_run_equals_a_generated_one(use_cache, monkeypatch):
    X = np.random.default_rng(0).uniform(0, 1, (7, 3))
    p0, generated = _run(X=X, replaying=False, monkeypatch=monkeypatch, chunk_size=3)  # (3 chunks)
    assert not p0.build_info_.replayed
    assert not os.path.isdir(os.path.join(use_cache, ".replay"))  # (BRIANLEARN_REPLAY=0 writes no manifest)
    p1, first = _run(X=X, monkeypatch=monkeypatch, chunk_size=3)  # generated: writes the manifest
    p2, again = _run(X=X, monkeypatch=monkeypatch, chunk_size=3)
    assert not p1.build_info_.replayed and p2.build_info_.replayed
    assert p2.build_info_.directory == p0.build_info_.directory
    assert p2.build_info_.source_hash == p0.build_info_.source_hash
    _same(generated, first)
    _same(generated, again)
    # (the analytic values: c_a counts the 4 steps of phase a, w adds the trial's x)
    np.testing.assert_array_equal(again.records["g.c_a"], 4)
    # new data are run arguments: the same build replays them, correctly
    p3, other = _run(X=2 * X, monkeypatch=monkeypatch, chunk_size=3)
    p4, reference = _run(X=2 * X, replaying=False, monkeypatch=monkeypatch, chunk_size=3)
    assert p3.build_info_.replayed
    _same(other, reference)
    start = p4.initial_state(np.random.default_rng(3))["g.w"]
    np.testing.assert_allclose(other.state["g.w"], start + 2 * X.sum(axis=0), rtol=1e-12)
    # another seed is another key (a protocol may draw parts of its network from its seed)
    assert not _run(X=X, monkeypatch=monkeypatch, chunk_size=3, seed=4)[0].build_info_.replayed


def test_a_later_process_replays_the_build(use_cache, monkeypatch):
    p, here = _run(monkeypatch=monkeypatch)
    _run(monkeypatch=monkeypatch)
    out = _tagged(_python("import numpy as np; from test_replay import Quiet; p = Quiet(device='cpp_standalone', "
                          "seed=3); r = p.run_trials({'x': np.arange(12.0).reshape(4, 3)}); "
                          "print('RUN', p.build_info_.replayed, p.build_info_.directory, "
                          "' '.join(repr(float(v)) for v in r.state['g.w']))",
                          env=dict(os.environ, BRIANLEARN_CACHE=use_cache)))
    assert out["RUN"][:2] == ["True", p.build_info_.directory]
    np.testing.assert_array_equal([float(v) for v in out["RUN"][2:]], here.state["g.w"])


def test_what_shapes_the_code_is_not_replayed(use_cache, monkeypatch):
    """An edited statement (on the instance, or on the class as a test or subclass would), an
    edited model in the registry or another Brian2 preference gives another key: the network is
    generated, and its own results come back, not the cached build's."""
    _run(monkeypatch=monkeypatch)
    assert _run(monkeypatch=monkeypatch)[0].build_info_.replayed
    p = Quiet(device="cpp_standalone", seed=3)
    p.end_a = "c_a = count + 100"
    r = p.run_trials({"x": np.ones((4, 3))})
    assert not p.build_info_.replayed
    np.testing.assert_array_equal(r.records["g.c_a"], 104)
    monkeypatch.setattr(Quiet, "end_a", "c_a = count + 200")
    p, r = _run(monkeypatch=monkeypatch)
    assert not p.build_info_.replayed
    np.testing.assert_array_equal(r.records["g.c_a"], 204)
    monkeypatch.undo()
    monkeypatch.setenv("BRIANLEARN_CACHE", use_cache)
    # the key itself: the registry and the preferences are in it
    shapes = {"data": {"x": (4, 3)}}
    key = replay.replay_key(Quiet(seed=3), 4, shapes)
    assert key == replay.replay_key(Quiet(seed=3), 4, shapes) and key is not None
    assert replay.replay_key(Quiet(seed=3), 5, shapes) != key
    assert replay.replay_key(Quiet(seed=3), 4, {"data": {"x": (4, 4)}}) != key
    edited = models.MODELS["nsm_neuron"](tau=0.5 * models.MODELS["nsm_neuron"].parameters["tau"])
    monkeypatch.setitem(models.MODELS, "nsm_neuron", edited)
    assert replay.replay_key(Quiet(seed=3), 4, shapes) != key
    monkeypatch.undo()
    saved = list(prefs.codegen.cpp.extra_compile_args_gcc)
    try:
        prefs.codegen.cpp.extra_compile_args_gcc = saved + ["-O2"]
        assert replay.replay_key(Quiet(seed=3), 4, shapes) != key
    finally:
        prefs.codegen.cpp.extra_compile_args_gcc = saved
    assert replay.replay_key(Quiet(seed=3), 4, shapes) == key


def test_an_attribute_without_canonical_form_means_no_replay():
    p = Quiet(seed=3)
    p.hook = lambda: 0  # (code: what it would do to the network cannot be told)
    assert replay.replay_key(p, 4, {}) is None


def test_a_replayed_run_writes_its_files_in_a_scratch_folder_and_removes_them(use_cache, monkeypatch, tmp_path):
    """Run arguments and results of a replayed run go to a folder of their own under
    BRIANLEARN_SCRATCH (default: /dev/shm), which is gone after the run, also after a failed one;
    the build folder gets no run-argument files."""
    _run(monkeypatch=monkeypatch)
    monkeypatch.setenv("BRIANLEARN_SCRATCH", str(tmp_path))
    seen = []
    real_run = replay.run

    def spy(manifest, folder, *args, **kwds):
        out = real_run(manifest, folder, *args, **kwds)
        seen.append(sorted(os.listdir(folder)))
        return out

    monkeypatch.setattr(replay, "run", spy)
    p, r = _run(monkeypatch=monkeypatch)
    assert p.build_info_.replayed
    assert seen and "results" in seen[0]
    # (codepatch.patch_packed_arguments: every array-valued run argument in one file)
    assert [name for name in seen[0] if name.startswith("init_")] == ["init_arguments.dat"]
    assert list(tmp_path.iterdir()) == []
    static = os.listdir(os.path.join(p.build_info_.directory, "static_arrays"))
    assert not [name for name in static if name.startswith("init_")]

    def failing(manifest, folder, *args, **kwds):
        open(os.path.join(folder, "partial.dat"), "w").close()
        raise RuntimeError("Project run failed")

    monkeypatch.setattr(replay, "run", failing)
    with pytest.raises(RuntimeError, match="Project run failed"):
        _run(monkeypatch=monkeypatch)
    assert list(tmp_path.iterdir()) == []


def test_a_replayed_run_writes_only_the_results_it_reads(use_cache, monkeypatch):
    """codepatch.patch_results: a replayed binary writes the results files its manifest names
    (learned variables, records; and Brian2's last_run_info.txt), nothing else, with the same
    values; Brian2's own run of the build writes every array, also where the user's environment
    names a list (Brian2 may read any of them)."""
    X = np.random.default_rng(1).uniform(0, 1, (5, 3))
    monkeypatch.setenv("BRIANLEARN_RESULTS", "nothing_of_this_network")
    _, generated = _run(X=X, monkeypatch=monkeypatch)  # (generated, or replayed from an earlier test)
    _, reference = _run(X=X, replaying=False, monkeypatch=monkeypatch)  # (Brian2's run: all arrays)
    _same(generated, reference)
    seen = []
    real_run = replay.run

    def spy(manifest, folder, *args, **kwds):
        out = real_run(manifest, folder, *args, **kwds)
        wanted = {e["file"] for part in ("learned", "records") for e in manifest[part].values()}
        seen.append((sorted(os.listdir(out)), sorted(wanted | {"last_run_info.txt"})))
        return out

    monkeypatch.setattr(replay, "run", spy)
    p, again = _run(X=X, monkeypatch=monkeypatch)
    assert p.build_info_.replayed and seen
    for written, wanted in seen:
        assert written == wanted
    _same(reference, again)
    with open(os.path.join(p.build_info_.directory, "objects.cpp")) as f:
        assert f.read().count("_bl_result_wanted(\"") > 2 * len(seen[0][1])  # (every array is guarded)
    brian_results = [name for name in os.listdir(p.build_info_.directory) if name.startswith("results")]
    assert brian_results and all(len(os.listdir(os.path.join(p.build_info_.directory, name))) > len(seen[0][1])
                                 for name in brian_results)


def test_an_unwritable_scratch_folder_is_named_in_the_error(monkeypatch, tmp_path):
    monkeypatch.setenv("BRIANLEARN_SCRATCH", str(tmp_path / "missing"))
    with pytest.raises(OSError, match="BRIANLEARN_SCRATCH"):
        with replay.scratch():
            pass


def test_a_renewed_or_removed_build_is_not_replayed(use_cache, monkeypatch):
    """A static array that no run argument overwrites (here the records' indices) changed by
    another network with the same code, or a build folder without its binary: the network is
    generated again (and rewrites them), never run against the wrong files."""
    _run(monkeypatch=monkeypatch)
    p, reference = _run(monkeypatch=monkeypatch)
    assert p.build_info_.replayed
    folder = os.path.join(p.build_info_.directory, "static_arrays")
    path = os.path.join(folder, "_static_array__array_rec_g_c_a__indices")
    original = np.fromfile(path, dtype=np.int32)
    original[::-1].astype(np.int32).tofile(path)
    p, r = _run(monkeypatch=monkeypatch)
    assert not p.build_info_.replayed
    np.testing.assert_array_equal(np.fromfile(path, dtype=np.int32), original)
    _same(r, reference)
    assert _run(monkeypatch=monkeypatch)[0].build_info_.replayed
    os.remove(os.path.join(p.build_info_.directory, "main"))
    p, r = _run(monkeypatch=monkeypatch)
    assert not p.build_info_.replayed and p.build_info_.compiled
    _same(r, reference)


def test_a_network_with_brian2_monitors_is_not_replayed(use_cache, monkeypatch):
    """Its monitors are read through the Brian2 objects: `Ticker` (a beta monitor) always generates."""
    for _ in range(2):
        p, _r = _run(Ticker, monkeypatch=monkeypatch, chunk_size=4)
        assert not p.build_info_.replayed
        assert len(p.objects_["beta_mon"].t) == 4 * 10 + 1  # (the monitor ran: 10 steps per trial, and t = end)


def test_objects_of_a_replayed_network_are_created_on_request(use_cache, monkeypatch):
    _run(monkeypatch=monkeypatch)
    p, _r = _run(monkeypatch=monkeypatch)
    assert p.build_info_.replayed and p._compiled and all(c.builder is None for c in p._compiled.values())
    g = p.objects_["g"]  # (created now, not run: its code and equations can be read)
    assert len(g) == 3 and "c_a" in g.variables and g.events["spike"] == "True"
    assert BUILD_LOG[-1] is p.build_info_


SYSTEMS = ["nsm", pytest.param("lca", marks=pytest.mark.slow), pytest.param("dictionary", marks=pytest.mark.slow),
           pytest.param("eqprop rate", marks=pytest.mark.slow), pytest.param("eqprop lif", marks=pytest.mark.slow)]


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_system_replays_to_the_result_it_generates(system, monkeypatch):
    """Each learning system (the benchmark's networks, small): a replayed fit learns exactly what
    a generated one does (weights or codes bit for bit)."""
    from benchmarks.bench import SYSTEMS as BENCH
    from brianlearn.devices import DeviceConfig

    sysm = BENCH[system](4 if system.startswith("eqprop") else 8)
    device = DeviceConfig("cpp_standalone")
    monkeypatch.setenv("BRIANLEARN_REPLAY", "0")
    generated = sysm.brianlearn(device, 3)[1]
    monkeypatch.setenv("BRIANLEARN_REPLAY", "1")
    sysm.brianlearn(device, 3)  # (writes the manifest, or replays one a previous session wrote)
    replayed = sysm.brianlearn(device, 3)[1]
    assert BUILD_LOG[-1].replayed
    for a, b in zip(generated, replayed):
        np.testing.assert_array_equal(a, b)


class Coarse(Quiet):
    """`Quiet` on a 0.5 ms time step."""

    def __init__(self, **kwds):
        super().__init__(**kwds)
        self.schedule = Schedule([Phase("a", 2 * ms, {"beta": 0.25}), Phase("b", 3 * ms, {"beta": 1.5})], dt=0.5 * ms)


def test_generated_code_does_not_depend_on_the_network_before(use_cache, monkeypatch):
    """Brian2 copies the runtime device's default clock into the standalone code it generates next;
    a runtime network that ran before with another time step must not change the digest (the
    network would recompile, and its replay manifest would name a build it never finds again)."""
    monkeypatch.setenv("BRIANLEARN_REPLAY", "0")
    digests = []
    for before in (Coarse, Quiet):
        before(device="runtime", seed=3).run_trials({"x": np.ones((4, 3))})
        p = Quiet(device="cpp_standalone", seed=3)
        p.run_trials({"x": np.ones((4, 3))})
        digests.append(p.build_info_.source_hash)
    assert digests[0] == digests[1]


END_A = "c_a = count"  # (read by FromModule's network)


class FromModule(Quiet):
    """`Quiet` whose end-of-phase-a statement is a module-level value."""

    @property
    def end_a(self):
        return END_A


def test_a_module_value_the_network_reads_is_in_the_key(use_cache, monkeypatch):
    """A module-level value of the protocol's modules (or of the models and protocols modules they
    refer to) that a test or a user replaces changes the key: no stale binary runs."""
    import sys

    _run(FromModule, monkeypatch=monkeypatch)
    assert _run(FromModule, monkeypatch=monkeypatch)[0].build_info_.replayed
    monkeypatch.setattr(sys.modules[__name__], "END_A", "c_a = count + 300")
    p, r = _run(FromModule, monkeypatch=monkeypatch)
    assert not p.build_info_.replayed
    np.testing.assert_array_equal(r.records["g.c_a"], 304)


def test_a_network_key_from_the_preferences_an_activation_sets_equals_the_key_after_it(monkeypatch):
    """`find_replay` does not activate the device: the key it computes with `standalone_prefs`
    must be the key computed after `activate` (the reference), and must see each preference."""
    from brianlearn.devices import DeviceConfig, activate, standalone_prefs

    parts = {"cfg": {"n": 8}, "model": "dw/dt = -w/tau : 1"}
    monkeypatch.setitem(prefs, "devices.cpp_standalone.extra_make_args_unix", ["-j"])  # (Brian2's default)
    for threads in (None, 2):
        config = DeviceConfig("cpp_standalone", None, threads)
        before = replay.network_key("test", parts, prefs=standalone_prefs(config))
        assert before != replay.network_key("test", parts)  # (it reads the overrides: threads, make args)
        try:
            activate(config)
            assert replay.network_key("test", parts) == before
            assert replay.network_key("test", parts, prefs=standalone_prefs(config)) == before
        finally:
            from brian2 import set_device
            set_device("runtime")
    with monkeypatch.context() as m:
        m.setitem(prefs, "codegen.cpp.extra_compile_args_gcc", list(prefs["codegen.cpp.extra_compile_args_gcc"]) + ["-O2"])
        assert replay.network_key("test", parts, prefs=standalone_prefs(config)) != before


def test_a_changed_manifest_or_stamp_is_read_again(use_cache, monkeypatch):
    """`replay.load` keeps a parsed manifest while its file, the build's stamp and its binary keep
    their inode, size and modification time: a rewritten manifest or stamp is read again."""
    import glob
    import json

    from brianlearn.buildcache import _STAMP

    p, _ = _run(monkeypatch=monkeypatch)
    p, _ = _run(monkeypatch=monkeypatch)
    assert p.build_info_.replayed
    (path,) = [f for f in glob.glob(os.path.join(use_cache, "**", ".replay", "*.json"), recursive=True)
               if json.load(open(f))["directory"] == p.build_info_.directory]
    manifest = replay.load(path)
    assert manifest is not None and replay.load(path) is manifest  # (kept)
    stamp = os.path.join(p.build_info_.directory, _STAMP)
    for target, change in ((path, {"digest": "0" * 64}), (stamp, {"digest": "1" * 64})):
        with open(target) as f:
            text = f.read()
        with open(target, "w") as f:
            json.dump(dict(json.loads(text), **change), f)
        try:
            assert replay.load(path) is None
        finally:
            with open(target, "w") as f:
                f.write(text)
        assert replay.load(path) == manifest


def test_the_unread_random_devices_are_taken_out(use_cache, monkeypatch):
    """`codepatch.patch_random_devices`: a build's ``main.cpp`` and ``_init_arrays`` construct no
    ``std::random_device`` (each probed the processor in every served run), the generators seed
    from one device of the process; a ``_rd`` that the code reads, an unexpected loop, or a
    generator that does not look as expected, stays."""
    from brianlearn import randomdevices

    p, _ = _run(monkeypatch=monkeypatch)
    directory = p.build_info_.directory
    with open(os.path.join(directory, "main.cpp")) as f:
        assert "std::random_device" not in f.read()
    with open(os.path.join(directory, "objects.cpp")) as f:
        objects = f.read()
    init = objects[objects.index("void _init_arrays()"):]
    assert "_random_generators.push_back(RandomGenerator())" in init
    assert "std::random_device" not in init[:init.index("\n}\n")]
    with open(os.path.join(directory, "objects.h")) as f:
        header = f.read()
    # (the generators seed from one device made when the binary starts: a served child inherits it)
    assert "std::random_device rd;" not in header and "gen.seed(_bl_random_device());" in header
    assert objects.count("std::random_device _bl_random_device;") == 1
    read = "\tstd::random_device _rd;\n\tbrian::_random_generators[0].seed(_rd());\n"
    assert randomdevices.main_without_device(read) == read
    assert randomdevices.main_without_device("x;\n\tstd::random_device _rd;\ny;\n") == "x;\ny;\n"
    other = "    // Random number generator states\n    std::random_device rd;\n    seed_all(rd());\n}\n"
    assert randomdevices.init_without_device(other) == other
    odd = "class RandomGenerator {\n        void seed() {\n            seed_from_clock();\n"
    assert randomdevices.shared_device(odd, "namespace brian {\n") == (odd, "namespace brian {\n")


def test_a_run_argument_of_the_wrong_size_is_an_error_not_the_next_arguments_values(use_cache, monkeypatch):
    """Every array-valued argument of a replayed run is in one file (`codepatch.patch_packed_arguments`):
    one value short must not be filled with the next argument's bytes. Python checks the size the
    manifest states (ValueError); without it the binary checks the length each argument names
    and ends with status 1 (Brian2's own reading reports a wrong size and runs on)."""
    _run(monkeypatch=monkeypatch)
    calls = []
    real_run = replay.run

    def spy(manifest, folder, seed, learned, timed, **kwds):
        calls.append((manifest, seed, learned, timed))
        return real_run(manifest, folder, seed, learned, timed, **kwds)

    monkeypatch.setattr(replay, "run", spy)
    _run(monkeypatch=monkeypatch)
    manifest, seed, learned, timed = calls[-1]
    key = next(k for k, e in manifest["learned"].items() if e["size"] > 1)
    assert len(manifest["learned"]) + len(timed) > 1  # (another argument follows in the file)
    short = dict(learned, **{key: np.asarray(learned[key])[:-1]})
    with replay.scratch() as folder, pytest.raises(ValueError, match=f"{manifest['learned'][key]['name']}' has"):
        real_run(manifest, folder, seed, short, timed)
    unchecked = dict(manifest, learned={k: {n: v for n, v in e.items() if n != "size"} for k, e in manifest["learned"].items()})
    with replay.scratch() as folder, pytest.raises(RuntimeError, match="exit status 1"):
        real_run(unchecked, folder, seed, short, timed)
    with replay.scratch() as folder:  # (the same arguments at their sizes run)
        state, _ = replay.read_results(real_run(unchecked, folder, seed, learned, timed), manifest)
    assert set(state) == set(learned)
    # the last packed argument read past the file's end, and one from a file that is not there
    # (the binary keeps one stream open for the arguments of one file: neither may read another's bytes)
    real_arguments = replay.run_arguments
    for bad in (lambda a: a.rsplit("@", 1)[0] + "@999999:" + a.rsplit(":", 1)[1],
                lambda a: a.replace("init_arguments.dat@", "missing.dat@")):
        def arguments(*args, bad=bad):
            out = real_arguments(*args)
            last = max(i for i, a in enumerate(out) if "@" in a)
            return out[:last] + [bad(out[last])] + out[last + 1:]

        monkeypatch.setattr(replay, "run_arguments", arguments)
        with replay.scratch() as folder, pytest.raises(RuntimeError, match="exit status 1"):
            real_run(manifest, folder, seed, learned, timed)
    monkeypatch.setattr(replay, "run_arguments", real_arguments)


def test_a_relative_scratch_folder_is_made_absolute(monkeypatch, tmp_path):
    """The binary runs in its build folder: a relative BRIANLEARN_SCRATCH must not be read from there."""
    monkeypatch.chdir(tmp_path)
    os.mkdir("runs")
    monkeypatch.setenv("BRIANLEARN_SCRATCH", "runs")
    with replay.scratch() as folder:
        assert os.path.isabs(folder) and os.path.dirname(folder) == str(tmp_path / "runs")
