"""Rate-network findings of Mesnard, Gerstner & Brea (2016): learning curves of the four networks
(no hidden layer; fixed random hidden, output only; 20 hidden all layers; the same with fixed
feedback), predictions over the (phi, theta) square, baselines.

Mesnard, Gerstner & Brea (2016), "Towards deep learning with spiking neurons in energy based
models with contrastive Hebbian plasticity", arXiv:1612.03214; Scellier & Bengio (2017), Front.
Comput. Neurosci. 11:24. The two-link-arm regression task (inputs: two joint angles; targets:
the end point of the arm, both in [0, 1]) is learned by the rate EP network in Brian2 (one
compiled simulation, per-sample updates, random sign of beta) and by its NumPy reference with
the spec's minibatches of 20; a linear least-squares fit and a backprop network of the same
shape are the baselines. The Brian2 network uses the estimator's default learning rates (chosen
for 2-20-2 on a validation set by ``figures/eqprop_tuning.py``) in all four networks; the NumPy
reference keeps the rates it was set up with (`HAND_SET_ETAS`, not tuned).

Usage: python figures/eqprop_rate.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_learning_curves.png, figures/eqprop_predictions.png and their rows of
figures/RESULTS.md (quick sizes by default).
"""

import os
import time

import numpy as np

from brianlearn.datasets.regression import arm_targets, regression_task, two_link_arm
from brianlearn.figures._plotting import plt
from brianlearn.protocols.eqprop import (EquilibriumPropagation, RateEPNetwork, RateEPReference, backprop_baseline,
                                         linear_baseline)
from brianlearn.results import experiment_checkpoint, figure_main, mean_range, record_results, sized

__all__ = ["run", "example_network", "RATE_FINDINGS", "curves_figure", "prediction_figure"]

#: training and held-out samples of the task; passes over the training set (quick, full)
N_TRAIN, N_TEST = 20000, 1000
EPOCHS_QUICK, EPOCHS_FULL = 3, 5
#: samples between two held-out evaluations
EVAL_EVERY = 2000
#: the NumPy reference (the spec's set-up): minibatches of 20 with 5x the per-sample learning rates
#: `HAND_SET_ETAS` (hidden, output; the values the project started from, not tuned), 5 passes
BATCH, BATCH_ETA_FACTOR, BATCH_EPOCHS = 20, 5, 5
HAND_SET_ETAS = (0.1, 0.05)

#: the four rate-network findings: label -> EquilibriumPropagation arguments
RATE_FINDINGS = {
    "no hidden layer": dict(hidden=()),
    "fixed random hidden (20), output weights learned": dict(hidden=(20,), learn="output"),
    "20 hidden, all layers learned": dict(hidden=(20,)),
    "20 hidden, all layers, fixed feedback weights": dict(hidden=(20,), fixed_feedback=True),
}


def example_network(quick=True, seed=0, device=None):
    """The network ``brianlearn build eqprop`` exports: `RateEPNetwork` 2-20-2 on the two-link arm."""
    X, Y = two_link_arm(1000 if quick else 20000, seed=seed)
    return RateEPNetwork(device=device, seed=seed), {"x": X, "y": Y}


#: seeds (data, initial weights, sample order)
N_SEEDS = 3


def _fits(seed, quick, device, progress):
    """The four findings' fits and their NumPy references for one seed."""
    epochs = EPOCHS_QUICK if quick else EPOCHS_FULL
    Xtr, Ytr, Xte, Yte = regression_task(N_TRAIN, N_TEST, seed=seed)
    res = {"linear": linear_baseline(Xtr, Ytr, Xte, Yte),
           "backprop": backprop_baseline(Xtr, Ytr, Xte, Yte, hidden=(20,), seed=seed)}
    curves, nets = {}, {}
    for label, kw in RATE_FINDINGS.items():
        start = time.time()
        net = EquilibriumPropagation(seed=seed, device=device, progress=progress, epochs=epochs,
                                     eval_every=EVAL_EVERY, **kw)
        net.fit(Xtr, Ytr, X_val=Xte, Y_val=Yte, **experiment_checkpoint(f"eqprop_rate_{label}", quick, seed, device))
        curves[label] = net.history_
        nets[label] = net
        hidden_eta, output_eta = (BATCH_ETA_FACTOR * e for e in HAND_SET_ETAS)
        ref = RateEPReference((2,) + kw["hidden"] + (2,), eta=[hidden_eta] * len(kw["hidden"]) + [output_eta],
                              learn=kw.get("learn", "all"), fixed_feedback=kw.get("fixed_feedback", False),
                              batch_size=BATCH, seed=seed)
        if kw.get("fixed_feedback"):
            ref.B = [None if B is None else B.copy() for B in net.feedback_]  # the same random B
        ref.fit(Xtr, Ytr, epochs=BATCH_EPOCHS, X_val=Xte, Y_val=Yte, eval_every=N_TRAIN)
        res[label] = {"brian2": float(net.history_["val_mse"][-1]), "numpy_batch20": float(ref.history[-1, 2]),
                      "curve_numpy": ref.history, "seconds": time.time() - start}
        print(f"eqprop rate, {label}, seed {seed}: held-out MSE {res[label]['brian2']:.3g} (Brian2, per sample), "
              f"{res[label]['numpy_batch20']:.3g} (NumPy, minibatches of 20)", flush=True)
    return res, curves, nets


def run(out="figures", quick=True, seed=0, device=None, progress=False):
    """Train the four rate networks (Brian2, per-sample updates) and the NumPy reference
    (minibatches of 20) for three seeds; baselines; learning-curve and prediction figures (first
    seed); results rows (mean and range over the seeds, acceptance for each seed)."""
    epochs = EPOCHS_QUICK if quick else EPOCHS_FULL
    seeds = [seed + k for k in range(N_SEEDS)]
    per_seed = [_fits(s, quick, device, progress) for s in seeds]
    res, curves, nets = per_seed[0]
    ev = lambda f: np.array([f(r) for r, _, _ in per_seed])  # noqa: E731  (one value per seed)
    # ---- the figures
    os.makedirs(out, exist_ok=True)
    f_curve = os.path.join(out, sized("eqprop_learning_curves", quick) + ".png")
    curves_figure(f_curve, curves, res, title=f"Rate EP (Brian2, per-sample updates), two-link arm; seed {seed}")
    f_pred = os.path.join(out, sized("eqprop_predictions", quick) + ".png")
    prediction_figure(f_pred, {"rate, 20 hidden": nets["20 hidden, all layers learned"],
                               "rate, no hidden": nets["no hidden layer"]})
    # ---- the rows
    all_l = ev(lambda r: r["20 hidden, all layers learned"]["brian2"])
    fixed_fb = ev(lambda r: r["20 hidden, all layers, fixed feedback weights"]["brian2"])
    none = ev(lambda r: r["no hidden layer"]["brian2"] / r["linear"])
    output = ev(lambda r: r["fixed random hidden (20), output weights learned"]["brian2"]
                / r["20 hidden, all layers learned"]["brian2"])
    over = f"mean (range) over {len(seeds)} seeds"
    rows = [
        {"quantity": f"linear least-squares baseline, held-out MSE, {over}", "measured": mean_range(ev(lambda r: r["linear"])),
         "paper": "1.6e-2 (spec)", "figure": f_pred},
        {"quantity": f"backprop 2-20-2 (MLPRegressor) baseline, held-out MSE, {over}",
         "measured": mean_range(ev(lambda r: r["backprop"])), "paper": "3e-4 (spec)"},
        {"quantity": f"rate EP 20 hidden, all layers, held-out MSE after {epochs}x{N_TRAIN} samples (Brian2), {over}",
         "measured": mean_range(all_l), "mean": float(np.mean(all_l)), "paper": "learnable; <= 1e-3 for every seed",
         "ok": bool(np.all(all_l <= 1e-3)), "figure": f_curve},
        {"quantity": f"rate EP 20 hidden, fixed feedback weights, held-out MSE (Brian2), {over}",
         "measured": mean_range(fixed_fb), "paper": "learnable; <= 1e-3 for every seed",
         "ok": bool(np.all(fixed_fb <= 1e-3)), "figure": f_curve},
        {"quantity": f"rate EP no hidden layer: held-out MSE / linear baseline (Brian2), {over}",
         "measured": mean_range(none), "paper": "not learnable; >= 0.8 for every seed", "ok": bool(np.all(none >= 0.8)),
         "figure": f_curve},
        {"quantity": f"rate EP fixed random hidden, output only: MSE / all-layers MSE (Brian2), {over}",
         "measured": mean_range(output), "paper": "not learnable; >= 2 for every seed", "ok": bool(np.all(output >= 2)),
         "figure": f_curve},
    ]
    for label in RATE_FINDINGS:
        rows.append({"quantity": f"NumPy reference (minibatches of 20, 5x20000 samples), {label}, held-out MSE, {over}",
                     "measured": mean_range(ev(lambda r: r[label]["numpy_batch20"])),
                     "paper": "spec: 5e-4 - 1e-3" if label == "20 hidden, all layers learned" else "-"})
    record_results(sized("eqprop_rate", quick), rows, folder=out, title="Equilibrium propagation, rate network "
                   "(Scellier & Bengio 2017; Mesnard et al. 2016)",
                   command="brianlearn run eqprop" + ("" if quick else " --full"))
    res["figures"] = [f_curve, f_pred]
    res["per_seed"] = [r for r, _, _ in per_seed]
    return res


def curves_figure(path, curves, res, extra=None, title="Equilibrium propagation on the two-link-arm task", hlines=()):
    """Held-out MSE against training samples (``history_`` of each fit) with the baselines and
    the horizontal lines ``hlines`` (``(value, label, line style)`` each, e.g. a bound)."""
    pyplot = plt()
    baselines = [(key, style, label) for key, style, label in (("linear", ":", "linear least squares"),
                                                               ("backprop", "--", "backprop 2-20-2"))
                 if np.isfinite(res.get(key, np.nan))]  # (a baseline not run is not drawn)
    n_legend = len(curves) + len(extra or {}) + len(baselines) + len(hlines)  # (the entries of the legend below)
    fig, ax = pyplot.subplots(figsize=(6.4, 4.2 + 0.14 * np.ceil(n_legend / 2)))
    first, last = np.inf, 0.0
    for label, h in list(curves.items()) + list((extra or {}).items()):
        n = np.asarray(h["n_samples"], dtype=float)
        first = min(first, n[n > 0].min(initial=np.inf))
        last = max(last, n.max(initial=0.0))
        ax.plot(n, h["val_mse"], marker="o", ms=3, label=label)
    for key, style, label in baselines:
        ax.axhline(res[key], color="k", ls=style, lw=1, label=label)
    for k, (value, label, style) in enumerate(hlines):
        ax.axhline(value, color=f"C{len(curves) + len(extra or {}) + k}", ls=style, lw=1.2, label=label)
    # linear from 0 to the first evaluation, logarithmic beyond: the untrained network sits at x = 0.
    # Ticks: 0, the first evaluation and the powers of ten above it (none inside the linear part,
    # where a log-style tick would suggest a decade that is not there)
    first = first if np.isfinite(first) else 1.0
    last = max(last, first)
    ax.set_xscale("symlog", linthresh=first)
    decades = range(int(np.floor(np.log10(first))), int(np.floor(np.log10(last))) + 1)
    powers = [10.0 ** k for k in decades if 10.0 ** k >= 1.5 * first]  # (not crowding the first evaluation's tick)
    ax.set_xticks([0, first] + powers, ["0", f"{first:g}"] + [f"$10^{{{np.log10(p):.0f}}}$" for p in powers])
    ax.set_xticks([m * 10.0 ** k for k in decades for m in range(2, 10) if first < m * 10.0 ** k <= last], minor=True)
    ax.axvline(first, color="0.8", lw=0.8, zorder=0)  # (the end of the linear part)
    ax.set(yscale="log", xlim=(0, None), xlabel="training samples (linear up to the first evaluation, then log)",
           ylabel="held-out MSE")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)


def prediction_figure(path, nets, n_grid=25):
    """Targets and the fitted estimators' predictions over an ``n_grid`` x ``n_grid`` grid of inputs."""
    pyplot = plt()
    g = (np.arange(n_grid) + 0.5) / n_grid
    P, T = np.meshgrid(g, g, indexing="xy")
    X = np.stack([P.ravel(), T.ravel()], axis=1)
    Y = arm_targets(X)
    preds = {label: net.predict(X) for label, net in nets.items()}
    cols = 1 + len(preds)
    fig, ax = pyplot.subplots(2, cols, figsize=(2.9 * cols + 1, 5.6), squeeze=False, constrained_layout=True)
    for r, name in enumerate(("x", "y")):
        for c, (label, Z) in enumerate([("target", Y)] + list(preds.items())):
            im = ax[r, c].imshow(Z[:, r].reshape(n_grid, n_grid), origin="lower", extent=(0, 1, 0, 1),
                                 vmin=0, vmax=1, cmap="viridis")
            # (this output's MSE over the plotting grid, not the held-out MSE of the rows)
            title = label if c == 0 else f"{label}\ngrid MSE ({name}) {np.mean((Z[:, r] - Y[:, r]) ** 2):.2g}"
            ax[r, c].set_title(f"{name}: {title}", fontsize=8)
            ax[r, c].set(xlabel="phi", ylabel="theta")
    fig.colorbar(im, ax=ax, shrink=0.6, label="arm end point: x (top row), y (bottom row); normalised units [0, 1]")
    fig.savefig(path, dpi=110)
    pyplot.close(fig)


if __name__ == "__main__":
    figure_main(run, __doc__)
