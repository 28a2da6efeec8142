"""Loading NIST36, the assignment's 36-class handwritten character set.

Each split is a .mat file with keys ``<split>_data`` (N x 1024, floats in
[0, 1], ink near 0) and ``<split>_labels`` (N x 36, one-hot). Each row is a
32x32 image stored column-major (the files were made in MATLAB), so
``row.reshape(32, 32).T`` shows the character upright.
"""
import string
from pathlib import Path

import numpy as np
import scipy.io

from util import DATA_DIR, UsageError, check_one_hot, check_pixels, short_reason

SPLITS = ('train', 'valid', 'test')
IMAGE_SIZE = 32
NUM_CLASSES = 36
# Label 0-25 are A-Z and 26-35 are the digits 0-9.
CLASS_NAMES = list(string.ascii_uppercase + string.digits)

FETCH_HINT = ('get it with `bash scripts/get_data.sh nist36` (downloads the course files; '
              'set HW5_MIRROR=../shared to copy them from a local mirror instead)')


def load_nist36(split, data_dir=DATA_DIR, dtype=np.float64):
    """Return (x, y) for one split: x (N, 1024) in [0, 1], y (N, 36) one-hot.

    Raises UsageError naming the problem and the fix for a missing file, a
    file that is not a .mat, a missing key, arrays of the wrong shape, no
    images, pixels that are NaN or outside [0, 1], or labels that are not
    one-hot: each of them would otherwise train to chance without a word.
    """
    if split not in SPLITS:
        raise UsageError(f'unknown NIST36 split {split!r}; choose one of {SPLITS}')
    path = Path(data_dir) / f'nist36_{split}.mat'
    if not path.exists():
        raise UsageError(f'{path} not found; {FETCH_HINT}')
    if path.is_dir():
        raise UsageError(f'{path} is a folder, not a .mat file; {FETCH_HINT}')
    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # noqa: BLE001 - scipy raises several types for a corrupt file
        raise UsageError(f'{path} is not a readable .mat file ({short_reason(e)}); {FETCH_HINT}') from None

    x_key, y_key = f'{split}_data', f'{split}_labels'
    for key in (x_key, y_key):
        if key not in mat:
            found = sorted(k for k in mat if not k.startswith('__'))
            raise UsageError(f'{path} has no key {key!r} (found {found}); '
                             f'is this the NIST36 {split} file? {FETCH_HINT}')
    x, y = mat[x_key], mat[y_key]
    if x.ndim != 2 or x.shape[1] != IMAGE_SIZE * IMAGE_SIZE:
        raise UsageError(f'{path}: {x_key} has shape {x.shape}, expected (N, 1024)')
    if y.shape != (x.shape[0], NUM_CLASSES):
        raise UsageError(f'{path}: {y_key} has shape {y.shape}, expected ({x.shape[0]}, 36)')
    check_pixels(x, f'{path} ({x_key})', FETCH_HINT)
    check_one_hot(y, f'{path} ({y_key})', FETCH_HINT)
    # loadmat hands back MATLAB's column-major (Fortran-ordered) arrays; a
    # C-ordered copy keeps each example's row contiguous, which makes drawing
    # random batches several times faster.
    return np.ascontiguousarray(x, dtype=dtype), np.ascontiguousarray(y, dtype=dtype)


def load_all(data_dir=DATA_DIR, dtype=np.float64):
    """{split: (x, y)} for train, valid and test."""
    return {s: load_nist36(s, data_dir, dtype) for s in SPLITS}


def to_image(rows):
    """(..., 1024) rows -> (..., 32, 32) upright images (undo column-major)."""
    rows = np.asarray(rows)
    return rows.reshape(rows.shape[:-1] + (IMAGE_SIZE, IMAGE_SIZE)).swapaxes(-1, -2)


def from_image(images):
    """(..., 32, 32) upright images -> (..., 1024) rows in the files' layout."""
    images = np.asarray(images)
    return images.swapaxes(-1, -2).reshape(images.shape[:-2] + (IMAGE_SIZE * IMAGE_SIZE,))


def labels_of(y):
    """One-hot (N, C) -> integer labels (N,)."""
    return np.argmax(y, axis=1)
