"""
Input checks shared by the engine, the learning systems and the estimators.

Arrays of samples are checked with scikit-learn's ``check_array`` / ``validate_data`` in the
estimators; the helpers here cover what scikit-learn does not: named numeric arrays of a given
shape, scalars with bounds, Brian2 quantities with units, and times given either in a model's
dimensionless time unit or as Brian2 quantities. Every helper raises a `ValueError` that names
the parameter and says what was expected.
"""

import numpy as np
from brian2 import Quantity, ms, second
from brian2.units.fundamentalunits import get_dimensions

__all__ = ["check_array", "check_scalar", "check_int", "check_quantity", "as_time", "TIME_UNIT"]

#: Brian2 time of one unit of the papers' dimensionless time (LCA, NSM, dictionary learning)
TIME_UNIT = 1 * ms


def check_array(name, value, ndim=None, shape=None, finite=True):
    """``value`` as a float array, or a `ValueError` naming ``name`` and what was expected.

    ``shape`` may hold ``None`` for axes of any length: ``(None, 64)``.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}.") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}.")
    if shape is not None:
        for want, got in zip(shape, arr.shape):
            if want is not None and want != got:
                want_str = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
                raise ValueError(f"{name} must have shape {want_str}, got {arr.shape}.")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return arr


def check_scalar(name, value, minimum=None, maximum=None, strict=False):
    """``value`` as a finite float within ``[minimum, maximum]`` (open bounds with ``strict``)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {v}.")
    if maximum is not None and (v >= maximum if strict else v > maximum):
        raise ValueError(f"{name} must be {'<' if strict else '<='} {maximum}, got {v}.")
    return v


def check_int(name, value, minimum=1):
    """``value`` as an int ``>= minimum`` (bools are refused)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_quantity(name, value, unit, unit_name, allow_array=True, positive=False):
    """``value`` (a Brian2 quantity in units of ``unit``) as SI floats, or a `ValueError`."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Quantity) for v in value):
        try:
            value = Quantity(value)
        except Exception:  # mixed units
            raise ValueError(f"{name} must have units of {unit_name}, got {value!r}.") from None
    try:
        dim = get_dimensions(value)
    except Exception:  # lists of quantities etc.
        dim = None
    if dim is not get_dimensions(unit):
        raise ValueError(f"{name} must be a Brian2 quantity in units of {unit_name} (e.g. 10*{unit_name}), "
                         f"got {value!r}.")
    arr = np.asarray(value, dtype=float)
    if not allow_array and arr.ndim != 0:
        raise ValueError(f"{name} must be a single value, got an array of shape {arr.shape}.")
    if np.any(~np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values: {value!r}.")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be positive, got {value!r}.")
    return arr


def as_time(name, value, unit=TIME_UNIT):
    """A duration given in model time units (plain number) or as a Brian2 time, as a Brian2 time.

    Raises a `ValueError` naming ``name`` for other units, NaN, or values that are not > 0.
    """
    if isinstance(value, Quantity) and get_dimensions(value) is not get_dimensions(1.0):
        if get_dimensions(value) is not second.dim:
            raise ValueError(f"{name} must be a number (model time units) or a time, got {value!r}.")
        q = value
    else:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number (model time units) or a time, got {value!r}.")
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number (model time units) or a time, got {value!r}.") from None
        q = f * unit
    if not np.isfinite(float(q)) or not float(q) > 0:
        raise ValueError(f"{name} must be a positive, finite time, got {value!r}.")
    return q
