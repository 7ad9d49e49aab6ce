"""Offline image data sets for the NSM experiments (brianlearn.datasets.images)."""

import gzip
import struct

import numpy as np
import pytest

from brianlearn.datasets.images import (load_digits_data, load_mnist, load_whitened_images, read_idx,
                                        rotated_image_manifold, whitened_patches)


def _write_idx(path, arr, compress=False):
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(head + arr.tobytes())


def test_mnist_loader_idx_npy_npz(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _write_idx(tmp_path / "img.idx", imgs)
    _write_idx(tmp_path / "img.idx.gz", imgs, compress=True)
    _write_idx(tmp_path / "lab.idx", labels)
    np.testing.assert_array_equal(read_idx(tmp_path / "img.idx"), imgs)
    X, y = load_mnist(str(tmp_path / "img.idx.gz"), labels_path=str(tmp_path / "lab.idx"))
    assert X.shape == (5, 784) and X.max() <= 1.0
    np.testing.assert_allclose(X, imgs.reshape(5, -1) / 255.0)
    np.testing.assert_array_equal(y, labels)
    np.save(tmp_path / "img.npy", imgs)
    np.testing.assert_allclose(load_mnist(str(tmp_path / "img.npy"), n=2), imgs[:2].reshape(2, -1) / 255.0)
    np.savez(tmp_path / "m.npz", x=imgs, y=labels)
    X2, y2 = load_mnist(str(tmp_path / "m.npz"))
    np.testing.assert_allclose(X2, X)
    np.testing.assert_array_equal(y2, labels)
    with pytest.raises(ValueError, match="does not exist"):
        load_mnist(str(tmp_path / "missing.idx"))
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX"):
        load_mnist(str(tmp_path / "bad.idx"))
    _write_idx(tmp_path / "lab3.idx", labels[:3])
    with pytest.raises(ValueError, match="labels"):
        load_mnist(str(tmp_path / "img.idx"), labels_path=str(tmp_path / "lab3.idx"))


def test_whitened_image_loader_mat_npy_npz(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(1)
    stack = rng.normal(size=(40, 30, 3))  # IMAGES.mat layout: (h, w, n_images)
    savemat(tmp_path / "IMAGES.mat", {"IMAGES": stack, "IMAGES_RAW": stack + 1})
    images = load_whitened_images(str(tmp_path / "IMAGES.mat"))
    assert len(images) == 3
    for k in range(3):
        np.testing.assert_array_equal(images[k], stack[:, :, k])
    np.testing.assert_array_equal(load_whitened_images(str(tmp_path / "IMAGES.mat"), key="IMAGES_RAW")[1],
                                  stack[:, :, 1] + 1)
    np.save(tmp_path / "imgs.npy", np.moveaxis(stack, -1, 0))  # NumPy files: (n_images, h, w)
    np.testing.assert_array_equal(load_whitened_images(str(tmp_path / "imgs.npy"))[2], stack[:, :, 2])
    np.savez(tmp_path / "one.npz", img=stack[:, :, 0])
    [one] = load_whitened_images(str(tmp_path / "one.npz"))
    np.testing.assert_array_equal(one, stack[:, :, 0])
    # patches are mean-removed windows of the given images (not whitened again)
    P = whitened_patches(50, 8, seed=2, scale=None, images=images)
    for patch in P:
        found = any(np.allclose(patch, (w := img[r:r + 8, c:c + 8].ravel()) - w.mean())
                    for img in images for r in range(33) for c in range(23))
        assert found
    # bad files and arguments
    with pytest.raises(ValueError, match="does not exist.*IMAGES.mat"):
        load_whitened_images(str(tmp_path / "missing.mat"))
    savemat(tmp_path / "two.mat", {"a": stack, "b": stack})
    with pytest.raises(ValueError, match="several arrays.*key="):
        load_whitened_images(str(tmp_path / "two.mat"))
    with pytest.raises(ValueError, match="no array 'c'"):
        load_whitened_images(str(tmp_path / "two.mat"), key="c")
    np.save(tmp_path / "flat.npy", np.ones(10))
    with pytest.raises(ValueError, match="shape"):
        load_whitened_images(str(tmp_path / "flat.npy"))
    bad = stack.copy()
    bad[0, 0, 0] = np.nan
    savemat(tmp_path / "nan.mat", {"IMAGES": bad})
    with pytest.raises(ValueError, match="NaN"):
        load_whitened_images(str(tmp_path / "nan.mat"))
    (tmp_path / "notmat.mat").write_bytes(b"hello, not a MATLAB file")
    with pytest.raises(ValueError, match="not a readable MATLAB file"):
        load_whitened_images(str(tmp_path / "notmat.mat"))
    (tmp_path / "imgs.txt").write_text("1 2 3")
    with pytest.raises(ValueError, match=".mat, .npy or .npz"):
        load_whitened_images(str(tmp_path / "imgs.txt"))
    with pytest.raises(ValueError, match="larger than size=16"):
        whitened_patches(5, 16, images=[np.zeros((10, 10))])


def test_digits_and_patches():
    X = load_digits_data()
    assert X.shape == (1797, 64) and X.min() == 0 and X.max() == 1
    P = whitened_patches(300, 16, seed=1)
    assert P.shape == (300, 256)
    np.testing.assert_allclose(P.mean(axis=1), 0, atol=1e-12)
    assert np.linalg.norm(P, axis=1).mean() == pytest.approx(1.0)
    # whitening flattens the spectrum: neighbouring pixels far less correlated than in the raw image
    c = np.corrcoef(P[:, :-1].ravel(), P[:, 1:].ravel())[0, 1]
    assert c < 0.6
    with pytest.raises(ValueError, match="n_patches"):
        whitened_patches(0)


def test_rotated_manifold():
    X, angles = rotated_image_manifold(5.0, size=24)
    assert X.shape == (72, 576) and len(angles) == 72 and angles[-1] == 355
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    S = X @ X.T
    # similarity decreases with the angle difference (a one-dimensional manifold) and is periodic
    assert S[0, 1] > S[0, 6] > S[0, 18] > S[0, 36]
    assert S[0, 71] == pytest.approx(S[0, 1], abs=0.05)
    with pytest.raises(ValueError, match="step_deg"):
        rotated_image_manifold(-1)
