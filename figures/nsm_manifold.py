"""Fig. 4 of Pehlevan (2019): manifold tiling by one image rotated in 5-degree steps (k = 100, alpha = 0.8).

Usage: python figures/nsm_manifold.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_manifold.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

from brianlearn.protocols.nsm_experiments import manifold_tiling
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(manifold_tiling, __doc__)
