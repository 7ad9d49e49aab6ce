"""
Synapse models and named parameter sets of the plasticity comparisons.

`parameter_sets` lists the published parameter sets (the Bi & Poo pair window and the
Pfister & Gerstner 2006 Table 4 rows, file ``pfister_gerstner_2006.csv``); `resolve_synapse`
turns a model name or `SynapseModel` plus a set name or dict into the model to simulate.
Models are looked up by name in `brianlearn.models` at call time, so an edited model (e.g.
``brianlearn.models.MODELS['pair_stdp']`` replaced) is what the stimuli run.

`shipped_rule` tells whether a model's code is one of the rules that the event-by-event NumPy
reference (`brianlearn.protocols.plasticity.reference`) implements.
"""

import functools
import re

import numpy as np
from brian2 import ms
from brian2.equations.equations import Equations
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

from brianlearn.datasets import plasticity as _data
from brianlearn.modelspec import SynapseModel
from brianlearn.models import get_model
from brianlearn.models.pair_stdp import pair_stdp
from brianlearn.models.triplet_stdp import triplet_stdp
from brianlearn.models.triplet_stdp_nearest import triplet_stdp_nearest

__all__ = ["parameter_sets", "resolve_synapse", "shipped_rule", "code_key", "constant_parameters", "unit_text",
           "RULE_MODELS"]

#: the rules of the NumPy reference -> the model code it implements (the shipped equations,
#: not whatever ``brianlearn.models.MODELS`` holds now: an edited model is a different rule)
RULE_MODELS = {"pair": pair_stdp, "triplet": triplet_stdp, "triplet_nearest": triplet_stdp_nearest}
#: model name of each rule (looked up with `get_model` when a parameter set selects the rule)
_RULE_NAMES = {"triplet": "triplet_stdp", "triplet_nearest": "triplet_stdp_nearest"}


def _norm_code(text):
    return re.sub(r"\s+", " ", str(text or "")).strip()


def shipped_rule(model):
    """``'pair'``, ``'triplet'`` or ``'triplet_nearest'`` if ``model``'s code is that shipped rule, else None."""
    for rule, ref in RULE_MODELS.items():
        if all(_norm_code(getattr(model, f)) == _norm_code(getattr(ref, f)) for f in ("model", "on_pre", "on_post")):
            return rule
    return None


def code_key(model):
    """The model's code with normalised whitespace (part of a build-cache key)."""
    return [_norm_code(getattr(model, f)) for f in ("model", "on_pre", "on_post")]


def parameter_sets():
    """All named parameter sets.

    Returns
    -------
    dict
        name -> ``{'rule': 'pair' | 'triplet' | 'triplet_nearest', 'params': {...}, 'source': str}``.
        ``'bi_poo_1998'``: the pair rule with ``A_plus = 0.777/60``, ``A_minus = 0.273/60``,
        ``tau_plus = 16.8 ms``, ``tau_minus = 33.7 ms`` (60 pairings at 1 Hz give the Bi & Poo
        fit); the ``pfister_*`` sets: Pfister & Gerstner (2006), Table 4 (file
        ``pfister_gerstner_2006.csv``).
    """
    sets = {"bi_poo_1998": {"rule": "pair", "source": "Bi & Poo (2001) fit of Bi & Poo (1998), per pairing (/60)",
                            "params": dict(A_plus=0.777 / 60, A_minus=0.273 / 60, tau_plus=16.8 * ms,
                                           tau_minus=33.7 * ms)}}
    table = _data.load("pfister_gerstner_2006")
    for row in table.rows():
        p = {k: float(row[k]) for k in ("A2_plus", "A3_plus", "A2_minus", "A3_minus")}
        for key in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            if not np.isnan(row[key + "_ms"]):
                p[key] = row[key + "_ms"] * ms
        sets[row["name"]] = {"rule": "triplet_nearest" if row["interaction"] == "nearest" else "triplet",
                             "params": p, "source": f"Pfister & Gerstner (2006) Table 4, {row['data']}, "
                                                    f"{row['interaction']}, {row['model']}"}
    return sets


def resolve_synapse(synapse, params=None):
    """The synapse model with parameters applied.

    Parameters
    ----------
    synapse : str or SynapseModel
        A model name (``'pair_stdp'``, ``'triplet_stdp'``, ``'triplet_stdp_nearest'``, looked
        up in `brianlearn.models`) or a `SynapseModel` with a weight variable ``w``.
    params : dict or str, optional
        Parameter values (quantities for time constants) or the name of a parameter set (see
        `parameter_sets`). A nearest-spike Pfister & Gerstner set given with the shipped
        all-to-all ``triplet_stdp`` selects ``triplet_stdp_nearest`` (and vice versa).

    Returns
    -------
    SynapseModel
    """
    model = get_model(synapse)  # (a model passes through; an unknown name is a ValueError)
    if not isinstance(model, SynapseModel):
        raise ValueError(f"synapse must be a synapse model name or a SynapseModel, got {synapse!r}.")
    if "w" not in _variable_names(SynapseModel._model_text(model.model)):
        raise ValueError(f"synapse '{model.name}' has no weight variable 'w'; the plasticity stimuli measure "
                         "the change of a relative weight w (w = 1 at the start). Define 'w : 1' in its model.")
    if params is None:
        return model
    if isinstance(params, str):
        sets = parameter_sets()
        if params not in sets:
            raise ValueError(f"Unknown parameter set {params!r} (params). Known sets: {', '.join(sets)}.")
        entry = sets[params]
        rule = shipped_rule(model)
        if {rule, entry["rule"]} == {"triplet", "triplet_nearest"}:  # the set's interaction selects the rule
            model = get_model(_RULE_NAMES[entry["rule"]])
        params = entry["params"]
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict, a parameter-set name or None, got {params!r}.")
    unknown = sorted(set(params) - set(model.parameters))
    if unknown:
        raise ValueError(f"params: synapse '{model.name}' has no parameter(s) {', '.join(unknown)}. "
                         f"Its parameters: {', '.join(sorted(model.parameters))}.")
    try:
        return model(**params)
    except ValueError as exc:
        raise ValueError(f"params: {exc}") from None


@functools.lru_cache(maxsize=64)
def _variable_names(model_text):
    """The names the model equations ``model_text`` define (Brian2 parses them: ~0.7 ms, once
    per text)."""
    return frozenset(Equations(model_text).names)


def constant_parameters(model):
    """Parameters that become per-synapse constants (scalars; functions stay in the namespace)."""
    out = []
    for key, value in model.parameters.items():
        if callable(value) or hasattr(value, "is_locally_constant"):
            continue
        if np.ndim(value) == 0:
            out.append(key)
    return sorted(out)


def unit_text(value):
    """The unit of ``value`` as written in Brian2 equations (``1``, ``second``, ...)."""
    dim = get_dimensions(value)
    return "1" if dim is DIMENSIONLESS else dim._str_representation(python_code=True)
