"""Fig. 2 of Pehlevan (2019): error of the spiking elastic-net solver against a convex solver.

Pehlevan (2019), "A spiking neural network with local learning rules derived from nonnegative
similarity matching", arXiv:1902.01429, Fig. 2 (the solver: Tang, Lin & Davies 2017). For random
problems as in the paper (alpha = 0.3, lam1 = 0.3, lam2 = 0.1, b ~ U[0, 1], (Wx)_i ~ U[0, 5],
M = V V^T with V_ij ~ U[0, 1/sqrt(k)], accepted if |y*| > 0.01), the spiking network's output
(tau = 500, dtau = 0.01 paper units; 1 unit = 1 ms) is compared with the convex solver's minimum:
error |y - y*| / |y*|, for the subtractive reset (the default) and the paper's reset to zero.

Usage: python figures/nsm_solver_check.py [--full] [--device D] [--seed N] [--out DIR]
(quick: k in {2, 4, ..., 64}; --full: k in {2, 4, ..., 256}; 100 sets per k).
Writes figures/nsm_solver_check.png and the 'nsm_solver_check' rows of figures/RESULTS.md.
"""

import os
import time

import numpy as np

from brianlearn.figures._plotting import plt
from brianlearn.protocols.nsm import solver_check_problems, spiking_elastic_net
from brianlearn.results import figure_main, record_results, sized

__all__ = ["run"]

#: problem sizes (quick, full) and accepted problem sets per size
KS_QUICK, KS_FULL = (2, 4, 8, 16, 32, 64), (2, 4, 8, 16, 32, 64, 128, 256)
N_SETS = 100
#: the paper's simulated time and step (paper units: 1 unit = 1 ms of Brian2 time)
DURATION, DT = 500, 0.01
RESETS = ("subtract", "zero")


def _plot(errors, resets, ks, duration, dt, n_sets, path):
    """Box plots of the solver errors per k, one box per reset (medians: black lines).

    Parameters
    ----------
    errors : dict
        ``{reset: {k: array (n_sets,)}}`` of errors ``|y - y*| / |y*|``.
    resets, ks : sequence
    duration, dt : float
        Simulated time and step (paper units).
    n_sets : int
    path : str
        The PNG written.
    """
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(7.5, 4.4))
    colors = {"subtract": "C0", "zero": "C3"}
    width = 0.35
    for r_i, reset in enumerate(resets):
        data = [errors[reset][k] for k in ks]
        pos = np.arange(len(ks)) + (r_i - (len(resets) - 1) / 2) * width
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True,
                        flierprops={"markersize": 2}, medianprops={"color": "k"})
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
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot.close(fig)


def run(out="figures", quick=True, seed=0, device=None, ks=None, n_sets=N_SETS, duration=DURATION, dt=DT,
        resets=RESETS, record=True):
    """Solver errors per reset and k; returns ``{reset: {k: errors}}``.

    The quick and full runs use the same compiled networks (100 sets per k in both), so a quick
    run after a full one costs no compilation.
    """
    ks = ks or (KS_QUICK if quick else KS_FULL)
    # ---- the run
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
    os.makedirs(os.path.join(out, "results"), exist_ok=True)  # the raw errors, to redraw the figure
    np.savez(os.path.join(out, "results", sized("nsm_solver_check_errors", quick) + ".npz"),
             **{f"{r}_{k}": errors[r][k] for r in resets for k in ks})
    # ---- the figure
    path = os.path.join(out, sized("nsm_solver_check", quick) + ".png")
    _plot(errors, resets, ks, duration, dt, n_sets, path)
    print(f"  figure: {path}")
    # ---- the rows
    if record:
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
            rows.append({"quantity": f"k = {k}: median / max error per reset",
                         "measured": "; ".join(f"{r}: {np.median(errors[r][k]):.4f} / {errors[r][k].max():.4f}"
                                               for r in resets), "paper": "-", "figure": path})
        record_results(sized("nsm_solver_check", quick), rows, folder=out,
                       title="NSM: spiking non-negative elastic net vs convex solver (Pehlevan 2019, Fig. 2)",
                       command="python figures/nsm_solver_check.py" + ("" if quick else " --full"))
    return errors


if __name__ == "__main__":
    figure_main(run, __doc__)
