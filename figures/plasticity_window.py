"""Pair STDP versus the Bi & Poo (1998) window, and a fit recovering the window from noisy data.

Reference: Bi G-Q & Poo M-M (1998) J. Neurosci. 18:10464, as the exponential fit of Bi & Poo
(2001) Annu. Rev. Neurosci. 24:139: +77.7 % exp(-dt/16.8 ms) for dt = t_post - t_pre > 0,
-27.3 % exp(dt/33.7 ms) for dt < 0, after 60 pairings at 1 Hz.

Reproduces (left) the window with `pair_stdp` and the ``'bi_poo_1998'`` parameters (the fit
divided by 60 pairings), simulated with Brian2 at the data set's and a fine grid of dt; (right)
`fit` of A+, A-, tau+, tau- to a synthetic window (the model plus Gaussian noise), started
30 % off, over 20 noise seeds (NumPy event-by-event evaluation; the first fit checked with
Brian2).

Usage: python figures/plasticity_window.py [--full] [--device D] [--seed N] [--out DIR]
Writes plasticity_window.png and the 'plasticity_window' rows of RESULTS.md.
"""

import numpy as np
from brian2 import ms

from brianlearn.datasets import plasticity as datasets
from brianlearn.devices import resolve_device
from brianlearn.figures._plotting import plt, save
from brianlearn.protocols.plasticity import fit, parameter_sets, stdp_window, synthetic_window_dataset
from brianlearn.results import figure_main, record_results, sized

__all__ = ["run", "bi_poo_fit"]

# ----------------------------------------------------------------------------- parameters
SYNAPSE, PARAMS = "pair_stdp", "bi_poo_1998"
#: dt grid of the curve and of the synthetic data set (ms)
FINE_DTS_MS = np.concatenate([np.arange(-100, 0, 2.0), np.arange(2, 101, 2.0)])
#: noise of the synthetic data (sd, percentage points)
NOISE = 0.5
#: the fit's start, relative to the true values
START = {"A_plus": 1.3, "A_minus": 0.7, "tau_plus": 0.7, "tau_minus": 1.3}
#: noise realisations of the synthetic data
N_SEEDS = 20


def bi_poo_fit(dt_ms):
    """The Bi & Poo (2001) fit (percent) at ``dt_ms`` (ms)."""
    return np.where(dt_ms > 0, 77.7 * np.exp(-dt_ms / 16.8), -27.3 * np.exp(dt_ms / 33.7))


# ----------------------------------------------------------------------------- run
def run(out="figures", quick=True, seed=0, device=None, record=True):
    """Window and fit; writes ``plasticity_window.png`` (and the rows); returns the numbers."""
    table = datasets.load("bi_poo_1998")
    dts = np.concatenate([table["dt_ms"], FINE_DTS_MS])
    values = stdp_window(SYNAPSE, dts * ms, params=PARAMS, device=device)
    rel = np.abs(values / bi_poo_fit(dts) - 1.0)
    truth = parameter_sets()[PARAMS]["params"]
    names = list(START)
    start = {k: truth[k] * START[k] for k in names}
    all_errors = []
    for s in range(N_SEEDS):  # the fit's spread over noise realisations (NumPy evaluation)
        synth = synthetic_window_dataset(SYNAPSE, FINE_DTS_MS * ms, params=PARAMS, noise=NOISE, seed=seed + s)
        r = fit(SYNAPSE, synth, names, initial=start, verify=(s == 0), device=device)
        all_errors.append([abs(float(r.params[k]) / float(truth[k]) - 1.0) for k in names])
        if s == 0:
            res, synth0 = r, synth
    all_errors = np.array(all_errors)
    errors = dict(zip(names, all_errors[0]))
    frac = float(np.mean(np.all(all_errors < 0.05, axis=1)))
    print(f"pair STDP ('bi_poo_1998') versus the Bi & Poo fit at {len(dts)} dt: max relative deviation "
          f"{rel.max():.2e}")
    print(res.summary())
    path = plot(out, table, values[len(table):], rel, synth0, res, errors, quick=quick)
    print(f"fit over {N_SEEDS} noise seeds: all four parameters within 5 % in {100 * frac:.0f} % of them "
          f"(largest error {100 * all_errors.max():.1f} %)")
    if record:
        record_results(sized("plasticity_window", quick), rows(device, len(dts), rel, errors, frac, all_errors, res, path),
                       folder=out, title="Plasticity: pair STDP versus the Bi & Poo (1998) window",
                       command="python figures/plasticity_window.py")
    return {"max_rel_deviation": float(rel.max()), "fit_errors": errors, "fit": res, "figure": path,
            "fit_errors_all_seeds": all_errors, "fraction_within_5pc": frac}


# ----------------------------------------------------------------------------- plot
def plot(out, table, curve, rel, synth, res, errors, quick=True):
    """Window (left) and the fit to synthetic data (right); returns the PNG's path."""
    fig, ax = plt().subplots(1, 2, figsize=(10, 3.8))
    ax[0].plot(table["dt_ms"], table["change_percent"], "o", color="k", ms=4,
               label="Bi & Poo (2001) exponential fit, sampled")
    for side in (FINE_DTS_MS < 0, FINE_DTS_MS > 0):
        ax[0].plot(FINE_DTS_MS[side], curve[side], "-", color="C0",
                   label="pair STDP, 60 pairings at 1 Hz (Brian2)" if side[0] else None)
    ax[0].set(xlabel="dt = t_post - t_pre (ms)", ylabel="weight change (%)",
              title=f"Bi & Poo window: max deviation {100 * rel.max():.1e} %")
    ax[0].axhline(0, color="0.7", lw=0.6)
    ax[0].legend(frameon=False, fontsize=8, loc="upper left")
    ax[1].errorbar(synth["dt_ms"], synth["change_percent"], yerr=synth["sem_percent"], fmt="o", ms=3, color="0.5",
                   label=f"synthetic data (model + noise sd {NOISE} %)")
    for side in (synth["dt_ms"] < 0, synth["dt_ms"] > 0):
        ax[1].plot(synth["dt_ms"][side], res.after.model[side], "-", color="C3", zorder=3,
                   label="fitted model (Brian2)" if side[0] else None)
    ax[1].set(xlabel="dt = t_post - t_pre (ms)", ylabel="weight change (%)",
              title="fit errors: " + ", ".join(f"{short} {100 * errors[k]:.1f} %" for k, short in
                                                zip(errors, ("A+", "A-", "tau+", "tau-"))))
    ax[1].title.set_fontsize(9)
    ax[1].legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return save(fig, out, sized("plasticity_window", quick) + ".png", dpi=120)


# ----------------------------------------------------------------------------- rows
def rows(device, n_dts, rel, errors, frac, all_errors, res, path):
    """The 'plasticity_window' rows of RESULTS.md."""
    return [
        {"quantity": f"consistency check (the parameters are that fit's): pair STDP ('bi_poo_1998', 60 pairings at "
                     f"1 Hz, {resolve_device(device).name}) versus the Bi & Poo exponential fit: max relative deviation "
                     f"over {n_dts} dt values (%)",
         "measured": 100 * float(rel.max()), "paper": "within 1 %", "ok": bool(rel.max() < 0.01), "figure": path},
        {"quantity": f"fit of A+, A-, tau+, tau- to a noisy synthetic window ({len(FINE_DTS_MS)} dt, noise sd {NOISE} "
                     f"percentage points, start 30 % off; Brian2-verified): max relative error (%)",
         "measured": 100 * max(errors.values()), "paper": "within 5 %", "ok": bool(max(errors.values()) < 0.05),
         "figure": path},
        {"quantity": f"the same over {N_SEEDS} noise seeds: fits with all four within 5 % (largest error, %)",
         "measured": f"{100 * frac:.0f} % ({100 * all_errors.max():.1f} %)", "paper": "within 5 %",
         "ok": bool(frac == 1.0), "figure": path},
        {"quantity": "NumPy event-by-event evaluation versus Brian2 at the fitted window (max abs. difference, "
                     "percentage points; two implementations of the same rule)", "measured": res.verify_max_diff, "paper": "< 1e-7",
         "ok": bool(res.verify_max_diff < 1e-7), "figure": path},
    ]


if __name__ == "__main__":
    figure_main(run, __doc__)
