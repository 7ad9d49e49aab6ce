"""Spiking EP network of Mesnard, Gerstner & Brea (2016): 300 LIF hidden neurons, 20 neurons per
input and output dimension; learning curve, predictions over the (phi, theta) square, spike
rasters of a free and a nudged phase.

Mesnard, Gerstner & Brea (2016), "Towards deep learning with spiking neurons in energy based
models with contrastive Hebbian plasticity", arXiv:1612.03214 (seed 003): the two-link-arm task
of ``figures/eqprop_rate.py`` learned by leaky integrate-and-fire neurons (population-coded
inputs and outputs, nudged two-compartment output neurons with the factor
lam = RI / (RI + sum_j w_ij s_j), the contrastive Hebbian rule (eq. 3) on rates read from two
cascaded spike traces). The paper: learnable, but not as well as with rate neurons.

Here: seed 003's model (the estimator's defaults) and the three variants one argument away:
the delta rule and/or the target-independent nudging conductance (``nudging='constant'``),
each over three seeds (`VARIANTS`, `N_SEEDS`). The held-out MSE fluctuates from evaluation to
evaluation, so the rows give the mean over the last quarter of the evaluations and its range,
not the last snapshot. The learning rates are the estimator's defaults, one pair per rule,
chosen on a validation set (not this held-out set) by ``figures/eqprop_tuning.py`` for the seed
nudging; the constant-nudging variants use their rule's rates.

Quick: 2 passes over 20 000 samples. Full: 5 passes with the default learning rates scaled by
`FULL_ETA_FACTOR` (0.5), seed 003's model only. The factor is chosen on the validation set by
``figures/eqprop_tuning.py --full`` (factors 0.25-2 of the defaults, 5 passes, seed 0, late-phase
validation MSE 0.036 / 0.037 / 0.043 / 0.066; the largest factor within 5 % of the lowest score).

Usage: python figures/eqprop_lif.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_lif_*.png and their rows of figures/RESULTS.md (quick sizes by default).
"""

import json
import os
import time

import numpy as np
from brian2 import ms

from brianlearn.datasets.regression import regression_task
from brianlearn.figures._parallel import parallel_map
from brianlearn.figures._plotting import plt
from brianlearn.figures.eqprop_rate import curves_figure, prediction_figure
from brianlearn.protocols.eqprop import EquilibriumPropagation, LIFEPNetwork, default_etas, linear_baseline
from brianlearn.results import experiment_checkpoint, figure_main, mean_range, record_results, sized

__all__ = ["run"]

#: training and held-out samples; passes over the training set (quick, full); held-out evaluations per fit
N_TRAIN, N_TEST = 20000, 1000
EPOCHS_QUICK, EPOCHS_FULL = 2, 5
N_EVALUATIONS = 8
#: the network: hidden LIF neurons; neurons per input and output dimension
HIDDEN, NEURONS_PER_DIM = 300, 20
#: the full run's learning rates: this factor times the defaults, chosen on the validation set by
#: ``figures/eqprop_tuning.py --full`` (its rows in RESULTS.md, section eqprop_tuning_full)
FULL_ETA_FACTOR = 0.5


#: the four variants: (rule, nudging); the first is seed 003's model (the estimator's defaults)
VARIANTS = (("chl", "seed"), ("delta", "seed"), ("chl", "constant"), ("delta", "constant"))
#: seeds (data, initial weights, sample order) of every variant
N_SEEDS = 3


def _fit(args):
    """One fit: ``(rule, nudging, seed, quick, device, progress, anneal, net_kw) -> (estimator, data)``."""
    rule, nudging, seed, quick, device, progress, anneal, net_kw = args
    epochs = EPOCHS_QUICK if quick else EPOCHS_FULL
    Xtr, Ytr, Xte, Yte = regression_task(N_TRAIN, N_TEST, seed=seed)
    net = EquilibriumPropagation(hidden=(HIDDEN,), neuron="lif", rule=rule, nudging=nudging, seed=seed,
                                 device=device, progress=progress, epochs=epochs,
                                 eval_every=N_TRAIN * epochs // N_EVALUATIONS, anneal=anneal,
                                 **{"neurons_per_dim": NEURONS_PER_DIM, **net_kw})
    tag = "eqprop_lif" if (rule, nudging) == VARIANTS[0] else f"eqprop_lif_{rule}_{nudging}"
    net.fit(Xtr, Ytr, X_val=Xte, Y_val=Yte, **experiment_checkpoint(tag, quick, seed, device))
    return net, (Xtr, Ytr, Xte, Yte)


def late_and_early(val):
    """Mean held-out MSE over the last and the first quarter of the evaluations after 0 samples."""
    val = np.asarray(val, dtype=float)[1:]
    q = max(1, len(val) // 4)
    return float(np.mean(val[-q:])), float(np.mean(val[:q])), val[-q:]


def run(out="figures", quick=True, seed=0, device=None, progress=False, anneal=0.1, n_jobs=None, **net_kw):
    """Train the LIF network in its four variants (rule x nudging), three seeds each (in ``n_jobs``
    processes, default one per core); learning curves, predictions and rasters of seed 003's
    model; results rows. Returns the numbers."""
    epochs = EPOCHS_QUICK if quick else EPOCHS_FULL
    if not quick and "eta" not in net_kw:
        net_kw["eta"] = tuple(FULL_ETA_FACTOR * e for e in default_etas(2))
    variants = VARIANTS if quick else VARIANTS[:1]  # (--full: seed 003's model only, ~1 h per fit)
    seeds = [seed + k for k in range(N_SEEDS)]
    start = time.time()
    res = {"histories": {}, "late": {}, "early": {}, "spread": {}}
    jobs = [(rule, nudging, s, quick, device, progress, anneal, net_kw) for rule, nudging in variants for s in seeds]
    fits = parallel_map(_fit, jobs, n_jobs)
    for (rule, nudging, s, *_), (net, _) in zip(jobs, fits):
        val = net.history_["val_mse"]
        late, early, tail = late_and_early(val)
        key = (rule, nudging)
        res["histories"].setdefault(key, []).append(net.history_)
        res["late"].setdefault(key, []).append(late)
        res["early"].setdefault(key, []).append(early)
        res["spread"].setdefault(key, []).append((float(tail.min()), float(tail.max())))
        print(f"eqprop LIF {rule}/{nudging} seed {s}: held-out MSE {val[0]:.3g} -> late-phase mean {late:.3g} "
              f"(last quarter {tail.min():.3g} - {tail.max():.3g})", flush=True)
    first = fits[0]
    res["seconds"] = time.time() - start
    net, (Xtr, Ytr, Xte, Yte) = first
    res["linear"] = linear_baseline(Xtr, Ytr, Xte, Yte)
    # ---- the figures
    os.makedirs(out, exist_ok=True)
    f_curve = os.path.join(out, sized("eqprop_lif_learning_curve", quick) + ".png")
    # (rate EP: only its final held-out MSE, mean over its seeds, is stored -- the row below compares with
    # it; its learning curve is not, so it is drawn as a line)
    rate = rate_all_layers(out, quick)
    lines = [(5e-3, "5e-3: acceptance bound (seed 003's model, late-phase mean)", "--")]
    if rate:
        lines.append((rate, "rate EP 2-20-2, all layers: final held-out MSE (mean over seeds)", "-."))
    curves_figure(f_curve, {f"LIF, {r} / {n} nudging (seed {seeds[0]})": res["histories"][(r, n)][0]
                            for r, n in variants}, {"linear": res["linear"]},
                  title="Spiking (LIF) EP, 2-300-2, two-link arm; seed 003's model"
                        + (" and variants" if len(variants) > 1 else ""), hlines=lines)
    f_pred = os.path.join(out, sized("eqprop_lif_predictions", quick) + ".png")
    prediction_figure(f_pred, {f"LIF 300 hidden, {VARIANTS[0][0]} / {VARIANTS[0][1]} nudging": net}, n_grid=15)
    f_raster = os.path.join(out, sized("eqprop_lif_raster", quick) + ".png")
    raster_figure(f_raster, net, Xte[:1], Yte[:1], device)
    # ---- the rows
    n_eval = len(res["histories"][VARIANTS[0]][0]["val_mse"]) - 1
    rows = []
    for rule, nudging in variants:
        key = (rule, nudging)
        late = np.array(res["late"][key])
        seed_model = key == VARIANTS[0]
        row = {"quantity": f"LIF EP, rule {rule}, nudging '{nudging}'" + (" (seed 003's model, the default)"
                           if seed_model else "") + f": held-out MSE after {epochs}x{N_TRAIN} samples, mean of the "
                           f"last quarter of {n_eval} evaluations; mean (range) over {len(seeds)} seeds",
               "measured": mean_range(late) + "; within the last quarter: " + ", ".join(
                   f"{lo:.3g} - {hi:.3g}" for lo, hi in res["spread"][key]),
               "paper": "learnable, not perfectly" + ("; <= 5e-3 for every seed (this project's acceptance)"
                                                      if seed_model else ""), "figure": f_curve}
        if seed_model:
            row["ok"] = bool(np.all(late <= 5e-3))
            if not row["ok"]:  # (by how much it misses)
                row["measured"] += f"; {late.min() / 5e-3:.1f}x - {late.max() / 5e-3:.1f}x the 5e-3 bound"
        rows.append(row)
    ratio = np.array(res["late"][VARIANTS[0]]) / np.array(res["early"][VARIANTS[0]])
    rows.append({"quantity": "LIF EP (seed 003's model): late / early held-out MSE (last / first quarter of the "
                             "evaluations), per seed", "measured": ", ".join(f"{r:.3g}" for r in ratio),
                 "paper": "< 1 (it learns)", "ok": bool(np.all(ratio < 1)), "figure": f_curve})
    rows.append({"quantity": "LIF EP: linear least-squares baseline, held-out MSE", "measured": res["linear"],
                 "paper": "1.6e-2 (spec)", "figure": f_pred})
    lif = float(np.mean(res["late"][VARIANTS[0]]))
    rows.append({"quantity": "LIF EP (seed 003's model, late-phase mean) / rate EP (20 hidden, all layers) held-out "
                 "MSE" + ("" if rate else " (rate network not run)"), "measured": lif / rate if rate else "-",
                 "paper": "spiking results not as good as rate-based (seed 003)", "figure": f_raster})
    record_results(sized("eqprop_lif", quick), rows, folder=out, title="Equilibrium propagation, LIF network "
                   "(Mesnard, Gerstner & Brea 2016)", command="brianlearn run eqprop" + ("" if quick else " --full"))
    res["figures"] = [f_curve, f_pred, f_raster]
    return res


def rate_all_layers(out, quick=True):
    """The rate network's all-layers held-out MSE (mean over seeds) from its stored rows (or None)."""
    try:
        with open(os.path.join(out, "results", sized("eqprop_rate", quick) + ".json")) as f:
            rows = json.load(f)["rows"]
    except (OSError, ValueError, KeyError):
        return None
    for row in rows:
        if row["quantity"].startswith("rate EP 20 hidden, all layers"):
            return float(row.get("mean", row["measured"]))
    return None


def raster_figure(path, est, X, Y, device):
    """Spike rasters of one trial (free then nudged phase) with the trained weights."""
    net = est.network_
    mon = LIFEPNetwork(net.dims, net.beta, net.etas, net.rule, net.learn, net.fixed_feedback, neurons_per_dim=net.P,
                       free_duration=net.free_duration, nudged_duration=net.nudged_duration, rho_lo=net.rho_lo,
                       nudging=net.nudging, monitor=True, device=device, seed=0, chunk_size=1)
    mon.init_state = mon.state_ = net.state_from_weights(est.feedforward_, est.feedback_, est.biases_)
    mon.run_trials({"x": X, "y": Y}, signals={"lr": 0.0})
    objs = mon.objects_
    T_free = float(net.free_duration / ms)
    ratios = [1] + [3] * (len(net.sizes) - 2) + [1]
    pyplot = plt()
    fig, ax = pyplot.subplots(len(net.sizes), 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": ratios})
    names = ["inputs (phi | theta)"] + ["hidden"] * (len(net.sizes) - 2) + ["outputs (x, y)"]
    for k, a in enumerate(ax):
        sm = objs[f"spikes_lif_L{k}"]
        a.plot(np.asarray(sm.t / ms), np.asarray(sm.i), "|", ms=2, color="k")
        a.axvline(T_free, color="C3", lw=1)
        a.set(ylabel=names[k])
    ax[0].set_title(f"one trial: free phase | nudged phase (target x={Y[0, 0]:.2f}, y={Y[0, 1]:.2f})")
    ax[-1].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot.close(fig)


if __name__ == "__main__":
    figure_main(run, __doc__)
