"""Sweeps: rate equilibrium propagation over learning rates and hidden sizes, serially and on Dask.

Reference: scikit-learn's model selection (a grid of parameters x seeds, one fit and score per
point) run by `brianlearn.sweep` on a local Dask cluster; the estimator is the rate EP network
of Scellier & Bengio (2017) (`brianlearn.EquilibriumPropagation`) on the two-link-arm task.
The grid is the example grid file ``figures/sweeps/eqprop_rate.toml`` (hidden sizes 4 and 8 x
learning rates 0.1 and 0.2) with three seeds: the learning rate is a run argument, so each
hidden size compiles once and every other point reuses its binary. The sweep runs twice: once
point after point in this process, then on a `LocalCluster` of 2 worker processes (after the
serial run, so the build cache is warm and the workers only fit). Both tables must hold every
point once, with equal scores; the figure is `plot_sweep` of the serial table. The score is
the MSE on the task's second split, the *validation* split of the sweep (what it selects on):
no number here is a held-out result.

Usage: python figures/sweep_eqprop_rate.py [--full] [--device D] [--seed N] [--out DIR]
"""

import importlib.util
import json
import os
import tempfile
import time

import numpy as np

from brianlearn.figures._plotting import plt, save
from brianlearn.figures._sweep_plot import plot_sweep
from brianlearn.results import figure_main, mean_range, record_results, sized
from brianlearn.sweep import load_spec, run_sweep

__all__ = ["run"]

# ---------------------------------------------------------------- parameters
GRID = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sweeps", "eqprop_rate.toml")
WORKERS = 2  # processes of the local Dask cluster
SIZES = {True: dict(n_train=200, n_test=100), False: dict(n_train=2000, n_test=500)}


def _timed_sweep(spec, table, workers):
    start = time.time()
    rows = run_sweep(spec, table, workers=workers, progress=True)
    return rows, time.time() - start


def _plot(serial, out, quick):
    """`plot_sweep` of the serial table as validation MSE (the table's score is -MSE); the grid
    points and seeds in the title are counted in the table. Returns the PNG's path.

    Parameters
    ----------
    serial : list of dict
        Sweep rows (`run_sweep`): ``'score'`` (-MSE), ``'seed'`` and the ``'param_*'`` columns.
    out : str
        Folder of the PNG.
    quick : bool
    """
    points = {json.dumps({k: v for k, v in r.items() if k.startswith("param_")}, sort_keys=True) for r in serial}
    seeds = {r["seed"] for r in serial}
    fig, ax = plt().subplots(figsize=(5, 3.6))
    plot_sweep([dict(r, mse=-r["score"]) for r in serial], "eta", score="mse", line="hidden", ax=ax)
    ax.set(title=f"rate EP, two-link arm ({len(points)} grid points x {len(seeds)} seeds)",
           ylabel="validation MSE (mean, range over seeds)")
    fig.tight_layout()
    return save(fig, out, sized("sweep_eqprop_rate", quick) + ".png", dpi=120)


def run(out="figures", quick=True, seed=0, device=None):
    """Sweep the grid serially and on 2 Dask workers, plot, write the rows; return both tables."""
    spec = load_spec(GRID)
    spec["seeds"] = [seed, seed + 1, seed + 2]
    spec["dataset_params"] = dict(spec["dataset_params"], **SIZES[quick])
    if device is not None:
        spec["fixed"] = dict(spec["fixed"], device=device)
    with tempfile.TemporaryDirectory() as tmp:
        serial, t_serial = _timed_sweep(spec, os.path.join(tmp, "serial.csv"), workers=0)
        parallel, t_parallel = None, None
        if importlib.util.find_spec("distributed") is not None:  # (the optional extra brianlearn[sweep])
            parallel, t_parallel = _timed_sweep(spec, os.path.join(tmp, "dask.csv"), workers=WORKERS)
    # ------------------------------------------------------------ figure
    path = _plot(serial, out, quick)
    # ------------------------------------------------------------ rows
    by_point = {}
    for r in serial:
        by_point.setdefault((tuple(r["param_hidden"]), r["param_eta"]), []).append(r["score"])
    best = max(by_point, key=lambda k: np.mean(by_point[k]))
    rows = [{"quantity": f"validation MSE, hidden = {h}, eta = {e}, mean (range) over {len(v)} seeds",
             "measured": mean_range(-np.array(v), ".3g"), "paper": "-", "figure": path}
            for (h, e), v in sorted(by_point.items())]
    rows.append({"quantity": "best point (lowest mean validation MSE)", "measured": f"hidden = {best[0]}, eta = {best[1]}",
                 "paper": "-", "figure": path})
    n_struct = len(spec["grid"]["hidden"])
    compiled = sum(bool(r["compiled"]) for r in serial)
    rows.append({"quantity": f"serial sweep: points that compiled (of {len(serial)}; {n_struct} network structures)",
                 "measured": str(compiled), "paper": f"<= {n_struct}: eta is a run argument",
                 "ok": compiled <= n_struct, "figure": path})
    rows.append({"quantity": "wall-clock time of the serial sweep (compilations included if the cache was cold)",
                 "measured": f"{t_serial:.1f} s", "paper": "-", "figure": path})
    if parallel is not None:
        key = {r["point"]: r["score"] for r in serial}
        diff = max(abs(r["score"] - key[r["point"]]) for r in parallel)
        once = sorted(r["point"] for r in parallel) == sorted(key)
        rows.append({"quantity": f"{WORKERS} Dask workers (warm cache): wall-clock time / every point once / "
                                 "largest score difference from the serial run",
                     "measured": f"{t_parallel:.1f} s / {'yes' if once else 'no'} / {diff:.3g}",
                     "paper": "equal scores", "ok": bool(once and diff == 0), "figure": path})
    else:
        rows.append({"quantity": f"{WORKERS} Dask workers", "measured": "not run (dask.distributed not installed: "
                                                                         "pip install 'brianlearn[sweep]')",
                     "paper": "-", "figure": path})
    record_results(sized("sweep_eqprop_rate", quick), rows, folder=out,
                   title="Sweeps on Dask: rate EP over hidden sizes and learning rates",
                   command="brianlearn run sweep" + ("" if quick else " --full"))
    for r in rows:
        print(f"  {r['quantity']}: {r['measured']}")
    return {"serial": serial, "dask": parallel, "seconds": (t_serial, t_parallel)}


if __name__ == "__main__":
    figure_main(run, __doc__)
