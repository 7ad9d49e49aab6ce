"""Sweeps and model selection beyond one process (`brianlearn.sweep`, scikit-learn with joblib and Dask).

The sweep's estimator is a small rate equilibrium-propagation network (cpp_standalone) on the
two-link-arm task: two structures (4 or 8 hidden units) × two learning rates (run arguments: no
recompilation) × two seeds. The references are serial runs of the same points in this process:
the scores must be equal (the same seed gives the same binary's same result), every point must be
in the table exactly once, and each structure must compile at most once on this machine.
"""

import os
import pickle
import pickletools
import signal
import threading
import time

import numpy as np
import pytest
from brian2 import ms

from brianlearn.protocols.eqprop import EquilibriumPropagation
from brianlearn.sweep import load_spec, read_table, run_sweep, sweep_points

pytestmark = pytest.mark.cpp_standalone

SPEC = {
    "estimator": "brianlearn.EquilibriumPropagation",
    "dataset": "brianlearn.datasets.regression:regression_task",
    "dataset_params": {"n_train": 200, "n_test": 100},
    "score": "neg_mean_squared_error",
    "seeds": [0, 1],
    "fixed": {"epochs": 1, "device": "cpp_standalone"},
    "grid": {"hidden": [[4], [8]], "eta": [0.1, 0.2]},
}


def _scores(rows):
    return {r["point"]: r["score"] for r in rows}


def _check_table(path, spec):
    rows = read_table(path)
    points = [r["point"] for r in rows]
    assert sorted(points) == sorted(p["point"] for p in sweep_points(spec))  # every point, exactly once
    return rows


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The 8 points run one after another in this process (the reference)."""
    path = str(tmp_path_factory.mktemp("sweep") / "serial.csv")
    run_sweep(SPEC, path, workers=0, progress=False)
    return _check_table(path, SPEC)


def test_grid_file_is_checked(tmp_path):
    with pytest.raises(ValueError, match="missing key"):
        load_spec({"estimator": "brianlearn.EquilibriumPropagation"})
    with pytest.raises(ValueError, match="unknown key"):
        load_spec({**SPEC, "grdi": {}})
    with pytest.raises(ValueError, match="'eta' needs a non-empty list"):
        load_spec({**SPEC, "grid": {"eta": 0.1}})
    with pytest.raises(ValueError, match="cannot be imported"):
        load_spec({**SPEC, "estimator": "brianlearn.NoSuchEstimator"})
    with pytest.raises(FileNotFoundError, match="grid file"):
        load_spec(str(tmp_path / "missing.toml"))
    grid = tmp_path / "grid.toml"
    grid.write_text('estimator = "brianlearn.EquilibriumPropagation"\ndataset = "brianlearn.datasets.regression:'
                    'regression_task"\n[fixed]\nfree_duration = "2 ms"\n[grid]\neta = [0.1, 0.2]\n')
    spec = load_spec(str(grid))
    assert len(sweep_points(spec)) == 2 and spec["seeds"] == [0]


def test_serial_sweep_resumes_and_writes_each_point_once(serial, tmp_path):
    # eta is a run argument: only the two structures compile (at most once each)
    compiled = {}
    for r in serial:
        compiled[str(r["param_hidden"])] = compiled.get(str(r["param_hidden"]), 0) + r["compiled"]
    assert all(n <= 1 for n in compiled.values()), compiled
    # a second run of the same sweep on a table that holds half the points runs only the other half
    path = str(tmp_path / "half.csv")
    rows = run_sweep({**SPEC, "seeds": [0]}, path, workers=0, progress=False)
    assert len(rows) == 4
    rows = run_sweep(SPEC, path, workers=0, progress=False)
    assert len(rows) == 8 and _scores(rows) == _scores(serial)
    assert run_sweep(SPEC, path, workers=0, progress=False) == rows  # nothing left: nothing rerun


def test_plot_sweep_shows_the_mean_and_range_over_seeds(serial):
    import matplotlib
    matplotlib.use("Agg")
    from brianlearn.figures._sweep_plot import plot_sweep

    ax = plot_sweep(serial, "eta", line="hidden")
    assert len(ax.lines) == 2  # one line per structure
    for line, hidden in zip(ax.lines, ([4], [8])):
        for x, y in zip(*line.get_data()):
            ref = np.mean([r["score"] for r in serial if r["param_hidden"] == hidden and r["param_eta"] == x])
            assert y == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ValueError, match="no parameter 'lr'"):
        plot_sweep(serial, "lr")


def test_fitted_estimator_pickles_without_brian2_objects():
    from brianlearn.datasets.regression import regression_task

    Xtr, Ytr, Xte, _ = regression_task(100, 20, seed=0)
    est = EquilibriumPropagation(hidden=(4,), epochs=1, device="cpp_standalone", seed=0).fit(Xtr, Ytr)
    blob = pickle.dumps(est)
    modules = {arg.split()[0] for op, arg, _ in pickletools.genops(blob)
               if op.name in ("GLOBAL", "STACK_GLOBAL") and isinstance(arg, str)}
    strings = [arg for op, arg, _ in pickletools.genops(blob) if isinstance(arg, str)]
    assert not any(s.startswith("brian2") for s in modules | set(strings)), sorted(modules)
    assert np.array_equal(pickle.loads(blob).predict(Xte), est.predict(Xte))


def test_gridsearchcv_with_two_processes_matches_serial():
    from sklearn.model_selection import GridSearchCV

    from brianlearn.datasets.regression import regression_task

    Xtr, Ytr, _, _ = regression_task(120, 10, seed=1)
    est = EquilibriumPropagation(hidden=(), epochs=1, free_duration=4 * ms, nudged_duration=2 * ms,
                                 device="cpp_standalone", seed=0)
    grid = {"eta": [0.02, 0.2]}  # (run arguments: one binary; two points keep the test short)
    one = GridSearchCV(est, grid, cv=2, n_jobs=1, scoring="neg_mean_squared_error").fit(Xtr, Ytr)
    two = GridSearchCV(est, grid, cv=2, n_jobs=2, scoring="neg_mean_squared_error").fit(Xtr, Ytr)
    assert two.best_params_ == one.best_params_
    np.testing.assert_array_equal(two.cv_results_["mean_test_score"], one.cv_results_["mean_test_score"])


@pytest.mark.slow
def test_sweep_on_two_dask_workers_matches_serial(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        rows = run_sweep(SPEC, str(tmp_path / "dask.csv"), client=client, progress=False)
    rows = _check_table(str(tmp_path / "dask.csv"), SPEC)
    assert _scores(rows) == _scores(serial)
    assert len({r["worker"] for r in rows}) == 2  # both workers ran points
    for hidden in ([4], [8]):  # each structure compiled at most once on this machine
        assert sum(r["compiled"] for r in rows if r["param_hidden"] == hidden) <= 1


@pytest.mark.slow
def test_sweep_survives_a_killed_worker(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = str(tmp_path / "killed.csv")
    killed = []

    def kill_one(client):
        while not read_table(path):  # after the first point is written, kill a busy worker
            time.sleep(0.2)
        pids = client.run(os.getpid)
        busy = [w for w, tasks in client.processing().items() if tasks]
        pid = pids[busy[0] if busy else sorted(pids)[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        killer = threading.Thread(target=kill_one, args=(client,), daemon=True)
        killer.start()
        run_sweep(SPEC, path, client=client, progress=False)
        killer.join(timeout=5)
    assert killed, "no worker was killed: the test did not test anything"
    rows = _check_table(path, SPEC)  # every point exactly once, none lost
    assert _scores(rows) == _scores(serial)


@pytest.mark.slow
def test_cross_validate_under_the_dask_joblib_backend_matches_serial():
    distributed = pytest.importorskip("distributed")
    import joblib
    from sklearn.model_selection import cross_validate

    from brianlearn.datasets.regression import regression_task

    Xtr, Ytr, _, _ = regression_task(120, 10, seed=2)
    est = EquilibriumPropagation(hidden=(), epochs=1, free_duration=4 * ms, nudged_duration=2 * ms,
                                 device="cpp_standalone", seed=0)
    ref = cross_validate(est, Xtr, Ytr, cv=3, scoring="neg_mean_squared_error")["test_score"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_backend("dask"):
            got = cross_validate(est, Xtr, Ytr, cv=3, scoring="neg_mean_squared_error", n_jobs=-1)["test_score"]
    np.testing.assert_array_equal(got, ref)


def _travelling_estimators():
    """One small instance of every brianlearn estimator (cpp_standalone where it simulates), its data
    and a scorer."""
    from brian2 import second

    from brianlearn import AnalogNSM, ContrastiveDemo, SpikingDictionaryLearning, SpikingLCA, SpikingNSM
    from brianlearn.protocols.demo import teacher_task

    rng = np.random.default_rng(3)
    Xpos = rng.random((16, 6))
    Xnsm = rng.normal(size=(16, 5))
    D = np.abs(rng.normal(size=(4, 6)))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    Xd, Yd, _ = teacher_task(8, seed=1)
    cpp = dict(device="cpp_standalone")

    def lca_score(est, X, y=None):
        return -est.objective(X, est.transform(X))

    return {
        "ContrastiveDemo": (ContrastiveDemo(eta=4e-3 * second**2, window=4 * ms, settle=1 * ms, dt=0.5 * ms, seed=0,
                                            **cpp), Xd, Yd, None),
        "SpikingDictionaryLearning": (SpikingDictionaryLearning(n_components=4, phase_duration=20, dt=1 / 16,
                                                                chunk_size=4, seed=0, **cpp), Xpos, None, None),
        "SpikingNSM": (SpikingNSM(n_components=3, lam1=0.05, eta=0.05, duration=5, dt=0.25, chunk_size=8, seed=0,
                                  **cpp), Xnsm, None, None),
        "AnalogNSM": (AnalogNSM(n_components=3, lam1=0.05, eta=0.05, duration=5, dt=0.1, seed=0), Xnsm, None, None),
        "SpikingLCA": (SpikingLCA(D, lam=0.05, duration=5, dt=0.1, **cpp), Xpos, None, lca_score),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ContrastiveDemo", "SpikingDictionaryLearning", "SpikingNSM", "AnalogNSM",
                                  "SpikingLCA"])
def test_every_estimator_travels_to_worker_processes(name):
    """What the EP tests above check, for every other estimator: fitted, it pickles with no Brian2
    object in its state; `cross_validate` in 2 processes gives the serial run's scores exactly."""
    from sklearn.base import clone
    from sklearn.model_selection import cross_validate

    est, X, y, scoring = _travelling_estimators()[name]
    fitted = clone(est).fit(X) if y is None else clone(est).fit(X, y)
    blob = pickle.dumps(fitted)
    modules = {arg.split()[0] for op, arg, _ in pickletools.genops(blob)
               if op.name in ("GLOBAL", "STACK_GLOBAL") and isinstance(arg, str)}
    assert not any(m.startswith("brian2") for m in modules), sorted(modules)
    one = cross_validate(est, X, y, cv=2, n_jobs=1, scoring=scoring)["test_score"]
    two = cross_validate(est, X, y, cv=2, n_jobs=2, scoring=scoring)["test_score"]
    assert np.all(np.isfinite(one))
    np.testing.assert_array_equal(two, one)
