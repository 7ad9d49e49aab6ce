"""Demo: a spiking two-phase network learns an affine map with the contrastive delta rule.

Reference: the delta-rule form of contrastive learning in nudged two-compartment neurons
(Urbanczik & Senn 2014; Mesnard, Gerstner & Brea 2016, arXiv:1612.03214). 4 spiking inputs and
a bias neuron drive two nudged LIF neurons; in the clamped phase a somatic current pulls each
output toward a teacher's target drive, and ``dw = eta (r_clamped - r_free) r_pre`` makes the
free-phase rates match the targets' rates. Writes ``demo.png`` (the README figure) and the
``demo`` rows of RESULTS.md.

Usage: python figures/demo.py [--full] [--device D] [--seed N] [--out DIR]   (or: brianlearn demo)
"""

import time

import numpy as np
from brian2 import ms, second

from brianlearn.figures._plotting import plt, save
from brianlearn.protocols.demo import ContrastiveDemo, DemoNetwork, target_rates, teacher_task
from brianlearn.results import figure_main, mean_range, record_results, sized

__all__ = ["run", "example_network"]

# ---------------------------------------------------------------- parameters
ETA = 4e-5 * second**2  # learning rate of models.contrastive_delta
WINDOW, SETTLE, DT = 400 * ms, 20 * ms, 0.1 * ms  # counting windows, settling, time step
N_TEST = 200


def example_network(quick=True, seed=0, device=None):
    """The demo network and 200 (``quick``) or 3000 teacher samples, for ``brianlearn build demo``."""
    X, Y, _ = teacher_task(200 if quick else 3000, seed=seed)
    return DemoNetwork(eta=ETA, window=WINDOW, settle=SETTLE, dt=DT, device=device, seed=seed), {"x": X, "y": Y}


def _rmse(rates, target):
    return float(np.sqrt(np.mean((rates - target) ** 2)))


def _learned(seed, n_train, device, progress):
    """Train on ``n_train`` teacher samples of ``seed``; returns the estimator, the held-out inputs,
    their target rates, the learned rates, the mean training target (Hz) and the fit's seconds."""
    X, Y, _ = teacher_task(n_train + N_TEST, seed=seed)
    est = ContrastiveDemo(eta=ETA, window=WINDOW, settle=SETTLE, dt=DT, device=device, seed=seed, progress=progress)
    start = time.time()
    est.fit(X[:n_train], Y[:n_train])
    fit_time = time.time() - start
    target = target_rates(Y[n_train:])
    mean_rate = np.broadcast_to(target_rates(Y[:n_train]).mean(axis=0), target.shape)
    return est, X[n_train:], target, est.predict(X[n_train:]), mean_rate, fit_time


def _figure(out, gap, target, before, after, quick=True):
    fig, ax = plt().subplots(1, 2, figsize=(9, 3.6))
    k = 20
    smooth = np.convolve(gap, np.ones(k) / k, mode="valid")
    ax[0].plot(gap, color="0.8", lw=0.8, label="per sample")
    ax[0].plot(np.arange(k - 1, len(gap)), smooth, color="C0", label=f"mean of {k}")
    ax[0].set(xlabel="training sample", ylabel="|r_clamped - r_free| (Hz)", title="Contrastive signal")
    ax[0].legend(frameon=False)
    lim = [min(target.min(), before.min()) - 5, max(target.max(), after.max()) + 5]
    ax[1].plot(lim, lim, "k:", lw=0.8)
    ax[1].scatter(target.ravel(), before.ravel(), s=6, color="0.6", label="before learning")
    ax[1].scatter(target.ravel(), after.ravel(), s=6, color="C3", label="after learning")
    ax[1].set(xlabel="target rate (Hz)", ylabel="free-phase rate (Hz)", title="Held-out samples")
    ax[1].legend(frameon=False)
    fig.tight_layout()
    return save(fig, out, sized("demo", quick) + ".png", dpi=120)


def run(out="figures", quick=True, seed=0, device=None, progress=True):
    """Train the demo network, print what it learned, write ``demo.png`` and the rows; return the numbers.

    ``quick``: 600 training samples (``False``: 3000); 200 held-out samples either way.
    """
    # ------------------------------------------------------------ data: a random affine teacher
    n_train = 600 if quick else 3000
    Xte = teacher_task(n_train + N_TEST, seed=seed)[0][n_train:]
    # ------------------------------------------------------------ before learning, learning, after
    untrained = DemoNetwork(eta=ETA, window=WINDOW, settle=SETTLE, dt=DT, device=device, seed=seed)
    start = time.time()
    before = untrained.predict_rates(Xte)  # the initial weights (the estimator's, with the same seed)
    first = time.time() - start  # (includes the one compilation on a standalone device)
    build = untrained.build_info_
    est, Xte, target, after, mean_rate, fit_time = _learned(seed, n_train, device, progress)
    rmse = lambda a: _rmse(a, target)  # noqa: E731
    gap = np.abs(est.history_["r_clamped"] - est.history_["r_free"]).mean(axis=1)
    n_in, n_out = est.n_features_in_, est.n_outputs_
    device_name = est._net.device_config.name
    result = {"rmse_before_hz": rmse(before), "rmse_after_hz": rmse(after), "rmse_mean_rate_hz": rmse(mean_rate), "n_train": n_train, "n_test": N_TEST,
              "device": device_name, "first_run_s": first, "fit_s": fit_time,
              "compiled": None if build is None else build.compiled, "compile_s": None if build is None else build.seconds}
    # ------------------------------------------------------------ report
    print(f"brianlearn demo on {device_name}: {n_in}+1 spiking inputs -> {n_out} nudged LIF outputs "
          "learning an affine teacher")
    if build is not None:
        print(f"  build: {'compiled in %.1f s' % build.seconds if build.compiled else 'cached binary reused'} "
              f"({build.directory})")
    print(f"  training: {n_train} samples (two phases each) in {fit_time:.1f} s")
    print(f"  free-minus-clamped rate gap: {gap[:50].mean():.1f} Hz (first 50 samples) -> "
          f"{gap[-50:].mean():.1f} Hz (last 50)")
    print(f"  output rate error on {N_TEST} held-out samples: {result['rmse_before_hz']:.1f} Hz before -> "
          f"{result['rmse_after_hz']:.1f} Hz after learning (target rates {target.min():.0f}-{target.max():.0f} Hz)")
    print("  sample  target (Hz)        predicted after learning (Hz)")
    for k in range(3):
        print(f"  {k:>6}  {np.array2string(target[k], precision=1):<18} {np.array2string(after[k], precision=1)}")
    path = _figure(out or "figures", gap, target, before, after, quick=quick)
    print(f"  figure: {path}")
    result["figure"] = path
    # ------------------------------------------------------------ two more seeds (the same binary)
    seeds = [seed, seed + 1, seed + 2]
    per_seed = [(result["rmse_after_hz"], result["rmse_mean_rate_hz"])]
    for s in seeds[1:]:
        _, _, t, a, m, _ = _learned(s, n_train, device, progress=False)
        per_seed.append((_rmse(a, t), _rmse(m, t)))
    after_s, mean_s = np.array(per_seed).T
    print(f"  seeds {seeds}: RMSE after learning {mean_range(after_s)} Hz, mean-rate prediction {mean_range(mean_s)} Hz")
    result["per_seed"] = per_seed
    record_results(sized("demo", quick), [
        {"quantity": f"output rate RMSE on {N_TEST} held-out samples, before learning (Hz; seed {seed}: the "
                     f"untrained outputs fire at {before.mean():.1f} Hz on average)",
         "measured": result["rmse_before_hz"], "paper": "-", "figure": path},
        {"quantity": "output rate RMSE of predicting every sample's rates by the mean training target (Hz; "
                     f"the error of a network that learned only the mean), mean (range) over {len(seeds)} seeds",
         "measured": mean_range(mean_s), "paper": "-", "figure": path},
        {"quantity": f"output rate RMSE after {n_train} samples of contrastive delta-rule learning (Hz), mean "
                     f"(range) over {len(seeds)} seeds",
         "measured": mean_range(after_s) + "; / mean-rate prediction's: " + ", ".join(f"{r:.2f}" for r in after_s / mean_s),
         "paper": "below the mean-rate prediction's, every seed; count resolution of a 400 ms window is 2.5 Hz",
         "ok": bool(np.all(after_s < mean_s)), "figure": path},
    ], folder=out or "figures", title="Demo: two-phase contrastive learning of an affine map", command="brianlearn demo")
    return result


if __name__ == "__main__":
    figure_main(run, __doc__)
