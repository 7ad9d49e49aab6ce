"""
Input unit of the rate equilibrium-propagation network (Scellier & Bengio 2017, Front. Comput.
Neurosci. 11:24): its state is clamped to the sample's input ``x`` in both phases, so its rate
is the same in the free and the nudged phase::

    s = x (set at the trial start),   rho = rho_free = rho_nudged = clip(s, 0, 1)
"""

from brianlearn.modelspec import NeuronModel

__all__ = ["rate_ep_input"]

rate_ep_input = NeuronModel(
    "rate_ep_input",
    equations="""
        s : 1
        rho = clip(s, 0, 1) : 1
        rho_free = rho : 1
        rho_nudged = rho : 1
    """,
    reference="Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
    doc="Clamped input unit of the rate EP network: s = x, rho = clip(s, 0, 1) in both phases.",
)
