"""
Parameter sweeps: every point of a grid × seeds fitted and scored, on Dask, into one CSV table.

A sweep is scikit-learn model selection spread over processes or machines with the tools that
ecosystem has: each point is one ``fit`` and ``score`` of a scikit-learn estimator, run as a
task of Dask's distributed scheduler (a `distributed.LocalCluster` by default, or an existing
cluster by its address, e.g. one started on SLURM or PBS with ``dask-jobqueue``). The driver
alone writes the table, one row per finished point, so a point is written once even when the
worker that ran it died and Dask ran it again elsewhere; running the same sweep again skips the
points the table already holds.

Points that differ only in values that are run arguments of the compiled network (learning
rates, β, seeds) reuse one binary; each network structure compiles once per machine (the
build cache's folder lock, `brianlearn.buildcache`).

The grid file (TOML, or JSON with the same keys)::

    estimator = "brianlearn.EquilibriumPropagation"       # importable "module.Name" or "module:Name"
    dataset = "brianlearn.datasets.regression:regression_task"
    score = "neg_mean_squared_error"                      # a scikit-learn scorer name (default: .score)
    seed_param = "seed"                                   # the estimator parameter a seed goes to
    seeds = [0, 1, 2]

    [dataset_params]                                      # keyword arguments of the data set function
    n_train = 500
    n_test = 200

    [fixed]                                               # parameters shared by every point
    epochs = 1
    free_duration = "2 ms"                                # "number unit": a Brian2 quantity

    [grid]                                                # scikit-learn ParameterGrid
    hidden = [[4], [8]]
    eta = [0.1, 0.2]

The data set function returns ``(X_train, y_train, X_test, y_test)`` or ``(X, y)`` (then split
75/25 with the sweep's seed); unsupervised estimators get ``y=None`` from ``(X_train, X_test)``
when the function returns two arrays and ``unsupervised = true`` is set.
"""

import csv
import importlib
import json
import os
import re
import socket
import sys
import time


from .checkpoint import fingerprint

__all__ = ["load_spec", "sweep_points", "evaluate_point", "run_sweep", "read_table"]

_QUANTITY = re.compile(r"^\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*\*?\s*([A-Za-z]+\w*)\s*$")
_REQUIRED = ("estimator", "dataset")
_KNOWN = set(_REQUIRED) | {"score", "seed_param", "seeds", "dataset_params", "fixed", "grid", "unsupervised",
                           "test_size"}
#: the table's leading columns; then ``param_<name>`` per parameter, then the scores
_COLUMNS = ("point", "seed", "score", "train_score", "fit_time", "compiled", "worker", "host", "pid")


def _value(v):
    """A grid-file value: ``"2 ms"`` becomes a Brian2 quantity, lists of lists become tuples."""
    if isinstance(v, str):
        m = _QUANTITY.match(v)
        if m:
            import brian2.units as units
            unit = getattr(units, m.group(4), None)
            if unit is not None and hasattr(unit, "dim"):
                return float(m.group(1)) * unit
        return v
    if isinstance(v, list):
        return tuple(_value(x) for x in v)
    return v


def load_spec(path_or_dict):
    """Read and check a grid file (``.toml`` or ``.json``) or a dict with the same keys."""
    if isinstance(path_or_dict, dict):
        spec = dict(path_or_dict)
    else:
        path = os.fspath(path_or_dict)
        if not os.path.exists(path):
            raise FileNotFoundError(f"grid file '{path}' does not exist")
        if path.endswith(".json"):
            with open(path) as f:
                spec = json.load(f)
        else:
            import tomllib
            with open(path, "rb") as f:
                spec = tomllib.load(f)
    missing = [k for k in _REQUIRED if k not in spec]
    if missing:
        raise ValueError(f"grid file: missing key(s) {missing}; it needs 'estimator' and 'dataset'.")
    unknown = sorted(set(spec) - _KNOWN)
    if unknown:
        raise ValueError(f"grid file: unknown key(s) {unknown}; known keys: {sorted(_KNOWN)}.")
    spec.setdefault("seeds", [0])
    spec.setdefault("seed_param", "seed")
    spec.setdefault("fixed", {})
    spec.setdefault("grid", {})
    spec.setdefault("dataset_params", {})
    for name, values in spec["grid"].items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid file: grid parameter '{name}' needs a non-empty list of values, got {values!r}.")
    if not isinstance(spec["seeds"], list) or not all(isinstance(s, int) for s in spec["seeds"]):
        raise ValueError(f"grid file: 'seeds' must be a list of integers, got {spec['seeds']!r}.")
    _import(spec["estimator"], "estimator")  # (fail early, before any cluster starts)
    _import(spec["dataset"], "dataset")
    return spec


def _import(name, what):
    module, _, attr = name.rpartition(":") if ":" in name else name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as e:
        raise ValueError(f"grid file: {what} '{name}' cannot be imported ({e}); give 'package.module.Name' "
                         "or 'package.module:name'.") from None


def _point_id(params, seed):
    return fingerprint(extra={"params": params, "seed": seed})[:12]


def sweep_points(spec):
    """Every point of the sweep, in order (seeds outermost): dicts ``{'point', 'params', 'seed'}``
    (``params`` as written in the grid file, before quantities are parsed)."""
    from sklearn.model_selection import ParameterGrid

    # seeds outermost: the first points to run are different parameters (often different
    # structures, which then compile in parallel), and a sweep stopped early has every point once
    return [{"point": _point_id(params, seed), "params": dict(params), "seed": seed}
            for seed in spec["seeds"] for params in (ParameterGrid(spec["grid"]) if spec["grid"] else [{}])]


_DATA = {}


def _dataset(spec, seed):
    """The data set of a sweep (cached per worker process: points share it)."""
    key = json.dumps([spec["dataset"], spec["dataset_params"], spec.get("unsupervised", False), seed,
                      spec.get("test_size", 0.25)], sort_keys=True, default=str)
    if key not in _DATA:
        out = _import(spec["dataset"], "dataset")(**{k: _value(v) for k, v in spec["dataset_params"].items()})
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if spec.get("unsupervised"):
            if len(out) == 2:
                data = (out[0], None, out[1], None)
            else:
                from sklearn.model_selection import train_test_split
                Xtr, Xte = train_test_split(out[0], test_size=spec.get("test_size", 0.25), random_state=seed)
                data = (Xtr, None, Xte, None)
        elif len(out) == 4:
            data = out
        elif len(out) == 2:
            from sklearn.model_selection import train_test_split
            Xtr, Xte, ytr, yte = train_test_split(*out, test_size=spec.get("test_size", 0.25), random_state=seed)
            data = (Xtr, ytr, Xte, yte)
        else:
            raise ValueError(f"dataset '{spec['dataset']}' returned {len(out)} values; expected (X_train, y_train, "
                             "X_test, y_test) or (X, y).")
        _DATA.clear()
        _DATA[key] = data
    return _DATA[key]


def _worker_name():
    try:
        from distributed import get_worker
        return str(get_worker().name)
    except (ImportError, ValueError):
        return "local"


def evaluate_point(spec, point):
    """Fit and score one point (what a Dask task runs): a table row as a dict."""
    from sklearn.metrics import get_scorer

    from .buildcache import BUILD_LOG

    Xtr, ytr, Xte, yte = _dataset(spec, point["seed"])
    params = {k: _value(v) for k, v in {**spec["fixed"], **point["params"]}.items()}
    params[spec["seed_param"]] = point["seed"]
    est = _import(spec["estimator"], "estimator")().set_params(**params)
    n_builds = len(BUILD_LOG)
    start = time.time()
    est.fit(Xtr) if ytr is None else est.fit(Xtr, ytr)
    fit_time = time.time() - start
    scorer = get_scorer(spec["score"]) if spec.get("score") else None

    def score(X, y):
        if scorer is not None:
            return float(scorer(est, X, y))
        return float(est.score(X) if y is None else est.score(X, y))

    row = {"point": point["point"], "seed": point["seed"], "score": score(Xte, yte), "train_score": score(Xtr, ytr),
           "fit_time": round(fit_time, 3), "compiled": any(b.compiled for b in BUILD_LOG[n_builds:]),
           "worker": _worker_name(), "host": socket.gethostname(), "pid": os.getpid()}
    for k, v in point["params"].items():
        row[f"param_{k}"] = json.dumps(v)
    return row


def read_table(path):
    """The rows of a sweep table (a list of dicts; parameters decoded from JSON, numbers as floats)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for k, v in row.items():
            if k.startswith("param_"):
                row[k] = json.loads(v)
            elif k in ("score", "train_score", "fit_time"):
                row[k] = float(v)
            elif k in ("seed", "pid"):
                row[k] = int(v)
            elif k == "compiled":
                row[k] = v == "True"
    return rows


class _Table:
    """The sweep's CSV table, appended one row at a time by the driver (flushed and synced)."""

    def __init__(self, path, spec):
        self.path = path
        self.columns = list(_COLUMNS) + [f"param_{k}" for k in spec["grid"]]
        self.done = {row["point"] for row in read_table(path)}
        if os.path.exists(path) and self.done:
            with open(path, newline="") as f:
                header = next(csv.reader(f))
            if header != self.columns:
                raise ValueError(f"table '{path}' has columns {header}, this grid file writes {self.columns}: "
                                 "write to a new table.")

    def append(self, row):
        if row["point"] in self.done:
            return False
        new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.columns)
            if new:
                w.writeheader()
            w.writerow({k: row.get(k, "") for k in self.columns})
            f.flush()
            os.fsync(f.fileno())
        self.done.add(row["point"])
        return True


def _progress(done, total, start, n_start, stream):
    if stream is None:
        return
    elapsed = time.time() - start
    n = done - n_start
    left = (total - done) * elapsed / n if n else float("nan")
    stream.write(f"sweep: {done}/{total} points, {elapsed:.0f} s elapsed, ~{left:.0f} s left\n")
    stream.flush()


def _brian2_plugin():
    """A Dask worker plugin that imports Brian2 in each worker's main thread when the worker
    starts (Brian2's import installs a signal handler, which Python allows only there, not in
    the thread that runs tasks); restarted workers get it too."""
    from distributed import WorkerPlugin

    class ImportBrian2(WorkerPlugin):
        name = "brianlearn-import-brian2"

        def setup(self, worker):
            importlib.import_module("brian2")
            importlib.import_module("brianlearn.buildcache")

    return ImportBrian2()


def run_sweep(spec, table, client=None, workers=None, scheduler=None, progress=True):
    """Run every point of ``spec`` that ``table`` (a CSV path) does not hold yet.

    Parameters
    ----------
    spec : str or dict
        A grid file or its content (`load_spec`).
    table : str
        The CSV table; created if needed, appended to, never rewritten.
    client : distributed.Client, optional
        Run on this client's cluster.
    workers : int, optional
        Without ``client`` or ``scheduler``: the number of worker processes of a new
        `distributed.LocalCluster` (one thread each; default: the machine's cores). ``0`` runs
        the points one after another in this process, without Dask.
    scheduler : str, optional
        The address of a running Dask scheduler (``tcp://host:8786``), e.g. of a
        ``dask-jobqueue`` cluster on SLURM or PBS.
    progress : bool
        Print points done / total and the time left to stderr after each point.

    Returns
    -------
    list of dict
        Every row of the table.
    """
    spec = load_spec(spec)
    out = _Table(table, spec)
    points = sweep_points(spec)
    todo = [p for p in points if p["point"] not in out.done]
    total, n_start, start = len(points), len(points) - len(todo), time.time()
    stream = sys.stderr if progress else None
    if progress:
        stream.write(f"sweep: {total} points, {n_start} already in '{table}', {len(todo)} to run\n")
    if not todo:
        return read_table(table)
    if workers == 0 and client is None and scheduler is None:
        for p in todo:
            out.append(evaluate_point(spec, p))
            _progress(len(out.done), total, start, n_start, stream)
        return read_table(table)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ImportError("brianlearn sweeps run on Dask: pip install 'brianlearn[sweep]' "
                          "(dask[distributed]), or pass workers=0 to run serially.") from None
    own = client is None
    cluster = None
    if own:
        if scheduler is not None:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count(), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    try:
        client.register_plugin(_brian2_plugin())
        futures = [client.submit(evaluate_point, spec, p, key=f"brianlearn-point-{p['point']}", pure=False)
                   for p in todo]
        for fut in as_completed(futures):
            out.append(fut.result())
            _progress(len(out.done), total, start, n_start, stream)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    return read_table(table)
