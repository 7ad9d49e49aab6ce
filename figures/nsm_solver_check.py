"""Fig. 2 of Pehlevan (2019): error of the spiking elastic-net solver against a convex solver.

Usage: python figures/nsm_solver_check.py [--full] [--device D] [--seed N] [--out DIR]
(quick: k in {2, 4, ..., 64}; --full: k in {2, 4, ..., 256}; 100 sets per k).
Writes figures/nsm_solver_check.png and the 'nsm_solver_check' rows of figures/RESULTS.md.
"""

from brianlearn.protocols.nsm_experiments import solver_check
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(solver_check, __doc__)
