"""Dictionary learning: spike rasters of the input and coding neurons in both phases, before and after learning (Fig. 2).

Reference: Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks",
arXiv:1805.08952 (seed 001), Fig. 2: per input, a phase without feedback (gamma = 0: the input
neurons fire at the rates of the input, the coding neurons compute its sparse code) and a phase
with feedback (gamma = kappa: the input neurons mix in the reconstruction B a). Before learning
the reconstruction is poor and the input neurons' rates change between the phases; after
learning they change little (the reconstruction error, which drives the learning, is small).

Here: the network of `dictionary_learning` (256 atoms, 8x8 patches, lam1 = 0.1, defaults)
before and after `N_TRAIN` samples; one held-out patch; the spike trains of all 128 input and
256 coding neurons, and the mean change of the input rates between the phases |b_k - b_0|
over held-out patches (three seeds).

Usage: python figures/dictionary_rasters.py [--full] [--device D] [--seed N] [--out DIR]
"""

import numpy as np

from brianlearn.figures._plotting import plt, save
from brianlearn.figures.dictionary_learning import LAM1, N_ATOMS, patch_sets
from brianlearn.protocols.dictionary import SpikingDictionaryLearning, initial_weights
from brianlearn.protocols.dictionary_network import DictionaryNetwork, state_from_weights
from brianlearn.results import experiment_checkpoint, figure_main, mean_range, record_results, sized
from brianlearn.validation import TIME_UNIT

__all__ = ["run", "spike_trains", "plot_figure"]

# ---------------------------------------------------------------- parameters
N_TRAIN = {True: 5_000, False: 20_000}
N_SHOW = 20  # held-out patches whose rates are compared


def spike_trains(est, X, weights=None, device=None):
    """Spikes ``(t, i)`` of the input and coding neurons for the rows of ``X`` (no learning),
    and the input rates of both phases ``(b0, bk)``: the network of ``est`` (its parameters, and
    its weights unless ``weights = (F, B, H)`` is given) with spike monitors."""
    net = DictionaryNetwork(X.shape[1], est.n_components, est.kappa, est.phase_duration, est.dt,
                            record_spikes=True, device=device, seed=est.seed, chunk_size=len(X))
    net.init_state = state_from_weights(*(weights or (est.feedforward_, est.feedback_, est.inhibition_)))
    net.run_trials({"x": X}, signals={"lam1": est.lam1})
    objs = net.objects_
    trains = {name: (np.asarray(objs[f"{name}_spikes"].t / TIME_UNIT), np.asarray(objs[f"{name}_spikes"].i))
              for name in ("dl_in", "dl_code")}
    T, n_in = float(net.phase_duration / TIME_UNIT), X.shape[1]
    t, i = trains["dl_in"]
    trial, phase = (t // (2 * T)).astype(int), ((t % (2 * T)) >= T).astype(int)
    counts = np.zeros((len(X), 2, n_in))
    np.add.at(counts, (trial, phase, i), 1)
    return trains, counts[:, 0] / T, counts[:, 1] / T


def plot_figure(shown, change, T, n_in, n_train, out, filename):
    """``<out>/<filename>``: the first patch's spikes ``shown[before|after][dl_in|dl_code] = (t, i)``
    in both phases (``T`` long each; ``n_in`` input neurons: the + channels, then the - ones), titled
    with ``n_train`` and the seeds' rate changes ``change[before|after]``; returns the path."""
    fig, ax = plt().subplots(2, 2, figsize=(10, 6.8), sharex=True)
    for col, name in enumerate(("before", "after")):
        when = "before learning" if name == "before" else f"after learning ({n_train} training samples)"
        for row, group in enumerate(("dl_in", "dl_code")):
            t, i = shown[name][group]
            first = t < 2 * T
            ax[row, col].plot(t[first], i[first], "|", ms=2, color="k")
            ax[row, col].axvline(T, color="C3", lw=1)
            ax[row, col].set(ylim=(-1, (n_in if group == "dl_in" else N_ATOMS) + 1),
                             ylabel="input neuron" if group == "dl_in" else "coding neuron")
            ax[row, col].set_title(f"{when}: {'input' if group == 'dl_in' else 'coding'} neurons", fontsize=10)
        a = ax[0, col]
        a.axhline(n_in / 2 - 0.5, color="C0", lw=1, ls="--")
        halves = ((n_in / 4, f"+ channels (0-{n_in // 2 - 1})"), (3 * n_in / 4, f"- channels ({n_in // 2}-{n_in - 1})"))
        for y, text in halves:
            a.text(1.01, y, text, transform=a.get_yaxis_transform(), rotation=90, va="center", ha="left", fontsize=7,
                   color="C0")
        a.set_title(f"{a.get_title()}\nmean (range) |b_k - b_0| over {N_SHOW} held-out patches, "
                    f"{len(change[name])} seeds:\n{mean_range(change[name], '.4f')}", fontsize=10)
        ax[1, col].set(xlabel="time (paper units): gamma = 0 | gamma = kappa")
    fig.tight_layout()
    return save(fig, out, filename, dpi=120)


def run(out="figures", quick=True, seed=0, device=None):
    """Train, plot ``dictionary_rasters.png``, write the rows; return the rate changes."""
    seeds = [seed, seed + 1, seed + 2]
    change, shown = {"before": [], "after": []}, {}
    for s in seeds:
        Xtr, Xval, _ = patch_sets(N_TRAIN[quick], N_SHOW, 0, seed=100 + s)
        est = SpikingDictionaryLearning(n_components=N_ATOMS, lam1=LAM1, shuffle=False, device=device, seed=s)
        est.fit(Xtr, X_val=None, **experiment_checkpoint("dictionary_rasters", quick, s, device))
        initial = initial_weights(Xtr.shape[1], N_ATOMS, est.init, s)  # (the fit's starting weights)
        for name, w in (("before", initial), ("after", None)):
            trains, b0, bk = spike_trains(est, Xval, weights=w, device=device)
            change[name].append(float(np.mean(np.abs(bk - b0))))
            if s == seed:
                shown[name] = trains
    T = float(est.phase_duration)
    # ------------------------------------------------------------ figure
    path = plot_figure(shown, change, T, Xval.shape[1], N_TRAIN[quick], out,
                       sized("dictionary_rasters", quick) + ".png")
    # ------------------------------------------------------------ rows
    rows = [{"quantity": f"mean |b_k - b_0| of the input neurons over {N_SHOW} held-out patches, {name} "
                         f"{N_TRAIN[quick]} training samples, mean (range) over {len(seeds)} seeds",
             "measured": mean_range(change[name], '.4f'), "paper": "the feedback phase changes the inputs less after learning",
             "figure": path} for name in ("before", "after")]
    rows[1]["ok"] = bool(np.all(np.array(change["after"]) < np.array(change["before"])))
    record_results(sized("dictionary_rasters", quick), rows, folder=out,
                   title="Dictionary learning: spike rasters of both phases (Lin & Tang 2018, Fig. 2)",
                   command="brianlearn run dictionary" + ("" if quick else " --full"))
    for r in rows:
        print(f"  {r['quantity']}: {r['measured']}")
    return change


if __name__ == "__main__":
    figure_main(run, __doc__)
