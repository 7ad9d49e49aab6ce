"""Fig. 3 of Pehlevan (2019): sparse features of digits and whitened natural-image patches, output CDFs, orientation selectivity.

Usage: python figures/nsm_sparse_features.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_sparse_features.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

import argparse

from brianlearn.protocols.nsm_experiments import sparse_features

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--full", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    a = p.parse_args()
    sparse_features(out=a.out, quick=not a.full, seed=a.seed, device=a.device)
