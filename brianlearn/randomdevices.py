"""
The random devices that a generated C++ standalone run constructs and never reads, taken out of
its sources (`main_without_device`, `init_without_device`; applied by
`brianlearn.codepatch.patch_random_devices`, one of `brianlearn.codepatch.patch_generated`'s changes).

Brian2's ``main.cpp`` declares ``std::random_device _rd;`` (read only by the code that a
``seed()`` of a script without a value adds) and its ``_init_arrays`` in ``objects.cpp``
declares ``std::random_device rd;`` before creating the random generators, which seed
themselves. Constructing a ``std::random_device`` probes the processor (``cpuid``) and the
system's entropy source; in a virtual machine that costs tens of microseconds, and a chunk
served by the fork server (`brianlearn.forkserver`) paid it in every run: ``perf`` on this
machine put ``std::random_device::_M_init`` at 94 µs of the ~0.6 ms that a served one-trial run
of rate EP costs (three devices: these two and the generator's own, which stays). What the run
computes is unchanged: neither device is read.
"""

import re

__all__ = ["main_without_device", "init_without_device"]

#: ``_init_arrays``' device, followed by the generators' loop that does not read it and the
#: end of the function
_INIT_DEVICE = re.compile(
    r"(// Random number generator states\n)[ \t]*std::random_device rd;\n"
    r"(?=[ \t]*for \(int i=0; i<[^\n;]*; i\+\+\)\n[ \t]*_random_generators\.push_back\(RandomGenerator\(\)\);\n[ \t]*\})")
_MAIN_DEVICE = re.compile(r"^[ \t]*std::random_device _rd;[ \t]*\n", re.M)


def main_without_device(text):
    """``main.cpp``'s text without ``_rd``, where nothing else names it."""
    return _MAIN_DEVICE.sub("", text) if len(re.findall(r"\b_rd\b", text)) == 1 else text


def init_without_device(text):
    """``objects.cpp``'s text without ``_init_arrays``' device, where only the generators' loop follows it."""
    return _INIT_DEVICE.sub(r"\1", text)
