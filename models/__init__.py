"""
Neuron and synapse models as Brian2 equation strings with default parameters (with units).

One module per model; edit a module's equations and every protocol that uses the model
picks the change up. `get_model` looks a model up by name; `MODELS` lists them.
"""

from .contrastive import contrastive_delta, contrastive_hebbian
from .lif import lif
from .nudged_output import nudged_output
from .pair_stdp import pair_stdp
from .perfect_if import perfect_if
from .phase_rates import phase_rates
from .rate_trace import rate_trace
from .static_synapse import static_synapse
from .triplet_stdp import triplet_stdp

__all__ = ["MODELS", "get_model", "perfect_if", "lif", "nudged_output", "rate_trace",
           "phase_rates", "static_synapse", "contrastive_hebbian", "contrastive_delta", "pair_stdp",
           "triplet_stdp"]

#: All models by name
MODELS = {m.name: m for m in (perfect_if, lif, nudged_output, rate_trace, phase_rates, static_synapse,
                              contrastive_hebbian, contrastive_delta, pair_stdp, triplet_stdp)}


def get_model(name):
    """Return the model called ``name`` (or the model itself if one is passed)."""
    if not isinstance(name, str):
        return name
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model '{name}'. Known models: {', '.join(sorted(MODELS))}.") from None
