"""Q7.2 pieces: Oxford Flowers 17 as in-memory tensors, SqueezeNet with a new
classifier (and where its ImageNet weights come from), backbone features
computed once, and batch augmentation for the network trained from scratch.

Why tensors and not torchvision's per-image PIL transforms: on a 2-core CPU,
decoding and resizing 1360 JPEGs every epoch costs more than the training.
ImageFolder finds the files and labels; each photo is decoded once, resized to
a working size and kept as uint8, and augmentation runs on whole batches.
"""
import math
import socket
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms.v2.functional as TF
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import default_loader
from torchvision.models import get_model_weights
from torchvision.transforms import v2

from torch_common import autocast, check_finite_weights, load_tensors
from util import UsageError, save_figure

SPLITS = ('train', 'val', 'test')
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ARCHS = ('squeezenet1_0', 'squeezenet1_1')
# The offline mirror's ImageNet SqueezeNet 1.0 (see data/weights/, scripts/get_data.sh)
MIRROR_WEIGHTS = Path('weights') / 'squeezenet1_0-deepcompression-imagenet.pth'
FLOWERS_HINT = ('get it with `bash scripts/get_data.sh flowers` '
                '(without internet: `HW5_MIRROR=../shared bash scripts/get_data.sh flowers`)')


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
def _decode(path):
    """ImageFolder's own PIL loader, with a clear error for a broken file."""
    try:
        return default_loader(path)
    except OSError as e:  # PIL's UnidentifiedImageError and truncated files
        raise UsageError(f'cannot read image {path} ({e}); {FLOWERS_HINT}') from None


def class_names(root, folders):
    """Flower names for ImageFolder's classes.

    The folders are the label numbers '0'..'16', and ImageFolder sorts them as
    strings ('0', '1', '10', '11', ..., '9'), so its index i is NOT label i:
    every name goes through classes.txt ("<folder> <name>" per line). Without
    classes.txt the folder names are taken to be the names.
    """
    path = Path(root) / 'classes.txt'
    if not path.exists():
        return list(folders)
    pairs = [line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise UsageError(f'{path}: every line must read "<folder> <name>"; {FLOWERS_HINT}')
    names = dict(pairs)
    missing = [f for f in folders if f not in names]
    if missing:
        raise UsageError(f'{path} names no class for folder(s) {missing}; {FLOWERS_HINT}')
    return [names[f].strip() for f in folders]


def load_flowers(root, size):
    """Every split of an ImageFolder tree root/{train,val,test}/<class>/*.jpg.

    Returns ({split: (x uint8 (N, 3, size, size), y int64 (N,))}, names),
    where names[i] is the flower of ImageFolder's class index i.
    """
    root = Path(root)
    # the shorter side to ``size``, then the centre square (flowers are mostly centred)
    transform = v2.Compose([v2.Resize(size, antialias=True), v2.CenterCrop(size), v2.PILToTensor()])
    splits, folders = {}, None
    for split in SPLITS:
        if not (root / split).is_dir():
            raise UsageError(f'Oxford Flowers 17 not found: {root / split} is not a folder; {FLOWERS_HINT}')
        try:
            ds = ImageFolder(str(root / split), loader=_decode, transform=transform)
        except FileNotFoundError as e:  # a split with no images
            raise UsageError(f'{e}; {FLOWERS_HINT}') from None
        if folders is None:
            folders = ds.classes
        elif ds.classes != folders:
            raise UsageError(f'{root / split} has class folders {ds.classes}, but train has {folders}')
        x = torch.stack([ds[i][0] for i in range(len(ds))])
        splits[split] = x, torch.tensor(ds.targets, dtype=torch.long)
    return splits, class_names(root, folders)


def resize(x, size):
    """uint8 (N, 3, S, S) -> uint8 (N, 3, size, size), antialiased."""
    return TF.resize(x, [size, size], antialias=True)


def to_float(x):
    """uint8 -> float32 in [0, 1]."""
    return x.float().div(255)


def normalise(x):
    """[0, 1] RGB -> the ImageNet normalisation every torchvision model expects."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def random_resized_crop(x, size, min_area=0.35, max_ratio=4 / 3):
    """A random crop of each image (area fraction in [min_area, 1], aspect
    ratio in [1/max_ratio, max_ratio]), flipped left-right half the time and
    resized to size x size. One affine_grid + grid_sample call does the batch.

    x: float (N, C, H, W) -> (N, C, size, size). affine_grid maps output
    coordinates in [-1, 1] to input ones: x_in = sx * x_out + tx, so sx is
    the crop's width as a fraction of the image, and a negative sx flips it.
    """
    n = len(x)
    area = torch.empty(n).uniform_(min_area, 1.0)
    ratio = torch.empty(n).uniform_(-math.log(max_ratio), math.log(max_ratio)).exp()
    sx, sy = (area * ratio).sqrt().clamp(max=1), (area / ratio).sqrt().clamp(max=1)
    tx, ty = (1 - sx) * (torch.rand(n) * 2 - 1), (1 - sy) * (torch.rand(n) * 2 - 1)
    flip = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    zero = torch.zeros(n)
    theta = torch.stack([torch.stack([sx * flip, zero, tx], 1),
                         torch.stack([zero, sy, ty], 1)], 1).to(x.device)
    grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='reflection', align_corners=False)


def colour_jitter(x, strength=0.3):
    """Scale each image's saturation, contrast and brightness by a random
    factor in [1 - strength, 1 + strength]. x: [0, 1] RGB (N, 3, H, W)."""
    def factor():
        return 1 + (torch.rand(len(x), 1, 1, 1, device=x.device) * 2 - 1) * strength
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * factor()                     # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (mean + (x - mean) * factor()) * factor()        # contrast, then brightness
    return x.clamp(0, 1)


def augment_for_scratch(size):
    """uint8 batch -> float [0, 1] (N, 3, size, size): random crop, flip, colours."""
    def augment(x):
        return colour_jitter(random_resized_crop(to_float(x), size))
    return augment


# ----------------------------------------------------------------------------
# SqueezeNet and its weights
# ----------------------------------------------------------------------------
def squeezenet(arch, num_classes=1000):
    """torchvision's SqueezeNet 1.0 or 1.1 with random weights."""
    if arch not in ARCHS:
        raise UsageError(f'unknown --arch {arch!r}; choose from {", ".join(ARCHS)}')
    return getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)


def _online(host='download.pytorch.org', timeout=3.0):
    """A quick reachability check, so an offline run falls back at once
    instead of waiting for a download to time out."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def torchvision_state_dict(arch, online=_online):
    """torchvision's ImageNet weights for ``arch`` from torch's hub cache, or
    downloaded when the network is reachable; None when neither works."""
    weights = get_model_weights(arch).DEFAULT
    cached = Path(torch.hub.get_dir()) / 'checkpoints' / Path(weights.url).name
    if not cached.exists() and not online():
        return None
    try:
        return weights.get_state_dict(progress=False)
    except Exception as e:  # noqa: BLE001 - any download or read failure means "not available"
        print(f'could not get torchvision {arch} weights ({e})')
        return None


def read_state_dict(path):
    """A state dict saved with torch.save, read without running pickled code."""
    state = load_tensors(path, 'weights file',
                         'get the mirror weights with `bash scripts/get_data.sh weights`, or pass '
                         '--weights imagenet or random')
    if isinstance(state, dict) and 'state_dict' in state:
        raise UsageError(f'{path} is a checkpoint written by a training script (its classifier has '
                         f'{state.get("num_classes", "?")} classes), not ImageNet weights; pass a state dict '
                         'of torchvision\'s SqueezeNet, or --weights imagenet')
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UsageError(f'{path} holds a {type(state).__name__}, not a state dict '
                         '(a dict of parameter name -> tensor, as model.state_dict() returns)')
    check_finite_weights(state, path, 'pass ImageNet weights that trained normally')
    return state


def mismatches(model, state):
    """What stops ``model.load_state_dict(state)``: a list of short lines."""
    expected = model.state_dict()
    problems = [f'missing {k}' for k in expected if k not in state]
    problems += [f'unexpected {k}' for k in state if k not in expected]
    problems += [f'{k}: shape {tuple(state[k].shape)}, expected {tuple(v.shape)}'
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    return problems


def load_weights(model, state, arch, source):
    """load_state_dict with an error that says what is wrong and which --arch
    the weights would fit, instead of PyTorch's list of every key."""
    problems = mismatches(model, state)
    if problems:
        fits = [a for a in ARCHS if a != arch and not mismatches(squeezenet(a), state)]
        hint = (f'they are {fits[0]} weights: pass --arch {fits[0]}' if fits else
                f'pass a state dict of torchvision\'s {arch} (1000 ImageNet classes)')
        shown = '; '.join(problems[:3]) + (f'; ... ({len(problems)} problems)' if len(problems) > 3 else '')
        raise UsageError(f'{source} does not fit --arch {arch} ({shown}); {hint}')
    model.load_state_dict(state)


def pretrained_squeezenet(arch, weights, data_dir, online=_online):
    """SqueezeNet with the weights the command line asks for.

    weights: 'imagenet' -> torchvision's ImageNet weights for ``arch``; where
             they cannot be had (offline), SqueezeNet 1.0 with the mirror's
             ImageNet weights in data_dir/weights/ instead;
             'random'   -> no pretraining (for tests and as a baseline);
             a path     -> a state dict of torchvision's ``arch``.
    Returns (model with the 1000-class ImageNet head, arch, description).
    """
    if weights == 'random':
        return squeezenet(arch), arch, f'random initialisation ({arch}, no pretraining)'
    if weights == 'imagenet':
        state = torchvision_state_dict(arch, online)
        if state is not None:
            source = f'torchvision {arch} ImageNet weights ({get_model_weights(arch).DEFAULT})'
        else:
            path = Path(data_dir) / MIRROR_WEIGHTS
            print(f'torchvision\'s {arch} weights are not available (offline?); '
                  f'falling back to squeezenet1_0 with {path}')
            if not path.is_file():
                raise UsageError(f'no ImageNet weights: torchvision cannot download {arch} weights here '
                                 f'and {path} does not exist; fetch it with `HW5_MIRROR=../shared bash '
                                 'scripts/get_data.sh weights`, or run on a connected machine')
            arch, state = 'squeezenet1_0', read_state_dict(path)
            source = f'{MIRROR_WEIGHTS.name} (ImageNet, squeezenet1_0)'
    else:
        state, source = read_state_dict(weights), str(weights)
    model = squeezenet(arch)
    load_weights(model, state, arch, source)
    return model, arch, source


def replace_classifier(model, num_classes):
    """Give SqueezeNet a new ``num_classes``-way final layer, keeping its design.

    SqueezeNet's classifier is Dropout -> Conv2d(512, 1000, 1) -> ReLU ->
    global average pool: the 1x1 conv scores each of the 13x13 locations,
    and the pool averages the (rectified) scores. Only the conv changes; it
    starts as torchvision initialises SqueezeNet's (weights ~ N(0, 0.01),
    bias 0).
    """
    old = model.classifier[1]
    conv = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
    nn.init.normal_(conv.weight, 0.0, 0.01)
    nn.init.zeros_(conv.bias)
    model.classifier[1] = conv
    model.num_classes = num_classes
    return model


def freeze_backbone(model):
    """Train only the classifier's final conv: everything else is fixed."""
    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.classifier[1].parameters():
        p.requires_grad_(True)
    return model


def head(model):
    """The part of the classifier trained on cached features: conv -> ReLU ->
    pool -> flatten, sharing its modules with ``model``.

    The Dropout(0.5) in front is left out here: drawing its random mask for
    1360 x 512 x 13 x 13 cached values costs over ten times the rest of an
    epoch on a CPU, and with mirrored views and weight decay it moved the
    validation accuracy by under a point. The saved model keeps the Dropout
    module, which does nothing at evaluation anyway.
    """
    return nn.Sequential(*model.classifier[1:], nn.Flatten())


@torch.no_grad()
def backbone_features(model, images, crop, device, precision='float32', flip=False, batch_size=None):
    """SqueezeNet's ``features`` (everything before the classifier) for the
    centre crop of uint8 images (N, 3, S, S): (N, 512, h, w) on the CPU,
    h = w = 13 for a 224 crop, in the dtype they were computed in (float32,
    or bfloat16 when ``precision`` is: the new layer would round them to
    bfloat16 anyway, at half the memory). flip=True mirrors the images
    first (an extra training view: flowers have no left or right).

    On a CPU small batches are faster per image, as the early layers'
    activations then stay in the caches (docs/measurements.md). By default
    a CPU gets batches of 4 and a GPU batches of 64."""
    batch_size = batch_size or (4 if device.type == 'cpu' else 64)
    model.eval()
    start = (images.shape[-1] - crop) // 2
    out = []
    for i in range(0, len(images), batch_size):
        x = to_float(images[i:i + batch_size, :, start:start + crop, start:start + crop].to(device))
        if flip:
            x = x.flip(-1)
        # channels_last runs SqueezeNet's convolutions about 1.7x faster on a CPU
        x = normalise(x).contiguous(memory_format=torch.channels_last)
        with autocast(device, precision):
            out.append(model.features(x).cpu())
    return torch.cat(out)


# ----------------------------------------------------------------------------
# Figure
# ----------------------------------------------------------------------------
def plot_predictions(images, labels, predictions, names, path, title, ncols=6):
    """The first test image of each class with every model's guess under it,
    green when right and red (with a cross) when wrong.

    images: uint8 (N, 3, H, W); labels: (N,); predictions: {model: (N,)}.
    """
    shown = [int((labels == c).nonzero()[0]) for c in sorted(set(labels.tolist()), key=lambda c: names[c])]
    nrows = math.ceil(len(shown) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.9 * ncols, 2.5 * nrows + 0.6), squeeze=False,
                             gridspec_kw=dict(hspace=0.25 + 0.15 * len(predictions), wspace=0.08))
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, shown):
        ax.imshow(images[i].permute(1, 2, 0).numpy())
        ax.set_title(names[int(labels[i])], fontsize=9, fontweight='bold')
        for row, (model, pred) in enumerate(predictions.items()):
            right = int(pred[i]) == int(labels[i])
            mark = '' if right else '\u2717 '
            ax.text(0.5, -0.08 - 0.13 * row, f'{mark}{model}: {names[int(pred[i])]}',
                    transform=ax.transAxes, ha='center', va='top', fontsize=8,
                    color='tab:green' if right else 'tab:red')
    fig.suptitle(title, fontsize=11)
    save_figure(fig, path)
