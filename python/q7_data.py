"""Datasets for Q7.1 as whole tensors, and batch-level augmentation.

Each loader returns ``(splits, classes)``: ``splits`` maps a split name to
``(x, y)`` with x a float32 tensor (N, C, H, W) in [0, 1], ink high (as in
MNIST), and y an int64 tensor of class indices; ``classes[i]`` names class i.

Whole datasets fit in memory (EMNIST Balanced is 92,551 x 28 x 28 bytes), so
they are converted to tensors once and batched with a TensorDataset. That is
far faster on a CPU than torchvision's per-image PIL transforms, and
augmentation runs on whole batches (``Augmented``).

MNIST and EMNIST are read straight from their IDX files (``read_idx``):
importing torchvision costs a few seconds per process (it loads
torch._dynamo), so it is imported only to download a dataset or for
CIFAR-10.
"""
import os
import pickle
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

import data as nist
from util import UsageError, check_class_indices


def _fetch_hint(part):
    return (f'get it with `bash scripts/get_data.sh {part}` (on a machine without internet: '
            f'`HW5_MIRROR=../shared bash scripts/get_data.sh {part}`), '
            'or pass --download to let torchvision download it')


def _torchvision_datasets():
    """torchvision.datasets, imported on first use (see the module docstring)."""
    import torchvision.datasets
    return torchvision.datasets


def _open(dataset_cls, name, folder, data_dir, download, hint, **kwargs):
    """Build a torchvision dataset for train and test (its files live in
    data_dir/folder), turning its errors into UsageErrors."""
    out = {}
    for split in ('train', 'test'):
        try:
            out[split] = dataset_cls(root=str(data_dir), train=split == 'train', download=download, **kwargs)
        except (RuntimeError, OSError) as e:  # files missing, or a download that failed
            if download:
                raise UsageError(f'could not download {name} ({e}); {hint}') from None
            raise UsageError(f'{name} ({split} split) not found in {os.path.join(data_dir, folder)}; '
                             f'{hint}') from None
        except (AssertionError, TypeError, ValueError, KeyError, EOFError,
                pickle.UnpicklingError) as e:  # a file that is not a CIFAR pickle
            raise UsageError(f'{name} files in {os.path.join(data_dir, folder)} are not readable '
                             f'({e!r}); {hint}') from None
    return out


def read_idx(path, hint):
    """An IDX file of unsigned bytes (the MNIST/EMNIST format) as a uint8 array.

    Layout: two zero bytes, a type byte (0x08 = uint8), the number of
    dimensions n, then n big-endian int32 sizes, then the data in C order.
    """
    if not os.path.isfile(path):
        raise UsageError(f'{path} not found; {hint}')
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4:
        raise UsageError(f'{path} is not an IDX file (it holds {len(raw)} bytes); {hint}')
    zeros, kind, ndim = struct.unpack_from('>HBB', raw)
    if zeros != 0 or kind != 0x08 or ndim == 0:
        raise UsageError(f'{path} is not an IDX file of bytes (header {raw[:4].hex()}, '
                         f'expected 000008 and the number of dimensions); {hint}')
    start = 4 + 4 * ndim
    shape = struct.unpack_from(f'>{ndim}I', raw, 4) if len(raw) >= start else ()
    if len(raw) != start + int(np.prod(shape)):
        raise UsageError(f'{path} is cut short or padded: its header promises {shape} bytes of data '
                         f'and the file holds {len(raw) - start}; {hint}')
    return np.frombuffer(raw, np.uint8, offset=start).reshape(shape)


def _idx_splits(folder, files, name, hint):
    """{'train': (x, y), 'test': (x, y)} from IDX files named by
    files[split] = (images, labels): x (N, 1, 28, 28) in [0, 1], y int64."""
    splits = {}
    for split, (images, labels) in files.items():
        x = read_idx(os.path.join(folder, images), hint)
        y = read_idx(os.path.join(folder, labels), hint)
        if x.ndim != 3 or y.ndim != 1:
            raise UsageError(f'{name} {split}: expected images (N, H, W) and labels (N,), found '
                             f'{x.shape} and {y.shape} in {folder}; {hint}')
        splits[split] = (torch.from_numpy(x.copy()).float().div_(255).unsqueeze(1),
                         torch.from_numpy(y.astype(np.int64)))
    return splits


def _checked(splits, classes, name, hint):
    """The splits, once each has images, as many labels, and labels that
    name a class (a label past the last class would stop training deep in
    the loss). Pixels need no check: the files hold bytes, scaled to [0, 1]."""
    for split, (x, y) in splits.items():
        check_class_indices(x, y, len(classes), f'the {name} {split} split', hint)
    return splits


# ----------------------------------------------------------------------------
# The four datasets
# ----------------------------------------------------------------------------
def nist36_rows(data_dir, download=False):
    """NIST36 as Q3 sees it: x (N, 1024) rows exactly as stored in the files
    (column-major, ink near 0), for the fully connected network. (``download``
    is there for a uniform signature: torchvision does not know NIST36, so
    scripts/get_data.sh fetches it.)"""
    splits = {}
    for split in nist.SPLITS:
        x, y = nist.load_nist36(split, data_dir, dtype=np.float32)
        splits[split] = torch.from_numpy(x), torch.from_numpy(nist.labels_of(y))
    return splits, nist.CLASS_NAMES


def nist36_images(data_dir, download=False):
    """NIST36 for a CNN: upright (N, 1, 32, 32) images, inverted so that ink
    is high like in MNIST/EMNIST (zero padding then means "no ink")."""
    rows, classes = nist36_rows(data_dir)
    splits = {s: (1 - torch.from_numpy(nist.to_image(x.numpy())).unsqueeze(1), y)
              for s, (x, y) in rows.items()}
    return splits, classes


def _download(dataset, data_dir, name, hint, **kwargs):
    """Let torchvision fetch a dataset's IDX files into data_dir/<name>/raw."""
    _open(getattr(_torchvision_datasets(), dataset), name, f'{name}/raw', data_dir, True, hint, **kwargs)


MNIST_FILES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
               'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


def mnist(data_dir, download=False):
    """MNIST from data_dir/MNIST/raw (the extracted IDX files)."""
    hint = _fetch_hint('mnist')
    if download:
        _download('MNIST', data_dir, 'MNIST', hint)
    splits = _idx_splits(os.path.join(data_dir, 'MNIST', 'raw'), MNIST_FILES, 'MNIST', hint)
    classes = [str(c) for c in range(10)]
    return _checked(splits, classes, 'MNIST', hint), classes


# EMNIST Balanced's 47 classes, in label order (emnist-balanced-mapping.txt):
# 0-9, A-Z, then the lower-case letters that do not look like their upper case.
EMNIST_CLASSES = list('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt')
EMNIST_FILES = {s: (f'emnist-balanced-{s}-images-idx3-ubyte', f'emnist-balanced-{s}-labels-idx1-ubyte')
                for s in ('train', 'test')}


def emnist(data_dir, download=False):
    """EMNIST Balanced (47 classes) from data_dir/EMNIST/raw, with upright images.

    EMNIST's IDX files store every image transposed (the NIST scans were
    written column by column), so x is transposed back here.
    """
    hint = _fetch_hint('emnist')
    if download:
        _download('EMNIST', data_dir, 'EMNIST', hint, split='balanced')
    splits = _idx_splits(os.path.join(data_dir, 'EMNIST', 'raw'), EMNIST_FILES, 'EMNIST', hint)
    splits = {s: (x.transpose(2, 3).contiguous(), y) for s, (x, y) in splits.items()}
    return _checked(splits, EMNIST_CLASSES, 'EMNIST', hint), EMNIST_CLASSES


CIFAR10_FOLDER = 'cifar-10-batches-py'


def _cifar10_files():
    """torchvision's CIFAR-10 reader (the python pickle batches), checking
    only that the extracted files exist instead of their md5 sums.

    That lets a test feed it tiny synthetic batches in the real format, so
    the tested loader is the one real runs use. A download is still verified:
    torchvision checks the archive's md5 before extracting it.
    """
    base = _torchvision_datasets().CIFAR10

    class CIFAR10Files(base):
        train_list = [[name, None] for name, _ in base.train_list]
        test_list = [[name, None] for name, _ in base.test_list]
        meta = {**base.meta, 'md5': None}
    return CIFAR10Files


CIFAR_HINT = ('CIFAR-10 is not in the offline mirror; run this part on a machine with internet '
              'access and pass --download (torchvision then fetches cifar-10-python.tar.gz, 163 MB, '
              'into the data folder)')


def cifar10(data_dir, download=False):
    """CIFAR-10 from data_dir/cifar-10-batches-py: x (N, 3, 32, 32) in [0, 1]."""
    if not download and not os.path.isdir(os.path.join(data_dir, CIFAR10_FOLDER)):
        raise UsageError(f'CIFAR-10 not found in {data_dir}/{CIFAR10_FOLDER}; {CIFAR_HINT}')
    ds = _open(_cifar10_files(), 'CIFAR-10', CIFAR10_FOLDER, data_dir, download, CIFAR_HINT)
    splits = {s: (torch.from_numpy(d.data).permute(0, 3, 1, 2).float().div(255),
                  torch.tensor(d.targets, dtype=torch.long)) for s, d in ds.items()}
    classes = list(ds['train'].classes)
    return _checked(splits, classes, 'CIFAR-10', CIFAR_HINT), classes


# ----------------------------------------------------------------------------
# Batching and augmentation
# ----------------------------------------------------------------------------
def _shuffled(n, seed):
    """0..n-1 in a random order fixed by seed alone (its own generator, so
    neither the global one nor the training seed moves it)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def subsample(x, y, n, seed=0):
    """At most n examples, drawn at random (for --quick)."""
    if len(x) <= n:
        return x, y
    idx = _shuffled(len(x), seed)[:n]
    return x[idx], y[idx]


def hold_out(x, y, fraction, seed):
    """Split a random ``fraction`` of the training set (x, y) off as a
    validation set, for datasets that ship only train and test (MNIST,
    EMNIST, CIFAR-10): choices are then made on validation and the test set
    is scored once, at the end.

    The draw depends on seed alone, so the same images are held out on every
    run. Returns ((x_train, y_train), (x_valid, y_valid)), disjoint, with
    round(fraction * N) examples (at least 1) held out and at least 1 kept.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'fraction must be between 0 and 1, got {fraction}')
    if len(x) < 2:
        raise UsageError(f'{len(x)} training example(s) cannot be split into train and validation')
    n_valid = min(max(1, round(fraction * len(x))), len(x) - 1)
    order = _shuffled(len(x), seed)
    # Sorted, so each part keeps the files' order (the loader shuffles anyway).
    valid, train = order[:n_valid].sort().values, order[n_valid:].sort().values
    return (x[train], y[train]), (x[valid], y[valid])


def loader(x, y, batch_size, shuffle=False):
    """Batches of in-memory tensors, each gathered with one x[indices].

    DataLoader's default fetches examples one by one and stacks them; a
    BatchSampler hands it a whole batch of indices instead, which for small
    examples (or cached features) is up to 80x cheaper per epoch. The batches
    and their order are the same. Shuffling draws from torch's global
    generator, which ``seed_everything`` fixes.
    """
    dataset = TensorDataset(x, y)
    order = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None)


class Augmented:
    """A loader whose batches pass through ``augment(x) -> x`` first."""

    def __init__(self, loader, augment):
        self.loader, self.augment = loader, augment

    def __iter__(self):
        for x, y in self.loader:
            yield self.augment(x), y

    def __len__(self):
        return len(self.loader)


def random_affine(x, degrees=10.0, scale=0.1, shear=0.15, shift=0.1):
    """A different small random affine warp per image, as handwriting varies.

    x: (N, C, H, W), ink high (the background fills in as 0). Rotation
    uniform in +-degrees, zoom in 1 +- scale, horizontal shear +-shear, and
    shift +-shift of the half-width (affine_grid's coordinates run from -1
    to 1). One affine_grid + grid_sample call warps the whole batch.
    """
    n = len(x)

    def uniform(limit):
        return (torch.rand(n) * 2 - 1) * limit

    angle, zoom = torch.deg2rad(uniform(degrees)), 1 + uniform(scale)
    cos, sin, k = torch.cos(angle) / zoom, torch.sin(angle) / zoom, uniform(shear)
    tx, ty = uniform(shift), uniform(shift)
    # theta maps output coordinates to input coordinates: [[a, b, tx], [c, d, ty]]
    theta = torch.stack([torch.stack([cos, -sin + k, tx], 1),
                         torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode='zeros')


def random_shift_flip(x, shift=0.25):
    """CIFAR-10's usual augmentation: shift each image by up to 4 pixels
    (0.25 of the 16-pixel half-width; the border fills with 0) and flip half
    of them left-right."""
    x = random_affine(x, degrees=0, scale=0, shear=0, shift=shift)
    flip = torch.rand(len(x)) < 0.5
    x[flip] = x[flip].flip(-1)
    return x
