"""
Bias unit of the spiking equilibrium-propagation network (Mesnard, Gerstner & Brea 2016,
arXiv:1612.03214, seed 003): one neuron firing regularly at ``r_max`` (normalised rate 1),
whose learned weights onto every non-input layer are the biases::

    dv/dt = r_max,   spike when v > 1, then v -= 1
"""

from brian2 import Hz

from brianlearn.modelspec import NeuronModel

__all__ = ["lif_ep_bias"]

lif_ep_bias = NeuronModel(
    "lif_ep_bias",
    equations="dv/dt = r_max : 1",
    threshold="v > 1",
    reset="v -= 1",
    method="euler",
    parameters=dict(r_max=100 * Hz),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003)",
    doc="Regularly firing bias unit of the spiking EP network (rate r_max, i.e. normalised rate 1).",
)
