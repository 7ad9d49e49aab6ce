"""Fig. 3 of Pehlevan (2019): sparse features of digits and whitened natural-image patches, output CDFs, orientation selectivity.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, Fig. 3: alpha = lam2 = 0, M0 = I, b0 = 0, the paper's
learning-rate schedule (quick: its first phase, eta = 1e-3, only).

Digits: the paper's MNIST settings carried over to 8x8 digits: k = 64, W0 ~ U[0, 1/sqrt(k)] (the
paper's MNIST: k = 196, W0 ~ U[0, 1/14]), pixels in [0, 1] **minus the mean image** of the data
set, and lam1 = 0. Why: the cost matches x.x' with y.y' for y >= 0. Raw digits are all alike
(mean cosine between two digits 0.69; the mean image holds 69 % of E|x|^2), so every pair has a
large positive similarity, which non-negative outputs can only reproduce by overlapping on the
same units: the optimum itself is a dense code of near-identical features (measured with the
exact elastic-net solver `AnalogNSM(solver='exact')`, 20 000 samples, eta = 1e-3: raw pixels,
lam1 = 0: 6 % zero outputs, mean feature cosine 0.99; unit-norm images: the same; lam1 = 0.086
(0.5 scaled by the squared norm ratio): 7 of 64 units survive, cosine 0.96). Subtracting the mean
image removes this common part of the similarities: dissimilar digits get x.x' < 0, matched by
y.y' = 0, i.e. disjoint sets of active units, and the code becomes sparse with diverse features
(82 % zero outputs, cosine -0.01, 64 of 64 units respond; seeds 0-2). lam1 = 0: the MNIST
lam1 = 0.5 scaled to the centred digits' similarity scale (0.5 x 4.6 / 9.3^2 = 0.027) is sparser
(94 % zero) but leaves only ~18 units alive within 20 000 samples (a unit silent for ~1/eta
samples has its W decay to 0 and stays silent), so the sparsity here comes from the
non-negativity alone, as for the patches.

Patches: lam1 = 0, k = 256, W0 ~ N(0, 1/k), whitened 16x16 patches of scikit-learn's sample
photographs (or of ``--images FILE``, e.g. Olshausen & Field's IMAGES.mat). Measures: the output
sparsity over each data set, the mean cosine between the digit features, and for the patches an
orientation selectivity index and the spatial spread of every feature against random filters.

Usage: python figures/nsm_sparse_features.py [--full] [--device D] [--seed N] [--out DIR] [--images FILE]
Writes figures/nsm_sparse_features.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import json
import os
import time

import numpy as np

from brianlearn.datasets.images import load_digits_data, load_whitened_images, whitened_patches
from brianlearn.figures._plotting import plt
from brianlearn.measures import mean_cosine, orientation_selectivity, spatial_spread
from brianlearn.protocols.nsm import SpikingNSM
from brianlearn.results import experiment_checkpoint, figure_main, record_results, sized

__all__ = ["run", "PARTS"]

PARTS = ("digits", "patches")
#: samples presented (quick, full); patches drawn (quick, full)
N_ITER_QUICK, N_ITER_FULL = 20000, 100000
N_PATCHES_QUICK, N_PATCHES_FULL = 20000, 100000
#: simulated time and step per sample (paper units: 1 unit = 1 ms of Brian2 time): quick, full
TIMES_QUICK, TIMES_FULL = (100, 0.05), (200, 0.02)
K_DIGITS, K_PATCH, PATCH_SIZE = 64, 256, 16
LAM1_DIGITS, LAM1_PATCHES = 0.0, 0.0


def _feature_grid(ax, W, size, n=64, title=""):
    """Draw the first ``n`` rows of ``W`` as ``size x size`` images in a square grid."""
    rows = int(np.ceil(np.sqrt(n)))
    grid = np.full((rows * (size + 1) + 1, rows * (size + 1) + 1), np.nan)
    for f in range(min(n, len(W))):
        r, c = divmod(f, rows)
        w = W[f].reshape(size, size)
        w = w / (np.abs(w).max() + 1e-12)
        grid[1 + r * (size + 1): 1 + r * (size + 1) + size, 1 + c * (size + 1): 1 + c * (size + 1) + size] = w
    ax.imshow(grid, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def _digits(quick, seed, device, eta, duration, dt, n_iter, path):
    """Learn from the centred digits; returns the result dict and its rows."""
    Xd = load_digits_data()
    Xd = Xd - Xd.mean(axis=0)  # centred: see the docstring
    start = time.time()
    net = SpikingNSM(K_DIGITS, lam1=LAM1_DIGITS, eta=eta, n_iter=n_iter, duration=duration, dt=dt, init="uniform",
                     device=device, seed=seed, chunk_size=500)
    net.fit(Xd, X_val=None, **experiment_checkpoint("nsm_digits", quick, seed, device))
    Yd = net.transform(Xd)
    resp = Yd.max(axis=0) > 0
    cos = mean_cosine(net.feedforward_[resp])
    d = {"W": net.feedforward_, "Y": Yd, "zero_fraction": float(np.mean(Yd == 0)), "lam1": LAM1_DIGITS,
         "mean_cosine": cos, "one_spike_fraction": float(np.mean(Yd <= 1.0 / duration)),
         "alive": int(np.sum(resp)), "seconds": time.time() - start}
    print(f"  digits: {n_iter} samples, fraction of zero outputs {d['zero_fraction']:.3f}, "
          f"{d['alive']} of 64 units respond to some digit, mean feature cosine {cos:.3f} "
          f"({time.time() - start:.0f} s)", flush=True)
    rows = [
        {"quantity": f"digits, centred (k=64, lam1={LAM1_DIGITS:g}, {n_iter} samples): fraction of zero outputs "
                     "over the data set", "measured": d["zero_fraction"],
         "paper": "'highly sparse' (Fig. 3b; read here as >= 0.5)", "ok": d["zero_fraction"] >= 0.5,
         "figure": path},
        {"quantity": "digits: mean cosine between the features of responding units (1 = all identical)",
         "measured": cos, "paper": "- (features 'extracted from the rows of W'; acceptance <= 0.5)",
         "ok": cos <= 0.5, "figure": path},
        {"quantity": "digits: fraction of outputs of at most one spike (the start-of-trial transient)",
         "measured": d["one_spike_fraction"], "paper": "-", "figure": path},
        {"quantity": "digits: units that respond to at least one digit (of 64)", "measured": d["alive"],
         "paper": "-", "figure": path},
    ]
    return d, rows


def _patches(quick, seed, device, eta, duration, dt, n_iter, n_patches, images, path):
    """Learn from whitened patches; returns the result dict and its rows."""
    rng = np.random.default_rng(seed)
    source = None if images is None else load_whitened_images(images)
    Xp = whitened_patches(n_patches, PATCH_SIZE, seed=seed, images=source)
    start = time.time()
    net = SpikingNSM(K_PATCH, lam1=LAM1_PATCHES, eta=eta, n_iter=n_iter, duration=duration, dt=dt, init="normal",
                     device=device, seed=seed, chunk_size=500)
    net.fit(Xp, X_val=None, **experiment_checkpoint("nsm_patches", quick, seed, device))
    Yp = net.transform(Xp[:1000])
    W = net.feedforward_
    osi, ori = orientation_selectivity(W, PATCH_SIZE)
    spread = spatial_spread(W, PATCH_SIZE)
    rnd = rng.normal(size=(2000, PATCH_SIZE ** 2))
    osi_rnd = orientation_selectivity(rnd, PATCH_SIZE)[0]
    spread_rnd = spatial_spread(rnd, PATCH_SIZE)
    osi_thr = float(np.percentile(osi_rnd, 95))
    spread_thr = float(np.percentile(spread_rnd, 5))
    p = {"W": W, "Y": Yp, "zero_fraction": float(np.mean(Yp == 0)), "osi": osi, "osi_rnd": osi_rnd,
         "one_spike_fraction": float(np.mean(Yp <= 1.0 / duration)),
         "osi_random_95": osi_thr, "oriented_fraction": float(np.mean(osi > osi_thr)),
         "spread": spread, "spread_random_5": spread_thr,
         "localised_fraction": float(np.mean(spread < spread_thr)), "seconds": time.time() - start}
    print(f"  patches: k={K_PATCH}, {n_iter} samples: zero outputs {p['zero_fraction']:.3f}; OSI median "
          f"{np.median(osi):.2f} (random filters: 95th pct {osi_thr:.2f}); oriented {p['oriented_fraction']:.2f}, "
          f"localised {p['localised_fraction']:.2f} ({time.time() - start:.0f} s)", flush=True)
    rows = [
        {"quantity": f"whitened 16x16 patches{' of ' + os.path.basename(images) if images else ''} "
                     f"(k={K_PATCH}, lam1=0): fraction of zero outputs",
         "measured": p["zero_fraction"], "paper": ">= 0.70 (acceptance; paper: 'highly sparse')",
         "ok": p["zero_fraction"] >= 0.70, "figure": path},
        {"quantity": "patches: fraction of outputs of at most one spike", "measured": p["one_spike_fraction"],
         "paper": "-", "figure": path},
        {"quantity": "patches: orientation selectivity index, median (quartiles) over features",
         "measured": f"{np.median(osi):.2f} ({np.percentile(osi, 25):.2f}-{np.percentile(osi, 75):.2f})",
         "paper": f"random filters: median {np.median(osi_rnd):.2f}", "figure": path},
        {"quantity": "patches: fraction of features oriented (OSI > 95th percentile of random filters)",
         "measured": p["oriented_fraction"], "paper": "> 0.5 ('oriented edges')",
         "ok": p["oriented_fraction"] > 0.5, "figure": path},
        {"quantity": "patches: fraction of features localised (RMS spread < 5th percentile of random filters)",
         "measured": p["localised_fraction"], "paper": "> 0.5 ('localised')",
         "ok": p["localised_fraction"] > 0.5, "figure": path},
    ]
    return p, rows


def _plot(res, path):
    """Features, output CDFs and orientation selectivity (a part not computed leaves its panels empty)."""
    pyplot = plt()
    fig, ax = pyplot.subplots(1, 4, figsize=(15, 3.8))
    if "digits" in res:
        used = np.argsort(-res["digits"]["Y"].sum(axis=0))
        _feature_grid(ax[0], res["digits"]["W"][used], 8, 64, "digits (centred): 64 features, most used first")
    else:
        ax[0].set_axis_off()
    if "patches" in res:
        p = res["patches"]
        order = np.argsort(-p["osi"])
        _feature_grid(ax[1], p["W"][np.sort(order[:64])], PATCH_SIZE, 64,
                      f"whitened patches: 64 of {K_PATCH} features")
    else:
        ax[1].set_axis_off()
    for name, c in (("digits", "C0"), ("patches", "C1")):
        if name in res:
            Y = res[name]["Y"]
            v = np.sort(Y.ravel())
            ax[2].plot(v, np.arange(1, len(v) + 1) / len(v), color=c, label=f"{name} ({np.mean(Y == 0):.0%} zero)")
    ax[2].set(xlabel="output y (spike count / tau)", ylabel="CDF", title="outputs over the data set")
    ax[2].set_xscale("symlog", linthresh=1e-2)
    ax[2].legend(frameon=False, fontsize=8)
    if "patches" in res:
        bins = np.linspace(0, 1, 26)
        ax[3].hist(p["osi_rnd"], bins=bins, density=True, alpha=0.5, color="0.5", label="random filters")
        ax[3].hist(p["osi"], bins=bins, density=True, alpha=0.7, color="C1", label="learned patch features")
        ax[3].axvline(p["osi_random_95"], color="k", ls=":", lw=0.8)
        ax[3].set(xlabel="orientation selectivity index", ylabel="density",
                  title=f"{p['oriented_fraction']:.0%} oriented (> random 95th pct)")
        ax[3].legend(frameon=False, fontsize=8)
    else:
        ax[3].set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)
    print(f"  figure: {path}")


def run(out="figures", quick=True, seed=0, device=None, record=True, parts=PARTS, images=None):
    """Sparse features of the digits and of whitened patches; returns a dict per part.

    ``parts``: which of ``'digits'``, ``'patches'`` to (re)compute; a part left out keeps its rows
    already recorded in ``<out>/results/nsm_sparse_features.json`` (its figure panels stay empty).
    ``images``: a file of whitened natural images you have (e.g. Olshausen & Field's
    ``IMAGES.mat``; see `~brianlearn.datasets.images.load_whitened_images`) to cut the patches
    from, instead of the whitened scikit-learn sample photographs.
    """
    parts = tuple(parts)
    if set(parts) - set(PARTS) or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PARTS!r}, got {parts!r}.")
    n_iter = N_ITER_QUICK if quick else N_ITER_FULL
    n_patches = N_PATCHES_QUICK if quick else N_PATCHES_FULL
    duration, dt = TIMES_QUICK if quick else TIMES_FULL
    eta = 1e-3 if quick else "paper"  # quick: the paper's first phase only
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, sized("nsm_sparse_features", quick) + ".png")
    # ---- the runs
    res, rows = {}, {}
    if "digits" in parts:
        res["digits"], rows["digits"] = _digits(quick, seed, device, eta, duration, dt, n_iter, path)
    if "patches" in parts:
        res["patches"], rows["patches"] = _patches(quick, seed, device, eta, duration, dt, n_iter, n_patches,
                                                   images, path)
    # ---- the figure
    _plot(res, path)
    res["figure"] = path
    # ---- the rows (a part not recomputed keeps its recorded rows)
    if record:
        old = os.path.join(out, "results", "nsm_sparse_features.json")
        if set(parts) != set(PARTS) and os.path.exists(old):
            with open(old) as f:
                kept = json.load(f)["rows"]
            for name in PARTS:
                if name not in rows:  # the digits rows start with 'digits', the others are the patches'
                    rows[name] = [r for r in kept if r["quantity"].startswith("digits") == (name == "digits")]
        record_results(sized("nsm_sparse_features", quick), rows.get("digits", []) + rows.get("patches", []),
                       folder=out,
                       title="NSM: sparse features, digits and whitened natural-image patches (Pehlevan 2019, Fig. 3)",
                       command="python figures/nsm_sparse_features.py" + ("" if quick else " --full"))
    return res


if __name__ == "__main__":
    figure_main(run, __doc__, options={"--images": {
        "default": None, "help": "whitened natural images you have (e.g. Olshausen & Field's IMAGES.mat, "
                                 ".npy, .npz) to cut the patches from (default: scikit-learn's sample photographs)"}})
