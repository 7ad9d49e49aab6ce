"""
Feedback synapse ``B_ji`` (coding neuron ``i`` -> input neuron ``j``) of the two-phase
dictionary-learning network and its local rule; the columns of ``B`` are the dictionary's atoms.

Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks", arXiv:1805.08952,
Algorithm 1 (DESIGN.md section 4.2). Every spike of the coding neuron raises the current of the
input neuron by ``gamma B_ji`` (``gamma``: the phase signal, 0 in the first phase). At the end
of the trial, from the coding neuron's rate ``ak`` and the input neuron's gradient ``gD``::

    B_ji <- max(B_ji - eta_d (ak_i gD_j / kappa + lam2 B_ji), 0)
"""

from brianlearn.modelspec import SynapseModel

__all__ = ["dl_feedback"]

dl_feedback = SynapseModel(
    "dl_feedback",
    model="w : 1",
    on_pre="I_post += gamma_post * w",
    update="w = clip(w - eta_d_pre*(ak_pre*gD_post/kappa + lam2_pre*w), 0, inf)",
    parameters=dict(kappa=0.7),
    reference="Lin & Tang (2018) arXiv:1805.08952, Algorithm 1",
    doc="Feedback weight B (coding -> input; I_post += gamma w per spike) with the local rule "
        "B -= eta_d (a gD / kappa + lam2 B), projected onto >= 0.",
)
