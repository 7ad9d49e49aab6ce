"""Fork servers of replayed builds (`brianlearn.forkserver`, `codepatch.patch_fork_server`): a
served run gives what a started binary gives, a failed run fails the same way and the server
goes on, a replaced binary gets a new server, and servers end with their client."""

import os

import numpy as np
import pytest

from brianlearn import codepatch, forkserver
import test_replay
from test_replay import _run, _same

cache, use_cache = test_replay.cache, test_replay.use_cache  # (its fixtures)

pytestmark = pytest.mark.cpp_standalone


@pytest.fixture
def served(monkeypatch):
    """Record what `forkserver.run` answers (None: not served)."""
    answers = []
    real = forkserver.run

    def spy(*args, **kwds):
        answers.append(real(*args, **kwds))
        return answers[-1]

    monkeypatch.setattr(forkserver, "run", spy)
    forkserver.close_all()  # (a server per environment: those of other tests' environments go)
    yield answers
    forkserver.close_all()


def _servers(directory):
    return [s for k, s in forkserver._SERVERS.items() if k[0] == os.path.abspath(directory)]


def test_a_served_run_equals_a_started_one(use_cache, monkeypatch, served):
    X = np.random.default_rng(4).uniform(0, 1, (6, 3))
    monkeypatch.setenv(forkserver.SWITCH, "0")
    monkeypatch.setenv(codepatch.SERVE_VARIABLE, "9")  # (a user's value is not handed to the binary)
    _run(X=X, monkeypatch=monkeypatch)  # (generated, or replayed from an earlier test)
    p, started = _run(X=X, monkeypatch=monkeypatch)
    assert p.build_info_.replayed and served and all(a is None for a in served)
    served.clear()
    monkeypatch.setenv(forkserver.SWITCH, "1")
    for _ in range(2):
        p, again = _run(X=X, monkeypatch=monkeypatch)
        _same(started, again)
    assert served and all(a == 0 for a in served)
    assert codepatch.serves(p.build_info_.directory) and len(_servers(p.build_info_.directory)) == 1


def test_a_failed_served_run_fails_and_the_server_goes_on(use_cache, monkeypatch, served, tmp_path):
    monkeypatch.setenv(forkserver.SWITCH, "1")
    p, reference = _run(monkeypatch=monkeypatch)
    directory = p.build_info_.directory
    (server,) = _servers(directory)
    env = dict(os.environ)
    out = str(tmp_path / "stdout.txt")
    # a run argument of an unknown variable: Brian2's binary reports it and exits with status 1
    code = forkserver.run(["./main", "--results_dir", str(tmp_path) + "/", "no_such.variable=1"], directory, env, {}, out)
    assert code == 1
    assert server.process.poll() is None
    p, again = _run(monkeypatch=monkeypatch)
    _same(reference, again)
    assert _servers(directory) == [server] and served[-1] == 0


def test_a_replaced_binary_gets_a_new_server_and_servers_end_with_their_client(use_cache, monkeypatch, served):
    monkeypatch.setenv(forkserver.SWITCH, "1")
    p, reference = _run(monkeypatch=monkeypatch)
    directory = p.build_info_.directory
    (old,) = _servers(directory)
    binary = os.path.join(directory, "main")
    stat = os.stat(binary)
    os.utime(binary, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))  # (what a new link of 'main' changes)
    _, again = _run(monkeypatch=monkeypatch)
    _same(reference, again)
    (new,) = _servers(directory)
    assert new is not old and old.process.returncode == 0
    forkserver.close_all()
    assert new.process.returncode == 0 and not forkserver._SERVERS


def test_the_server_patch_keeps_brian2s_main_and_is_applied_once(tmp_path):
    main = tmp_path / "main.cpp"
    main.write_text("#include <x>\n\nint main(int argc, char **argv)\n{\n\treturn 0;\n}\n")
    assert codepatch.patch_fork_server(str(tmp_path)) and codepatch.serves(str(tmp_path))
    text = main.read_text()
    assert "\nstatic int _bl_main(int argc, char **argv)\n{\n\treturn 0;\n}\n" in text
    assert text.count("int main(int argc, char **argv)") == 1 and "return _bl_main(argc, argv);" in text
    assert not codepatch.patch_fork_server(str(tmp_path)) and main.read_text() == text


def test_an_interrupted_request_does_not_answer_the_next(use_cache, monkeypatch, served):
    """A KeyboardInterrupt while a child runs leaves that child's answer in the pipe: the server is
    closed, and the next run gets a new one and its own results."""
    monkeypatch.setenv(forkserver.SWITCH, "1")
    p, reference = _run(monkeypatch=monkeypatch)
    directory = p.build_info_.directory
    (old,) = _servers(directory)
    real = old.replies.readline
    calls = []

    def interrupted():
        calls.append(real())  # (the child's answer arrives, then the user interrupts)
        raise KeyboardInterrupt

    monkeypatch.setattr(old.replies, "readline", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch=monkeypatch)
    assert calls == [b"0\n"] and _servers(directory) == []
    assert old.process.wait(timeout=10) == 0
    _, again = _run(monkeypatch=monkeypatch)
    _same(reference, again)
    (new,) = _servers(directory)
    assert new is not old and served[-1] == 0
