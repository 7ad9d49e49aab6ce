"""Chained chunks (`brianlearn.chain`): a fit whose chunks are sent to the fork server before the
chunk before has answered gives exactly what a fit of one started binary per chunk gives; it
stops, resumes, fails and survives a dying server as such a fit does; and the static arrays a
replayed run does not read are the ones its run arguments replace."""

import glob
import json
import os

import numpy as np
import pytest

from brianlearn import forkserver, replay
import test_replay
from test_replay import Quiet, _run, _same

cache, use_cache = test_replay.cache, test_replay.use_cache  # (its fixtures)

pytestmark = pytest.mark.cpp_standalone

X = np.random.default_rng(7).uniform(0, 1, (10, 3))  # (5 chunks of 2)


@pytest.fixture
def calls(monkeypatch):
    """What the fork-server sessions did, in order: 'send' and 'answer'."""
    seen = []
    for name in ("send", "answer"):
        real = getattr(forkserver.Session, name)

        def spy(self, *args, _real=real, _name=name):
            out = _real(self, *args)
            seen.append(_name)
            return out

        monkeypatch.setattr(forkserver.Session, name, spy)
    monkeypatch.setattr(forkserver, "_BROKEN", set())  # (a test's dead server is not another's)
    forkserver.close_all()
    yield seen
    forkserver.close_all()


def _fit(monkeypatch, served=True):
    monkeypatch.setenv(forkserver.SWITCH, "1" if served else "0")
    return _run(X=X, monkeypatch=monkeypatch, chunk_size=2)


def test_a_chained_fit_equals_one_chunk_at_a_time(use_cache, monkeypatch, calls):
    _fit(monkeypatch)  # (generated, or replayed from an earlier test: the manifest exists after it)
    calls.clear()
    p, started = _fit(monkeypatch, served=False)
    assert p.build_info_.replayed and not calls
    p, chained = _fit(monkeypatch)
    _same(started, chained)
    # chained from chunk 1 (replayed): chunk c + 1 is sent before chunk c has answered
    assert calls[:3] == ["send", "send", "answer"] and calls.count("send") == calls.count("answer") == 5
    # the chain's generator is closed after its last answer: its server stays, idle, for the next fit
    # (it was killed, and every chained fit started a new one)
    servers = list(forkserver._SERVERS.values())
    assert len(servers) == 1 and servers[0].process.poll() is None and not servers[0].lock.locked()
    _, again = _fit(monkeypatch)
    _same(chained, again)
    assert list(forkserver._SERVERS.values()) == servers and servers[0].process.poll() is None


def test_a_chained_fit_stopped_and_resumed_equals_one_fit(use_cache, monkeypatch, calls, tmp_path):
    _fit(monkeypatch)
    _, whole = _fit(monkeypatch)
    checkpoint = str(tmp_path / "fit.npz")
    calls.clear()
    part = Quiet(device="cpp_standalone", seed=3, chunk_size=2).run_trials({"x": X}, checkpoint=checkpoint,
                                                                            max_chunks=3)
    assert part.info["chunks_done"] == 3 and Quiet.checkpoint_progress(checkpoint) == 3
    assert calls[:2] == ["send", "send"] and calls.count("send") == 3  # (chunks 1-3 chained, nothing more)
    rest = Quiet(device="cpp_standalone", seed=3, chunk_size=2).run_trials({"x": X}, checkpoint=checkpoint,
                                                                            resume=True)
    assert rest.info["complete"]
    _same(whole, rest)


def test_a_chunk_that_fails_fails_the_chained_fit_and_its_server_goes(use_cache, monkeypatch, calls):
    _fit(monkeypatch)
    _, reference = _fit(monkeypatch)
    real = replay.run_arguments
    made = []

    def third_fails(manifest, folder, seed, learned, timed, arguments=None):
        made.append(real(manifest, folder, seed, learned, timed, arguments))
        return made[-1] + (["no_such.variable=1"] if len(made) == 3 else [])  # (Brian2's binary: status 1)

    monkeypatch.setattr(replay, "run_arguments", third_fails)
    with pytest.raises(RuntimeError, match="exit status 1"):
        _fit(monkeypatch)
    assert len(made) == 4 and not forkserver._SERVERS  # (chunk 4 was sent: the server is killed with it)
    monkeypatch.setattr(replay, "run_arguments", real)
    _, again = _fit(monkeypatch)
    _same(reference, again)


def test_a_server_that_dies_in_a_chain_is_replaced_by_started_binaries(use_cache, monkeypatch, calls):
    _fit(monkeypatch)
    _, reference = _fit(monkeypatch, served=False)
    real = forkserver.Session.answer
    answers = []

    def dying(self):
        answers.append(1)
        if len(answers) == 3:  # (chunk 3's answer: the server ends, whatever it has answered)
            self.server.process.kill()
            self.server.process.wait()
        return real(self)

    monkeypatch.setattr(forkserver.Session, "answer", dying)
    _, got = _fit(monkeypatch)
    _same(reference, got)
    assert len(forkserver._BROKEN) == 1 and not forkserver._SERVERS


def test_the_static_arrays_a_replayed_run_skips_are_those_its_arguments_replace(use_cache, monkeypatch, calls):
    """A learned variable's static array is named as the build names it (a synaptic weight is a
    dynamic array: ``_static_array__dynamic_array_...``); a chained Equilibrium Propagation fit,
    whose weights are synapses, equals the fit of one started binary per chunk."""
    from brianlearn.datasets.regression import two_link_arm
    from brianlearn.protocols.eqprop import EquilibriumPropagation

    Xa, Ya = two_link_arm(200, seed=7)
    fits = {}
    for served in (False, True, True):
        monkeypatch.setenv(forkserver.SWITCH, "1" if served else "0")
        fits[served] = EquilibriumPropagation(seed=3, chunk_size=40, epochs=1).fit(Xa, Ya)
    for a, b in zip(fits[True].feedforward_ + fits[True].biases_, fits[False].feedforward_ + fits[False].biases_):
        np.testing.assert_array_equal(a, b)
    manifests = [json.load(open(f)) for f in glob.glob(os.path.join(use_cache, ".replay", "*.json"))]
    checked = 0
    for manifest in manifests:
        static = os.listdir(os.path.join(manifest["directory"], "static_arrays"))
        for entry in manifest["learned"].values():
            if entry["size"] > 1:
                assert entry["static"] in static, (entry, sorted(static))
                checked += entry["dynamic"]
        for name in manifest["timed"].values():
            assert name["file"] in static
    assert checked >= 3  # (EP's three weight matrices at least)
