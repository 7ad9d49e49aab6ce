"""
Rate read-out of the spiking equilibrium-propagation network (Mesnard, Gerstner & Brea 2016,
arXiv:1612.03214, seed 003), a fragment added to each of its neuron models
(``lif_ep_hidden.extend(lif_ep_traces)``).

Two cascaded low-pass traces of the spike train ``S(t) = sum_k delta(t - t_k)`` (the second
smooths the ripple of the first)::

    tau_r dr1/dt = -r1 + S(t)          (r1 jumps by 1/tau_r at each spike)
    tau_r dr2/dt = -r2 + r1

The learning system reads the normalised rate ``rho = r2 / r_max`` into ``rho_free`` at the
end of the free phase and into ``rho_nudged`` at the end of the nudged phase.
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["lif_ep_traces"]

lif_ep_traces = NeuronModel(
    "lif_ep_traces",
    equations="""
        dr1/dt = -r1 / tau_r : Hz
        dr2/dt = (r1 - r2) / tau_r : Hz
        rho_free : 1
        rho_nudged : 1
    """,
    reset="r1 += 1 / tau_r",
    parameters=dict(tau_r=40 * ms),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003)",
    doc="Two cascaded rate traces r1, r2 of a spike train and the phase snapshots rho_free, rho_nudged "
        "(a fragment: model.extend(lif_ep_traces)).",
)
