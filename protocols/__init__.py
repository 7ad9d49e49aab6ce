"""
The learning systems: one module (or package) per system, each built on the engine.

=====================  =============================================================
module                 learning system
=====================  =============================================================
``demo``               two-phase contrastive delta rule (`ContrastiveDemo`)
``nsm_solver``         spiking elastic-net / sparse-coding solver (`spiking_elastic_net`)
``lca``                spiking sparse coding (`SpikingLCA`, `spiking_sparse_encode`)
``nsm``                spiking non-negative similarity matching (`SpikingNSM`, `AnalogNSM`)
``dictionary``         dictionary learning by a two-phase network (`SpikingDictionaryLearning`);
                       its network ``dictionary_network``, baselines ``dictionary_baselines``
``eqprop``             equilibrium propagation, rate and LIF networks (`EquilibriumPropagation`)
``plasticity``         plasticity rules against data (`stdp_window`, `compare`, `fit`, ...)
=====================  =============================================================

Each system holds its estimator(s) (scikit-learn API) and the compiled network they run
(a `brianlearn.Protocol` subclass, e.g. `NSMNetwork`). The experiments that reproduce the
papers' figures are in `brianlearn.figures`. Names load on first use (`_PUBLIC`).
"""

from brianlearn._lazy import lazy_namespace

#: public name -> module of this package that defines it
_PUBLIC = {
    "ContrastiveDemo": ".demo", "DemoNetwork": ".demo",
    "spiking_elastic_net": ".nsm_solver", "elastic_net_reference": ".nsm_solver", "ElasticNetSolver": ".nsm_solver",
    "SpikingLCA": ".lca", "spiking_sparse_encode": ".lca",
    "SpikingDictionaryLearning": ".dictionary", "DictionaryNetwork": ".dictionary_network",
    "sgd_dictionary_learning": ".dictionary_baselines",
    "minibatch_dictionary_learning": ".dictionary_baselines",
    "SpikingNSM": ".nsm", "AnalogNSM": ".nsm", "NSMNetwork": ".nsm",
    "EquilibriumPropagation": ".eqprop", "RateEPNetwork": ".eqprop_rate", "LIFEPNetwork": ".eqprop_lif",
    "stdp_window": ".plasticity", "frequency_dependence": ".plasticity", "triplets": ".plasticity",
    "compare": ".plasticity", "fit": ".plasticity", "run_conditions": ".plasticity",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_namespace(__name__, _PUBLIC, globals())
