"""
brianlearn: spiking networks that learn with local rules derived from cost or energy
functions, built on Brian2, plus tools to compare the rules with plasticity data.

The engine (`Protocol`, `Schedule`, `NetworkBuilder`) expresses a whole training schedule
(trials of free and clamped phases, snapshots, weight updates) in Brian2 code that is
compiled once and run in chunks; `use_device` picks ``runtime``, ``cpp_standalone`` (the
default) or ``cuda_standalone``. Models are in `brianlearn.models`, learning systems in
`brianlearn.protocols`.
"""

__version__ = "0.1.0"

from .buildcache import BUILD_LOG, BuildInfo
from .devices import DEVICES, CompilerNotFoundError, CUDANotAvailableError, DeviceError, use_device
from .modelspec import NeuronModel, SynapseModel
from .network import NetworkBuilder
from .protocol import Protocol, RunResult
from .schedule import Phase, Schedule

__all__ = ["SpikingNSM", "EquilibriumPropagation", "use_device", "DEVICES", "DeviceError", "CompilerNotFoundError", "CUDANotAvailableError",
           "Protocol", "RunResult", "Schedule", "Phase", "NetworkBuilder", "NeuronModel", "SynapseModel",
           "BuildInfo", "BUILD_LOG", "__version__"]


def __getattr__(name):
    # learning systems live in brianlearn.protocols (which imports this package): load lazily
    if name == "SpikingNSM":
        from .protocols.nsm import SpikingNSM

        return SpikingNSM
    if name == "EquilibriumPropagation":
        from .protocols.eqprop import EquilibriumPropagation

        return EquilibriumPropagation
    raise AttributeError(f"module 'brianlearn' has no attribute '{name}'")
