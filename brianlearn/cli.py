"""
The ``brianlearn`` command line.

::

    brianlearn list                         models and experiments
    brianlearn show MODEL                   equations and parameters (with units)
    brianlearn run EXPERIMENT [--device D] [--quick | --full] [--seed N] [--out DIR]
    brianlearn reproduce [--full] [--device D] [--out DIR]   every experiment, every RESULTS.md row
    brianlearn demo [--device D] [--out DIR]
    brianlearn build SYSTEM --out DIR       self-contained C++ project (make run)
    brianlearn results DIR                  load an exported project's results
    brianlearn compare SYNAPSE DATASET [--fit PARAM ...] [--params SET] [--pairing P]
    brianlearn sweep GRID --table CSV [--workers N | --scheduler ADDRESS] [--plot X [--line P]]
"""

import argparse
import importlib
import os
import sys

import numpy as np

from brianlearn import figures
from brianlearn.devices import DEVICES, use_device
from brianlearn.export import export_project, load_results
from brianlearn.models import MODELS, get_model
from brianlearn.results import set_checkpoint_dir

__all__ = ["main"]


def _cmd_list(args):
    print("Models (brianlearn show MODEL):")
    for name, model in sorted(MODELS.items()):
        print(f"  {name:<22} {type(model).__name__:<13} {model.doc.split('. ')[0].strip()}")
    print("\nExperiments (brianlearn run NAME; their figure modules are in figures/):")
    for name in sorted(figures.EXPERIMENTS):
        print(f"  {name:<22} {figures.experiment_doc(name)}")
        print(f"  {'':<22} figures: {', '.join(figures.EXPERIMENTS[name])}")
    return 0


def _cmd_show(args):
    print(get_model(args.model).describe())
    return 0


def _device(args):
    return use_device(args.device, threads=getattr(args, "threads", None)).name


def _cmd_run(args):
    figures.get_experiment(args.protocol)  # (an unknown name fails before the device is set up)
    _device(args)
    if getattr(args, "checkpoint_dir", None):
        set_checkpoint_dir(args.checkpoint_dir)
    figures.run_experiment(args.protocol, out=args.out, quick=not args.full, seed=args.seed, device=args.device)
    return 0


def _cmd_reproduce(args):
    import time

    _device(args)
    if getattr(args, "checkpoint_dir", None):
        set_checkpoint_dir(args.checkpoint_dir)
    start, spent = time.perf_counter(), {}
    for name in figures.EXPERIMENTS:
        t = time.perf_counter()
        figures.run_experiment(name, out=args.out, quick=not args.full, seed=args.seed, device=args.device)
        spent[name] = time.perf_counter() - t
        print(f"[brianlearn] reproduce: {name} took {spent[name]:.0f} s", flush=True)
    total = time.perf_counter() - start
    print(f"brianlearn reproduce{' --full' if args.full else ''}: every experiment ({', '.join(spent)}) rerun "
          f"in {total:.0f} s ({total / 60:.1f} min); RESULTS.md: {os.path.join(args.out, 'RESULTS.md')}")
    return 0


def _cmd_bench(args):
    from brianlearn.benchmarks.bench import render, run_bench

    if args.render:
        render(args.out)
    else:
        run_bench(quick=args.quick, systems=args.systems, repeats=args.repeats, out=args.out)
    return 0


def _cmd_demo(args):
    args.protocol, args.full = "demo", False
    return _cmd_run(args)


def _cmd_build(args):
    _device(args)
    protocol, data = figures.example_network(args.protocol, quick=not args.full, seed=args.seed, device=args.device)
    path = export_project(protocol, data, args.out)
    print(f"Wrote {os.path.abspath(args.out)} ({len(next(iter(data.values())))} trials of '{args.protocol}').")
    print(f"  cd {args.out} && make run        # compile and run, with make alone")
    print(f"  brianlearn results {args.out}    # load the results back")
    print(f"  manifest: {path}")
    return 0


def _cmd_results(args):
    res = load_results(args.directory)
    print(f"Results of '{res.info['protocol']}' ({res.info['n_samples']} trials) in {args.directory}:")
    with np.printoptions(precision=4, suppress=True, threshold=12, edgeitems=3):
        for key, value in res.state.items():
            print(f"  learned {key}: {value}")
        for key, value in res.records.items():
            print(f"  record  {key}: shape {value.shape}, last trial {value[-1]}")
    return 0


def _cmd_compare(args):
    _device(args)
    compare = importlib.import_module("brianlearn.figures.plasticity_compare")
    compare.compare_command(args.synapse, args.dataset, fit_params=args.fit or (), out=args.out, params=args.params,
                            pairing=args.pairing, device=args.device)
    return 0


def _cmd_sweep(args):
    from brianlearn.figures._sweep_plot import plot_sweep
    from brianlearn.sweep import run_sweep

    rows = run_sweep(args.grid, args.table, workers=args.workers, scheduler=args.scheduler)
    print(f"{len(rows)} points in {args.table}")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        ax = plot_sweep(rows, args.plot, score=args.score, line=args.line)
        png = os.path.splitext(args.table)[0] + ".png"
        ax.figure.tight_layout()
        ax.figure.savefig(png, dpi=120)
        print(f"figure: {png}")
    return 0


def _cmd_datasets(args):
    from brianlearn.datasets import plasticity

    for name in plasticity.names():
        table = plasticity.load(name)
        print(f"{name:<26} {table.meta.get('citation', '')}")
    return 0


def _parser():
    p = argparse.ArgumentParser(prog="brianlearn", description="Spiking networks that learn with local "
                                "rules derived from cost or energy functions (Brian2).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def device_opts(sp):
        sp.add_argument("--device", default="cpp_standalone", choices=DEVICES,
                        help="Brian2 device (default: cpp_standalone)")
        sp.add_argument("--threads", type=int, default=None, help="OpenMP threads (cpp_standalone)")
        sp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    sp = sub.add_parser("list", help="list models and experiments", description="List models and experiments.")
    sp.set_defaults(func=_cmd_list)
    sp = sub.add_parser("show", help="show a model's equations and parameters",
                        description="Print a model's equations, code and parameters with units.")
    sp.add_argument("model", help="model name (see 'brianlearn list')")
    sp.set_defaults(func=_cmd_show)
    sp = sub.add_parser("run", help="run an experiment (its figures and RESULTS.md rows)",
                        description="Run an experiment: prints its numbers, writes its figures and RESULTS.md rows.")
    sp.add_argument("protocol", metavar="experiment", help="experiment name (see 'brianlearn list')")
    device_opts(sp)
    size = sp.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", default=True, help="quick sizes (default)")
    size.add_argument("--full", action="store_true", help="the paper's sizes")
    sp.add_argument("--out", default="figures", help="folder for figures (default: figures)")
    sp.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                    help="checkpoint the long fits in DIR; the same command resumes an interrupted run")
    sp.set_defaults(func=_cmd_run)
    sp = sub.add_parser("reproduce", help="rerun every experiment: every figure and every RESULTS.md row",
                        description=f"Rerun every experiment from scratch ({', '.join(figures.EXPERIMENTS)}), "
                        "regenerating every figure and every row of RESULTS.md; prints the run time.")
    device_opts(sp)
    sp.add_argument("--full", action="store_true", help="the paper's sizes (default: quick; sections *_full)")
    sp.add_argument("--out", default="figures", help="folder for figures (default: figures)")
    sp.add_argument("--checkpoint-dir", default=None, metavar="DIR",
                    help="checkpoint the long fits in DIR; the same command resumes an interrupted run")
    sp.set_defaults(func=_cmd_reproduce)
    sp = sub.add_parser("bench", help="speed of every learning system against NumPy and Numba loops",
                        description="Time brianlearn (cpp_standalone with 1 and 2 threads, runtime) against "
                        "hand-written NumPy and Numba loops of the same dynamics, each checked for equal "
                        "results first; writes RESULTS.md and throughput.png (default: benchmarks/).")
    sp.add_argument("--quick", action="store_true", help="two sizes per system (default: the full size scan)")
    sp.add_argument("--systems", nargs="*", default=None, help="only these systems (nsm, lca, dictionary, 'eqprop rate', 'eqprop lif', plasticity)")
    sp.add_argument("--repeats", type=int, default=5, help="timed runs per implementation (default: 5)")
    sp.add_argument("--out", default="benchmarks", help="folder for RESULTS.md and throughput.png")
    sp.add_argument("--render", action="store_true", help="only rewrite RESULTS.md from the stored results.json")
    sp.set_defaults(func=_cmd_bench)
    sp = sub.add_parser("demo", help="small two-phase learning run", description="Train a small spiking "
                        "network with the contrastive delta rule, print what it learned, write a figure.")
    device_opts(sp)
    sp.add_argument("--out", default="figures", help="folder for the figure (default: figures)")
    sp.set_defaults(func=_cmd_demo)
    sp = sub.add_parser("build", help="write a self-contained standalone C++ project",
                        description="Write a C++ project (sources, portable makefile, data, README) that "
                        "compiles and runs with 'make run' on another machine.")
    sp.add_argument("protocol", metavar="system", help=f"learning system: {', '.join(sorted(figures.EXAMPLES))}")
    sp.add_argument("--out", required=True, help="folder to write (new or empty)")
    sp.add_argument("--full", action="store_true", help="the paper's data size (default: quick)")
    device_opts(sp)
    sp.set_defaults(func=_cmd_build)
    sp = sub.add_parser("results", help="load an exported project's results",
                        description="Load and summarise the results of an exported project after 'make run'.")
    sp.add_argument("directory")
    sp.set_defaults(func=_cmd_results)
    sp = sub.add_parser("compare", help="compare a plasticity rule with data (and fit it)",
                        description="Run a synapse model through a data set's experimental protocol, print "
                        "model versus data (RMSE, chi2 with the SEMs), optionally fit parameters, write a figure.")
    sp.add_argument("synapse", help="synapse model, e.g. pair_stdp or triplet_stdp")
    sp.add_argument("dataset", help="data set, e.g. bi_poo_1998, sjostrom_2001, wang_2005 ('brianlearn datasets')")
    sp.add_argument("--fit", nargs="+", metavar="PARAM", help="parameters to fit, e.g. A_plus tau_plus")
    sp.add_argument("--params", default=None, help="shipped parameter set, e.g. pfister_visual_cortex_minimal")
    sp.add_argument("--pairing", default="trains", choices=("trains", "regular60"),
                    help="Sjöström protocol: the experiment's trains (default) or 60 regular pairings")
    sp.add_argument("--out", default="figures", help="folder for the figure (default: figures)")
    device_opts(sp)
    sp.set_defaults(func=_cmd_compare)
    sp = sub.add_parser("sweep", help="fit and score every point of a parameter grid on Dask",
                        description="Fit and score every point of a grid file (estimator, data set, fixed "
                        "parameters, grid, seeds, score; see brianlearn.sweep) on a local Dask cluster or an "
                        "existing one, one row per point in a CSV table; points already in the table are skipped.")
    sp.add_argument("grid", help="grid file (.toml or .json)")
    sp.add_argument("--table", required=True, help="CSV table to append to (created if needed)")
    sp.add_argument("--workers", type=int, default=None,
                    help="worker processes of a local Dask cluster (default: the cores; 0: serial, no Dask)")
    sp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="address of a running Dask scheduler (e.g. a dask-jobqueue SLURM/PBS cluster)")
    sp.add_argument("--plot", default=None, metavar="X", help="also plot the score against parameter X (PNG beside the table)")
    sp.add_argument("--line", default=None, metavar="P", help="with --plot: one line per value of parameter P")
    sp.add_argument("--score", default="score", help="with --plot: column to plot (score, train_score, fit_time)")
    sp.set_defaults(func=_cmd_sweep)
    sp = sub.add_parser("datasets", help="list the shipped reference data sets",
                        description="List the plasticity data sets shipped with brianlearn.")
    sp.set_defaults(func=_cmd_datasets)
    return p


def main(argv=None):
    """Entry point of the ``brianlearn`` command."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, FileNotFoundError) as exc:  # clear errors, no traceback
        print(f"brianlearn: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
