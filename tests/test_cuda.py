"""brian2cuda: compile without a GPU (needs brian2cuda and nvcc), and agreement with C++ on a GPU."""

import shutil

import numpy as np
import pytest

from brianlearn import BUILD_LOG
from brianlearn.devices import brian2cuda_installed

from test_engine import Ticker

needs_brian2cuda = pytest.mark.skipif(not brian2cuda_installed() or shutil.which("nvcc") is None,
                                      reason="brian2cuda or nvcc is not installed")


@pytest.mark.slow
@needs_brian2cuda
def test_cuda_project_compiles_without_gpu():
    """Takes minutes on 2 cores: nvcc compiles every kernel."""
    p = Ticker(device=brianlearn_cuda_compile_only())
    with pytest.raises(RuntimeError, match="compile_only=True"):
        p.run_trials({"x": np.ones((4, 3))})
    info = BUILD_LOG[-1]
    assert info.directory.split("/")[-1].startswith("ticker-cuda_standalone")
    assert shutil.os.path.exists(shutil.os.path.join(info.directory, "main"))
    # brian2cuda emits some lines in set order: the same network must still find its build
    with pytest.raises(RuntimeError, match="compile_only=True"):
        Ticker(device=brianlearn_cuda_compile_only()).run_trials({"x": np.ones((4, 3))})
    assert BUILD_LOG[-1].compiled is False, BUILD_LOG[-1].changed


def brianlearn_cuda_compile_only():
    from brianlearn.devices import DeviceConfig

    return DeviceConfig("cuda_standalone", compile_only=True)


@pytest.mark.cuda_standalone
@pytest.mark.cpp_standalone
def test_cuda_and_cpp_standalone_agree():
    X = np.random.default_rng(0).uniform(size=(6, 3))
    cpp = Ticker(device="cpp_standalone", seed=1, chunk_size=3).run_trials({"x": X})
    cuda = Ticker(device="cuda_standalone", seed=1, chunk_size=3).run_trials({"x": X})
    np.testing.assert_allclose(cuda.state["g.w"], cpp.state["g.w"], rtol=1e-12)
    for key in cpp.records:
        np.testing.assert_array_equal(cuda.records[key], cpp.records[key])
