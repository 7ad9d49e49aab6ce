"""
Contrastive delta rule (O'Reilly 1996; Mesnard, Gerstner & Brea 2016, arXiv:1612.03214): the
change of the postsynaptic rate from the free to the clamped (nudged) phase times the free
presynaptic rate, applied by the learning system at the end of each trial::

    dw = eta * (r_clamped_post - r_free_post) * r_free_pre

Names, units and use as in `contrastive_hebbian` (rates in Hz and ``eta`` in second**2 in the
demo; the dimensionless rates ``rho_free`` / ``rho_nudged`` and the per-trial factor
``lr * eta_l / beta`` in the equilibrium-propagation networks). Spike transmission: add an
``on_pre`` (``I_post += w`` style) or a summed variable for the target.
"""

from brian2 import second

from brianlearn.modelspec import SynapseModel

__all__ = ["contrastive_delta"]

contrastive_delta = SynapseModel(
    "contrastive_delta",
    model="w : 1",
    update="w += eta * (r_clamped_post - r_free_post) * r_free_pre",
    parameters=dict(eta=1e-4 * second**2),
    reference="O'Reilly (1996); Mesnard, Gerstner & Brea (2016) arXiv:1612.03214",
    doc="Contrastive rate-difference plasticity applied at trial end (delta-rule form).",
)
