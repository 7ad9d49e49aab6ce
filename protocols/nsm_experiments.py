"""
Experiments of Pehlevan (2019), arXiv:1902.01429, with the spiking NSM of `brianlearn.protocols.nsm`:
the solver check (Fig. 2), sparse features (Fig. 3) and manifold tiling (Fig. 4).

Each function prints its numbers, writes a PNG into ``out`` and records rows in the results
table (``figures/RESULTS.md``). ``quick=True`` uses sizes that run in minutes on two cores.
"""

import os
import time

import numpy as np

__all__ = ["solver_check", "sparse_features", "manifold_tiling", "training_comparison", "orientation_selectivity",
           "bump_statistics"]

COMMAND = "brianlearn run nsm"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ---------------------------------------------------------------- Fig. 2: solver check
def solver_check(out="figures", quick=True, seed=0, device=None, ks=None, n_sets=None, duration=500, dt=0.01,
                 resets=("subtract", "zero"), record=True):
    """Error of the spiking elastic-net solver against SciPy for random problems (Fig. 2).

    Problems as in the paper (`solver_check_problems`); error ``|y - y_ref| / |y_ref|``.
    ``quick``: k in {2, 4, ..., 64} with 20 sets; otherwise k in {2, 4, ..., 256}, 100 sets.
    Returns ``{reset: {k: errors}}``.
    """
    from .nsm_solver import solver_check_problems, spiking_elastic_net

    if ks is None:
        ks = (2, 4, 8, 16, 32, 64) if quick else (2, 4, 8, 16, 32, 64, 128, 256)
    if n_sets is None:
        n_sets = 20 if quick else 100
    errors = {r: {} for r in resets}
    start = time.time()
    for k in ks:
        P = solver_check_problems(k, n_sets, seed=seed)
        for reset in resets:
            y = spiking_elastic_net(P["Wx"], P["M"], P["b"], P["alpha"], P["lam1"], P["lam2"], duration=duration,
                                    dt=dt, device=device, reset=reset)
            e = np.linalg.norm(y - P["y_ref"], axis=1) / np.linalg.norm(P["y_ref"], axis=1)
            errors[reset][k] = e
            print(f"  solver check k={k:>3} reset={reset:<8}: median error {np.median(e):.4f}, max {e.max():.4f} "
                  f"({n_sets} sets, {time.time() - start:.0f} s)", flush=True)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "nsm_solver_check.png")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    colors = {"subtract": "C0", "zero": "C3"}
    width = 0.35
    for r_i, reset in enumerate(resets):
        data = [errors[reset][k] for k in ks]
        pos = np.arange(len(ks)) + (r_i - (len(resets) - 1) / 2) * width
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True,
                        flierprops={"markersize": 2})
        for patch in bp["boxes"]:
            patch.set_facecolor(colors.get(reset, "0.7"))
            patch.set_alpha(0.6)
        ax.plot([], [], "s", color=colors.get(reset, "0.7"), label=f"reset '{reset}'" +
                (" (paper: V = 0)" if reset == "zero" else " (V -= threshold, default)"))
    ax.axhline(0.06, color="k", ls=":", lw=0.8, label="0.06 (paper: all errors below)")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(ks)), [str(k) for k in ks])
    ax.set(xlabel="k (number of neurons)", ylabel="|y - y*| / |y*|",
           title=f"Spiking elastic net vs convex solver (tau={duration}, dtau={dt}, {n_sets} sets per k)")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"  figure: {path}")
    if record:
        from brianlearn.results import record_results

        rows = []
        for reset in resets:
            allmax = max(float(errors[reset][k].max()) for k in ks)
            allmed = max(float(np.median(errors[reset][k])) for k in ks)
            acc = reset == "subtract"
            rows.append({"quantity": f"reset '{reset}': largest max error over k in {{{', '.join(map(str, ks))}}} "
                                     f"({n_sets} sets per k)", "measured": allmax,
                         "paper": "<= 0.06 (all errors 'within a few percent')",
                         **({"ok": allmax <= 0.06} if acc else {}), "figure": path})
            rows.append({"quantity": f"reset '{reset}': largest per-k median error", "measured": allmed,
                         "paper": "<= 0.02 (acceptance)", **({"ok": allmed <= 0.02} if acc else {}),
                         "figure": path})
        for k in ks:
            rows.append({"quantity": f"k = {k}: median / max error, reset 'subtract' | 'zero'",
                         "measured": " | ".join(f"{np.median(errors[r][k]):.4f} / {errors[r][k].max():.4f}"
                                                for r in resets), "paper": "-", "figure": path})
        record_results("nsm_solver_check", rows, folder=out,
                       title="NSM: spiking non-negative elastic net vs convex solver (Pehlevan 2019, Fig. 2)",
                       command=COMMAND + ("" if quick else " --full") + "  (figures/nsm_solver_check.py)")
    return errors
