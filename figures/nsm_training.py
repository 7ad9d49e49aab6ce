"""Spiking NSM vs the NumPy analog network: held-out NSM cost during learning on digits.

Usage: python figures/nsm_training.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/nsm_training.png and its rows of figures/RESULTS.md (quick sizes by default).
"""

from brianlearn.protocols.nsm_experiments import training_comparison
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(training_comparison, __doc__)
