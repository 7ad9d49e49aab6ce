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
