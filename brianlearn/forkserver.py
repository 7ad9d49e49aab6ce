"""
Fork servers of cached builds: a replayed chunk without starting a new process.

A replayed run (`brianlearn.replay.run`) used to start the build's binary once per chunk. The
generated ``main`` is patched (`brianlearn.codepatch.patch_fork_server`, one of `brianlearn.codepatch.patch_generated`'s
changes) so that, started once with `~brianlearn.codepatch.SERVE_VARIABLE` set, it reads one request per run and forks a
child that runs the generated main as a new process of the binary would (the same arguments,
environment and standard output). A run then costs a fork instead of a process start, dynamic
linking and Python's ``subprocess``. Measured here (Equilibrium Propagation, 20 units, 10 samples
per run, the binary alone, results in ``/dev/shm``, 200 runs each, alternating): started as a
process min 1.55-1.61 ms, median 2.24-2.35 ms; served min 0.83-0.84 ms, median 1.02-1.30 ms.
The server forks ahead (a spare child waits for the next request while the current one runs,
and a child answers before it exits): a program that only returns, 500 runs, min / median
0.47-0.50 / 0.61-0.67 ms forked per request, 0.24 / 0.41-0.52 ms forked ahead (1.29 / 1.78 ms
started); the EP chunk above, in a fit of 1 000 samples in 100 chunks, waits 1.09 ms for its
answer instead of 1.36 ms (2.25 instead of 2.7 ms per chunk in all).

One server per build folder, binary (its inode, size and modification time), environment and
process, at most `MAX_SERVERS` (an idle one is closed first; one in use is never closed under its
client); a server whose binary was replaced is closed. Servers are used on Linux only, where a
child is killed with its server (``PR_SET_PDEATHSIG``). A run falls back to starting the binary
where the build has no server, where another thread of this process is using the server, where
the run shows its output, where a request field cannot be sent (empty, or holding a NUL), or
where ``BRIANLEARN_FORK_SERVER=0``. A server that ends without answering is killed (and so its
child) and not used again; one whose request was interrupted (a KeyboardInterrupt while its
child ran) is killed with its child, as ``subprocess`` kills a started binary, and the next run
starts another. A process forked from this one (``os.fork``, ``multiprocessing``) closes its
copies of the servers' pipes at once and starts its own servers. Servers end when this process
closes their input (at exit at the latest).
"""

import atexit
import os
import subprocess
import sys
import threading

from .buildcache import file_signature
from .codepatch import SERVE_VARIABLE, serves

__all__ = ["run", "open_session", "Session", "Gone", "close_all", "MAX_SERVERS", "SWITCH"]

#: servers kept at once (the oldest is closed first)
MAX_SERVERS = 8
#: the environment variable that turns the servers off (``0``)
SWITCH = "BRIANLEARN_FORK_SERVER"

_SERVERS = {}  # key -> _Server, oldest first
_BROKEN = set()  # keys of servers that ended without answering
_LOCK = threading.Lock()
_SERVES = {}  # (directory, binary stat) -> whether its main.cpp has the server


class Gone(Exception):
    """The server ended without answering (it is not used again)."""


class _Server:
    def __init__(self, command, directory, env):
        read, write = os.pipe()
        try:
            self.process = subprocess.Popen(command, cwd=directory, env=dict(env, **{SERVE_VARIABLE: str(write)}),
                                            stdin=subprocess.PIPE, pass_fds=(write,))
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self.replies = os.fdopen(read, "rb")
        self.lock = threading.Lock()
        self.pid = os.getpid()

    def send(self, request):
        """Send ``request`` (`_request`); its answer comes in the order of the requests."""
        try:
            self.process.stdin.write(request)
            self.process.stdin.flush()
        except (OSError, ValueError):
            raise Gone() from None

    def answer(self):
        """The exit status of the child that ran the oldest request not yet answered."""
        try:
            line = self.replies.readline()
        except (OSError, ValueError):
            raise Gone() from None
        if not line.endswith(b"\n"):
            raise Gone()
        return int(line)

    def close(self, wait=True):
        """Close the server's input (it ends after its current child) and, with ``wait``, wait
        for it (5 s, then it is killed)."""
        for f in (self.process.stdin, self.replies):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        if not wait:
            return
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def forget(self):
        """In a process forked from the client: its copies of the pipes become ``/dev/null``, so
        the server sees the end of its input when the client closes it, and nothing buffered
        here reaches it."""
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for f in (self.process.stdin, self.replies):
                try:
                    os.dup2(null, f.fileno())
                except (OSError, ValueError):
                    pass
        finally:
            os.close(null)

    def kill(self):
        """Kill the server (on Linux its child too: `brianlearn.servercode`) and wait for it."""
        self.close(wait=False)
        self.process.kill()
        self.process.wait()


def _has_server(directory, binary):
    key = (directory, binary)
    if key not in _SERVES:
        _SERVES[key] = serves(directory)
    return _SERVES[key]


def _server(command, directory, env, binary):
    """The server of this build, binary and environment for this process (started if needed),
    or None."""
    key = (os.path.abspath(directory), binary, tuple(sorted(env.items())), tuple(command), os.getpid())
    closing = []
    try:
        with _LOCK:
            if key in _BROKEN:
                return None
            server = _SERVERS.get(key)
            if server is None:
                replaced = [k for k in _SERVERS if k[0] == key[0] and k[1] != binary]
                closing += [_SERVERS.pop(k) for k in replaced if _SERVERS[k].lock.acquire(blocking=False)]
                for k in list(_SERVERS):  # (the oldest idle ones, while there are too many)
                    if len(_SERVERS) < MAX_SERVERS:
                        break
                    if _SERVERS[k].lock.acquire(blocking=False):
                        closing.append(_SERVERS.pop(k))
                try:
                    server = _SERVERS[key] = _Server(command, directory, env)
                except OSError:
                    _BROKEN.add(key)
                    return None
            return server, key
    finally:
        for old in closing:  # (their locks stay held: a thread that found one before starts the binary)
            old.close()


def run(command, directory, env, settings, stdout):
    """Run ``command`` (the build's binary and its arguments) in ``directory`` with the
    environment ``env`` updated by ``settings`` (the values that change from run to run), its
    standard output written to the file ``stdout``; returns its exit status, or None where no
    server takes the run (the caller starts the binary itself)."""
    session = open_session(command[:1], directory, env)
    if session is None:
        return None
    try:
        with session:
            if not session.send(command[1:], settings, stdout):
                return None
            return session.answer()
    except Gone:  # (it ended: the caller starts the binary in the same folder; its child is gone)
        return None


class Session:
    """The fork server of one build held by this thread for a sequence of requests (`open_session`);
    use as a context manager. Requests run one after the other, in the order they are sent, and
    a request may be sent before the answer to the one before (`brianlearn.chain`). Where the
    block ends with requests not answered (an exception, e.g. KeyboardInterrupt while a child
    runs), the server is killed with its child (like ``subprocess.call``, which kills a started
    binary on KeyboardInterrupt: an answer left in the pipe would otherwise answer the next
    request); where it ended without answering (`Gone`), it is not used again. With every request
    answered it stays for the next session."""

    def __init__(self, server, key):
        self.server, self.key, self.waiting = server, key, 0

    def send(self, arguments, settings, stdout):
        """Send one run of the binary (``arguments``: its command line after ``./main``); False
        where it cannot be sent (an empty field or a NUL: the caller starts the binary)."""
        request = _request(stdout, settings, arguments)
        if request is None:
            return False
        self.waiting += 1
        self.server.send(request)
        return True

    def answer(self):
        """The exit status of the oldest run sent and not yet answered."""
        code = self.server.answer()
        self.waiting -= 1
        return code

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        try:
            # (with every request answered the server is idle whatever ended the block, e.g. the
            # GeneratorExit of a chain closed after its last answer: it stays; a Gone always has one waiting)
            if self.waiting:
                _drop(self.key, self.server, broken=isinstance(value, Gone))
                self.server.kill()
        finally:
            self.server.lock.release()


def open_session(command, directory, env):
    """A `Session` with the fork server of the build in ``directory`` (``command``: the binary,
    ``["./main"]``) for the environment ``env``, started where needed; None where no server takes
    runs (see the module's text): the caller starts the binary itself."""
    if os.environ.get(SWITCH, "1") == "0" or not sys.platform.startswith("linux") or list(command) != ["./main"]:
        return None
    binary = file_signature(os.path.join(directory, "main"))
    if binary is None or not _has_server(directory, binary):
        return None
    found = _server(list(command), directory, env, binary)
    if found is None:
        return None
    server, key = found
    if not server.lock.acquire(blocking=False):  # (the key holds this process's pid)
        return None
    return Session(server, key)


def _request(stdout, settings, arguments):
    """The bytes of one request (`brianlearn.servercode`: its length, then NUL-terminated fields),
    or None where a field is empty or holds a NUL (the binary is started instead)."""
    fields = [stdout] + [f"{k}={v}" for k, v in settings.items()] + ["--"] + list(arguments)
    if any("\0" in f or not f for f in fields):
        return None
    body = b"".join(os.fsencode(f) + b"\0" for f in fields) + b"\0"
    return len(body).to_bytes(8, "little") + body


def _drop(key, server, broken):
    with _LOCK:
        if broken:
            _BROKEN.add(key)
        if _SERVERS.get(key) is server:
            del _SERVERS[key]


@atexit.register
def close_all():
    """End every server of this process."""
    with _LOCK:
        servers = [s for s in _SERVERS.values() if s.pid == os.getpid()]
        _SERVERS.clear()
    for server in servers:
        server.close()


def _forget_in_child():
    """In a process forked from this one: its copies of the servers' pipes become ``/dev/null``
    (`_Server.forget`; else a server would not see its end of input while the fork lives), it
    keeps no server, and a new lock replaces one a thread may have held."""
    global _LOCK
    _LOCK = threading.Lock()
    for server in _SERVERS.values():
        server.forget()
    _SERVERS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
