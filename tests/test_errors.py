"""Every error the core promises: raised early, with a message naming what is wrong."""

import numpy as np
import pytest
from brian2 import NeuronGroup, mV, ms

import brianlearn
import brianlearn.devices as devices
from brianlearn import Phase, Protocol, Schedule, use_device
from brianlearn.protocols.demo import DemoNetwork


def test_unknown_device():
    with pytest.raises(ValueError, match="Unknown device 'gpu'.*runtime, cpp_standalone, cuda_standalone"):
        use_device("gpu")
    with pytest.raises(ValueError, match="Unknown device"):
        DemoNetwork(device="cpp")


def test_no_cxx_compiler(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(brianlearn.CompilerNotFoundError, match="no C\\+\\+ compiler.*device='runtime'"):
        use_device("cpp_standalone")
    use_device("runtime")  # runtime needs no compiler


def test_a_remembered_compiler_that_is_removed_is_not_found(monkeypatch, tmp_path):
    """`find_cxx` remembers what it found for one $CXX and $PATH, but only while the file exists."""
    fake = tmp_path / "c++"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    assert devices.find_cxx() == str(fake)
    fake.unlink()
    assert devices.find_cxx() is None
    with pytest.raises(brianlearn.CompilerNotFoundError):
        use_device("cpp_standalone")
    use_device("runtime")


def test_cxx_from_environment_that_does_not_exist(monkeypatch):
    monkeypatch.setenv("CXX", "/nonexistent/g++")
    with pytest.raises(brianlearn.CompilerNotFoundError):
        DemoNetwork(device="cpp_standalone")


def test_brian2cuda_not_installed(monkeypatch):
    monkeypatch.setattr(devices, "brian2cuda_installed", lambda: False)
    with pytest.raises(brianlearn.CUDANotAvailableError, match="brian2cuda.*pip install 'brianlearn\\[cuda\\]'"):
        use_device("cuda_standalone")


def test_cuda_without_gpu_explains_compile_only(monkeypatch):
    monkeypatch.setattr(devices, "brian2cuda_installed", lambda: True)
    monkeypatch.setattr(devices, "gpu_available", lambda: False)
    with pytest.raises(brianlearn.CUDANotAvailableError, match="compile_only=True.*detect_gpus = False"):
        use_device("cuda_standalone")
    assert use_device("cuda_standalone", compile_only=True).compile_only


def test_bad_threads():
    with pytest.raises(ValueError, match="threads"):
        use_device("cpp_standalone", threads=-1)


@pytest.mark.parametrize("kwds, message", [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"chunk_size": 0}, "chunk_size")])
def test_bad_protocol_arguments(kwds, message):
    with pytest.raises(ValueError, match=message):
        DemoNetwork(device="runtime", **kwds)


@pytest.mark.parametrize("X, Y, message", [
    (np.ones((5, 3)), np.ones((5, 2)), r"x must have shape \(n, 4\), got \(5, 3\)"),
    (np.ones(5), np.ones((5, 2)), "x must be a 2-D array"),
    (np.ones((5, 4)), np.ones((6, 2)), "same number of samples"),
    (np.full((5, 4), np.nan), np.ones((5, 2)), "x contains NaN"),
    (np.ones((0, 4)), np.ones((0, 2)), "empty"),
    ([["a"] * 4], np.ones((1, 2)), "numeric"),
])
def test_bad_data(X, Y, message):
    with pytest.raises(ValueError, match=message):
        DemoNetwork(device="runtime").train(X, Y)


def test_unknown_data_set_and_signal():
    p = DemoNetwork(device="runtime")
    with pytest.raises(ValueError, match="Unknown data set"):
        p.run_trials({"x": np.ones((2, 4)), "y": np.ones((2, 2)), "z": np.ones((2, 1))})
    with pytest.raises(ValueError, match="Unknown trial signal"):
        p.run_trials({"x": np.ones((2, 4)), "y": np.ones((2, 2))}, signals={"eta": 1.0})
    with pytest.raises(ValueError, match="signal 'lr' contains NaN"):
        p.run_trials({"x": np.ones((2, 4)), "y": np.ones((2, 2))}, signals={"lr": np.nan})


@pytest.mark.parametrize("phases, dt, message", [
    ([], 0.1 * ms, "at least one phase"),
    ([Phase("a", 1 * ms), Phase("a", 1 * ms)], 0.1 * ms, "unique"),
    ([Phase("a", 0.25 * ms)], 0.1 * ms, "multiple of dt"),
    ([Phase("a", -1 * ms)], 0.1 * ms, "positive multiple"),
    ([Phase("a", 1 * mV)], 0.1 * ms, "must be a time"),
    ([Phase("a", 1 * ms)], -0.1 * ms, "dt must be a positive time"),
    ([Phase("a", 1 * ms, {"g": 1.0}), Phase("b", 1 * ms, {"g": 1 * mV})], 0.1 * ms, "inconsistent units"),
    ([Phase("a", 1 * ms, {"g": np.nan})], 0.1 * ms, "finite"),
    ([Phase("a b", 1 * ms)], 0.1 * ms, "identifier"),
])
def test_bad_schedule(phases, dt, message):
    with pytest.raises(ValueError, match=message):
        Schedule(phases, dt=dt)


class _Bad(Protocol):
    """Protocols with mistakes in build_network."""

    def __init__(self, mistake, **kwds):
        super().__init__(**kwds)
        self.mistake = mistake
        self.schedule = Schedule([Phase("a", 1 * ms)], dt=0.1 * ms)

    def initial_state(self, rng):
        return {"g.w": np.ones(2 if self.mistake != "size" else 3)}

    def build_network(self, b):
        g = NeuronGroup(2, "w : 1\nv : 1", namespace={"theta": 1.0}, clock=b.clock, name="g")
        b.add(g)
        if self.mistake == "parameter":
            b.on_trial_start(g, "theta = 2")
        b.learn(g, "w")
        if self.mistake == "variable":
            b.learn(g, "nope")
        if self.mistake == "division":
            b.trial_signal("lr", ended=True)
            b.on_trial_end(g, "v = v + 1  # fine\nw = w * (1 + 0.1 / (2 * trial_lr_ended(t)))")


@pytest.mark.runtime
def test_assigning_to_a_parameter_is_refused():
    with pytest.raises(ValueError, match="assigns to 'theta', which is a parameter.*variables=\\('theta',\\)"):
        _Bad("parameter", device="runtime").run_trials(n_trials=1)


@pytest.mark.runtime
def test_learning_an_unknown_variable_is_refused():
    with pytest.raises(ValueError, match="'g' has no variable 'nope'"):
        _Bad("variable", device="runtime").run_trials(n_trials=1)


@pytest.mark.runtime
def test_end_of_trial_division_by_an_ended_signal_is_refused():
    """The gated code is evaluated at t = 0, where every *_ended signal is 0."""
    with pytest.raises(ValueError, match="divides by 'trial_lr_ended\\(...\\)' in 'w = w \\* .*t = 0"):
        bad = _Bad("division", device="runtime")
        bad.trial_signal_defaults = {"lr": 1.0}
        bad.run_trials(n_trials=1)


@pytest.mark.cpp_standalone
def test_wrongly_sized_learned_state_is_refused():
    with pytest.raises(ValueError, match="'g.w' needs 2 values, got 3"):
        _Bad("size", device="cpp_standalone").run_trials(n_trials=1)


class _Misdeclared(Protocol):
    """6 synapses (2 x 3, all to all) learned with a declared size of 4."""

    name = "misdeclared_synapses"

    def __init__(self, **kwds):
        super().__init__(**kwds)
        self.schedule = Schedule([Phase("a", 0.5 * ms)], dt=0.1 * ms)

    def initial_state(self, rng):
        return {"s.w": np.arange(4.0)}

    def build_network(self, b):
        from brian2 import Synapses

        pre = NeuronGroup(2, "v : 1", clock=b.clock, name="pre")
        post = NeuronGroup(3, "v : 1", clock=b.clock, name="post")
        s = Synapses(pre, post, "w : 1", clock=b.clock, name="s")
        s.connect()
        b.add(pre, post, s)
        b.learn(s, "w", size=4)


@pytest.mark.parametrize("device", [pytest.param("runtime", marks=pytest.mark.runtime),
                                    pytest.param("cpp_standalone", marks=pytest.mark.cpp_standalone)])
def test_learned_synapses_of_the_wrong_declared_size_are_refused(device):
    """The binary alone would print an error and return defaults (``[2, 3, 4, 5, 2, 2]`` once)."""
    with pytest.raises(ValueError, match="'s.w' was declared with size=4.*'s' has 6 values of 'w'"):
        _Misdeclared(device=device).run_trials(n_trials=1)


def test_protocol_without_data_needs_n_trials():
    with pytest.raises(ValueError, match="give n_trials"):
        _Bad("none", device="runtime").run_trials()


def test_negative_durations_in_models():
    from brianlearn.models import lif

    with pytest.raises(ValueError, match="'lif'.*'t_ref' must not be negative"):
        lif(t_ref=-1 * ms)
    with pytest.raises(ValueError, match="'lif'.*'tau' must be positive"):
        lif(tau=0 * ms)


@pytest.mark.runtime
def test_time_and_voltage_parameters_can_become_variables():
    from brian2 import NeuronGroup

    from brianlearn.models import lif, pair_stdp

    g = lif.make_group(2, "g_vars", variables=("tau", "theta"))
    assert "tau" in g.variables and "theta" in g.variables
    np.testing.assert_allclose(np.asarray(g.tau), 0.015)
    pre = NeuronGroup(1, "v : 1", threshold="False", name="pre_vars")
    s = pair_stdp.make_synapses(pre, g, "s_vars", variables=("tau_plus",))
    assert s.variables["tau_plus"].dim is ms.dim
