"""Dictionary learning by the two-phase spiking network on handwritten digits (Lin & Tang, MNIST experiment).

Reference: Lin & Tang (2018/2019), "Dictionary learning by dynamical neural networks",
arXiv:1805.08952 (seed 001): 50 000 MNIST digits (784 pixels, already non-negative: no channel
split) -> 512 atoms; the network's held-out objective is similar to or better than SGD's.

Here, offline: scikit-learn's 1 797 8x8 digits (64 pixels in [0, 1], each digit scaled to unit
norm), split at random (per seed) into 1 197 training, 300 validation and 300 held-out digits;
64 atoms (the paper's atoms / pixels ratio, 0.65, would give 42: 64 keeps the dictionary
complete); lam1 = 0.1 as for the patches; `N_PRESENTED` presentations of the training digits in
a random order (the same order for every learner). The network with its defaults (chosen on the
patches' validation set by `dictionary_tuning`; not re-tuned for digits), SGD (unit-norm atoms,
batch 1, its learning rate chosen on the validation digits from `SGD_ETAS`, first seed) and
scikit-learn's ``MiniBatchDictionaryLearning``; the held-out objective with codes re-solved
exactly for unit-norm atoms (the paper's surrogate). Three seeds (split, order, initial weights).

Usage: python figures/dictionary_digits.py [--device D] [--seed N] [--out DIR]
Writes figures/dictionary_digits.png and its rows of figures/RESULTS.md.
"""

import numpy as np

from brianlearn.datasets.images import load_digits_data
from brianlearn.figures._plotting import plt, save
from brianlearn.figures.dictionary_learning import atom_grid, atoms_title, compare, comparison_rows, plot_comparison
from brianlearn.results import figure_main, record_results

__all__ = ["run", "digit_sets", "plot_figure"]

# ---------------------------------------------------------------- parameters
N_ATOMS = 64
N_VAL, N_TEST = 300, 300
#: training digits presented (passes over the 1 197 training digits, in a random order)
N_PRESENTED, EVAL_EVERY = 12_000, 2_000


def digit_sets(seed):
    """Unit-norm digits: the presented training sequence, the validation and the held-out sets."""
    X = load_digits_data()
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    X = X[rng.permutation(len(X))]
    train, val, test = X[N_VAL + N_TEST:], X[:N_VAL], X[N_VAL:N_VAL + N_TEST]
    return train[rng.integers(0, len(train), N_PRESENTED)], val, test


def plot_figure(res, out, name):
    """``<out>/<name>``: `plot_comparison` on the digits and the first seed's atoms; returns the path."""
    fig, ax = plt().subplots(1, 3, figsize=(13, 3.8))
    plot_comparison(ax, res, "training digits presented", f"{N_ATOMS} atoms, 8x8 digits", symmetry=False)
    atoms = res["estimators"][0].components_
    ax[2].imshow(atom_grid(atoms, signed=False), cmap="gray_r", vmin=0, vmax=1)
    ax[2].set(title=atoms_title(atoms), xticks=[], yticks=[])
    fig.tight_layout()
    return save(fig, out, name, dpi=120)


def run(out="figures", quick=True, seed=0, device=None):
    """Train the three learners on the digits, plot ``dictionary_digits.png``, write the rows."""
    res = compare(digit_sets, [seed, seed + 1, seed + 2], "dictionary_digits", quick, device, EVAL_EVERY,
                  n_atoms=N_ATOMS)
    # ------------------------------------------------------------ figure
    path = plot_figure(res, out, "dictionary_digits.png")
    # ------------------------------------------------------------ rows
    rows = comparison_rows(res, N_PRESENTED, path, prefix="digits: ",
                           paper="similar to or better than SGD (MNIST, 512 atoms)",
                           ratio="<= 1.05 (this project's acceptance for the patches)")
    record_results("dictionary_digits", rows, folder=out,
                   title="Dictionary learning on handwritten digits (Lin & Tang 2018, MNIST experiment)",
                   command="brianlearn run dictionary")
    for r in rows:
        print(f"  {r['quantity']}: {r['measured']}")
    res.pop("estimators")
    return res


if __name__ == "__main__":
    figure_main(run, __doc__)
