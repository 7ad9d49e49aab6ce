"""
Leaky integrate-and-fire neuron with reset, refractory period and a synaptic trace input.

Somatic equation of the spiking equilibrium-propagation network (Mesnard, Gerstner & Brea
2016, arXiv:1612.03214), for a neuron without nudging (``lam = 0``)::

    tau du/dt = -(u - u0) + I_syn + R * I_ext       below threshold theta
    spike when u > theta, then u = u_r and the neuron is refractory for t_ref

``I_syn`` (volt) is the dendritic input ``sum_j w_ij s_j``, written by synapses (a ``(summed)``
variable or ``I_syn_post += ...``); ``I_ext`` (amp) is an external current.
For a constant drive ``D = u0 + I_syn + R I_ext > theta`` the firing rate is::

    f = 1 / (t_ref + tau * ln((D - u_r) / (D - theta)))
"""

from brian2 import Mohm, ms, mV

from brianlearn.modelspec import NeuronModel

__all__ = ["lif", "lif_rate"]

lif = NeuronModel(
    "lif",
    equations="""
        du/dt = (-(u - u0) + I_syn + R * I_ext) / tau : volt (unless refractory)
        I_syn : volt
        I_ext : amp
        count : 1
    """,
    threshold="u > theta",
    reset="u = u_r\ncount += 1",
    refractory="t_ref",
    method="exact",
    parameters=dict(tau=15 * ms, u0=0 * mV, u_r=0 * mV, theta=20 * mV, t_ref=5 * ms,
                    R=100 * Mohm),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003), somatic equation",
    doc="Leaky integrate-and-fire neuron with reset u_r and refractory period t_ref.",
)


def lif_rate(drive, tau, theta, u_r, t_ref):
    """Analytic firing rate of `lif` for a constant drive ``D = u0 + I_syn + R*I_ext``.

    All arguments are Brian2 quantities (``drive`` may be an array of volts); returns
    rates in Hz, 0 Hz where the drive does not exceed the threshold.
    """
    import numpy as np
    from brian2 import Hz, second, volt

    D = np.atleast_1d(np.asarray(drive / volt, dtype=float))
    th, ur = float(theta / volt), float(u_r / volt)
    rate = np.zeros_like(D)
    above = D > th
    period = float(t_ref / second) + float(tau / second) * np.log((D[above] - ur) / (D[above] - th))
    rate[above] = 1.0 / period
    return rate * Hz
