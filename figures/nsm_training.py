"""Spiking NSM vs the NumPy analog network: held-out NSM cost during learning on digits.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429: the spiking network (spike counts over tau) and the
analog network it approximates (section 2, the fixed point of its dynamics) learn with the same
local rules from the same data, seed, sample order and learning rates (scikit-learn's 8x8
digits, k = 16 quick / 32 full, lam1 = 0.5, eta = 0.01); their held-out NSM costs should agree.

Usage: python figures/nsm_training.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_training.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import os
import time

import numpy as np

from brianlearn.datasets.images import load_digits_data
from brianlearn.figures._plotting import plt
from brianlearn.protocols.nsm import AnalogNSM, NSMNetwork, SpikingNSM
from brianlearn.results import experiment_checkpoint, figure_main, mean_range, record_results, sized

__all__ = ["run", "example_network"]

#: (training samples, held-out samples, output neurons k): quick, full
SIZES_QUICK, SIZES_FULL = (1000, 100, 16), (1600, 197, 32)
#: simulated time and step per sample (paper units: 1 unit = 1 ms of Brian2 time): quick, full
TIMES_QUICK, TIMES_FULL = (200, 0.02), (500, 0.01)
#: cost parameters and learning rate
ALPHA, LAM1, LAM2, ETA = 0.0, 0.5, 0.0, 0.01
EVAL_EVERY = 100


def example_network(quick=True, seed=0, device=None):
    """The network ``brianlearn build nsm`` exports: `NSMNetwork` on the digits (200 if quick)."""
    return NSMNetwork(device=device, seed=seed), {"x": load_digits_data()[: 200 if quick else None]}


def _one_seed(quick, seed, device):
    """Both networks on one seed's split; returns their held-out cost histories and fit time."""
    n_train, n_val, k = SIZES_QUICK if quick else SIZES_FULL
    duration, dt = TIMES_QUICK if quick else TIMES_FULL
    X = load_digits_data()
    X = X[np.random.default_rng(seed).permutation(len(X))]
    Xtr, Xval = X[:n_train], X[n_train:n_train + n_val]
    kw = dict(alpha=ALPHA, lam1=LAM1, lam2=LAM2, eta=ETA, eval_every=EVAL_EVERY, seed=seed)
    start = time.time()
    s = SpikingNSM(k, duration=duration, dt=dt, device=device, chunk_size=100, **kw)
    s.fit(Xtr, X_val=Xval, **experiment_checkpoint("nsm_training", quick, seed, device))
    t_spk = time.time() - start
    a = AnalogNSM(k, solver="dynamics", **kw).fit(Xtr, X_val=Xval)
    hs, ha = s.history, a.history
    rel = abs(hs[-1, 1] - ha[-1, 1]) / ha[-1, 1]
    print(f"  training, seed {seed}: held-out cost spiking {hs[-1, 1]:.4f} vs analog {ha[-1, 1]:.4f} "
          f"(rel. diff {rel:.4f}); initial {hs[0, 1]:.1f}; spiking fit {t_spk:.0f} s")
    return {"spiking": hs, "analog": ha, "rel_diff": rel}


def _plot(runs, seeds, path, k, n_val, duration, dt):
    """Held-out cost of both networks (linear axis, from the first evaluation after 0 samples: the
    initial cost, ~1e3, would hide their difference) and their relative difference, per seed.

    Parameters
    ----------
    runs : list of dict
        Per seed: ``'spiking'``, ``'analog'``: ``(samples seen, held-out NSM cost)`` rows.
    seeds : list of int
    path : str
        The PNG written.
    k, n_val : int
        Output neurons; held-out samples.
    duration, dt : float
        The spiking network's time per sample and step (tau units).
    """
    pyplot = plt()
    fig, (ax, axd) = pyplot.subplots(1, 2, figsize=(9, 3.6))
    for n, r in enumerate(runs):
        hs, ha = r["spiking"], r["analog"]
        hs, ha = hs[hs[:, 0] > 0], ha[ha[:, 0] > 0]
        alpha = 1 if n == 0 else 0.35
        ax.plot(hs[:, 0], hs[:, 1], "o-", color="C0", lw=2.2, ms=5, alpha=alpha,
                label=f"Spiking NSM (tau={duration}, dtau={dt})" if n == 0 else None)
        ax.plot(ha[:, 0], ha[:, 1], "s--", color="C1", lw=1.2, ms=5, mfc="none", mew=1.2, alpha=alpha,
                label="analog network (NumPy)" if n == 0 else None)
        # relative difference at the evaluations both histories hold
        t, i_s, i_a = np.intersect1d(hs[:, 0], ha[:, 0], return_indices=True)
        axd.plot(t, (hs[i_s, 1] - ha[i_a, 1]) / ha[i_a, 1], "o-", color=f"C{n + 2}", ms=3, lw=1.2,
                 label=f"seed {seeds[n]}")
    ax.set(xlabel="training samples", ylabel="held-out NSM cost",
           title=f"digits, k={k}, lam1={LAM1}, eta={ETA}\n({n_val} held out; {len(seeds)} seeds, first opaque)")
    ax.legend(frameon=False, fontsize=8)
    axd.axhline(0, color="k", lw=0.6, ls=":")
    axd.set(xlabel="training samples", ylabel="(spiking - analog) / analog",
            title="relative difference of the held-out cost")
    axd.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)


def run(out="figures", quick=True, seed=0, device=None, record=True):
    """Held-out cost histories of both networks for seeds ``seed .. seed + 2`` (each seed its own
    split, initial weights and sample order); returns ``{'seeds', 'runs', 'rel_diff'}``."""
    n_train, n_val, k = SIZES_QUICK if quick else SIZES_FULL
    duration, dt = TIMES_QUICK if quick else TIMES_FULL
    seeds = [seed, seed + 1, seed + 2]
    # ---- the runs
    runs = [_one_seed(quick, s, device) for s in seeds]
    rel = [r["rel_diff"] for r in runs]
    # ---- the figure
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, sized("nsm_training", quick) + ".png")
    _plot(runs, seeds, path, k, n_val, duration, dt)
    # ---- the rows
    if record:
        record_results(sized("nsm_training", quick), [
            {"quantity": f"held-out NSM cost after {n_train} samples, spiking ({len(seeds)} seeds: mean (range))",
             "measured": mean_range([r["spiking"][-1, 1] for r in runs], ".4g"), "paper": "-", "figure": path},
            {"quantity": "held-out NSM cost, analog NumPy network (same data, seed, rates)",
             "measured": mean_range([r["analog"][-1, 1] for r in runs], ".4g"), "paper": "-", "figure": path},
            {"quantity": "relative difference spiking vs analog", "measured": mean_range(rel),
             "paper": "<= 0.05 for every seed (acceptance)", "ok": bool(max(rel) <= 0.05), "figure": path},
        ], folder=out, title="NSM: Spiking NSM vs analog network, held-out cost during learning",
            command="python figures/nsm_training.py" + ("" if quick else " --full"))
    return {"seeds": seeds, "runs": runs, "rel_diff": rel}


if __name__ == "__main__":
    figure_main(run, __doc__)
