"""
Speed of the engine: compile time, cached re-use, and training throughput per device.

Run ``python benchmarks/run.py [--samples N]``; writes ``benchmarks/RESULTS.md``. Timings are
wall-clock on the machine that runs it (they are not asserted in tests).
"""

import argparse
import os
import platform
import tempfile
import time

import numpy as np


def _time(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_demo(n_samples, devices):
    from brianlearn.protocols.demo import ContrastiveDemo, teacher_task

    X, Y, _ = teacher_task(n_samples, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["BRIANLEARN_CACHE"] = cache
        for device in devices:
            n = n_samples if device != "runtime" else min(n_samples, 20)
            net = ContrastiveDemo(device=device, seed=0, chunk_size=n)
            t_first, _ = _time(lambda: net.fit(X[:n], Y[:n]))
            build = net.build_info_
            net2 = ContrastiveDemo(device=device, seed=0, chunk_size=n)
            t_second, _ = _time(lambda: net2.fit(X[:n], Y[:n]))
            t_again, _ = _time(lambda: net2.fit(X[:n], Y[:n]))
            rows.append({
                "device": device, "samples": n,
                "first run (s)": t_first,
                "compile (s)": build.seconds if build else float("nan"),
                "new object, cached build (s)": t_second,
                "same object again (s)": t_again,
                "samples/s (warm)": n / t_again,
            })
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=600)
    p.add_argument("--devices", nargs="+", default=["runtime", "cpp_standalone"])
    args = p.parse_args(argv)
    rows = bench_demo(args.samples, args.devices)
    keys = list(rows[0])
    lines = ["# Benchmarks", "", f"`python benchmarks/run.py --samples {args.samples}` on {platform.node()} "
             f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
             f"{time.strftime('%Y-%m-%d')}.", "",
             "Demo protocol (5 inputs, 2 outputs, 840 ms trials at dt = 0.1 ms). 'first run' includes code "
             "generation and compilation into an empty build cache; 'new object, cached build' is a fresh "
             "protocol object finding the cached binary; runtime runs at most 20 samples.", "",
             "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
