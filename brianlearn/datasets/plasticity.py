"""
Plasticity reference data shipped with brianlearn (no download needed).

Each data set is a CSV file in ``brianlearn/datasets/data/`` whose ``#`` header lines hold
its metadata (citation, preparation, sign convention, pairing count, repetition frequency,
units). The sign convention is always ``dt = t_post - t_pre`` and weight changes are in
percent of the initial weight.

Data sets
---------
``bi_poo_1998``
    The spike-timing window of Bi & Poo (1998), J. Neurosci. 18:10464, as the published
    exponential fit (+77.7 % exp(-dt/16.8 ms), -27.3 % exp(dt/33.7 ms); 60 pairings at 1 Hz),
    evaluated at a grid of ``dt``.
``sjostrom_2001``
    Frequency dependence at dt = +10 ms and -10 ms, mean and SEM (Sjöström, Turrigiano &
    Nelson 2001, Neuron 32:1149): 15 trains of 5 pairings at 10-50 Hz, 50 pairings at 0.1 Hz.
``wang_2005``
    Spike triplets, mean and SEM (Wang, Gerkin, Nauen & Bi 2005, Nat. Neurosci. 8:187):
    60 repetitions at 1 Hz.
``pfister_gerstner_2006``
    The triplet-rule parameter sets of Pfister & Gerstner (2006), J. Neurosci. 26:9673,
    Table 4 (visual cortex and hippocampus; all-to-all and nearest-spike; full and minimal).

Examples
--------
>>> from brianlearn.datasets import plasticity
>>> table = plasticity.load('sjostrom_2001')
>>> table.columns
['frequency_hz', 'dt_ms', 'change_percent', 'sem_percent', 'n_pairings']
>>> table.meta['n_trains']
'15'
"""

import os

import numpy as np

__all__ = ["Table", "load", "as_table", "names", "path"]

_DATA = os.path.join(os.path.dirname(__file__), "data")
#: the plasticity data sets shipped in ``data/``
DATASETS = ("bi_poo_1998", "sjostrom_2001", "wang_2005", "pfister_gerstner_2006")


class Table:
    """A small column table with metadata (what `load` returns).

    Parameters
    ----------
    columns : dict
        Column name -> 1-D sequence (all of the same length). Numeric columns become float
        arrays, others arrays of str.
    meta : dict, optional
        Metadata (strings): citation, preparation, protocol, units, ...
    name : str, optional

    Attributes
    ----------
    columns : list of str
        Column names in order.
    meta : dict
    name : str
    """

    def __init__(self, columns, meta=None, name=""):
        self._data = {}
        n = None
        for key, values in columns.items():
            arr = np.asarray(values)
            if arr.ndim != 1:
                raise ValueError(f"Table column '{key}' must be 1-D, got shape {arr.shape}.")
            if n is not None and len(arr) != n:
                raise ValueError(f"Table column '{key}' has {len(arr)} rows, expected {n}.")
            n = len(arr)
            if arr.dtype.kind in "biuf":
                arr = arr.astype(float)
            elif arr.dtype.kind != "U":
                arr = arr.astype(str)
            self._data[key] = arr
        self.columns = list(self._data)
        self.meta = dict(meta or {})
        self.name = name or self.meta.get("name", "")

    def __getitem__(self, column):
        try:
            return self._data[column]
        except KeyError:
            raise KeyError(f"Table '{self.name}' has no column '{column}'; columns: {', '.join(self.columns)}.") \
                from None

    def __contains__(self, column):
        return column in self._data

    def __len__(self):
        return len(next(iter(self._data.values()))) if self._data else 0

    def units(self):
        """Column name -> unit name, from the ``units`` metadata line."""
        out = {}
        for part in self.meta.get("units", "").split(","):
            if "=" in part:
                key, unit = part.split("=", 1)
                out[key.strip()] = unit.strip()
        return out

    def quantity(self, column):
        """A column as a Brian2 quantity (``ms``, ``Hz``) or a plain array (percent, dimensionless)."""
        import brian2

        unit = self.units().get(column)
        values = self[column]
        if unit in ("ms", "Hz", "second", "s"):
            return values * getattr(brian2, {"s": "second"}.get(unit, unit))
        return values

    def rows(self):
        """The rows as a list of dicts."""
        return [{c: self._data[c][k].item() for c in self.columns} for k in range(len(self))]

    def to_pandas(self):
        """A `pandas.DataFrame` (needs pandas) with the metadata in ``.attrs``."""
        import pandas as pd

        df = pd.DataFrame({c: self._data[c] for c in self.columns})
        df.attrs.update(self.meta)
        return df

    def to_csv(self, filename):
        """Write the table (metadata as ``#`` lines) in the format `load` reads."""
        with open(filename, "w") as f:
            for key, value in self.meta.items():
                f.write(f"# {key}: {value}\n")
            f.write(",".join(self.columns) + "\n")
            for row in self.rows():
                f.write(",".join(_fmt(row[c]) for c in self.columns) + "\n")

    def __repr__(self):
        width = {c: max(len(c), *(len(_fmt(v)) for v in self._data[c])) if len(self) else len(c)
                 for c in self.columns}
        lines = [f"<Table '{self.name}': {len(self)} rows>"]
        if "citation" in self.meta:
            lines.append(self.meta["citation"][:100] + ("..." if len(self.meta["citation"]) > 100 else ""))
        lines.append("  ".join(c.rjust(width[c]) for c in self.columns))
        for k in range(len(self)):
            lines.append("  ".join(_fmt(self._data[c][k]).rjust(width[c]) for c in self.columns))
        return "\n".join(lines)


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:g}"
    return str(value)


def names():
    """Names of the shipped plasticity data sets."""
    return list(DATASETS)


def path(name):
    """The CSV file of data set ``name``."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"Unknown plasticity dataset {name!r}. Known datasets: {', '.join(DATASETS)}.")
    return os.path.join(_DATA, f"{name}.csv")


def read_csv(filename, name=""):
    """Read a CSV file with ``# key: value`` metadata lines into a `Table`."""
    meta, header, rows = {}, None, []
    with open(filename) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.startswith("#"):
                key, _, value = line[1:].partition(":")
                meta[key.strip()] = value.strip()
            elif header is None:
                header = [h.strip() for h in line.split(",")]
            else:
                rows.append([v.strip() for v in line.split(",")])
    if header is None:
        raise ValueError(f"{filename}: no header line.")
    columns = {}
    for k, col in enumerate(header):
        values = [r[k] for r in rows]
        try:
            columns[col] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:
            columns[col] = np.array(values, dtype=str)
    return Table(columns, meta, name=name or meta.get("name", os.path.splitext(os.path.basename(filename))[0]))


def load(name):
    """Load a shipped plasticity data set.

    Parameters
    ----------
    name : str
        One of ``'bi_poo_1998'``, ``'sjostrom_2001'``, ``'wang_2005'``,
        ``'pfister_gerstner_2006'``.

    Returns
    -------
    Table
        Columns (``table['dt_ms']``, ``table.columns``) and metadata (``table.meta``: citation,
        preparation, sign convention ``dt = t_post - t_pre``, pairings, frequency, units).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    return read_csv(path(name), name=name)


def as_table(dataset):
    """``dataset`` as a `Table`: a shipped data set's name (see `load`) or a `Table` (passed through).

    Raises
    ------
    ValueError
        For an unknown name or another type, listing the shipped names.
    """
    if isinstance(dataset, Table):
        return dataset
    if isinstance(dataset, str):
        return load(dataset)  # (a ValueError for unknown names)
    raise ValueError(f"dataset must be a data-set name ({', '.join(DATASETS)}) or a Table, got {dataset!r}.")
