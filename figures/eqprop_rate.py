"""Rate-network findings of Mesnard, Gerstner & Brea (2016): learning curves of the four networks
(no hidden layer; fixed random hidden, output only; 20 hidden all layers; the same with fixed
feedback), predictions over the (phi, theta) square, baselines.

Usage: python figures/eqprop_rate.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_learning_curves.png, figures/eqprop_predictions.png and their rows of
figures/RESULTS.md (quick sizes by default).
"""

from brianlearn.protocols.eqprop_experiments import rate_findings
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(rate_findings, __doc__)
