"""Helpers shared by every question script: the activations the handout's
util.py provides, paths, the command line, the checks on settings, data and
weights, output folders, saving and loading, and the plots the writeup needs.

The scripts run both from the repo root (``python python/run_q3.py``) and from
inside ``python/``, so every path is built from this file's location, never
from the current directory.

Every problem a user can fix is a ``UsageError``: ``run_main`` prints its one
line (what is wrong and how to fix it) and exits with code 2, instead of a
traceback from deep inside numpy.
"""
import argparse
import contextlib
import json
import math
import os
import pickle
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use('Agg')  # the scripts only save figures; no screen is needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / 'data'
IMAGES_DIR = REPO_ROOT / 'images'
# HW5_RESULTS moves every script's default output (and the inputs one
# question reads from another, such as Q4 reading Q3's weights) elsewhere,
# e.g. results-quick/ for the smoke run of the whole chain.
RESULTS_DIR = Path(os.environ.get('HW5_RESULTS', REPO_ROOT / 'results')).resolve()

# Written into every output folder a script creates. Its presence means "this
# folder holds generated results", so a rerun may replace them; a folder
# without it belongs to the user (see prepare_output_dir).
MARKER = '.generated-by-hw5'


class UsageError(Exception):
    """A problem the user can fix (missing data, bad path, wrong weights).
    The scripts print its message without a traceback."""


def short_reason(error):
    """An exception's first line, for a UsageError's "(reason)". Where the
    message says nothing readable (unpickling junk raises KeyError('174812789'))
    the exception's type says more."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ''
    return text if any(c.isalpha() for c in text) else type(error).__name__


def run_main(main):
    """Call main(); turn a UsageError into a clean message and exit code 2.
    Whatever ends the run, an output folder it created and never wrote
    into is removed again, so a failed run leaves no empty result folders."""
    _created_dirs.clear()
    try:
        main()
    except UsageError as e:
        remove_unused_output_dirs()
        print(f'error: {e}', file=sys.stderr)
        raise SystemExit(2) from None
    except BaseException:
        remove_unused_output_dirs()
        raise


# ----------------------------------------------------------------------------
# The activations the handout provides "in util.py" (Q5.1.1), each with its
# derivative as a function of the post-activation, like nn.sigmoid_deriv
# ----------------------------------------------------------------------------
def relu(x):
    """relu(x) = max(x, 0), elementwise."""
    return np.maximum(x, 0)


def relu_deriv(post_act):
    """d relu / dx = 1 where x > 0, else 0. relu(x) > 0 exactly when x > 0."""
    return (post_act > 0).astype(post_act.dtype)


def linear(x):
    """The identity. Used for layers whose nonlinearity is handled elsewhere."""
    return x


def linear_deriv(post_act):
    """d x / dx = 1. Passing this to ``backwards`` makes the activation a no-op."""
    return np.ones_like(post_act)


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------
class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help prints the script's docstring with its own line breaks (usage
    lines and lists stay as written) and each flag's default, where it has one."""

    def _get_help_string(self, action):
        if action.default in (None, False) or '(default' in (action.help or ''):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """argparse as every script here uses it.

    * No abbreviations: ``--epoch 3`` is an error, not a silent ``--epochs 3``.
    * A bad flag or value is a UsageError: one line and exit code 2 (run_main).
    * Settings that --quick shortens (``add_setting``) take their quick value
      only where the user gave none: an explicit flag is never replaced.
    """

    def __init__(self, description, **kwargs):
        super().__init__(description=description, formatter_class=HelpFormatter,
                         allow_abbrev=False, **kwargs)
        self.settings = {}

    def add_setting(self, flag, type, default, quick=None, help=''):
        """A flag whose default is ``default``, or ``quick`` (if given) with
        --quick. default None means "each part's own" (run_q7_1.py). After
        parsing, ``args.given`` names the settings the user gave."""
        shown = "each part's own" if default is None else default
        shown_quick = '' if quick is None else f'; {quick} with --quick'
        action = self.add_argument(flag, type=type, default=None,
                                   help=f'{help} (default: {shown}{shown_quick})')
        self.settings[action.dest] = (default, default if quick is None else quick)

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        parsed.given = {dest for dest in self.settings if getattr(parsed, dest) is not None}
        for dest, (default, quick) in self.settings.items():
            if dest not in parsed.given:
                setattr(parsed, dest, quick if getattr(parsed, 'quick', False) else default)
        return parsed

    def error(self, message):
        raise UsageError(f'{message} (see `{self.prog} --help`)')


def _number(kind, text):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a {"whole number" if kind is int else "number"}') from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'{text!r} is not a finite number')
    return value


def at_least(low, kind=int):
    """An argparse type: a number (int or float) no smaller than ``low``."""
    def parse(text):
        value = _number(kind, text)
        if value < low:
            raise argparse.ArgumentTypeError(f'must be at least {low}, got {text}')
        return value
    parse.__name__ = f'{kind.__name__} >= {low}'
    return parse


def positive(text):
    """An argparse type for step sizes: a finite number above 0 (lr 0 would
    train nothing, a negative one climbs the loss)."""
    value = _number(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be above 0, got {text}')
    return value


def seed_value(text):
    """An argparse type for seeds: numpy's global generator takes 0 to 2^32 - 1."""
    value = _number(int, text)
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f'must be from 0 to {2 ** 32 - 1}, got {text}')
    return value


def add_nn_arg(parser):
    """--nn FOLDER: run a numpy question on a student's own nn.py (network.load_nn)."""
    parser.add_argument('--nn', type=Path, metavar='FOLDER',
                        help="run on the handout functions of the nn.py in FOLDER (a student's own, "
                             "checked first by the submission checker) instead of this project's")


def make_parser(description, question, epochs, lr, batch_size, quick_epochs, seed=0):
    """A Parser with the flags every training script shares. epochs, lr or
    batch_size None: each part has its own (run_q7_1.py)."""
    def own(value, help):
        return help if value is not None else f"{help} (default: each part's own)"
    p = Parser(description)
    p.add_setting('--epochs', at_least(1), epochs, quick_epochs, 'training epochs')
    p.add_argument('--lr', type=positive, default=lr, help=own(lr, 'learning rate'))
    p.add_setting('--batch-size', at_least(1), batch_size, help='examples per batch')
    p.add_argument('--seed', type=seed_value, default=seed, help='random seed (reported in metrics.json)')
    p.add_argument('--quick', action='store_true', help='smoke test: tiny run in seconds')
    p.add_argument('--data-dir', type=Path, default=DATA_DIR, help='folder holding the datasets')
    add_output_args(p, question)
    return p


def add_output_args(parser, question):
    parser.add_argument('--out', type=Path, default=RESULTS_DIR / question,
                        help='output folder')
    parser.add_argument('--force', action='store_true',
                        help='write into --out even if it holds files this project did not make '
                             '(it never replaces them)')


# ----------------------------------------------------------------------------
# Checks on settings, data and training: one place, so every script refuses
# the same bad input with the same clear message
# ----------------------------------------------------------------------------
def fit_batch_size(batch_size, n_train, given, flag='--batch-size'):
    """The batch size to train with. A batch larger than the training set
    would silently be the whole set: a size the user gave is refused, and a
    default larger than a small training set becomes its size, said aloud."""
    if batch_size <= n_train:
        return batch_size
    if given:
        raise UsageError(f'{flag} {batch_size} is more than the {n_train} training examples; '
                         f'choose at most {n_train}')
    print(f'note: the default {flag} {batch_size} is more than the {n_train} training examples; '
          f'using {n_train}')
    return n_train


def check_pixels(x, where, fix):
    """Images as the networks expect them: at least one, every value finite
    and in [0, 1] (ink near 0 for NIST36)."""
    if len(x) == 0:
        raise UsageError(f'{where} holds no images; {fix}')
    bad = x.size - np.count_nonzero(np.isfinite(x))
    if bad:
        raise UsageError(f'{where} has {bad} pixel values that are NaN or infinite; {fix}')
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        hint = ' (0-255 pixels? divide them by 255)' if low >= 0 and high <= 255 else ''
        raise UsageError(f'{where} has pixel values from {low:g} to {high:g}, outside 0 to 1{hint}; {fix}')


def check_one_hot(y, where, fix):
    """Labels as the losses expect them: each row a single 1, 0 elsewhere."""
    bad = ~(np.isin(y, (0, 1)).all(axis=1) & (y.sum(axis=1) == 1))
    if bad.any():
        raise UsageError(f'{where}: labels must be one-hot (a single 1 per row, 0 elsewhere), but '
                         f'{np.count_nonzero(bad)} rows are not, the first row {int(np.argmax(bad))}; {fix}')


def check_class_indices(x, y, num_classes, where, fix):
    """Images x with class indices y (numpy or torch): as many labels as
    images, at least one, and every label a class 0..num_classes-1."""
    if len(x) != len(y):
        raise UsageError(f'{where} has {len(x)} images but {len(y)} labels; {fix}')
    if len(y) == 0:
        raise UsageError(f'{where} holds no images; {fix}')
    low, high = int(y.min()), int(y.max())
    if low < 0 or high >= num_classes:
        raise UsageError(f'{where} has labels from {low} to {high}, but its {num_classes} classes '
                         f'are 0 to {num_classes - 1}; {fix}')


def check_loss(loss, epoch, lr=None):
    """Stop a run whose loss overflowed instead of saving NaN results."""
    if not math.isfinite(loss):
        at = f' with lr {lr:g}' if lr is not None else ''
        raise UsageError(f'training diverged: the loss is {loss} after epoch {epoch}{at}; lower --lr')


# ----------------------------------------------------------------------------
# Output folders and files
# ----------------------------------------------------------------------------
_created_dirs = []  # folders this process created, parents first (see remove_unused_output_dirs)
_users_files = {}   # folder of the user's written with --force -> names that were there before


def prepare_output_dir(path, force=False):
    """Create ``path`` for a script's results and return it as a Path.

    A folder this project made (it holds MARKER), a new one and an empty one
    are the project's: a rerun replaces its results there. A folder with
    other files is the user's: refused, unless --force, which writes next to
    the user's files but never replaces one (``writable``) and leaves no
    marker behind, so the next run asks again.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f'--out {path} is a file, not a folder; choose a folder path')
    if path.is_dir() and not (path / MARKER).exists() and any(path.iterdir()):
        if not force:
            raise UsageError(f'{path} already holds files that this project did not write; '
                             'choose another --out, or pass --force to write there anyway')
        _users_files[path.resolve()] = {p.name for p in path.iterdir()}
        print(f'--force: writing into {path} next to your files; none of them is replaced')
        return path
    _make_dirs(path)
    try:
        (path / MARKER).touch()
    except OSError as e:
        raise UsageError(f'cannot write into --out {path} ({e.strerror}); choose a folder you can write to') \
            from None
    return path


def _make_dirs(path):
    """mkdir -p, remembering each folder it creates; errors as UsageErrors."""
    missing = [p for p in (path, *path.parents) if not p.exists()][::-1]
    for folder in missing:
        try:
            folder.mkdir()
        except FileExistsError:  # made meanwhile (a script beside this one), or a file
            if folder.is_dir():
                continue
            raise UsageError(f'cannot create --out {path}: {folder} exists and is not a folder; '
                             'choose another --out') from None
        except NotADirectoryError:
            raise UsageError(f'cannot create --out {path}: {folder.parent} is a file, not a folder; '
                             'choose another --out') from None
        except OSError as e:
            raise UsageError(f'cannot create --out {path} ({e.strerror}); '
                             'choose a folder you can write to') from None
        _created_dirs.append(folder)


def remove_unused_output_dirs():
    """Remove the folders this process created that hold nothing but the
    marker (a run that failed before writing any result)."""
    for folder in reversed(_created_dirs):
        try:
            if set(os.listdir(folder)) <= {MARKER}:
                (folder / MARKER).unlink(missing_ok=True)
                folder.rmdir()
        except OSError:
            pass  # already gone, or in use: nothing to tidy
    _created_dirs.clear()


def writable(path):
    """``path``, once it is clear that writing it replaces nothing of the
    user's: not a file that was in a --force'd folder of theirs, and not a
    link (writing through it would change the file it points at)."""
    path = Path(path)
    if path.name in _users_files.get(path.parent.resolve(), ()):
        raise UsageError(f'{path} already exists and is not this project\'s; --force never replaces '
                         'your files: move it away, or choose another --out')
    if path.is_symlink():
        raise UsageError(f'{path} is a link; the results are written only as plain files: '
                         'remove the link, or choose another --out')
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
    with open(writable(path), 'w') as f:
        json.dump(_finite_or_none(data), f, indent=2, default=_to_builtin, allow_nan=False)
        f.write('\n')
    print(f'wrote {path}')


@contextlib.contextmanager
def exclusive(path):
    """Run the block holding an exclusive lock on ``path``'s lock file
    (.<name>.lock beside it), so scripts running side by side (the lanes of
    scripts/run_all.sh) never read and rewrite the same file at once.
    Without fcntl (Windows) the block just runs."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(Path(path).with_name(f'.{Path(path).name}.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def save_text(path, text):
    writable(path).write_text(text)
    print(f'wrote {path}')


def _readable(path, what, fix):
    """``path`` as a Path if it is a file; a UsageError naming ``fix`` if not."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f'{what} {path} does not exist; {fix}')
    if path.is_dir():
        raise UsageError(f'{what} {path} is a folder; pass the file itself')
    return path


def load_json(path, made_by=None):
    """A JSON file, with one-line errors for a missing, unreadable or
    malformed one. made_by: the script that writes it, for the fix."""
    fix = f'run `python python/{made_by}` to write it' if made_by else 'check the path'
    path = _readable(path, 'JSON file', fix)
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except json.JSONDecodeError as e:
        raise UsageError(f'{path} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); '
                         f'fix it{", or " + fix if made_by else ""}') from None
    except (UnicodeDecodeError, OSError) as e:
        raise UsageError(f'cannot read {path} as JSON text ({short_reason(e)}); {fix}') from None


def save_pickle(path, obj):
    with open(writable(path), 'wb') as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f'wrote {path}')


def load_pickle(path, what='weights', made_by=None):
    """Load a pickle with a clear error if it is missing or unreadable."""
    fix = f'run `python python/{made_by}` to make it' if made_by else 'check the path'
    path = _readable(path, f'{what} file', fix)
    try:
        with open(path, 'rb') as f:
            return pickle.load(f)
    except Exception as e:  # noqa: BLE001 - junk bytes make pickle raise almost any type
        raise UsageError(f'{path} is not a readable pickle ({short_reason(e)}); {fix}') from None


def param_names(params):
    """The learnable parameters' keys (W*, b*) of a params dict, sorted; not
    the caches, gradients or momentum accumulators stored beside them."""
    return sorted(k for k in params if k[0] in 'Wb' and not k.startswith('grad'))


def save_params(path, params):
    """Pickle only the learnable arrays (W*, b*) of a params dict."""
    save_pickle(path, {k: params[k] for k in param_names(params)})


def load_params(path, expected_shapes, made_by=None):
    """Load a params pickle and check every array against ``expected_shapes``
    (key -> shape), so wrong weights fail here and not inside a matmul, and
    weights of a diverged run (NaN) are refused instead of classifying every
    input as class 0."""
    params = load_pickle(path, made_by=made_by)
    source = made_by or 'the expected script'
    if not isinstance(params, dict):
        raise UsageError(f'{path} holds a {type(params).__name__}, not a params dict; '
                         f'pass weights written by {source}')
    for key, shape in expected_shapes.items():
        if key not in params:
            raise UsageError(f'{path} has no {key!r} (keys: {sorted(map(str, params))}); '
                             f'it was not written by {source}')
        value = params[key]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in 'fiu':
            raise UsageError(f'{path}: {key} is a {type(value).__name__}, not a numpy array of numbers; '
                             f'pass weights written by {source}')
        if tuple(value.shape) != tuple(shape):
            raise UsageError(f'{path}: {key} has shape {tuple(value.shape)}, '
                             f'expected {tuple(shape)}; retrain or pass matching weights')
        if not np.isfinite(value).all():
            raise UsageError(f'{path}: {key} holds NaN or infinite values (a diverged training run?); '
                             'retrain with a lower --lr, or pass other weights')
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
    few = max(map(len, curves.values()), default=0) <= 12   # a dot per epoch when there are few
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label,
                **{'marker': 'o' if few else None, **(styles or {}).get(label, {})})
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs are whole numbers
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path)


# The two figures of a training history: (metric key, file name, y label)
HISTORY_FIGURES = (('acc', 'accuracy', 'accuracy'), ('loss', 'loss', 'cross-entropy (mean per example)'))


def plot_history(runs, out_dir, title, suffix='', note='', styles=None):
    """accuracy<suffix>.png and loss<suffix>.png from training histories.

    runs: {run label: history}; a history holds a list per '<split>_acc' and
    '<split>_loss' key, as the training loops record them. Each list is a
    curve, labelled '<split>', or '<run label>: <split>' when the label is
    not ''. note: added to each title in brackets; styles: as plot_curves.
    """
    for metric, name, ylabel in HISTORY_FIGURES:
        curves = {}
        for label, history in runs.items():
            for key, values in history.items():
                if key.endswith('_' + metric) and isinstance(values, list):
                    split = key[:-len(metric) - 1]
                    curves[f'{label}: {split}' if label else split] = values
        plot_curves(curves, Path(out_dir) / f'{name}{suffix}.png',
                    f'{title}: {name}' + (f' ({note})' if note else ''), ylabel, styles=styles)


def image_grid(images, path, title, nrows=None, ncols=None, labels=None,
               cmap='Greys_r', symmetric=False):
    """Show equally sized 2-D images in a grid (``image_grids``, one panel).

    images:    (K, H, W) array or a list of (H, W) arrays, already upright.
    labels:    optional per-image titles.
    symmetric: centre each image's colour scale on 0 (for signed weights).
    """
    image_grids([(None, images, labels)], path, title, nrows, ncols, cmap, symmetric)


def mosaic(images, nrows, ncols, gap, value_range=None, symmetric=False):
    """Tile K images (H, W) into one (nrows H + gaps, ncols W + gaps) array,
    row by row, with ``gap`` pixels between cells, each image scaled to
    [0, 1]: by value_range (lo, hi) if given, else stretched from its own
    min to max (or from -max|x| to max|x| when symmetric, so 0 maps to 0.5).
    The gaps and unused cells are NaN, drawn blank. Colour images (H, W, 3)
    in [0, 1] are placed as they are, on white.
    """
    h, w = np.shape(images[0])[:2]
    colour = np.shape(images[0])[2:]
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap, *colour),
                  1.0 if colour else np.nan, np.float32)
    for i, img in enumerate(images):
        img = np.asarray(img, np.float32)
        if colour:
            lo, hi = 0.0, 1.0
        elif value_range is not None:
            lo, hi = value_range
        elif symmetric:
            hi = float(np.abs(img).max()) or 1.0
            lo = -hi
        else:
            lo, hi = float(img.min()), float(img.max())
        r, c = divmod(i, ncols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = \
            (img - lo) / (hi - lo) if hi > lo else 0.5
    return out


def image_grids(panels, path, title, nrows=None, ncols=None, cmap='Greys_r', symmetric=False,
                value_range=None):
    """Panels of images side by side, e.g. weights before/after training.

    panels: list of (panel_title or None, images, labels or None); every
    panel is laid out as nrows x ncols (default: about square).
    value_range: (lo, hi) fixes one colour scale for every image, e.g. (0, 1)
    for pixels, so that images can be compared; by default each is stretched.

    Each panel is one picture (``mosaic``) with the labels written above
    its cells: one imshow instead of one set of axes per image, which draws
    a grid of hundreds of images in a fraction of a second instead of seconds.
    """
    k = max(len(images) for _, images, _ in panels)
    ncols = ncols or int(np.ceil(np.sqrt(k)))
    nrows = nrows or int(np.ceil(k / ncols))
    labelled = any(labels is not None for _, _, labels in panels)
    cell = 1.3 if labelled else 0.9
    fig, axes = plt.subplots(1, len(panels), squeeze=False,
                             figsize=(cell * ncols * len(panels) + 0.4 * (len(panels) - 1), cell * nrows * 1.1))
    colours = plt.get_cmap(cmap).with_extremes(bad='white')
    for ax, (panel_title, images, labels) in zip(axes[0], panels):
        h, w = np.shape(images[0])[:2]
        # labelled cells leave 45% of their height above them for the text
        gap = max(1, round((0.45 if labelled else 0.06) * h))
        ax.imshow(mosaic(images, nrows, ncols, gap, value_range, symmetric), cmap=colours, vmin=0, vmax=1,
                  interpolation='nearest')
        for i, label in enumerate(labels if labels is not None else []):
            r, c = divmod(i, ncols)
            ax.text(c * (w + gap) + w / 2, r * (h + gap) - 0.5, label, fontsize=8, ha='center', va='bottom')
        ax.set_axis_off()
        if panel_title:
            ax.set_title(panel_title, fontsize=11, pad=14 if labelled else 6)
    fig.suptitle(title, fontsize=13, y=1.0, va='bottom')
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path):
    try:
        # a PNG at zlib level 3 instead of PIL's 6: a photo-sized figure is
        # written in about 0.35 s instead of 0.5-0.6 s, for files 12% larger
        png = {'pil_kwargs': {'compress_level': 3}} if Path(path).suffix.lower() == '.png' else {}
        fig.savefig(writable(path), dpi=110, bbox_inches='tight', **png)
    finally:
        plt.close(fig)
    print(f'wrote {path}')
