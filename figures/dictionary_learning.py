"""Dictionary learning by the two-phase spiking network against SGD and scikit-learn (Fig. 3-4).

Reference: Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks",
arXiv:1805.08952 (seed 001): on 8x8 natural-image patches (positive and negative channels, 256
atoms) the network, learning with local rules only, reaches a held-out objective similar to or
better than SGD's (unit-norm atoms, batch 1), and its inhibition stays consistent with its
feed-forward and feedback weights (1 - |H - FB|_F / |H|_F near 1).

Here: patches of scikit-learn's two sample photographs (`image_patches`: mean-removed, unit
norm, 128 channels), lam1 = 0.1; a training set, a validation set (only to choose SGD's
learning rate, from `SGD_ETAS`) and a held-out set (the reported objective, codes re-solved
exactly for unit-norm atoms); the network with its defaults (phase_duration = 100, eta_d = 0.02,
eta_h = 15 eta_d, lam2 = DEFAULT_LAM2 = 0.002, consistent init: eta_d and the phase length chosen on
the first seed's validation set by `dictionary_tuning`, lam2 by `dictionary_symmetry`, never on the
held-out set); scikit-learn's ``MiniBatchDictionaryLearning`` (batch 16, positive code
and dictionary). Three seeds (patches, initial weights and sample order).

Usage: python figures/dictionary_learning.py [--full] [--device D] [--seed N] [--out DIR]
"""

import numpy as np

from brianlearn.datasets.images import image_patches
from brianlearn.figures._plotting import plt, save
from brianlearn.measures import heldout_objective
from brianlearn.protocols.dictionary import SpikingDictionaryLearning
from brianlearn.protocols.dictionary_baselines import (minibatch_dictionary_learning, random_dictionary,
                                                       sgd_dictionary_learning)
from brianlearn.results import figure_main, mean_range, record_results, sized, timed_fit

__all__ = ["run", "patch_sets", "compare", "plot_comparison", "comparison_rows", "atom_grid", "atoms_title",
           "plot_figure"]

# ---------------------------------------------------------------- parameters
N_ATOMS, LAM1 = 256, 0.1
SGD_ETAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # SGD learning rates tried; chosen on the validation set (first seed)
SIZES = {True: dict(n_train=20_000, n_val=1_000, n_test=2_000, eval_every=2_000),
         False: dict(n_train=100_000, n_val=2_000, n_test=10_000, eval_every=10_000)}


def patch_sets(n_train, n_val, n_test, seed):
    """Training, validation and held-out patches (128 channels), disjoint draws."""
    X = image_patches(n_train + n_val + n_test, seed=seed)
    return X[:n_train], X[n_train:n_train + n_val], X[n_train + n_val:]


def compare(sets, seeds, name, quick, device, eval_every, n_atoms=N_ATOMS):
    """Train the network (its defaults), SGD and ``MiniBatchDictionaryLearning`` on each seed's
    ``sets(seed) -> (train, validation, held-out)``, from the same random dictionary and sample
    order; SGD's learning rate is chosen from `SGD_ETAS` on the first seed's validation set.
    Returns a dict of the estimators, the three learners' histories, fit seconds and SGD's choice."""
    net, sgd, mbdl, secs, eta_val = [], [], [], [], {}
    for s in seeds:
        Xtr, Xval, Xte = sets(100 + s)
        est = SpikingDictionaryLearning(n_components=n_atoms, lam1=LAM1, eval_every=eval_every, shuffle=False,
                                        device=device, seed=s, progress=True)
        secs.append(timed_fit(lambda **ck: est.fit(Xtr, X_val=Xte, **ck), name, quick, s, device))
        net.append(est)
        D0 = random_dictionary(Xtr.shape[1], n_atoms, seed=s)  # the network's initial dictionary
        if not eta_val:
            for eta in SGD_ETAS:
                D, _ = sgd_dictionary_learning(Xtr, n_atoms, LAM1, eta, dictionary=D0)
                eta_val[eta] = heldout_objective(Xval, D, LAM1)
        eta = min(eta_val, key=eta_val.get)
        sgd.append(sgd_dictionary_learning(Xtr, n_atoms, LAM1, eta, X_val=Xte, eval_every=eval_every,
                                           dictionary=D0)[1])
        mbdl.append(minibatch_dictionary_learning(Xtr, n_atoms, LAM1, X_val=Xte, eval_every=eval_every, seed=s)[1])
    return {"estimators": net, "network": [e.history_ for e in net], "sgd": sgd, "minibatch": mbdl,
            "sgd_eta": eta, "sgd_validation": eta_val, "seconds": secs}


def plot_comparison(ax, res, samples, title, symmetry=True):
    """Held-out objective of the three learners (``ax[0]``) and the network's consistency,
    symmetry and mean atom norm (``ax[1]``) against ``samples`` (the x label)."""
    for k, (h, g, m) in enumerate(zip(res["network"], res["sgd"], res["minibatch"])):
        lab = (lambda x: x) if k == 0 else (lambda x: None)
        ax[0].plot(h["samples_seen"], h["objective"], "o-", color="C0", label=lab("spiking network"))
        ax[0].plot(g["samples_seen"], g["objective"], "s--", color="C3", label=lab(f"SGD (eta = {res['sgd_eta']:g})"))
        ax[0].plot(m["samples_seen"], m["objective"], "^:", color="C2",
                   label=lab("MiniBatchDictionaryLearning\n(own init; first point after one batch"
                             + (f" of {m['samples_seen'][0]:g})" if len(m["samples_seen"]) else ")")))
        ax[1].plot(h["samples_seen"], h["consistency"], "o-", color="C0", label=lab("consistency"))
        if symmetry:
            ax[1].plot(h["samples_seen"], h["symmetry"], "s-", color="C1", label=lab("symmetry"))
        ax[1].plot(h["samples_seen"], h["atom_norm"], "^-", color="C4", label=lab("mean atom norm"))
    ax[0].set(xlabel=samples, ylabel="held-out objective", title=title)
    measures = ["consistency"] + (["symmetry"] if symmetry else []) + ["mean atom norm"]
    ax[1].set(xlabel=samples, ylabel=", ".join(measures) + "\n(dimensionless; unit-norm inputs)",
              title="network weights (consistent init)")
    for a in ax[:2]:
        a.legend(frameon=False, fontsize=8)


def atom_grid(atoms, signed):
    """The 64 largest-norm atoms as an 8 x 8 grid of 8 x 8 images, each scaled to its largest
    value (``signed``: positive minus negative channel of 128-channel atoms)."""
    order = np.argsort(-np.linalg.norm(atoms, axis=1))[:64]
    images = atoms[order, :64] - atoms[order, 64:] if signed else atoms[order]
    grid = np.zeros((8 * 9, 8 * 9))
    for n, a in enumerate(images):
        r, c = divmod(n, 8)
        grid[r * 9:r * 9 + 8, c * 9:c * 9 + 8] = a.reshape(8, 8) / (np.abs(a).max() + 1e-12)
    return grid


def atoms_title(atoms):
    """The title of `atom_grid`'s image of ``atoms``: how many of how many, and the scaling."""
    n = len(atoms)
    which = f"64 of {n} atoms (largest norm)" if n > 64 else f"all {n} atoms (largest norm first)"
    return which + ",\neach scaled to its maximum |value|"


def plot_figure(res, out, name):
    """``<out>/<name>``: `plot_comparison` and the first seed's largest-norm atoms; returns the path."""
    fig, ax = plt().subplots(1, 3, figsize=(13, 3.8))
    plot_comparison(ax, res, "training samples", f"{N_ATOMS} atoms, 8x8 patches")
    atoms = res["estimators"][0].components_
    ax[2].imshow(atom_grid(atoms, signed=True), cmap="gray", vmin=-1, vmax=1)
    ax[2].set(title=atoms_title(atoms), xticks=[], yticks=[])
    fig.tight_layout()
    return save(fig, out, name, dpi=120)


def comparison_rows(res, n, path, prefix="", paper="similar to or better than SGD",
                    ratio="<= 1.05 (this project's acceptance)", limit_s=None):
    """The rows of a comparison: objectives, ratios per seed, consistency, speed (``n`` samples
    per fit; ``paper`` and ``ratio``: the references of the objective and ratio rows; ``limit_s``:
    the acceptance's time limit of one fit, if any)."""
    hist, sgd, mbdl = res["network"], res["sgd"], res["minibatch"]
    end_net, end_sgd, end_mb = (np.array([h["objective"][-1] for h in c]) for c in (hist, sgd, mbdl))
    start = np.array([h["objective"][0] for h in hist])
    cons = np.array([h["consistency"].min() for h in hist])
    timed = [t for t in res["seconds"] if t is not None]  # (fits resumed from a checkpoint are not timed)
    compiled = [b.seconds for b in (e.build_info_ for e in res["estimators"]) if b is not None and b.compiled]
    return [
        {"quantity": f"{prefix}held-out objective after {n} samples, network (random dictionary: "
                     f"{mean_range(start, '.4g')}); mean (range) over {len(hist)} seeds",
         "measured": mean_range(end_net, '.4g'), "paper": paper, "figure": path},
        {"quantity": f"{prefix}held-out objective after {n} samples, SGD (eta = {res['sgd_eta']:g}, chosen on the "
                     "validation set)", "measured": mean_range(end_sgd, '.4g'), "paper": "-", "figure": path},
        {"quantity": f"{prefix}ratio network / SGD, per seed",
         "measured": ", ".join(f"{r:.3f}" for r in end_net / end_sgd),
         "paper": ratio, "ok": bool(np.all(end_net <= 1.05 * end_sgd)),
         "figure": path},
        {"quantity": f"{prefix}ratio network / MiniBatchDictionaryLearning, per seed",
         "measured": ", ".join(f"{r:.3f}" for r in end_net / end_mb), "paper": "-", "figure": path},
        {"quantity": f"{prefix}lowest consistency during training (network)", "measured": mean_range(cons, '.4g'),
         "paper": "stays near 1 (>= 0.9: this project's acceptance)", "ok": bool(np.all(cons >= 0.9)),
         "figure": path},
        {"quantity": f"{prefix}training speed (samples/s over the whole fit, held-out evaluations included; "
                     f"{len(compiled)} of the fits compiled the network, {sum(compiled):.0f} s)",
         "measured": mean_range(n / np.array(timed or [np.nan]), '.4g') + f" ({len(timed)} fits timed)",
         "paper": "-", **({"ok": bool(np.all(np.array(timed) <= limit_s))} if limit_s and timed else {}),
         "figure": path},
    ]


def run(out="figures", quick=True, seed=0, device=None):
    """Train, plot ``dictionary_learning.png``, write the rows; return the curves."""
    size = SIZES[quick]
    res = compare(lambda s: patch_sets(size["n_train"], size["n_val"], size["n_test"], seed=s),
                  [seed, seed + 1, seed + 2], "dictionary_learning", quick, device, size["eval_every"])
    # ------------------------------------------------------------ figure
    path = plot_figure(res, out, sized("dictionary_learning", quick) + ".png")
    # ------------------------------------------------------------ rows
    rows = comparison_rows(res, size["n_train"], path, limit_s=900 if quick else None)
    record_results(sized("dictionary_learning", quick), rows, folder=out,
                   title="Dictionary learning by a two-phase spiking network (Lin & Tang 2018)",
                   command="brianlearn run dictionary" + ("" if quick else " --full"))
    for r in rows:
        print(f"  {r['quantity']}: {r['measured']}")
    res.pop("estimators")
    return res


if __name__ == "__main__":
    figure_main(run, __doc__)
