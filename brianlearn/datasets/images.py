"""
Image data sets that work offline (DESIGN.md section 5).

- `load_digits_data`: scikit-learn's 8x8 handwritten digits (1797 images shipped with
  scikit-learn), the offline stand-in for MNIST.
- `whitened_patches`: random 16x16 patches of scikit-learn's two sample photographs
  (``load_sample_images``; needs Pillow), whitened with Olshausen & Field's (1996) filter
  ``f exp(-(f/f0)^4)``, the stand-in for their whitened natural images.
- `image_patches`: random 8x8 patches of the sample photographs, mean-removed, normalised and
  split into positive and negative channels (``2 * 64 = 128`` non-negative inputs), the data of
  Lin & Tang's dictionary learning (`split_channels` does the split for any data);
- `rotated_image_manifold`: one image rotated in equal steps (``scipy.ndimage.rotate``), unit
  norm: a one-dimensional image manifold (the stand-in for the rotated-object images of
  Pehlevan 2019, Fig. 4).
- `load_mnist`: MNIST (or any image set) from files the user already has: IDX (``.gz`` or
  not), ``.npy`` or ``.npz``. Nothing is downloaded.
- `load_whitened_images`: whitened natural images the user already has, e.g. Olshausen &
  Field's ``IMAGES.mat`` (ten 512x512 whitened images), or ``.npy`` / ``.npz``; pass them to
  `whitened_patches` (``images=``) instead of the sample photographs.
"""

import gzip
import os
import struct

import numpy as np

__all__ = ["load_digits_data", "image_patches", "split_channels", "whitened_patches", "whiten_image", "rotated_image_manifold", "load_mnist",
           "load_whitened_images", "read_idx", "sample_image_gray"]


def load_digits_data(return_labels=False):
    """scikit-learn's digits as ``(1797, 64)`` floats in [0, 1] (pixel values / 16)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(float) / 16.0
    return (X, d.target.copy()) if return_labels else X


def sample_image_gray(index=None):
    """scikit-learn's sample photographs as grey-level float images in [0, 1] (a list, or one)."""
    from sklearn.datasets import load_sample_images

    images = [np.asarray(img, dtype=float).mean(axis=2) / 255.0 for img in load_sample_images().images]
    return images if index is None else images[index]


def whiten_image(img, f0_fraction=0.8):
    """Whiten an image with Olshausen & Field's filter ``|f| exp(-(|f|/f0)^4)`` in the
    frequency domain (``f0 = f0_fraction`` x Nyquist; 0.8 = 0.4 cycles/pixel, as Olshausen & Field's 200 cycles per 512-pixel picture); returns it with unit variance."""
    img = np.asarray(img, dtype=float)
    img = img - img.mean()
    ny, nx = img.shape
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.fftfreq(nx)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    f0 = f0_fraction * 0.5
    filt = f * np.exp(-((f / f0) ** 4))
    out = np.real(np.fft.ifft2(np.fft.fft2(img) * filt))
    return out / out.std()


def whitened_patches(n_patches, size=16, seed=0, scale="unit_mean_norm", images=None):
    """Random ``size x size`` patches of whitened images, ``(n, size*size)``.

    Parameters
    ----------
    n_patches, size : int
        Number and side length of the patches.
    seed : int
        Seed of the patch positions.
    scale : {'unit_mean_norm', None}
        ``'unit_mean_norm'``: the whole set is scaled so that the mean patch norm is 1;
        ``None``: as cut from the (unit-variance) whitened images.
    images : sequence of 2-D arrays, optional
        Images that are already whitened (e.g. from `load_whitened_images`). Default: the
        scikit-learn sample photographs, whitened here by `whiten_image`.

    Patches are mean-removed.
    """
    if not isinstance(n_patches, (int, np.integer)) or n_patches < 1:
        raise ValueError(f"n_patches must be a positive integer, got {n_patches!r}.")
    if not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}.")
    rng = np.random.default_rng(seed)
    if images is None:
        images = [whiten_image(img) for img in sample_image_gray()]
        margin = 8  # stay clear of the filter's wrap-around at the borders
    else:
        images = [np.asarray(img, dtype=float) for img in images]
        margin = 0
        for k, img in enumerate(images):
            if img.ndim != 2 or min(img.shape) < size + 1:
                raise ValueError(f"images[{k}] must be a 2-D image larger than size={size}, got shape {img.shape}.")
            if not np.all(np.isfinite(img)):
                raise ValueError(f"images[{k}] contains NaN or inf.")
    out = np.empty((n_patches, size * size))
    for p in range(n_patches):
        img = images[rng.integers(len(images))]
        r = rng.integers(margin, img.shape[0] - size - margin)
        c = rng.integers(margin, img.shape[1] - size - margin)
        patch = img[r:r + size, c:c + size].ravel()
        out[p] = patch - patch.mean()
    if scale == "unit_mean_norm":
        out /= np.linalg.norm(out, axis=1).mean()
    elif scale is not None:
        raise ValueError(f"scale must be 'unit_mean_norm' or None, got {scale!r}.")
    return out


def split_channels(X):
    """``[max(X, 0), max(-X, 0)]``: signed data as twice as many non-negative channels.

    Lin & Tang (2018), arXiv:1805.08952, section 5: networks with non-negative rates see signed
    patches through a positive and a negative channel per pixel; ``X = P - N`` recovers them.
    """
    X = np.asarray(X, dtype=float)
    return np.concatenate([np.maximum(X, 0), np.maximum(-X, 0)], axis=-1)


def image_patches(n_patches, size=8, seed=0, split=True, images=None):
    """Random ``size x size`` patches of natural images for dictionary learning.

    Each patch is mean-removed and normalised to unit norm (flat patches, of norm below 1e-6,
    are drawn again), then, with ``split=True``, split into positive and negative channels
    (`split_channels`): ``(n_patches, 2 * size * size)`` non-negative rows. Default images:
    scikit-learn's two sample photographs in grey levels (no download).

    Lin & Tang (2018), arXiv:1805.08952, section 5: 100 000 8x8 patches, 128 channels, 256 atoms.
    """
    if not isinstance(n_patches, (int, np.integer)) or n_patches < 1:
        raise ValueError(f"n_patches must be a positive integer, got {n_patches!r}.")
    if not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size!r}.")
    images = sample_image_gray() if images is None else [np.asarray(img, dtype=float) for img in images]
    for k, img in enumerate(images):
        if img.ndim != 2 or min(img.shape) < size + 1:
            raise ValueError(f"images[{k}] must be a 2-D image larger than size={size}, got shape {img.shape}.")
    rng = np.random.default_rng(seed)
    out = np.empty((n_patches, size * size))
    p = 0
    while p < n_patches:
        img = images[rng.integers(len(images))]
        r, c = rng.integers(0, img.shape[0] - size), rng.integers(0, img.shape[1] - size)
        patch = img[r:r + size, c:c + size].ravel()
        patch = patch - patch.mean()
        norm = np.linalg.norm(patch)
        if norm < 1e-6:
            continue
        out[p] = patch / norm
        p += 1
    return split_channels(out) if split else out


def rotated_image_manifold(step_deg=5.0, size=24, image=None, n_images=None):
    """One image rotated by ``step_deg`` steps: ``(n_images, size*size)`` rows of unit norm.

    Parameters
    ----------
    step_deg : float
        Rotation step (default 5 degrees: 72 images over the full circle).
    size : int
        Side of the square image (pixels).
    image : array (H, W), optional
        The image to rotate; default a ``size x size`` crop of scikit-learn's 'china.jpg'
        (a roof with oriented edges), smoothed, resampled and thresholded at its 70th
        percentile (a bright object on a dark background).
    n_images : int, optional
        Default ``round(360 / step_deg)`` (the whole circle).

    Returns
    -------
    X : array (n_images, size*size)
        Rotations inside a circular aperture (so no corner enters or leaves the frame),
        unit norm.
    angles : array (n_images,)
        Rotation angles in degrees.
    """
    from scipy import ndimage

    if not np.isfinite(step_deg) or step_deg <= 0:
        raise ValueError(f"step_deg must be a positive number, got {step_deg!r}.")
    if n_images is None:
        n_images = int(round(360.0 / step_deg))
    if image is None:
        img = sample_image_gray(0)
        crop = img[60:60 + 8 * size, 160:160 + 8 * size]
        image = ndimage.zoom(ndimage.gaussian_filter(crop, 3.0), size / crop.shape[0], order=1)[:size, :size]
        # keep the brightest 30 % (inside the aperture): an object on a dark background, whose
        # similarity to its rotations falls from 1 to ~0 at 180 degrees
        yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
        inside = np.hypot(yy, xx) <= size / 2 - 0.5
        image = np.maximum(image - np.percentile(image[inside], 70), 0)
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        raise ValueError(f"image must be a square 2-D array, got shape {image.shape}.")
    size = image.shape[0]
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    aperture = (np.hypot(yy, xx) <= size / 2 - 0.5).astype(float)
    image = (image - image[aperture > 0].min()) * aperture
    angles = np.arange(n_images) * step_deg
    X = np.array([(ndimage.rotate(image, a, reshape=False, order=1, mode="constant") * aperture).ravel()
                  for a in angles])
    X = np.maximum(X, 0)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, angles


# ---------------------------------------------------------------- user-supplied MNIST
def read_idx(path):
    """Read an IDX file (the MNIST format; gzip-compressed if the name ends in ``.gz``)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0:
            raise ValueError(f"{path} is not an IDX file (bad magic number).")
        dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
        if head[2] not in dtypes:
            raise ValueError(f"{path}: unknown IDX data type 0x{head[2]:02x}.")
        ndim = head[3]
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        data = np.frombuffer(f.read(), dtype=dtypes[head[2]])
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: IDX header says shape {shape} ({int(np.prod(shape))} values), "
                         f"found {data.size} values.")
    return data.reshape(shape)


def load_mnist(path, labels_path=None, n=None, scale=True):
    """Load MNIST-like images from files you already have (nothing is downloaded).

    Parameters
    ----------
    path : str
        Images: an IDX file (``train-images-idx3-ubyte[.gz]``), a ``.npy`` array
        ``(n, 28, 28)`` / ``(n, 784)``, or a ``.npz`` with an ``'x'``/``'images'`` (and
        optionally ``'y'``/``'labels'``) array.
    labels_path : str, optional
        Labels (IDX or ``.npy``).
    n : int, optional
        Keep the first ``n`` images.
    scale : bool
        Divide 8-bit pixel values by 255 (to [0, 1]).

    Returns
    -------
    X : array (n, n_pixels) of floats; and ``y`` (n,) if labels are given or found.
    """
    if not os.path.exists(path):
        raise ValueError(f"MNIST file '{path}' does not exist (brianlearn does not download data; give the path "
                         "of an IDX, .npy or .npz file you have).")
    labels = None
    if str(path).endswith(".npz"):
        with np.load(path) as f:
            key = next((k for k in ("x", "images", "X", "x_train") if k in f.files), None)
            if key is None:
                raise ValueError(f"{path}: no 'x' or 'images' array (found {f.files}).")
            images = f[key]
            lk = next((k for k in ("y", "labels", "y_train") if k in f.files), None)
            labels = f[lk] if lk else None
    elif str(path).endswith(".npy"):
        images = np.load(path)
    else:
        images = read_idx(path)
    if labels_path is not None:
        if not os.path.exists(labels_path):
            raise ValueError(f"Label file '{labels_path}' does not exist.")
        labels = np.load(labels_path) if str(labels_path).endswith(".npy") else read_idx(labels_path)
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"{path}: expected images of shape (n, h, w) or (n, pixels), got {images.shape}.")
    is_uint8 = images.dtype == np.uint8
    X = images.reshape(len(images), -1).astype(float)
    if scale and (is_uint8 or X.max() > 1.0):
        X /= 255.0
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(X):
            raise ValueError(f"{len(labels)} labels for {len(X)} images.")
    if n is not None:
        X = X[:n]
        labels = None if labels is None else labels[:n]
    return (X, labels) if labels is not None else X


def load_whitened_images(path, key=None, image_axis=None):
    """Load whitened natural images from a file you already have (nothing is downloaded).

    Parameters
    ----------
    path : str
        A MATLAB file (``.mat``, format v5/v7, e.g. Olshausen & Field's ``IMAGES.mat`` with an
        array ``IMAGES`` of shape ``(512, 512, 10)``), or a ``.npy`` / ``.npz`` file.
    key : str, optional
        The array's name in a ``.mat`` / ``.npz`` file (default: ``'IMAGES'``, or the only array).
    image_axis : int, optional
        The axis that counts images: default -1 for ``.mat`` (MATLAB's convention, as in
        ``IMAGES.mat``), 0 for NumPy files. A single 2-D array is one image.

    Returns
    -------
    list of 2-D float arrays
        Pass it to `whitened_patches` (``images=``).
    """
    if not os.path.exists(path):
        raise ValueError(f"Image file '{path}' does not exist (brianlearn does not download data; give the path of "
                         "a .mat, .npy or .npz file you have, e.g. Olshausen & Field's IMAGES.mat).")
    name = str(path)
    if name.endswith(".mat"):
        from scipy.io import loadmat

        try:
            arrays = loadmat(name)
        except NotImplementedError:
            raise ValueError(f"{path}: MATLAB v7.3 (HDF5) files cannot be read here; save it with "
                             "save(..., '-v7') or as .npy.") from None
        except (ValueError, IndexError, TypeError, OSError) as e:  # (what SciPy raises for a bad file varies)
            raise ValueError(f"{path}: not a readable MATLAB file ({type(e).__name__}: {e}).") from None
        arrays = {k: v for k, v in arrays.items() if not k.startswith("__")}
        default_axis = -1
    elif name.endswith(".npz"):
        with np.load(name) as f:
            arrays = {k: f[k] for k in f.files}
        default_axis = 0
    elif name.endswith(".npy"):
        arrays = {"array": np.load(name)}
        key = key or "array"
        default_axis = 0
    else:
        raise ValueError(f"{path}: expected a .mat, .npy or .npz file.")
    if key is None:
        key = "IMAGES" if "IMAGES" in arrays else (next(iter(arrays)) if len(arrays) == 1 else None)
        if key is None:
            raise ValueError(f"{path}: several arrays {sorted(arrays)}; choose one with key=.")
    if key not in arrays:
        raise ValueError(f"{path}: no array '{key}' (found {sorted(arrays)}).")
    data = np.asarray(arrays[key], dtype=float)
    if data.ndim == 2:
        data = data[None]
        image_axis = 0
    if data.ndim != 3:
        raise ValueError(f"{path}: '{key}' must be one image (h, w) or a stack of images, got shape {data.shape}.")
    data = np.moveaxis(data, default_axis if image_axis is None else image_axis, 0)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path}: '{key}' contains NaN or inf.")
    return [img for img in data]
