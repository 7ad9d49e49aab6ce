"""
Figure: Pair STDP versus the Bi & Poo (1998) window; fit recovering the window from noisy synthetic data.

Writes ``plasticity_window.png`` next to this script and its rows of ``RESULTS.md``.

    python figures/plasticity_window.py [--full] [--device cpp_standalone|runtime] [--seed N] [--out DIR]
"""

from brianlearn.protocols.plasticity_figures import figure_window
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(figure_window, __doc__)
