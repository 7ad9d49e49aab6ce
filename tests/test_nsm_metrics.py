"""Measures used by the NSM experiments (brianlearn.measures: orientation selectivity, spatial spread, bumps)."""

import numpy as np
import pytest

from brianlearn.measures import bump_statistics, mean_cosine, orientation_selectivity, spatial_spread


def test_orientation_selectivity_index():
    yy, xx = np.mgrid[:16, :16]
    grating = np.cos(2 * np.pi * 0.2 * (np.cos(np.radians(30)) * xx + np.sin(np.radians(30)) * yy))
    blob = np.exp(-((yy - 7.5) ** 2 + (xx - 7.5) ** 2) / 8)
    gabor = grating * blob
    osi, ori = orientation_selectivity(np.stack([grating, blob, gabor]).reshape(3, -1), 16)
    assert osi[0] > 0.8 and osi[2] > 0.8 and osi[1] < 0.1
    assert abs(ori[0] - 30) < 10 and abs(ori[2] - 30) < 10
    noise = np.random.default_rng(0).normal(size=(500, 256))
    assert np.median(orientation_selectivity(noise, 16)[0]) < 0.15
    spread = spatial_spread(np.stack([blob, grating]).reshape(2, -1), 16)
    assert abs(spread[0] - 2.0) < 0.05  # squared blob: variance 2 per axis, RMS radius 2
    assert spread[0] < spread[1]


def test_bump_statistics():
    angles = np.arange(72) * 5.0
    centres = np.arange(0, 360, 20)
    d = np.abs((angles[:, None] - centres[None, :] + 180) % 360 - 180)
    R = np.maximum(0, 1 - d / 30)
    st = bump_statistics(R, angles)
    assert st["active"].all() and np.all(st["n_runs"] == 1)
    assert st["max_gap"] == 20
    np.testing.assert_allclose(st["preferred"], centres)
    R[:, 0] += (np.abs(angles - 180) < 8) * 0.5  # a second bump
    R[:, 1] = 0  # a silent unit
    st = bump_statistics(R, angles)
    assert st["n_runs"][0] == 2 and not st["active"][1]


def test_mean_cosine_and_nsm_cost_reexport():
    from brianlearn.measures import nsm_cost
    from brianlearn.protocols.nsm import nsm_cost as reexported

    assert reexported is nsm_cost
    assert mean_cosine(np.ones((3, 4))) == pytest.approx(1.0)
    assert mean_cosine(np.eye(4)) == pytest.approx(0.0)


def _gabor(theta_deg, cy, cx, size=16, freq=0.3, sigma=3.0, phase=np.pi / 2):
    yy, xx = np.mgrid[:size, :size]
    t = np.radians(theta_deg)
    g = np.cos(2 * np.pi * freq * (np.cos(t) * (xx - cx) + np.sin(t) * (yy - cy)) + phase)
    return (g * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2))).ravel()


def test_coverage_measures_pass_a_gabor_bank_and_fail_one_texture():
    """Hand-made references: a bank of Gabors at every orientation and position covers all
    orientation bins and grid cells and has no duplicates; copies of one full-field grating
    (different phases, as one texture learned many times) fill one bin, sit in the middle and
    are mostly near-duplicates."""
    from brianlearn.measures import (distinct_fraction, feature_centres, orientation_coverage,
                                     position_coverage)

    bank = np.array([_gabor(th, cy, cx) for th in np.arange(7.5, 180, 15) for cy in (2, 6, 10, 14) for cx in (2, 6, 10, 14)])
    osi, ori = orientation_selectivity(bank, 16)
    bins = orientation_coverage(ori, 6)
    assert bins.sum() == len(bank) and bins.min() == len(bank) // 6  # 2 of the 12 angles per 30-degree bin
    c = feature_centres(bank, 16)
    cells = position_coverage(c, 16, 4)
    assert cells.shape == (4, 4) and np.all(cells == len(bank) // 16)
    # a centred Gaussian's squared weights have their centre of mass exactly at its centre
    np.testing.assert_allclose(feature_centres(_gabor(0, 5.0, 9.0, freq=0.0, sigma=1.5, phase=0.0)[None], 16), [[5.0, 9.0]], atol=1e-6)
    assert distinct_fraction(bank, 0.9) == 1.0
    texture = np.array([_gabor(60, 7.5, 7.5, sigma=1e3, phase=p) for p in np.linspace(0, 0.6, 40)])
    assert np.count_nonzero(orientation_coverage(orientation_selectivity(texture, 16)[1], 6)) == 1
    assert np.count_nonzero(position_coverage(feature_centres(texture, 16), 16, 4)) <= 4  # the 4 middle cells
    assert distinct_fraction(texture, 0.9) == 0.0
    assert distinct_fraction(np.eye(5), 0.9) == 1.0 and distinct_fraction(np.ones((1, 3))) == 1.0
