"""
Figure: Triplet STDP fitted to Sjöström et al. (2001) under the experiment's own protocol (15 trains of 5 pairings).

Writes ``plasticity_fit_trains.png`` next to this script and its rows of ``RESULTS.md``.

    python figures/plasticity_fit_trains.py [--full] [--device cpp_standalone|runtime] [--seed N] [--out DIR]
"""

from brianlearn.protocols.plasticity_figures import figure_fit_trains
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(figure_fit_trains, __doc__)
