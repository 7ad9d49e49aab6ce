"""
Figure: Pair and triplet STDP versus Sjöström et al. (2001) frequency dependence (both pairing protocols).

Writes ``plasticity_frequency.png`` next to this script and its rows of ``RESULTS.md``.

    python figures/plasticity_frequency.py [--full] [--device cpp_standalone|runtime] [--seed N] [--out DIR]
"""

from brianlearn.protocols.plasticity_figures import figure_frequency
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(figure_frequency, __doc__)
