"""
The experiments: one module per figure (family), each reproducing a paper's result whole.

Every module here reads top to bottom like Brian2's ``examples/frompapers``: the reference,
the parameters with units, the run, the plot and the rows it writes into ``RESULTS.md``. Each
defines ``run(out="figures", quick=True, seed=0, device=None, ...)`` and runs as a script
(``python figures/nsm_manifold.py --full``); `EXPERIMENTS` groups them under the names of
``brianlearn run NAME``, and `EXAMPLES` names the module whose ``example_network(quick, seed,
device)`` returns the ``(protocol, data)`` that ``brianlearn build NAME`` exports.

Installed as ``brianlearn.figures`` (setup.cfg maps this folder, as it maps ``models/`` and
``protocols/``). Dependencies point one way: figures -> protocols -> models -> engine.
"""

import importlib

from brianlearn.results import write_results_md

__all__ = ["EXPERIMENTS", "EXAMPLES", "get_experiment", "run_experiment", "example_network", "experiment_doc"]

#: ``brianlearn run NAME`` -> the figure modules it runs, in order
EXPERIMENTS = {
    "demo": ("demo",),
    "lca": ("lca_convergence",),
    "dictionary": ("dictionary_tuning", "dictionary_learning", "dictionary_symmetry", "dictionary_rasters",
                   "dictionary_digits"),
    "nsm": ("nsm_solver_check", "nsm_training", "nsm_sparse_features", "nsm_manifold"),
    "eqprop": ("eqprop_tuning", "eqprop_rate", "eqprop_lif"),
    "plasticity": ("plasticity_window", "plasticity_frequency", "plasticity_fit_trains", "plasticity_triplets",
                   "plasticity_rate_difference"),
    "sweep": ("sweep_eqprop_rate",),
}

#: ``brianlearn build NAME`` -> the module defining ``example_network``
EXAMPLES = {"demo": "demo", "nsm": "nsm_training", "eqprop": "eqprop_rate"}


def _module(name):
    return importlib.import_module(f"{__name__}.{name}")


def get_experiment(name):
    """The figure modules of experiment ``name`` (a `ValueError` lists the known names)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment '{name}'. Known experiments: {', '.join(sorted(EXPERIMENTS))}.")
    return [_module(m) for m in EXPERIMENTS[name]]


def experiment_doc(name):
    """First line of the docstring of experiment ``name``'s first module."""
    return (get_experiment(name)[0].__doc__ or "").strip().splitlines()[0]


def run_experiment(name, out="figures", quick=True, seed=0, device=None):
    """Run every figure module of experiment ``name``; returns ``module name -> its result``."""
    results = {mod.__name__.rsplit(".", 1)[1]: mod.run(out=out, quick=quick, seed=seed, device=device)
               for mod in get_experiment(name)}
    write_results_md(out)
    return results


def example_network(name, quick=True, seed=0, device=None):
    """``(protocol, data)`` of the learning system ``brianlearn build NAME`` exports."""
    if name not in EXAMPLES:
        raise ValueError(f"No buildable example called '{name}'. Known: {', '.join(sorted(EXAMPLES))}.")
    return _module(EXAMPLES[name]).example_network(quick=quick, seed=seed, device=device)
