"""Fig. 4 of Pehlevan (2019): manifold tiling by one image rotated in 5-degree steps (k = 100, alpha = 0.8).

Usage: python figures/nsm_manifold.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_manifold.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import argparse

from brianlearn.protocols.nsm_experiments import manifold_tiling

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--full", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    a = p.parse_args()
    manifold_tiling(out=a.out, quick=not a.full, seed=a.seed, device=a.device)
