"""
Learning protocols: one module per learning system, each a `brianlearn.Protocol` subclass.

`PROTOCOLS` maps the command-line names to their classes; `get_protocol` looks one up.
"""

from .demo import ContrastiveDemo
from .eqprop_rate import RateEPNetwork
from .nsm import NSMNetwork
from .plasticity import PlasticityExperiments

__all__ = ["PROTOCOLS", "get_protocol", "ContrastiveDemo", "RateEPNetwork", "NSMNetwork",
           "PlasticityExperiments"]

#: name -> class with an ``experiment(out, quick, seed, device)`` classmethod (``brianlearn run``)
PROTOCOLS = {"demo": ContrastiveDemo, "eqprop": RateEPNetwork, "nsm": NSMNetwork,
             "plasticity": PlasticityExperiments}


def get_protocol(name):
    """The protocol class registered as ``name``."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"Unknown protocol '{name}'. Known protocols: {', '.join(sorted(PROTOCOLS))}.") from None
