"""Fork servers of replayed builds (`brianlearn.forkserver`, `codepatch.patch_fork_server`): a
served run gives what a started binary gives, a failed run fails the same way and the server
goes on, a replaced binary gets a new server, and servers end with their client."""

import os
import sys

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
    killed, and the next run gets a new one and its own results."""
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
    assert old.process.wait(timeout=10) == -9
    _, again = _run(monkeypatch=monkeypatch)
    _same(reference, again)
    (new,) = _servers(directory)
    assert new is not old and served[-1] == 0


_TINY = """#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

int main(int argc, char **argv)
{
\tif (argc > 1 && !std::strcmp(argv[1], "abort"))
\t\tstd::abort();
\tif (argc > 1) {
\t\tFILE *f = std::fopen(argv[1], "w");
\t\tstd::fprintf(f, "%d", (int)getpid());
\t\tstd::fclose(f);
\t\tsleep(60);
\t}
\treturn 0;
}
"""


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A small program with the fork server (no Brian2 build): with the argument ``abort`` it
    aborts, with another it writes its pid there and sleeps for a minute, without one it ends."""
    import shutil
    import subprocess

    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler")
    if not sys.platform.startswith("linux"):
        pytest.skip("fork servers are used on Linux only (a child dies with its server there)")
    (tmp_path / "main.cpp").write_text(_TINY)
    assert codepatch.patch_fork_server(str(tmp_path))
    subprocess.run([compiler, "-O1", "main.cpp", "-o", "main"], cwd=tmp_path, check=True)
    monkeypatch.setenv(forkserver.SWITCH, "1")
    forkserver.close_all()
    yield str(tmp_path)
    forkserver.close_all()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


def _tiny_run(directory, *arguments, env=None):
    return forkserver.run(["./main", *arguments], directory, dict(os.environ) if env is None else env, {},
                          os.path.join(directory, "stdout.txt"))


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")
def test_an_interrupted_run_kills_its_child(tiny):
    """Like subprocess.call, which kills a started binary on KeyboardInterrupt: the served child
    is killed with its server, so nothing writes into the scratch folder after the interrupt."""
    import signal
    import threading
    import time

    pidfile = os.path.join(tiny, "child.pid")

    def interrupt():
        for _ in range(1000):
            if os.path.exists(pidfile) and os.path.getsize(pidfile):
                break
            time.sleep(0.01)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    helper = threading.Thread(target=interrupt)
    helper.start()
    with pytest.raises(KeyboardInterrupt):
        _tiny_run(tiny, pidfile)
    helper.join()
    child = int(open(pidfile).read())
    assert not _servers(tiny)
    for _ in range(500):
        if not _alive(child):
            break
        time.sleep(0.01)
    assert not _alive(child)


def test_a_fork_of_the_client_leaves_the_servers_to_it(tiny):
    """A process forked from the client (os.fork, multiprocessing) closes its copies of the
    servers' pipes: the client's close_all ends them at once, not when the fork ends."""
    import time
    import warnings

    assert _tiny_run(tiny) == 0
    (server,) = _servers(tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (fork of a process with threads)
        pid = os.fork()
    if pid == 0:
        time.sleep(3)
        os._exit(0 if not forkserver._SERVERS else 1)
    start = time.perf_counter()
    forkserver.close_all()
    took = time.perf_counter() - start
    _, status = os.waitpid(pid, 0)
    assert server.process.returncode == 0 and took < 2 and status == 0


def test_a_server_in_use_is_not_closed_to_make_room(tiny, monkeypatch):
    """With more servers than MAX_SERVERS the oldest idle ones go; one that a thread is using
    stays (closing it would break that run)."""
    monkeypatch.setattr(forkserver, "MAX_SERVERS", 1)
    envs = [dict(os.environ, BL_TEST_ENV=str(i)) for i in range(3)]  # (a server per environment)
    assert _tiny_run(tiny, env=envs[0]) == 0
    (first,) = _servers(tiny)
    first.lock.acquire()  # (in use)
    assert _tiny_run(tiny, env=envs[1]) == 0
    assert first.process.poll() is None and len(_servers(tiny)) == 2
    first.lock.release()
    assert _tiny_run(tiny, env=envs[2]) == 0
    assert first.process.returncode == 0 and len(_servers(tiny)) == 1


def test_a_request_that_cannot_be_sent_starts_the_binary(tiny):
    """An empty argument (or a NUL) cannot be sent: the run is not served and the server goes on."""
    assert _tiny_run(tiny) == 0
    (server,) = _servers(tiny)
    assert _tiny_run(tiny, "") is None
    assert _servers(tiny) == [server] and server.process.poll() is None and _tiny_run(tiny) == 0


def test_a_child_that_dies_is_answered_by_its_server(tiny):
    """A child answers once its main has returned; one killed by a signal cannot, and the server
    answers 128 + the signal, as a shell would, and goes on with a new spare child."""
    import signal

    assert _tiny_run(tiny) == 0
    (server,) = _servers(tiny)
    assert _tiny_run(tiny, "abort") == 128 + signal.SIGABRT
    assert _tiny_run(tiny) == 0 and _servers(tiny) == [server] and server.process.poll() is None
