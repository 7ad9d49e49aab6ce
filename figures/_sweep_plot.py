"""
Plots of a sweep table (`brianlearn.sweep`): score against a parameter, one line per value of
another, mean and range over seeds (``brianlearn sweep ... --plot X --line P``).
"""

import json
import os

import numpy as np

from brianlearn.sweep import read_table

__all__ = ["plot_sweep"]


def plot_sweep(rows, x, score="score", line=None, ax=None, logx=None):
    """Score against one parameter, one line per value of another, mean and spread over seeds.

    Parameters
    ----------
    rows : list of dict or str
        A sweep table (`read_table`) or its path.
    x : str
        The parameter on the x axis (its name in the grid file).
    score : str
        The column to plot (``'score'``, ``'train_score'`` or ``'fit_time'``).
    line : str, optional
        The parameter whose values get one line each (every other parameter is averaged over).
    ax : matplotlib Axes, optional
    logx : bool, optional
        Logarithmic x axis (default: when the values span more than a factor of 20).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    rows = read_table(rows) if isinstance(rows, (str, os.PathLike)) else rows
    if not rows:
        raise ValueError("plot_sweep: the sweep table has no rows.")
    for name in (x, line):
        if name is not None and f"param_{name}" not in rows[0]:
            params = sorted(k[6:] for k in rows[0] if k.startswith("param_"))
            raise ValueError(f"plot_sweep: no parameter '{name}' in the table; it has {params}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    groups = {}
    for row in rows:
        key = json.dumps(row[f"param_{line}"]) if line else ""
        groups.setdefault(key, {}).setdefault(json.dumps(row[f"param_{x}"]), []).append(row[score])
    for key, by_x in groups.items():
        xs = sorted(by_x, key=lambda v: json.loads(v))
        xv = np.array([json.loads(v) for v in xs], dtype=float)
        vals = [np.array(by_x[v]) for v in xs]
        mean = np.array([v.mean() for v in vals])
        ax.plot(xv, mean, "o-", label=f"{line} = {json.loads(key)}" if line else None)
        ax.fill_between(xv, [v.min() for v in vals], [v.max() for v in vals], alpha=0.2)
    if logx or (logx is None and np.all(xv > 0) and xv.max() / xv.min() > 20):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{score} (mean, range over seeds)")
    if line:
        ax.legend(frameon=False)
    return ax
