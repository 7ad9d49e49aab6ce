"""Shared test set-up: one build cache for the whole run, device markers, clean device state."""

import os
import tempfile

import pytest

# every test shares one build cache, so an unchanged network compiles once per machine
os.environ.setdefault("BRIANLEARN_CACHE", os.path.join(tempfile.gettempdir(), "brianlearn-test-cache"))


def pytest_collection_modifyitems(config, items):
    from brianlearn.devices import brian2cuda_installed, find_cxx, gpu_available

    no_cxx = pytest.mark.skip(reason="no C++ compiler on this machine")
    no_cuda = pytest.mark.skip(reason="brian2cuda or an NVIDIA GPU is not available")
    has_cxx = find_cxx() is not None
    has_cuda = None
    for item in items:
        if "cpp_standalone" in item.keywords and not has_cxx:
            item.add_marker(no_cxx)
        if "cuda_standalone" in item.keywords:
            if has_cuda is None:
                has_cuda = brian2cuda_installed() and gpu_available()
            if not has_cuda:
                item.add_marker(no_cuda)


@pytest.fixture(autouse=True)
def _default_device():
    """Each test starts with brianlearn's default device and Brian2 in runtime mode."""
    from brian2 import set_device

    import brianlearn.devices as devices

    saved = devices._current
    yield
    devices._current = saved
    set_device("runtime")


@pytest.fixture
def numpy_target():
    """Runtime runs with the numpy code generation target (no Cython compilation in tests)."""
    from brian2 import prefs

    saved = prefs.codegen.target
    prefs.codegen.target = "numpy"
    yield
    prefs.codegen.target = saved
