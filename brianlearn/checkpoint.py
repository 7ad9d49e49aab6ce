"""
Checkpoint files: learned values and progress of a long run, written atomically.

A checkpoint is one ``.npz`` file: named arrays plus a JSON ``_meta`` record. The record holds
a *fingerprint* (SHA-256 of the run's data and settings), so that a checkpoint is only ever
resumed by the run that wrote it. `Protocol.run_trials` and the estimators' ``fit`` both use
these functions.
"""

import hashlib
import json
import os

import numpy as np

__all__ = ["fingerprint", "save_checkpoint", "load_checkpoint", "checkpoint_meta"]


def fingerprint(*groups, extra=None):
    """SHA-256 of named arrays (dicts ``name -> array``) and a JSON-serialisable ``extra``."""
    h = hashlib.sha256()
    for group in groups:
        for name in sorted(group):
            h.update(name.encode())
            h.update(np.ascontiguousarray(group[name], dtype=float).tobytes())
    if extra is not None:
        h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()


def save_checkpoint(path, arrays, meta):
    """Write ``arrays`` (``name -> array``) and ``meta`` (a JSON-serialisable dict) to ``path``.

    The file is written next to ``path`` first and then renamed, so an interrupted write
    never leaves a broken checkpoint.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, _meta=json.dumps(meta, default=str), **arrays)
    os.replace(tmp, path)


def load_checkpoint(path, expect=None):
    """The arrays and meta record of the checkpoint ``path``.

    ``expect`` (a dict) lists meta entries that must match, e.g. the fingerprint; a mismatch
    raises a `ValueError` saying which entry differs.
    """
    with np.load(path) as f:
        meta = json.loads(str(f["_meta"]))
        arrays = {k: f[k] for k in f.files if k != "_meta"}
    for key, want in (expect or {}).items():
        if meta.get(key) != want:
            raise ValueError(f"Checkpoint '{path}' comes from a different run: its {key} is "
                             f"{meta.get(key)!r}, this run's is {want!r}; it cannot be resumed.")
    return arrays, meta


def checkpoint_meta(path):
    """The meta record of ``path`` (``{}`` if there is no such file)."""
    if not path or not os.path.exists(path):
        return {}
    with np.load(path) as f:
        return json.loads(str(f["_meta"]))
