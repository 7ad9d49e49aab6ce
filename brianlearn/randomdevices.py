"""
The random devices of a generated C++ standalone run: the ones it constructs and never reads taken
out of its sources, the one its random generators seed from made once per process
(`main_without_device`, `init_without_device`, `shared_device`; applied by
`patch_random_devices`, one of `brianlearn.codepatch.patch_generated`'s changes).

Brian2's ``main.cpp`` declares ``std::random_device _rd;`` (read only by the code that a
``seed()`` of a script without a value adds) and its ``_init_arrays`` in ``objects.cpp``
declares ``std::random_device rd;`` before creating the random generators; each generator
(``RandomGenerator`` in ``objects.h``) then seeds itself from a ``std::random_device`` of its own.
Constructing a ``std::random_device`` probes the processor (``cpuid``) and the system's entropy
source; in a virtual machine that costs tens of microseconds, and a chunk served by the fork
server (`brianlearn.forkserver`) paid it in every run: ``perf`` on this machine put
``std::random_device::_M_init`` at 94 µs of the ~0.6 ms that a served one-trial run of rate EP
costs (three devices). The two unread ones are taken out; the generators seed from one device
of namespace scope, constructed when the binary starts (a forked child inherits it and draws
from it: the seeds are as random as before). What the run computes is unchanged.
"""

import os
import re

__all__ = ["patch_random_devices", "main_without_device", "init_without_device", "shared_device"]

#: ``_init_arrays``' device, followed by the generators' loop that does not read it and the
#: end of the function
_INIT_DEVICE = re.compile(
    r"(// Random number generator states\n)[ \t]*std::random_device rd;\n"
    r"(?=[ \t]*for \(int i=0; i<[^\n;]*; i\+\+\)\n[ \t]*_random_generators\.push_back\(RandomGenerator\(\)\);\n[ \t]*\})")
_MAIN_DEVICE = re.compile(r"^[ \t]*std::random_device _rd;[ \t]*\n", re.M)
#: the generator's own seeding (``objects.h``)
_SEED = re.compile(r"(void seed\(\) \{\n)([ \t]*)std::random_device rd;\n[ \t]*gen\.seed\(rd\(\)\);\n")
_SHARED = "_bl_random_device"
_DECLARATION = ("// (brianlearn) the device the generators seed from, one per process, made when the binary\n"
                "// starts (a child forked by the fork server draws from its server's)\n"
                f"extern std::random_device {_SHARED};\n\nclass RandomGenerator {{")
_DEFINITION = f"namespace brian {{\n\nstd::random_device {_SHARED};  // (brianlearn: objects.h)\n"


def main_without_device(text):
    """``main.cpp``'s text without ``_rd``, where nothing else names it."""
    return _MAIN_DEVICE.sub("", text) if len(re.findall(r"\b_rd\b", text)) == 1 else text


def init_without_device(text):
    """``objects.cpp``'s text without ``_init_arrays``' device, where only the generators' loop follows it."""
    return _INIT_DEVICE.sub(r"\1", text)


def shared_device(header, objects):
    """``(objects.h, objects.cpp)`` with the generators seeding from `_SHARED`, or both as they
    were where either does not look as expected."""
    if _SHARED in header or header.count("class RandomGenerator {") != 1 or len(_SEED.findall(header)) != 1 \
            or objects.count("namespace brian {\n") < 1:
        return header, objects
    header = _SEED.sub(rf"\1\2gen.seed({_SHARED}());\n", header).replace("class RandomGenerator {", _DECLARATION)
    return header, objects.replace("namespace brian {\n", _DEFINITION, 1)


def patch_random_devices(directory):
    """Apply `main_without_device`, `init_without_device` and `shared_device` to the generated C++
    project in ``directory`` (brian2cuda's ``.cu`` files are left as they are); True when a file
    changed."""
    paths = [os.path.join(directory, name) for name in ("main.cpp", "objects.h", "objects.cpp")]
    if not all(os.path.exists(p) for p in paths):
        return False
    texts = []
    for path in paths:
        with open(path) as f:
            texts.append(f.read())
    header, objects = shared_device(texts[1], init_without_device(texts[2]))
    new = [main_without_device(texts[0]), header, objects]
    for path, old, text in zip(paths, texts, new):
        if text != old:
            with open(path, "w") as f:
                f.write(text)
    return new != texts
