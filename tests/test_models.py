"""
Tests of the neuron and synapse models in ``brianlearn.models`` (DESIGN.md §3).

Every simulation test compares a number simulated by Brian2 (runtime device, NumPy code
generation) with an independent reference: an analytic formula or a NumPy re-implementation
of the rule. Tolerances are tight enough that a wrong sign, factor, time constant or
ordering of trace updates makes them fail.
"""

import re

import brian2
import numpy as np
import pytest
from brian2 import (
    Hz,
    Mohm,
    Network,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    amp,
    defaultclock,
    mV,
    ms,
    nA,
    prefs,
    second,
    start_scope,
    volt,
)
from brian2.units.allunits import all_units
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

from brianlearn import models
from brianlearn.models import (
    lif,
    nudged_output,
    pair_stdp,
    perfect_if,
    rate_trace,
    static_synapse,
    triplet_stdp,
)
from brianlearn.models.lif import lif_rate
from brianlearn.models.nudged_output import nudging_factor
from brianlearn.models.pair_stdp import stdp_kernel
from brianlearn.models.perfect_if import RESETS


@pytest.fixture(autouse=True)
def runtime_numpy():
    """Runtime device, NumPy code generation, a fresh scope; restore the settings after."""
    brian2.set_device("runtime")  # other test files switch to cpp_standalone
    old_target = prefs.codegen.target
    old_dt = defaultclock.dt
    prefs.codegen.target = "numpy"
    start_scope()
    yield
    prefs.codegen.target = old_target
    defaultclock.dt = old_dt


def spike_trains(mon, n):
    """Spike times (in seconds, float arrays) of neurons 0..n-1 of a SpikeMonitor."""
    trains = mon.spike_trains()
    return [np.asarray(trains[k] / second) for k in range(n)]


# --------------------------------------------------------------------------- 1. perfect IF
@pytest.mark.runtime
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_perfect_if_constant_current_rate(reset):
    """Constant current I and threshold theta: rate I/(theta*tau) (spike count over a window)."""
    defaultclock.dt = 0.01 * ms
    tau = 0.5 * ms
    assert perfect_if.reset == RESETS["zero"]  # the paper's reset is the default (DESIGN.md §3.1)
    model = perfect_if(tau=tau).replace(reset=RESETS[reset])
    bias = np.array([0.15, 0.25, 0.35, 0.3])
    theta = np.array([1.0, 1.0, 1.0, 1.5])
    n = len(bias)
    g = model.make_group(n, "pif", variables=("bias", "theta"))
    g.bias = bias
    g.theta = theta
    g.I = bias  # start at the fixed point of dI/dt = (bias - I)/tau_s
    mon = SpikeMonitor(g)
    t_start, window = 20 * ms, 2 * second
    net = Network(g, mon)
    net.run(t_start + window, namespace={})

    expected = bias / (theta * float(tau / second))  # Hz: 300, 500, 700, 400
    np.testing.assert_array_equal(g.I[:], bias)  # the current stayed constant
    counts = np.array([np.sum((t >= float(t_start / second)) & (t < float((t_start + window) / second)))
                       for t in spike_trains(mon, n)])
    rate = counts / float(window / second)
    np.testing.assert_allclose(rate, expected, rtol=0.01)
    assert np.all(counts > 500)  # enough spikes that counting is precise to 0.2%
    np.testing.assert_array_equal(g.count[:], mon.count[:])  # the reset's spike counter
    for train, f in zip(spike_trains(mon, n), expected):
        mean_isi_rate = (len(train) - 1) / (train[-1] - train[0])
        if reset == "subtract":
            # keeps the overshoot: the mean inter-spike interval is exact up to one time step
            # over the whole run
            assert mean_isi_rate == pytest.approx(f, rel=1e-4)
        else:
            # the reset to zero loses the overshoot: never faster than the analytic rate
            assert mean_isi_rate <= f * (1 + 1e-9)
            assert mean_isi_rate == pytest.approx(f, rel=0.01)
    if reset == "subtract":
        # and the count is exact up to the one spike cut by the window ends
        assert np.all(np.abs(counts - expected * float(window / second)) <= 1)


# --------------------------------------------------------------------------- 2. LIF f-I curve
@pytest.mark.runtime
def test_lif_fI_curve_matches_analytic_rate():
    defaultclock.dt = 0.01 * ms
    params = dict(tau=10 * ms, u0=4 * mV, u_r=2 * mV, theta=20 * mV, t_ref=3 * ms, R=50 * Mohm)
    model = lif(**params)
    drives = np.array([10.0, 19.9, 20.5, 22.0, 25.0, 30.0, 40.0, 60.0]) * mV
    I_ext = (drives - params["u0"]) / params["R"]
    n = len(drives)
    g = model.make_group(n, "lif_fI")
    g.I_ext = I_ext
    mon = SpikeMonitor(g)
    net = Network(g, mon)
    T = 1.5 * second
    net.run(T, namespace={})

    expected = lif_rate(drives, params["tau"], params["theta"], params["u_r"], params["t_ref"]) / Hz
    # independent check of the reference at one point: D = 30 mV
    period = 3e-3 + 10e-3 * np.log((30 - 2) / (30 - 20))
    assert expected[5] == pytest.approx(1 / period, rel=1e-12)
    assert np.all(expected[:2] == 0)
    trains = spike_trains(mon, n)
    for D, train, f in zip(drives, trains, expected):
        if f == 0:
            assert len(train) == 0, f"drive {D} is below threshold but the neuron fired"
            continue
        assert len(train) >= 20
        # regular firing: rate = mean inter-spike interval (the first spike starts from u = 0)
        isi_rate = (len(train) - 2) / (train[-1] - train[1])
        assert isi_rate == pytest.approx(f, rel=0.01), f"drive {D}"
        # spike count over the window after the first spike (up to the one cut at the end)
        expected_count = f * (float(T / second) - train[0])
        assert abs((len(train) - 1) - expected_count) <= 1 + 0.01 * expected_count, f"drive {D}"
    np.testing.assert_array_equal(g.count[:], mon.count[:])


# --------------------------------------------------------------------------- 3. rate trace
@pytest.mark.runtime
def test_rate_trace_converges_to_firing_rate():
    defaultclock.dt = 0.02 * ms
    tau_r = 40 * ms
    params = dict(tau=10 * ms, u0=0 * mV, u_r=0 * mV, theta=20 * mV, t_ref=2 * ms, R=100 * Mohm)
    model = lif(**params).extend(rate_trace(tau_r=tau_r))
    assert model.parameters["tau_r"] == tau_r
    drives = np.array([22.0, 26.0, 35.0, 50.0]) * mV  # 28 .. 110 Hz
    n = len(drives)
    g = model.make_group(n, "lif_rate")
    g.I_ext = drives / params["R"]
    smon = SpikeMonitor(g)
    rmon = StateMonitor(g, "r", record=True)
    net = Network(g, smon, rmon)
    net.run(1.2 * second, namespace={})

    analytic = lif_rate(drives, params["tau"], params["theta"], params["u_r"], params["t_ref"]) / Hz
    t = np.asarray(rmon.t / second)
    r = np.asarray(rmon.r / Hz)
    t_late = 10 * float(tau_r / second)  # transient decays as exp(-10)
    for k, train in enumerate(spike_trains(smon, n)):
        late = train[train >= t_late]
        assert len(late) >= 10
        # measured firing rate and mean of r over the same whole number of periods
        t0, t1 = late[0], late[-1]
        measured = (len(late) - 1) / (t1 - t0)
        in_window = (t >= t0 - 1e-9) & (t < t1 - 1e-9)
        r_mean = r[k, in_window].mean()
        assert r_mean == pytest.approx(measured, rel=0.01)
        # and the analytic rate of the neuron
        assert r_mean == pytest.approx(analytic[k], rel=0.01)
        # r jumps by exactly 1/tau_r at each spike (exact integration between spikes)
        step = int(round(late[3] / float(defaultclock.dt / second)))
        decay = np.exp(-float(defaultclock.dt / tau_r))
        assert r[k, step + 1] - r[k, step] * decay == pytest.approx(1 / float(tau_r / second), rel=1e-9)


# --------------------------------------------------------------------------- 4. pair STDP
def _pairing_network(model, t_pre, t_post, name):
    """One pre and one post neuron per synapse (i == j), spikes at the given times."""
    n = len(t_pre)
    pre = SpikeGeneratorGroup(n, np.arange(n), np.asarray(t_pre) * second, name=f"{name}_src")
    post = SpikeGeneratorGroup(n, np.arange(n), np.asarray(t_post) * second, name=f"{name}_tgt")
    syn = model.make_synapses(pre, post, name, connect="i == j")
    syn.w = 1.0
    return Network(pre, post, syn), syn


PAIR_PARAMS = [
    {},
    dict(A_plus=0.01, A_minus=0.012, tau_plus=20 * ms, tau_minus=25 * ms),
]


@pytest.mark.runtime
@pytest.mark.parametrize("overrides", PAIR_PARAMS, ids=["defaults", "overridden"])
def test_pair_stdp_single_pairing_matches_kernel(overrides):
    defaultclock.dt = 0.1 * ms
    model = pair_stdp(**overrides)
    p = model.parameters
    dts = np.array([-80, -40, -20, -10, -5, -1.5, 1.5, 5, 10, 20, 40, 80]) * 1e-3  # seconds
    t_pre = 0.1 + np.zeros_like(dts)
    t_post = t_pre + dts
    net, syn = _pairing_network(model, t_pre, t_post, "pair")
    net.run(250 * ms, namespace={})

    expected = stdp_kernel(dts * second, p["A_plus"], p["A_minus"], p["tau_plus"], p["tau_minus"])
    # the kernel itself against the formula written out
    tp, tm = float(p["tau_plus"] / second), float(p["tau_minus"] / second)
    np.testing.assert_allclose(
        expected, np.where(dts > 0, p["A_plus"] * np.exp(-dts / tp), -p["A_minus"] * np.exp(dts / tm)),
        rtol=1e-12)
    np.testing.assert_allclose(syn.w[:] - 1.0, expected, rtol=0, atol=1e-9)
    assert np.all(np.sign(syn.w[:] - 1.0) == np.sign(dts))


@pytest.mark.runtime
def test_pair_stdp_60_pairings_at_1Hz():
    defaultclock.dt = 1 * ms
    model = pair_stdp
    p = model.parameters
    dts = np.array([10e-3, -10e-3, 25e-3, -25e-3])
    n_pair = 60
    # synapses 0..3: 60 pairings at 1 Hz; synapses 4..7: a single pairing
    pre_i, pre_t, post_i, post_t = [], [], [], []
    for k, d in enumerate(dts):
        for rep in range(n_pair):
            t0 = 0.1 + rep * 1.0
            pre_i.append(k), pre_t.append(t0), post_i.append(k), post_t.append(t0 + d)
        pre_i.append(k + 4), pre_t.append(0.1), post_i.append(k + 4), post_t.append(0.1 + d)
    pre = SpikeGeneratorGroup(8, pre_i, np.array(pre_t) * second, name="many_src")
    post = SpikeGeneratorGroup(8, post_i, np.array(post_t) * second, name="many_tgt")
    syn = model.make_synapses(pre, post, "many", connect="i == j")
    syn.w = 1.0
    net = Network(pre, post, syn)
    net.run(60.2 * second, namespace={})

    dw = syn.w[:] - 1.0
    single, many = dw[4:], dw[:4]
    np.testing.assert_allclose(many, n_pair * single, rtol=0.005)
    kernel = stdp_kernel(dts * second, p["A_plus"], p["A_minus"], p["tau_plus"], p["tau_minus"])
    np.testing.assert_allclose(single, kernel, rtol=0, atol=1e-9)
    np.testing.assert_allclose(many, n_pair * kernel, rtol=0.005)


# --------------------------------------------------------------------------- 5. triplet STDP
def triplet_reference(pre, post, p, w0=1.0):
    """Event-by-event all-to-all triplet rule (Pfister & Gerstner 2006), NumPy/Python.

    At a pre spike: w -= o1 * (A2- + A3- * r2), then r1 += 1, r2 += 1.
    At a post spike: w += r1 * (A2+ + A3+ * o2), then o1 += 1, o2 += 1.
    (The triplet traces r2, o2 are read before their own increment.) Simultaneous pre and
    post spikes are processed pre first (the test trains avoid them).
    """
    tau = {k: float(p[k] / second) for k in ("tau_plus", "tau_x", "tau_minus", "tau_y")}
    events = sorted([(t, 0) for t in pre] + [(t, 1) for t in post])
    r1 = r2 = o1 = o2 = 0.0
    last, w = 0.0, w0
    for t, kind in events:
        delta = t - last
        r1 *= np.exp(-delta / tau["tau_plus"])
        r2 *= np.exp(-delta / tau["tau_x"])
        o1 *= np.exp(-delta / tau["tau_minus"])
        o2 *= np.exp(-delta / tau["tau_y"])
        last = t
        if kind == 0:
            w = min(max(w - o1 * (p["A2_minus"] + p["A3_minus"] * r2), p["w_min"]), p["w_max"])
            r1 += 1
            r2 += 1
        else:
            w = min(max(w + r1 * (p["A2_plus"] + p["A3_plus"] * o2), p["w_min"]), p["w_max"])
            o1 += 1
            o2 += 1
    return w


TRIPLET_PARAMS = {
    "defaults": {},
    "all_terms": dict(A2_plus=4e-3, A3_plus=6.5e-3, A2_minus=7.1e-3, A3_minus=3e-3,
                      tau_x=80 * ms, tau_y=120 * ms),
    "clipped": dict(A2_plus=4e-2, A3_plus=6e-2, A2_minus=5e-2, A3_minus=2e-2, w_min=0.9,
                    w_max=1.1),
}


@pytest.mark.runtime
@pytest.mark.parametrize("which", list(TRIPLET_PARAMS))
def test_triplet_stdp_matches_event_reference(which):
    dt = 0.1e-3
    defaultclock.dt = dt * second
    model = triplet_stdp(**TRIPLET_PARAMS[which])
    p = model.parameters
    rng = np.random.default_rng(1234)
    trains = [
        ([0.060], [0.050, 0.070]),  # post-pre-post
        ([0.050, 0.070], [0.060]),  # pre-post-pre
    ]
    T = 1.0
    for rate_pre, rate_post in [(10, 10), (20, 30), (40, 15), (30, 50), (50, 50)]:
        steps = rng.permutation(np.arange(10, int(T / dt)))  # no pre and post in the same step
        n_pre, n_post = rng.poisson(rate_pre * T), rng.poisson(rate_post * T)
        trains.append((np.sort(steps[:n_pre]) * dt, np.sort(steps[n_pre:n_pre + n_post]) * dt))
    trains = [(np.asarray(a), np.asarray(b)) for a, b in trains]
    n = len(trains)
    pre_i = np.concatenate([np.full(len(a), k) for k, (a, b) in enumerate(trains)])
    pre_t = np.concatenate([a for a, b in trains])
    post_i = np.concatenate([np.full(len(b), k) for k, (a, b) in enumerate(trains)])
    post_t = np.concatenate([b for a, b in trains])
    pre = SpikeGeneratorGroup(n, pre_i, pre_t * second, name="tri_src")
    post = SpikeGeneratorGroup(n, post_i, post_t * second, name="tri_tgt")
    syn = model.make_synapses(pre, post, "tri", connect="i == j")
    syn.w = 1.0
    net = Network(pre, post, syn)
    net.run((T + 0.01) * second, namespace={})

    # the simulator sees spike times as whole time steps: use the same for the reference
    expected = np.array([triplet_reference(np.round(a / dt) * dt, np.round(b / dt) * dt, p)
                         for a, b in trains])
    np.testing.assert_allclose(syn.w[:], expected, rtol=0, atol=1e-9)
    assert np.all(np.abs(expected[2:] - 1) > 1e-3)  # the random trains changed the weights

    # the two triplets in closed form
    e = np.exp
    tp, tm, tx, ty = (float(p[k] / second) for k in ("tau_plus", "tau_minus", "tau_x", "tau_y"))
    post_pre_post = (-e(-0.010 / tm) * p["A2_minus"]
                     + e(-0.010 / tp) * (p["A2_plus"] + p["A3_plus"] * e(-0.020 / ty)))
    pre_post_pre = (e(-0.010 / tp) * p["A2_plus"]
                    - e(-0.010 / tm) * (p["A2_minus"] + p["A3_minus"] * e(-0.020 / tx)))
    if which != "clipped":
        np.testing.assert_allclose(syn.w[:2] - 1, [post_pre_post, pre_post_pre], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- 6. nudging factor
@pytest.mark.runtime
def test_nudging_factor_and_somatic_drive():
    defaultclock.dt = 0.1 * ms
    u0, R = 3 * mV, 80 * Mohm
    model = nudged_output(theta=1000 * volt, u0=u0, R=R)  # never fires
    I_dend = np.array([10.0, 10.0, 25.0, -5.0, 0.0, 0.0, 15.0, 4.0]) * mV
    I_nudge = np.array([0.0, 0.1, 0.05, 0.2, 0.0, 0.3, 1e-3, 0.0]) * nA
    n = len(I_dend)
    g = model.make_group(n, "nudge")
    g.I_dend = I_dend
    g.I_nudge = I_nudge

    RI = np.asarray(R * I_nudge / volt)
    lam_ref = nudging_factor(RI, np.asarray(I_dend / volt))
    lam = np.asarray(g.lam[:])
    free = I_nudge == 0 * amp
    assert np.all(lam[free] == 0.0)  # exactly 0 in the free phase
    np.testing.assert_allclose(lam[~free], lam_ref[~free], rtol=1e-6, atol=0)
    # reference at one point written out: R I = 8 mV, I_dend = 10 mV
    assert lam[1] == pytest.approx(8 / 18, rel=1e-6)
    assert lam[3] == pytest.approx(1.0, rel=1e-6)  # negative dendritic input is clipped

    net = Network(g)
    net.run(40 * float(model.parameters["tau"] / ms) * ms, namespace={})
    u_inf = np.asarray(u0 / volt) + (1 - lam_ref) * np.asarray(I_dend / volt) + lam_ref * RI
    np.testing.assert_allclose(g.u[:] / volt, u_inf, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(g.count[:], 0)


# --------------------------------------------------------------------------- 7. validation
@pytest.mark.runtime
def test_parameter_override_validation():
    with pytest.raises(ValueError, match=r"'lif'.*'tau'.*units of second\b"):
        lif(tau=5 * mV)
    with pytest.raises(ValueError, match=r"'lif'.*unknown parameter 'foo'"):
        lif(foo=1)
    with pytest.raises(ValueError, match=r"'lif'.*'tau'.*positive"):
        lif(tau=-1 * ms)
    with pytest.raises(ValueError, match=r"'theta'.*finite"):
        lif(theta=np.inf * mV)
    with pytest.raises(ValueError, match=r"'perfect_if'.*'theta'"):
        perfect_if(theta=1 * mV)  # dimensionless parameter given a unit
    ok = lif(tau=20 * ms)
    assert ok.parameters["tau"] == 20 * ms and lif.parameters["tau"] == 15 * ms  # a copy


@pytest.mark.runtime
def test_code_replacement_validation():
    with pytest.raises(ValueError, match=r"'lif'.*reset.*'x'"):
        lif.replace(reset="u = u_r\nx += 1")
    # a temporary variable assigned with '=' is fine
    lif.replace(reset="tmp = u_r\nu = tmp\ncount += 1")
    # threshold and reset use 'u', which the new equations no longer define
    with pytest.raises(ValueError, match=r"'lif'.*'u'"):
        lif.replace(equations="dv/dt = -v/tau : volt")
    # the equations define u but not 'count', which the reset increments
    with pytest.raises(ValueError, match=r"'lif'.*reset.*'count'"):
        lif.replace(equations="du/dt = -u/tau : volt")
    lif.replace(equations="du/dt = -u/tau : volt", reset="u = u_r")  # theta is a parameter: OK
    with pytest.raises(ValueError, match=r"'lif'.*equation for 'u'.*units"):
        lif.replace(equations="du/dt = -u : volt")
    with pytest.raises(ValueError, match=r"'lif'.*threshold.*units"):
        lif.replace(threshold="u > tau")
    with pytest.raises(ValueError, match=r"'lif'.*reset.*units"):
        lif.replace(reset="u = t_ref")
    with pytest.raises(ValueError, match=r"'lif'.*cannot replace 'foo'"):
        lif.replace(foo="x")
    with pytest.raises(ValueError, match=r"'pair_stdp'.*weight variable 'w'"):
        pair_stdp.replace(model="x : 1")
    with pytest.raises(ValueError, match=r"'pair_stdp'.*on_pre.*units"):
        pair_stdp.replace(on_pre="apre += tau_plus")
    # synapse code whose '_post' names are only checked against the groups later
    with pytest.raises(ValueError, match=r"'static_synapse'.*on_pre.*'x'"):
        static_synapse.replace(on_pre="I_post += w\nx += 1")
    with pytest.raises(ValueError, match=r"'static_synapse'.*on_pre.*'y'"):
        static_synapse.replace(on_pre="I_post += w + y")
    with pytest.raises(ValueError, match=r"'static_synapse'.*on_pre.*cannot parse"):
        static_synapse.replace(on_pre="I_post += w\nfoo bar")
    static_synapse.replace(on_pre="x = 2 * w\nI_post += x")  # a temporary variable


@pytest.mark.runtime
def test_synapse_target_validation():
    src = lif.make_group(2, "val_src")
    tgt = lif.make_group(2, "val_tgt")
    syn_model = pair_stdp.replace(on_pre="foo_post += w\napre += A_plus")
    with pytest.raises(ValueError, match=r"'pair_stdp'.*'foo'"):
        syn_model.make_synapses(src, tgt, "val_syn")
    # a target variable with the wrong units
    with pytest.raises(ValueError, match=r"'pair_stdp'.*units"):
        pair_stdp.replace(on_pre="I_syn_post += w").make_synapses(src, tgt, "val_syn2")
    # ... and the right ones
    syn = pair_stdp.replace(on_pre="I_syn_post += w * mV").make_synapses(src, tgt, "val_syn3")
    assert len(syn) == 4
    # and the validated code runs: both sources fire in the first step, each adds w * mV
    defaultclock.dt = 0.1 * ms
    syn.w = 1.5
    src.I_ext = 1 * amp
    Network(src, tgt, syn).run(0.1 * ms, namespace={})
    np.testing.assert_array_equal(src.count[:], 1)
    np.testing.assert_allclose(tgt.I_syn[:] / mV, 3.0, rtol=1e-12)


@pytest.mark.runtime
def test_synapse_code_with_temporary_variable_runs():
    """'x = 2*w; I_post += x' (validated before the groups are known) onto perfect_if."""
    defaultclock.dt = 0.1 * ms
    src = SpikeGeneratorGroup(3, [0, 1, 2, 2], [0.5, 0.5, 0.5, 1.5] * ms, name="tmp_src")
    tgt = perfect_if(tau_s=1000 * second).make_group(2, "tmp_tgt")
    syn = static_synapse.replace(on_pre="x = 2 * w\nI_post += x").make_synapses(src, tgt, "tmp_syn")
    syn.w = "0.1 * (i + 1) * (j + 1)"
    Network(src, tgt, syn).run(2 * ms, namespace={})
    # target j receives 2*w from sources 0, 1 and twice from 2: 2*0.1*(j+1)*(1 + 2 + 3 + 3)
    expected = 2 * 0.1 * np.array([1, 2]) * 9  # (tau_s = 1000 s: decay below 1e-5)
    np.testing.assert_allclose(tgt.I[:], expected, rtol=1e-4)


# --------------------------------------------------------------------------- 8. describe()
def _parse_quantity(text):
    """'15. ms' -> 15*ms, '100. ms^2' -> 0.1*second**2, '0.0071' -> 0.0071."""
    number, _, unit = text.strip().partition(" ")
    value = float(number)
    if not unit:
        return value
    names = {str(u): u for u in all_units}  # 'ms', 'mV', 'V', 'pV', 'Mohm', ...
    return value * eval(unit.replace("^", "**"), {"__builtins__": {}}, names)


@pytest.mark.runtime
@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_describe_lists_parameters_with_units(name):
    model = models.MODELS[name]
    text = model.describe()
    assert name in text
    lines = text.split("parameters:")[1].strip("\n").splitlines()
    listed = {}
    for line in lines:
        m = re.match(r"^\s+(\w+)\s+= (.+)$", line)
        assert m, line
        listed[m.group(1)] = m.group(2)
    assert set(listed) == set(model.parameters)
    for key, value in model.parameters.items():
        shown = _parse_quantity(listed[key])
        dim = get_dimensions(value)
        assert get_dimensions(shown) is dim, f"{key}: {listed[key]}"
        if dim is not DIMENSIONLESS:
            assert re.search(r"[A-Za-z]", listed[key]), f"{key} shown without its unit"
        assert float(np.asarray(shown)) == pytest.approx(float(np.asarray(value)), rel=1e-6, abs=0)
    # a dimensional parameter of a neuron model shows a unit string
    if name == "lif":
        assert re.search(r"tau\s+= 15\. ms", text) and re.search(r"theta\s+= 20\. mV", text)


def test_neuron_model_update_statements_are_checked_and_shown():
    """A neuron's end-of-trial learning statements (NSM's homeostatic threshold) live in its model."""
    from brianlearn.models import nsm_neuron

    assert "Mii += y*y - Mii" in nsm_neuron.describe()
    with pytest.raises(ValueError, match="nsm_neuron.*update"):
        nsm_neuron.replace(update="Mii += zz * y")
