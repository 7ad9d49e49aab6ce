"""
brianlearn: spiking networks that learn with local rules derived from cost or energy
functions, built on Brian2, plus tools to compare the rules with plasticity data.

The engine (`Protocol`, `Schedule`, `NetworkBuilder`) expresses a whole training schedule
(trials of free and clamped phases, snapshots, weight updates) in Brian2 code that is
compiled once and run in chunks; `use_device` picks ``runtime``, ``cpp_standalone`` (the
default) or ``cuda_standalone``. Models are in `brianlearn.models`, learning systems in
`brianlearn.protocols`, the experiments that reproduce the papers' figures in
`brianlearn.figures`.

This module is the public namespace: every estimator and user-facing function is listed in
`_PUBLIC` (name -> module) and loaded on first use, so ``import brianlearn`` stays light and
the engine never imports the learning systems.
"""

from ._lazy import lazy_namespace
from ._version import __version__

#: public name -> module that defines it (the one table of the package's namespace)
_PUBLIC = {
    # engine
    "use_device": "brianlearn.devices", "DEVICES": "brianlearn.devices", "DeviceError": "brianlearn.errors",
    "CompilerNotFoundError": "brianlearn.errors", "CUDANotAvailableError": "brianlearn.errors",
    "Protocol": "brianlearn.protocol", "RunResult": "brianlearn.compiled", "Schedule": "brianlearn.schedule",
    "Phase": "brianlearn.schedule", "NetworkBuilder": "brianlearn.network", "NeuronModel": "brianlearn.modelspec",
    "SynapseModel": "brianlearn.modelspec", "BuildInfo": "brianlearn.buildcache", "BUILD_LOG": "brianlearn.buildcache",
    "export_project": "brianlearn.export", "load_results": "brianlearn.export",
    "run_sweep": "brianlearn.sweep", "read_table": "brianlearn.sweep", "plot_sweep": "brianlearn.figures._sweep_plot",
    # models
    "MODELS": "brianlearn.models", "get_model": "brianlearn.models",
    # learning systems: estimators and solvers
    "SpikingNSM": "brianlearn.protocols.nsm", "AnalogNSM": "brianlearn.protocols.nsm",
    "spiking_elastic_net": "brianlearn.protocols.nsm_solver", "elastic_net_reference": "brianlearn.protocols.nsm_solver",
    "nsm_cost": "brianlearn.measures", "sparse_coding_objective": "brianlearn.measures",
    "SpikingLCA": "brianlearn.protocols.lca", "spiking_sparse_encode": "brianlearn.protocols.lca",
    "SpikingDictionaryLearning": "brianlearn.protocols.dictionary",
    "sgd_dictionary_learning": "brianlearn.protocols.dictionary_baselines",
    "minibatch_dictionary_learning": "brianlearn.protocols.dictionary_baselines",
    "heldout_objective": "brianlearn.measures",
    "EquilibriumPropagation": "brianlearn.protocols.eqprop",
    "ContrastiveDemo": "brianlearn.protocols.demo",
    # plasticity: rules against data
    "stdp_window": "brianlearn.protocols.plasticity", "frequency_dependence": "brianlearn.protocols.plasticity",
    "triplets": "brianlearn.protocols.plasticity", "run_conditions": "brianlearn.protocols.plasticity",
    "compare_plasticity": ("brianlearn.protocols.plasticity", "compare"),
    "fit_plasticity": ("brianlearn.protocols.plasticity", "fit"),
    # experiments
    "run_experiment": "brianlearn.figures", "EXPERIMENTS": "brianlearn.figures",
}

__all__ = sorted(_PUBLIC) + ["__version__"]


__getattr__, __dir__ = lazy_namespace(__name__, _PUBLIC, globals())
