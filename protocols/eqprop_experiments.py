"""
Experiments of the equilibrium-propagation networks (Mesnard, Gerstner & Brea 2016,
arXiv:1612.03214): the four rate-network findings, the LIF network, figures and results rows.
"""

import os
import time

import numpy as np

from brianlearn.datasets.regression import arm_targets, regression_task
from brianlearn.results import experiment_checkpoint

from .eqprop_reference import RateEPReference, backprop_baseline, linear_baseline

__all__ = ["RATE_FINDINGS", "rate_findings", "lif_network", "run_all"]

#: the four rate-network findings: label -> EquilibriumPropagation arguments
RATE_FINDINGS = {
    "no hidden layer": dict(hidden=()),
    "fixed random hidden (20), output weights learned": dict(hidden=(20,), learn="output"),
    "20 hidden, all layers learned": dict(hidden=(20,)),
    "20 hidden, all layers, fixed feedback weights": dict(hidden=(20,), fixed_feedback=True),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def rate_findings(out="figures", quick=True, seed=0, device=None, progress=False):
    """Train the four rate networks (Brian2, per-sample updates) and the NumPy reference
    (minibatches of 20); baselines; learning-curve and prediction figures; results rows."""
    from .eqprop import EquilibriumPropagation

    n_train, n_test = 20000, 1000
    epochs = 3 if quick else 5
    Xtr, Ytr, Xte, Yte = regression_task(n_train, n_test, seed=seed)
    res = {"linear": linear_baseline(Xtr, Ytr, Xte, Yte),
           "backprop": backprop_baseline(Xtr, Ytr, Xte, Yte, hidden=(20,), seed=seed)}
    print(f"eqprop baselines: linear {res['linear']:.3g}, backprop 2-20-2 {res['backprop']:.3g}")
    curves, nets = {}, {}
    for label, kw in RATE_FINDINGS.items():
        start = time.time()
        net = EquilibriumPropagation(seed=seed, device=device, progress=progress, **kw)
        net.fit(Xtr, Ytr, epochs=epochs, X_val=Xte, Y_val=Yte, eval_every=2000,
                **experiment_checkpoint(f"eqprop_rate_{label}", quick, seed, device))
        curves[label] = net.history_
        nets[label] = net
        # the spec's NumPy set-up: minibatches of 20 (rates x5 of the per-sample ones), 5 passes
        ref = RateEPReference((2,) + kw["hidden"] + (2,), eta=5 * np.asarray(net._net.etas),
                              learn=kw.get("learn", "all"), fixed_feedback=kw.get("fixed_feedback", False),
                              batch_size=20, seed=seed)
        if kw.get("fixed_feedback"):
            ref.B = [None if B is None else B.copy() for B in net.feedback_weights_]  # the same random B
        ref.fit(Xtr, Ytr, epochs=5, X_val=Xte, Y_val=Yte, eval_every=n_train)
        res[label] = {"brian2": float(net.history_[-1, 2]), "numpy_batch20": float(ref.history[-1, 2]),
                       "curve_numpy": ref.history,
                      "seconds": time.time() - start}
        print(f"eqprop rate, {label}: held-out MSE {res[label]['brian2']:.3g} (Brian2, per sample), "
              f"{res[label]['numpy_batch20']:.3g} (NumPy, minibatches of 20)")
    os.makedirs(out, exist_ok=True)
    f_curve = os.path.join(out, "eqprop_learning_curves.png")
    _curves_figure(f_curve, curves, res)
    f_pred = os.path.join(out, "eqprop_predictions.png")
    _prediction_figure(f_pred, {"rate, 20 hidden": nets["20 hidden, all layers learned"],
                                "rate, no hidden": nets["no hidden layer"]})
    all_l = res["20 hidden, all layers learned"]["brian2"]
    rows = [
        {"quantity": "linear least-squares baseline, held-out MSE", "measured": res["linear"], "paper": "1.6e-2 (spec)",
         "figure": f_pred},
        {"quantity": "backprop 2-20-2 (MLPRegressor) baseline, held-out MSE", "measured": res["backprop"],
         "paper": "3e-4 (spec)"},
        {"quantity": f"rate EP 20 hidden, all layers, held-out MSE after {epochs}x{n_train} samples (Brian2)",
         "measured": all_l, "paper": "learnable; <= 1e-3", "ok": all_l <= 1e-3, "figure": f_curve},
        {"quantity": "rate EP 20 hidden, fixed feedback weights, held-out MSE (Brian2)",
         "measured": res["20 hidden, all layers, fixed feedback weights"]["brian2"], "paper": "learnable; <= 1e-3",
         "ok": res["20 hidden, all layers, fixed feedback weights"]["brian2"] <= 1e-3, "figure": f_curve},
        {"quantity": "rate EP no hidden layer: held-out MSE / linear baseline (Brian2)",
         "measured": res["no hidden layer"]["brian2"] / res["linear"], "paper": "not learnable; >= 0.8",
         "ok": res["no hidden layer"]["brian2"] / res["linear"] >= 0.8, "figure": f_curve},
        {"quantity": "rate EP fixed random hidden, output only: MSE / all-layers MSE (Brian2)",
         "measured": res["fixed random hidden (20), output weights learned"]["brian2"] / all_l,
         "paper": "not learnable; >= 2",
         "ok": res["fixed random hidden (20), output weights learned"]["brian2"] / all_l >= 2, "figure": f_curve},
    ]
    for label in RATE_FINDINGS:
        rows.append({"quantity": f"NumPy reference (minibatches of 20, 5x20000 samples), {label}, held-out MSE",
                     "measured": res[label]["numpy_batch20"],
                     "paper": "spec: 5e-4 - 1e-3" if label == "20 hidden, all layers learned" else "-"})
    from brianlearn.results import record_results

    record_results("eqprop_rate", rows, folder=out, title="Equilibrium propagation, rate network "
                   "(Scellier & Bengio 2017; Mesnard et al. 2016)",
                   command="brianlearn run eqprop" + ("" if quick else " --full"))
    res["figures"] = [f_curve, f_pred]
    return res


def _curves_figure(path, curves, res, extra=None):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, h in list(curves.items()) + list((extra or {}).items()):
        ax.plot(np.maximum(h[:, 0], 1), h[:, 2], marker="o", ms=3, label=label)
    ax.axhline(res["linear"], color="k", ls=":", lw=1, label="linear least squares")
    ax.axhline(res["backprop"], color="k", ls="--", lw=1, label="backprop 2-20-2")
    ax.set(xscale="log", yscale="log", xlabel="training samples", ylabel="held-out MSE",
           title="Equilibrium propagation on the two-link-arm task")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _prediction_figure(path, nets, n_grid=25):
    plt = _plt()
    g = (np.arange(n_grid) + 0.5) / n_grid
    P, T = np.meshgrid(g, g, indexing="xy")
    X = np.stack([P.ravel(), T.ravel()], axis=1)
    Y = arm_targets(X)
    preds = {label: net.predict(X) for label, net in nets.items()}
    cols = 1 + len(preds)
    fig, ax = plt.subplots(2, cols, figsize=(2.9 * cols + 1, 5.6), squeeze=False, constrained_layout=True)
    for r, name in enumerate(("x", "y")):
        for c, (label, Z) in enumerate([("target", Y)] + list(preds.items())):
            im = ax[r, c].imshow(Z[:, r].reshape(n_grid, n_grid), origin="lower", extent=(0, 1, 0, 1),
                                 vmin=0, vmax=1, cmap="viridis")
            title = label if c == 0 else f"{label}\nMSE {np.mean((Z - Y) ** 2):.2g}"
            ax[r, c].set_title(f"{name}: {title}", fontsize=8)
            ax[r, c].set(xlabel="phi", ylabel="theta")
    fig.colorbar(im, ax=ax, shrink=0.6)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def lif_network(out="figures", quick=True, seed=0, device=None, progress=False):
    """The LIF network (300 hidden, 20 neurons per dimension): learning curve, predictions, rasters."""
    from .eqprop_lif import lif_experiment

    return lif_experiment(out=out, quick=quick, seed=seed, device=device, progress=progress)


def run_all(out="figures", quick=True, seed=0, device=None, progress=False):
    res = {"rate": rate_findings(out=out, quick=quick, seed=seed, device=device, progress=progress)}
    res["lif"] = lif_network(out=out, quick=quick, seed=seed, device=device, progress=progress)
    return res
