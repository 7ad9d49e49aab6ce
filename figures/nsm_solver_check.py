"""Fig. 2 of Pehlevan (2019): error of the spiking elastic-net solver against a convex solver.

Usage: python figures/nsm_solver_check.py [--full] [--device D] [--seed N] [--out DIR]
(quick: k in {2, 4, ..., 64}; --full: k in {2, 4, ..., 256}; 100 sets per k).
Writes figures/nsm_solver_check.png and the 'nsm_solver_check' rows of figures/RESULTS.md.
"""

import argparse

from brianlearn.protocols.nsm_experiments import solver_check

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--full", action="store_true")
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    a = p.parse_args()
    solver_check(out=a.out, quick=not a.full, seed=a.seed, device=a.device)
