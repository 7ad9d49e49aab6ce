"""
Lateral synapse of the spiking non-negative similarity matching network: inhibition by the
off-diagonal lateral weights and their anti-Hebbian rule.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, eq. 8-9. Every spike of neuron ``j`` lowers the current
of neuron ``i`` by ``Mbar_ij`` (event-driven); at the end of every trial, with the outputs ``y``
and the learning rate ``eta`` (given by the protocol as a gate)::

    on_pre:  I_post -= w
    update:  Mbar_ij += eta (y_i y_j - Mbar_ij)   for i != j   (the diagonal stays 0)
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["nsm_lateral"]

nsm_lateral = SynapseModel(
    "nsm_lateral",
    model="w : 1",
    on_pre="I_post -= w",
    update="w += int(i != j) * (y_pre * y_post - w)",
    reference="Pehlevan (2019) arXiv:1902.01429",
    doc="Lateral inhibition (I_post -= w per spike) with the anti-Hebbian end-of-trial rule of NSM.",
)
