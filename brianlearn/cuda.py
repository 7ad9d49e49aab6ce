"""
brian2cuda set-up for compiling CUDA standalone projects, also on machines without a GPU.

brian2cuda normally asks the GPU for its compute capability and finds CUDA through
``nvcc``/``deviceQuery``. To *compile only* (a login node, CI, a laptop), `configure_compile_only`
sets those facts by hand (DESIGN.md §2): no GPU detection, ``gpu_id = 0``, a compute capability,
the CUDA path and runtime version from ``nvcc``, ``-std=c++17`` for CUDA ≥ 13 (its Thrust/CUB
refuse C++11), and cuRAND headers and library from the PyPI package ``nvidia-curand`` when the
toolkit lacks them. The binary built this way needs a GPU of that compute capability to run.
"""

import glob
import os
import re
import shutil
import subprocess

from .errors import CUDANotAvailableError

__all__ = ["configure_compile_only", "find_nvcc", "cuda_version"]


def find_nvcc():
    """Path of ``nvcc`` (``$CUDA_PATH/bin``, ``$CUDA_HOME/bin`` or PATH), or None."""
    for env in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(env):
            path = os.path.join(os.environ[env], "bin", "nvcc")
            if os.path.exists(path):
                return path
    return shutil.which("nvcc")


def cuda_version(nvcc):
    """CUDA release of ``nvcc`` as a float (e.g. 13.0)."""
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"release (\d+)\.(\d+)", out)
    if not m:
        raise RuntimeError(f"Cannot read the CUDA version from '{nvcc} --version'.")
    return float(f"{m.group(1)}.{m.group(2)}")


def _curand_from_pypi():
    """Include and library folders of the ``nvidia-curand`` wheel (with a ``libcurand.so`` link)."""
    try:
        import nvidia
    except ImportError:
        return None, None
    for base in getattr(nvidia, "__path__", []):
        for inc in glob.glob(os.path.join(base, "*", "include", "curand.h")) + glob.glob(
                os.path.join(base, "curand", "include", "curand.h")):
            root = os.path.dirname(os.path.dirname(inc))
            libdir = os.path.join(root, "lib")
            libs = sorted(glob.glob(os.path.join(libdir, "libcurand.so.*")))
            if not libs:
                continue
            link = os.path.join(libdir, "libcurand.so")
            if not os.path.exists(link):
                try:
                    os.symlink(os.path.basename(libs[-1]), link)
                except OSError:
                    continue
            return os.path.dirname(inc), libdir
    return None, None


def configure_compile_only(compute_capability=9.0):
    """Set brian2cuda's preferences so that projects compile without a GPU.

    Parameters
    ----------
    compute_capability : float
        Target GPU architecture (9.0: H100/H200; 8.0: A100; 8.6: RTX 30xx).
    """
    from brian2 import prefs

    import brian2cuda  # noqa: F401  (registers the preferences)

    nvcc = find_nvcc()
    if nvcc is None:
        raise CUDANotAvailableError("Compiling for cuda_standalone needs the CUDA toolkit's 'nvcc' "
                                    "(set CUDA_PATH or put nvcc on PATH).")
    version = cuda_version(nvcc)
    backend = prefs.devices.cuda_standalone.cuda_backend
    backend.detect_gpus = False
    backend.gpu_id = 0
    backend.compute_capability = float(compute_capability)
    backend.detect_cuda = False
    backend.cuda_path = os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))
    backend.cuda_runtime_version = version
    if version >= 13:
        if "-std=c++17" not in backend.extra_compile_args_nvcc:
            backend.extra_compile_args_nvcc = list(backend.extra_compile_args_nvcc) + ["-std=c++17"]
        gcc = [a for a in prefs.codegen.cpp.extra_compile_args_gcc if not a.startswith("-std=")]
        prefs.codegen.cpp.extra_compile_args_gcc = gcc + ["-std=c++17"]
    has_curand = os.path.exists(os.path.join(backend.cuda_path, "include", "curand.h"))
    if not has_curand:
        inc, lib = _curand_from_pypi()
        if inc is None:
            raise CUDANotAvailableError("cuRAND headers are missing from the CUDA toolkit at "
                                        f"'{backend.cuda_path}'; install them with: pip install nvidia-curand")
        for pref, folder in (("include_dirs", inc), ("library_dirs", lib), ("runtime_library_dirs", lib)):
            folders = list(prefs["codegen.cpp." + pref])
            if folder not in folders:  # (called before every build: the makefile must not grow)
                prefs["codegen.cpp." + pref] = folders + [folder]
