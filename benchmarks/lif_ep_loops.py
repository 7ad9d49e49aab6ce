"""
Hand-written loops of the spiking (LIF) equilibrium-propagation network (Mesnard, Gerstner & Brea
2016, "Towards deep learning with spiking neurons in energy based models with contrastive Hebbian
plasticity", arXiv:1612.03214, seed 003) for the speed benchmark: a NumPy loop (vectorised over
neurons, a Python loop over time steps) and a Numba loop (scalar loops that Numba compiles) of the
network that `brianlearn.protocols.eqprop_lif.LIFEPNetwork` builds in Brian2, trained one sample
at a time as ``EquilibriumPropagation(neuron='lif')`` trains it.

Both loops follow the order of operations of the code Brian2 generates for that network, per time
step ``t`` (index ``s`` in the trial, ``n_free + n_nudged`` steps per trial):

1. ``when='start'``: in the first step of the nudged phase the snapshot ``rho_free = r2 / r_max`` of
   every layer (written, as the gated end-of-phase operation, ``rho += 1.0 * (r2 / r_max - rho)``);
   in the first step of a trial the end of the previous one: ``rho_nudged`` (same form), then the
   contrastive updates of every synapse group (``w += step_l * (...)``, ``step_l = lr * eta_l /
   beta``), then the resets of the new trial (``u = u_r``, traces and synaptic currents 0,
   refractoriness cleared, the input drives ``D`` and the output target drives ``RI`` of the
   sample, the bias unit's ``v = 0``);
2. ``'before_groups'``: the outputs' ``nudge`` (0 in the free phase, ``beta * sign`` in the nudged
   phase);
3. ``'groups'``: state updates from the old values: the inputs integrated exactly (``method =
   'exact'``: ``u = D + (u - D) exp(-dt / tau)`` and the exact solution of the two rate traces), the
   hidden and output neurons with forward Euler steps (``method = 'euler'``), ``u`` held while
   refractory (``t - lastspike < t_ref`` in whole time steps, Brian2's ``_timestep``), the bias
   unit's ``v += dt r_max``;
4. ``'thresholds'``: spikes of ``u > theta`` (not refractory), ``v > 1`` for the bias unit;
5. ``'synapses'`` (no delays: a spike acts in its own time step), the pathways in the order of their
   names: top-down ``lif_B{l}`` (into ``I_down``), forward ``lif_W{l}`` and then the biases
   ``lif_bias{l}`` (into ``I_up``), each adding ``w U / (r_max tau_s)`` per presynaptic spike, the
   spikes in increasing neuron index;
6. ``'resets'``: ``u = u_r``, ``r1 += 1 / tau_r``; ``v -= 1`` for the bias unit.

A compiled run holds ``chunk`` trials (the estimator's chunk size) and starts with fresh neurons
(``rho_free = rho_nudged = 0``, time 0); the learned weights carry over. The arithmetic is written
as in the generated code (the same products, sums and constants), with two details of the compiled
run that the generated code does not show:

- the input neurons' exact step as the C++ compiler evaluates it (``-O3 -ffast-math -march=native``:
  fused multiply-adds on x86-64, see `_input_constants`; ``contract=False``: as written). It
  matters: an input neuron far from its preferred value has a drive ``D`` within about 1e-15 V
  of the threshold and crosses it late in the trial, at a step that one unit in the last place
  moves;
- the order of the clocks (see `_clock_order`): the end-of-free-phase snapshot runs on the phase
  clock, in the simulation step whose time is the same. brianlearn's network loop compares the
  clocks' times as Brian2's runtime does (within 1e-4 of the smaller dt), so with any chunk size
  every snapshot is on time; Brian2's own standalone loop (an absolute 1e-14 s) ran it one step
  late in trials 154 to 200 of every chunk of 200, where one unit in the last place of ``t``
  (past 64 s) exceeds 1e-14 s. ``late_free`` keeps the emulation of a late snapshot.

With these the loops agree with the compiled network to rounding (about 1e-16 in the weights,
measured over 2000 samples) as long as no threshold crossing moves by a time step; the other
rounding differences (``-ffast-math`` elsewhere, about 1e-16 per step) could still part the runs
at a crossing that close to the threshold.

`lif_ep_init` takes the estimator's initial weights, sample order, beta signs and learning-rate
schedule exactly as ``EquilibriumPropagation.fit`` draws them (`ep_lif_numpy`, `ep_lif_numba` then
return the weights that ``fit`` leaves in ``feedforward_``, ``biases_`` and ``feedback_``).

Numba is an optional extra (``pip install brianlearn[bench]``).
"""

import math

import numpy as np

__all__ = ["lif_ep_init", "lif_ep_drives", "ep_lif_numpy", "ep_lif_numba", "have_numba"]

try:
    import numba
except ImportError:  # pragma: no cover - the benchmark reports the implementation as missing
    numba = None

if numba is not None:
    from numba.core import types as _types
    from numba.extending import intrinsic as _intrinsic

    @_intrinsic
    def _fma_nb(typingctx, a, b, c):
        """``a * b + c`` rounded once (LLVM's ``llvm.fma.f64``: the CPU's instruction, or libm's ``fma``)."""
        sig = _types.float64(_types.float64, _types.float64, _types.float64)

        def codegen(context, builder, signature, args):
            return builder.fma(*args)

        return sig, codegen
else:  # pragma: no cover
    _fma_nb = None


def have_numba():
    """Whether Numba is installed."""
    return numba is not None


# ---------------------------------------------------------------- the initial state
def _floats(params, names):
    return {k: float(params[k]) for k in names}


def _layer_params(model, mV):
    """SI floats of one LIF layer's parameters and the constants its generated code uses."""
    p = model.parameters
    out = _floats(p, [k for k in ("tau", "tau_s", "u0", "u_r", "theta", "t_ref", "U", "r_max", "tau_r",
                                  "u_nudge", "seed_form") if k in p])
    if "tau_s" in p:  # the on_pre statement's factor, a literal in mV times mV (as LIFEPNetwork writes it)
        out["syn"] = float(p["U"] / (p["r_max"] * p["tau_s"]) / mV) * float(mV)
    return out


def lif_ep_init(est, X, Y, signs=None):
    """The initial state and per-sample signals of ``est.fit(X, Y)``, units stripped.

    Draws the initial weights, the order of the samples and the learning-rate schedule as
    `EquilibriumPropagation.fit` draws them (``seed``, ``epochs``, ``shuffle``, ``anneal``,
    ``fixed_feedback``), and reads the layer sizes, phase durations, time step, chunk size, rule
    and every model parameter from the network the estimator builds (``est._build_network``).

    Parameters
    ----------
    est : EquilibriumPropagation
        With ``neuron='lif'`` and a ``seed`` (an unfitted estimator is enough).
    X : array (n, n_in)
    Y : array (n, n_out) or (n,)
        Targets in ``[0, 1]``.
    signs : array, optional
        The sign of ``beta`` per presented sample (as ``fit``'s ``signs``; the LIF network
        accepts +1 only). Default: ones.

    Returns
    -------
    dict
        ``'X'``, ``'Y'``: the presented samples in order (``'order'``: their indices); ``'Ws'``, ``'Bs'``, ``'bs'``: the
        initial weights (layout of ``feedforward_``, ``feedback_``, ``biases_``); ``'lr'``,
        ``'signs'``, ``'beta_sign'`` (``beta * sign``) and ``'steps'`` (``(n, L)``: ``lr * eta_l /
        (beta * sign)``, the factor of layer ``l``'s update) per presented sample; ``'sizes'``
        (neurons per layer), ``'dims'``, ``'P'``, ``'rho_lo'``, ``'rule'``, ``'learn'``,
        ``'fixed_feedback'``, ``'dt'`` (s), ``'n_free'``, ``'n_nudged'`` (time steps), ``'chunk'``
        (trials per compiled run), ``'late_free'`` (per sample: the free-phase snapshot runs one
        step late, see `_clock_order`) and ``'layers'``: per layer ``0..L`` a dict of its parameters
        in SI units (``'syn'``: the current added per unit weight and presynaptic spike), and
        ``'bias'``: the bias unit's ``r_max``.
    """
    from brian2 import mV

    from brianlearn.models import get_model
    from brianlearn.protocols.eqprop_layers import RULES
    from brianlearn.protocols.eqprop_reference import check_targets, check_xy

    if est.neuron != "lif":
        raise ValueError(f"lif_ep_init needs neuron='lif', got {est.neuron!r}.")
    if est.seed is None:
        raise ValueError("lif_ep_init needs an estimator with a seed (the initial weights and order are random).")
    Y = np.asarray(Y, dtype=float)
    X, Y = check_xy(np.asarray(X, dtype=float), Y.reshape(len(Y), -1))
    check_targets(Y, name="Y")
    net = est._build_network(X.shape[1], Y.shape[1])
    rule = RULES.get(net.rule, net.rule) if isinstance(net.rule, str) else None
    if rule not in ("contrastive_hebbian", "contrastive_delta"):
        raise ValueError(f"the loops run the rules 'chl' and 'delta', got {net.rule!r}.")
    # the draws of fit(), in its order
    rng = np.random.default_rng(est.seed)
    Ws, bs = net.init_weights(rng)
    Bs = [None] + [W.T.copy() for W in Ws[1:]]
    if net.fixed_feedback:
        Bs = [None] + [W.T.copy() for W in net.init_weights(rng, output_scale=1.0)[0][1:]]
    order_rng = np.random.default_rng(est.seed + 2)
    n = len(X)
    order = np.concatenate([order_rng.permutation(n) if est.shuffle else np.arange(n) for _ in range(int(est.epochs))])
    signs = np.ones(len(order)) if signs is None else np.asarray(signs, dtype=float)
    if signs.shape != order.shape or not np.all(signs == 1):
        raise ValueError(f"signs must be {len(order)} values of +1 (the LIF network nudges toward the target only).")
    anneal = 1.0 if est.anneal is None else float(est.anneal)
    lr = np.linspace(1.0, anneal, len(order)) if len(order) > 1 else np.ones(1)
    # the derived trial signals (EPNetwork.derive_signals)
    m = len(order)
    beta = np.broadcast_to(np.asarray(net.beta, dtype=float), (m,))
    beta_sign = beta * signs
    steps = np.stack([lr * np.broadcast_to(np.asarray(e, dtype=float), (m,)) / beta_sign for e in net.etas], axis=1)
    # parameters of the layers' models (as LIFEPNetwork.build_network looks them up)
    traces = get_model("lif_ep_traces")
    m_in, m_hidden, m_out, m_bias = (get_model(name) for name in net.models)
    m_out = m_out.extend(traces)(seed_form=float(net.nudging == "seed"))
    L = len(net.sizes) - 1
    layers = ([_layer_params(m_in.extend(traces), mV)] + [_layer_params(m_hidden.extend(traces), mV)] * (L - 1)
              + [_layer_params(m_out, mV)])
    sch = net.schedule
    chunk = int(net.chunk_size or net.default_chunk_size)
    late = _clock_order(np.arange(m) % chunk, float(sch.dt), sch.steps_per_trial, sch.steps[0],
                        float(sch.slot), float(sch.trial_duration), sch.slot_steps)
    return {"X": X[order], "Y": Y[order], "order": order, "Ws": Ws, "Bs": Bs, "bs": bs, "lr": lr, "signs": signs,
            "beta_sign": beta_sign, "steps": steps, "sizes": tuple(net.sizes), "dims": tuple(net.dims), "P": net.P,
            "rho_lo": net.rho_lo, "rule": "chl" if rule == "contrastive_hebbian" else "delta", "learn": net.learn,
            "fixed_feedback": bool(net.fixed_feedback), "dt": float(sch.dt), "n_free": int(sch.steps[0]),
            "n_nudged": int(sch.steps[1]), "chunk": chunk, "late_free": late,
            "layers": [dict(p) for p in layers], "bias": {"r_max": float(m_bias.parameters["r_max"])}}


def _clock_order(local, dt, S, n_free, slot_dt, trial_dt, slot_steps):
    """Whether the end-of-free-phase snapshot of each trial runs after its time step.

    The snapshot runs on the phase clock (``dt = slot``), the trial's start and end on the
    trial clock; the compiled network loop runs a clock's operations in the same time step as the
    simulation clock when their times ``timestep * dt`` (each clock its own product) are the same
    by Brian2 runtime's rule (they differ by less than 1e-4 of the smaller dt; brianlearn's loop,
    `brianlearn.codepatch._SAME_TIME`), and otherwise in a step of their own, in the order of the
    times: where the phase clock's time is then the larger one, the snapshot runs after the
    simulation step of that time (one step later in the trial). With that rule no snapshot is
    late (Brian2's own 1e-14 s made some late past 64 s). ``local``: each trial's index in its
    chunk. A trial clock after the simulation clock raises `NotImplementedError`.
    """
    def after(s, t, dt_s):
        return not (s == t or abs(s - t) / min(dt_s, dt) < 1e-4) and s > t

    n = np.asarray(local) * S + n_free
    late = np.array([after(int(k // slot_steps) * slot_dt, int(k) * dt, slot_dt) for k in n], dtype=bool)
    ends = np.unique(np.concatenate([np.asarray(local), np.asarray(local) + 1]))
    if any(after(int(k) * trial_dt, int(k) * S * dt, trial_dt) for k in ends):
        raise NotImplementedError("the trial clock ticks after the simulation clock in some trial: the loops do "
                                  "not emulate that order (use a smaller chunk size).")
    return late


def lif_ep_drives(init):
    """The input drives ``D`` ``(n, n_in * P)`` and output target drives ``RI`` ``(n, n_out * P)``
    of every presented sample, as the trial-start code computes them (the constants as Brian2
    writes them into the generated code: ``2 sigma^2`` and ``tau`` inverted, ``1 / r_max`` and the
    target rate's factors as literals; scalar ``exp`` of the C library)."""
    X, Y, P = init["X"], init["Y"], init["P"]
    p_in, p_out = init["layers"][0], init["layers"][-1]
    sigma = 1.5 / (P - 1) if P > 1 else 1.0
    k = 1.0 / (2 * sigma ** 2)
    cstep = 1.0 / max(P - 1, 1)
    rho_lo = init["rho_lo"]
    a_hi = 1 - rho_lo
    inv_tau = 1.0 / p_out["tau"]
    inv_rate = 1.0 / p_out["r_max"]
    D = np.empty((len(X), X.shape[1] * P))
    RI = np.empty((len(Y), Y.shape[1] * P))
    for q in range(len(X)):
        for i in range(D.shape[1]):
            z = X[q, i // P] - cstep * (i % P)
            D[q, i] = p_in["u0"] + p_in["U"] * math.exp(k * (-(z * z)))
        for i in range(RI.shape[1]):
            a = math.exp(inv_tau * ((-p_out["t_ref"]) + (1.0 * inv_rate) / (rho_lo + a_hi * Y[q, i // P])))
            RI[q, i] = (0.0 - p_out["u0"]) + ((0.0 - p_out["u_r"]) + p_out["theta"] * a) / ((-1.0) + a)
    return D, RI


def _decode(rho, dims, P, rho_lo):
    m = np.asarray(rho, dtype=float).reshape(len(rho), dims, P).mean(axis=2)
    return np.clip((m - rho_lo) / (1.0 - rho_lo), 0.0, 1.0)


def _timestep(t, dt):
    """Brian2's ``_timestep``: whole time steps in ``t``."""
    return int((t + 1e-3 * dt) / dt)


def _input_constants(p, dt, contract):
    """``e_r``, ``c3``, ``e_u`` of the input neurons' exact step ``r1 <- e_r r1``,
    ``r2 <- c3 r1 + e_r r2``, ``u <- (D + e_u u) - e_u D``.

    The generated code divides by ``tau_r`` and ``tau``; with ``contract`` they are computed as the
    compiled C++ computes them (``-O3 -ffast-math -march=native``, x86-64 with FMA, read from
    its machine code): divisions by the constants as products with their reciprocals, and
    ``u <- fma(-D, e_u, fma(u, e_u, D))``, ``r2 <- fma(r1, c3, e_r r2)`` (fused multiply-adds, in
    the loops). An input neuron driven far from its preferred value has ``D - theta`` of the order
    of 1e-15 V (``U exp(-(x - c)^2 / (2 sigma^2))``): it crosses the threshold late in a trial,
    at a time step that a rounding difference of one unit in the last place moves.
    """
    if contract:
        k = (-dt) * (1.0 / p["tau_r"])
        e_r = math.exp(k)
        return e_r, -(k * e_r), math.exp((-dt) * (1.0 / p["tau"]))
    e_r = math.exp((1.0 * (-dt)) / p["tau_r"])
    return e_r, (1.0 * (dt * e_r)) / p["tau_r"], math.exp((1.0 * (-dt)) / p["tau"])


def _fma_np(a, b, c):
    """``a * b + c`` rounded once (elementwise; error-free transformations: Veltkamp's split,
    Dekker's product, Knuth's sum; the last addition rounds the sum of two error terms, which
    differs from a fused multiply-add only within about 1e-16 units in the last place of a
    midpoint)."""
    p = a * b
    t = 134217729.0 * a
    ah = t - (t - a)
    al = a - ah
    t = 134217729.0 * b
    bh = t - (t - b)
    bl = b - bh
    ep = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    sm = p + c
    bb = sm - p
    es = (p - (sm - bb)) + (c - bb)
    return sm + (es + ep)


# ---------------------------------------------------------------- NumPy
def ep_lif_numpy(init, n=None, rates=False, contract=True):
    """The LIF EP network trained on ``init``'s samples, a NumPy loop over time steps.

    Parameters
    ----------
    init : dict
        From `lif_ep_init` (not modified).
    n : int, optional
        Train on the first ``n`` presented samples only (default: all).
    rates : bool
        Also return the rates of every layer: a dict ``'rho_free'``, ``'rho_nudged'`` -> list
        (layers ``0..L``) of ``(n, n_l)`` arrays, and ``'spikes'`` -> ``(n, L + 1)`` spike counts.
    contract : bool
        Integrate the input neurons as the compiled C++ does on x86-64 with FMA (fused
        multiply-adds, see `_input_constants`); False: as the generated code reads.

    Returns
    -------
    Ws, bs, Bs : lists
        The learned weights in the layout of ``feedforward_``, ``biases_``, ``feedback_``.
    outputs : array (n, n_out)
        The decoded free-phase outputs of each sample (``train_outputs_``).
    rec : dict
        Only with ``rates`` (see there).
    """
    X = init["X"] if n is None else init["X"][:n]
    n = len(X)
    D_all, RI_all = lif_ep_drives({**init, "X": X, "Y": init["Y"][:n]})
    sizes, L = init["sizes"], len(init["sizes"]) - 1
    par, dt = init["layers"], init["dt"]
    n_free, S, chunk = init["n_free"], init["n_free"] + init["n_nudged"], init["chunk"]
    late = init["late_free"]
    # weights pre-major (synapse i * N_post + j): row i = the synapses of presynaptic neuron i
    W = [np.array(w, dtype=float).T.copy() for w in init["Ws"]]  # (n_l, n_{l+1})
    B = [None] + [np.array(b, dtype=float).T.copy() for b in init["Bs"][1:]]  # l+1 -> l: (n_{l+1}, n_l)
    bias = [np.array(b, dtype=float) for b in init["bs"]]  # into layer l + 1
    learn = range(L - 1 if init["learn"] == "output" else 0, L)
    chl = init["rule"] == "chl"
    # constants of the generated code
    ref = [_timestep(p["t_ref"], dt) for p in par]
    c_tr = [(-dt) / p["tau_r"] for p in par]  # (euler traces)
    c_tr2 = [dt / p["tau_r"] for p in par]
    c_u = [dt / p["tau"] for p in par]
    c_s = [dt / p["tau_s"] if "tau_s" in p else 0.0 for p in par]
    e_r, c3, e_u = _input_constants(par[0], dt, contract)  # (exact input integration)
    jump = [(1.0 * 1.0) / p["tau_r"] for p in par]
    inv_r = [(1.0 * 1.0) / p["r_max"] for p in par]
    po = par[L]
    G_off = 0.0 - po["u_nudge"]
    dv = dt * init["bias"]["r_max"]
    u = [np.empty(k) for k in sizes]
    r1 = [np.empty(k) for k in sizes]
    r2 = [np.empty(k) for k in sizes]
    last = [np.empty(k) for k in sizes]
    I_up = [np.empty(k) for k in sizes]
    I_down = [np.empty(k) for k in sizes]
    rho_f = rho_n = None
    out_rho = np.empty((n, sizes[L]))
    rec = {"rho_free": [np.empty((n, k)) for k in sizes], "rho_nudged": [np.empty((n, k)) for k in sizes],
           "spikes": np.zeros((n, L + 1), dtype=np.int64)}
    for q in range(n):
        if q % chunk == 0:  # a new compiled run: fresh neurons, time 0
            rho_f = [np.zeros(k) for k in sizes]
            rho_n = [np.zeros(k) for k in sizes]
        step0 = (q % chunk) * S
        D, RI = D_all[q], RI_all[q]
        for l in range(L + 1):  # trial start
            u[l][:] = par[l]["u_r"]
            r1[l][:] = 0.0
            r2[l][:] = 0.0
            last[l][:] = -1000000000.0
            I_up[l][:] = 0.0
            I_down[l][:] = 0.0
        v = 0.0
        beta_sign = init["beta_sign"][q]
        for s in range(S):
            t = (step0 + s) * dt
            if s == n_free and not late[q]:  # end of the free phase (when='start')
                for l in range(L + 1):
                    rho_f[l] += 1.0 * ((inv_r[l] * r2[l]) - rho_f[l])
            nudge = (1.0 if s >= n_free else 0.0) * beta_sign
            # state updates
            spikes = []
            for l in range(L + 1):
                nr = ((t - last[l] + 1e-3 * dt) / dt).astype(np.int64) >= ref[l]
                if l == 0:
                    if contract:  # (as the compiled C++ evaluates it, see _input_constants)
                        r2n = _fma_np(r1[0], c3, e_r * r2[0])
                        un = _fma_np(-D, e_u, _fma_np(u[0], e_u, D))
                    else:
                        r2n = (c3 * r1[0]) + (e_r * r2[0])
                        un = (D + (e_u * u[0])) - (e_u * D)
                    r1[0] = e_r * r1[0]
                else:
                    r2n = (c_tr2[l] * (r1[l] - r2[l])) + r2[l]
                    r1[l] = (c_tr[l] * r1[l]) + r1[l]
                    if l < L:
                        un = (c_u[l] * ((par[l]["u0"] + (I_down[l] + I_up[l])) - u[l])) + u[l]
                        I_down[l] = (c_s[l] * (-I_down[l])) + I_down[l]
                    else:
                        Iu = I_up[l]
                        G = po["u_nudge"] + (po["seed_form"] * (G_off + RI))
                        den = 1e-12 + ((nudge * G) + np.clip(Iu, 0.0, np.inf))
                        un = (c_u[l] * ((po["u0"] + ((Iu * (1.0 + (1.0 * ((-nudge) * G)) / den))
                                                     + (1.0 * ((RI * nudge) * G)) / den)) - u[l])) + u[l]
                    I_up[l] = (c_s[l] * (-I_up[l])) + I_up[l]
                r2[l] = r2n
                u[l] = np.where(nr, un, u[l])
                spikes.append(nr)
            v = dv + v
            # thresholds
            for l in range(L + 1):
                spk = np.flatnonzero(spikes[l] & (u[l] > par[l]["theta"]))
                last[l][spk] = t
                spikes[l] = spk
                rec["spikes"][q, l] += len(spk)
            bias_spike = v > 1
            # synapses (names in order: lif_B*, lif_W*, lif_bias*), spikes in increasing index
            for l in range(1, L):
                if len(spikes[l + 1]):
                    I_down[l] = np.add.accumulate(np.vstack([I_down[l], par[l]["syn"] * B[l][spikes[l + 1]]]))[-1]
            for l in range(L):
                if len(spikes[l]):
                    I_up[l + 1] = np.add.accumulate(np.vstack([I_up[l + 1], par[l + 1]["syn"] * W[l][spikes[l]]]))[-1]
            if bias_spike:
                for l in range(L):
                    I_up[l + 1] += par[l + 1]["syn"] * bias[l]
            # resets
            for l in range(L + 1):
                spk = spikes[l]
                u[l][spk] = par[l]["u_r"]
                r1[l][spk] += jump[l]
            if bias_spike:
                v -= 1
            if s == n_free and late[q]:  # (the phase clock's tick after this step: see _clock_order)
                for l in range(L + 1):
                    rho_f[l] += 1.0 * ((inv_r[l] * r2[l]) - rho_f[l])
        # end of the trial: rho_nudged, then the contrastive updates (next trial's first step)
        for l in range(L + 1):
            rho_n[l] += 1.0 * ((inv_r[l] * r2[l]) - rho_n[l])
        out_rho[q] = rho_f[L]
        for l in range(L + 1):
            rec["rho_free"][l][q] = rho_f[l]
            rec["rho_nudged"][l][q] = rho_n[l]
        for l in learn:
            g = 1.0 * init["steps"][q, l]
            pre_n, pre_f, post_n, post_f = rho_n[l], rho_f[l], rho_n[l + 1], rho_f[l + 1]
            if chl:
                dW = g * (np.outer(pre_n, post_n) - np.outer(pre_f, post_f))  # (post * pre: the same products)
                db = g * (post_n - post_f)
            else:
                dW = g * np.outer(pre_f, post_n - post_f)
                db = g * (post_n - post_f)
            W[l] += dW
            bias[l] += db
            if l >= 1 and not init["fixed_feedback"]:
                B[l] += dW.T
    Ws = [w.T.copy() for w in W]
    Bs = [None] + [b.T.copy() for b in B[1:]]
    outputs = _decode(out_rho, init["dims"][-1], init["P"], init["rho_lo"])
    return (Ws, bias, Bs, outputs, rec) if rates else (Ws, bias, Bs, outputs)


# ---------------------------------------------------------------- Numba
def _snapshot(rho, r2, inv_r):
    """``rho += 1.0 * (r2 / r_max - rho)``: a layer's end-of-phase rate snapshot, as the gated
    operation of the generated code writes it."""
    for i in range(rho.shape[0]):
        rho[i] += 1.0 * ((inv_r * r2[i]) - rho[i])


def _threshold(not_ref, u, theta, spikes, last, t):
    """A layer's spikes of ``u > theta`` (not refractory) into ``spikes`` in index order; returns their count."""
    count = 0
    for i in range(u.shape[0]):
        if not_ref[i] and u[i] > theta:
            spikes[count] = i
            count += 1
            last[i] = t
    return count


def _reset(spikes, count, u, u_r, r1, jump):
    """A layer's resets: ``u = u_r``, ``r1 += 1 / tau_r`` for each of its ``count`` spikes."""
    for a in range(count):
        u[spikes[a]] = u_r
        r1[spikes[a]] += jump


def _lif_kernel(D_all, RI_all, W0, W1, B1, b0, b1, steps, beta_sign, pin, phid, pout, dt, n_free, n_steps, chunk,
                dv, chl, learn_from, fixed_feedback, contract, late, out_rho):
    """The one-hidden-layer network, every sample of ``D_all`` (weights updated in place).

    ``W0`` (n_in, H), ``W1`` (H, n_out) pre-major, ``B1`` (n_out, H) (output -> hidden). ``pin``:
    u_r, theta, ref steps, e_r, c3, e_u, jump, inv_r; ``phid``: u_r, theta, ref, c_tr, c_tr2, c_u,
    c_s, u0, syn, jump, inv_r; ``pout``: the same plus u_nudge, seed_form, G_off.
    """
    n = D_all.shape[0]
    Nin, H, Nout = W0.shape[0], W0.shape[1], W1.shape[1]
    ur0, th0, ref0, er0, c30, eu0, jump0, invr0 = pin[0], pin[1], int(pin[2]), pin[3], pin[4], pin[5], pin[6], pin[7]
    ur1, th1, ref1, ctr1, ctr21, cu1, cs1, u01, syn1, jump1, invr1 = (phid[0], phid[1], int(phid[2]), phid[3],
                                                                       phid[4], phid[5], phid[6], phid[7], phid[8],
                                                                       phid[9], phid[10])
    ur2, th2, ref2, ctr2, ctr22, cu2, cs2, u02, syn2, jump2, invr2 = (pout[0], pout[1], int(pout[2]), pout[3],
                                                                       pout[4], pout[5], pout[6], pout[7], pout[8],
                                                                       pout[9], pout[10])
    unud, sform, goff = pout[11], pout[12], pout[13]
    u0_, r10, r20, last0 = np.empty(Nin), np.empty(Nin), np.empty(Nin), np.empty(Nin)
    u1, r11, r21, last1, Iu1, Id1 = np.empty(H), np.empty(H), np.empty(H), np.empty(H), np.empty(H), np.empty(H)
    u2, r12, r22, last2, Iu2 = np.empty(Nout), np.empty(Nout), np.empty(Nout), np.empty(Nout), np.empty(Nout)
    rf0, rn0, rf1, rn1, rf2, rn2 = (np.zeros(Nin), np.zeros(Nin), np.zeros(H), np.zeros(H), np.zeros(Nout),
                                    np.zeros(Nout))
    nr0 = np.empty(Nin, dtype=np.bool_)
    nr1 = np.empty(H, dtype=np.bool_)
    nr2 = np.empty(Nout, dtype=np.bool_)
    sp0 = np.empty(Nin, dtype=np.int64)
    sp1 = np.empty(H, dtype=np.int64)
    sp2 = np.empty(Nout, dtype=np.int64)
    for q in range(n):
        if q % chunk == 0:
            for rho in (rf0, rn0, rf1, rn1, rf2, rn2):
                rho[:] = 0.0
        step0 = (q % chunk) * n_steps
        u0_[:], u1[:], u2[:] = ur0, ur1, ur2
        for x in (r10, r20, r11, r21, Iu1, Id1, r12, r22, Iu2):
            x[:] = 0.0
        for last in (last0, last1, last2):
            last[:] = -1000000000.0
        v = 0.0
        bsg = beta_sign[q]
        for s in range(n_steps):
            t = (step0 + s) * dt
            if s == n_free and not late[q]:
                _snapshot_jit(rf0, r20, invr0)
                _snapshot_jit(rf1, r21, invr1)
                _snapshot_jit(rf2, r22, invr2)
            nudge = (1.0 if s >= n_free else 0.0) * bsg
            # state updates
            for i in range(Nin):
                nr = np.int64((t - last0[i] + 1e-3 * dt) / dt) >= ref0
                nr0[i] = nr
                D = D_all[q, i]
                if contract:
                    r2n = _fma_nb(r10[i], c30, er0 * r20[i])
                    un = _fma_nb(-D, eu0, _fma_nb(u0_[i], eu0, D))
                else:
                    r2n = (c30 * r10[i]) + (er0 * r20[i])
                    un = (D + (eu0 * u0_[i])) - (eu0 * D)
                r10[i] = er0 * r10[i]
                r20[i] = r2n
                if nr:
                    u0_[i] = un
            for j in range(H):
                nr = np.int64((t - last1[j] + 1e-3 * dt) / dt) >= ref1
                nr1[j] = nr
                r2n = (ctr21 * (r11[j] - r21[j])) + r21[j]
                r11[j] = (ctr1 * r11[j]) + r11[j]
                r21[j] = r2n
                un = (cu1 * ((u01 + (Id1[j] + Iu1[j])) - u1[j])) + u1[j]
                Id1[j] = (cs1 * (-Id1[j])) + Id1[j]
                Iu1[j] = (cs1 * (-Iu1[j])) + Iu1[j]
                if nr:
                    u1[j] = un
            for k in range(Nout):
                nr = np.int64((t - last2[k] + 1e-3 * dt) / dt) >= ref2
                nr2[k] = nr
                r2n = (ctr22 * (r12[k] - r22[k])) + r22[k]
                r12[k] = (ctr2 * r12[k]) + r12[k]
                r22[k] = r2n
                Iu = Iu2[k]
                RI = RI_all[q, k]
                G = unud + (sform * (goff + RI))
                den = 1e-12 + ((nudge * G) + min(max(Iu, 0.0), np.inf))
                un = (cu2 * ((u02 + ((Iu * (1.0 + (1.0 * ((-nudge) * G)) / den))
                                     + (1.0 * ((RI * nudge) * G)) / den)) - u2[k])) + u2[k]
                Iu2[k] = (cs2 * (-Iu)) + Iu
                if nr:
                    u2[k] = un
            v = dv + v
            # thresholds
            n0 = _threshold_jit(nr0, u0_, th0, sp0, last0, t)
            n1 = _threshold_jit(nr1, u1, th1, sp1, last1, t)
            n2 = _threshold_jit(nr2, u2, th2, sp2, last2, t)
            bias_spike = v > 1
            # synapses: lif_B1, lif_W0, lif_W1, lif_bias1, lif_bias2
            for a in range(n2):
                k = sp2[a]
                for j in range(H):
                    Id1[j] += syn1 * B1[k, j]
            for a in range(n0):
                i = sp0[a]
                for j in range(H):
                    Iu1[j] += syn1 * W0[i, j]
            for a in range(n1):
                j = sp1[a]
                for k in range(Nout):
                    Iu2[k] += syn2 * W1[j, k]
            if bias_spike:
                for j in range(H):
                    Iu1[j] += syn1 * b0[j]
                for k in range(Nout):
                    Iu2[k] += syn2 * b1[k]
            # resets
            _reset_jit(sp0, n0, u0_, ur0, r10, jump0)
            _reset_jit(sp1, n1, u1, ur1, r11, jump1)
            _reset_jit(sp2, n2, u2, ur2, r12, jump2)
            if bias_spike:
                v -= 1
            if s == n_free and late[q]:
                _snapshot_jit(rf0, r20, invr0)
                _snapshot_jit(rf1, r21, invr1)
                _snapshot_jit(rf2, r22, invr2)
        # end of the trial
        _snapshot_jit(rn0, r20, invr0)
        _snapshot_jit(rn1, r21, invr1)
        _snapshot_jit(rn2, r22, invr2)
        out_rho[q, :] = rf2
        if learn_from == 0:
            g = 1.0 * steps[q, 0]
            for i in range(Nin):
                for j in range(H):
                    if chl:
                        W0[i, j] += g * ((rn1[j] * rn0[i]) - (rf1[j] * rf0[i]))
                    else:
                        W0[i, j] += g * ((rn1[j] - rf1[j]) * rf0[i])
            for j in range(H):
                b0[j] += g * (rn1[j] - rf1[j])
        g = 1.0 * steps[q, 1]
        for j in range(H):
            for k in range(Nout):
                if chl:
                    dw = g * ((rn2[k] * rn1[j]) - (rf2[k] * rf1[j]))
                else:
                    dw = g * ((rn2[k] - rf2[k]) * rf1[j])
                W1[j, k] += dw
                if not fixed_feedback:
                    B1[k, j] += dw
        for k in range(Nout):
            b1[k] += g * (rn2[k] - rf2[k])


_lif_jit = None
#: the kernel's per-layer steps (compiled on the kernel's first call; None without Numba)
_snapshot_jit, _threshold_jit, _reset_jit = (numba.njit(cache=False, fastmath=False)(f) if numba is not None else None
                                             for f in (_snapshot, _threshold, _reset))


def _kernel():
    global _lif_jit
    if numba is None:
        raise ImportError("ep_lif_numba needs Numba (pip install brianlearn[bench]).")
    if _lif_jit is None:
        _lif_jit = numba.njit(cache=False, fastmath=False)(_lif_kernel)
    return _lif_jit


def ep_lif_numba(init, n=None, contract=True):
    """`ep_lif_numpy` as a Numba loop (one hidden layer); same arguments and return (without
    ``rates``).

    The first call compiles the loop (a few seconds)."""
    if len(init["sizes"]) != 3:
        raise ValueError(f"ep_lif_numba runs one hidden layer; got {len(init['sizes']) - 2}.")
    X = init["X"] if n is None else init["X"][:n]
    n = len(X)
    D, RI = lif_ep_drives({**init, "X": X, "Y": init["Y"][:n]})
    par, dt = init["layers"], init["dt"]
    p0, p1, p2 = par
    pin = np.array([p0["u_r"], p0["theta"], _timestep(p0["t_ref"], dt), *_input_constants(p0, dt, contract),
                    (1.0 * 1.0) / p0["tau_r"], (1.0 * 1.0) / p0["r_max"]])

    def euler(p):
        return [p["u_r"], p["theta"], _timestep(p["t_ref"], dt), (-dt) / p["tau_r"], dt / p["tau_r"], dt / p["tau"],
                dt / p["tau_s"], p["u0"], p["syn"], (1.0 * 1.0) / p["tau_r"], (1.0 * 1.0) / p["r_max"]]

    phid = np.array(euler(p1))
    pout = np.array(euler(p2) + [p2["u_nudge"], p2["seed_form"], 0.0 - p2["u_nudge"]])
    W0, W1 = (np.array(w, dtype=float).T.copy() for w in init["Ws"])
    B1 = np.array(init["Bs"][1], dtype=float).T.copy()
    b0, b1 = (np.array(b, dtype=float) for b in init["bs"])
    out_rho = np.empty((n, W1.shape[1]))
    _kernel()(D, RI, W0, W1, B1, b0, b1, np.ascontiguousarray(init["steps"][:n]),
              np.ascontiguousarray(init["beta_sign"][:n]), pin, phid, pout, float(dt), int(init["n_free"]),
              int(init["n_free"] + init["n_nudged"]), int(init["chunk"]), float(dt * init["bias"]["r_max"]),
              init["rule"] == "chl", 1 if init["learn"] == "output" else 0, bool(init["fixed_feedback"]),
              bool(contract), np.ascontiguousarray(init["late_free"][:n]), out_rho)
    return [W0.T.copy(), W1.T.copy()], [b0, b1], [None, B1.T.copy()], _decode(out_rho, init["dims"][-1], init["P"],
                                                                              init["rho_lo"])
