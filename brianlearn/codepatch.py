"""
The changes brianlearn makes to a generated C++ standalone (or brian2cuda) project.

Each is a text change of Brian2's generated files with the same simulation: the network loop
(`patch_network_loop`: no per-step processor clock, the schedule in vectors, clocks due together
by Brian2 runtime's rule), the generated main (`patch_step_functions`: consecutive code objects of
one clock called as one function; `patch_fork_server`: a fork server of replayed
runs), the thresholders (`patch_thresholders`: a vectorised test first), the
static arrays (`patch_static_arrays`: read from a folder a run may name), the results
(`patch_results`: only the files a run names are written) and the makefile
(`faster_makefile`: a precompiled header, dependencies while compiling, the C++ runtime linked
statically). `patch_generated` applies them all, in `brianlearn.buildcache.compile_cached` and in
`brianlearn.export.export_project`. A file that does not look as expected is left as it is.
"""

import os
import re

from .argumentcode import FROM_FILE, FROM_FILE_BODY, FROM_FILE_PACKED
from .randomdevices import patch_random_devices
from .servercode import SERVE_MARK, SERVER

__all__ = ["patch_generated", "patch_network_loop", "patch_step_functions", "patch_thresholders", "patch_static_arrays", "patch_results",
           "patch_fork_server", "patch_packed_arguments", "faster_makefile", "reads_static_folder",
           "reads_packed_arguments", "serves", "STATIC_ARRAYS",
           "STATIC_ARRAYS_VARIABLE", "RESULTS_VARIABLE", "SKIP_STATIC_VARIABLE", "SERVE_VARIABLE"]

#: the folder (relative to the build folder) from which Brian2's generated code reads the static
#: arrays; a run of a cached build whose static arrays differ reads its own (`_static_folder`)
STATIC_ARRAYS = "static_arrays/"
#: the environment variable that names that folder for one run
STATIC_ARRAYS_VARIABLE = "BRIANLEARN_STATIC_ARRAYS"
#: the environment variable that names, comma-separated, the only results files a run writes
#: (unset or empty: every array, as Brian2 writes them)
RESULTS_VARIABLE = "BRIANLEARN_RESULTS"
#: the environment variable that names, comma-separated, static arrays a run does not read (each is
#: replaced by a run argument of that run)
SKIP_STATIC_VARIABLE = "BRIANLEARN_SKIP_STATIC"
#: the environment variable that makes the binary a fork server (`patch_fork_server`): the file
#: descriptor its replies go to
SERVE_VARIABLE = "BRIANLEARN_SERVE_FD"


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
#include <cfloat>
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
    std::vector<Clock*> _bl_as_clock(_bl_n);  // (each clock as a Clock, or NULL, and its dt: cast once)
    std::vector<double> _bl_dts(_bl_n);
    for(size_t c=0; c<_bl_n; c++)
    {{
        _bl_as_clock[c] = dynamic_cast<Clock*>(_bl_clocks[c]);
        _bl_dts[c] = _bl_dt(_bl_clocks[c]);
    }}
    std::vector<double> _bl_tol(_bl_n * _bl_n, 0.0);  // (each pair's tolerance, fixed within a run)
    for(size_t c=0; c<_bl_n; c++)
        for(size_t d=0; d<_bl_n; d++)
            _bl_tol[c*_bl_n + d] = _bl_tolerance(_bl_dts[c], _bl_dts[d]);
    std::vector<char> _bl_current(_bl_clocks.size(), 0);
    bool _bl_changed = true;  // have the current clocks changed since _bl_funcs was made?
    std::vector<codeobj_func> _bl_funcs;  // the current clocks' functions, in schedule order
    std::vector<Clock*> _bl_now;  // the current clocks
    bool _bl_lockstep = false;  // do they step together, each a Clock of the same dt and timestep?
    double _bl_bound = -DBL_MAX;  // while they are before it, no other clock is due with them
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
        // (brianlearn) the current clocks step in lockstep when each is a Clock with the first's dt
        // and timestep; then, while the first stays before _bl_bound (each other clock's time less
        // twice the pair's tolerance), they remain the only clocks due and the next step's search
        // would find them again: it is skipped
        _bl_now.clear();
        _bl_lockstep = true;
        _bl_bound = DBL_MAX;
        for(size_t c=0; c<_bl_n; c++)
        {{
            Clock *now = _bl_as_clock[c];
            if(_bl_current[c])
            {{
                _bl_lockstep = _bl_lockstep && now && _bl_dts[c] == _bl_dts[m]
                               && now->timestep[0] == _bl_clocks[m]->timestep[0];
                _bl_now.push_back(now);
            }}
            else
            {{
                const double s = _bl_clocks[c]->t[0], tol = _bl_tol[c*_bl_n + m];
                _bl_bound = fmin(_bl_bound, 2*tol > 64*DBL_EPSILON*fabs(s) ? s - 2*tol : -DBL_MAX);
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
    as expected, is left as it is.
    While the current clocks step in lockstep (each a ``Clock`` with the same dt and timestep, as
    brianlearn's step clock and Brian2's ``defaultclock`` of the same dt) and stay more than twice
    the pair's tolerance before every other clock, the next step's clocks are the same and the
    search is skipped; the schedule is the one the search would find (tested against Brian2's
    runtime loop with clocks of 0.1, 0.25 and 0.3 ms). NSM k = 64, 1 000 samples, with
    `patch_step_functions` and the thresholders patched, Network::run's time (min of 20
    alternating runs): 0.134 -> 0.124 s; instructions (callgrind) 1.33e9 -> 1.16e9."""
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
            r"if(_bl_lockstep)  // (brianlearn) the same clocks are due next, unless one reaches the bound\n"
            r"\2{\n\2    for(size_t k=0; k<_bl_now.size(); k++)\n\2        _bl_now[k]->Clock::tick();\n"
            r"\2    if(!(clock->t[0] < _bl_bound))\n\2        clock = _bl_next_clocks();\n\2}\n\2else\n\2{\n"
            r"\2    for(size_t c=0; c<_bl_clocks.size(); c++)\n\2        if(_bl_current[c])\n"
            r"\2            _bl_clocks[c]->tick();\n\2    clock = _bl_next_clocks();\n\2}\n", text)
    return text


# Brian2's C++ standalone thresholder (templates/threshold.cpp) evaluates the condition of each
# neuron and appends the ones that cross to the spikespace, in one loop whose data-dependent store
# the compiler cannot vectorise. In most time steps no neuron crosses, so a first, read-only loop
# that counts the neurons that do (a reduction the compiler vectorises) comes first, and the
# original loop runs only when one does, and only until it has found them all: past the last
# crossing neuron its body does nothing (`patch_thresholders`).
_THRESHOLD_LOOP = re.compile(
    r"(?P<indent>[ \t]*)long _count = 0;\n"
    r"(?P<head>[ \t]*for\(size_t _idx=0; _idx<N; _idx\+\+\)\n[ \t]*\{\n"
    r"[ \t]*const size_t _vectorisation_idx = _idx;\n)"
    r"(?P<body>(?:[ \t]*(?:const )?[\w:]+ \w+(?: = [^;\n]+)?;\n"  # declarations,
    r"|[ \t]*if\(!?\w+\)\n|[ \t]*else ?\n|[ \t]*_cond = [^;\n]+;\n"  # a refractory neuron's condition,
    r"|[ \t]*\n)*)"
    r"(?P<cond>[ \t]*if\(_cond\) \{\n[ \t]*\w+\[_count\+\+\] = _idx;\n)")
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
    The spike loop stops at the last crossing neuron (``_count<_bl_any``; the loop's body changes
    nothing but for a crossing neuron, whose first statement appends it to the spikespace, which
    `_THRESHOLD_LOOP` asks for): with `patch_step_functions`, the NSM binary's Network::run took
    min 0.135 s against 0.140 s without it (20 alternating runs; every results file the same).
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
                 f"{head}{body}{inner}_bl_any += _cond;\n{ind}}}\n{ind}if(_bl_any)\n"
                 f"{head.replace('_idx<N;', '_count<_bl_any;', 1)}{body}{m.group('cond')}")
        with open(path, "w") as f:
            f.write(text[:m.start()] + check + text[m.end():])
        changed += 1
    return changed


# Brian2's generated main adds each code object to the network with its clock, and the network
# loop calls them one by one through function pointers: in a step of a small network (NSM, k = 64:
# state update, threshold, spike push, lateral propagation, reset) the calls, each in its own
# translation unit, cost as much as some of the code objects. Consecutive objects of the same clock
# (always due together, and called in that order) become one function that calls them in order
# (`patch_step_functions`); with link-time optimisation their bodies are compiled into one.
_NETWORK_ADD = re.compile(r"^(?P<indent>[ \t]*)(?P<net>\w+)\.add\(&(?P<clock>\w+), (?P<func>_run_\w+)\);\n", re.M)
_MAIN = "\nint main(int argc, char **argv)\n"
_STEP_MARK = "// (brianlearn) consecutive code objects of one clock"


def patch_step_functions(directory):
    """Let the generated ``main.cpp`` add to the network, for each run of consecutive code objects
    with the same clock, one function that calls them in the same order (`_NETWORK_ADD`): the
    network loop calls those objects together anyway (a clock's objects are due together, and
    objects of other clocks that the schedule puts between them split the run), so the schedule
    and every result are the same, with one indirect call where there were several and, with
    link-time optimisation (`faster_makefile`), the objects' bodies compiled as one function.
    Measured here (Spiking NSM, k = 64, 1 000 samples, Network::run's time in last_run_info.txt,
    20 alternating runs): min 0.151 -> 0.140 s, median 0.160 -> 0.149 s. brian2cuda's
    ``main.cu`` is left as it is. Returns the number of functions made."""
    groups = {}  # (the called functions -> the function's name)

    def change(text):
        if _STEP_MARK in text or text.count(_MAIN) != 1:
            return text
        pieces, last, matches, i = [], 0, list(_NETWORK_ADD.finditer(text)), 0
        while i < len(matches):
            j = i + 1
            key = (matches[i].group("net"), matches[i].group("clock"))
            while (j < len(matches) and matches[j].start() == matches[j - 1].end()
                   and (matches[j].group("net"), matches[j].group("clock")) == key):
                j += 1
            if j - i > 1:
                name = groups.setdefault(tuple(m.group("func") for m in matches[i:j]), f"_bl_step_{len(groups)}")
                pieces += [text[last:matches[i].start()], f"{matches[i].group('indent')}{key[0]}.add(&{key[1]}, {name});\n"]
                last = matches[j - 1].end()
            i = j
        definitions = "".join(
            f"\n{_STEP_MARK}, called in the network's order\nstatic void {name}()\n{{\n"
            + "".join(f"    {func}();\n" for func in funcs) + "}\n"
            for funcs, name in groups.items())
        return ("".join(pieces) + text[last:]).replace(_MAIN, definitions + _MAIN)

    _patch_file(os.path.join(directory, "main.cpp"), change)
    return len(groups)


def patch_fork_server(directory):
    """Let the generated ``main.cpp`` serve runs by forking (`brianlearn.servercode`): Brian2's
    ``main`` becomes ``_bl_main``, called by a new ``main`` as it is, unless `SERVE_VARIABLE` is set. A run that
    is not served is the same program with one more call (measured: `brianlearn.forkserver`).
    brian2cuda's ``main.cu`` is left as it is. True when changed."""
    def change(text):
        if SERVE_MARK in text or text.count(_MAIN) != 1:
            return text
        server = SERVER.replace("@VARIABLE@", SERVE_VARIABLE)
        return text.replace(_MAIN, "\nstatic int _bl_main(int argc, char **argv)\n") + "\n\n" + server
    return _patch_file(os.path.join(directory, "main.cpp"), change)


def serves(directory):
    """Whether the build in ``directory`` has the fork server (`patch_fork_server`)."""
    return _contains(os.path.join(directory, "main.cpp"), SERVE_MARK)


def _contains(path, text):
    if not os.path.exists(path):
        return False
    with open(path) as f:
        return text in f.read()


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
# (brianlearn) link-time optimisation where the compiler compiles and links a one-line program
# with it: the code objects are optimised together when the binary is linked (the NSM binary
# ran ~6 % faster, with the same results). 'make BL_LTO=' builds without it
BL_LTO := $(shell echo 'int main(){return 0;}' | $(CXX) -flto=auto -x c++ - -o /dev/null 2>/dev/null && echo -flto=auto)
CXXFLAGS += $(BL_LTO)
LFLAGS += $(if $(BL_LTO),$(OPTIMISATIONS) $(BL_LTO))
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
    lookups saved (a replayed run starts the binary once per chunk). Where the compiler links
    with ``-flto=auto`` (tried on a one-line program), the code objects are compiled for
    link-time optimisation: the NSM binary (k = 64, 1000 samples) took 146-151 ms of CPU instead
    of 155-167 ms (5 alternating rounds of 10 runs), every results file the same; a cold build
    takes ~0.5 s longer (3.1 -> 3.6 s) and a rebuild of one code object ~1 s longer (the link
    optimises the whole binary again). ``make BL_LTO=`` turns it off.
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


_STATIC_OPEN = re.compile(r'\.open\("static_arrays/(\w+)", ios::in \| ios::binary\);')
_STATIC_FOLDER_FUNCTION = """
#include <cstdlib>
#include <string>
// (brianlearn) the folder of the static arrays: $BRIANLEARN_STATIC_ARRAYS where it is set (a run
// whose static arrays, e.g. a SpikeGeneratorGroup's spikes, differ from the build's), else Brian2's
static std::string _bl_static_arrays()
{
    const char *folder = std::getenv("@VARIABLE@");
    return (folder && folder[0]) ? std::string(folder) : std::string("@DEFAULT@");
}
""".replace("@VARIABLE@", STATIC_ARRAYS_VARIABLE).replace("@DEFAULT@", STATIC_ARRAYS)


def _named_function(function, variable, unset, comment):
    """C++: ``static bool function(const char *name)``, whether ``$variable`` (comma-separated)
    names ``name``; ``unset`` where the variable is unset or empty."""
    return f"""
// (brianlearn) {comment}
static bool {function}(const char *name)
{{
    static const char *names = std::getenv("{variable}");
    if (!names || !names[0])
        return {unset};
    const std::string list = std::string(",") + names + ",";
    return list.find(std::string(",") + name + ",") != std::string::npos;
}}
"""


# (C++ standalone) a static array that a run argument replaces is not read (a replayed chunk of rate
# EP read 11 such files, its 8 TimedArrays and 3 weight matrices, only to overwrite them)
_STATIC_SKIP_FUNCTION = _named_function(
    "_bl_static_skipped", SKIP_STATIC_VARIABLE, "false",
    f"whether a run skips reading the static array 'name': those that ${SKIP_STATIC_VARIABLE} names\n"
    "// (comma-separated), each of which a run argument of the run replaces")
_STATIC_READ = re.compile(r'(\w+)\.open\(_bl_static_arrays\(\) \+ "(\w+)", ios::in \| ios::binary\);(\s*)if\(\1\.is_open\(\)\)')
_STATIC_READ_SKIPPED = (r'if(!_bl_static_skipped("\2")) \1.open(_bl_static_arrays() + "\2", ios::in | ios::binary);'
                        r'\3if(_bl_static_skipped("\2")) {} else if(\1.is_open())')
_LOAD_ARRAYS = "\nvoid _load_arrays()\n"


def patch_static_arrays(directory):
    """Let the generated ``objects.cpp`` (or brian2cuda's ``objects.cu``) read its static arrays
    from the folder that ``$BRIANLEARN_STATIC_ARRAYS`` names, where it is set (Brian2's
    ``static_arrays/`` otherwise). Static arrays hold data that is not code, such as a
    SpikeGeneratorGroup's spikes, so one build serves several stimuli; a run whose static arrays
    differ from the build folder's reads them from a folder of its own process (`_static_folder`)
    instead of replacing the shared ones, which a concurrent run of another process would read.
    In ``objects.cpp``, a static array that ``$BRIANLEARN_SKIP_STATIC`` names is not read
    (`SKIP_STATIC_VARIABLE`: a replayed run names those its run arguments replace). True when a
    file was changed."""
    changed = False
    for name in ("objects.cpp", "objects.cu"):
        def change(text):
            if "_bl_static_arrays" in text or text.count(_LOAD_ARRAYS) != 1 or not _STATIC_OPEN.search(text):
                return text
            text = _STATIC_OPEN.sub(r'.open(_bl_static_arrays() + "\1", ios::in | ios::binary);', text)
            functions = _STATIC_FOLDER_FUNCTION
            if name == "objects.cpp":
                text, count = _STATIC_READ.subn(_STATIC_READ_SKIPPED, text)
                functions += _STATIC_SKIP_FUNCTION if count else ""
            return text.replace(_LOAD_ARRAYS, functions + _LOAD_ARRAYS)
        changed = _patch_file(os.path.join(directory, name), change) or changed
    return changed


# Brian2's _write_arrays writes every array of the network into the results folder at the end of
# a run (45 files for Spiking NSM), each opened and closed; a replayed run reads two to five of them
_RESULT_OPEN = re.compile(r'(\n\s*)(outfile_(\w+))\.open\(results_dir \+ "(\w+)", ios::binary \| ios::out\);'
                          r'(\s*)if\(\2\.is_open\(\)\)')
_RESULT_OPEN_WANTED = (r'\1const bool _bl_want_\3 = _bl_result_wanted("\4");'
                       r'\1if(_bl_want_\3) \2.open(results_dir + "\4", ios::binary | ios::out);'
                       r'\5if(!_bl_want_\3) {} else if(\2.is_open())')
_RESULTS_FUNCTION = """
#include <cstdlib>
#include <string>""" + _named_function(
    "_bl_result_wanted", RESULTS_VARIABLE, "true",
    f"whether a run writes the results file 'name': those that ${RESULTS_VARIABLE} names\n"
    "// (comma-separated) where it is set and not empty, else every one, as Brian2 writes them")
_WRITE_ARRAYS = "\nvoid _write_arrays()\n"


def patch_results(directory):
    """Let the generated ``objects.cpp`` write only the results files that ``$BRIANLEARN_RESULTS``
    names, where it is set (`RESULTS_VARIABLE`; every file otherwise, so Brian2's own reading of
    results after a run is unchanged). A replayed run (`brianlearn.replay.run`) names the files it
    reads: on a machine where opening a file costs ~0.1 ms, writing all 45 arrays of Spiking NSM was
    most of a short chunk's cost. brian2cuda's ``objects.cu`` is left as it is. True when changed."""
    def change(text):
        if "_bl_result_wanted" in text or text.count(_WRITE_ARRAYS) != 1:
            return text
        head, tail = text.split(_WRITE_ARRAYS)
        tail, count = _RESULT_OPEN.subn(_RESULT_OPEN_WANTED, tail)
        return text if not count else head + _RESULTS_FUNCTION + _WRITE_ARRAYS + tail
    return _patch_file(os.path.join(directory, "objects.cpp"), change)


def patch_packed_arguments(directory):
    """Let the generated ``objects.cpp`` read an array-valued run argument ``name=FILE@OFFSET:LENGTH``
    from byte ``OFFSET`` of ``FILE`` (`brianlearn.argumentcode`), so that a replayed run writes one file
    for all its run arguments (`brianlearn.replay.run`); Brian2's own ``FILE`` arguments are read
    as before. A packed argument that cannot be read or has another length than its variable
    ends the run with status 1 (Brian2 reports a file of the wrong size on standard error and runs
    on with the values the variable had). Only Brian2's own function is replaced
    (`brianlearn.argumentcode.FROM_FILE_BODY`); brian2cuda's ``objects.cu`` is left as it is. True when changed."""
    def change(text):
        if "_bl_offset" in text or text.count(FROM_FILE + FROM_FILE_BODY) != 1:
            return text
        return text.replace(FROM_FILE + FROM_FILE_BODY, FROM_FILE + FROM_FILE_PACKED)
    return _patch_file(os.path.join(directory, "objects.cpp"), change)


def reads_packed_arguments(directory):
    """Whether the build in ``directory`` reads ``FILE@OFFSET:LENGTH`` run arguments (`patch_packed_arguments`)."""
    return _contains(os.path.join(directory, "objects.cpp"), "_bl_offset")


def reads_static_folder(directory):
    """Whether the build in ``directory`` reads its static arrays where `STATIC_ARRAYS_VARIABLE` says."""
    for name in ("objects.cpp", "objects.cu"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return _contains(path, "_bl_static_arrays()")
    return False


def patch_generated(directory):
    """Apply every change brianlearn makes to a generated C++ standalone project, in order:
    `patch_network_loop`, `patch_step_functions`, `patch_fork_server`, `patch_thresholders`,
    `patch_static_arrays`, `patch_results`, `patch_packed_arguments`,
    `brianlearn.randomdevices.patch_random_devices` and `faster_makefile`. Used by
    `compile_cached` and by `brianlearn.export.export_project`, so an exported project runs the
    same code as a cached build. Returns a dict of what each step changed."""
    return {"network_loop": patch_network_loop(directory),
            "step_functions": patch_step_functions(directory),
            "fork_server": patch_fork_server(directory),
            "thresholders": patch_thresholders(directory),
            "static_arrays": patch_static_arrays(directory),
            "results": patch_results(directory),
            "packed_arguments": patch_packed_arguments(directory),
            "random_devices": patch_random_devices(directory),
            "makefile": faster_makefile(directory)}
