"""Helpers shared by every question script: paths, output folders, saving
results, and the plots the writeup needs.

The scripts run both from the repo root (``python python/run_q3.py``) and from
inside ``python/``, so every path is built from this file's location, never
from the current directory.
"""
import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use('Agg')  # the scripts only save figures; no screen is needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from mpl_toolkits.axes_grid1 import ImageGrid  # noqa: E402

# relu is "provided in util.py" by the handout; it lives with the other
# activations in nn.py and is re-exported here so starter-style imports work.
from nn import relu, relu_deriv  # noqa: E402,F401

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / 'data'
IMAGES_DIR = REPO_ROOT / 'images'
# HW5_RESULTS moves every script's default output (and the inputs one
# question reads from another, such as Q4 reading Q3's weights) elsewhere,
# e.g. results-quick/ for the smoke run of the whole chain.
RESULTS_DIR = Path(os.environ.get('HW5_RESULTS', REPO_ROOT / 'results')).resolve()

# Written into every output folder a script creates. Its presence means "this
# folder holds generated results", so a rerun may replace them; a folder
# without it belongs to the user and is only written with --force.
MARKER = '.generated-by-hw5'


class UsageError(Exception):
    """A problem the user can fix (missing data, bad path, wrong weights).
    The scripts print its message without a traceback."""


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------
def make_parser(description, question, epochs, lr, batch_size, seed=0):
    """An argparse parser with the flags every training script shares."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--epochs', type=int, default=epochs, help='training epochs')
    p.add_argument('--lr', type=float, default=lr, help='learning rate')
    p.add_argument('--batch-size', type=int, default=batch_size, help='examples per batch')
    p.add_argument('--seed', type=int, default=seed, help='random seed (reported in metrics.json)')
    p.add_argument('--quick', action='store_true', help='smoke test: tiny run in seconds')
    p.add_argument('--data-dir', type=Path, default=DATA_DIR, help='folder holding the datasets')
    add_output_args(p, question)
    return p


def add_output_args(parser, question):
    parser.add_argument('--out', type=Path, default=RESULTS_DIR / question,
                        help='output folder')
    parser.add_argument('--force', action='store_true',
                        help='write into --out even if it holds files this project did not make')


def run_main(main):
    """Call main(); turn a UsageError into a clean message and exit code 2."""
    try:
        main()
    except UsageError as e:
        print(f'error: {e}', file=sys.stderr)
        raise SystemExit(2) from None


# ----------------------------------------------------------------------------
# Output folders and files
# ----------------------------------------------------------------------------
def prepare_output_dir(path, force=False):
    """Create ``path`` for a script's results and return it as a Path.

    Refuses a non-empty folder that this project did not create, so a stray
    --out can never overwrite someone's own files unless they pass --force.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f'--out {path} is a file, not a folder; choose a folder path')
    if path.is_dir() and any(path.iterdir()) and not (path / MARKER).exists() and not force:
        raise UsageError(f'{path} already holds files that this project did not write; '
                         'choose another --out, or pass --force to write there anyway')
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).touch()
    return path


def _to_builtin(obj):
    """json.dump hook for numpy scalars and arrays."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f'cannot store {type(obj).__name__} in JSON')


def _finite_or_none(obj):
    """Replace NaN/inf (a diverged run) by None: strict JSON has no NaN."""
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not np.isfinite(obj):
        return None
    return obj


def save_json(path, data):
    with open(path, 'w') as f:
        json.dump(_finite_or_none(data), f, indent=2, default=_to_builtin, allow_nan=False)
        f.write('\n')
    print(f'wrote {path}')


def load_json(path):
    path = Path(path)
    if not path.exists():
        raise UsageError(f'{path} does not exist; run the script that writes it first')
    with open(path) as f:
        return json.load(f)


def save_pickle(path, obj):
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f'wrote {path}')


def load_pickle(path, what='weights', made_by=None):
    """Load a pickle with a clear error if it is missing or unreadable."""
    path = Path(path)
    hint = f' (run `python python/{made_by}` to make it)' if made_by else ''
    if not path.exists():
        raise UsageError(f'{what} file {path} does not exist{hint}')
    try:
        with open(path, 'rb') as f:
            return pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as e:
        raise UsageError(f'{path} is not a readable pickle ({e}){hint}') from None


def save_params(path, params):
    """Pickle only the learnable arrays (W*, b*) of a params dict."""
    save_pickle(path, {k: v for k, v in params.items() if k[0] in 'Wb'})


def load_params(path, expected_shapes, made_by=None):
    """Load a params pickle and check every array against ``expected_shapes``
    (key -> shape), so wrong weights fail here and not inside a matmul."""
    params = load_pickle(path, made_by=made_by)
    if not isinstance(params, dict):
        raise UsageError(f'{path} holds a {type(params).__name__}, not a params dict')
    for key, shape in expected_shapes.items():
        if key not in params:
            raise UsageError(f'{path} has no {key!r} (keys: {sorted(params)}); '
                             f'it was not written by {made_by or "the expected script"}')
        if tuple(params[key].shape) != tuple(shape):
            raise UsageError(f'{path}: {key} has shape {tuple(params[key].shape)}, '
                             f'expected {tuple(shape)}; retrain or pass matching weights')
    return params


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# ----------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------
def plot_curves(curves, path, title, ylabel, xlabel='epoch', styles=None):
    """Line plot of named series against 1..T. curves: {label: [values]};
    styles: optional {label: matplotlib line kwargs}, e.g. a colour per run
    and a dashed line for validation."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label, **(styles or {}).get(label, {}))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


def image_grid(images, path, title, nrows=None, ncols=None, labels=None,
               cmap='Greys_r', symmetric=False):
    """Show equally sized 2-D images in one ``ImageGrid``.

    images:    (K, H, W) array or a list of (H, W) arrays, already upright.
    labels:    optional per-image titles.
    symmetric: centre each image's colour scale on 0 (for signed weights).
    """
    image_grids([(None, images, labels)], path, title, nrows, ncols, cmap, symmetric)


def image_grids(panels, path, title, nrows=None, ncols=None, cmap='Greys_r', symmetric=False,
                value_range=None):
    """Several ``ImageGrid`` panels side by side, e.g. weights before/after.

    panels: list of (panel_title or None, images, labels or None); every
    panel is laid out as nrows x ncols (default: about square).
    value_range: (lo, hi) fixes one colour scale for every image, e.g. (0, 1)
    for pixels, so that images can be compared; by default each is stretched.
    """
    k = max(len(images) for _, images, _ in panels)
    ncols = ncols or int(np.ceil(np.sqrt(k)))
    nrows = nrows or int(np.ceil(k / ncols))
    labelled = any(labels is not None for _, _, labels in panels)
    cell = 1.3 if labelled else 0.9
    # Height follows the grid's aspect so no blank band opens above it.
    fig = plt.figure(figsize=(cell * ncols * len(panels) + 0.4 * (len(panels) - 1),
                              cell * nrows * 1.1))
    subfigs = np.atleast_1d(fig.subfigures(1, len(panels), wspace=0.05))
    for subfig, (panel_title, images, labels) in zip(subfigs, panels):
        top = 0.9 if panel_title else 0.97  # room for the panel's title
        grid = ImageGrid(subfig, (0.02, 0.01, 0.96, top), nrows_ncols=(nrows, ncols),
                         axes_pad=0.3 if labelled else 0.04)
        for i, ax in enumerate(grid):
            # Hidden axes still lay out their ticks for every title: dropping
            # the ticks gives the same picture a third faster.
            ax.set(xticks=[], yticks=[])
            ax.set_axis_off()
            if i >= len(images):
                continue
            img = np.asarray(images[i])
            lim = (np.abs(img).max() or 1.0) if symmetric else None
            vmin, vmax = value_range or ((-lim, lim) if lim else (None, None))
            ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
            if labels is not None:
                ax.set_title(labels[i], fontsize=8)
        if panel_title:
            subfig.suptitle(panel_title, fontsize=11)
    fig.suptitle(title, fontsize=13, y=1.0, va='bottom')
    save_figure(fig, path)


def save_figure(fig, path):
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
    print(f'wrote {path}')
