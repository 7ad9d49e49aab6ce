"""Equilibrium propagation: the learning rates (and the rate network's annealing) chosen on a validation set.

Reference: Mesnard, Gerstner & Brea (2016), arXiv:1612.03214 (seed 003), and Scellier & Bengio
(2017): the two-link-arm task of ``figures/eqprop_rate.py`` and ``figures/eqprop_lif.py``. The
papers give no learning rates for this task; these are this project's, and this experiment is
where they come from.

Here: each network is trained on the first seed's training set exactly as its experiment trains
it (same samples, passes and evaluations), with the per-layer learning rates `BASE_ETAS` (the
hand-set values the project started from) scaled by each factor of its grid; the score is the mean
MSE over the last quarter of the evaluations on a **validation** set (an independent draw of the
task, `regression_validation`), never on the held-out set the experiments report. Factors whose
score lies within `TIE` of the lowest count as tied; among them the largest is chosen (the fastest
learning), with the annealing that scores best at that factor. The grids were widened until the
chosen factor lay inside them (a first run with factors 0.25-1 for the LIF network and 0.5-2 for
the rate network chose factors at its edges). The estimator defaults (`DEFAULT_ETAS` of
``protocols/eqprop.py``) are the chosen values, one pair per rule of the LIF network; both nudging
forms share their rule's rates (the nudging form does not change the scale of the updates). The
rate network's `anneal` (final / initial learning rate) is chosen the same way; the LIF network
keeps anneal 0.1 (not tuned: each LIF fit costs about 7 min on one core). The LIF ``--full`` run
(5 passes, about 1 h per fit) is not tuned here: it halves the chosen rates, a choice made without
a validation run, and says so.

Usage: python figures/eqprop_tuning.py [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_tuning.png and its rows of figures/RESULTS.md.
"""

import numpy as np

from brianlearn.datasets.regression import regression_task, regression_validation
from brianlearn.figures._parallel import parallel_map
from brianlearn.figures._plotting import plt, save
from brianlearn.figures.eqprop_lif import (EPOCHS_QUICK as LIF_EPOCHS, HIDDEN, N_EVALUATIONS, N_TEST, N_TRAIN,
                                           NEURONS_PER_DIM, late_and_early)
from brianlearn.figures.eqprop_rate import EPOCHS_QUICK as RATE_EPOCHS, EVAL_EVERY as RATE_EVAL_EVERY
from brianlearn.protocols.eqprop import EquilibriumPropagation
from brianlearn.results import figure_main, record_results

__all__ = ["run", "choose", "GRID", "BASE_ETAS"]

# ---------------------------------------------------------------- parameters
#: validation samples (an independent draw of the two-link-arm task)
N_VAL = 1000
#: scores within this relative margin of the best count as tied (the largest factor wins)
TIE = 0.05
#: the rates the factors scale (per weight layer: hidden, output): the hand-set values the
#: project started from; the factors run until the best score is inside each grid
BASE_ETAS = {"rate": (0.1, 0.05), "lif": (0.003, 0.0015)}
_LIF = dict(hidden=(HIDDEN,), neuron="lif", nudging="seed", neurons_per_dim=NEURONS_PER_DIM, epochs=LIF_EPOCHS,
            eval_every=N_TRAIN * LIF_EPOCHS // N_EVALUATIONS)
#: network -> (EquilibriumPropagation arguments, the rates the factors scale, factors, annealing values)
GRID = {
    "LIF 2-300-2, rule chl": (dict(_LIF, rule="chl"), BASE_ETAS["lif"], (0.0625, 0.125, 0.25, 0.5), (0.1,)),
    "LIF 2-300-2, rule delta": (dict(_LIF, rule="delta"), BASE_ETAS["lif"], (0.5, 1.0, 2.0, 4.0), (0.1,)),
    "rate 2-20-2": (dict(hidden=(20,), epochs=RATE_EPOCHS, eval_every=RATE_EVAL_EVERY), BASE_ETAS["rate"],
                    (0.5, 1.0, 2.0, 4.0), (0.1, 1.0)),
}


def _point(args):
    """One fit scored on the validation set; returns ``(network, factor, anneal, val curve, samples)``.
    (Everything it needs comes in ``args``: a worker process sees this module as imported.)"""
    name, kw, etas, factor, anneal, seed, device, n_train, n_val = args
    Xtr, Ytr, _, _ = regression_task(n_train, N_TEST, seed=seed)
    Xval, Yval = regression_validation(n_val, seed=seed)
    net = EquilibriumPropagation(eta=tuple(factor * e for e in etas), anneal=anneal, seed=seed, device=device, **kw)
    net.fit(Xtr, Ytr, X_val=Xval, Y_val=Yval)
    h = net.history_
    return name, factor, anneal, np.asarray(h["val_mse"], float), np.asarray(h["n_samples"])


def choose(scores, tie=TIE):
    """The chosen key of ``scores`` (key ``(factor, anneal)`` -> validation score): the largest
    factor among those within ``tie`` of the lowest score, with its best-scoring anneal."""
    best = min(scores.values())
    factor = max(f for (f, _), v in scores.items() if v <= (1 + tie) * best)
    return min(((f, a) for f, a in scores if f == factor), key=scores.get)


def run(out="figures", quick=True, seed=0, device=None, n_jobs=None):
    """Fit every grid point (in ``n_jobs`` processes, default: one per core), plot
    ``eqprop_tuning.png``, write the rows; return the scores."""
    points = [(name, kw, etas, f, a, seed, device, N_TRAIN, N_VAL) for name, (kw, etas, factors, anneals) in GRID.items()
              for f in factors for a in anneals]
    done = parallel_map(_point, points, n_jobs)
    table = {}
    for name, f, a, val, samples in done:
        late = late_and_early(val)[0]
        table.setdefault(name, {})[(f, a)] = (late, val, samples)
        print(f"  {name}: eta x {f:g}, anneal {a:g}: validation MSE, late-phase mean {late:.3g}", flush=True)
    # ------------------------------------------------------------ figure
    fig, ax = plt().subplots(1, len(GRID), figsize=(4.3 * len(GRID), 3.6), squeeze=False)
    for a_, (name, pts) in zip(ax[0], table.items()):
        for (f, an), (late, val, samples) in sorted(pts.items()):
            a_.plot(np.maximum(samples, 1), val, "o-", ms=3, label=f"eta x {f:g}, anneal {an:g}: {late:.2g}")
        a_.set(xscale="log", yscale="log", xlabel="training samples (0 drawn at 1)", ylabel="validation MSE",
               title=name)
        a_.legend(frameon=False, fontsize=7)
    fig.tight_layout()
    path = save(fig, out, "eqprop_tuning.png", dpi=110)
    # ------------------------------------------------------------ rows
    rows, chosen = [], {}
    for name, pts in table.items():
        _, etas, _, _ = GRID[name]
        scores = {k: v[0] for k, v in pts.items()}
        chosen[name] = choose(scores)
        f, an = chosen[name]
        for (g, a), s in sorted(scores.items()):
            rows.append({"quantity": f"{name}: eta = {', '.join(f'{g * e:g}' for e in etas)} (x {g:g}), anneal {a:g}: "
                                     f"validation MSE, mean of the last quarter of the evaluations (seed {seed})",
                         "measured": s, "paper": "-", "figure": path})
        rows.append({"quantity": f"{name}: chosen (lowest validation score; within {TIE:.0%} of it, the largest "
                                 "factor, with its best anneal)", "measured": f"eta = {', '.join(f'{f * e:g}' for e in etas)}, anneal {an:g}",
                     "paper": "-", "figure": path})
    record_results("eqprop_tuning", rows, folder=out,
                   title="Equilibrium propagation: learning rates chosen on the validation set",
                   command="brianlearn run eqprop")
    return {"scores": {n: {k: v[0] for k, v in p.items()} for n, p in table.items()}, "chosen": chosen}


if __name__ == "__main__":
    figure_main(run, __doc__)
