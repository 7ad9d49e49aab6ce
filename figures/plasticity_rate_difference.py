"""
Figure: Pair STDP versus the rate-difference prediction r_pre dr_post int(tau K) + r_pre r_post int(K).

Writes ``plasticity_rate_difference.png`` next to this script and its rows of ``RESULTS.md``.

    python figures/plasticity_rate_difference.py [--full] [--device cpp_standalone|runtime] [--seed N] [--out DIR]
"""

from brianlearn.protocols.plasticity_figures import figure_rate_difference
from brianlearn.results import figure_main

if __name__ == "__main__":
    figure_main(figure_rate_difference, __doc__)
