"""The triplet rule and the pair rule versus the spike triplets of Wang et al. (2005).

Reference: Wang H-X, Gerkin RC, Nauen DW & Bi G-Q (2005) Nat. Neurosci. 8:187: post-pre-post
and pre-post-pre triplets at (5, 5) and (10, 10) ms, 60 repetitions at 1 Hz (mean ± SEM, data
set ``'wang_2005'``); Pfister J-P & Gerstner W (2006) J. Neurosci. 26:9673 (the minimal
all-to-all hippocampal set).

Reproduces the triplet rule's asymmetry (post-pre-post potentiates, pre-post-pre hardly
changes the weight), which the pair rule cannot show: it predicts the same change for both
patterns with the same |dt|.

Usage: python figures/plasticity_triplets.py [--full] [--device D] [--seed N] [--out DIR]
Writes plasticity_triplets.png and the 'plasticity_triplets' rows of RESULTS.md.
"""

import numpy as np

from brianlearn.figures._plotting import plt, save
from brianlearn.protocols.plasticity import compare
from brianlearn.results import figure_main, record_results, sized

__all__ = ["run"]

# ----------------------------------------------------------------------------- parameters
TRIPLET = ("triplet_stdp", "pfister_hippocampus_minimal")
PAIR = ("pair_stdp", "bi_poo_1998")


# ----------------------------------------------------------------------------- run
def run(out="figures", quick=True, seed=0, device=None, record=True):
    """Both rules on the triplets; writes ``plasticity_triplets.png``; returns the comparisons."""
    trip = compare(TRIPLET[0], "wang_2005", params=TRIPLET[1], device=device)
    pair = compare(PAIR[0], "wang_2005", params=PAIR[1], device=device)
    print(trip.summary())
    print(pair.summary())
    path = plot(out, trip, pair, quick=quick)
    ppp = np.array([lab.startswith("post-pre-post") for lab in trip.labels])
    asym = float(trip.model[ppp].mean() - trip.model[~ppp].mean())
    if record:
        record_results(sized("plasticity_triplets", quick), rows(trip, pair, asym, path), folder=out,
                       title="Plasticity: triplet rule versus Wang et al. (2005) triplets",
                       command="python figures/plasticity_triplets.py")
    return {"triplet": trip, "pair": pair, "figure": path}


# ----------------------------------------------------------------------------- plot
def plot(out, trip, pair, quick=True):
    """Bars of data and both models per triplet; returns the PNG's path."""
    fig, ax = plt().subplots(figsize=(6.5, 3.8))
    x = np.arange(len(trip.data))
    ax.bar(x - 0.25, trip.data, 0.25, yerr=trip.sem, color="0.6", capsize=3, label="Wang et al. 2005")
    ax.bar(x, trip.model, 0.25, color="C3", label=f"triplet, hippocampus minimal (RMSE {trip.rmse:.1f} %)")
    ax.bar(x + 0.25, pair.model, 0.25, color="C0", label=f"pair, bi_poo_1998 (RMSE {pair.rmse:.1f} %)")
    ax.set_xticks(x)
    ax.set_xticklabels(trip.labels, fontsize=7, rotation=20, ha="right")
    ax.set_ylabel("weight change (%)")
    ax.axhline(0, color="k", lw=0.6)
    # head room above the tallest bar (or error bar) for the legend
    top = max(np.max(trip.data + (0 if trip.sem is None else trip.sem)), np.max(trip.model), np.max(pair.model), 0)
    ax.set_ylim(ax.get_ylim()[0], 1.45 * top)
    ax.legend(frameon=False, fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()
    return save(fig, out, sized("plasticity_triplets", quick) + ".png", dpi=120)


# ----------------------------------------------------------------------------- rows
def rows(trip, pair, asym, path):
    """The 'plasticity_triplets' rows of RESULTS.md."""
    return [
        {"quantity": "triplet rule ('pfister_hippocampus_minimal') versus Wang et al. triplets: RMSE (%), "
                     "points within one SEM",
         "measured": f"{trip.rmse:.1f} % ({trip.n_within_sem}/4, chi2 {trip.chi2:.1f})",
         "paper": "- (pair rule for contrast)", "ok": trip.rmse < pair.rmse, "figure": path},
        {"quantity": "pair rule ('bi_poo_1998') versus Wang et al. triplets: RMSE (%)",
         "measured": f"{pair.rmse:.1f} % ({pair.n_within_sem}/4, chi2 {pair.chi2:.1f})",
         "paper": "pair rule predicts pre-post-pre = post-pre-post", "figure": path},
        {"quantity": "triplet rule: post-pre-post minus pre-post-pre (mean, percentage points)",
         "measured": asym, "paper": "data: 24.5", "ok": asym > 10, "figure": path},
    ]


if __name__ == "__main__":
    figure_main(run, __doc__)
