"""Fig. 3 of Pehlevan (2019): sparse features of digits and whitened natural-image patches, output CDFs, orientation selectivity.

Usage: python figures/nsm_sparse_features.py [--full] [--device D] [--seed N] [--out DIR] [--images FILE]
Writes figures/nsm_sparse_features.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

from brianlearn.protocols.nsm_experiments import sparse_features
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(sparse_features, __doc__, options={"--images": {
        "default": None, "help": "whitened natural images you have (e.g. Olshausen & Field's IMAGES.mat, "
                                 ".npy, .npz) to cut the patches from (default: scikit-learn's sample photographs)"}})
