"""
Feed-forward synapse ``F_ij`` (input neuron ``j`` -> coding neuron ``i``) of the two-phase
dictionary-learning network and its local rule.

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (DESIGN.md section 4.2). Every spike of the input neuron raises the current of the
coding neuron by ``F_ij``. At the end of the trial, from the coding neuron's rate of the second
phase ``ak``, the input neuron's gradient ``gD`` and the per-trial ``eta_d``, ``lam2``::

    F_ij <- max(F_ij - eta_d (ak_i gD_j / kappa + lam2 F_ij), 0)
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["dl_feedforward"]

dl_feedforward = SynapseModel(
    "dl_feedforward",
    model="w : 1",
    on_pre="I_post += w",
    update="w = clip(w - eta_d_post*(ak_post*gD_pre/kappa + lam2_post*w), 0, inf)",
    parameters=dict(kappa=0.7),
    reference="Lin & Tang (2018) arXiv:1805.08952, Algorithm 1",
    doc="Feed-forward weight F (input -> coding; I_post += w per spike) with the local rule "
        "F -= eta_d (a gD / kappa + lam2 F), projected onto >= 0.",
)
