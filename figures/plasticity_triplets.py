"""
Figure: Triplet STDP (Pfister & Gerstner 2006, hippocampal set) and pair STDP versus Wang et al. (2005) triplets.

Writes ``plasticity_triplets.png`` next to this script and its rows of ``RESULTS.md``.

    python figures/plasticity_triplets.py [--full] [--device cpp_standalone|runtime] [--seed N] [--out DIR]
"""

from brianlearn.protocols.plasticity_figures import figure_triplets
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(figure_triplets, __doc__)
