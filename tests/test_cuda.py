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


def _nsm(device):
    from brianlearn import SpikingNSM

    SpikingNSM(4, alpha=0.3, lam1=0.05, eta=0.1, duration=30, dt=0.1, seed=2, device=device,
               chunk_size=6).fit(np.random.default_rng(0).random((6, 8)), X_val=None)


def _lca(device):  # (the spiking solver of NSM's inference and of LCA: one network)
    from brianlearn import spiking_sparse_encode

    rng = np.random.default_rng(1)
    D, X = rng.random((6, 5)), rng.random((3, 5))
    spiking_sparse_encode(X, D, 0.05, duration=5, dt=0.05, device=device)


def _dictionary(device):
    from brianlearn import SpikingDictionaryLearning

    X = np.random.default_rng(3).random((8, 12))
    SpikingDictionaryLearning(n_components=6, phase_duration=40.0, dt=1 / 16, chunk_size=4, eval_every=4,
                              device=device).fit(X / np.linalg.norm(X, axis=1, keepdims=True), X_val=None)


def _eqprop(neuron):
    def fit(device):
        from brianlearn import EquilibriumPropagation
        from brianlearn.datasets.regression import two_link_arm

        X, Y = two_link_arm(8, seed=9)
        extra = dict(hidden=(10,), neurons_per_dim=4) if neuron == "lif" else dict(hidden=(6,))
        EquilibriumPropagation(neuron=neuron, epochs=1, seed=5, device=device, **extra).fit(X, Y)
    return fit


def _plasticity(device):
    from brian2 import Hz

    from brianlearn import triplets

    triplets("triplet_stdp", params="pfister_visual_cortex_full", n_repetitions=3, frequency=5 * Hz, device=device)


#: every learning system: a small case that builds its network (one build folder each, reused)
SYSTEMS = {"nsm": _nsm, "lca": _lca, "dictionary": _dictionary, "eqprop_rate": _eqprop("rate"),
           "eqprop_lif": _eqprop("lif"), "plasticity": _plasticity}


@pytest.mark.slow
@needs_brian2cuda
@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_every_system_compiles_for_cuda_without_gpu(system):
    """Each learning system's network compiles for ``cuda_standalone`` (nvcc, no GPU): the
    binary exists, and a second build of the same network reuses the folder. Minutes each."""
    n = len(BUILD_LOG)
    with pytest.raises(RuntimeError, match="compile_only=True"):
        SYSTEMS[system](brianlearn_cuda_compile_only())
    info = BUILD_LOG[-1]
    assert len(BUILD_LOG) > n and "cuda_standalone" in info.directory.split("/")[-1]
    assert shutil.os.path.exists(shutil.os.path.join(info.directory, "main"))
    with pytest.raises(RuntimeError, match="compile_only=True"):
        SYSTEMS[system](brianlearn_cuda_compile_only())
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
