"""The child side of check_submission.py: run one check's calls on a student's code.

    python submission_probe.py STUDENT_DIR MODULE CHECK INPUTS.pickle RESULT.pickle

check_submission.py starts this script once per check, in a process of its
own, with a time limit, stdin closed, stdout discarded and the working
directory set to a temporary copy of the student's folder. It imports the
student's MODULE (nn or q4), calls their functions on the inputs the parent
made, and pickles what came back to RESULT.pickle: raw values, not verdicts.
The parent, which holds this project's reference functions, does the judging.

Two rules keep this process honest:
  * Nothing from this project is imported: the student's files are called
    nn.py and util.py too, and their module must be the one that loads. The
    activations handed to their forward and backwards (``sigmoid``, ...) are
    their own where the import step found them right, as the handout's
    scripts pass them, else textbook one-liners written out below.
  * Whatever the student's code does (print, warn, raise, exit, return odd
    types) is recorded, never allowed to stop the recording. Only a hard
    crash or the time limit ends this process without a result, and the
    parent reports those.
"""
import copy
import functools
import importlib
import importlib.util
import inspect
import io
import os
import pickle
import signal
import sys
import time
import traceback
import types
import warnings

# The student's folder goes first on the path, so `import nn` and their
# `from util import *` find their files. This script's folder, checker/,
# holds no nn.py or util.py, and the parent passes no PYTHONPATH, so a
# util.py they forgot is reported missing, not replaced by ours.
STUDENT_DIR = os.path.abspath(sys.argv[1]) if __name__ == '__main__' else ''
if __name__ == '__main__':
    sys.path.insert(0, STUDENT_DIR)

import numpy as np  # noqa: E402

PRINT_KEEP = 2000        # characters of the student's printing kept for the report
MAX_ITEMS = 10000        # longest list or iterator recorded (an endless generator stops here)

# ----------------------------------------------------------------------------
# The course's older libraries: names removed since, mapped to today's
# ----------------------------------------------------------------------------
# Submissions were written against the numpy and scikit-image of their year.
# A name those libraries have since removed is the library's drift, not the
# student's bug: it is mapped to today's equivalent, and the report says so.
OLD_NUMPY = {'float': float, 'int': int, 'bool': bool, 'object': object, 'complex': complex,
             'str': str, 'unicode': str, 'long': int, 'float_': np.float64,
             'complex_': np.complex128, 'string_': np.bytes_, 'unicode_': np.str_,
             'int0': np.intp, 'uint0': np.uintp, 'bool8': np.bool_, 'NaN': np.nan, 'NAN': np.nan,
             'Inf': np.inf, 'Infinity': np.inf, 'infty': np.inf, 'PINF': np.inf, 'NINF': -np.inf,
             'product': np.prod, 'cumproduct': np.cumprod, 'alltrue': np.all, 'sometrue': np.any,
             'round_': np.round, 'asscalar': lambda a: np.asarray(a).item(),
             'in1d': getattr(np, 'isin', None), 'trapz': getattr(np, 'trapezoid', None)}
# scikit-image packages whose functions took `multichannel=` / `selem=` before 0.19
SKIMAGE_PACKAGES = ('color', 'exposure', 'feature', 'filters', 'measure', 'metrics',
                    'morphology', 'restoration', 'segmentation', 'transform', 'util')
# (package, old name) -> (package, today's name)
OLD_SKIMAGE_NAMES = {('color', 'rgb2grey'): ('color', 'rgb2gray'),
                     ('color', 'grey2rgb'): ('color', 'gray2rgb'),
                     ('measure', 'compare_psnr'): ('metrics', 'peak_signal_noise_ratio'),
                     ('measure', 'compare_ssim'): ('metrics', 'structural_similarity'),
                     ('measure', 'compare_mse'): ('metrics', 'mean_squared_error'),
                     ('morphology', 'watershed'): ('segmentation', 'watershed')}
MAPPED = []          # what was mapped in this process: a note for the report


def note_mapped(text):
    if text not in MAPPED:
        MAPPED.append(text)


def map_old_numpy_names():
    """np.float and friends, through numpy's module __getattr__ (PEP 562):
    only a name numpy no longer has reaches it, so today's names are untouched."""
    today = np.__dict__.get('__getattr__')

    def old_name(name):
        # Only for the student's code: libraries probe names with hasattr.
        if OLD_NUMPY.get(name) is not None and from_student(sys._getframe(1)):
            note_mapped(f'np.{name} (removed from numpy) read as today\'s equivalent')
            return OLD_NUMPY[name]
        if today is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return today(name)
    np.__getattr__ = old_name
    np.delete = old_delete(np.delete)


def old_delete(delete):
    """np.delete as numpy before 1.19 ran it for the student's code: indices
    past the end were ignored (with a DeprecationWarning), not an IndexError."""
    @functools.wraps(delete)
    def tolerant(arr, obj, axis=None):
        try:
            return delete(arr, obj, axis=axis)
        except IndexError:
            if not from_student(sys._getframe(1)) or isinstance(obj, slice):
                raise
            n = np.shape(arr)[axis] if axis is not None else np.size(arr)
            kept = np.asarray(obj).ravel()
            kept = kept[(kept >= -n) & (kept < n)]
            note_mapped('np.delete with indices past the end run as numpy < 1.19 did (ignored)')
            return delete(arr, kept, axis=axis)
    return tolerant


def from_student(frame):
    """Is this frame's code in the student's folder (not a library's)?"""
    return bool(STUDENT_DIR) and \
        os.path.abspath(frame.f_code.co_filename).startswith(STUDENT_DIR + os.sep)


def old_keywords(fn, where):
    """fn, accepting the keywords scikit-image removed: multichannel=,
    selem=, neighbors= (label), coordinates= (regionprops), in_place=
    (remove_small_objects). Each such function has a parameter of today's in
    their place (regionprops its cache, remove_small_objects its out); any
    other function is returned as it is."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    if not {'channel_axis', 'footprint', 'connectivity', 'cache', 'out'} & set(params):
        return fn

    @functools.wraps(fn)
    def today(*args, **kwargs):
        if 'multichannel' in kwargs and 'channel_axis' in params:
            kwargs['channel_axis'] = -1 if kwargs.pop('multichannel') else None
            note_mapped(f'{where}(multichannel=...) run as channel_axis= (scikit-image 0.19)')
        if 'selem' in kwargs and 'footprint' in params:
            kwargs['footprint'] = kwargs.pop('selem')
            note_mapped(f'{where}(selem=...) run as footprint= (scikit-image 0.19)')
        if 'neighbors' in kwargs and 'connectivity' in params:
            kwargs['connectivity'] = 1 if kwargs.pop('neighbors') == 4 else 2
            note_mapped(f'{where}(neighbors=...) run as connectivity= (scikit-image 0.16)')
        for gone in ('coordinates', 'in_place'):
            if gone in kwargs and gone not in params:
                kwargs.pop(gone)
                note_mapped(f'{where}({gone}=...) dropped (removed from scikit-image)')
        return fn(*args, **kwargs)
    return today


def map_old_skimage_names():
    """Every public function of the skimage packages, reached through each
    package's lazy __getattr__, accepts the removed keywords; removed
    function names resolve to today's."""
    packages = {p: importlib.import_module(f'skimage.{p}') for p in SKIMAGE_PACKAGES}
    for pkg, module in packages.items():
        lazy = module.__dict__.get('__getattr__')

        def attribute(name, pkg=pkg, module=module, lazy=lazy):
            if (pkg, name) == ('morphology', 'selem'):
                note_mapped('skimage.morphology.selem (removed) read as its footprints')
                return sys.modules['skimage.morphology.selem']
            if (pkg, name) in OLD_SKIMAGE_NAMES:
                new_pkg, new = OLD_SKIMAGE_NAMES[pkg, name]
                note_mapped(f'skimage.{pkg}.{name} (removed) run as skimage.{new_pkg}.{new}')
                value = getattr(packages[new_pkg], new)
            elif lazy is None:
                raise AttributeError(f"module 'skimage.{pkg}' has no attribute {name!r}")
            else:
                value = lazy(name)
            if callable(value) and not isinstance(value, type):
                value = old_keywords(value, f'skimage.{pkg}.{name}')
                module.__dict__[name] = value      # found once, not on every call
            return value
        module.__getattr__ = attribute
        # functions the package already loaded eagerly
        for name, value in list(module.__dict__.items()):
            if not name.startswith('_') and callable(value) and not isinstance(value, type) \
                    and getattr(value, '__module__', '').startswith('skimage'):
                module.__dict__[name] = old_keywords(value, f'skimage.{pkg}.{name}')
    # skimage.morphology.selem, the module of structuring elements, is now footprints
    morphology = packages['morphology']
    selem = types.ModuleType('skimage.morphology.selem')
    for name in ('disk', 'square', 'rectangle', 'diamond', 'star', 'ball', 'cube',
                 'octagon', 'octahedron', 'ellipse'):
        if hasattr(morphology, name):
            setattr(selem, name, getattr(morphology, name))
    sys.modules.setdefault('skimage.morphology.selem', selem)


# modules numpy has since renamed: students' editors imported private names from them
OLD_NUMPY_MODULES = {'numpy.lib.function_base': 'numpy.lib._function_base_impl',
                     'numpy.lib.shape_base': 'numpy.lib._shape_base_impl',
                     'numpy.lib.index_tricks': 'numpy.lib._index_tricks_impl',
                     'numpy.lib.arraysetops': 'numpy.lib._arraysetops_impl'}


def map_old_numpy_modules(source):
    for old, new in OLD_NUMPY_MODULES.items():
        if old in source and old not in sys.modules:
            try:
                sys.modules[old] = importlib.import_module(new)
            except ImportError:
                continue
            note_mapped(f'{old} (renamed in numpy 2) imported as {new}')


def map_old_library_names(source):
    """Install the mappings before the student's module is imported; the
    skimage ones only where their code mentions skimage (0.3 s of imports)."""
    map_old_numpy_names()
    map_old_numpy_modules(source)
    if 'skimage' in source:
        try:
            map_old_skimage_names()
        except Exception:  # noqa: BLE001  (without the mapping their code still runs)
            pass


# ----------------------------------------------------------------------------
# The activations we hand to the student's forward and backwards
# ----------------------------------------------------------------------------
def sigmoid(x):
    """Overflow-free logistic function: (1 + tanh(x / 2)) / 2."""
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(x, dtype=float))


def sigmoid_deriv(post_act):
    return post_act * (1.0 - post_act)


def linear(x):
    return x


def linear_deriv(post_act):
    return np.ones_like(post_act)


SAMPLE = np.linspace(-4, 4, 24).reshape(4, 6)       # where their activations are tried


OWN_ACTIVATIONS = {'sigmoid': (sigmoid, SAMPLE), 'linear': (linear, SAMPLE),
                   'sigmoid_deriv': (sigmoid_deriv, sigmoid(SAMPLE)),
                   'linear_deriv': (linear_deriv, SAMPLE)}


def right_activations(mod, seconds=2.0):
    """Which of the student's activations and derivatives give ours' values.
    Run once, in the import step, with a time limit per function: one that
    hangs or crashes the process here costs this step, not every check."""
    def too_long(*_):
        raise TimeoutError
    signal.signal(signal.SIGALRM, too_long)
    right = {}
    for name, (ours, x) in OWN_ACTIVATIONS.items():
        fn = getattr(mod, name, None)
        if not callable(fn):
            continue
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                got = np.asarray(fn(x.copy()), dtype=float)
            right[name] = got.shape == x.shape and bool(np.allclose(got, ours(x.copy()), atol=1e-9))
        except BaseException:  # noqa: B036  (any failure: ours is used)
            right[name] = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return right


def their_own(mod, name, inp):
    """The student's own function `name` where the import step found it
    right, as the handout's scripts pass it (run_q2.py passes their
    sigmoid_deriv and linear_deriv); else ours. Code may test
    `activation_deriv == sigmoid_deriv`, which only their own object passes;
    a wrong one is replaced by ours, so that one bug fails one check."""
    if inp.get('theirs', {}).get(name):
        return getattr(mod, name)
    return OWN_ACTIVATIONS[name][0]


def recording(deriv, log):
    """deriv, but first note the array it was called with: tells the parent
    whether backwards passed the post-activation (right) or the pre-activation."""
    def wrapped(x, *args, **kwargs):
        log.append(np.array(x, dtype=float, copy=True))
        return deriv(np.asarray(x, dtype=float))
    return wrapped


def numerical_gradient(loss_fn, params, key, eps=1e-6):
    """Central differences of loss_fn(params) for every scalar of params[key].

    The same as network.numerical_gradient, written again on purpose: in
    this process the student's folder comes first on sys.path and our
    python/ is off it, so their util.py can never stand in for ours."""
    theta = params[key]
    grad = np.zeros(np.shape(theta))
    for i in np.ndindex(grad.shape):
        original = theta[i]
        theta[i] = original + eps
        plus = loss_fn(params)
        theta[i] = original - eps
        minus = loss_fn(params)
        theta[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad


# ----------------------------------------------------------------------------
# Recording what the student's code does
# ----------------------------------------------------------------------------
class CappedText(io.TextIOBase):
    """A text stream that keeps the first PRINT_KEEP characters and counts the
    rest, so a print flood costs time (bounded by the limit), not memory."""

    def __init__(self):
        self.kept, self.total = [], 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        if self.total < PRINT_KEEP:
            self.kept.append(s[:PRINT_KEEP - self.total])
        self.total += len(s)
        return len(s)

    def text(self):
        return ''.join(self.kept)


def plain(value, depth=0):
    """value as something the parent can unpickle without the student's code:
    arrays, numbers, strings, None, and lists/tuples/dicts of those. Anything
    else becomes {'__object__': type name, 'repr': ...}; an iterator becomes
    {'__iterator__': type name, 'items': [...]} (up to MAX_ITEMS)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return [plain(v, depth + 1) for v in value.tolist()]
        # a plain ndarray: subclasses (np.matrix, masked arrays) would need
        # their own classes to unpickle, which the parent does not allow
        return np.array(value, copy=True, subok=False)
    if depth > 6:
        return {'__object__': type(value).__name__, 'repr': '(nested too deep)'}
    if isinstance(value, (list, tuple)):
        items = [plain(v, depth + 1) for v in value[:MAX_ITEMS]]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    if hasattr(value, '__next__'):
        items = []
        for v in value:
            if len(items) == MAX_ITEMS:
                break
            items.append(plain(v, depth + 1))
        return {'__iterator__': type(value).__name__, 'items': items}
    try:
        text = repr(value)[:200]
    except Exception:  # a broken __repr__ is the student's, not ours
        text = '?'
    return {'__object__': type(value).__name__, 'repr': text}


def error_summary(exc):
    """'TypeError: message', the traceback, and where in the student's files
    it was raised ('nn.py line 57': the innermost frame in their folder)."""
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    theirs = [fr for fr in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(fr.filename).startswith(STUDENT_DIR + os.sep)]
    where = f'{os.path.basename(theirs[-1].filename)} line {theirs[-1].lineno}' if theirs else None
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001  (their exception class's __str__ may itself fail)
        message = '?'
    out = {'error': f'{type(exc).__name__}: {message}'[:500], 'where': where,
           'traceback': ''.join(tb)[-4000:]}
    missing = missing_library(exc)
    if missing:
        out['environment'] = missing
    return out


# Libraries the handout allows and what they pull in: one missing here is
# this machine's problem, never the student's. (A missing cv2 or sklearn is
# theirs: the handout allows only numpy, scipy, scikit-image, matplotlib, torch.)
ENVIRONMENT_LIBRARIES = {'pywt': 'PyWavelets', 'numpy': 'numpy', 'scipy': 'scipy',
                         'skimage': 'scikit-image', 'matplotlib': 'matplotlib', 'torch': 'torch',
                         'torchvision': 'torchvision', 'PIL': 'Pillow', 'imageio': 'imageio',
                         'tifffile': 'tifffile', 'networkx': 'networkx',
                         'lazy_loader': 'lazy_loader'}


def missing_library(exc):
    """The pip name of an allowed library that is not installed here, if
    that is why exc was raised (skimage says 'PyWavelets is not installed')."""
    if not isinstance(exc, ImportError):
        return None
    name = (getattr(exc, 'name', None) or '').split('.')[0]
    if name in ENVIRONMENT_LIBRARIES:
        # numpy.lib.function_base is missing, numpy is not: not the machine's lack
        return None if importlib.util.find_spec(name) else ENVIRONMENT_LIBRARIES[name]
    text = str(exc)
    return next((pip for pip in ENVIRONMENT_LIBRARIES.values()
                 if f'{pip} is not installed' in text), None)


def warning_texts(caught):
    """The distinct warning messages, at most 20 (a warning in a loop repeats)."""
    return list(dict.fromkeys(str(w.message)[:300] for w in caught))[:20]


def call(fn, *args, **kwargs):
    """Call a student function on deep copies of the arguments.

    Returns {'value': ..., 'warnings': [...], 'seconds': ...}, or
    {'error': ..., 'traceback': ...} if it raised (SystemExit included: a
    stray exit() in their code is an error of that call, not of the check).
    Mutable arguments the caller wants to inspect afterwards (a params
    dict) are passed in ``kwargs['_keep']`` and not copied.
    """
    keep = kwargs.pop('_keep', ())
    args = [a if any(a is k for k in keep) else copy.deepcopy(a) for a in args]
    before = [snapshot(a) for a in args]
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            value = fn(*args, **kwargs)
        except BaseException as e:  # noqa: B036  (exit() and KeyboardInterrupt too)
            out = error_summary(e)
            out['warnings'] = warning_texts(caught)
            return out
        changed = changed_arguments(fn, args, before)
        # A generator's body runs only when iterated: do it here, inside the
        # warning catcher and the error handler.
        try:
            recorded = plain(value)
        except BaseException as e:  # noqa: B036
            return error_summary(e)
    out = {'value': recorded, 'warnings': warning_texts(caught),
           'seconds': time.perf_counter() - start}
    if changed:
        out['changed'] = changed
    return out


def snapshot(arg):
    """The arrays of an argument as they were before the call: an array, or
    the arrays of a dict (a params dict)."""
    if isinstance(arg, np.ndarray):
        return arg.copy()
    if isinstance(arg, dict):
        return {k: v.copy() for k, v in arg.items() if isinstance(v, np.ndarray)}
    return None


def changed_arguments(fn, args, before):
    """The caller's arrays the call overwrote in place (x -= x.max(...),
    np.random.shuffle(x)), named as fn names its parameters."""
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    changed = []
    for i, (arg, old) in enumerate(zip(args, before)):
        name = names[i] if i < len(names) else f'argument {i + 1}'
        if isinstance(old, np.ndarray):
            if not same_array(arg, old):
                changed.append(name)
        elif isinstance(old, dict):
            changed += [f'{name}[{k!r}]' for k, v in old.items() if not same_array(arg.get(k), v)]
    return changed


def same_array(a, b):
    return isinstance(a, np.ndarray) and a.shape == b.shape and \
        bool(np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'))


# ----------------------------------------------------------------------------
# One probe per check: the calls it makes, what it records
# ----------------------------------------------------------------------------
# Each probe stores one entry per call in ``calls``, a Recorder that saves
# the result file after every entry: when a later call hangs and the parent
# stops the process, the calls that did finish are still judged.
def probe_initialize_weights(mod, inp, calls):
    for label, (in_size, out_size, name) in inp['cases'].items():
        params = {}
        r = call(mod.initialize_weights, in_size, out_size, params, name, _keep=(params,))
        r['params'] = plain(params)
        calls[label] = r


def probe_sigmoid(mod, inp, calls):
    for label, x in inp['inputs'].items():
        calls[label] = call(mod.sigmoid, x)


def probe_forward(mod, inp, calls):
    for label, activation in (('sigmoid', their_own(mod, 'sigmoid', inp)),
                              ('linear', their_own(mod, 'linear', inp))):
        params = copy.deepcopy(inp['params'])
        r = call(mod.forward, inp['X'], params, inp['name'], activation, _keep=(params,))
        r['params'] = plain(params)
        calls[label] = r
        if label == 'sigmoid' and callable(getattr(mod, 'backwards', None)):
            # Their backwards on the cache their forward left: tells whether
            # a cache unlike the handout's still serves their own code.
            deriv = their_own(mod, 'sigmoid_deriv', inp)
            own = call(mod.backwards, inp['delta'], params, inp['name'], deriv, _keep=(params,))
            own['params'] = plain({k: v for k, v in params.items() if k.startswith('grad_')})
            own.pop('changed', None)        # backwards' own side effects are its row's
            calls['own_backwards'] = own


def probe_softmax(mod, inp, calls):
    for label, x in inp['inputs'].items():
        calls[label] = call(mod.softmax, x)


def probe_compute_loss_and_acc(mod, inp, calls):
    calls['hand'] = call(mod.compute_loss_and_acc, inp['y'], inp['probs'])


def probe_sigmoid_deriv(mod, inp, calls):
    calls['post_act'] = call(mod.sigmoid_deriv, inp['post_act'])


def probe_backwards(mod, inp, calls):
    """One layer on our forward's cache, then (if their forward, softmax and
    loss exist) central differences of their own two-layer network."""
    params = copy.deepcopy(inp['params'])
    log = []
    deriv = their_own(mod, 'sigmoid_deriv', inp)
    theirs = deriv is not sigmoid_deriv
    r = call(mod.backwards, inp['delta'], params, inp['name'],
             deriv if theirs else recording(sigmoid_deriv, log), _keep=(params,))
    r['params'] = plain({k: v for k, v in params.items() if not k.startswith('cache_')})
    # what activation_deriv was called with, known only when it was ours
    r['deriv_args'] = None if theirs else log[:3]
    calls['layer'] = r
    if all(callable(getattr(mod, f, None)) for f in ('forward', 'softmax', 'compute_loss_and_acc')):
        calls['network'] = own_network_gradients(mod, inp['net'], inp)
    else:
        calls['network'] = {'skipped': 'forward, softmax or compute_loss_and_acc is missing'}


def own_network_gradients(mod, net, inp):
    """The student's backwards through their own forward, softmax and loss
    on a tiny 2-layer network, next to central differences of that loss.
    If the two disagree while backwards matches ours, the fault is in their
    forward or loss, not in backwards."""
    X, Y = net['X'], net['Y']
    d_sigmoid = their_own(mod, 'sigmoid_deriv', inp)
    d_linear = their_own(mod, 'linear_deriv', inp)

    def loss(p):
        h = mod.forward(X, p, 'layer1')
        probs = mod.forward(h, p, 'output', mod.softmax)
        return float(np.sum(np.asarray(mod.compute_loss_and_acc(Y, probs)[0], dtype=float)))

    def run():
        p = copy.deepcopy(net['params'])
        h = mod.forward(X, p, 'layer1')
        probs = np.asarray(mod.forward(h, p, 'output', mod.softmax), dtype=float)
        d = mod.backwards(probs - Y, p, 'output', d_linear)
        mod.backwards(d, p, 'layer1', d_sigmoid)
        keys = [k for k in net['params'] if k[0] in 'Wb']
        analytic = {k: plain(p.get('grad_' + k)) for k in keys}
        q = copy.deepcopy(net['params'])
        numeric = {k: numerical_gradient(loss, q, k) for k in keys}
        return {'analytic': analytic, 'numeric': numeric}
    return call(run)


def probe_get_random_batches(mod, inp, calls):
    for label, (x, y, bs) in inp['cases'].items():
        calls[label] = call(mod.get_random_batches, x, y, bs)


def probe_findLetters(mod, inp, calls):
    for label, image in inp['pages'].items():
        calls[label] = call(mod.findLetters, image)
        if 'error' in calls[label] and 'environment' not in calls[label]:
            # Does it run on the page in gray? Then it expects a gray image.
            gray = image @ np.array([0.2125, 0.7154, 0.0721])
            calls[label + ' (gray)'] = call(mod.findLetters, gray)


def probe_train(mod, inp, calls):
    """Train the handout's 1024-64-36 network with the student's functions:
    their init, batches, forward, softmax, loss, backwards and sigmoid_deriv,
    our SGD step and learning-rate schedule. Validation accuracy is the
    argmax of their network's output, counted here (their accuracy function
    has its own check). The history is saved after every epoch, so a run
    stopped by the time limit still reports how far it got."""
    data = np.load(inp['data'])
    x, y, xv, yv = data['x'], data['y'], data['xv'], data['yv']
    d_linear = their_own(mod, 'linear_deriv', inp)
    history = {'epoch_seconds': [], 'train_loss': [], 'valid_acc': []}

    def train():
        np.random.seed(inp['seed'])
        params = {}
        mod.initialize_weights(x.shape[1], inp['hidden'], params, 'layer1')
        mod.initialize_weights(inp['hidden'], y.shape[1], params, 'output')
        keys = ['Wlayer1', 'blayer1', 'Woutput', 'boutput']
        for epoch in range(inp['epochs']):
            lr = inp['lr'] * 0.5 * (1 + np.cos(np.pi * epoch / inp['epochs']))
            start, total = time.perf_counter(), 0.0
            for bx, by in mod.get_random_batches(x, y, inp['batch_size']):
                h = mod.forward(bx, params, 'layer1')
                probs = np.asarray(mod.forward(h, params, 'output', mod.softmax), dtype=float)
                total += float(np.sum(mod.compute_loss_and_acc(by, probs)[0]))
                d = mod.backwards(probs - by, params, 'output', d_linear)
                mod.backwards(d, params, 'layer1', mod.sigmoid_deriv)
                for k in keys:
                    params[k] = params[k] - lr * np.asarray(params['grad_' + k])
            h = mod.forward(xv, params, 'layer1')
            probs = np.asarray(mod.forward(h, params, 'output', mod.softmax), dtype=float)
            history['epoch_seconds'].append(time.perf_counter() - start)
            history['train_loss'].append(total / len(x))
            history['valid_acc'].append(float(np.mean(np.argmax(probs, 1) == np.argmax(yv, 1))))
            calls['train'] = {'value': history, 'partial': True}
            if not np.isfinite(total):
                break
        return history
    r = call(train)
    r['value'] = history  # what was reached, even if training raised part-way
    calls['train'] = r


PROBES = {name[len('probe_'):]: fn for name, fn in globals().items() if name.startswith('probe_')}


# ----------------------------------------------------------------------------
# The process
# ----------------------------------------------------------------------------
def save(path, result):
    """Write atomically: the parent may read the file after a kill."""
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


class Recorder(dict):
    """The calls of a check; saves the whole result whenever one is stored."""

    def __init__(self, flush):
        super().__init__()
        self.flush = flush

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.flush()


def main(student_dir, module, check, in_path, out_path):
    with open(in_path, 'rb') as f:
        inp = pickle.load(f)
    printed = CappedText()
    sys.stdout = sys.stderr = printed       # their prints and tracebacks of their threads
    np.random.seed(0)                       # their code draws from the global generator
    result = {'import': None, 'functions': {}, 'printed': '', 'printed_chars': 0}

    def flush():
        result['printed'], result['printed_chars'] = printed.text(), printed.total
        result['mapped'] = list(MAPPED)
        save(out_path, {**result, 'calls': dict(result['calls'])})
    result['calls'] = Recorder(flush)
    try:
        with open(os.path.join(student_dir, module + '.py'), encoding='utf-8', errors='replace') as f:
            map_old_library_names(f.read())
    except OSError:
        pass
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')     # module-level warnings are not failures
        start = time.perf_counter()
        try:
            mod = __import__(module)
            result['import'] = {'ok': True, 'seconds': time.perf_counter() - start,
                                'file': getattr(mod, '__file__', None)}
        except BaseException as e:  # noqa: B036
            result['import'] = {'ok': False, **error_summary(e)}
    result['mapped_on_import'] = list(MAPPED)   # the report says these once, not on every row
    flush()
    if result['import']['ok']:
        result['functions'] = {f: callable(getattr(mod, f, None)) for f in inp['needs']}
        # check 'import_<module>' only imports and lists the functions
        if check == 'import_nn':
            flush()
            result['theirs'] = right_activations(mod)
        if check in PROBES and all(result['functions'].values()):
            PROBES[check](mod, inp, result['calls'])
    flush()


if __name__ == '__main__':
    main(*sys.argv[1:6])
    # Leave at once, without waiting for threads their code may have started.
    os._exit(0)
