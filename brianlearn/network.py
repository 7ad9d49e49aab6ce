"""
`NetworkBuilder`: what a protocol uses to express a whole training schedule in Brian2 code.

It owns the clocks, the per-trial data and per-phase signals (`TimedArray`), and turns
end-of-phase / end-of-trial code into `run_regularly` operations placed by the timing rule of
DESIGN.md §2. Everything a protocol declares here runs inside the compiled simulation.

Names visible to model code (all functions of ``t``):

``data_<name>(t, i)``
    Row of data set ``<name>`` for the current trial (``i``: feature index).
``data_<name>_ended(t, i)``
    The same for the trial that has just ended (for end-of-trial code), if requested.
``signal_<name>(t)``
    Phase signal ``<name>`` (its value in the current phase).
``trial_<name>(t)`` / ``trial_<name>_ended(t)``
    Per-trial signal (e.g. a learning-rate schedule) for the current / just-ended trial.
``trial_ended(t)``
    1 if the trial that has just ended was a real one (0 at t = 0 and for padding trials).
"""

import re

import numpy as np
from brian2 import Clock, StateMonitor, TimedArray
from brian2.groups.group import Group

from .schedule import gate_statements

_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)")

__all__ = ["NetworkBuilder", "TRIAL_ENDED"]

TRIAL_ENDED = "trial_ended"

#: order of operations in the first time step of a trial
_ORDER_TRIAL_END, _ORDER_RECORD, _ORDER_TRIAL_START = 0, 50, 100


class NetworkBuilder:
    """Collects the Brian2 objects of one compiled run of ``n_trials`` trials.

    Parameters
    ----------
    schedule : Schedule
    n_trials : int
        Trials in one run (a chunk).
    data : dict
        ``name -> (n_trials, n_features)`` arrays: the values built in (the first chunk).
    trial_signals : dict
        ``name -> (n_trials,)`` arrays.
    valid : array of bool
        Which of the ``n_trials`` trials are real (the others pad the last chunk).
    """

    def __init__(self, schedule, n_trials, data, trial_signals, valid):
        self.schedule = schedule
        self.n_trials = n_trials
        self.objects = []
        self.learned = {}  # 'obj.var' -> (object, variable, size)
        self.records = {}  # 'obj.var' -> StateMonitor
        self.timed_arrays = {}  # name -> TimedArray (run_args keys)
        self._data = {k: np.asarray(v, dtype=float) for k, v in data.items()}
        self._trial_signals = {k: np.asarray(v, dtype=float) for k, v in trial_signals.items()}
        self._valid = np.asarray(valid, dtype=float)
        T = schedule.trial_duration
        #: the simulation clock (pass ``clock=b.clock`` to every group)
        self.clock = Clock(schedule.dt, name="bl_clock")
        #: a clock ticking once per trial, in its first time step
        self.trial_clock = Clock(T, name="bl_trial_clock")
        self.slot_clock = Clock(schedule.slot, name="bl_slot_clock")
        self.duration = n_trials * T + schedule.dt  # one extra step: the last trial's update
        self._add_ta(TRIAL_ENDED, self.ended_values(self._valid), T)
        for name in schedule.signal_dims:
            unit = 1 if schedule.signal_dims[name].is_dimensionless else _unit(schedule.signal_dims[name])
            self._add_ta(f"signal_{name}", schedule.signal_values(name, n_trials) * unit, schedule.slot)
        self._n_ops = 0

    # ------------------------------------------------------------------ arrays
    @staticmethod
    def ended_values(values):
        """Values for a 'just ended' TimedArray: index k holds trial k-1's value (0 for k = 0)."""
        values = np.asarray(values, dtype=float)
        return np.concatenate([np.zeros((1,) + values.shape[1:]), values])

    @staticmethod
    def padded(values):
        """Values for a 'current trial' TimedArray: one extra row (the extra time step)."""
        values = np.asarray(values, dtype=float)
        return np.concatenate([values, values[-1:]])

    def _add_ta(self, name, values, dt):
        ta = TimedArray(values, dt=dt, name=name)
        self.timed_arrays[name] = ta
        return ta

    def data(self, name, ended=False):
        """The `TimedArray` ``data_<name>`` (or ``data_<name>_ended``): this trial's data row."""
        if name not in self._data:
            raise ValueError(f"Unknown data set '{name}'. Data sets: {', '.join(self._data) or 'none'}.")
        key = f"data_{name}" + ("_ended" if ended else "")
        if key not in self.timed_arrays:
            vals = self.ended_values(self._data[name]) if ended else self.padded(self._data[name])
            self._add_ta(key, vals, self.schedule.trial_duration)
        return self.timed_arrays[key]

    def trial_signal(self, name, ended=False):
        """The `TimedArray` ``trial_<name>`` (or ``trial_<name>_ended``)."""
        if name not in self._trial_signals:
            raise ValueError(f"Unknown trial signal '{name}'. Signals: {', '.join(self._trial_signals) or 'none'}.")
        key = f"trial_{name}" + ("_ended" if ended else "")
        if key not in self.timed_arrays:
            v = self._trial_signals[name]
            self._add_ta(key, self.ended_values(v) if ended else self.padded(v), self.schedule.trial_duration)
        return self.timed_arrays[key]

    def namespace(self):
        """All names the builder defines (merge into groups' namespaces)."""
        return dict(self.timed_arrays)

    # ------------------------------------------------------------------ objects
    def add(self, *objects):
        """Add Brian2 objects to the network; returns the first (for chaining)."""
        self.objects.extend(objects)
        return objects[0] if objects else None

    def _op_name(self, group, kind):
        self._n_ops += 1
        return f"{group.name}_{kind}_{self._n_ops}"

    def on_phase_end(self, group, phase, code, order=0):
        """Run ``code`` on ``group`` at the end of ``phase`` in every trial.

        For the last phase this is the end of the trial (see `on_trial_end`). Otherwise the
        code runs in the first time step after the phase, gated so that it has no effect
        elsewhere (state variables are assigned through ``x = x + gate*(new - x)``).
        """
        _check_assignments(group, code)
        start, end = self.schedule.phase_bounds(phase)
        if end == self.schedule.steps_per_trial:
            return self.on_trial_end(group, code, order=order)
        gate = f"end_{phase}"
        if gate not in self.timed_arrays:
            self._add_ta(gate, self.schedule.phase_end_gate(phase, self.n_trials), self.schedule.slot)
        gated = gate_statements(code, f"{gate}(t)", _state_variables(group))
        op = group.run_regularly(gated, clock=self.slot_clock, when="start", order=_ORDER_TRIAL_END + order,
                                 name=self._op_name(group, f"end_{phase}"))
        self.objects.append(op)
        return op

    def on_trial_end(self, group, code, gate=TRIAL_ENDED + "(t)", order=0):
        """Run ``code`` at the end of every trial (in the first step of the next one).

        ``gate`` (default ``trial_ended(t)``) makes the code ineffective at t = 0 and after
        padding trials, so weight updates count real trials only. It may include a factor,
        e.g. ``'trial_ended(t) * trial_lr_ended(t)'``: increments (``+=``) are scaled by it,
        assignments need a 0/1 gate. ``gate=None`` runs the code unchanged. ``order`` sorts
        several end-of-trial operations (neurons' snapshots before synaptic updates).
        """
        _check_assignments(group, code)
        if gate:
            _check_no_division_by_ended(group, code)
            code = gate_statements(code, gate, _state_variables(group))
        op = group.run_regularly(code, clock=self.trial_clock, when="start", order=_ORDER_TRIAL_END + order,
                                 name=self._op_name(group, "trial_end"))
        self.objects.append(op)
        return op

    def on_trial_start(self, group, code, when="start", order=0, name=None):
        """Run ``code`` at the start of every trial, after the end-of-trial code (resets).

        ``when`` places it in another slot of the trial's first time step (e.g. ``'after_groups'``
        to read a ``(summed)`` variable already updated for the new trial); ``order`` sorts
        several start-of-trial operations.
        """
        _check_assignments(group, code)
        op = group.run_regularly(code, clock=self.trial_clock, when=when, order=_ORDER_TRIAL_START + order,
                                 name=name or self._op_name(group, "trial_start"))
        self.objects.append(op)
        return op

    def on_phase_start(self, group, code, order=0, name=None):
        """Run ``code`` on ``group`` at the start of every phase (of every trial), ungated.

        It runs after the end-of-phase (and end-of-trial) code of the same time step, e.g.
        ``'gamma = signal_gamma(t)'`` to hold a phase signal in a shared variable that
        synaptic code reads.
        """
        _check_assignments(group, code)
        op = group.run_regularly(code, clock=self.slot_clock, when="start", order=_ORDER_TRIAL_START + order,
                                 name=name or self._op_name(group, "phase_start"))
        self.objects.append(op)
        return op

    def sum_at_trial_end(self, synapses, variable, order=0):
        """Evaluate the ``(summed)`` variable ``variable`` of ``synapses`` once per trial.

        Brian2 updates a summed variable on its target group's clock (every time step for a
        spiking group: the sum over all synapses each step). Here the updater runs on the trial
        clock instead, in the end-of-trial slot with order ``order`` (between the neurons'
        read-outs and the weight updates that use the sum), so it sees the trial that has ended.
        """
        updater = synapses.summed_updaters.get(variable)
        if updater is None:
            raise ValueError(f"sum_at_trial_end(): '{synapses.name}' has no summed variable '{variable}' "
                             f"(it has {sorted(synapses.summed_updaters) or 'none'}).")
        # Brian2 has no public setter for a code object's clock; the schedule reads ``_clock``
        updater._clock = self.trial_clock
        updater.when, updater.order = "start", _ORDER_TRIAL_END + order
        return updater

    def every_step(self, group, code, when="start", order=0, name=None):
        """Run ``code`` on ``group`` in every time step of the simulation clock, in slot ``when``.

        For code that Brian2's equations cannot express (e.g. a clip after integration,
        ``when='after_groups'``, or reading a phase signal, ``when='before_groups'``).
        """
        _check_assignments(group, code)
        op = group.run_regularly(code, clock=self.clock, when=when, order=order,
                                 name=name or self._op_name(group, "step"))
        self.objects.append(op)
        return op

    def learning_gate(self, signal="lr"):
        """The gate of end-of-trial learning code: real trials only, scaled by a per-trial signal.

        Returns ``'trial_ended(t) * trial_<signal>_ended(t)'`` (for `on_trial_end`'s ``gate``),
        creating the ``trial_<signal>_ended`` array: updates after padding trials, at t = 0,
        or in trials whose learning rate is 0 change nothing.
        """
        self.trial_signal(signal, ended=True)
        return f"{TRIAL_ENDED}(t) * trial_{signal}_ended(t)"

    def record(self, group, variable):
        """Record ``group.variable`` at the end of every trial.

        The value is taken after the trial's end-of-trial code (snapshots, weight updates)
        and before the next trial's resets.

        The run returns it as an ``(n_trials, n)`` array under the key ``'group.variable'``.
        """
        key = f"{group.name}.{variable}"
        mon = StateMonitor(group, variable, record=True, clock=self.trial_clock, when="start",
                           order=_ORDER_RECORD, name=f"rec_{group.name}_{variable}")
        self.records[key] = mon
        self.objects.append(mon)
        return mon

    def learn(self, group, variable, size=None):
        """Declare ``group.variable`` as learned: carried between chunks and checkpointed.

        ``size`` is required for `Synapses` (their number is only known inside a standalone
        run); an all-to-all ``connect()`` orders synapses pre-major (index ``i*N_post + j``).
        """
        if size is None:
            if not isinstance(group, Group) or not hasattr(group, "N") or type(group).__name__ == "Synapses":
                raise ValueError(f"learn('{group.name}', '{variable}'): give size= for synaptic variables.")
            size = group.N
        if variable not in group.variables:
            raise ValueError(f"learn(): '{group.name}' has no variable '{variable}'.")
        shared = group.variables[variable].scalar
        self.learned[f"{group.name}.{variable}"] = (group, variable, 1 if shared else int(size))

    def finalize(self):
        """Give every group the builder's names; return the Brian2 objects of the network."""
        ns = self.namespace()
        for obj in self.objects:
            if getattr(obj, "namespace", None) is not None and isinstance(obj.namespace, dict):
                for key, value in ns.items():
                    obj.namespace.setdefault(key, value)
        return list(self.objects)


def _unit(dim):
    from brian2.units.fundamentalunits import get_unit

    return get_unit(dim)


def _check_assignments(group, code):
    """Refuse code that assigns to a name the group only knows as a constant (a parameter):
    Brian2 would silently treat it as a temporary and the assignment would have no effect."""
    ns = getattr(group, "namespace", None) or {}
    for line in code.replace(";", "\n").split("\n"):
        m = _ASSIGN.match(line)
        if m and m.group(1) not in group.variables and m.group(1) in ns:
            raise ValueError(
                f"Code for '{group.name}' assigns to '{m.group(1)}', which is a parameter (a constant "
                f"in the generated code), not a state variable; make it one, e.g. "
                f"make_group(..., variables=('{m.group(1)}',)).")


def _check_no_division_by_ended(group, code):
    """Refuse gated end-of-trial code that divides by an ``*_ended`` signal.

    The gate multiplies the effect of a statement by 0 at t = 0 and after padding trials, but
    the expression is still evaluated there, where every ``*_ended`` signal is 0: the division
    gives inf or NaN, and 0 * NaN is NaN (or ZeroDivisionError on the runtime device)."""
    import sympy
    from brian2.parsing.sympytools import str_to_sympy

    for line in code.replace(";", "\n").split("\n"):
        m = _ASSIGN.match(line.split("#")[0])
        if not m:
            continue
        expr = line.split("#")[0].split("=", 1)[1]
        try:
            parsed = str_to_sympy(expr)
        except Exception:  # noqa: BLE001  (Brian2 reports unparsable code itself, with context)
            continue
        for power in parsed.atoms(sympy.Pow):
            if not power.exp.is_negative:
                continue
            ended = sorted(f.func.__name__ for f in power.base.atoms(sympy.Function)
                           if f.func.__name__ == TRIAL_ENDED or f.func.__name__.endswith("_ended"))
            if ended:
                raise ValueError(
                    f"End-of-trial code for '{group.name}' divides by '{ended[0]}(...)' in "
                    f"'{line.strip()}'. That signal is 0 at t = 0 and after padding trials, where the "
                    f"gated code is still evaluated (and 0 * NaN is NaN). Divide by a quantity that "
                    f"is never 0 (e.g. add a small constant), or multiply by its inverse given as "
                    f"another signal.")


def _state_variables(group):
    return {name for name, var in group.variables.items()
            if not getattr(var, "read_only", False) and not name.startswith("_")}
