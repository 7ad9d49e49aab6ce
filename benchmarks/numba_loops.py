"""
Hand-written compiled loops (Numba) of the Spiking NSM, the dictionary-learning network and the
rate equilibrium-propagation network, and the event-by-event triplet STDP rule: the same dynamics,
order of operations and rules as the NumPy references (`brianlearn.protocols.nsm_reference`,
`brianlearn.protocols.dictionary_reference`, `brianlearn.protocols.eqprop_reference`,
`brianlearn.protocols.plasticity.reference.event_weight_change`), written as scalar loops that
Numba compiles. The benchmark checks each against brianlearn before timing it.

Numba is an optional extra (``pip install brianlearn[bench]``).
"""

import numpy as np

__all__ = ["nsm_numba", "dictionary_numba", "ep_rate_numba", "triplet_numba", "have_numba"]

try:
    import numba
except ImportError:  # pragma: no cover - the benchmark reports the implementation as missing
    numba = None


def have_numba():
    """Whether Numba is installed."""
    return numba is not None


def _jit(f):
    return numba.njit(cache=False, fastmath=False)(f) if numba is not None else None


def _nsm_kernel(X, W, Mbar, Mii, b, etas, alpha, lam1, lam2, duration, dt, steps):
    k, n = W.shape
    Y = np.zeros((X.shape[0], k))
    bias = np.empty(k)
    v = np.empty(k)
    I = np.empty(k)
    count = np.empty(k)
    theta = np.empty(k)
    spk = np.empty(k, dtype=np.int64)
    for s in range(X.shape[0]):
        for i in range(k):
            acc = 0.0
            for j in range(n):
                acc += W[i, j] * X[s, j]
            bias[i] = acc - alpha * b[i] - lam1
            theta[i] = lam2 + Mii[i]
            v[i] = 0.0
            I[i] = bias[i]
            count[i] = 0.0
        for _ in range(steps):
            ns = 0
            for i in range(k):
                vi = v[i] + dt * I[i]
                I[i] = I[i] + dt * (bias[i] - I[i])
                v[i] = vi
                if vi > theta[i]:
                    spk[ns] = i
                    ns += 1
            for q in range(ns):
                p = spk[q]
                for i in range(k):
                    I[i] -= Mbar[p, i]
                v[p] -= theta[p]
                count[p] += 1.0
        e = etas[s]
        for i in range(k):
            y = count[i] / duration
            Y[s, i] = y
            Mii[i] += e * (y * y - Mii[i])
            b[i] += e * (alpha * y - b[i])
            for j in range(n):
                W[i, j] += e * (y * X[s, j] - W[i, j])
        for i in range(k):
            for j in range(k):
                if i != j:
                    Mbar[i, j] += e * (Y[s, i] * Y[s, j] - Mbar[i, j])
    return Y


_nsm_jit = _jit(_nsm_kernel)


def nsm_numba(X, W, eta, alpha=0.0, lam1=0.0, lam2=0.0, duration=100.0, dt=0.05, Mbar=None, Mii=None, b=None):
    """`simulate_nsm_network` as a Numba loop; same arguments and return. With ``eta = 0``,
    ``W = D``, ``Mbar`` the off-diagonal of ``D D^T`` and ``Mii`` its diagonal it is the spiking
    LCA (`spiking_sparse_encode`)."""
    from brianlearn.protocols.nsm_reference import nsm_arrays

    X, W, Mbar, Mii, b, etas = nsm_arrays(X, W, eta, Mbar, Mii, b)
    Y = _nsm_jit(X, W, Mbar, Mii, b, etas, float(alpha), float(lam1), float(lam2), float(duration), float(dt),
                 int(round(duration / dt)))
    return {"W": W, "Mbar": Mbar, "Mii": Mii, "b": b, "Y": Y}


def _dictionary_kernel(X, F, B, H, lam1, kappa, T, dt, steps, eta_d, eta_h, lam2, theta_min):
    N, M = F.shape
    theta = np.empty(N)
    v_in, I_in, c_in = np.empty(M), np.empty(M), np.empty(M)
    v, I, c, vstart = np.empty(N), np.empty(N), np.empty(N), np.empty(N)
    a0, e0, b0, ak, ek, gD, gH = (np.empty(N), np.empty(N), np.empty(M), np.empty(N), np.empty(N), np.empty(M),
                                  np.empty(N))
    sp_in = np.empty(M, dtype=np.int64)
    sp = np.empty(N, dtype=np.int64)
    AK = np.zeros((X.shape[0], N))
    for s in range(X.shape[0]):
        for i in range(N):
            theta[i] = H[i, i]
            v[i] = 0.0
            I[i] = -lam1 * theta[i]
            c[i] = 0.0
            vstart[i] = 0.0
        for j in range(M):
            v_in[j] = 0.0
            I_in[j] = X[s, j]
            c_in[j] = 0.0
        for phase in range(2):
            gamma = 0.0 if phase == 0 else kappa
            if phase == 1:
                for i in range(N):
                    a0[i] = c[i] / T
                    e0[i] = (v[i] - vstart[i]) / T
                    c[i] = 0.0
                    vstart[i] = v[i]
                for j in range(M):
                    b0[j] = c_in[j] / T
                    c_in[j] = 0.0
            for _ in range(steps):
                nin = 0
                for j in range(M):
                    vj = v_in[j] + dt * I_in[j]
                    I_in[j] = I_in[j] + dt * ((1 - gamma) * X[s, j] - I_in[j])
                    v_in[j] = vj
                    if vj > 1:
                        sp_in[nin] = j
                        nin += 1
                ns = 0
                for i in range(N):
                    vi = v[i] + dt * I[i]
                    I[i] = I[i] + dt * (-(1 - gamma) * lam1 * theta[i] - I[i])
                    v[i] = vi
                    if vi > theta[i]:
                        sp[ns] = i
                        ns += 1
                for q in range(nin):
                    j = sp_in[q]
                    for i in range(N):
                        I[i] += F[i, j]
                for q in range(ns):
                    p = sp[q]
                    for i in range(N):
                        if i != p:
                            I[i] -= H[i, p]
                    for j in range(M):
                        I_in[j] += gamma * B[j, p]
                for q in range(nin):
                    j = sp_in[q]
                    v_in[j] -= 1.0
                    c_in[j] += 1.0
                for q in range(ns):
                    p = sp[q]
                    v[p] -= theta[p]
                    c[p] += 1.0
        for i in range(N):
            ak[i] = c[i] / T
            ek[i] = (v[i] - vstart[i]) / T
            AK[s, i] = ak[i]
        for j in range(M):
            gD[j] = c_in[j] / T - b0[j]
        for i in range(N):
            acc = 0.0
            for j in range(N):
                if j != i:
                    acc += H[i, j] * (a0[j] - ak[j])
            gH[i] = (1 - kappa) * (acc + theta[i] * (a0[i] - ak[i])) + (1 - kappa) * e0[i] - ek[i]
        for i in range(N):
            for j in range(M):
                F[i, j] = max(F[i, j] - eta_d * (ak[i] * gD[j] / kappa + lam2 * F[i, j]), 0.0)
                B[j, i] = max(B[j, i] - eta_d * (gD[j] * ak[i] / kappa + lam2 * B[j, i]), 0.0)
        for i in range(N):
            for j in range(N):
                if i == j:
                    H[i, i] = max(theta[i] - eta_h * gH[i] * ak[i] / kappa - 2 * eta_d * lam2 * theta[i], theta_min)
                else:
                    H[i, j] = max(H[i, j] - eta_h * gH[i] * ak[j] / kappa - 2 * eta_d * lam2 * H[i, j], 0.0)
    return AK


_dictionary_jit = _jit(_dictionary_kernel)


def dictionary_numba(X, F, B, H, lam1, kappa=0.7, phase_duration=100.0, dt=1 / 32, eta_d=0.0, eta_h=0.0, lam2=0.0,
                     theta_min=1e-3):
    """`simulate_dictionary_network` as a Numba loop; returns ``F, B, H, {'ak': ...}``."""
    X = np.ascontiguousarray(X, dtype=float)
    F, B, H = (np.array(w, dtype=float) for w in (F, B, H))
    T = float(phase_duration)
    AK = _dictionary_jit(X, F, B, H, float(lam1), float(kappa), T, float(dt), int(round(T / dt)), float(eta_d),
                         float(eta_h), float(lam2), float(theta_min))
    return F, B, H, {"ak": AK}


def _ep_relax(x, s1, s2, W0, b0, W1, b1, B1, eps, n_steps, beta, y, r1, r2, n1, n2):
    """``n_steps`` synchronous Euler steps of the two-layer rate EP network (in place)."""
    H, O = s1.shape[0], s2.shape[0]
    for _ in range(n_steps):
        for j in range(H):
            r1[j] = min(max(s1[j], 0.0), 1.0)
        for k in range(O):
            r2[k] = min(max(s2[k], 0.0), 1.0)
        for j in range(H):
            drive = 0.0
            for i in range(x.shape[0]):
                drive += W0[j, i] * min(max(x[i], 0.0), 1.0)
            drive += b0[j]
            for k in range(O):
                drive += B1[j, k] * r2[k]
            rp = 1.0 if 0.0 <= s1[j] <= 1.0 else 0.0
            n1[j] = min(max(s1[j] + eps * (-s1[j] + rp * drive), 0.0), 1.0)
        for k in range(O):
            drive = 0.0
            for j in range(H):
                drive += W1[k, j] * r1[j]
            drive += b1[k]
            rp = 1.0 if 0.0 <= s2[k] <= 1.0 else 0.0
            n2[k] = min(max(s2[k] + eps * (-s2[k] + rp * drive + beta * (y[k] - s2[k])), 0.0), 1.0)
        for j in range(H):
            s1[j] = n1[j]
        for k in range(O):
            s2[k] = n2[k]


def _ep_rate_kernel(X, Y, W0, b0, W1, b1, B1, signs, lr, beta0, eta0, eta1, eps, n_free, n_nudged):
    n, n_in = X.shape
    H, O = W0.shape[0], W1.shape[0]
    out = np.zeros((n, O))
    s1, s2, r1, r2 = np.empty(H), np.empty(O), np.empty(H), np.empty(O)
    n1, n2 = np.empty(H), np.empty(O)
    f1, f2 = np.empty(H), np.empty(O)
    for q in range(n):
        x, y = X[q], Y[q]
        s1[:] = 0.0
        s2[:] = 0.0
        _ep_relax_jit(x, s1, s2, W0, b0, W1, b1, B1, eps, n_free, 0.0, y, r1, r2, n1, n2)
        for j in range(H):
            f1[j] = min(max(s1[j], 0.0), 1.0)
        for k in range(O):
            f2[k] = min(max(s2[k], 0.0), 1.0)
            out[q, k] = f2[k]
        beta = beta0 * signs[q]
        _ep_relax_jit(x, s1, s2, W0, b0, W1, b1, B1, eps, n_nudged, beta, y, r1, r2, n1, n2)
        scale = lr[q] / beta
        # contrastive Hebbian rule: dW = scale (rho(s^beta) rho(s^beta)^T - rho(s*) rho(s*)^T)
        for j in range(H):
            rn1 = min(max(s1[j], 0.0), 1.0)
            for i in range(n_in):
                r0 = min(max(x[i], 0.0), 1.0)
                W0[j, i] += eta0 * ((scale * rn1) * r0 - (scale * f1[j]) * r0)
            b0[j] += eta0 * (scale * (rn1 - f1[j]))
        for k in range(O):
            rn2 = min(max(s2[k], 0.0), 1.0)
            for j in range(H):
                dw = (scale * rn2) * min(max(s1[j], 0.0), 1.0) - (scale * f2[k]) * f1[j]
                W1[k, j] += eta1 * dw
                B1[j, k] += eta1 * dw
            b1[k] += eta1 * (scale * (rn2 - f2[k]))
    return out


_ep_relax_jit = _jit(_ep_relax)  # (called by _ep_rate_kernel)
_ep_rate_jit = _jit(_ep_rate_kernel)


def ep_rate_numba(X, Y, Ws, bs, Bs, signs, lr, beta, etas, eps=0.5, n_free=30, n_nudged=10):
    """`RateEPReference` (contrastive Hebbian rule, every layer learning, symmetric feedback, one
    hidden layer, one update per sample) as a Numba loop; returns ``(Ws, bs, Bs, outputs)``."""
    if len(Ws) != 2:
        raise ValueError(f"ep_rate_numba runs one hidden layer; got {len(Ws) - 1}.")
    W0, W1 = (np.array(w, dtype=float) for w in Ws)
    b0, b1 = (np.array(v, dtype=float) for v in bs)
    B1 = np.array(Bs[1], dtype=float)
    out = _ep_rate_jit(np.ascontiguousarray(X, dtype=float), np.ascontiguousarray(Y, dtype=float), W0, b0, W1, b1,
                       B1, np.asarray(signs, dtype=float), np.asarray(lr, dtype=float), float(beta), float(etas[0]),
                       float(etas[1]), float(eps), int(n_free), int(n_nudged))
    return [W0, W1], [b0, b1], [None, B1], out


def _triplet_kernel(times, kinds, offsets, p, nearest):
    """Final weight per condition; ``times``/``kinds`` (0 pre, 1 post) of every condition in
    processing order, condition c at ``offsets[c]:offsets[c + 1]``."""
    A2p, A3p, A2m, A3m, tp, tm, tx, ty, wmin, wmax = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]
    out = np.empty(offsets.shape[0] - 1)
    for c in range(out.shape[0]):
        w, r1, r2, o1, o2 = 1.0, 0.0, 0.0, 0.0, 0.0
        last = times[offsets[c]] if offsets[c + 1] > offsets[c] else 0.0
        for e in range(offsets[c], offsets[c + 1]):
            gap = times[e] - last
            r1 *= np.exp(-gap / tp)
            r2 *= np.exp(-gap / tx)
            o1 *= np.exp(-gap / tm)
            o2 *= np.exp(-gap / ty)
            last = times[e]
            if kinds[e] == 0:
                w = min(max(w - o1 * (A2m + A3m * r2), wmin), wmax)
                r1, r2 = (1.0, 1.0) if nearest else (r1 + 1.0, r2 + 1.0)
            else:
                w = min(max(w + r1 * (A2p + A3p * o2), wmin), wmax)
                o1, o2 = (1.0, 1.0) if nearest else (o1 + 1.0, o2 + 1.0)
        out[c] = w
    return out


_triplet_jit = _jit(_triplet_kernel)


def triplet_numba(conditions, params, nearest=False):
    """`event_weight_change` of the triplet rule (``rule='triplet'``, or ``'triplet_nearest'``
    with ``nearest``) for every ``(pre_times, post_times)`` condition (seconds) as a Numba loop;
    ``params`` holds every parameter of the rule as SI floats. Returns the final weights."""
    times, kinds, offsets = [], [], [0]
    for pre, post in conditions:
        t = np.concatenate([np.asarray(pre, float), np.asarray(post, float)])
        k = np.concatenate([np.zeros(len(pre), np.int64), np.ones(len(post), np.int64)])
        order = np.lexsort((k, t))  # (at equal times the presynaptic spike first, as in Brian2)
        times.append(t[order])
        kinds.append(k[order])
        offsets.append(offsets[-1] + len(t))
    names = ("A2_plus", "A3_plus", "A2_minus", "A3_minus", "tau_plus", "tau_minus", "tau_x", "tau_y", "w_min", "w_max")
    p = np.array([float(params[n]) for n in names])
    return _triplet_jit(np.concatenate(times), np.concatenate(kinds), np.array(offsets, np.int64), p, bool(nearest))
