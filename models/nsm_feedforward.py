"""
Feed-forward synapse of the spiking non-negative similarity matching network: the drive ``Wx``
of every output neuron and its Hebbian rule.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, eq. 8. The input neurons hold the sample ``x`` of the
trial; the drive is summed once per trial (the synapses run on the trial clock); at the end of
every trial, with the output ``y`` and the learning rate ``eta`` (a gate given by the protocol)::

    Wx_post = sum_pre w x_pre          (summed)
    update:  W_ij += eta (y_i x_j - W_ij)
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["nsm_feedforward"]

nsm_feedforward = SynapseModel(
    "nsm_feedforward",
    model="w : 1\nWx_post = w * x_pre : 1 (summed)",
    update="w += y_post * x_pre - w",
    reference="Pehlevan (2019) arXiv:1902.01429",
    doc="Feed-forward weight: summed drive Wx = W x per trial, Hebbian end-of-trial rule of NSM.",
)
