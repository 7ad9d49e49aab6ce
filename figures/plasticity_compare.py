"""A synapse model versus a plasticity data set: the table, the figure, optionally a fit.

What ``brianlearn compare SYNAPSE DATASET [--params SET] [--fit PARAM ...]`` runs: the data
set's stimulus (Bi & Poo 1998 window, Sjöström et al. 2001 frequency dependence or Wang et al.
2005 triplets; `brianlearn.protocols.plasticity.compare`) on the synapse model, the
comparison printed (RMSE, χ² with the SEMs, points within one SEM), and the figure of model
versus data (plus the fitted model) written to ``<out>/plasticity_compare_<synapse>_<dataset>.png``.
Also the plotting helpers of the plasticity figures (`plot_comparison`, `plot_sjostrom`).

Usage: python figures/plasticity_compare.py [--synapse pair_stdp] [--dataset bi_poo_1998]
[--params SET] [--fit PARAM ...] [--device D] [--out DIR]
"""

import os

import numpy as np

from brianlearn.datasets import plasticity as datasets
from brianlearn.figures._plotting import plt, save
from brianlearn.protocols.plasticity import compare, fit
from brianlearn.results import figure_main

__all__ = ["compare_command", "plot_comparison", "save_comparison", "plot_sjostrom", "run"]

def plot_comparison(comp, ax=None, label=None, color=None, data=True):
    """Draw the data (with SEM) and the model of a `Comparison` on ``ax`` (a new figure if None).

    Window data are drawn against Δt (model as a curve), other data sets one point per labelled
    condition (categorical axis, model as unjoined markers). Returns ``ax``.
    """
    if ax is None:
        _, ax = plt().subplots(figsize=(5, 3.6))
    x = np.arange(len(comp.data))
    kind = comp.table.meta.get("protocol")
    if kind == "window":
        x = comp.table["dt_ms"]
    if data:
        if comp.sem is not None:
            ax.errorbar(x, comp.data, yerr=comp.sem, fmt="o", color="k", ms=4, capsize=2, label=comp.dataset)
        else:
            ax.plot(x, comp.data, "o", color="k", ms=4, label=comp.dataset)
    # conditions are categories (no line joins them); the window is a curve over dt
    ax.plot(x, comp.model, "s" if kind != "window" else "-", color=color, ms=4,
            label=label or f"{comp.synapse} (RMSE {comp.rmse:.1f} %)")
    if kind != "window":
        ax.set_xticks(x)
        ax.set_xticklabels(comp.labels, rotation=45, ha="right", fontsize=7)
        ax.set_xlabel("condition (categorical)", fontsize=8)
    else:
        ax.set_xlabel("dt = t_post - t_pre (ms)")
    ax.axhline(0, color="0.7", lw=0.6)
    ax.set_ylabel("weight change (%)")
    ax.legend(frameon=False, fontsize=7)
    return ax


def save_comparison(comp, path):
    """A PNG of one `Comparison` at ``path``; sets ``comp.figure`` and returns the path."""
    fig, ax = plt().subplots(figsize=(6, 4))
    plot_comparison(comp, ax)
    ax.set_title(f"{comp.synapse} vs {comp.dataset}", fontsize=9)
    fig.tight_layout()
    comp.figure = save(fig, os.path.dirname(os.path.abspath(path)), os.path.basename(path), dpi=120)
    return comp.figure


def plot_sjostrom(curves, figsize=(13, 3.8)):
    """The Sjöström et al. (2001) data, one panel per Δt (+10 ms, -10 ms), with model curves.

    The x axis is the pairing frequency in Hz (linear; the 0.1 Hz point sits next to 0). The
    legend is outside the right panel.
    ``curves``: ``[(values, fmt, kwargs), ...]``, ``values`` one per data row (the data set's
    order); each is drawn with ``ax.plot(f, values[rows of the panel], fmt, **kwargs)``, ``f``
    the panel's frequencies (Hz, ascending).
    Returns ``(fig, axes)``.
    """
    data = datasets.load("sjostrom_2001")
    fig, ax = plt().subplots(1, 2, figsize=figsize, sharey=True)
    for k, delay in enumerate((10.0, -10.0)):
        rows = np.flatnonzero(data["dt_ms"] == delay)
        freq = np.asarray(data["frequency_hz"], dtype=float)
        rows = rows[np.argsort(freq[rows], kind="stable")]
        x = freq[rows]
        ax[k].errorbar(x, np.asarray(data["change_percent"])[rows], yerr=np.asarray(data["sem_percent"])[rows],
                       fmt="o", color="k", capsize=3, label="Sjöström et al. 2001", zorder=3)
        for values, fmt, kwargs in curves:
            ax[k].plot(x, np.asarray(values)[rows], fmt, **kwargs)
        ax[k].set_xticks(x)
        ax[k].set_xticklabels([f"{f:g}" for f in x])
        ax[k].set_xlim(-2.5, 1.06 * x.max())
        ax[k].set(xlabel="pairing frequency (Hz)", title=f"dt = {delay:+g} ms")
        ax[k].axhline(0, color="0.7", lw=0.6)
    ax[0].set_ylabel("weight change (%)")
    ax[1].legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig, ax


def compare_command(synapse, dataset, fit_params=(), out="figures", params=None, pairing="trains", device=None):
    """``brianlearn compare SYNAPSE DATASET [--fit PARAM ...]``: print model versus data (and fit).

    Writes ``<out>/plasticity_compare_<synapse>_<dataset>.png`` and returns a dict with the
    comparison (and the fit).
    """
    comp = compare(synapse, dataset, params=params, pairing=pairing, device=device)
    print(comp.summary())
    name = synapse if isinstance(synapse, str) else synapse.name
    dname = dataset if isinstance(dataset, str) else dataset.name
    fig, ax = plt().subplots(figsize=(6.5, 4))
    plot_comparison(comp, ax, color="C0")
    result = {"comparison": comp.as_dict(), "figure": os.path.join(out, f"plasticity_compare_{name}_{dname}.png")}
    if fit_params:
        res = fit(synapse, dataset, list(fit_params), initial=params, pairing=pairing, device=device)
        print(res.summary())
        plot_comparison(res.after, ax, color="C3", data=False, label=f"fitted (RMSE {res.after.rmse:.1f} %)")
        result["fit"] = {"params": {k: str(v) for k, v in res.params.items()}, "after": res.after.as_dict()}
    ax.set_title(f"{comp.synapse} vs {dname}", fontsize=9)
    fig.tight_layout()
    comp.figure = save(fig, out, f"plasticity_compare_{name}_{dname}.png", dpi=120)
    print(f"figure: {comp.figure}")
    return result


def run(out="figures", quick=True, seed=0, device=None, synapse="pair_stdp", dataset="bi_poo_1998", params=None,
        fit_params=(), pairing="trains"):
    """`compare_command` with the figure scripts' options (``quick`` and ``seed`` are unused)."""
    return compare_command(synapse, dataset, fit_params=fit_params or (), out=out, params=params, pairing=pairing,
                           device=device)


if __name__ == "__main__":
    figure_main(run, __doc__, options={
        "--synapse": {"default": "pair_stdp", "help": "synapse model (default pair_stdp)"},
        "--dataset": {"default": "bi_poo_1998", "help": "data set (brianlearn datasets)"},
        "--params": {"default": None, "help": "parameter set (e.g. bi_poo_1998)"},
        "--fit": {"dest": "fit_params", "nargs": "*", "default": (), "help": "parameters to fit"},
        "--pairing": {"default": "trains", "help": "trains or regular60 (frequency data)"}})
