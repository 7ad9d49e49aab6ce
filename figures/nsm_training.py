"""Spiking NSM vs the NumPy analog network: held-out NSM cost during learning on digits.

Usage: python figures/nsm_training.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_training.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import argparse

from brianlearn.protocols.nsm_experiments import training_comparison

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--full", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    a = p.parse_args()
    training_comparison(out=a.out, quick=not a.full, seed=a.seed, device=a.device)
