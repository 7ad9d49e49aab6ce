"""
The spiking solver of the per-sample problem of non-negative similarity matching: a
non-negative elastic net, solved by a network of perfect integrate-and-fire neurons.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, section 3.1 and Fig. 2; the solver and its convergence
theorem are Tang, Lin & Davies (2017), arXiv:1705.05475.

For one input, the output ``y >= 0`` of the network minimises::

    h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2

Network (``k`` neurons, time ``tau`` dimensionless in the paper)::

    dV_i/dtau = I_i                                         (perfect integrator)
    dI_i/dtau = -I_i + (Wx)_i - alpha b_i - lam1 - (Mbar sigma)_i,
    I_i(0) = (Wx)_i - alpha b_i - lam1,  V_i(0) = 0
    spike when V_i > lam2 + M_ii; then V_i = 0 ('zero', the paper) or V_i -= lam2 + M_ii
    ('subtract', the default: keeps the overshoot, DESIGN.md section 4.3)
    y_i = (spike count of i) / tau

``Mbar`` is ``M`` without its diagonal; every spike of neuron ``j`` lowers ``I_i`` by
``Mbar_ij`` (``on_pre: I_post -= w``, event-driven).

**Time unit**: one unit of the paper's dimensionless time is mapped to **1 ms** of Brian2
time: ``duration=500, dt=0.01`` (the paper's tau = 500, dtau = 0.01) run 500 ms in steps of
10 us. Plain numbers are read in paper units; Brian2 quantities (``500*ms``) are accepted too.

Every problem of a batch is one *trial* of a single compiled simulation: ``Wx``, ``b`` and
(unless shared) ``M`` are per-trial data sets read at trial start (``M`` as a flattened
``(n_problems, k*k)`` data set written into the lateral weights), and the spike counts are
read at the end of every trial. A shared ``M`` is a constant synaptic weight set once.
"""

import numpy as np
from brian2 import Quantity, ms, second
from brian2.units.fundamentalunits import get_dimensions

from brianlearn.models.perfect_if import RESETS, perfect_if
from brianlearn.models.static_synapse import static_synapse
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule

__all__ = ["spiking_elastic_net", "elastic_net_reference", "elastic_net_objective", "ElasticNetSolver",
           "solver_check_problems", "TIME_UNIT", "as_time", "check_problems"]

#: Brian2 time of one unit of the paper's dimensionless time
TIME_UNIT = 1 * ms


def as_time(name, value):
    """A duration in paper units (plain number) or a Brian2 time, as a Brian2 time (checked)."""
    if isinstance(value, Quantity) and get_dimensions(value) is not get_dimensions(1.0):
        if get_dimensions(value) is not second.dim:
            raise ValueError(f"{name} must be a number (paper time units) or a time, got {value!r}.")
        q = value
    else:
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number (paper time units) or a time, got {value!r}.") from None
        q = f * TIME_UNIT
    if not np.isfinite(float(q)) or not float(q) > 0:
        raise ValueError(f"{name} must be a positive, finite time, got {value!r}.")
    return q


def _scalar(name, value, minimum=None):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}.")
    return v


def check_problems(Wx, M, b, alpha, lam1, lam2):
    """Validate a batch of elastic-net problems; return ``(Wx, M, b, alpha, lam1, lam2, single)``.

    ``Wx``: ``(n, k)`` (or ``(k,)``: one problem, ``single=True``); ``M``: ``(n, k, k)`` or a
    shared ``(k, k)``, symmetric; ``b``: ``(n, k)`` or shared ``(k,)``. Raises `ValueError`
    naming the parameter for mismatched shapes, NaN/inf, asymmetric ``M``, negative
    regularisers and non-positive thresholds ``lam2 + M_ii``.
    """
    def arr(name, value):
        try:
            a = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}.") from None
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values.")
        return a

    Wx = arr("Wx", Wx)
    single = Wx.ndim == 1
    if single:
        Wx = Wx[None, :]
    if Wx.ndim != 2 or Wx.shape[0] < 1 or Wx.shape[1] < 1:
        raise ValueError(f"Wx must have shape (n_problems, k) or (k,), got {np.shape(Wx)}.")
    n, k = Wx.shape
    M = arr("M", M)
    if M.shape == (k, k):
        pass
    elif M.shape == (n, k, k):
        if n == 1:
            M = M[0]
    else:
        raise ValueError(f"M must have shape ({n}, {k}, {k}) or ({k}, {k}) to match Wx {Wx.shape}, got {M.shape}.")
    if not np.allclose(M, np.swapaxes(M, -1, -2), rtol=1e-9, atol=1e-12):
        err = np.max(np.abs(M - np.swapaxes(M, -1, -2)))
        raise ValueError(f"M must be symmetric (lateral weights M_ij = M_ji); max |M - M^T| = {err:.3g}.")
    b = arr("b", b)
    if b.shape == (k,):
        b = np.tile(b, (n, 1))
    elif b.shape != (n, k):
        raise ValueError(f"b must have shape ({n}, {k}) or ({k},) to match Wx {Wx.shape}, got {b.shape}.")
    alpha = _scalar("alpha", alpha, 0.0)
    lam1 = _scalar("lam1", lam1, 0.0)
    lam2 = _scalar("lam2", lam2, 0.0)
    diag = np.diagonal(M, axis1=-2, axis2=-1)
    if np.any(lam2 + diag <= 0):
        raise ValueError(f"The firing thresholds lam2 + M_ii must be positive; min is {np.min(lam2 + diag):.3g} "
                         f"(lam2={lam2}).")
    # C order: Brian2's run_args hash the raw buffer of every array
    return (np.ascontiguousarray(Wx), np.ascontiguousarray(M), np.ascontiguousarray(b), alpha, lam1, lam2,
            single)


# ------------------------------------------------------------------ reference solver
def elastic_net_objective(y, Wx, M, b, alpha, lam1, lam2):
    """``h(y)`` for one problem (1-D arrays) or a batch (row per problem)."""
    y, Wx, b = np.atleast_2d(y), np.atleast_2d(Wx), np.atleast_2d(b)
    My = np.einsum("...ij,...j->...i", M, y)
    return (-2 * np.sum(y * (Wx - alpha * b), -1) + np.sum(y * My, -1) + 2 * lam1 * np.sum(np.abs(y), -1)
            + lam2 * np.sum(y * y, -1))


def _solve_one(c, A):
    """argmin_{y>=0} y.A y - 2 c.y for symmetric A (convex when A is PSD)."""
    from scipy.optimize import minimize, nnls

    k = len(c)
    try:  # A positive definite: the problem is a non-negative least-squares problem
        L = np.linalg.cholesky(A)
        from scipy.linalg import solve_triangular

        target = solve_triangular(L, c, lower=True)
        y, _ = nnls(L.T, target, maxiter=50 * k)
        return y
    except np.linalg.LinAlgError:
        pass
    res = minimize(lambda y: (y @ A @ y - 2 * c @ y, 2 * (A @ y - c)), np.zeros(k), jac=True,
                   method="L-BFGS-B", bounds=[(0, None)] * k,
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    return res.x


def elastic_net_reference(Wx, M, b, alpha, lam1, lam2):
    """The minimiser of ``h`` by a convex solver (SciPy), for each problem of a batch.

    ``h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2`` over ``y >= 0``
    (Pehlevan 2019, eq. 3-5). With ``A = M + lam2 I`` positive definite it is solved exactly as a
    non-negative least-squares problem (``scipy.optimize.nnls`` on the Cholesky factor of
    ``A``); otherwise by L-BFGS-B with bounds. Same arguments and shapes as
    `spiking_elastic_net`.
    """
    Wx, M, b, alpha, lam1, lam2, single = check_problems(Wx, M, b, alpha, lam1, lam2)
    n, k = Wx.shape
    c = Wx - alpha * b - lam1
    out = np.empty((n, k))
    for p in range(n):
        Mp = M if M.ndim == 2 else M[p]
        out[p] = _solve_one(c[p], Mp + lam2 * np.eye(k))
    return out[0] if single else out


def solver_check_problems(k, n, seed=0, alpha=0.3, lam1=0.3, lam2=0.1, min_norm=0.01):
    """``n`` accepted random problems of size ``k``, drawn as in Pehlevan (2019), Fig. 2.

    ``b ~ U[0, 1]``, ``(Wx)_i ~ U[0, 5]``, ``M = V V^T`` with ``V_ij ~ U[0, 1/sqrt(k)]``; a set is
    accepted when the norm of its optimum (`elastic_net_reference`) exceeds ``min_norm``.

    Returns
    -------
    dict with ``Wx (n, k)``, ``M (n, k, k)``, ``b (n, k)``, ``y_ref (n, k)``, ``alpha``, ``lam1``,
    ``lam2`` and ``n_rejected``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
    Wx, M, b, Y = [], [], [], []
    rejected = 0
    while len(Wx) < n:
        bb = rng.uniform(0, 1, k)
        wx = rng.uniform(0, 5, k)
        V = rng.uniform(0, 1 / np.sqrt(k), (k, k))
        MM = V @ V.T
        MM = 0.5 * (MM + MM.T)
        y = elastic_net_reference(wx, MM, bb, alpha, lam1, lam2)
        if np.linalg.norm(y) > min_norm:
            Wx.append(wx), M.append(MM), b.append(bb), Y.append(y)
        else:
            rejected += 1
    return {"Wx": np.array(Wx), "M": np.array(M), "b": np.array(b), "y_ref": np.array(Y), "alpha": alpha,
            "lam1": lam1, "lam2": lam2, "n_rejected": rejected}


# ------------------------------------------------------------------ spiking solver
def solver_neuron_model(reset="subtract", extra="theta : 1", **parameters):
    """The perfect-IF neuron of the solver: ``models.perfect_if``'s equations (edit them there)
    plus the output ``y`` and per-neuron ``bias`` as state variables, time constants of 1 paper
    unit, and ``extra`` equations (default: a per-neuron threshold ``theta`` set at every trial
    start). ``parameters`` adds namespace constants used by ``extra``."""
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {sorted(RESETS)}, got {reset!r}.")
    return perfect_if.replace(
        equations=str(perfect_if.equations) + "\ny : 1\nbias : 1\n" + extra,
        reset=RESETS[reset],
        parameters={"tau": TIME_UNIT, "tau_s": TIME_UNIT, **parameters})


#: lateral inhibition by Mbar: each spike of j lowers I_i by Mbar_ij
lateral_synapse = static_synapse.replace(on_pre="I_post -= w")


class ElasticNetSolver(Protocol):
    """Protocol running one non-negative elastic-net problem per trial (see module docstring).

    Parameters
    ----------
    k : int
        Number of neurons (problem size).
    alpha, lam1, lam2 : float
    duration, dt : float or Quantity
        Simulation time per problem and time step (paper units: 1 unit = 1 ms).
    M : array (k, k), optional
        A shared ``M`` (constant lateral weights); without it, ``M`` is per-trial data ``'m'``.
    reset : {'subtract', 'zero'}
    **kwds
        `Protocol` arguments.
    """

    name = "nsm_solver"

    def __init__(self, k, alpha, lam1, lam2, duration=500, dt=0.01, M=None, reset="subtract", **kwds):
        super().__init__(**kwds)
        self.k = int(k)
        self.alpha, self.lam1, self.lam2 = float(alpha), float(lam1), float(lam2)
        self.reset = reset
        self.neuron_model = solver_neuron_model(reset)
        self.shared_M = None if M is None else np.asarray(M, dtype=float)
        self.duration, self.dt = as_time("duration", duration), as_time("dt", dt)
        self.schedule = Schedule([Phase("solve", self.duration)], dt=self.dt)

    def config(self):
        return {"k": self.k, "alpha": self.alpha, "lam1": self.lam1, "lam2": self.lam2, "reset": self.reset,
                "shared_M": self.shared_M is not None}

    def data_shapes(self):
        shapes = {"wx": self.k, "b": self.k, "th": self.k}
        if self.shared_M is None:
            shapes["m"] = self.k * self.k
        return shapes

    def initial_state(self, rng):
        if self.shared_M is None:
            return {}
        return {"nsm_lat.w": (self.shared_M * (1 - np.eye(self.k))).ravel()}

    def build_network(self, b):
        k = self.k
        b.data("wx"), b.data("b")  # the TimedArrays data_wx(t, i), data_b(t, i)
        out = self.neuron_model.make_group(k, "nsm_out", clock=b.clock)
        lat = lateral_synapse.make_synapses(out, out, "nsm_lat", clock=b.clock)  # all to all, pre-major
        b.add(out, lat)
        if self.shared_M is None:
            b.data("m")
            # w of synapse j -> i is Mbar_ij (pre index i, post index j in Brian2's naming)
            b.on_trial_start(lat, f"w = data_m(t, j*{k} + i) * int(i != j)")
        else:
            b.learn(lat, "w", size=k * k)
        b.data("th")
        b.on_trial_start(out, f"bias = data_wx(t, i) - {self.alpha!r}*data_b(t, i) - {self.lam1!r}\n"
                              "theta = data_th(t, i)\nI = bias\nv = 0\ncount = 0")
        # y = spike count / duration (paper units), taken in the first step after the trial
        # (it sees every spike of the trial)
        b.on_trial_end(out, f"y = count / {float(self.duration / TIME_UNIT)!r}")
        b.record(out, "y")

    def solve(self, Wx, b, M=None):
        """Outputs ``y`` (n, k) = spike counts / duration (paper units) for each problem."""
        data = {"wx": Wx, "b": b}
        if self.shared_M is None:
            M = np.asarray(M)
            data["m"] = M.reshape(len(Wx), -1)
            data["th"] = self.lam2 + np.diagonal(M, axis1=-2, axis2=-1)
        else:
            data["th"] = np.tile(self.lam2 + np.diag(self.shared_M), (len(Wx), 1))
        res = self.run_trials(data)
        return res.records["nsm_out.y"]


def spiking_elastic_net(Wx, M, b, alpha, lam1, lam2, duration=500, dt=0.01, device=None, reset="subtract",
                        chunk_size=None, progress=False):
    """Minimise the non-negative elastic net ``h`` with a spiking network, for a batch of problems.

    ``h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2``, ``y >= 0``
    (Pehlevan 2019, arXiv:1902.01429, sections 3.1 and 4.1). Perfect integrate-and-fire neurons
    with threshold ``lam2 + M_ii`` and current ``dI/dtau = -I + Wx - alpha b - lam1 - Mbar sigma``
    (``I(0) = Wx - alpha b - lam1``); the output is the spike count divided by the duration.
    All problems run as trials of one compiled simulation.

    Parameters
    ----------
    Wx : array (n_problems, k) or (k,)
        Feed-forward input of every problem.
    M : array (n_problems, k, k) or (k, k)
        Symmetric lateral matrix (its diagonal sets the thresholds), per problem or shared.
    b : array (n_problems, k) or (k,)
    alpha, lam1, lam2 : float
        ``lam1, lam2 >= 0``; thresholds ``lam2 + M_ii`` must be positive.
    duration, dt : float or Quantity
        Simulated time tau and Euler step dtau, in the paper's units (1 unit = 1 ms of Brian2
        time) or as Brian2 times. The paper: 500 and 0.01.
    device : str, optional
        ``'runtime'``, ``'cpp_standalone'`` (default) or ``'cuda_standalone'``.
    reset : {'subtract', 'zero'}
        ``'zero'`` is the paper's reset (V = 0); ``'subtract'`` (default) subtracts the
        threshold and keeps the overshoot: ~30x smaller error at dtau = 0.01.
    chunk_size : int, optional
        Problems per compiled run (default: all, at most 100).

    Returns
    -------
    y : array (n_problems, k) (or (k,) for a 1-D ``Wx``)

    Raises
    ------
    ValueError
        Mismatched shapes, NaN/inf, asymmetric ``M``, negative ``lam1``/``lam2``/``alpha``,
        non-positive thresholds, bad ``duration``/``dt``/``reset``.

    Examples
    --------
    >>> y = spiking_elastic_net([[1.0, 0.5]], [[1.0, 0.2], [0.2, 1.0]], [0.0, 0.0], 0, 0.1, 0.1,
    ...                         duration=100, dt=0.01)  # doctest: +SKIP
    """
    Wx, M, b, alpha, lam1, lam2, single = check_problems(Wx, M, b, alpha, lam1, lam2)
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {sorted(RESETS)}, got {reset!r}.")
    T, step = as_time("duration", duration), as_time("dt", dt)
    nsteps = float(T / step)
    if abs(nsteps - round(nsteps)) > 1e-6:
        raise ValueError(f"duration ({duration}) must be a multiple of dt ({dt}).")
    n, k = Wx.shape
    if chunk_size is None:
        chunk_size = min(n, 100)
    solver = ElasticNetSolver(k, alpha, lam1, lam2, duration=T, dt=step, M=M if M.ndim == 2 else None,
                              reset=reset, device=device, chunk_size=chunk_size, progress=progress)
    y = solver.solve(Wx, b, None if M.ndim == 2 else M)
    return y[0] if single else y
