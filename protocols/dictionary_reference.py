"""
A NumPy re-implementation of the two-phase dictionary-learning network, step by step.

The independent reference the tests compare the compiled Brian2 network with (and a
hand-written implementation for the speed benchmarks). It follows the equations of the
models ``dl_input``, ``dl_coding``, ``dl_feedforward``, ``dl_feedback``, ``dl_inhibition``
and Brian2's order within a time step: start-of-step code (end of phase / trial read-outs and
updates, then the new trial's initial state), Euler integration (every derivative from the old
values), thresholds, synaptic effects of this step's spikes, resets.

Lin & Tang (2018/2019), arXiv:1805.08952, Algorithm 1; DESIGN.md section 4.2.
"""

import numpy as np

__all__ = ["simulate_dictionary_network"]


def simulate_dictionary_network(X, F, B, H, lam1, kappa=0.7, phase_duration=100.0, dt=1 / 32, eta_d=0.0,
                                eta_h=0.0, lam2=0.0, theta_min=1e-3):
    """Run the network on the rows of ``X``, one trial each, learning if ``eta_d > 0``.

    Parameters
    ----------
    X : array (n_samples, M)
    F, B, H : arrays (N, M), (M, N), (N, N)
        Initial weights (``H``: thresholds on the diagonal).
    lam1, kappa, phase_duration, dt, eta_d, eta_h, lam2, theta_min : float
        As in `SpikingDictionaryLearning` (times in paper units; ``eta_h`` absolute).

    Returns
    -------
    F, B, H : arrays
        The weights after the last sample's update.
    codes : dict
        ``'a0'``, ``'ak'``: rates of the coding neurons per phase, ``(n_samples, N)``.
    """
    X = np.asarray(X, dtype=float)
    F, B, H = (np.array(w, dtype=float) for w in (F, B, H))
    N, M = F.shape
    T = float(phase_duration)
    steps = int(round(T / dt))
    off = ~np.eye(N, dtype=bool)
    A0, AK = np.zeros((len(X), N)), np.zeros((len(X), N))
    for s, x in enumerate(X):
        theta = np.diag(H).copy()
        Hoff = np.where(off, H, 0.0)
        v_in, I_in, c_in = np.zeros(M), x.copy(), np.zeros(M)
        v, I, c, vstart = np.zeros(N), -lam1 * theta, np.zeros(N), np.zeros(N)
        for phase, gamma in enumerate((0.0, kappa)):
            if phase == 1:  # end of the free phase (states kept)
                a0, e0, b0 = c / T, (v - vstart) / T, c_in / T
                c, vstart, c_in = np.zeros(N), v.copy(), np.zeros(M)
            for _ in range(steps):
                # Euler: both derivatives from the old values
                v_in, I_in = v_in + dt * I_in, I_in + dt * ((1 - gamma) * x - I_in)
                v, I = v + dt * I, I + dt * (-(1 - gamma) * lam1 * theta - I)
                sp_in, sp = v_in > 1, v > theta
                I = I + F[:, sp_in].sum(axis=1) - Hoff[:, sp].sum(axis=1)
                I_in = I_in + gamma * B[:, sp].sum(axis=1)
                v_in = v_in - sp_in
                c_in = c_in + sp_in
                v = v - theta * sp
                c = c + sp
        # end of the trial: read-outs, gradients, updates (models' update statements)
        ak, ek, bk = c / T, (v - vstart) / T, c_in / T
        A0[s], AK[s] = a0, ak
        gD = bk - b0
        gH = (1 - kappa) * (Hoff @ (a0 - ak) + theta * (a0 - ak)) + (1 - kappa) * e0 - ek
        theta_new = np.clip(theta - eta_h * gH * ak / kappa - 2 * eta_d * lam2 * theta, theta_min, np.inf)
        F = np.clip(F - eta_d * (np.outer(ak, gD) / kappa + lam2 * F), 0, np.inf)
        B = np.clip(B - eta_d * (np.outer(gD, ak) / kappa + lam2 * B), 0, np.inf)
        H = np.clip(Hoff - eta_h * np.outer(gH, ak) / kappa - 2 * eta_d * lam2 * Hoff, 0, np.inf) * off
        H[np.diag_indices(N)] = theta_new
    return F, B, H, {"a0": A0, "ak": AK}
