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
import tempfile
import time
from dataclasses import dataclass

from brian2.utils.filelock import FileLock

__all__ = ["cache_root", "build_directory", "source_hash", "compile_cached", "BuildInfo",
           "BUILD_LOG", "running"]

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
    """

    directory: str
    source_hash: str
    compiled: bool
    seconds: float
    changed: tuple = ()
    replayed: bool = False


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


# Brian2 < 2.10 reads the processor clock in every time step of the generated network loop
# (removed in Brian2 2.10, brian-team/brian2#1718): the run time is taken once, after the loop
_PER_STEP_CLOCK = re.compile(
    r"(        clock = next_clocks\(\);\n)\s*current = std::clock\(\);\n"
    r"\s*elapsed_realtime = \(double\)\(current - start\)/\(1 \* CLOCKS_PER_SEC\);\n\s*(    \}\n)")

# Brian2's network loop (2.9 and 2.10) finds the clocks of each time step by rebuilding a
# std::set (a heap allocation per clock and step) and looks every object's clock up in it; with
# a few cheap code objects per step that is a large part of a step. The same schedule, kept in
# vectors: the clocks in the set's order, each object's clock as an index, the current ones as
# flags (`_FAST_SCHEDULE`); next_clocks' rule (the first clock of smallest t, and every clock
# whose time is the same) is kept, with Brian2 runtime's meaning of "the same" (`_SAME_TIME`). Without a report function, a step calls the list of
# its current clocks' functions in schedule order, rebuilt only when the current clocks change
# (`_FAST_OBJECTS`), instead of asking every object whether its clock is current.
# Two clocks are due in the same step when their times are "the same". Brian2's runtime network
# (Network._nextclocks) says so when they differ by less than Clock.epsilon_dt = 1e-4 of the
# smaller dt; its standalone loop (2.9 and 2.10) when they differ by at most Clock_epsilon =
# 1e-14 s, an absolute tolerance. Each clock's t is timestep * dt, and past t = 64 s one rounding
# unit of t is more than 1e-14 s, so there a 0.1 s clock and a 0.5 ms clock that meet part by a
# rounding unit and run in two steps (the end of a phase a step late, in ~1/4 of the phase ends
# between 64 s and 80 s). The standalone loop takes runtime's rule: the same schedule on both.
_SAME_TIME = re.compile(r"if\(s==t \|\| fabs\(s-t\)<=Clock_epsilon\)")
_SAME_TIME_RUNTIME = "if(_bl_same_time(s, t, _bl_tolerance(_bl_dt(clock), _bl_dt(minclock))))  // (brianlearn: runtime's rule)"
_EPSILON_DEFINE = "#define Clock_epsilon 1e-14\n"
_SAME_TIME_FUNCTIONS = """
// (brianlearn) Brian2 runtime's rule for two clocks at the same time (Clock.same_time): their
// times differ by less than 1e-4 of the smaller dt (of the one dt where one clock is an
// EventClock, which has none; two EventClocks: by less than Clock_epsilon)
template <class C> static inline double _bl_dt(C *clock)
{
    Clock *c = dynamic_cast<Clock*>(clock);
    return c ? c->dt[0] : 0.0;
}
static inline double _bl_tolerance(double ds, double dt)  // (the two clocks' dt; 0: an EventClock)
{
    const double d = (ds > 0 && dt > 0) ? fmin(ds, dt) : fmax(ds, dt);
    return d > 0 ? 1e-4*d : Clock_epsilon;
}
static inline bool _bl_same_time(double s, double t, double tolerance)
{
    return s == t || fabs(s - t) < tolerance;
}
"""
_FIRST_NEXT_CLOCKS = re.compile(r"\n(    )((?:Base)?Clock)\* clock = next_clocks\(\);\n")
_OBJECT_CLOCK_LOOKUP = "if (curclocks.find(obj_clock) != curclocks.end())"
_OBJECT_LOOP = re.compile(r"(\n(\s*)t = clock->t\[0\];\n\n)(\s*)(for\(size_t i=0; i<objects\.size\(\); i\+\+\)\n)")
_FAST_OBJECTS = r"""\1\3if(!report_func)  // (brianlearn) the same functions as the last step's, while its clocks are current
\3{
\3    if(_bl_changed)
\3    {
\3        _bl_funcs.clear();
\3        for(size_t i=0; i<objects.size(); i++)
\3            if(_bl_current[_bl_object_clock[i]] && objects[i].second)
\3                _bl_funcs.push_back(objects[i].second);
\3        _bl_changed = false;
\3    }
\3    for(size_t k=0; k<_bl_funcs.size(); k++)
\3        _bl_funcs[k]();
\3}
\3else
\3\4"""
_TICK_AND_NEXT = re.compile(
    r"for\(std::set<(?:Base)?Clock\*>::iterator i=curclocks\.begin\(\); i!=curclocks\.end\(\); i\+\+\)\n"
    r"(\s*)\(\*i\)->tick\(\);\n(\s*)clock = next_clocks\(\);\n")
_FAST_SCHEDULE = """
    // (brianlearn) the schedule in vectors instead of a std::set rebuilt in every step
    std::vector<{clock}*> _bl_clocks(clocks.begin(), clocks.end());
    std::vector<size_t> _bl_object_clock(objects.size(), 0);
    for(size_t i=0; i<objects.size(); i++)
        for(size_t c=0; c<_bl_clocks.size(); c++)
            if(_bl_clocks[c] == objects[i].first)
                _bl_object_clock[i] = c;
    const size_t _bl_n = _bl_clocks.size();
    std::vector<double> _bl_tol(_bl_n * _bl_n, 0.0);  // (each pair's tolerance, fixed within a run)
    for(size_t c=0; c<_bl_n; c++)
        for(size_t d=0; d<_bl_n; d++)
            _bl_tol[c*_bl_n + d] = _bl_tolerance(_bl_dt(_bl_clocks[c]), _bl_dt(_bl_clocks[d]));
    std::vector<char> _bl_current(_bl_clocks.size(), 0);
    bool _bl_changed = true;  // have the current clocks changed since _bl_funcs was made?
    std::vector<codeobj_func> _bl_funcs;  // the current clocks' functions, in schedule order
    auto _bl_next_clocks = [&]() -> {clock}*
    {{
        if(_bl_clocks.empty())
            return NULL;
        size_t m = 0;
        for(size_t c=1; c<_bl_clocks.size(); c++)
            if(_bl_clocks[c]->t[0] < _bl_clocks[m]->t[0])
                m = c;
        const double _bl_t = _bl_clocks[m]->t[0];
        for(size_t c=0; c<_bl_clocks.size(); c++)
        {{
            const char now = _bl_same_time(_bl_clocks[c]->t[0], _bl_t, _bl_tol[c*_bl_n + m]);
            if(now != _bl_current[c])
            {{
                _bl_current[c] = now;
                _bl_changed = true;
            }}
        }}
        return _bl_clocks[m];
    }};
    {clock}* clock = _bl_next_clocks();
"""


def patch_network_loop(directory):
    """Make the generated ``network.cpp``'s time-step loop cheaper, with the same schedule: the
    per-step ``std::clock()`` call of Brian2 2.9 is taken out (the run time is read once, after
    the loop), the clocks of each step are found without a ``std::set`` (`_FAST_SCHEDULE`), and a
    step calls its current clocks' functions from a list (`_FAST_OBJECTS`). Measured here with
    the thresholders patched (Spiking NSM, k = 64, 5 000 samples, the binary alone, min of 5):
    the list takes 1.25 s -> 1.11 s. Clocks are due together by Brian2 runtime's rule
    (`_SAME_TIME`), so runs longer than 64 s keep their schedule.
    brian2cuda's ``network.cu`` gets the same rule for its clocks (and nothing else).
    True when a file was changed; a file that is already patched, or whose loop does not look
    as expected, is left as it is."""
    cuda = _patch_file(os.path.join(directory, "network.cu"), lambda text: _runtime_clock_rule(text)[0])
    return _patch_file(os.path.join(directory, "network.cpp"), _faster_loop) or cuda


def _patch_file(path, change):
    """Apply ``change`` (text -> text) to the file at ``path``, if it exists; True if it changed."""
    if not os.path.exists(path):
        return False
    with open(path) as f:
        text = f.read()
    new = change(text)
    if new == text:
        return False
    with open(path, "w") as f:
        f.write(new)
    return True


def _runtime_clock_rule(text):
    """``(text, changed)``: Brian2 runtime's rule for clocks at the same time (`_SAME_TIME`)."""
    if text.count(_EPSILON_DEFINE) != 1 or len(_SAME_TIME.findall(text)) != 1:
        return text, False
    return _SAME_TIME.sub(_SAME_TIME_RUNTIME, text.replace(_EPSILON_DEFINE, _EPSILON_DEFINE + _SAME_TIME_FUNCTIONS)), True


def _faster_loop(text):
    """``network.cpp``'s text with the changes of `patch_network_loop`."""
    new, n = _PER_STEP_CLOCK.subn(
        r"\1\2    elapsed_realtime = (double)(std::clock() - start)/(1 * CLOCKS_PER_SEC);  // (brianlearn: once)\n",
        text)
    text = new if n == 1 else text
    text, _ = _runtime_clock_rule(text)
    if ("_bl_same_time(" in text and len(_FIRST_NEXT_CLOCKS.findall(text)) == 1 and text.count(_OBJECT_CLOCK_LOOKUP) == 1
            and len(_TICK_AND_NEXT.findall(text)) == 1 and len(_OBJECT_LOOP.findall(text)) == 1):
        text = _FIRST_NEXT_CLOCKS.sub(lambda m: _FAST_SCHEDULE.format(clock=m.group(2)), text)
        text = text.replace(_OBJECT_CLOCK_LOOKUP, "if (_bl_current[_bl_object_clock[i]])")
        text = _OBJECT_LOOP.sub(_FAST_OBJECTS, text)
        text = _TICK_AND_NEXT.sub(
            r"for(size_t c=0; c<_bl_clocks.size(); c++)\n\1if(_bl_current[c])\n\1    _bl_clocks[c]->tick();\n"
            r"\2clock = _bl_next_clocks();\n", text)
    return text


# Brian2's C++ standalone thresholder (templates/threshold.cpp) evaluates the condition of each
# neuron and appends the ones that cross to the spikespace, in one loop whose data-dependent store
# the compiler cannot vectorise. In most time steps no neuron crosses, so a first, read-only loop
# that only asks whether any does (a reduction the compiler vectorises) comes first, and the
# original loop runs only when one does (`patch_thresholders`).
_THRESHOLD_LOOP = re.compile(
    r"(?P<indent>[ \t]*)long _count = 0;\n"
    r"(?P<head>[ \t]*for\(size_t _idx=0; _idx<N; _idx\+\+\)\n[ \t]*\{\n"
    r"[ \t]*const size_t _vectorisation_idx = _idx;\n)"
    r"(?P<body>(?:[ \t]*(?:const )?[\w:]+ \w+(?: = [^;\n]+)?;\n"  # declarations,
    r"|[ \t]*if\(!?\w+\)\n|[ \t]*else ?\n|[ \t]*_cond = [^;\n]+;\n"  # a refractory neuron's condition,
    r"|[ \t]*\n)*)"
    r"(?P<cond>[ \t]*if\(_cond\) \{\n)")
#: a condition evaluated twice must give the same value and change nothing: no random numbers
_IMPURE = re.compile(r"\b_?rand|poisson|binomial|\+\+|--|\+=|-=")  # (rand also matches randn)


def patch_thresholders(directory):
    """Let the generated C++ standalone thresholders skip their spike loop in the time steps in
    which no neuron crosses its threshold: a read-only loop first computes whether any does
    (`_THRESHOLD_LOOP`). The spikes, and everything else, are the same; a condition with random
    numbers or side effects (`_IMPURE`), or a loop that does not look as expected, is left alone.
    Measured here (Spiking NSM, k = 64, 5 000 samples, the binary alone): 1.74 s -> 1.32 s.
    The first loop counts the crossing neurons in a ``long`` (a vectorised sum): an OR of the
    ``char`` conditions compiled into a chain of byte shuffles (AVX-512), and the count took the
    1 000-sample NSM binary from 163-174 ms to 159-161 ms of CPU (3 alternating rounds of 8 runs).
    Returns the number of thresholders changed."""
    folder = os.path.join(directory, "code_objects")
    if not os.path.isdir(folder):
        return 0
    changed = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith("thresholder_codeobject.cpp") or name.startswith("after_run_"):
            continue
        path = os.path.join(folder, name)
        with open(path) as f:
            text = f.read()
        matches = list(_THRESHOLD_LOOP.finditer(text))
        if len(matches) != 1 or "_bl_any" in text or _IMPURE.search(matches[0].group("body")):
            continue
        m = matches[0]
        ind, head, body = m.group("indent"), m.group("head"), m.group("body")
        inner = re.match(r"[ \t]*", m.group("cond")).group(0)
        check = (f"{ind}long _count = 0;\n{ind}long _bl_any = 0;  // (brianlearn) how many neurons cross?\n"
                 f"{head}{body}{inner}_bl_any += _cond;\n{ind}}}\n{ind}if(_bl_any)\n{head}{body}{m.group('cond')}")
        with open(path, "w") as f:
            f.write(text[:m.start()] + check + text[m.end():])
        changed += 1
    return changed


#: what `faster_makefile` appends to Brian2's C++ standalone makefile
_PCH_RULES = """
# (brianlearn) objects.h, which every code object includes first, is parsed once as a precompiled
# header (-include uses it; the object files are byte-identical to those compiled without it), and
# each object's dependencies are written while it compiles (-MMD) instead of by a serial pass first
PCH_OBJS = $(filter code_objects/%.o main.o network.o run.o,$(OBJS))
objects.h.gch: objects.h synapses_classes.h network.h $(wildcard brianlib/*.h) makefile
\t$(CXX) $(CXXFLAGS) -x c++-header objects.h -o objects.h.gch
$(PCH_OBJS): %.o : %.cpp makefile | objects.h.gch
\t$(CXX) $(CXXFLAGS) -include objects.h $< -o $@
-include $(OBJS:.o=.d)
# (brianlearn) the C++ runtime linked statically where the compiler has its archive: the binary
# starts ~1 ms sooner (no dynamic symbol lookups in libstdc++), a part of every run's fixed cost
LFLAGS += $(if $(wildcard $(shell $(CXX) -print-file-name=libstdc++.a)),-static-libstdc++ -static-libgcc)
"""
_PCH_MARK = "# (brianlearn) objects.h"
_CPP_RULE = "%.o : %.cpp makefile\n\t$(CXX) $(CXXFLAGS) $< -o $@"
_DEPS_RULE = "make.deps: $(SRCS) $(H_SRCS)\n\t$(CXX) $(CXXFLAGS) -MM $(SRCS) > make.deps"
_CXXFLAGS = re.compile(r"^(CXXFLAGS = .*?)\s*$", re.M)


def faster_makefile(directory):
    """Make Brian2's C++ standalone makefile compile the same objects in about half the time.

    Brian2 compiles each code object separately, and parsing ``objects.h`` (the declarations of
    every array, with ``<vector>``, ``<random>`` and the brianlib headers) is most of each file's
    compile time: about 1 s of 1.2 s per code object here. Two changes:

    - ``objects.h`` is compiled once as a precompiled header that every code object (and
      ``main``, ``network``, ``run``) uses through ``-include``; a file then compiles in about
      0.35 s. The object files are byte-identical. The header is an order-only prerequisite.
    - Brian2 first runs the preprocessor over every source in one serial pass to write
      ``make.deps`` (2 s for the demo, 5 s for the LIF network, before anything compiles); here
      each object writes its own dependency file while it compiles (``-MMD -MP``). The targets
      in those files also carry the ``code_objects/`` folder, which Brian2's ``make.deps`` omits,
      so an object is rebuilt when a header it includes changes.

    Measured here (2 cores, ``make -j2``, same generated project): the demo network's make
    18 s -> 10 s, the LIF equilibrium-propagation network's (54 code objects) 38-39 s -> 17 s.
    Where the compiler has ``libstdc++.a``, the C++ runtime is linked statically: the rate EP
    binary (50 samples) ran in 2.5 ms instead of 3.6 ms, mostly the dynamic linker's symbol
    lookups saved (a replayed run starts the binary once per chunk).
    Only Brian2's C++ standalone makefile is changed (brian2cuda's is left alone); True when it was.
    """
    path = os.path.join(directory, "makefile")
    if not os.path.exists(path) or not os.path.exists(os.path.join(directory, "objects.h")):
        return False
    with open(path) as f:
        text = f.read()
    if _PCH_MARK in text or _CPP_RULE not in text or _DEPS_RULE not in text or not _CXXFLAGS.search(text):
        return False
    text = text.replace(_DEPS_RULE, "make.deps: makefile\n\techo '# (brianlearn: dependencies in *.d)' > make.deps")
    text = _CXXFLAGS.sub(lambda m: m.group(1) + " -MMD -MP", text, count=1)
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n" + _PCH_RULES)
    return True


def patch_generated(directory):
    """Apply every change brianlearn makes to a generated C++ standalone project, in order:
    `patch_network_loop`, `patch_thresholders` and `faster_makefile`. Used by `compile_cached`
    and by `brianlearn.export.export_project`, so an exported project runs the same code as a
    cached build. Returns a dict of what each step changed."""
    return {"network_loop": patch_network_loop(directory),
            "thresholders": patch_thresholders(directory),
            "makefile": faster_makefile(directory)}


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


def _seed(source, directory):
    """Copy the build of ``source`` (sources, objects, binary; time stamps kept) into ``directory``,
    without its runs' results and data files, so that ``make`` there rebuilds only what differs."""
    for rel in _walk(source):
        top = rel.split(os.sep)[0]
        if top.startswith(("results", "static_arrays", ".")):
            continue
        dst = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(source, rel), dst)


def compile_cached(device, directory, force=False):
    """Generate the project and compile it into the build folder of its digest, unless it holds a build.

    ``device`` is the active Brian2 standalone device with its network already run
    (``build_on_run=False``); ``directory`` is the key folder of `build_directory`: the build
    goes to ``<directory>-<digest>`` (module docstring). Safe under concurrency (processes or
    Dask workers on one machine): the project is generated into a private staging folder and
    hashed there; under the build folder's lock, a cached build only renews its data files
    (atomically: a run starting at that moment reads the old file or the new one), and a new one
    is compiled once while the others wait for it and then reuse it.
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
            seconds, changed = 0.0, ()
            if cached:
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
    info = BuildInfo(target, digest, not cached, seconds, changed)
    BUILD_LOG.append(info)
    return info
