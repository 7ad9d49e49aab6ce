"""
Model versus data: the stimulus of a data set, the comparison of a synapse model with it, and
synthetic data sets.

`dataset_stimulus` turns the rows of a data set (``'bi_poo_1998'``, ``'sjostrom_2001'``,
``'wang_2005'`` or a `Table` with the same columns) into a `Stimulus`, one condition per row;
`compare` runs it on a synapse model and returns a `Comparison` (RMSE, χ² with the SEMs,
points within one SEM). Plots of a comparison are in ``brianlearn.figures.plasticity_compare``.
"""

import numpy as np
from brian2 import Hz, ms, second

from brianlearn.datasets import plasticity as _data
from brianlearn.validation import check_scalar

from .parameters import resolve_synapse
from .stimuli import FrequencyStimulus, PairingStimulus, RowsStimulus, TripletStimulus, stdp_window

__all__ = ["Comparison", "compare", "dataset_stimulus", "synthetic_window_dataset", "model_label"]


def _meta_float(table, key, default):
    value = table.meta.get(key)
    return default if value in (None, "") else float(value)


def dataset_stimulus(dataset, pairing="trains"):
    """The stimulus of a data set, one condition per row (see `compare`).

    Parameters
    ----------
    dataset : str or Table
        ``'bi_poo_1998'`` (window), ``'sjostrom_2001'`` (frequency), ``'wang_2005'``
        (triplets), or a `Table` whose ``meta['protocol']`` is one of ``'window'``,
        ``'frequency'``, ``'triplets'`` with the same columns.
    pairing : {'trains', 'regular60'}
        For frequency data.

    Returns
    -------
    Stimulus
    """
    table = _data.as_table(dataset)
    kind = table.meta.get("protocol")
    if kind == "window":
        return PairingStimulus(table["dt_ms"] * ms, int(_meta_float(table, "n_pairings", 60)),
                               _meta_float(table, "frequency_hz", 1.0) * Hz)
    if kind == "frequency":
        opts = dict(n_trains=int(_meta_float(table, "n_trains", 15)),
                    pairs_per_train=int(_meta_float(table, "pairings_per_train", 5)),
                    train_interval=_meta_float(table, "train_interval_s", 10.0) * second,
                    low_frequency_pairs=int(_meta_float(table, "low_frequency_pairings", 50)))
        conds, labels = [], []
        for f, d in zip(table["frequency_hz"], table["dt_ms"]):
            stim = FrequencyStimulus([f] * Hz, [d] * ms, pairing, **opts)
            conds += stim.conditions()
            labels += stim.labels()
        return RowsStimulus(conds, labels)
    if kind == "triplets":
        patterns = [(p, d1 * ms, d2 * ms) for p, d1, d2 in zip(table["pattern"], table["dt1_ms"], table["dt2_ms"])]
        return TripletStimulus(patterns, int(_meta_float(table, "n_pairings", 60)),
                               _meta_float(table, "frequency_hz", 1.0) * Hz)
    if kind == "parameters":
        raise ValueError(f"dataset '{table.name}' holds parameter sets, not measurements: pass one of its names "
                         "as params= (see parameter_sets()).")
    raise ValueError(f"dataset '{table.name}': unknown protocol {kind!r} in its metadata "
                     "(expected 'window', 'frequency' or 'triplets').")


class Comparison:
    """Model versus data for one data set (what `compare` returns).

    Attributes
    ----------
    dataset : str
    synapse : str
        Model name and parameter-set label.
    pairing : str or None
        The pairing of frequency data.
    labels : list of str
        One per data row.
    data, sem, model : ndarray
        Percent changes (``sem`` is None when the data set has none).
    rmse : float
        Root mean square of ``model - data`` (percentage points).
    chi2 : float or None
        ``sum(((model - data) / sem)**2)``.
    n_within_sem : int or None
        Rows with ``|model - data| <= sem``.
    table : Table
        Data columns plus ``model_percent`` and ``residual_percent``.
    figure : str or None
        The PNG drawn of it, if any (set by ``brianlearn.figures.plasticity_compare``).
    """

    def __init__(self, table, labels, model_values, synapse_label, pairing=None):
        self.dataset = table.name
        self.synapse = synapse_label
        self.pairing = pairing
        self.labels = list(labels)
        self.data = np.asarray(table["change_percent"], dtype=float)
        self.sem = np.asarray(table["sem_percent"], dtype=float) if "sem_percent" in table else None
        self.model = np.asarray(model_values, dtype=float)
        resid = self.model - self.data
        self.rmse = float(np.sqrt(np.mean(resid ** 2)))
        self.chi2 = None if self.sem is None else float(np.sum((resid / self.sem) ** 2))
        self.n_within_sem = None if self.sem is None else int(np.sum(np.abs(resid) <= self.sem))
        cols = {c: table[c] for c in table.columns}
        cols["model_percent"] = self.model
        cols["residual_percent"] = resid
        self.table = _data.Table(cols, dict(table.meta), name=table.name)
        self.figure = None

    def summary(self):
        """Text: the table and the statistics."""
        lines = [f"{self.synapse} versus {self.dataset}" + (f" (pairing='{self.pairing}')" if self.pairing else "")]
        w = max(len(s) for s in self.labels)
        head = f"  {'condition':<{w}}  {'data %':>8}" + (f"  {'SEM':>6}" if self.sem is not None else "") + \
            f"  {'model %':>8}"
        lines.append(head)
        for k, lab in enumerate(self.labels):
            row = f"  {lab:<{w}}  {self.data[k]:8.1f}"
            if self.sem is not None:
                ok = abs(self.model[k] - self.data[k]) <= self.sem[k]
                row += f"  {self.sem[k]:6.1f}"
            row += f"  {self.model[k]:8.1f}"
            if self.sem is not None:
                row += "" if ok else "   (outside SEM)"
            lines.append(row)
        stats = f"  RMSE = {self.rmse:.2f} %"
        if self.sem is not None:
            stats += f", chi2 = {self.chi2:.2f} ({len(self.data)} points), within one SEM: " \
                     f"{self.n_within_sem}/{len(self.data)}"
        lines.append(stats)
        return "\n".join(lines)

    def as_dict(self):
        """The numbers as plain Python values (JSON-ready)."""
        return {"dataset": self.dataset, "synapse": self.synapse, "pairing": self.pairing, "labels": self.labels,
                "data": self.data.tolist(), "sem": None if self.sem is None else self.sem.tolist(),
                "model": self.model.tolist(), "rmse": self.rmse, "chi2": self.chi2,
                "n_within_sem": self.n_within_sem, "figure": self.figure}


def model_label(model, params):
    """``'name [set]'`` for a parameter-set name, ``'name [custom]'`` for a dict, else the name."""
    if isinstance(params, str):
        return f"{model.name} [{params}]"
    return model.name if not params else f"{model.name} [custom]"


def compare(synapse, dataset, params=None, pairing="trains", device=None, engine="brian2", dt=0.1 * ms):
    """Run the data set's stimulus on a synapse model and compare with the data.

    Parameters
    ----------
    synapse : str or SynapseModel
    dataset : str or Table
        ``'bi_poo_1998'``, ``'sjostrom_2001'``, ``'wang_2005'`` or a `Table` (see
        `dataset_stimulus`).
    params : dict or str, optional
        Parameter values or set name (default: the model's own defaults).
    pairing : {'trains', 'regular60'}
        Frequency data only.
    device, engine, dt
        See `run_conditions`.

    Returns
    -------
    Comparison
        ``.rmse``, ``.chi2`` (with the SEMs), ``.n_within_sem``, ``.table``, ``.summary()``.
        ``brianlearn.figures.plasticity_compare.plot_comparison`` draws it.
    """
    table = _data.as_table(dataset)
    model = resolve_synapse(synapse, params)
    stim = dataset_stimulus(table, pairing)
    values = stim.run(model, None, device, engine, dt)
    return Comparison(table, stim.labels(), values, model_label(model, params),
                      pairing if table.meta.get("protocol") == "frequency" else None)


def synthetic_window_dataset(synapse, dts, params=None, noise=2.0, seed=0, n_pairs=60, frequency=1 * Hz,
                             engine="numpy", device=None):
    """A window data set generated by a model plus Gaussian noise (to test `fit`).

    Parameters
    ----------
    synapse, dts, params, n_pairs, frequency, engine, device
        See `stdp_window`.
    noise : float
        Standard deviation of the noise (percentage points); also the rows' ``sem_percent``.
    seed : int

    Returns
    -------
    Table
        Like ``'bi_poo_1998'``, with ``change_percent`` = model + N(0, noise²) and
        ``sem_percent = noise``.
    """
    noise = check_scalar("noise", noise, minimum=0, strict=True)
    clean = stdp_window(synapse, dts, params=params, n_pairs=n_pairs, frequency=frequency, engine=engine,
                        device=device)
    rng = np.random.default_rng(seed)
    dts = np.atleast_1d(np.asarray(dts / ms, dtype=float))
    meta = {"name": "synthetic_window", "protocol": "window", "n_pairings": str(n_pairs),
            "frequency_hz": str(float(frequency / Hz)), "sign_convention": "dt = t_post - t_pre",
            "citation": f"synthetic: {synapse if isinstance(synapse, str) else synapse.name} [{params}] plus "
                        f"Gaussian noise (sd {noise} %, seed {seed})",
            "units": "dt_ms=ms, change_percent=percent, sem_percent=percent"}
    return _data.Table({"dt_ms": dts, "change_percent": clean + rng.normal(0, noise, len(dts)),
                        "sem_percent": np.full(len(dts), float(noise))}, meta, name="synthetic_window")
