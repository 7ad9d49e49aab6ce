"""
Compile once: standalone build folders cached by a hash of the generated network.

A build folder belongs to one network: its name is the protocol's label, the device, a key made
from the protocol's configuration, the Brian2 version and the CPU (Brian2 compiles with
``-march=native``, so binaries are not portable), and a digest of the generated sources and
makefile. Brian2 generates the project into a private staging folder; it is hashed there, and
if the folder of that digest holds a successful build its binary runs with no compilation. A
new digest (an edited model, say) gets a new folder, seeded from the last build of the same key
so that ``make`` recompiles only the changed code objects. So an unchanged network is never
recompiled, in the same process or a later one; a changed network never runs a stale binary;
going back to an earlier version finds its build again; and two different networks never write
into one folder, even when processes build them at the same moment.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass

from brian2.utils.filelock import FileLock

from .codepatch import STATIC_ARRAYS, patch_generated, reads_static_folder

__all__ = ["cache_root", "build_directory", "source_hash", "compile_cached", "BuildInfo",
           "BUILD_LOG", "running", "file_signature"]

_STAMP = ".brianlearn_build"
_RUN_LOCK = ".runs.lock"
_SOURCE_SUFFIXES = (".cpp", ".h", ".c", ".cu", ".cuh", ".hpp")


@dataclass
class BuildInfo:
    """What `compile_cached` did.

    Attributes
    ----------
    directory : str
        The build folder (the key folder of `build_directory` and the digest).
    source_hash : str
        Hash of the generated sources and makefile.
    compiled : bool
        Whether the compiler ran (``False``: the cached binary was reused).
    seconds : float
        Time spent compiling (0 when cached).
    changed : tuple of str
        Why the compiler ran: the generated files whose (normalised) content differs from the
        last successful build of the same key (whose folder seeded this one), or a reason such
        as ``"no previous build"``.
    replayed : bool
        Whether the network ran this build without generating its code (`brianlearn.replay`).
    static_arrays : str
        The folder (relative to ``directory``) of this run's static arrays: `STATIC_ARRAYS`, or
        this process's own folder where its static arrays differ from the build folder's.
    """

    directory: str
    source_hash: str
    compiled: bool
    seconds: float
    changed: tuple = ()
    replayed: bool = False
    static_arrays: str = STATIC_ARRAYS


#: Every build of this process, in order (tests assert on it)
BUILD_LOG = []


def cache_root(directory=None):
    """Root folder of the build cache (``directory``, ``$BRIANLEARN_CACHE`` or ``~/.cache/brianlearn``)."""
    root = directory or os.environ.get("BRIANLEARN_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "brianlearn")
    os.makedirs(root, exist_ok=True)
    return root


def _cpu_id():
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "flags")):
                    model += line
    except OSError:
        pass
    return hashlib.sha1((platform.machine() + model).encode()).hexdigest()[:12]


def build_directory(label, config, device_name, root=None):
    """The key folder of a network described by ``config`` (a JSON-serialisable dict): its builds
    go to ``<key folder>-<digest of the generated project>`` (`compile_cached`)."""
    import brian2

    payload = json.dumps({"config": config, "device": device_name, "brian2": brian2.__version__,
                          "cpu": _cpu_id()}, sort_keys=True, default=str)
    key = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return os.path.join(cache_root(root), f"{label}-{device_name}-{key}")


#: lines whose order Brian2 (or brian2cuda) takes from iterating over a set of clocks, and whose
#: order does not matter: clock initialisations, brian2cuda's per-clock random-number refills
#: (the same function, at the same time) and clock declarations
_UNORDERED_LINE = re.compile(r"^\s*(_array_\w+_(dt|t|timestep)\[0\] = [^;]+;"
                             r"|\w+\.add\(&\w+, _run_random_number_buffer\);"
                             r"|(extern )?Clock \w+;[^\n]*)\s*$")
_CODEOBJECT_SUFFIX = re.compile(r"(_codeobject)_\d+\b")
#: brian2cuda's synapse creation resizes every synaptic array, each in one block of four lines;
#: two variables of one name (the ``delay`` of two pathways) come in set order
_RESIZE_BLOCK = r"[ \t]*THRUST_CHECK_ERROR\(\n\s*dev\w+\.resize\(newsize\)\n\s*\);\n\s*\w+\.resize\(newsize\);\n"
_RESIZE_RUN = re.compile(f"(?:{_RESIZE_BLOCK}){{2,}}")


def _normalised(text):
    """Generated code with the incidental differences between two builds of one network
    removed: code-object names that Brian2 numbered to avoid clashes with other live objects
    (``..._codeobject_1``), and the order within runs of lines (`_UNORDERED_LINE`) and of
    brian2cuda's array-resizing blocks (`_RESIZE_BLOCK`) that come in set-iteration order."""
    text = _CODEOBJECT_SUFFIX.sub(r"\1", text)
    text = _RESIZE_RUN.sub(lambda m: "".join(sorted(re.findall(_RESIZE_BLOCK, m.group(0)))), text)
    out, run = [], []
    for line in text.split("\n") + [None]:
        if line is not None and _UNORDERED_LINE.match(line):
            run.append(line.strip())
            continue
        out.extend(sorted(run))
        run = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def _project_files(directory):
    """The files a build uses: the makefile and its SRCS and H_SRCS (stale files are ignored)."""
    makefile = os.path.join(directory, "makefile")
    if not os.path.exists(makefile):
        return sorted(os.path.relpath(os.path.join(b, f), directory)
                      for b, _, files in os.walk(directory) for f in files if f.endswith(_SOURCE_SUFFIXES))
    files = ["makefile"]
    with open(makefile) as f:
        for line in f:
            if line.startswith(("SRCS =", "H_SRCS =")):
                files += line.split("=", 1)[1].split()
    return files


def _file_hashes(directory):
    """``{normalised file name: SHA-256 of its normalised content}`` for the project's files."""
    hashes = {}
    for rel in _project_files(directory):
        with open(os.path.join(directory, rel), "rb") as f:
            content = f.read().decode(errors="replace")
        hashes[_normalised(rel)] = hashlib.sha256(_normalised(content).encode()).hexdigest()
    return hashes


def _digest(file_hashes):
    h = hashlib.sha256()
    for rel in sorted(file_hashes):
        h.update(rel.encode())
        h.update(file_hashes[rel].encode())
    return h.hexdigest()


def source_hash(directory):
    """SHA-256 over a build folder's makefile and the sources it compiles, normalised."""
    return _digest(_file_hashes(directory))


def file_signature(path):
    """``(inode, size, modification time)`` of the file at ``path``, or None where there is none:
    a file replaced, rewritten or touched has another."""
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (s.st_ino, s.st_size, s.st_mtime_ns)


def _read_stamp(path):
    """The last successful build's ``{"digest", "files"}``, or None."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _changes(previous, files):
    if previous is None:
        return ("no previous build",)
    old = previous.get("files", {})
    changed = sorted(f for f in set(old) | set(files) if old.get(f) != files.get(f))
    return tuple(changed) or ("binary missing",)


def _walk(directory):
    """Relative paths of every file below ``directory``."""
    return sorted(os.path.relpath(os.path.join(base, f), directory)
                  for base, _, files in os.walk(directory) for f in files)


def _same_bytes(a, b):
    if not os.path.exists(b) or os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def _move_in(staging, directory, only=None):
    """Move the generated files whose bytes differ from ``staging`` into ``directory``, each by
    an atomic rename (a binary starting in ``directory`` reads either the old file or the new
    one, never half of one; unchanged files keep their time stamps, so ``make`` recompiles only
    what changed); with ``only``, just the files below that sub-folder."""
    for rel in _walk(staging):
        if only is not None and not rel.startswith(only + os.sep):
            continue
        src, dst = os.path.join(staging, rel), os.path.join(directory, rel)
        if _same_bytes(src, dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.replace(src, dst)


@contextlib.contextmanager
def _folder_lock(directory, shared):
    """A lock on the build folder's binary: runs hold it shared, a recompilation exclusively."""
    fd = os.open(os.path.join(directory, _RUN_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # (releases the lock)


@contextlib.contextmanager
def running(directory):
    """Hold ``directory``'s binary for one run (several processes may run it at once; a
    recompilation waits for them). The block receives a function ``alone()`` that returns True
    when no other run holds the folder at that moment: only then may shared files (run-argument
    files other runs may be using) be deleted."""
    with _folder_lock(directory, shared=True) as fd:
        def alone():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False
            return True
        yield alone


def _latest_build(base, exclude):
    """The folder of the newest successful build of key folder ``base`` other than ``exclude``, or None."""
    parent, name = os.path.split(base)
    builds = []
    for entry in os.listdir(parent):
        path = os.path.join(parent, entry)
        if entry.startswith(name + "-") and path != exclude and os.path.exists(os.path.join(path, _STAMP)):
            builds.append((os.path.getmtime(os.path.join(path, _STAMP)), path))
    return max(builds)[1] if builds else None


def own_folder(prefix):
    """The name of this process's folder ``prefix-HOST-PID`` in a build folder (its results,
    its static arrays); `prune_folders` removes those of ended processes."""
    return f"{prefix}-{socket.gethostname()}-{os.getpid()}"


def prune_folders(directory, prefixes=("results", "static")):
    """Remove the folders `own_folder` names in ``directory`` whose processes (of this machine) ended."""
    host = socket.gethostname()
    for name in os.listdir(directory):
        owner = name.split("-")
        if not (name.startswith(tuple(p + "-" for p in prefixes)) and len(owner) >= 3 and "-".join(owner[1:-1]) == host):
            continue
        try:
            os.kill(int(owner[-1]), 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)
        except PermissionError:  # (alive, another user's)
            pass


def _static_folder(staging, target):
    """Where a run of the cached build ``target`` reads the static arrays generated in ``staging``
    (relative to ``target``): `STATIC_ARRAYS` when the build folder's are the same bytes, else this
    process's own folder (`own_folder`), which gets them. No other process reads that folder, and
    (with ``own_static``, which every network of that build uses) the build folder's static
    arrays are not replaced after its build, so concurrent runs of one build with different
    static arrays (spike trains of a SpikeGeneratorGroup) each read their own."""
    src = os.path.join(staging, "static_arrays")
    names = sorted(n for n in os.listdir(src) if not n.startswith("init_")) if os.path.isdir(src) else []
    if all(_same_bytes(os.path.join(src, n), os.path.join(target, "static_arrays", n)) for n in names):
        return STATIC_ARRAYS
    own = own_folder("static")
    folder = os.path.join(target, own)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for n in names:
        os.replace(os.path.join(src, n), os.path.join(folder, n))
    return own + "/"


def _seed(source, directory):
    """Copy the build of ``source`` (sources, objects, binary; time stamps kept) into ``directory``,
    without its runs' results and data files, so that ``make`` there rebuilds only what differs."""
    for rel in _walk(source):
        top = rel.split(os.sep)[0]
        if top.startswith(("results", "static_arrays", "static-", ".")):
            continue
        dst = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(source, rel), dst)


def compile_cached(device, directory, force=False, own_static=False):
    """Generate the project and compile it into the build folder of its digest, unless it holds a build.

    ``device`` is the active Brian2 standalone device with its network already run
    (``build_on_run=False``); ``directory`` is the key folder of `build_directory`: the build
    goes to ``<directory>-<digest>`` (module docstring). Safe under concurrency (processes or
    Dask workers on one machine): the project is generated into a private staging folder and
    hashed there; under the build folder's lock, a cached build only renews its data files
    (atomically: a run starting at that moment reads the old file or the new one), and a new one
    is compiled once while the others wait for it and then reuse it.

    ``own_static``: the network's static arrays are data of each run (a SpikeGeneratorGroup's
    spikes): a cached build whose static arrays differ does not renew the build folder's (a
    concurrent run of another process would read them) but gives them to this run in its
    process's own folder (`BuildInfo.static_arrays`; a build that reads them from there).
    Without it (the protocols: their static arrays are fixed by the configuration, their data
    comes as run arguments) the build folder's are renewed, and a replay manifest (`brianlearn.replay`)
    can refer to them.
    """
    from brian2.codegen.cpp_prefs import get_compiler_and_args

    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".generate-", dir=parent)
    target = directory
    try:
        device.build(directory=staging, compile=False, run=False)
        patch_generated(staging)
        files = _file_hashes(staging)
        digest = _digest(files)
        target = f"{directory}-{digest[:12]}"
        os.makedirs(target, exist_ok=True)
        stamp = os.path.join(target, _STAMP)
        with FileLock(os.path.join(target, ".lock")):
            previous = _read_stamp(stamp)
            cached = (not force and previous is not None and os.path.exists(os.path.join(target, "main"))
                      and previous.get("digest") == digest)
            seconds, changed, static = 0.0, (), STATIC_ARRAYS
            if cached and own_static and reads_static_folder(target):
                static = _static_folder(staging, target)
            elif cached:
                _move_in(staging, target, only="static_arrays")
            else:
                with _folder_lock(target, shared=False):  # (a forced rebuild waits for running binaries)
                    if os.path.exists(stamp):
                        os.remove(stamp)
                    source = None if force or previous is not None else _latest_build(directory, target)
                    if source is not None:
                        _seed(source, target)
                        previous = _read_stamp(os.path.join(source, _STAMP))
                    changed = ("forced",) if force else _changes(previous, files)
                    _move_in(staging, target)
                    compiler, _ = get_compiler_and_args()
                    start = time.time()
                    device.compile_source(target, compiler, debug=False, clean=False)
                    seconds = time.time() - start
                    with contextlib.suppress(FileNotFoundError):  # (45 MB; rebuilt when needed)
                        os.remove(os.path.join(target, "objects.h.gch"))
                    with open(stamp, "w") as f:
                        json.dump({"digest": digest, "files": files}, f, indent=0, sort_keys=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        device.project_dir = target  # (runs, run-argument files and results live here)
    info = BuildInfo(target, digest, not cached, seconds, changed, static_arrays=static)
    BUILD_LOG.append(info)
    return info
