"""
Contrastive rate-difference plasticity, applied at the end of the clamped (nudged) phase.

The rates of the pre- and postsynaptic neurons at the end of the free phase
(``r_free``) and of the clamped phase (``r_clamped``) are snapshots held by the neurons;
at the end of each trial the protocol runs the synapse's ``update``:

- ``contrastive_hebbian`` (CHL; Movellan 1991, Scellier & Bengio 2017)::

      dw = eta * (r_clamped_post * r_clamped_pre - r_free_post * r_free_pre)

- ``contrastive_delta`` (the delta-rule form; O'Reilly 1996, Mesnard et al. 2016)::

      dw = eta * (r_clamped_post - r_free_post) * r_free_pre

Rates are in Hz, so ``eta`` has units of second**2 and ``dw`` is dimensionless.
``eta`` is usually multiplied by a per-trial learning-rate signal that is zero in padded trials.
Spike transmission: ``I_post += w``-style, set ``on_pre`` for the target variable.
"""

from brian2 import second

from brianlearn.modelspec import SynapseModel

__all__ = ["contrastive_hebbian", "contrastive_delta"]

_doc = "Contrastive rate-difference plasticity applied at trial end (%s form)."

contrastive_hebbian = SynapseModel(
    "contrastive_hebbian",
    model="w : 1",
    update="w += eta * (r_clamped_post * r_clamped_pre - r_free_post * r_free_pre)",
    parameters=dict(eta=1e-4 * second**2),
    reference="Movellan (1991); Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
    doc=_doc % "Hebbian-product (CHL)",
)

contrastive_delta = SynapseModel(
    "contrastive_delta",
    model="w : 1",
    update="w += eta * (r_clamped_post - r_free_post) * r_free_pre",
    parameters=dict(eta=1e-4 * second**2),
    reference="O'Reilly (1996); Mesnard, Gerstner & Brea (2016) arXiv:1612.03214",
    doc=_doc % "delta-rule",
)
