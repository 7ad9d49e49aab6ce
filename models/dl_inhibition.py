"""
Lateral inhibition ``H_ij`` (coding neuron ``j`` -> coding neuron ``i``, ``i != j``) of the
two-phase dictionary-learning network and its local rule (the diagonal ``H_ii`` is the
threshold of `dl_coding`).

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (DESIGN.md section 4.2). Every spike of ``j`` lowers the current of ``i`` by
``H_ij``. Once per trial the synapses sum ``hsum_i = sum_j H_ij (a0_j - ak_j)`` into the
coding neurons (the first term of their gradient ``gH``); at the end of the trial::

    H_ij <- max(H_ij - eta_h gH_i ak_j / kappa - 2 eta_d lam2 H_ij, 0)
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["dl_inhibition"]

dl_inhibition = SynapseModel(
    "dl_inhibition",
    model="w : 1\nhsum_post = w * (a0_pre - ak_pre) : 1 (summed)",
    on_pre="I_post -= w",
    update="w = clip(w - eta_h_post*gH_post*ak_pre/kappa - 2*eta_d_post*lam2_post*w, 0, inf)",
    parameters=dict(kappa=0.7),
    reference="Lin & Tang (2018) arXiv:1805.08952, Algorithm 1",
    doc="Lateral inhibition H (I_post -= w per spike; hsum = H (a0 - ak) summed per trial) with "
        "the local rule H -= eta_h gH a / kappa + 2 eta_d lam2 H, projected onto >= 0.",
)
