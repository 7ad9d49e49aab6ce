"""
Trial schedules: each trial (one sample) is a fixed sequence of named phases.

A `Schedule` knows the phases' durations and their per-phase signals (e.g. the nudging
strength ``beta`` is 0 in ``free`` and 0.5 in ``clamped``), and turns them into Brian2
`TimedArray` values for a run of ``n_trials`` trials. The timing rule the engine relies on
(DESIGN.md §2): code run at the end of a phase executes in the first time step *after* that
phase, before anything else in that step, so it sees every spike of the phase.
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np
from brian2 import Quantity, ms, second
from brian2.units.fundamentalunits import get_dimensions

__all__ = ["Phase", "Schedule", "gate_statements", "aligned_dt"]


def aligned_dt(dt, counts, max_ulps=256):
    """``dt`` moved by at most ``max_ulps`` floating-point steps so that ``(n * dt) / dt == n``
    exactly for every ``n`` in ``counts`` and ``(n * dt) / (m * dt) == n / m`` for each pair that
    divides: a relative change below 1e-13, so the simulation is the same.

    Brian2 compares a `TimedArray`'s ``dt`` with the clock's by an exact float division and warns
    "time grids not aligned" otherwise (``0.5 s / 10 us = 49999.99999999999``), although the grids
    are the same. ``dt`` itself is returned when no such value is near.
    """
    counts = sorted(set(int(n) for n in counts))
    pairs = [(n, m) for n in counts for m in counts if n > m and n % m == 0]

    def exact(step):
        return (all((n * step) / step == n for n in counts)
                and all((n * step) / (m * step) == n // m for n, m in pairs))

    up = down = float(dt)
    for _ in range(max_ulps + 1):
        for c in (up, down):
            if exact(c):
                return Quantity(c, dim=get_dimensions(dt))
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
    return dt


@dataclass
class Phase:
    """One phase of a trial.

    Parameters
    ----------
    name : str
        E.g. ``'free'`` or ``'clamped'``.
    duration : Quantity
        Length of the phase (a multiple of the simulation time step).
    signals : dict, optional
        Values of the phase signals during this phase (numbers or quantities).
    """

    name: str
    duration: Quantity
    signals: dict = field(default_factory=dict)


class Schedule:
    """A sequence of phases that every trial runs through.

    Parameters
    ----------
    phases : list of Phase
    dt : Quantity
        Simulation time step.

    Examples
    --------
    >>> from brian2 import ms
    >>> from brianlearn import Phase, Schedule
    >>> s = Schedule([Phase('free', 20*ms, {'beta': 0}), Phase('clamped', 20*ms, {'beta': 1})])
    >>> s.trial_duration
    40. * msecond
    """

    def __init__(self, phases, dt=0.1 * ms):
        if not phases:
            raise ValueError("A schedule needs at least one phase.")
        if get_dimensions(dt) is not second.dim or not float(dt) > 0:
            raise ValueError(f"dt must be a positive time, got {dt!r}.")
        self.dt = dt
        self.phases = list(phases)
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ValueError(f"Phase names must be unique, got {names}.")
        self.steps = []
        for p in self.phases:
            if not isinstance(p.name, str) or not re.fullmatch(r"[A-Za-z]\w*", p.name):
                raise ValueError(f"Phase name {p.name!r} must be an identifier.")
            if get_dimensions(p.duration) is not second.dim:
                raise ValueError(f"Duration of phase '{p.name}' must be a time, got {p.duration!r}.")
            n = float(p.duration / dt)
            if not n > 0 or abs(n - round(n)) > 1e-6:
                raise ValueError(
                    f"Duration of phase '{p.name}' ({p.duration}) must be a positive multiple of dt ({dt}).")
            self.steps.append(int(round(n)))
        # signals: every phase gets every signal (0 with the right unit where not given)
        self.signal_dims = {}
        for p in self.phases:
            for key, value in p.signals.items():
                dim = get_dimensions(value)
                if key in self.signal_dims and self.signal_dims[key] is not dim:
                    raise ValueError(f"Signal '{key}' has inconsistent units across phases.")
                if not np.all(np.isfinite(np.asarray(value, dtype=float))):
                    raise ValueError(f"Signal '{key}' in phase '{p.name}' is {value!r}; expected a finite value.")
                self.signal_dims[key] = dim
        #: slot length: the largest step count dividing every phase boundary
        self.slot_steps = math.gcd(*self.steps)
        #: the time step, moved by a few floating-point steps where that makes the trial and slot
        #: lengths exact multiples of it (`aligned_dt`)
        self.dt = aligned_dt(dt, [self.steps_per_trial, self.slot_steps])

    # ------------------------------------------------------------------ timing
    @property
    def steps_per_trial(self):
        return sum(self.steps)

    @property
    def trial_duration(self):
        return self.steps_per_trial * self.dt

    @property
    def slot(self):
        """Time resolution of the phase signals (gcd of the phase durations)."""
        return self.slot_steps * self.dt

    @property
    def slots_per_trial(self):
        return self.steps_per_trial // self.slot_steps

    def phase(self, name):
        for p in self.phases:
            if p.name == name:
                return p
        raise ValueError(f"Unknown phase '{name}'. Phases: {', '.join(p.name for p in self.phases)}.")

    def phase_bounds(self, name):
        """Start and end (in time steps from the trial start) of phase ``name``."""
        self.phase(name)
        start = 0
        for p, n in zip(self.phases, self.steps):
            if p.name == name:
                return start, start + n
            start += n

    def phase_duration(self, name):
        start, end = self.phase_bounds(name)
        return (end - start) * self.dt

    # ------------------------------------------------------------------ arrays
    def _per_slot(self, values_per_phase):
        out = []
        for value, n in zip(values_per_phase, self.steps):
            out += [value] * (n // self.slot_steps)
        return np.asarray(out, dtype=float)

    def signal_values(self, name, n_trials):
        """Values of phase signal ``name`` per slot for ``n_trials`` trials (plus one slot)."""
        if name not in self.signal_dims:
            raise ValueError(f"Unknown signal '{name}'. Signals: {', '.join(self.signal_dims) or 'none'}.")
        per_trial = self._per_slot([float(np.asarray(p.signals.get(name, 0.0))) for p in self.phases])
        return np.concatenate([np.tile(per_trial, n_trials), per_trial[:1]])

    def phase_end_gate(self, name, n_trials):
        """1 in the slot that follows phase ``name`` (its end-of-phase slot), else 0.

        Only for phases other than the last (the last phase's end is the next trial's start).
        """
        start, end = self.phase_bounds(name)
        if end == self.steps_per_trial:
            raise ValueError(f"Phase '{name}' is the last phase: its end is the trial end.")
        per_trial = np.zeros(self.slots_per_trial)
        per_trial[end // self.slot_steps] = 1.0
        return np.concatenate([np.tile(per_trial, n_trials), [0.0]])


_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(=|\+=|-=|\*=|/=)\s*(.+?)\s*$")


def gate_statements(code, gate, state_variables):
    """Rewrite statements so they take effect only where ``gate`` is 1 (no effect where 0).

    ``x = e`` becomes ``x = x + gate*((e) - x)``, ``x += e`` becomes ``x += gate*(e)``, and so
    on; statements assigning temporaries (names that are not state variables) are kept.
    This lets one `run_regularly` operation serve an event that happens at a fixed offset in
    every trial, which Brian2's clocks (all starting at t = 0) cannot express directly.
    """
    out = []
    for line in code.replace(";", "\n").split("\n"):
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = _STATEMENT.match(line)
        if not m:
            raise ValueError(f"Cannot parse statement '{line}' (expected 'var = expression').")
        var, op, expr = m.groups()
        if var not in state_variables:
            out.append(line)
        elif op == "=":
            out.append(f"{var} = {var} + ({gate})*(({expr}) - {var})")
        elif op in ("+=", "-="):
            out.append(f"{var} {op} ({gate})*({expr})")
        else:  # *=, /=
            out.append(f"{var} {op} 1 + ({gate})*(({expr}) - 1)")
    return "\n".join(out)
