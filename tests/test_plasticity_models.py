"""The plasticity stimuli run the synapse models of `brianlearn.models`, looked up at call time.

An edited model (a parameter changed, or a line of its code replaced) in
``brianlearn.models.MODELS`` changes what `stdp_window` simulates; the nearest-spike triplet rule
is a model module of its own; the names of the package before the split still resolve.
"""

import numpy as np
import pytest
from brian2 import Hz, ms

import brianlearn.models
from brianlearn.models.pair_stdp import pair_stdp
from brianlearn.models.triplet_stdp import triplet_stdp
from brianlearn.protocols import plasticity as pl

DTS = [-30, -5, 5, 30] * ms
KW = dict(n_pairs=4, frequency=10 * Hz)


def _pair_reference(params):
    """Percent change per Δt from the pairwise sum over all spike pairs (no Brian2)."""
    stim = pl.PairingStimulus(DTS, **KW)
    p = dict(pair_stdp.parameters, **params)
    return np.array([100 * pl.pair_sum_weight_change(p, pre, post) for pre, post in stim.conditions()])


@pytest.mark.runtime
def test_edited_model_parameter_changes_the_simulation(monkeypatch, numpy_target):
    default = pl.stdp_window("pair_stdp", DTS, device="runtime", **KW)
    np.testing.assert_allclose(default, _pair_reference({}), rtol=0, atol=1e-7)
    monkeypatch.setitem(brianlearn.models.MODELS, "pair_stdp", pair_stdp(A_plus=0.05, tau_minus=10 * ms))
    edited = pl.stdp_window("pair_stdp", DTS, device="runtime", **KW)
    np.testing.assert_allclose(edited, _pair_reference({"A_plus": 0.05, "tau_minus": 10 * ms}), rtol=0, atol=1e-7)
    assert np.all(np.abs(edited - default) > 0.1)
    # the NumPy reference (same code, new parameters) agrees with the edited model
    np.testing.assert_allclose(pl.stdp_window("pair_stdp", DTS, engine="numpy", **KW), edited, rtol=0, atol=1e-7)


@pytest.mark.runtime
def test_replaced_line_of_model_code_changes_the_simulation(monkeypatch, numpy_target):
    doubled = pair_stdp.replace(on_post="""
        apost += A_minus
        w = clip(w + 2 * apre, w_min, w_max)
    """)
    monkeypatch.setitem(brianlearn.models.MODELS, "pair_stdp", doubled)
    got = pl.stdp_window("pair_stdp", DTS, device="runtime", **KW)
    # doubling every potentiation jump = the shipped rule with A_plus doubled (all-to-all, no clipping)
    np.testing.assert_allclose(got, _pair_reference({"A_plus": 2 * pair_stdp.parameters["A_plus"]}),
                               rtol=0, atol=1e-7)
    with pytest.raises(ValueError, match="engine='numpy' evaluates only the shipped rules"):
        pl.stdp_window("pair_stdp", DTS, engine="numpy", **KW)  # edited code is not the reference's rule


def test_nearest_spike_rule_is_a_registered_model():
    nearest = brianlearn.models.get_model("triplet_stdp_nearest")
    assert nearest is pl.triplet_stdp_nearest
    assert nearest.parameters == triplet_stdp.parameters
    assert "r1 = 1" in nearest.on_pre and "o2 = 1" in nearest.on_post
    pats = [("pre-post-pre", 5 * ms, -5 * ms), ("post-pre-post", -10 * ms, 10 * ms)]
    near = pl.triplets("triplet_stdp_nearest", pats, params="pfister_hippocampus_nearest_full", engine="numpy")
    allto = pl.triplets("triplet_stdp", pats, params="pfister_hippocampus_full", engine="numpy")
    assert not np.allclose(near, allto)
    # one spike each: no trace has summed yet, so nearest-spike = all-to-all
    assert pl.event_weight_change("triplet_nearest", {}, [0.01], [0.005]) == \
        pl.event_weight_change("triplet", {}, [0.01], [0.005])


def test_old_names_are_the_new_classes():
    assert pl.PairingProtocol is pl.PairingStimulus and pl.FrequencyProtocol is pl.FrequencyStimulus
    assert pl.TripletProtocol is pl.TripletStimulus and pl.RateStepProtocol is pl.RateStepStimulus
    assert pl.SpikeProtocol is pl.Stimulus and pl.dataset_protocol is pl.dataset_stimulus
    assert not any("Protocol" in name for name in pl.__all__)


def test_conditions_checked_at_once_equal_the_check_of_each():
    """The one-pass check (`_check_all`) against the per-condition loop (`_check_each`, the
    reference): unsorted times, empty sides, several spikes per step apart; mixed inputs
    (a quantity, a scalar) take the loop."""
    from brianlearn.protocols.plasticity import simulate

    rng = np.random.default_rng(3)
    dt = 1e-4
    conds = [(rng.permutation(np.arange(rng.integers(0, 6)) * 0.0123 + rng.uniform(0, 1e-3)),
              list(rng.choice(5000, rng.integers(1, 5), replace=False) * dt + 3e-5)) for _ in range(200)]
    fast = simulate._check_all(conds, dt)
    assert fast is not None and len(fast) == 200
    for got, want in zip(fast, simulate._check_each(conds, dt)):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and np.array_equal(g, w)
            assert np.all(np.diff(g) > 0)
    # already increasing times skip the sort: the same result; two spikes in one step still go to the loop
    ordered = [(np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))) for a, b in conds]
    for got, want in zip(simulate._check_all(ordered, dt), simulate._check_each(ordered, dt)):
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert simulate._check_all(ordered[:5] + [([0.01, 0.01 + dt / 4], [0.02])], dt) is None
    mixed = conds[:3] + [([0.01] * ms, 0.02)]
    assert simulate._check_all(mixed, dt) is None
    assert [len(p) for c in simulate._check_conditions(mixed, dt) for p in c][-2:] == [1, 1]


def test_bad_conditions_name_the_condition():
    with pytest.raises(ValueError, match=r"conditions\[0\] presynaptic spike times"):
        pl.run_conditions("pair_stdp", [([0.01, np.nan], [0.02])], engine="numpy")
    with pytest.raises(ValueError, match=r"conditions\[1\]: postsynaptic spike times must be >= 0"):
        pl.run_conditions("pair_stdp", [([0.01], [0.02]), ([0.01], [-0.02])], engine="numpy")
    with pytest.raises(ValueError, match="same time step"):
        pl.run_conditions("pair_stdp", [([0.01, 0.01001], [0.02])], engine="numpy")
    with pytest.raises(ValueError, match="noise"):
        pl.synthetic_window_dataset("pair_stdp", [10] * ms, noise=0)
