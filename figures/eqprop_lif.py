"""Spiking EP network of Mesnard, Gerstner & Brea (2016): 300 LIF hidden neurons, 20 neurons per
input and output dimension; learning curve, predictions over the (phi, theta) square, spike
rasters of a free and a nudged phase.

Usage: python figures/eqprop_lif.py [--full] [--device D] [--seed N] [--out DIR]
Writes figures/eqprop_lif_*.png and their rows of figures/RESULTS.md (quick sizes by default).
"""

from brianlearn.protocols.eqprop_experiments import lif_network
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(lif_network, __doc__)
