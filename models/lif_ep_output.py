"""
Nudged two-compartment output neuron of the spiking equilibrium-propagation network (Mesnard,
Gerstner & Brea 2016, arXiv:1612.03214, seed 003; Urbanczik & Senn 2014)::

    tau du/dt = -(u - u0) + (1 - lam) I_up + lam RI          below threshold theta
    lam = nudge G / (nudge G + [I_up]_+)                       (the nudging factor)
    tau_s dI_up/dt = -I_up

``I_up`` is the dendritic input (synaptic traces from the layer below, as in `lif_ep_hidden`),
``RI`` the somatic drive at which the neuron fires at its target rate (set per sample by the
learning system, see `lif_drive`), ``nudge`` = ``beta`` in the nudged phase and 0 in the free
phase. ``G = u_nudge`` (default, ``seed_form = 0``) is a target-independent nudging
conductance, as with a teacher synapse of fixed total conductance (Urbanczik & Senn 2014);
``seed_form = 1`` gives the seed's factor ``G = RI``, i.e. ``lam = RI / (RI + I_dend)`` (then a
low target nudges weakly and a high one strongly). The nudging form of `nudged_output` with a
target given as a drive rather than a current; the rates come from the fragment `lif_ep_traces`.

The drive at which the LIF fires at rate ``f`` inverts the analytic LIF rate
``f = 1 / (t_ref + tau ln((D - u_r) / (D - theta)))``: with ``a = exp((1/f - t_ref) / tau)``,
``D = (a theta - u_r) / (a - 1)`` and ``RI = D - u0``.
"""

import numpy as np
from brian2 import Hz, ms, mV

from brianlearn.modelspec import NeuronModel

__all__ = ["lif_ep_output", "lif_drive"]

lif_ep_output = NeuronModel(
    "lif_ep_output",
    equations="""
        du/dt = (-(u - u0) + (1 - lam) * I_up + lam * RI) / tau : volt (unless refractory)
        lam = nudge * G / (nudge * G + clip(I_up, 0*volt, inf*volt) + 1e-12*volt) : 1
        G = u_nudge + seed_form * (RI - u_nudge) : volt
        dI_up/dt = -I_up / tau_s : volt
        RI : volt
        nudge : 1
    """,
    threshold="u > theta",
    reset="u = u_r",
    refractory="t_ref",
    method="euler",
    parameters=dict(tau=15 * ms, tau_s=5 * ms, u0=20 * mV, u_r=0 * mV, theta=20 * mV, t_ref=5 * ms, U=50 * mV,
                    r_max=100 * Hz, u_nudge=25 * mV, seed_form=0.0),
    reference="Mesnard, Gerstner & Brea (2016) arXiv:1612.03214 (seed 003); Urbanczik & Senn (2014)",
    doc="Nudged two-compartment output neuron: dendritic input I_up, somatic nudging drive RI toward the "
        "target mixed by lam = nudge*G/(nudge*G + I_up); nudge = beta in the nudged phase, 0 in the free phase. "
        "G = u_nudge (a target-independent nudging conductance, default) or, with seed_form = 1, G = RI (the "
        "seed's factor RI/(RI + I_dend)).",
)


def lif_drive(rate, p=None):
    """The constant drive ``D`` (volt, as a float) at which the LIF fires at ``rate`` (Hz).

    ``p``: the parameters (default those of `lif_ep_output`); the inverse of `lif_rate`.
    """
    p = lif_ep_output.parameters if p is None else p
    f = np.asarray(rate, dtype=float)
    tau, th, ur, tref = (float(p["tau"]), float(p["theta"]), float(p["u_r"]), float(p["t_ref"]))
    a = np.exp((1.0 / f - tref) / tau)
    return (a * th - ur) / (a - 1.0)
