"""
Model specifications: Brian2 equation strings plus default parameters with units.

A model module in ``brianlearn.models`` defines one `NeuronModel` or `SynapseModel`.
Users override parameters (``lif(tau=10*ms)``) or replace whole equation strings
(``lif.replace(equations=...)``); every override is validated *before* any Brian2
object is created or any code is generated, and an inconsistent override raises a
`ValueError` naming the model and the offending term.
"""

import re

import numpy as np
from brian2 import NeuronGroup, Quantity, Synapses
from brian2 import second as second_unit
from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, DEFAULT_UNITS
from brian2.core.variables import Constant
from brian2.equations.equations import Equations
from brian2.parsing.expressions import parse_expression_dimensions
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    DimensionMismatchError,
    get_dimensions,
)
from brian2.utils.stringtools import get_identifiers

__all__ = ["ModelSpec", "NeuronModel", "SynapseModel", "format_quantity"]

#: Names every Brian2 group provides
_NEURON_BUILTINS = {"t": "second", "dt": "second", "i": None, "N": None,
                    "lastspike": "second", "not_refractory": None, "t_in_timesteps": None}
_SYNAPSE_BUILTINS = dict(_NEURON_BUILTINS, j=None, N_incoming=None, N_outgoing=None,
                         delay="second", lastupdate="second")
_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)\s*(.+?)\s*$")


def format_quantity(value):
    """Format a parameter value with its unit (``10. ms``), or a plain number."""
    if isinstance(value, Quantity) and value.dim is not DIMENSIONLESS:
        return str(value.in_best_unit(precision=6))
    return repr(float(value)) if np.ndim(value) == 0 else repr(np.asarray(value))


def _dim_name(dim):
    """A unit name for messages and for equations (``second``, ``volt``, ``1``)."""
    return "1" if dim is DIMENSIONLESS else dim._str_representation(python_code=True)


def _symbol(name, dim):
    """A Brian2 `Constant` carrying only a dimension (for unit checks)."""
    return Constant(name, 1.0, dimensions=dim)


def _split_statements(code):
    if not code:
        return []
    lines = []
    for part in code.replace(";", "\n").split("\n"):
        part = part.split("#")[0].strip()
        if part:
            lines.append(part)
    return lines


class ModelSpec:
    """Common machinery of neuron and synapse models.

    Parameters
    ----------
    name : str
        The model's registry name (``'lif'``).
    parameters : dict
        Default parameter values, Brian2 quantities (floats for dimensionless ones).
    reference : str
        The source of the equations (paper citation).
    doc : str
        A one-paragraph description shown by ``brianlearn show``.
    """

    #: attributes holding code (equations or statements), in display order
    _code_fields = ()

    def __init__(self, name, parameters=None, reference="", doc=""):
        self.name = name
        self.parameters = dict(parameters or {})
        self.reference = reference
        self.doc = doc

    # ---------------------------------------------------------------- overrides
    def _copy(self, **fields):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.parameters = dict(self.parameters)
        new.__dict__.update(fields)
        return new

    def __call__(self, **overrides):
        """Return a copy with some default parameters overridden (units checked)."""
        new = self._copy()
        for key, value in overrides.items():
            if key not in self.parameters:
                raise ValueError(
                    f"Model '{self.name}': unknown parameter '{key}'. "
                    f"Known parameters: {', '.join(sorted(self.parameters))}."
                )
            default = self.parameters[key]
            if get_dimensions(value) is not get_dimensions(default):
                raise ValueError(
                    f"Model '{self.name}': parameter '{key}' must have units of "
                    f"{_dim_name(get_dimensions(default))}, got {value!r}."
                )
            if np.any(~np.isfinite(np.asarray(value, dtype=float))):
                raise ValueError(f"Model '{self.name}': parameter '{key}' is {value!r}; expected a finite value.")
            if key.startswith("tau") and np.any(np.asarray(value) <= 0):
                raise ValueError(
                    f"Model '{self.name}': time constant '{key}' must be positive, got {value!r}."
                )
            if get_dimensions(value) is get_dimensions(1 * second_unit) and np.any(np.asarray(value) < 0):
                raise ValueError(f"Model '{self.name}': duration '{key}' must not be negative, got {value!r}.")
            new.parameters[key] = value
        return new

    with_params = __call__

    def replace(self, parameters=None, **code):
        """Return a copy with equation or code strings replaced (and validated).

        Parameters
        ----------
        parameters : dict, optional
            A complete new set of default parameters (replaces the old one).
        **code
            New strings for any of the model's code fields (e.g. ``equations=``,
            ``reset=``, ``on_pre=``).
        """
        for key in code:
            if key not in self._code_fields:
                raise ValueError(
                    f"Model '{self.name}': cannot replace '{key}'; replaceable fields are "
                    f"{', '.join(self._code_fields)}."
                )
        new = self._copy(**code)
        if parameters is not None:
            new.parameters = dict(parameters)
        new.validate()
        return new

    # ---------------------------------------------------------------- validation
    def _error(self, where, message):
        return ValueError(f"Model '{self.name}', {where}: {message}")

    def _symbols(self, eqs, extra=None, builtins=None):
        """Dimension of every name the model's code may use (None: unknown)."""
        symbols = {}
        for name, unitname in (builtins or {}).items():
            symbols[name] = _symbol(name, DEFAULT_UNITS[unitname].dim if unitname else DIMENSIONLESS)
        for name, value in DEFAULT_UNITS.items():
            symbols[name] = _symbol(name, get_dimensions(value))
        for name, value in DEFAULT_CONSTANTS.items():
            symbols[name] = value
        symbols.update(DEFAULT_FUNCTIONS)
        for name, value in {**self.parameters, **(extra or {})}.items():
            if hasattr(value, "is_locally_constant") or callable(value):  # functions, TimedArrays
                symbols[name] = value
            else:
                symbols[name] = _symbol(name, get_dimensions(value))
        for eq in eqs.ordered:
            symbols[eq.varname] = _symbol(eq.varname, eq.dim)
        return symbols

    def _check_expression(self, where, expr, symbols, expected_dim=None):
        unknown = sorted(n for n in get_identifiers(expr) if n not in symbols)
        if unknown:
            raise self._error(where, f"unknown name(s) {', '.join(repr(u) for u in unknown)} in '{expr}'. "
                                     "Define them in the equations or as parameters.")
        try:
            dim = parse_expression_dimensions(expr, symbols)
        except (DimensionMismatchError, SyntaxError, TypeError, KeyError, ValueError) as exc:
            raise self._error(where, f"inconsistent units in '{expr}': {exc}") from None
        if expected_dim is not None and dim is not expected_dim:
            raise self._error(where, f"'{expr}' has units of {_dim_name(dim)}, expected {_dim_name(expected_dim)}.")
        return dim

    def _check_equations(self, eqs, symbols):
        for eq in eqs.ordered:
            if eq.expr is None:
                continue
            expected = eq.dim / DEFAULT_UNITS["second"].dim if eq.type == "differential equation" else eq.dim
            self._check_expression(f"equation for '{eq.varname}'", str(eq.expr), symbols, expected)

    def _check_statements(self, where, code, symbols, writable):
        symbols = dict(symbols)
        for line in _split_statements(code):
            m = _STATEMENT.match(line)
            if not m:
                raise self._error(where, f"cannot parse statement '{line}' (expected 'var = expression').")
            var, op, expr = m.groups()
            if var not in symbols:
                if op != "=":  # 'x += 1' needs an existing x; only '=' defines a temporary
                    raise self._error(where, f"unknown name '{var}' in '{line}'. "
                                             "Define it in the equations or as a parameter.")
                symbols[var] = _symbol(var, self._check_expression(where, expr, symbols))  # temporary
                continue
            if var not in writable:
                raise self._error(where, f"'{var}' is not a state variable of the model and cannot be assigned.")
            if op in ("*=", "/="):
                self._check_expression(where, expr, symbols, DIMENSIONLESS)
            else:
                self._check_expression(where, expr, symbols, get_dimensions(symbols[var]))

    def validate(self, extra=None):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- display
    def describe(self):
        """Human-readable text: equations, code and parameters with units."""
        out = [f"{self.name}: {type(self).__name__}", ""]
        if self.doc:
            out += [self.doc.strip(), ""]
        if self.reference:
            out += [f"Reference: {self.reference}", ""]
        for field in self._code_fields:
            value = getattr(self, field)
            if value in (None, "", False):
                continue
            text = str(value).strip("\n")
            out.append(f"{field}:")
            out += ["    " + line.strip() for line in text.splitlines() if line.strip()]
        out += ["", "parameters:"]
        width = max((len(k) for k in self.parameters), default=0)
        for key in sorted(self.parameters):
            out.append(f"    {key:<{width}} = {format_quantity(self.parameters[key])}")
        return "\n".join(out)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}'>"

    def _equations_with_variables(self, equations, variables, shared=False):
        """Turn the named parameters into ``(constant)`` state variables."""
        extra = []
        for var in variables:
            if var not in self.parameters:
                raise ValueError(f"Model '{self.name}': '{var}' is not a parameter; cannot make it a variable. "
                                 f"Known parameters: {', '.join(sorted(self.parameters))}.")
            flags = "(shared, constant)" if shared else "(constant)"
            extra.append(f"{var} : {_dim_name(get_dimensions(self.parameters[var]))} {flags}")
        namespace = {k: v for k, v in self.parameters.items() if k not in variables}
        return Equations(equations) + Equations("\n".join(extra)) if extra else Equations(equations), namespace


class NeuronModel(ModelSpec):
    """A neuron model: equations, threshold, reset, refractoriness and default parameters.

    Parameters
    ----------
    name : str
    equations : str
        Brian2 model equations.
    threshold, reset : str, optional
        Threshold condition and reset statements.
    refractory : str or Quantity or bool, optional
        Refractoriness (a parameter name such as ``'t_ref'``, a quantity, or ``False``).
    update : str, optional
        Learning statements a protocol runs at the end of every trial (e.g. a homeostatic
        threshold ``Mii += y*y - Mii``), as `SynapseModel`'s ``update``; not part of the group.
    method : str, optional
        Integration method (default ``'euler'``; ``'exact'`` for linear equations).
    parameters, reference, doc : see `ModelSpec`.
    """

    _code_fields = ("equations", "threshold", "reset", "refractory", "update")

    def __init__(self, name, equations, threshold=None, reset=None, refractory=False,
                 method="euler", parameters=None, reference="", doc="", update=None):
        super().__init__(name, parameters, reference, doc)
        self.equations = equations
        self.threshold = threshold
        self.reset = reset
        self.refractory = refractory
        self.update = update
        self.method = method
        self.validate()

    def validate(self, extra=None):
        """Check names and units of all equations and code (raises `ValueError`)."""
        try:
            eqs = Equations(self.equations)
        except Exception as exc:  # brian2 raises several types for bad syntax
            raise self._error("equations", f"cannot parse the equations: {exc}") from None
        clash = sorted(set(eqs.names) & set(self.parameters))
        if clash:
            raise self._error("equations", f"{', '.join(clash)} defined both as variable and as parameter.")
        symbols = self._symbols(eqs, extra, _NEURON_BUILTINS)
        self._check_equations(eqs, symbols)
        if self.threshold:
            self._check_expression("threshold", self.threshold, symbols)
        writable = set(eqs.names)
        if self.reset:
            self._check_statements("reset", self.reset, symbols, writable)
        if self.update:
            self._check_statements("update", self.update, symbols, writable)
        if isinstance(self.refractory, str) and self.refractory not in self.parameters:
            self._check_expression("refractory", self.refractory, symbols)
        return True

    def extend(self, fragment, name=None):
        """Combine with a fragment (a `NeuronModel` without threshold, e.g. a rate trace).

        The fragment's equations are appended, its reset statements run after this
        model's reset (i.e. on every spike), and its parameters are added.
        """
        clash = sorted(set(fragment.parameters) & set(self.parameters))
        clash = [c for c in clash if self.parameters[c] is not fragment.parameters[c]]
        if clash:
            raise ValueError(f"Model '{self.name}': fragment '{fragment.name}' redefines parameter(s) {clash}.")
        reset = "\n".join(r for r in (self.reset, fragment.reset) if r)
        update = "\n".join(u for u in (self.update, getattr(fragment, "update", None)) if u)
        new = self._copy(name=name or f"{self.name}+{fragment.name}",
                         equations=str(self.equations).rstrip() + "\n" + str(fragment.equations),
                         reset=reset or None, update=update or None)
        new.parameters.update(fragment.parameters)
        new.validate()
        return new

    def make_group(self, N, name, variables=(), shared=False, namespace=None, **kwds):
        """Create the `NeuronGroup` (parameters go into its namespace).

        Parameters
        ----------
        N : int
            Number of neurons.
        name : str
            Object name (explicit names keep generated code, and so the build cache, stable).
        variables : sequence of str, optional
            Parameters to turn into ``(constant)`` state variables, so that they can differ
            between neurons or be changed between standalone runs without recompiling.
        shared : bool, optional
            Make those variables ``(shared, constant)``.
        namespace : dict, optional
            Extra names (e.g. `TimedArray` signals) the equations use.
        **kwds
            Passed on to `NeuronGroup` (e.g. ``clock``, ``dt``, ``events``).
        """
        if not isinstance(N, (int, np.integer)) or N < 1:
            raise ValueError(f"Model '{self.name}': number of neurons N must be a positive integer, got {N!r}.")
        self.validate(extra=namespace)
        eqs, ns = self._equations_with_variables(self.equations, variables, shared)
        ns.update(namespace or {})
        refractory = self.refractory
        if isinstance(refractory, str) and refractory in self.parameters:
            refractory = self.parameters[refractory]
        group = NeuronGroup(N, eqs, threshold=self.threshold, reset=self.reset,
                            refractory=refractory, method=self.method, namespace=ns,
                            name=name, **kwds)
        for var in variables:
            setattr(group, var, self.parameters[var])
        return group


class SynapseModel(ModelSpec):
    """A synapse model: synaptic equations, pre/post-synaptic statements, parameters.

    Variables with a ``_pre``/``_post`` suffix refer to the source/target neurons and are
    checked against them when the `Synapses` object is made.
    """

    _code_fields = ("model", "on_pre", "on_post", "update")

    def __init__(self, name, model="", on_pre=None, on_post=None, update=None, method="exact",
                 parameters=None, reference="", doc="", weight="w"):
        super().__init__(name, parameters, reference, doc)
        self.model = model
        self.on_pre = on_pre
        self.on_post = on_post
        #: statements run by a protocol at the end of a trial (rate-based plasticity)
        self.update = update
        self.method = method
        self.weight = weight
        self.validate()

    @staticmethod
    def _model_text(model):
        # strip flags Brian2's Equations parser does not know outside Synapses
        return re.sub(r"\(\s*(summed|event-driven|clock-driven)\s*\)", "", model or "")

    def _synaptic_names(self, source=None, target=None):
        """Symbols for ``x_pre`` / ``x_post`` (dims from the groups when given)."""
        names = {}
        code = " ".join(str(getattr(self, f) or "") for f in self._code_fields)
        for ident in get_identifiers(code):
            for suffix, group in (("_pre", source), ("_post", target)):
                if ident.endswith(suffix):
                    base = ident[: -len(suffix)]
                    if group is None:
                        names[ident] = None
                    elif base in group.variables:
                        names[ident] = _symbol(ident, group.variables[base].dim)
                    else:
                        raise self._error(
                            "synapses", f"'{ident}' refers to '{base}', which the "
                            f"{'source' if suffix == '_pre' else 'target'} group '{group.name}' does not have.")
        return names

    def validate(self, extra=None, source=None, target=None):
        """Check names and units of all equations and statements (raises `ValueError`)."""
        try:
            eqs = Equations(self._model_text(self.model))
        except Exception as exc:
            raise self._error("model", f"cannot parse the equations: {exc}") from None
        if self.weight and self.weight not in eqs.names:
            raise self._error("model", f"the weight variable '{self.weight}' is not defined.")
        symbols = self._symbols(eqs, extra, _SYNAPSE_BUILTINS)
        syn = self._synaptic_names(source, target)
        unknown_dims = {k for k, v in syn.items() if v is None}
        symbols.update({k: (v if v is not None else _symbol(k, DIMENSIONLESS)) for k, v in syn.items()})

        def involves_unknown(text):
            return bool(set(get_identifiers(text)) & unknown_dims)

        for eq in eqs.ordered:
            if eq.expr is not None and not involves_unknown(str(eq.expr)):
                expected = eq.dim / DEFAULT_UNITS["second"].dim if eq.type == "differential equation" else eq.dim
                self._check_expression(f"equation for '{eq.varname}'", str(eq.expr), symbols, expected)
            elif eq.expr is not None:
                unknown = [n for n in get_identifiers(str(eq.expr)) if n not in symbols]
                if unknown:
                    raise self._error(f"equation for '{eq.varname}'", f"unknown name(s) {unknown}.")
        writable = set(eqs.names) | {k for k in syn}
        for field in ("on_pre", "on_post", "update"):
            code = getattr(self, field)
            if not code:
                continue
            if involves_unknown(code):  # names only (units are checked against the groups later)
                known = set(symbols)
                for line in _split_statements(code):
                    m = _STATEMENT.match(line)
                    if not m:
                        raise self._error(field, f"cannot parse statement '{line}' (expected 'var = expression').")
                    var, op, expr = m.groups()
                    for n in get_identifiers(expr):
                        if n not in known:
                            raise self._error(field, f"unknown name '{n}' in '{line}'.")
                    if var not in known:
                        if op != "=":
                            raise self._error(field, f"unknown name '{var}' in '{line}'.")
                        known.add(var)  # a temporary variable
            else:
                self._check_statements(field, code, symbols, writable)
        return True

    def make_synapses(self, source, target, name, variables=(), shared=False, namespace=None,
                      connect=True, **kwds):
        """Create the `Synapses` object (validated against ``source`` and ``target``).

        Parameters
        ----------
        source, target : NeuronGroup
        name : str
            Object name.
        variables : sequence of str, optional
            Parameters to turn into ``(constant)`` synaptic variables (see `NeuronModel.make_group`).
        shared : bool, optional
            Make those variables ``(shared, constant)``.
        namespace : dict, optional
            Extra external names.
        connect : bool or str or dict, optional
            ``True`` connects all to all; a string is a connection condition; a dict is passed
            to `Synapses.connect`; ``False`` leaves the synapses unconnected.
        """
        self.validate(extra=namespace, source=source, target=target)
        eqs_text = self.model or ""
        extra_vars = []
        for var in variables:
            if var not in self.parameters:
                raise ValueError(f"Model '{self.name}': '{var}' is not a parameter; cannot make it a variable.")
            flags = "(shared, constant)" if shared else "(constant)"
            extra_vars.append(f"{var} : {_dim_name(get_dimensions(self.parameters[var]))} {flags}")
        model = "\n".join([eqs_text] + extra_vars)
        ns = {k: v for k, v in self.parameters.items() if k not in variables}
        ns.update(namespace or {})
        syn = Synapses(source, target, model=model, on_pre=self.on_pre, on_post=self.on_post,
                       method=self.method, namespace=ns, name=name, **kwds)
        if connect is True:
            syn.connect()
        elif isinstance(connect, str):
            syn.connect(condition=connect)
        elif isinstance(connect, dict):
            syn.connect(**connect)
        for var in variables:
            setattr(syn, var, self.parameters[var])
        return syn
