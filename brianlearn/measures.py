"""
Measures of learned networks, shared by the tests and the experiments (NumPy only).

- `nsm_cost`: the similarity-matching cost of outputs for inputs (Pehlevan 2019, eq. 1);
- `elastic_net_objective`: the per-sample objective ``h`` the NSM / LCA networks minimise;
- `sparse_coding_objective`: the LASSO objective of codes for a dictionary (LCA, dictionary learning);
- `heldout_objective`: that objective with codes re-solved by a convex solver for unit-norm atoms
  (the surrogate objective by which Lin & Tang compare dictionaries);
- `consistency`, `weight_symmetry`: how close the dictionary network's ``H`` is to ``FB`` and
  ``F^T`` to ``B``;
- `orientation_selectivity`, `spatial_spread`, `feature_centres`: shape of image filters (rows of ``W``);
- `orientation_coverage`, `position_coverage`, `distinct_fraction`: whether a set of filters spans
  orientations and positions and differs (what one repeated texture fails);
- `bump_statistics`: tuning curves over a circular variable (manifold tiling);
- `mean_cosine`: mean cosine similarity between distinct features.

This module imports nothing from ``brianlearn.models``, ``brianlearn.protocols`` or
``brianlearn.figures``.
"""

import numpy as np

__all__ = ["nsm_cost", "elastic_net_objective", "sparse_coding_objective", "heldout_objective", "consistency",
           "weight_symmetry", "orientation_selectivity", "spatial_spread", "feature_centres", "orientation_coverage",
           "position_coverage", "distinct_fraction", "bump_statistics", "mean_cosine"]


def nsm_cost(X, Y, alpha=0.0, lam1=0.0, lam2=0.0):
    """The non-negative similarity matching cost of outputs ``Y`` for inputs ``X``.

    Pehlevan (2019), arXiv:1902.01429, eq. 1::

        1/(2T^2) |X X^T - Y Y^T - alpha^2|_F^2 + 2 lam1/T sum|Y| + lam2/T |Y|_F^2

    Parameters
    ----------
    X : array (T, n)
        Inputs.
    Y : array (T, k)
        Outputs.
    alpha, lam1, lam2 : float
        Cost parameters.

    Returns
    -------
    float
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    T = len(X)
    D = X @ X.T - Y @ Y.T - alpha ** 2
    return float(np.sum(D * D) / (2 * T * T) + 2 * lam1 / T * np.sum(np.abs(Y)) + lam2 / T * np.sum(Y * Y))


def elastic_net_objective(y, Wx, M, b, alpha, lam1, lam2):
    """The non-negative elastic-net objective ``h(y)`` of one problem or a batch.

    ``h(y) = -2 y.(Wx - alpha b) + y.M y + 2 lam1 |y|_1 + lam2 |y|^2`` (Pehlevan 2019, eq. 3-5).

    Parameters
    ----------
    y, Wx, b : array (k,) or (n_problems, k)
        Outputs, feed-forward inputs and biases (a row per problem).
    M : array (k, k) or (n_problems, k, k)
        Lateral matrix.
    alpha, lam1, lam2 : float

    Returns
    -------
    array (n_problems,)
    """
    y, Wx, b = np.atleast_2d(y), np.atleast_2d(Wx), np.atleast_2d(b)
    My = np.einsum("...ij,...j->...i", M, y)
    return (-2 * np.sum(y * (Wx - alpha * b), -1) + np.sum(y * My, -1) + 2 * lam1 * np.sum(np.abs(y), -1)
            + lam2 * np.sum(y * y, -1))


def sparse_coding_objective(X, A, dictionary, lam):
    """Mean over samples of ``1/2 |x - a D|^2 + lam |a|_1``: the objective of sparse coding.

    Tang, Lin & Davies (2017), arXiv:1705.05475 (the LASSO the spiking LCA solves); Lin & Tang
    (2018), arXiv:1805.08952 (the dictionary-learning objective without its weight decay).

    Parameters
    ----------
    X : array (n_samples, n_features)
    A : array (n_samples, n_atoms)
        Codes; the reconstruction is ``A @ dictionary``.
    dictionary : array (n_atoms, n_features)
        Atoms as rows.
    lam : float

    Returns
    -------
    float
    """
    X, A, D = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (X, A, dictionary))
    R = X - A @ D
    return float(np.mean(0.5 * np.sum(R * R, axis=1) + lam * np.sum(np.abs(A), axis=1)))


def heldout_objective(X, dictionary, lam):
    """Mean objective ``1/2 |x - a D|^2 + lam |a|_1`` of ``X`` for ``dictionary`` with its atoms
    normalised to unit norm and the codes solved exactly (scikit-learn's ``sparse_encode``,
    coordinate descent, ``positive=True``).

    Lin & Tang (2018), arXiv:1805.08952, section 5: the surrogate objective that compares
    dictionaries learned by different methods on held-out data. Zero atoms are left out.

    For strongly correlated atoms (e.g. scikit-learn's online learner's) coordinate descent can
    stop at ``max_iter`` with a duality gap of ~1e-5 per sample on objectives of ~0.25: far
    below the digits reported, so its `ConvergenceWarning` is not shown.
    """
    import warnings

    from sklearn.decomposition import sparse_encode
    from sklearn.exceptions import ConvergenceWarning

    D = np.atleast_2d(np.asarray(dictionary, dtype=float))
    norms = np.linalg.norm(D, axis=1)
    D = D[norms > 0] / norms[norms > 0, None]
    X = np.atleast_2d(np.asarray(X, dtype=float))
    if len(D) == 0:  # every atom is zero: the codes are 0
        return float(np.mean(0.5 * np.sum(X * X, axis=1)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        A = sparse_encode(X, D, algorithm="lasso_cd", alpha=lam, positive=True,
                          max_iter=2000)
    return sparse_coding_objective(X, A, D, lam)


def consistency(H, F, B):
    """``1 - |H - F B|_F / |H|_F``: 1 when the inhibition equals the product of the weights.

    Lin & Tang (2018), arXiv:1805.08952: ``H`` (lateral weights and thresholds on the diagonal),
    ``F`` feed-forward ``(n_components, n_features)``, ``B`` feedback ``(n_features, n_components)``.
    """
    H, F, B = (np.asarray(v, dtype=float) for v in (H, F, B))
    return float(1 - np.linalg.norm(H - F @ B) / np.linalg.norm(H))


def weight_symmetry(F, B):
    """Mean over ``i`` of the normalised inner product of row ``i`` of ``F`` with column ``i`` of ``B``.

    1 when ``F^T`` and ``B`` are proportional column by column (Lin & Tang 2018, Fig. 3).
    """
    F, B = np.asarray(F, dtype=float), np.asarray(B, dtype=float)
    num = np.sum(F * B.T, axis=1)
    den = np.linalg.norm(F, axis=1) * np.linalg.norm(B, axis=0)
    return float(np.mean(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)))


def orientation_selectivity(W, size):
    """Orientation selectivity index of each filter (a row of ``W``, a ``size x size`` image).

    ``OSI = |sum_f P(f) exp(2i theta_f)| / sum_f P(f)`` over the non-zero spatial frequencies
    ``f`` of the filter's power spectrum ``P`` (1 - circular variance of the orientation of its
    energy): 1 for a perfect grating or edge, near 0 for an isotropic filter.

    Parameters
    ----------
    W : array (n_filters, size * size)
    size : int
        Side of the square filters, in pixels.

    Returns
    -------
    osi : array (n_filters,)
    orientation : array (n_filters,)
        Preferred orientation in degrees, in [0, 180).
    """
    W = np.asarray(W, dtype=float).reshape(-1, size, size)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    theta = np.arctan2(fy, fx) * np.ones((size, size))
    mask = (fx ** 2 + fy ** 2) > 0
    P = np.abs(np.fft.fft2(W - W.mean(axis=(1, 2), keepdims=True))) ** 2
    z = np.sum(P * mask * np.exp(2j * theta), axis=(1, 2))
    tot = np.sum(P * mask, axis=(1, 2))
    return np.abs(z) / np.maximum(tot, 1e-300), np.degrees(np.angle(z) / 2) % 180


def feature_centres(W, size):
    """Centre of mass ``(row, column)``, in pixels, of each filter's squared weights.

    Parameters
    ----------
    W : array (n_filters, size * size)
    size : int

    Returns
    -------
    array (n_filters, 2)
    """
    W, yy, xx, tot = _energy(W, size)
    return np.stack([(W * yy).sum(axis=(1, 2)) / tot, (W * xx).sum(axis=(1, 2)) / tot], axis=1)


def _energy(W, size):
    """Squared weights as ``(n, size, size)`` images, the pixel grids and each image's total."""
    W = np.asarray(W, dtype=float).reshape(-1, size, size) ** 2
    yy, xx = np.mgrid[:size, :size]
    return W, yy, xx, np.maximum(W.sum(axis=(1, 2)), 1e-300)


def spatial_spread(W, size):
    """RMS distance (in pixels) of each filter's squared weights from their centre of mass.

    Parameters
    ----------
    W : array (n_filters, size * size)
    size : int

    Returns
    -------
    array (n_filters,)
    """
    c = feature_centres(W, size)
    W, yy, xx, tot = _energy(W, size)
    var = (W * ((yy - c[:, 0, None, None]) ** 2 + (xx - c[:, 1, None, None]) ** 2)).sum(axis=(1, 2)) / tot
    return np.sqrt(var)


def orientation_coverage(orientations, n_bins=6):
    """How many preferred orientations (degrees, in [0, 180)) fall in each of ``n_bins`` equal
    bins of 180 degrees (6 bins: 30 degrees each). A set of features that all copy one
    grating leaves most bins empty."""
    o = np.asarray(orientations, dtype=float) % 180.0
    return np.histogram(o, bins=n_bins, range=(0.0, 180.0))[0]


def position_coverage(centres, size, n_cells=4):
    """Features whose centre lies in each cell of an ``n_cells x n_cells`` grid over a
    ``size x size`` patch, ``(n_cells, n_cells)``; full-field features all sit in the middle."""
    c = np.asarray(centres, dtype=float).reshape(-1, 2)
    edges = np.linspace(-0.5, size - 0.5, n_cells + 1)
    return np.histogram2d(c[:, 0], c[:, 1], bins=[edges, edges])[0].astype(int)


def distinct_fraction(W, threshold=0.9):
    """Fraction of features (rows of ``W``) with no other feature at ``|cosine| >= threshold``:
    1 when all differ, near 0 when most are copies of a few."""
    W = np.asarray(W, dtype=float)
    if len(W) < 2:
        return 1.0
    U = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-300)
    C = np.abs(U @ U.T)
    np.fill_diagonal(C, 0.0)
    return float(np.mean(C.max(axis=1) < threshold))


def bump_statistics(R, angles, rel_threshold=0.0):
    """Shape of each unit's response ``R[:, unit]`` over a circle of ``angles`` (degrees).

    A unit is active if it ever responds; its bump is where the response exceeds
    ``rel_threshold`` x its maximum (default 0: where it responds at all); ``n_runs`` counts the
    contiguous runs of the bump on the circle (1: a single contiguous bump).

    Parameters
    ----------
    R : array (n_angles, n_units)
    angles : array (n_angles,)
        Angles in degrees, in increasing order.
    rel_threshold : float

    Returns
    -------
    dict
        ``active`` (bool per unit), ``n_runs`` (int per unit), ``preferred`` (angle of each
        unit's maximum) and ``max_gap`` (largest gap in degrees between consecutive preferred
        angles of the active units).
    """
    R = np.asarray(R, dtype=float)
    active = R.max(axis=0) > 0
    n_runs = np.zeros(R.shape[1], dtype=int)
    for u in np.flatnonzero(active):
        on = R[:, u] > rel_threshold * R[:, u].max()
        n_runs[u] = int(np.sum(on & ~np.roll(on, 1))) if not on.all() else 1
    pref = np.asarray(angles)[np.argmax(R, axis=0)]
    p = np.sort(np.unique(pref[active]))
    gaps = np.diff(np.concatenate([p, [p[0] + 360]])) if len(p) else np.array([360.0])
    return {"active": active, "n_runs": n_runs, "preferred": pref, "max_gap": float(gaps.max())}


def mean_cosine(W):
    """Mean cosine similarity between the distinct rows of ``W`` (1: all identical).

    Parameters
    ----------
    W : array (n_features, n)

    Returns
    -------
    float
        0 for fewer than two rows.
    """
    Wn = np.asarray(W, dtype=float)
    Wn = Wn / np.linalg.norm(Wn, axis=1, keepdims=True)
    C = Wn @ Wn.T
    return float((C.sum() - len(C)) / max(len(C) ** 2 - len(C), 1))
