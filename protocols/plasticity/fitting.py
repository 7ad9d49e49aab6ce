"""
Least-squares fits of chosen parameters of a synapse model to a data set (SciPy).

The shipped rules are evaluated exactly, event by event, with NumPy (`event_weight_change`,
equal to the Brian2 simulation to rounding errors); other models run as Brian2 simulations,
all finite-difference probes of a Jacobian in one simulation. `fit` returns a `FitResult`
with the fitted values, their standard errors and the comparisons before and after.
"""

import numpy as np
from brian2 import ms
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions
from scipy.optimize import least_squares

from brianlearn.datasets import plasticity as _data

from .compare import Comparison, dataset_stimulus, model_label
from .parameters import constant_parameters, resolve_synapse, shipped_rule
from .simulate import run_conditions

__all__ = ["fit", "FitResult", "format_parameter"]


def format_parameter(value):
    """A fitted value for a summary: ``16.8 ms`` (4 significant digits) or ``0.0065``."""
    if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS:
        return str(value.in_best_unit(precision=4))
    return f"{float(value):.4g}"


class FitResult:
    """What `fit` returns.

    Attributes
    ----------
    params : dict
        Fitted values (with units).
    stderr : dict
        Standard errors of the fitted values from the Jacobian at the optimum (with the data's
        SEMs; without SEMs, scaled by the residual variance).
    initial : dict
        Starting values.
    names : list of str
        The fitted parameters.
    model : SynapseModel
        The synapse model with the fitted parameters.
    before, after : Comparison
        Model versus data before and after the fit (``after`` from the Brian2 simulation
        when ``verify=True``).
    engine : str
        Evaluation used by the optimiser.
    verify_max_diff : float or None
        Largest difference (percentage points) between the optimiser's evaluation and the
        Brian2 simulation at the fitted parameters.
    result : scipy.optimize.OptimizeResult
    dataset : str
    """

    def __init__(self, **kwds):
        self.__dict__.update(kwds)

    def summary(self):
        """Text: the fitted values with their errors, and the statistics before and after."""
        lines = [f"fit of {', '.join(self.names)} to {self.before.dataset} ({self.engine} evaluation, "
                 f"{self.result.nfev} evaluations, {'converged' if self.result.success else 'NOT converged'})"]
        for k in self.names:
            lines.append(f"  {k}: {format_parameter(self.initial[k])} -> {format_parameter(self.params[k])} "
                         f"(± {format_parameter(self.stderr[k])})")
        lines.append(f"  RMSE {self.before.rmse:.2f} % -> {self.after.rmse:.2f} %"
                     + ("" if self.after.chi2 is None else
                        f"; chi2 {self.before.chi2:.2f} -> {self.after.chi2:.2f}; within one SEM "
                        f"{self.before.n_within_sem} -> {self.after.n_within_sem} of {len(self.after.data)}"))
        if self.verify_max_diff is not None:
            lines.append(f"  Brian2 simulation versus optimiser's evaluation: max difference "
                         f"{self.verify_max_diff:.2e} percentage points")
        return "\n".join(lines)


def _bounds(names, dims, bounds, scale):
    """Lower and upper bounds in scaled units: given ones, else amplitudes >= 0, times 0.5 ms - 10 s."""
    lo, hi = [], []
    for k in names:
        if bounds and k in bounds:
            low, high = bounds[k]
            lo.append(float(low)), hi.append(float(high))
        elif dims[k] is DIMENSIONLESS:
            lo.append(0.0), hi.append(np.inf)
        else:
            lo.append(0.5e-3), hi.append(10.0)
    return np.array(lo) / scale, np.array(hi) / scale


def _standard_errors(res, names, dims, scale, n_data, has_sem):
    """Standard errors from the Jacobian at the optimum (residuals in units of the SEM; without
    SEMs, scaled by the residual variance)."""
    try:
        cov = np.linalg.inv(res.jac.T @ res.jac)
    except np.linalg.LinAlgError:
        return {k: Quantity(np.nan, dim=dims[k]) for k in names}
    if not has_sem and n_data > len(names):
        cov *= 2 * res.cost / (n_data - len(names))
    return {k: Quantity(np.sqrt(max(var, 0.0)) * sc, dim=dims[k]) for k, var, sc in zip(names, np.diag(cov), scale)}


def fit(synapse, dataset, params, initial=None, pairing="trains", bounds=None, engine="auto", device=None,
        verify=True, dt=0.1 * ms, max_nfev=300):
    """Fit chosen parameters of a synapse model to a data set (SciPy least squares).

    Minimises ``sum(((model - data) / sem)**2)`` (plain squared errors when the data set has
    no SEM) with `scipy.optimize.least_squares` over the chosen parameters, the others kept at
    ``initial``. The shipped rules are evaluated exactly event by event with NumPy
    (`event_weight_change`, equal to the Brian2 simulation to rounding errors); other models
    run as Brian2 simulations, all finite-difference probes of a Jacobian in one simulation.
    With ``verify=True`` the fitted model is simulated with Brian2 on ``device``.

    Parameters
    ----------
    synapse : str or SynapseModel
    dataset : str or Table
    params : sequence of str
        Names of the parameters to fit (e.g. ``['A_plus', 'A_minus', 'tau_plus', 'tau_minus']``).
    initial : dict or str, optional
        Starting values (default: the model's parameters).
    pairing : {'trains', 'regular60'}
    bounds : dict, optional
        name -> (low, high) with units; default: amplitudes >= 0, time constants 0.5 ms - 10 s.
    engine : {'auto', 'numpy', 'brian2'}
    device : str, optional
        Device of the Brian2 runs.
    verify : bool
    dt : Quantity
    max_nfev : int

    Returns
    -------
    FitResult
    """
    table = _data.as_table(dataset)
    model = resolve_synapse(synapse, initial)
    if isinstance(params, str):
        params = [params]
    names = list(params)
    if not names:
        raise ValueError("params: give at least one parameter name to fit.")
    fittable = constant_parameters(model)
    for k in names:
        if k not in fittable:
            raise ValueError(f"params: '{k}' is not a parameter of synapse '{model.name}' "
                             f"(parameters: {', '.join(fittable)}).")
    if engine == "auto":
        engine = "numpy" if shipped_rule(model) else "brian2"
    if engine not in ("numpy", "brian2"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'brian2', got {engine!r}.")
    stim = dataset_stimulus(table, pairing)
    conds = stim.conditions()
    data = np.asarray(table["change_percent"], dtype=float)
    sem = np.asarray(table["sem_percent"], dtype=float) if "sem_percent" in table else np.ones_like(data)
    dims = {k: get_dimensions(model.parameters[k]) for k in names}
    x0 = np.array([float(model.parameters[k]) for k in names])
    scale = np.array([abs(v) if v != 0 else (1e-3 if dims[k] is DIMENSIONLESS else 10e-3)
                      for k, v in zip(names, x0)])
    lo, hi = _bounds(names, dims, bounds, scale)
    u0 = np.clip(x0 / scale, lo, hi)

    def rows_for(u):
        return {k: Quantity(v, dim=dims[k]) for k, v in zip(names, u * scale)}

    def evaluate(us):
        if engine == "numpy":
            return np.array([run_conditions(model, conds, engine="numpy", dt=dt,
                                            param_rows=[rows_for(u)] * len(conds)) for u in us])
        all_conds, rows = [], []
        for u in us:
            all_conds += conds
            rows += [rows_for(u)] * len(conds)
        out = run_conditions(model, all_conds, device=device, engine="brian2", dt=dt, param_rows=rows)
        return out.reshape(len(us), len(conds))

    def fun(u):
        return (evaluate([u])[0] - data) / sem

    def jac(u):
        h = 1e-6 * np.maximum(np.abs(u), 1e-2)
        probes = [u] + [u + h[i] * np.eye(len(u))[i] for i in range(len(u))]
        vals = evaluate(probes)
        return ((vals[1:] - vals[0]) / h[:, None]).T / sem[:, None]

    res = least_squares(fun, u0, jac=jac, bounds=(lo, hi), x_scale=1.0, max_nfev=max_nfev)
    stderr = _standard_errors(res, names, dims, scale, len(data), "sem_percent" in table)
    fitted = rows_for(res.x)
    fitted_model = model(**fitted)
    initial_values = {k: Quantity(v, dim=dims[k]) if dims[k] is not DIMENSIONLESS else float(v)
                      for k, v in zip(names, x0)}
    fitted = {k: (v if dims[k] is not DIMENSIONLESS else float(v)) for k, v in fitted.items()}
    pairing_label = pairing if table.meta.get("protocol") == "frequency" else None
    before = Comparison(table, stim.labels(), evaluate([u0])[0], model_label(model, initial), pairing_label)
    fit_values = evaluate([res.x])[0]
    verify_diff = None
    if verify:
        sim = stim.run(fitted_model, None, device, "brian2", dt)
        verify_diff = float(np.max(np.abs(sim - fit_values)))
        fit_values = sim
    after = Comparison(table, stim.labels(), fit_values, f"{model.name} [fitted {', '.join(names)}]", pairing_label)
    return FitResult(params=fitted, stderr=stderr, initial=initial_values, names=names, model=fitted_model,
                     before=before, after=after, engine=engine, verify_max_diff=verify_diff, result=res,
                     dataset=table.name)
