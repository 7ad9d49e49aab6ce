"""Independent fits of an experiment in worker processes (`parallel_map`)."""

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

__all__ = ["parallel_map"]


def parallel_map(fn, items, n_jobs=None):
    """``[fn(item) for item in items]``, in ``n_jobs`` fresh processes (default: one per core, at
    most one per item; 1: in this process). ``fn`` must be a module-level function and each item
    must carry everything it needs: a worker imports the modules anew (monkeypatched module
    values do not travel). Every fit seeds itself, so the results equal a serial run's."""
    items = list(items)
    n_jobs = min(len(items), n_jobs or os.cpu_count() or 1)
    if n_jobs <= 1:
        return [fn(item) for item in items]
    with ProcessPoolExecutor(n_jobs, mp_context=get_context("spawn")) as ex:
        return list(ex.map(fn, items))
