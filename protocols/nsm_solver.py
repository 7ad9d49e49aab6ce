"""
The spiking solver of the per-sample problem of non-negative similarity matching: a
non-negative elastic net, solved by a network of perfect integrate-and-fire neurons.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, section 3.1 and Fig. 2; the solver and its convergence
theorem are Tang, Lin & Davies (2017), arXiv:1705.05475.

For one input, the output ``y >= 0`` of the network minimises::

    h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2

The network: ``k`` neurons of the model ``nsm_neuron`` (``models/nsm_neuron.py``: ``dv/dt =
I/tau``, ``dI/dt = (bias - I)/tau_s``, threshold ``lam2 + M_ii``) with ``bias = Wx - alpha b -
lam1`` and ``I = bias``, ``v = 0`` at the start of every trial, coupled all to all by the
model ``nsm_lateral`` (each spike of ``j`` lowers ``I_i`` by ``Mbar_ij``, ``M`` without its
diagonal); the output is ``y = spike count / duration``. The reset subtracts the threshold
(``'subtract'``, the default: keeps the overshoot, DESIGN.md section 4.3) or sets ``v = 0``
(``'zero'``, the paper's).

**Time unit**: one unit of the paper's dimensionless time is mapped to **1 ms** of Brian2
time (`TIME_UNIT`): ``duration=500, dt=0.01`` (the paper's tau = 500, dtau = 0.01) run 500 ms
in steps of 10 us. Plain numbers are read in paper units; Brian2 quantities are accepted too.

Every problem of a batch is one *trial* of a single compiled simulation: ``Wx``, ``b``, the
diagonal of ``M`` and (unless shared) ``M`` are per-trial data sets read at trial start (``M``
as a flattened ``(n_problems, k*k)`` data set written into the lateral weights); the spike
counts are read at the end of every trial. A shared ``M`` is a constant synaptic weight.
"""

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize, nnls

from brianlearn.measures import elastic_net_objective
from brianlearn.models import get_model
from brianlearn.models.perfect_if import RESETS
from brianlearn.protocol import Protocol
from brianlearn.schedule import Phase, Schedule
from brianlearn.validation import TIME_UNIT, as_time, check_array, check_scalar

__all__ = ["spiking_elastic_net", "elastic_net_reference", "elastic_net_objective", "ElasticNetSolver",
           "solver_check_problems", "check_problems", "check_reset", "solver_neuron", "TIME_UNIT", "as_time"]


def check_reset(reset):
    """``reset`` if it names one of `perfect_if.RESETS` (``'subtract'``, ``'zero'``), else a `ValueError`."""
    if reset not in RESETS:
        raise ValueError(f"reset must be one of {sorted(RESETS)}, got {reset!r}.")
    return reset


def solver_neuron(reset="subtract", lam2=0.0, model="nsm_neuron"):
    """The neuron model of the solver and of the NSM network, looked up now in `brianlearn.models`.

    ``model`` (default ``'nsm_neuron'``, as edited in ``brianlearn.models.MODELS``) with the
    threshold offset ``lam2``. ``reset='subtract'`` keeps the model's own reset (the subtractive
    one in ``models/nsm_neuron.py``); ``'zero'`` replaces it by the paper's ``v = 0``
    (`perfect_if.RESETS`).
    """
    neuron = get_model(model)(lam2=float(lam2))
    return neuron if check_reset(reset) == "subtract" else neuron.replace(reset=RESETS[reset])


def check_problems(Wx, M, b, alpha, lam1, lam2):
    """Validate a batch of elastic-net problems; return ``(Wx, M, b, alpha, lam1, lam2, single)``.

    ``Wx``: ``(n, k)`` (or ``(k,)``: one problem, ``single=True``); ``M``: ``(n, k, k)`` or a
    shared ``(k, k)``, symmetric; ``b``: ``(n, k)`` or shared ``(k,)``. Raises `ValueError`
    naming the parameter for mismatched shapes, NaN/inf, asymmetric ``M``, negative
    regularisers and non-positive thresholds ``lam2 + M_ii``.
    """
    Wx = check_array("Wx", Wx)
    single = Wx.ndim == 1
    if single:
        Wx = Wx[None, :]
    if Wx.ndim != 2 or Wx.shape[0] < 1 or Wx.shape[1] < 1:
        raise ValueError(f"Wx must have shape (n_problems, k) or (k,), got {np.shape(Wx)}.")
    n, k = Wx.shape
    M = check_array("M", M)
    if M.shape == (n, k, k) and n == 1:
        M = M[0]
    elif M.shape not in ((k, k), (n, k, k)):
        raise ValueError(f"M must have shape ({n}, {k}, {k}) or ({k}, {k}) to match Wx {Wx.shape}, got {M.shape}.")
    if not np.allclose(M, np.swapaxes(M, -1, -2), rtol=1e-9, atol=1e-12):
        err = np.max(np.abs(M - np.swapaxes(M, -1, -2)))
        raise ValueError(f"M must be symmetric (lateral weights M_ij = M_ji); max |M - M^T| = {err:.3g}.")
    b = check_array("b", b)
    if b.shape == (k,):
        b = np.tile(b, (n, 1))
    elif b.shape != (n, k):
        raise ValueError(f"b must have shape ({n}, {k}) or ({k},) to match Wx {Wx.shape}, got {b.shape}.")
    alpha, lam1, lam2 = (check_scalar(name, v, minimum=0.0) for name, v in
                         (("alpha", alpha), ("lam1", lam1), ("lam2", lam2)))
    diag = np.diagonal(M, axis1=-2, axis2=-1)
    if np.any(lam2 + diag <= 0):
        raise ValueError(f"The firing thresholds lam2 + M_ii must be positive; min is {np.min(lam2 + diag):.3g} "
                         f"(lam2={lam2}).")
    # C order: Brian2's run_args hash the raw buffer of every array
    return (np.ascontiguousarray(Wx), np.ascontiguousarray(M), np.ascontiguousarray(b), alpha, lam1, lam2,
            single)


# ------------------------------------------------------------------ reference solver
def _solve_one(c, A):
    """argmin_{y>=0} y.A y - 2 c.y for symmetric A (convex when A is PSD)."""
    k = len(c)
    try:  # A positive definite: the problem is a non-negative least-squares problem
        L = np.linalg.cholesky(A)
        y, _ = nnls(L.T, solve_triangular(L, c, lower=True), maxiter=50 * k)
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
    ``A``); otherwise by L-BFGS-B with bounds.

    Parameters
    ----------
    Wx, M, b, alpha, lam1, lam2
        As for `spiking_elastic_net`.

    Returns
    -------
    y : array (n_problems, k) (or (k,) for a 1-D ``Wx``)
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
    dict
        ``Wx (n, k)``, ``M (n, k, k)``, ``b (n, k)``, ``y_ref (n, k)``, ``alpha``, ``lam1``,
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

    Its neurons are ``brianlearn.models.MODELS['nsm_neuron']`` and its synapses
    ``MODELS['nsm_lateral']``, looked up when the network is built.
    """

    name = "nsm_solver"

    def __init__(self, k, alpha, lam1, lam2, duration=500, dt=0.01, M=None, reset="subtract", **kwds):
        super().__init__(**kwds)
        self.k = int(k)
        self.alpha, self.lam1, self.lam2 = float(alpha), float(lam1), float(lam2)
        self.reset = check_reset(reset)
        self.shared_M = None if M is None else np.asarray(M, dtype=float)
        self.duration, self.dt = as_time("duration", duration), as_time("dt", dt)
        self.schedule = Schedule([Phase("solve", self.duration)], dt=self.dt)

    def config(self):
        return {"k": self.k, "alpha": self.alpha, "lam1": self.lam1, "lam2": self.lam2, "reset": self.reset,
                "shared_M": self.shared_M is not None}

    def data_shapes(self):
        shapes = {"wx": self.k, "b": self.k, "mii": self.k}
        if self.shared_M is None:
            shapes["m"] = self.k * self.k
        return shapes

    def initial_state(self, rng):
        if self.shared_M is None:
            return {}
        return {"nsm_lat.w": (self.shared_M * (1 - np.eye(self.k))).ravel()}

    def build_network(self, b):
        k = self.k
        b.data("wx"), b.data("b"), b.data("mii")  # the TimedArrays data_wx(t, i), ...
        out = solver_neuron(self.reset, self.lam2).make_group(k, "nsm_out", clock=b.clock)
        lat = get_model("nsm_lateral").make_synapses(out, out, "nsm_lat", clock=b.clock)  # all to all, pre-major
        b.add(out, lat)
        if self.shared_M is None:
            b.data("m")
            # w of synapse j -> i is Mbar_ij (pre index i, post index j in Brian2's naming)
            b.on_trial_start(lat, f"w = data_m(t, j*{k} + i) * int(i != j)")
        else:
            b.learn(lat, "w", size=k * k)
        b.on_trial_start(out, f"bias = data_wx(t, i) - {self.alpha!r}*data_b(t, i) - {self.lam1!r}\n"
                              "Mii = data_mii(t, i)\nI = bias\nv = 0\ncount = 0")
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
            data["mii"] = np.diagonal(M, axis1=-2, axis2=-1)
        else:
            data["mii"] = np.tile(np.diag(self.shared_M), (len(Wx), 1))
        return self.run_trials(data).records["nsm_out.y"]


def spiking_elastic_net(Wx, M, b, alpha, lam1, lam2, duration=500, dt=0.01, device=None, reset="subtract",
                        chunk_size=None, progress=False):
    """Minimise the non-negative elastic net ``h`` with a spiking network, for a batch of problems.

    ``h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2``, ``y >= 0``
    (Pehlevan 2019, arXiv:1902.01429, sections 3.1 and 4.1). Perfect integrate-and-fire neurons
    with threshold ``lam2 + M_ii`` and current ``dI/dtau = -I + Wx - alpha b - lam1 - Mbar sigma``
    (``I(0) = Wx - alpha b - lam1``); the output is the spike count divided by the duration.
    All problems run as trials of one compiled simulation (`ElasticNetSolver`).

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
    progress : bool, optional
        Report progress per chunk.

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
    check_reset(reset)
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
