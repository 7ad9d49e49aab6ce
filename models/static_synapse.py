"""
Static synapse: a fixed weight ``w`` added to a postsynaptic variable on each presynaptic spike.

The default adds to the postsynaptic current ``I`` of the perfect integrate-and-fire model
(``I_post += w``; use negative weights, or ``on_pre='I_post -= w'``, for inhibition). For
another target variable, ``static_synapse.replace(on_pre='s_post += w')``.
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["static_synapse"]

static_synapse = SynapseModel(
    "static_synapse",
    model="w : 1",
    on_pre="I_post += w",
    reference="Brian2 documentation, 'Synapses'",
    doc="A fixed weight added to the postsynaptic variable on each presynaptic spike.",
)
