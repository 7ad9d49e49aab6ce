"""Fig. 3 of Pehlevan (2019): sparse features of digits and whitened natural-image patches, output CDFs, orientations and positions.

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

Patches: lam1 = 0, k = 256, W0 ~ N(0, 1/k), 16x16 patches drawn from both of scikit-learn's
sample photographs (each patch from either, at random), each photograph whitened as Olshausen &
Field (1996) do: the filter f exp(-(f/f0)^4) (whitening of the 1/f amplitude spectrum with a
low-pass roll-off, f0 = 0.4 cycles/pixel, their 200 cycles per 512-pixel picture), or patches of
``--images FILE`` (e.g. their IMAGES.mat). Measures, for three seeds (the figure shows the first):
the output sparsity; an orientation selectivity index and the spatial spread of every feature
against random filters; and measures that one texture learned many times cannot pass: the
preferred orientations of the oriented features in six 30-degree bins (none may be empty), the
centres of the localised features on a 4x4 grid over the patch (every cell should hold one), and
the fraction of distinct features (no other feature at |cosine| >= 0.9). The same measures for
scikit-learn's MiniBatchDictionaryLearning on the same patches (alpha = 0.1, one pass), for
comparison. The figure draws 64 of the 256 features at random (not the most selective ones).

Usage: python figures/nsm_sparse_features.py [--full] [--device D] [--seed N] [--out DIR] [--images FILE]
Writes figures/nsm_sparse_features.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import json
import os
import time

import numpy as np

from brianlearn.datasets.images import load_digits_data, load_whitened_images, whitened_patches
from brianlearn.figures._plotting import plt
from brianlearn.measures import (distinct_fraction, feature_centres, mean_cosine, orientation_coverage,
                                 orientation_selectivity, position_coverage, spatial_spread)
from brianlearn.protocols.nsm import SpikingNSM
from brianlearn.results import experiment_checkpoint, figure_main, mean_range, record_results, sized

__all__ = ["run", "PARTS"]

PARTS = ("digits", "patches")
#: samples presented (quick, full); patches drawn (quick, full)
N_ITER_QUICK, N_ITER_FULL = 20000, 100000
N_PATCHES_QUICK, N_PATCHES_FULL = 20000, 100000
#: simulated time and step per sample (paper units: 1 unit = 1 ms of Brian2 time): quick, full
TIMES_QUICK, TIMES_FULL = (100, 0.05), (200, 0.02)
K_DIGITS, K_PATCH, PATCH_SIZE = 64, 256, 16
LAM1_DIGITS, LAM1_PATCHES = 0.0, 0.0
#: features drawn at random for the figure; orientation bins (30 degrees); position grid; the
#: |cosine| above which two features count as copies
N_SHOWN, N_ORI_BINS, N_CELLS, DISTINCT_COS = 64, 6, 4, 0.9
#: sparsity of the scikit-learn comparison (MiniBatchDictionaryLearning, one pass over the patches):
#: set to give sparse codes on these unit-mean-norm patches, not tuned
SKLEARN_ALPHA = 0.1


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


def _digits(quick, seed, device, eta, duration, dt, n_iter):
    """Learn from the centred digits; returns the result dict."""
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
    print(f"  digits, seed {seed}: {n_iter} samples, fraction of zero outputs {d['zero_fraction']:.3f}, "
          f"{d['alive']} of 64 units respond to some digit, mean feature cosine {cos:.3f} "
          f"({time.time() - start:.0f} s)", flush=True)
    return d


def _digit_rows(ds, n_iter, path):
    """The digit rows over seeds ``ds`` (each acceptance must hold for every seed)."""
    z, cos = [d["zero_fraction"] for d in ds], [d["mean_cosine"] for d in ds]
    return [
        {"quantity": f"digits, centred (k=64, lam1={LAM1_DIGITS:g}, {n_iter} samples; {len(ds)} seeds): fraction "
                     "of zero outputs over the data set", "measured": mean_range(z),
         "paper": "'highly sparse' (Fig. 3b; read here as >= 0.5)", "ok": bool(min(z) >= 0.5), "figure": path},
        {"quantity": "digits: mean cosine between the features of responding units (1 = all identical)",
         "measured": mean_range(cos), "paper": "- (features 'extracted from the rows of W'; acceptance <= 0.5)",
         "ok": bool(max(cos) <= 0.5), "figure": path},
        {"quantity": "digits: fraction of outputs of at most one spike (the start-of-trial transient)",
         "measured": mean_range([d["one_spike_fraction"] for d in ds]), "paper": "-", "figure": path},
        {"quantity": "digits: units that respond to at least one digit (of 64)",
         "measured": mean_range([d["alive"] for d in ds]), "paper": "-", "figure": path},
    ]


def _feature_shape(W, osi_thr, spread_thr):
    """Orientation, position and distinctness measures of patch features (rows of ``W``)."""
    osi, ori = orientation_selectivity(W, PATCH_SIZE)
    spread = spatial_spread(W, PATCH_SIZE)
    oriented = osi > osi_thr
    bins = orientation_coverage(ori[oriented], N_ORI_BINS)
    cells = position_coverage(feature_centres(W[spread < spread_thr], PATCH_SIZE), PATCH_SIZE, N_CELLS)
    return {"osi": osi, "orientation": ori, "spread": spread, "oriented_fraction": float(np.mean(oriented)),
            "localised_fraction": float(np.mean(spread < spread_thr)), "orientation_bins": bins,
            "emptiest_bin": float(bins.min() / max(bins.sum(), 1)), "cells": cells,
            "cells_covered": int(np.sum(cells > 0)), "distinct_fraction": distinct_fraction(W, DISTINCT_COS)}


def _sklearn_features(Xp, seed):
    """The features of scikit-learn's online dictionary learning on the same patches."""
    from sklearn.decomposition import MiniBatchDictionaryLearning

    mbdl = MiniBatchDictionaryLearning(n_components=K_PATCH, alpha=SKLEARN_ALPHA, batch_size=256, max_iter=1,
                                       random_state=seed)
    return mbdl.fit(Xp).components_


def _patches(quick, seed, device, eta, duration, dt, n_iter, n_patches, images, path):
    """Learn from whitened patches; returns the result dict (``shape``: NSM, ``sklearn``:
    scikit-learn's features on the same patches) and its rows."""
    rng = np.random.default_rng(seed)
    source = None if images is None else load_whitened_images(images)
    Xp = whitened_patches(n_patches, PATCH_SIZE, seed=seed, images=source)
    start = time.time()
    net = SpikingNSM(K_PATCH, lam1=LAM1_PATCHES, eta=eta, n_iter=n_iter, duration=duration, dt=dt, init="normal",
                     device=device, seed=seed, chunk_size=500)
    net.fit(Xp, X_val=None, **experiment_checkpoint("nsm_patches", quick, seed, device))
    Yp = net.transform(Xp[:1000])
    W = net.feedforward_
    rnd = rng.normal(size=(2000, PATCH_SIZE ** 2))
    osi_rnd = orientation_selectivity(rnd, PATCH_SIZE)[0]
    osi_thr = float(np.percentile(osi_rnd, 95))
    spread_thr = float(np.percentile(spatial_spread(rnd, PATCH_SIZE), 5))
    shape = _feature_shape(W, osi_thr, spread_thr)
    W_sk = _sklearn_features(Xp, seed)
    sk = _feature_shape(W_sk, osi_thr, spread_thr)
    p = {"W": W, "Y": Yp, "zero_fraction": float(np.mean(Yp == 0)), "osi_rnd": osi_rnd, "osi_random_95": osi_thr,
         "one_spike_fraction": float(np.mean(Yp <= 1.0 / duration)), "spread_random_5": spread_thr,
         "sample": np.sort(rng.choice(K_PATCH, N_SHOWN, replace=False)), "seconds": time.time() - start,
         "sklearn": sk, "sklearn_W": W_sk, **shape}
    print(f"  patches, seed {seed}: k={K_PATCH}, {n_iter} samples: zero outputs {p['zero_fraction']:.3f}; oriented "
          f"{p['oriented_fraction']:.2f}, localised {p['localised_fraction']:.2f}, orientation bins "
          f"{list(p['orientation_bins'])}, cells covered {p['cells_covered']}/{N_CELLS ** 2}, distinct "
          f"{p['distinct_fraction']:.2f}; scikit-learn: bins {list(sk['orientation_bins'])}, cells "
          f"{sk['cells_covered']}, distinct {sk['distinct_fraction']:.2f} ({time.time() - start:.0f} s)", flush=True)
    return p


def _patch_rows(ps, images, path):
    """The patch rows over seeds ``ps`` (each acceptance must hold for every seed)."""
    def row(quantity, key, paper, accept=None, spec=".3g", of=lambda p: p):
        v = [of(p)[key] for p in ps]
        r = {"quantity": quantity, "measured": mean_range(v, spec), "paper": paper, "figure": path}
        if accept is not None:
            r["ok"] = bool(all(accept(x) for x in v))
        return r

    sk = lambda p: p["sklearn"]  # noqa: E731
    n = len(ps)
    return [
        row(f"whitened 16x16 patches{' of ' + os.path.basename(images) if images else ''} (k={K_PATCH}, lam1=0; "
            f"{n} seeds): fraction of zero outputs", "zero_fraction", ">= 0.70 (acceptance; paper: 'highly sparse')",
            lambda x: x >= 0.70),
        row("patches: fraction of outputs of at most one spike", "one_spike_fraction", "-"),
        row("patches: fraction of features oriented (OSI > 95th percentile of random filters)", "oriented_fraction",
            "> 0.5 ('oriented edges')", lambda x: x > 0.5),
        row("patches: fraction of features 'localised': RMS spread of the squared weights below the 5th percentile "
            f"of random filters' ({np.mean([p['spread_random_5'] for p in ps]):.1f} px; a weak criterion: the "
            f"features' median spread is {np.median(np.concatenate([p['spread'] for p in ps])):.1f} px of a "
            f"{PATCH_SIZE}-px patch)", "localised_fraction", "> 0.5 ('localised')", lambda x: x > 0.5),
        row(f"patches: oriented features in the emptiest of {N_ORI_BINS} bins of {180 // N_ORI_BINS} degrees "
            "(fraction; uniform = 0.167)", "emptiest_bin", "> 0 (acceptance: preferred orientations cover 180 deg)",
            lambda x: x > 0),
        row(f"patches: cells of a {N_CELLS}x{N_CELLS} grid holding the centre of a localised feature",
            "cells_covered", f"{N_CELLS ** 2} (acceptance: positions cover the patch)", lambda x: x == N_CELLS ** 2,
            ".3g"),
        row(f"patches: fraction of distinct features (no other at abs(cosine) >= {DISTINCT_COS:g})",
            "distinct_fraction", "- (one repeated texture: near 0)"),
        row("scikit-learn MiniBatchDictionaryLearning, same patches: fraction oriented", "oriented_fraction",
            "comparison", of=sk),
        row("scikit-learn: fraction localised", "localised_fraction", "comparison", of=sk),
        row("scikit-learn: oriented features in the emptiest orientation bin (fraction)", "emptiest_bin",
            "comparison", of=sk),
        row(f"scikit-learn: grid cells covered (of {N_CELLS ** 2})", "cells_covered", "comparison", of=sk),
        row("scikit-learn: fraction of distinct features", "distinct_fraction", "comparison", of=sk),
    ]


def _plot(res, path):
    """Features, output CDFs, orientation selectivity and coverage (first seed; a part not
    computed leaves its panels empty)."""
    pyplot = plt()
    fig, ax = pyplot.subplots(2, 4, figsize=(15, 7.6))
    if "digits" in res:
        d = res["digits"][0]
        used = np.argsort(-d["Y"].sum(axis=0))
        _feature_grid(ax[0, 0], d["W"][used], 8, 64, "digits (centred): 64 features,\nmost used first")
    else:
        ax[0, 0].set_axis_off()
    if "patches" in res:
        p = res["patches"][0]
        _feature_grid(ax[0, 1], p["W"][p["sample"]], PATCH_SIZE, N_SHOWN,
                      f"spiking NSM, whitened patches:\n{N_SHOWN} of {K_PATCH} features drawn at random")
        _feature_grid(ax[1, 1], p["sklearn_W"][p["sample"]], PATCH_SIZE, N_SHOWN,
                      f"scikit-learn dictionary learning, same\npatches: {N_SHOWN} of {K_PATCH} drawn at random")
    else:
        ax[0, 1].set_axis_off()
        ax[1, 1].set_axis_off()
    for name, c in (("digits", "C0"), ("patches", "C1")):
        if name in res:
            Y = res[name][0]["Y"]
            v = np.sort(Y.ravel())
            ax[0, 2].plot(v, np.arange(1, len(v) + 1) / len(v), color=c, label=f"{name} ({np.mean(Y == 0):.0%} zero)")
    ax[0, 2].set(xlabel="output y (spike count / tau)", ylabel="CDF", title="outputs over the data set")
    ax[0, 2].set_xscale("symlog", linthresh=1e-2)
    ax[0, 2].legend(frameon=False, fontsize=8)
    if "patches" in res:
        bins = np.linspace(0, 1, 26)
        ax[0, 3].hist(p["osi_rnd"], bins=bins, density=True, alpha=0.5, color="0.5", label="random filters")
        ax[0, 3].hist(p["osi"], bins=bins, density=True, alpha=0.7, color="C1", label="spiking NSM")
        ax[0, 3].hist(p["sklearn"]["osi"], bins=bins, density=True, histtype="step", color="C2", label="scikit-learn")
        ax[0, 3].axvline(p["osi_random_95"], color="k", ls=":", lw=0.8, label="random filters, 95th percentile")
        ax[0, 3].set(xlabel="orientation selectivity index", ylabel="density",
                     title=f"NSM: {p['oriented_fraction']:.0%} oriented (> random 95th pct)")
        ax[0, 3].legend(frameon=False, fontsize=8)
        width = 180 / N_ORI_BINS
        centres = (np.arange(N_ORI_BINS) + 0.5) * width
        for k, (name, q, c) in enumerate((("spiking NSM", p, "C1"), ("scikit-learn", p["sklearn"], "C2"))):
            frac = q["orientation_bins"] / max(q["orientation_bins"].sum(), 1)
            ax[1, 2].bar(centres + (k - 0.5) * width * 0.4, frac, width=width * 0.4, color=c, label=name)
        ax[1, 2].axhline(1 / N_ORI_BINS, color="k", lw=0.5, ls=":")
        ax[1, 2].set(xlabel="preferred orientation (deg)", ylabel="fraction of oriented features",
                     title="orientations", xticks=np.arange(0, 181, 30))
        ax[1, 2].legend(frameon=False, fontsize=8)
        im = ax[1, 3].imshow(p["cells"], cmap="viridis", extent=(-0.5, PATCH_SIZE - 0.5, PATCH_SIZE - 0.5, -0.5))
        # the centres of the localised features only: those the cells count (see `_feature_shape`)
        c = feature_centres(p["W"][p["spread"] < p["spread_random_5"]], PATCH_SIZE)
        ax[1, 3].plot(c[:, 1], c[:, 0], "w.", ms=3)
        cell = PATCH_SIZE / N_CELLS
        for (r, q), n in np.ndenumerate(p["cells"]):
            ax[1, 3].text(-0.5 + (q + 0.5) * cell, -0.5 + (r + 0.5) * cell, str(n), ha="center", va="center",
                          fontsize=9, fontweight="bold", color="w" if n < 0.5 * max(p["cells"].max(), 1) else "k")
        fig.colorbar(im, ax=ax[1, 3], label="localised features per cell")
        ax[1, 3].set(title=f"NSM centres: {p['cells_covered']} of {N_CELLS ** 2} cells", xlabel="x (pixel)",
                     ylabel="y (pixel)")
    else:
        for a in (ax[0, 3], ax[1, 2], ax[1, 3]):
            a.set_axis_off()
    if "patches" in res:
        bins = np.linspace(0, 8, 33)
        ax[1, 0].hist(p["spread"], bins=bins, density=True, alpha=0.7, color="C1", label="spiking NSM")
        ax[1, 0].hist(p["sklearn"]["spread"], bins=bins, density=True, histtype="step", color="C2",
                      label="scikit-learn")
        ax[1, 0].axvline(p["spread_random_5"], color="k", ls=":", lw=0.8, label="random filters, 5th pct")
        ax[1, 0].set(xlabel="RMS spread of the squared weights (pixels)", ylabel="density",
                     title=f"NSM: {p['localised_fraction']:.0%} localised")
        ax[1, 0].legend(frameon=False, fontsize=8)
    else:
        ax[1, 0].set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
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
    # ---- the runs (three seeds; the figure shows the first)
    seeds = [seed, seed + 1, seed + 2]
    res, rows = {}, {}
    if "digits" in parts:
        res["digits"] = [_digits(quick, s, device, eta, duration, dt, n_iter) for s in seeds]
        rows["digits"] = _digit_rows(res["digits"], n_iter, path)
    if "patches" in parts:
        res["patches"] = [_patches(quick, s, device, eta, duration, dt, n_iter, n_patches, images, path)
                          for s in seeds]
        rows["patches"] = _patch_rows(res["patches"], images, path)
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
