"""
Devices: Brian2's ``runtime``, ``cpp_standalone`` and brian2cuda's ``cuda_standalone``.

`use_device` chooses the device every protocol uses by default (``cpp_standalone``) and
checks up front that it can work here: a C++ compiler for the standalone devices, brian2cuda
and a GPU (or an explicit ``compile_only=True``) for CUDA. Errors name what is missing and
what to do.
"""

import os
import shutil
import subprocess
from dataclasses import dataclass

from .cuda import configure_compile_only
from .errors import CompilerNotFoundError, CUDANotAvailableError, DeviceError

__all__ = ["DEVICES", "DeviceConfig", "use_device", "get_device_config", "resolve_device",
           "activate", "standalone_prefs", "insert_seed_code", "DeviceError", "CompilerNotFoundError", "CUDANotAvailableError"]

#: Devices brianlearn knows
DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")


@dataclass(frozen=True)
class DeviceConfig:
    """The device a protocol builds for.

    Attributes
    ----------
    name : str
        ``'runtime'``, ``'cpp_standalone'`` or ``'cuda_standalone'``.
    directory : str or None
        Root folder of the build cache (default: ``$BRIANLEARN_CACHE`` or
        ``~/.cache/brianlearn``).
    threads : int or None
        OpenMP threads for ``cpp_standalone`` (None: Brian2's default, no OpenMP).
    compile_only : bool
        For ``cuda_standalone`` on a machine without a GPU: generate and compile, do not run.
    """

    name: str = "cpp_standalone"
    directory: str = None
    threads: int = None
    compile_only: bool = False

    @property
    def standalone(self):
        return self.name != "runtime"


_current = DeviceConfig()


def find_cxx(_found={}):
    """Path of the C++ compiler Brian2's makefiles will call (``$CXX``, else c++/g++/clang++).

    A compiler found is remembered for the same ``$CXX`` and ``$PATH`` while its file exists
    (searching ``$PATH`` took 0.6 ms of every device check, i.e. of every plasticity call)."""
    cxx = os.environ.get("CXX")
    where = (cxx, os.environ.get("PATH"))
    path = _found.get(where)
    if path is not None and os.path.isfile(path):
        return path
    if cxx:
        path = shutil.which(cxx.split()[0])
    else:
        path = next((p for p in map(shutil.which, ("c++", "g++", "clang++")) if p), None)
    if path is not None:
        _found[where] = path
    return path


def gpu_available():
    """Whether an NVIDIA GPU answers (``nvidia-smi -L``)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def brian2cuda_installed():
    import importlib.util

    return importlib.util.find_spec("brian2cuda") is not None


def check_device(config):
    """Raise a clear error if ``config`` cannot work on this machine."""
    if config.name not in DEVICES:
        raise ValueError(f"Unknown device '{config.name}'. Known devices: {', '.join(DEVICES)}.")
    if config.threads is not None and (not isinstance(config.threads, int) or config.threads < 0):
        raise ValueError(f"threads must be a non-negative integer or None, got {config.threads!r}.")
    if config.standalone and find_cxx() is None:
        raise CompilerNotFoundError(
            f"The '{config.name}' device generates and compiles C++ code, but no C++ compiler was "
            "found (looked for $CXX, c++, g++, clang++ on PATH). Install one (e.g. "
            "'apt-get install g++' or 'conda install gxx_linux-64'), or use device='runtime'."
        )
    if config.name == "cuda_standalone":
        if not brian2cuda_installed():
            raise CUDANotAvailableError(
                "The 'cuda_standalone' device needs brian2cuda, which is not installed. "
                "Install it with: pip install 'brianlearn[cuda]' (brian2cuda 1.0a7 with brian2 2.8.0 "
                "on Python 3.11, brian2cuda 1.0b1 with brian2 2.10.1 on Python >= 3.12)."
            )
        if not config.compile_only and not gpu_available():
            raise CUDANotAvailableError(
                "The 'cuda_standalone' device needs an NVIDIA GPU to run, and none was found "
                "(nvidia-smi -L). To generate and compile the CUDA project without running it, use "
                "use_device('cuda_standalone', compile_only=True) or 'brianlearn build PROTOCOL "
                "--device cuda_standalone --out DIR' and set brian2cuda's preferences by hand: "
                "prefs.devices.cuda_standalone.cuda_backend.detect_gpus = False, gpu_id = 0, "
                "compute_capability = <e.g. 9.0>, detect_cuda = False, cuda_path and "
                "cuda_runtime_version (see DESIGN.md §2). Copy the folder to a GPU machine and run 'make'."
            )


def use_device(name, directory=None, threads=None, compile_only=False):
    """Choose the device every protocol uses by default.

    Parameters
    ----------
    name : {'runtime', 'cpp_standalone', 'cuda_standalone'}
    directory : str, optional
        Root of the standalone build cache (default ``$BRIANLEARN_CACHE`` or
        ``~/.cache/brianlearn``). Build folders below it are named by a hash of the network.
    threads : int, optional
        OpenMP threads for ``cpp_standalone``.
    compile_only : bool, optional
        ``cuda_standalone`` only: build without running (no GPU needed).

    Returns
    -------
    DeviceConfig
    """
    global _current
    config = DeviceConfig(name, directory, threads, compile_only)
    check_device(config)
    _current = config
    return config


def get_device_config():
    """The `DeviceConfig` set by `use_device` (default: ``cpp_standalone``)."""
    return _current


def resolve_device(device):
    """A `DeviceConfig` from ``None`` (the current default), a name, or a config (checked)."""
    if device is None:
        config = _current
    elif isinstance(device, DeviceConfig):
        config = device
    elif isinstance(device, str):
        config = DeviceConfig(device, _current.directory, _current.threads)
    else:
        raise ValueError(f"device must be None, a device name or a DeviceConfig, got {device!r}.")
    check_device(config)
    return config


def _canonical_include_dirs(include_dirs):
    """``include_dirs`` without the folders that Brian2's Cython machinery adds, without repeats.

    ``CythonCodeObject.is_available`` hands Brian2's ``codegen.cpp.include_dirs`` preference
    (the list itself) to the Cython extension manager, which appends ``brian2/synapses`` (and,
    for code that uses NumPy, NumPy's headers) to it when it compiles its test module, i.e.
    only when that module is not yet in the user's Cython cache. The standalone makefile would
    then depend on the history of the process and of the machine's cache, and an unchanged
    network would be recompiled. Standalone projects carry their own copy of those headers
    (``brianlib/``) and do not use NumPy's, so the folders are never needed.
    """
    import brian2.synapses
    import numpy

    leaked = {os.path.normpath(os.path.dirname(brian2.synapses.__file__)), os.path.normpath(numpy.get_include())}
    out = []
    for d in include_dirs:
        if os.path.normpath(d) not in leaked and d not in out:
            out.append(d)
    return out


def activate(config):
    """Make ``config``'s device Brian2's current device, in a state independent of history.

    For the standalone devices the device is reset (``reinit``) and set up for an explicit
    build (``build_on_run=False``): Brian2's ``set_device`` copies the previous device's
    default clock, so the switch always passes through ``runtime`` first, and preferences
    that Brian2 itself changes behind the user's back are put back to canonical values, so
    that the generated code is the same in every process.
    """
    from brian2 import all_devices, defaultclock, ms, prefs, set_device

    if config.name == "runtime":
        set_device("runtime")
        return
    if config.name == "cuda_standalone":
        import brian2cuda  # noqa: F401  (registers the device)

        if config.compile_only:
            configure_compile_only()
    dev = all_devices[config.name]
    dev.reinit()
    set_device("runtime")
    # Brian2's set_device copies the default clock's dt into the new device's code: make it
    # Brian2's default, not what the last network that ran _create left (a replayed network does
    # not), so that the generated code does not depend on which networks came before
    defaultclock.dt = 0.1 * ms
    set_device(config.name, build_on_run=False)
    for name, value in standalone_prefs(config).items():
        prefs[name] = value


def standalone_prefs(config):
    """``name -> value``: the preferences `activate` sets for the standalone `DeviceConfig`
    ``config``, from the current ones (a replay key reads them without activating the device)."""
    from brian2 import prefs

    # (item access: each attribute step ``prefs.a.b`` builds a view with its documentation text,
    # ~0.5 ms each, a visible part of a warm fit's fixed cost)
    values = {"devices.cpp_standalone.openmp_threads": config.threads or 0}
    if list(prefs["devices.cpp_standalone.extra_make_args_unix"]) == ["-j"]:  # (Brian2's default, unchanged)
        # one compiler per core: unlimited 'make -j' ran 54 compilers at once for the LIF network and
        # took 20-22 s against 17.5 s with -j2 on 2 cores
        values["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{os.cpu_count() or 1}"]
    values["codegen.cpp.include_dirs"] = _canonical_include_dirs(prefs["codegen.cpp.include_dirs"])
    return values


def insert_seed_code(config, seed_variable):
    """Seed the standalone project's random numbers from the value of ``seed_variable`` at run time.

    The seed is a ``(shared, constant)`` variable set through ``run_args``, so a new seed does
    not change the generated code. C++ standalone seeds each of its per-thread generators
    (``seed + thread``); brian2cuda seeds its cuRAND buffer.
    """
    from brian2.devices.device import get_device

    dev = get_device()
    name = dev.get_array_name(seed_variable)
    if config.name == "cuda_standalone":
        dev.insert_code("main", f"random_number_buffer.set_seed((unsigned long long)brian::{name}[0]);")
    else:
        dev.insert_code("main", "for (size_t _i = 0; _i < brian::_random_generators.size(); _i++) "
                                f"brian::_random_generators[_i].seed((unsigned long)brian::{name}[0] + _i);")
