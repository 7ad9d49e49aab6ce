"""Pair STDP versus the rate-difference (contrastive) prediction over random rate steps.

Reference: Xie X & Seung HS (2000) NIPS 12; Bengio Y, Mesnard T, Fischer A, Zhang S & Wu Y
(2017) Neural Comput. 29:555 (arXiv:1509.05936): for slowly varying rates a window K changes
the weight by r_pre r_post ∫K + r_pre ṙ_post ∫τK(τ)dτ; over a step of the postsynaptic rate
from a free to a clamped value the second term is r_pre Δr_post ∫τK, the contrastive update.

Reproduces the prediction with `pair_stdp` (``'bi_poo_1998'``) over random free/clamped rate
pairs (5-50 Hz, Poisson trains, 250 ms per phase), each on many independent synapses
(`brianlearn.protocols.plasticity.rate_difference`): measured versus predicted mean change
(left), and the part left after removing the Hebbian term versus r_pre Δr_post ∫τK (right).

Usage: python figures/plasticity_rate_difference.py [--full] [--device D] [--seed N] [--out DIR]
(quick: 200 rate pairs x 1600 synapses; --full: 400 x 3200).
Writes plasticity_rate_difference.png and the 'plasticity_rate_difference' rows of RESULTS.md.
"""

import numpy as np

from brianlearn.devices import resolve_device
from brianlearn.figures._plotting import plt, save
from brianlearn.protocols.plasticity import rate_difference
from brianlearn.results import figure_main, record_results, sized

__all__ = ["run"]

# ----------------------------------------------------------------------------- parameters
#: (rate pairs, synapses per pair): quick and full sizes
#: (the contrastive part is a small difference: 100 synapses per pair resolve it to r = 0.88,
#: 400 to 0.95; the whole change, dominated by the Hebbian term, to 0.97 with 100)
SIZES = {True: (200, 1600), False: (400, 3200)}


# ----------------------------------------------------------------------------- run
def run(out="figures", quick=True, seed=0, device=None, record=True):
    """The scatter; writes ``plasticity_rate_difference.png``; returns `rate_difference`'s numbers."""
    n_pairs, n_repeats = SIZES[bool(quick)]
    r = rate_difference(n_pairs=n_pairs, n_repeats=n_repeats, seed=seed, device=device)
    print(f"STDP versus rate-difference prediction over {n_pairs} rate pairs ({n_repeats} synapses each): "
          f"correlation {r['correlation']:.3f}; after removing the Hebbian term, correlation with "
          f"r_pre dr_post int(tau K) {r['correlation_rate_term']:.3f}")
    r["figure"] = path = plot(out, r, quick=quick)
    if record:
        record_results(sized("plasticity_rate_difference", quick), rows(device, r, path), folder=out,
                       title="Plasticity: STDP and rate differences (Xie & Seung 2000; Bengio et al. 2017)",
                       command="python figures/plasticity_rate_difference.py")
    return r


# ----------------------------------------------------------------------------- plot
def plot(out, r, quick=True):
    """Measured versus predicted (left), contrastive part (right); returns the PNG's path."""
    fig, ax = plt().subplots(1, 2, figsize=(10, 4))
    panels = ((r["predicted"], r["measured"], "C0"), (r["rate_difference"], r["measured"] - r["hebbian"], "C3"))
    for a, (x, y, color) in zip(ax, panels):
        lim = [min(x.min(), y.min()), max(x.max(), y.max())]
        a.plot(lim, lim, "k:", lw=0.8)
        a.errorbar(x, y, yerr=r["measured_sem"], fmt="o", ms=2.5, color=color, elinewidth=0.5)
    ax[0].set(xlabel="predicted: r_pre r_post ∫K (over the phases) + r_pre Δr_post ∫τK (%)",
              ylabel="pair STDP, measured (%)", title=f"correlation {r['correlation']:.3f} ({r['n_pairs']} rate pairs)")
    ax[1].set(xlabel="r_pre Δr_post ∫τK(τ)dτ (%)", ylabel="measured minus Hebbian term (%)",
              title=f"contrastive part: correlation {r['correlation_rate_term']:.3f}")
    fig.tight_layout()
    return save(fig, out, sized("plasticity_rate_difference", quick) + ".png", dpi=120)


# ----------------------------------------------------------------------------- rows
def rows(device, r, path):
    """The 'plasticity_rate_difference' rows of RESULTS.md."""
    n_pairs, n_repeats = r["n_pairs"], r["n_repeats"]
    return [
        {"quantity": f"contrastive part: pair STDP ('bi_poo_1998') minus its Hebbian term r_pre r_post ∫K, versus "
                     f"r_pre Δr_post ∫τK: correlation over {n_pairs} random free/clamped rate pairs (5-50 Hz, "
                     f"{n_repeats} synapses each, {resolve_device(device).name})",
         "measured": r["correlation_rate_term"], "paper": ">= 0.95 over >= 200 pairs (this project's acceptance)",
         "ok": bool(r["correlation_rate_term"] >= 0.95 and n_pairs >= 200), "figure": path},
        {"quantity": "whole change versus r_pre Δr_post ∫τK + r_pre r_post ∫K: correlation (the Hebbian term "
                     "r_pre r_post ∫K dominates it)", "measured": r["correlation"], "paper": "-", "figure": path},
        {"quantity": "regression slope of measured on the exact expectation (incl. -½ Δr_pre Δr_post ∫abs(τ)K)",
         "measured": float(np.polyfit(r["exact"], r["measured"], 1)[0]), "paper": "1", "figure": path},
    ]


if __name__ == "__main__":
    figure_main(run, __doc__)
