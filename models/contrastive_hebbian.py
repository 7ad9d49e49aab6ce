"""
Contrastive Hebbian plasticity (CHL; Movellan 1991; Scellier & Bengio 2017, Front. Comput.
Neurosci. 11:24), applied at the end of the clamped (nudged) phase::

    dw = eta * (r_clamped_post * r_clamped_pre - r_free_post * r_free_pre)

``r_free`` / ``r_clamped`` are the rates of the pre- and postsynaptic neurons at the end of the
free and of the clamped phase (snapshots held by the neurons); at the end of each trial the
learning system runs the synapse's ``update``. With rates in Hz, ``eta`` has units of
second**2 and ``dw`` is dimensionless; ``eta`` is usually multiplied by a per-trial learning
rate that is zero in padded trials.

The equilibrium-propagation networks run the same statement on their dimensionless rates
(``r_free -> rho_free``, ``r_clamped -> rho_nudged``) with ``eta`` replaced by the per-trial
factor ``lr * eta_l / beta``; a bias is the weight from a unit of rate 1.
"""

from brian2 import second

from brianlearn.modelspec import SynapseModel

__all__ = ["contrastive_hebbian"]

contrastive_hebbian = SynapseModel(
    "contrastive_hebbian",
    model="w : 1",
    update="w += eta * (r_clamped_post * r_clamped_pre - r_free_post * r_free_pre)",
    parameters=dict(eta=1e-4 * second**2),
    reference="Movellan (1991); Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
    doc="Contrastive rate-difference plasticity applied at trial end (Hebbian-product (CHL) form).",
)
