"""
Plasticity rules against biological data: the experiments' stimuli, run on any synapse model,
compared with and fitted to the shipped reference data.

The stimuli drive a synapse model (``brianlearn.models.pair_stdp``, ``triplet_stdp``,
``triplet_stdp_nearest`` or one the user writes) with `SpikeGeneratorGroup` s, exactly as the
experiments did. Every condition (one Δt, one frequency, one triplet) gets its own presynaptic
neuron, postsynaptic neuron and synapse, so that all conditions of a stimulus run in **one**
simulation (one compiled binary on ``cpp_standalone``) without interacting. The weight is
relative (``w = 1`` at the start) and results are percent changes ``100 (w - 1)``. Sign
convention: ``dt = t_post - t_pre``.

- `stdp_window`: pairings at Δt, ``n_pairs`` at a repetition frequency (Bi & Poo 1998:
  60 pairings at 1 Hz).
- `frequency_dependence`: Sjöström, Turrigiano & Nelson (2001): 15 trains of 5 pairings at
  10-50 Hz (trains 10 s apart) and 50 pairings at 0.1 Hz (``pairing='trains'``, what was done
  to the cells), or 60 regularly spaced pairings (``pairing='regular60'``, the protocol
  Pfister & Gerstner 2006 modelled).
- `triplets`: Wang, Gerkin, Nauen & Bi (2005) pre-post-pre and post-pre-post triplets,
  60 repetitions at 1 Hz.
- `compare` / `fit`: model versus data (RMSE, χ² with the SEMs) and least-squares fits of
  chosen parameters (SciPy), with an exact event-by-event NumPy evaluation of the shipped
  rules (`event_weight_change`) as the optimiser's inner loop, verified with Brian2.
- `rate_difference`: pre- and postsynaptic Poisson rates step from a "free" to a "clamped"
  value; pair STDP then changes the weight by the Hebbian term ``r_pre r_post ∫K`` integrated
  over time plus ``r_pre Δr_post ∫τK(τ)dτ`` (Xie & Seung 2000; Bengio et al. 2015,
  arXiv:1509.05936): the contrastive, rate-difference update.

Parameter sets (``params=``): ``'bi_poo_1998'`` (pair rule, the Bi & Poo 2001 fit divided by
60 pairings) and the Pfister & Gerstner (2006) Table 4 rows (``'pfister_visual_cortex_minimal'``,
``'pfister_hippocampus_minimal'``, ..., see `parameter_sets`).

Modules: `parameters` (parameter sets, `resolve_synapse`), `stimuli` (the spike patterns and
`stdp_window`, `frequency_dependence`, `triplets`), `simulate` (`run_conditions`: a stimulus
on a synapse model, through the engine's compiled-run path), `reference` (event-by-event NumPy
reference), `compare` (`Comparison`, `compare`, data sets), `fitting` (`fit`, `FitResult`),
`rate_step` (`RateStepStimulus`, `rate_difference`). The figures are in
``brianlearn.figures.plasticity_*``.

References
----------
Bi G-Q & Poo M-M (1998) J. Neurosci. 18:10464. Bi G-Q & Poo M-M (2001) Annu. Rev. Neurosci.
24:139. Sjöström PJ, Turrigiano GG & Nelson SB (2001) Neuron 32:1149. Wang H-X, Gerkin RC,
Nauen DW & Bi G-Q (2005) Nat. Neurosci. 8:187. Pfister J-P & Gerstner W (2006) J. Neurosci.
26:9673. Xie X & Seung HS (2000) NIPS 12. Bengio Y, Mesnard T, Fischer A, Zhang S & Wu Y
(2017) Neural Comput. 29:555 (STDP as presynaptic activity times rate of change of
postsynaptic activity).
"""

from brianlearn.models.triplet_stdp_nearest import triplet_stdp_nearest

from .compare import Comparison, compare, dataset_stimulus, synthetic_window_dataset
from .fitting import FitResult, fit
from .parameters import parameter_sets, resolve_synapse
from .rate_step import RateStepStimulus, pair_kernel_moments, rate_difference
from .reference import event_weight_change, pair_sum_weight_change
from .simulate import run_conditions
from .stimuli import (WANG_TRIPLETS, FrequencyStimulus, PairingStimulus, RowsStimulus, Stimulus, TripletStimulus,
                      frequency_dependence, stdp_window, triplets)

__all__ = ["stdp_window", "frequency_dependence", "triplets", "run_conditions", "dataset_stimulus",
           "pair_sum_weight_change", "event_weight_change", "parameter_sets", "resolve_synapse",
           "Stimulus", "PairingStimulus", "FrequencyStimulus", "TripletStimulus", "RowsStimulus", "RateStepStimulus",
           "WANG_TRIPLETS", "triplet_stdp_nearest", "compare", "fit", "Comparison", "FitResult", "rate_difference",
           "pair_kernel_moments", "synthetic_window_dataset"]

# the names of 0.x before the split ("protocol" now means only a learning system / the engine's
# `Protocol`): the same objects, not listed in __all__
SpikeProtocol, PairingProtocol, FrequencyProtocol, TripletProtocol, RateStepProtocol = (
    Stimulus, PairingStimulus, FrequencyStimulus, TripletStimulus, RateStepStimulus)
dataset_protocol = dataset_stimulus
