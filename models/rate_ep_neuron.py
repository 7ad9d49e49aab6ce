"""
Rate neuron of the equilibrium-propagation energy network (Scellier & Bengio 2017, Front.
Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea 2016, arXiv:1612.03214).

The state ``s`` relaxes down the gradient of the energy ``F = E + beta/2 |y_hat - s_L|^2``::

    tau ds/dt = -s + rho'(s) (I_up + I_down + b) + nudge (target - s)
    rho = clip(s, 0, 1)  (hard sigmoid),   rho' = 1 on the closed interval [0, 1]

``I_up`` / ``I_down`` are the summed rates from the layer below / above (written by the
synapses), ``b`` the learned bias. ``nudge`` is ``beta * sign`` in the nudged phase of an output
neuron (``target`` = the sample's target) and 0 otherwise. Integrated with Euler steps of
``eps = dt / tau``; the learning system clips ``s`` to ``[0, 1]`` after every step (Scellier &
Bengio's code) and snapshots ``rho`` into ``rho_free`` / ``rho_nudged`` at the phase ends.
"""

from brian2 import ms

from brianlearn.modelspec import NeuronModel

__all__ = ["rate_ep_neuron"]

rate_ep_neuron = NeuronModel(
    "rate_ep_neuron",
    equations="""
        ds/dt = (-s + rhop * (I_up + I_down + b) + nudge * (target - s)) / tau : 1
        rho = clip(s, 0, 1) : 1
        rhop = int(s >= 0) * int(s <= 1) : 1
        I_up : 1
        I_down : 1
        b : 1
        nudge : 1
        target : 1
        rho_free : 1
        rho_nudged : 1
    """,
    method="euler",
    parameters=dict(tau=1 * ms),
    reference="Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24; Mesnard, Gerstner & Brea (2016) "
              "arXiv:1612.03214",
    doc="Rate neuron of the equilibrium-propagation energy: hard-sigmoid rate rho = clip(s, 0, 1), "
        "rho' = 1 on [0, 1], state clipped to [0, 1] after each Euler step; 'nudge' = beta*sign in the "
        "nudged phase for output neurons (target = the sample's target), 0 otherwise.",
)
