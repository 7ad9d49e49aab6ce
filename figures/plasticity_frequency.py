"""Pair and triplet rules versus the frequency dependence of Sjöström et al. (2001).

Reference: Sjöström PJ, Turrigiano GG & Nelson SB (2001) Neuron 32:1149: pairings at
dt = +10 ms and -10 ms, 15 trains of 5 pairings at 10-50 Hz (trains 10 s apart) and 50
pairings at 0.1 Hz (mean ± SEM, data set ``'sjostrom_2001'``); Pfister J-P & Gerstner W (2006)
J. Neurosci. 26:9673 (triplet rule, Table 4, fitted to 60 regularly spaced pairings).

Reproduces DESIGN.md §4.5: the minimal all-to-all visual-cortex triplet rule puts 9 of the 10
points within one SEM with 60 regular pairings (the protocol Pfister & Gerstner modelled) but
only 4 of 10 under the experiment's own trains; the pair rule (``'bi_poo_1998'``) fails the
-10 ms points at 40 and 50 Hz. Also the nearest-spike triplet rule under the trains.

Usage: python figures/plasticity_frequency.py [--full] [--device D] [--seed N] [--out DIR]
Writes plasticity_frequency.png and the 'plasticity_frequency' rows of RESULTS.md.
"""

import numpy as np

from brianlearn.datasets import plasticity as datasets
from brianlearn.devices import resolve_device
from brianlearn.figures._plotting import save
from brianlearn.figures.plasticity_compare import plot_sjostrom
from brianlearn.protocols.plasticity import compare
from brianlearn.results import figure_main, record_results, sized

__all__ = ["run"]

# ----------------------------------------------------------------------------- parameters
#: (synapse model, parameter set) of each rule
RULES = (("triplet_stdp", "pfister_visual_cortex_minimal"), ("pair_stdp", "bi_poo_1998"),
         ("triplet_stdp", "pfister_visual_cortex_nearest_minimal"))
PAIRINGS = ("regular60", "trains")
#: curves drawn: (parameter set, pairing) -> (colour, line style, label)
STYLES = {("pfister_visual_cortex_minimal", "regular60"): ("C3", "-", "triplet, 60 regular pairings"),
          ("pfister_visual_cortex_minimal", "trains"): ("C3", ":", "triplet, 15 trains of 5"),
          ("bi_poo_1998", "regular60"): ("C0", "-", "pair, 60 regular pairings"),
          ("bi_poo_1998", "trains"): ("C0", ":", "pair, 15 trains of 5"),
          ("pfister_visual_cortex_nearest_minimal", "trains"): ("C2", ":", "nearest-spike triplet, 15 trains of 5")}


# ----------------------------------------------------------------------------- run
def run(out="figures", quick=True, seed=0, device=None, record=True):
    """All rules under both pairings; writes ``plasticity_frequency.png``; returns the comparisons."""
    runs = {}
    for synapse, params in RULES:
        for pairing in PAIRINGS:
            comp = compare(synapse, "sjostrom_2001", params=params, pairing=pairing, device=device)
            runs[(params, pairing)] = comp
            print(comp.summary())
    path = plot(out, runs, quick=quick)
    data = datasets.load("sjostrom_2001")
    pair60 = runs[("bi_poo_1998", "regular60")]
    hf = (data["dt_ms"] == -10) & (data["frequency_hz"] >= 40)
    pair_fails = bool(np.all(np.abs(pair60.model[hf] - data["change_percent"][hf]) > data["sem_percent"][hf]))
    if record:
        record_results(sized("plasticity_frequency", quick), rows(device, runs, hf, pair_fails, path), folder=out,
                       title="Plasticity: pair and triplet rules versus Sjöström et al. (2001)",
                       command="python figures/plasticity_frequency.py")
    return {"comparisons": runs, "figure": path, "pair_fails_high_frequency": pair_fails}


# ----------------------------------------------------------------------------- plot
def plot(out, runs, quick=True):
    """The data with the curves of `STYLES`; returns the PNG's path."""
    curves = [(runs[key].model, ls, dict(marker="s", ms=3, color=color,
                                         label=f"{lab} (RMSE {runs[key].rmse:.0f} %, {runs[key].n_within_sem}/10 "
                                               f"in SEM)"))
              for key, (color, ls, lab) in STYLES.items()]
    fig, _ = plot_sjostrom(curves)
    fig.tight_layout()
    return save(fig, out, sized("plasticity_frequency", quick) + ".png", dpi=120)


# ----------------------------------------------------------------------------- rows
def rows(device, runs, hf, pair_fails, path):
    """The 'plasticity_frequency' rows of RESULTS.md."""
    trip60 = runs[("pfister_visual_cortex_minimal", "regular60")]
    trip_tr = runs[("pfister_visual_cortex_minimal", "trains")]
    pair60, pair_tr = runs[("bi_poo_1998", "regular60")], runs[("bi_poo_1998", "trains")]
    near_tr = runs[("pfister_visual_cortex_nearest_minimal", "trains")]
    return [
        {"quantity": f"triplet rule ('pfister_visual_cortex_minimal', 60 regular pairings, "
                     f"{resolve_device(device).name}): Sjöström points within one SEM",
         "measured": f"{trip60.n_within_sem}/10 (RMSE {trip60.rmse:.1f} %, chi2 {trip60.chi2:.1f})",
         "paper": ">= 8/10 (DESIGN.md: 9/10)", "ok": trip60.n_within_sem >= 8, "figure": path},
        {"quantity": "triplet rule, the experiment's protocol (15 trains of 5 pairings; 50 at 0.1 Hz): points "
                     "within one SEM",
         "measured": f"{trip_tr.n_within_sem}/10 (RMSE {trip_tr.rmse:.1f} %, chi2 {trip_tr.chi2:.1f})",
         "paper": "DESIGN.md: 4/10 (published parameters do not transfer)", "figure": path},
        {"quantity": "pair rule ('bi_poo_1998', 60 regular pairings): points within one SEM; fails the -10 ms "
                     "points at 40 and 50 Hz",
         "measured": f"{pair60.n_within_sem}/10 (RMSE {pair60.rmse:.1f} %); -10 ms at 40/50 Hz: "
                     f"{pair60.model[hf][0]:+.0f}, {pair60.model[hf][1]:+.0f} % (data +54, +73 %)",
         "paper": "pair rule fails the high-frequency -10 ms points", "ok": pair_fails, "figure": path},
        {"quantity": "pair rule, trains protocol: points within one SEM",
         "measured": f"{pair_tr.n_within_sem}/10 (RMSE {pair_tr.rmse:.1f} %)", "paper": "-", "figure": path},
        {"quantity": "nearest-spike triplet rule ('pfister_visual_cortex_nearest_minimal'), trains protocol: "
                     "points within one SEM", "measured": f"{near_tr.n_within_sem}/10 (RMSE {near_tr.rmse:.1f} %)",
         "paper": "- (not in DESIGN.md)", "figure": path},
    ]


if __name__ == "__main__":
    figure_main(run, __doc__)
