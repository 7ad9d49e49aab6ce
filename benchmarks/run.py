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


def _time(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_demo(n_samples, devices):
    from brianlearn.protocols.demo import DemoNetwork, teacher_task

    X, Y, _ = teacher_task(n_samples, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["BRIANLEARN_CACHE"] = cache
        for device in devices:
            n = n_samples if device != "runtime" else min(n_samples, 20)
            net = DemoNetwork(device=device, seed=0, chunk_size=n)
            t_first, _ = _time(lambda: net.train(X[:n], Y[:n]))
            build = net.build_info_
            net2 = DemoNetwork(device=device, seed=0, chunk_size=n)
            t_second, _ = _time(lambda: net2.train(X[:n], Y[:n]))
            t_again, _ = _time(lambda: net2.train(X[:n], Y[:n]))
            rows.append({
                "device": device, "samples": n,
                "first run (s)": t_first,
                "compile (s)": build.seconds if build else float("nan"),
                "new object, cached build (s)": t_second,
                "same object again (s)": t_again,
                "samples/s (warm)": n / t_again,
            })
    return rows


def _systems():
    """name -> (description, make estimator, fit it on n samples, samples, simulated ms per sample)."""
    from brianlearn.datasets.images import load_digits_data
    from brianlearn.datasets.regression import two_link_arm
    from brianlearn.protocols.eqprop import EquilibriumPropagation
    from brianlearn.protocols.nsm import SpikingNSM

    digits = load_digits_data()
    digits = digits - digits.mean(axis=0)
    X, Y = two_link_arm(2000, seed=0)
    return {
        "nsm": ("SpikingNSM, 64 units, centred digits, tau = 100, dtau = 0.05",
                lambda dev: SpikingNSM(64, eta=1e-3, duration=100, dt=0.05, device=dev, seed=0, chunk_size=250),
                lambda est, n: est.fit(digits[:n]), 250, 100.0),
        "eqprop rate": ("EP rate network 2-20-2, 20 ms per sample (free 15 + nudged 5)",
                        lambda dev: EquilibriumPropagation(epochs=1, device=dev, seed=0, chunk_size=2000),
                        lambda est, n: est.fit(X[:n], Y[:n]), 2000, 20.0),
        "eqprop lif": ("EP LIF network 40-300-40, 500 ms per sample (free 300 + nudged 200)",
                       lambda dev: EquilibriumPropagation(hidden=(300,), neuron="lif", epochs=1, device=dev,
                                                          seed=0, chunk_size=100),
                       lambda est, n: est.fit(X[:n], Y[:n]), 100, 500.0),
    }


def bench_systems(devices, names=None):
    """Compile time and warm throughput of each learning system's compiled training run."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["BRIANLEARN_CACHE"] = cache
        for name, (desc, make, fit, n, ms_per_sample) in _systems().items():
            if names and name not in names:
                continue
            for device in devices:
                est = make(device)
                t_first, _ = _time(lambda: fit(est, n))
                build = est._net.build_info_ if getattr(est, "_net", None) is not None else None
                t_warm, _ = _time(lambda: fit(make(device), n))
                rows.append({"system": name, "device": device, "samples": n,
                             "compile (s)": build.seconds if build else float("nan"),
                             "first fit (s)": t_first, "warm fit (s)": t_warm,
                             "samples/s (warm)": n / t_warm,
                             "simulated s per wall s": n * ms_per_sample / 1000 / t_warm, "what": desc})
    return rows


def _table(rows):
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--samples", type=int, default=600)
    p.add_argument("--devices", nargs="+", default=["runtime", "cpp_standalone"],
                   help="devices of the demo benchmark (default: runtime cpp_standalone)")
    p.add_argument("--system-devices", nargs="+", default=["cpp_standalone"],
                   help="devices of the learning-system benchmarks (default: cpp_standalone; add cuda_standalone "
                        "on a machine with a GPU)")
    p.add_argument("--systems", nargs="*", default=None, help="only these systems (nsm, 'eqprop rate', 'eqprop lif')")
    args = p.parse_args(argv)
    rows = bench_demo(args.samples, args.devices)
    lines = ["# Benchmarks", "", f"`python benchmarks/run.py --samples {args.samples}` on {platform.node()} "
             f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
             f"{time.strftime('%Y-%m-%d')}.", "",
             "## Demo: compile once, reuse", "",
             "Demo protocol (5 inputs, 2 outputs, 840 ms trials at dt = 0.1 ms). 'first run' includes code "
             "generation and compilation into an empty build cache; 'new object, cached build' is a fresh "
             "protocol object finding the cached binary; runtime runs at most 20 samples.", ""] + _table(rows)
    systems = bench_systems(args.system_devices, args.systems)
    if systems:
        lines += ["", "## Learning systems: training throughput", "",
                  "Each fit runs its samples' phases and weight updates inside one compiled simulation. "
                  "'compile' is the first fit's compilation into an empty cache; 'warm fit' is a new estimator "
                  "finding the cached binary (code generation and the run, no compilation).", ""] + _table(systems)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
