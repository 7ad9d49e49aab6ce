"""
Phase-rate snapshots: the firing rate of each neuron in each phase of a trial, from its spike
counter ``count`` (every neuron model here counts its spikes).

A fragment to add with ``model.extend(phase_rates)``: ``c0`` holds the count at the start of
the counting window, ``r_free`` / ``r_clamped`` the rates of the last free and clamped phases.
Protocols run `window_start` at the end of a settling phase and `window_end` at the end of the
phase to measure (both are statements for `NetworkBuilder.on_phase_end`). Counting spikes over
a window is the rate read-out of Tang, Lin & Davies (2017) and Lin & Tang (2018).
"""

from brianlearn.modelspec import NeuronModel

__all__ = ["phase_rates", "window_start", "window_end"]

phase_rates = NeuronModel(
    "phase_rates",
    equations="""
        c0 : 1
        r_free : Hz
        r_clamped : Hz
    """,
    reference="Tang, Lin & Davies (2017) arXiv:1705.05475 (spike-count rate read-out)",
    doc="Per-phase spike-count rates (a fragment: model.extend(phase_rates)).",
)


def window_start():
    """Statements that open a counting window."""
    return "c0 = count"


def window_end(rate_variable, duration):
    """Statements that close the window and store the rate (``duration`` a Brian2 time)."""

    seconds = float(duration)
    return f"{rate_variable} = (count - c0) / ({seconds!r}*second)"
