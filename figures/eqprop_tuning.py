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
learning), with the annealing that scores best at that factor. The rate network is scored on
its two 2-20-2 variants, symmetric and fixed random feedback weights, by the worse of the two
(its defaults must serve both findings). The grids were widened until the chosen factor lay
inside them: a first run (factors 0.25-1 for the LIF network, 0.5-2 for the rate network) chose
factors at its edges, a second (rate up to 4) chose 4; with factors up to 16 the symmetric
network alone chose 8, at which the fixed-feedback network diverges (validation MSE 0.29), hence
the worse-of-both score. The estimator defaults (`DEFAULT_ETAS` of ``protocols/eqprop.py``) are
the chosen values, one pair per rule of the LIF network; both nudging forms share their rule's
rates (the nudging form does not change the scale of the updates). The rate network's `anneal`
(final / initial learning rate) is chosen the same way; the LIF network keeps anneal 0.1 (not tuned: each
LIF fit costs about 7 min on one core).

``--full``: the LIF ``--full`` run (seed 003's model, 5 passes instead of 2, about 10-13 min per fit
here) scales the estimator's defaults by `FULL_ETA_FACTOR` of ``figures/eqprop_lif.py``; that factor
is chosen here the same way, on the same validation set, over `FULL_GRID` (factors of the
defaults, 5 passes, seed 003's model only), and written to its own section (``eqprop_tuning_full``).

Usage: python figures/eqprop_tuning.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_tuning[_full].png and its rows of figures/RESULTS.md.
"""

import numpy as np

from brianlearn.datasets.regression import regression_task, regression_validation
from brianlearn.figures._parallel import parallel_map
from brianlearn.figures._plotting import plt, save
from brianlearn.figures.eqprop_lif import (EPOCHS_FULL as LIF_EPOCHS_FULL, EPOCHS_QUICK as LIF_EPOCHS, HIDDEN, N_EVALUATIONS, N_TEST, N_TRAIN,
                                           NEURONS_PER_DIM, late_and_early)
from brianlearn.figures.eqprop_rate import EPOCHS_QUICK as RATE_EPOCHS, EVAL_EVERY as RATE_EVAL_EVERY
from brianlearn.figures.eqprop_rate import HAND_SET_ETAS
from brianlearn.protocols.eqprop import DEFAULT_ETAS, EquilibriumPropagation
from brianlearn.results import experiment_checkpoint, figure_main, record_results, sized

__all__ = ["run", "choose", "GRID", "FULL_GRID", "BASE_ETAS"]

# ---------------------------------------------------------------- parameters
#: validation samples (an independent draw of the two-link-arm task)
N_VAL = 1000
#: scores within this relative margin of the best count as tied (the largest factor wins)
TIE = 0.05
#: the rates the factors scale (per weight layer: hidden, output): the hand-set values the
#: project started from; the factors run until the best score is inside each grid
BASE_ETAS = {"rate": HAND_SET_ETAS, "lif": (0.003, 0.0015)}
_LIF = dict(hidden=(HIDDEN,), neuron="lif", nudging="seed", neurons_per_dim=NEURONS_PER_DIM, epochs=LIF_EPOCHS,
            eval_every=N_TRAIN * LIF_EPOCHS // N_EVALUATIONS)
_RATE = dict(hidden=(20,), epochs=RATE_EPOCHS, eval_every=RATE_EVAL_EVERY)
#: network -> ({variant: EquilibriumPropagation arguments}, the rates the factors scale, factors,
#: annealing values); a network's score at a grid point is the worst of its variants' scores (its
#: defaults must serve each variant: the rate network learns with symmetric and with fixed
#: random feedback weights in seed 003's findings)
GRID = {
    "rate 2-20-2": ({"": _RATE, ", fixed feedback": dict(_RATE, fixed_feedback=True)}, BASE_ETAS["rate"],
                    (0.5, 1.0, 2.0, 4.0, 8.0, 16.0), (0.1, 1.0)),
    "LIF 2-300-2, rule chl": ({"": dict(_LIF, rule="chl")}, BASE_ETAS["lif"], (0.0625, 0.125, 0.25, 0.5), (0.1,)),
    "LIF 2-300-2, rule delta": ({"": dict(_LIF, rule="delta")}, BASE_ETAS["lif"], (0.5, 1.0, 2.0, 4.0), (0.1,)),
}
#: ``--full``: the factor of the LIF ``--full`` run (seed 003's model, 5 passes), scaling the
#: estimator's defaults (the quick schedule's choice above); a factor 1 keeps them
FULL_GRID = {
    f"LIF 2-300-2, rule chl, {LIF_EPOCHS_FULL} passes (--full)": (
        {"": dict(_LIF, rule="chl", epochs=LIF_EPOCHS_FULL, eval_every=N_TRAIN * LIF_EPOCHS_FULL // N_EVALUATIONS)},
        DEFAULT_ETAS["lif", "chl"], (0.25, 0.5, 1.0, 2.0), (0.1,)),
}


def _point(args):
    """One fit scored on the validation set; returns ``(network, variant, factor, anneal, val
    curve, samples)``. (Everything it needs comes in ``args``: a worker process sees this module
    as imported.)"""
    name, variant, kw, etas, factor, anneal, seed, device, n_train, n_val, quick = args
    Xtr, Ytr, _, _ = regression_task(n_train, N_TEST, seed=seed)
    Xval, Yval = regression_validation(n_val, seed=seed)
    net = EquilibriumPropagation(eta=tuple(factor * e for e in etas), anneal=anneal, seed=seed, device=device, **kw)
    net.fit(Xtr, Ytr, X_val=Xval, Y_val=Yval,
            **experiment_checkpoint(f"eqprop_tuning_{name}{variant}_x{factor:g}_anneal{anneal:g}", quick, seed, device))
    h = net.history_
    print(f"  {name}{variant}: eta x {factor:g}, anneal {anneal:g}: validation MSE, late-phase mean "
          f"{late_and_early(h['val_mse'])[0]:.3g}", flush=True)
    return name, variant, factor, anneal, np.asarray(h["val_mse"], float), np.asarray(h["n_samples"])


def choose(scores, tie=TIE):
    """The chosen key of ``scores`` (key ``(factor, anneal)`` -> validation score): the largest
    factor among those within ``tie`` of the lowest score, with its best-scoring anneal."""
    best = min(scores.values())
    factor = max(f for (f, _), v in scores.items() if v <= (1 + tie) * best)
    return min(((f, a) for f, a in scores if f == factor), key=scores.get)


def run(out="figures", quick=True, seed=0, device=None, n_jobs=None):
    """Fit every grid point of every variant (in ``n_jobs`` processes, default: one per core) of
    `GRID` (quick) or `FULL_GRID` (``quick=False``), plot ``eqprop_tuning[_full].png``, write the
    rows; return the scores and the choices."""
    grid = GRID if quick else FULL_GRID
    points = [(name, v, kw, etas, f, a, seed, device, N_TRAIN, N_VAL, quick)
              for name, (variants, etas, factors, anneals) in grid.items() for v, kw in variants.items()
              for f in factors for a in anneals]
    table = {}  # network -> (factor, anneal) -> variant -> (late-phase score, curve, samples)
    for name, v, f, a, val, samples in parallel_map(_point, points, n_jobs):
        table.setdefault(name, {}).setdefault((f, a), {})[v] = (late_and_early(val)[0], val, samples)
    #: network -> its score per grid point (the worst of its variants') and the chosen point
    scores = {name: {k: max(x[0] for x in per.values()) for k, per in pts.items()} for name, pts in table.items()}
    chosen = {name: choose(sc) for name, sc in scores.items()}
    # ------------------------------------------------------------ figure
    fig, ax = plt().subplots(1, len(grid), figsize=(4.3 * len(grid) + 0.7 * (len(grid) == 1), 5.0), squeeze=False)
    for a_, (name, pts) in zip(ax[0], table.items()):
        variants, _, factors, anneals = grid[name]
        for k, (v, an) in enumerate((v, an) for v in variants for an in anneals):
            a_.plot(factors, [pts[f, an][v][0] for f in factors], "o-" if not v else "x--", color=f"C{k}",
                    label=f"anneal {an:g}{v}")
        worse = "worse of the two," if len(variants) == 2 else "worst of the variants,"
        if len(variants) > 1:  # the score the choice is made on: per grid point, the worse of the variants'
            for an, colour in zip(anneals, ("gold", "orchid", "c", "y")):  # (wide bands under the variants')
                a_.plot(factors, [scores[name][f, an] for f in factors], color=colour, lw=7, alpha=0.45, zorder=1,
                        solid_capstyle="round", label=f"{worse} anneal {an:g} (chosen on this)")
        f_best, an_best = chosen[name]
        best = min(scores[name].values())
        a_.axhline((1 + TIE) * best, color="0.6", ls=":", lw=1, label=f"lowest score + {TIE:.0%} (tied below)")
        a_.axvline(f_best, color="k", ls=":", lw=1)
        a_.plot(f_best, scores[name][f_best, an_best], "*", color="k", ms=14, mfc="none", mew=1.5, zorder=5,
                label=f"chosen: x {f_best:g}, anneal {an_best:g}")
        a_.set(xscale="log", yscale="log", xlabel="learning-rate factor", ylabel="validation MSE (late-phase mean)",
               title=name)
        a_.set_xticks(factors, [f"{f:g}" for f in factors], minor=False)
        a_.set_xticks([], minor=True)
        a_.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    path = save(fig, out, sized("eqprop_tuning", quick) + ".png", dpi=110)
    # ------------------------------------------------------------ rows
    rows = []
    for name, pts in table.items():
        variants, etas, _, _ = grid[name]
        rate = lambda g: ", ".join(f"{g * e:g}" for e in etas)  # noqa: E731
        for v in variants:
            for (g, a), per in sorted(pts.items()):
                rows.append({"quantity": f"{name}{v}: eta = {rate(g)} (x {g:g}), anneal {a:g}: validation MSE, mean "
                                         f"of the last quarter of the evaluations (seed {seed})",
                             "measured": per[v][0], "paper": "-", "figure": path})
        f, an = chosen[name]
        worst = " (score: the worse of its variants')" if len(variants) > 1 else ""
        rows.append({"quantity": f"{name}: chosen{worst} (lowest validation score; within {TIE:.0%} of it, the "
                                 "largest factor, with its best anneal)",
                     "measured": f"eta = {rate(f)}, anneal {an:g}", "paper": "-", "figure": path})
        if not quick:
            rows.append({"quantity": f"{name}: chosen factor of the estimator's default rates "
                                     "(figures/eqprop_lif.py FULL_ETA_FACTOR)", "measured": f"{f:g}", "paper": "-",
                         "figure": path})
    record_results(sized("eqprop_tuning", quick), rows, folder=out,
                   title="Equilibrium propagation: learning rates chosen on the validation set"
                         + ("" if quick else f", LIF {LIF_EPOCHS_FULL}-pass schedule"),
                   command="brianlearn run eqprop" + ("" if quick else " --full"))
    return {"scores": {n: {k: {v: x[0] for v, x in per.items()} for k, per in p.items()} for n, p in table.items()},
            "chosen": chosen}


if __name__ == "__main__":
    figure_main(run, __doc__)
