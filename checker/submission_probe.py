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
    textbook one-liners written out below.
  * Whatever the student's code does (print, warn, raise, exit, return odd
    types) is recorded, never allowed to stop the recording. Only a hard
    crash or the time limit ends this process without a result, and the
    parent reports those.
"""
import copy
import io
import os
import pickle
import sys
import time
import traceback
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


def recording(deriv, log):
    """deriv, but first note the array it was called with: tells the parent
    whether backwards passed the post-activation (right) or the pre-activation."""
    def wrapped(x, *args, **kwargs):
        log.append(np.array(x, dtype=float, copy=True))
        return deriv(np.asarray(x, dtype=float))
    return wrapped


def numerical_gradient(loss_fn, params, key, eps=1e-6):
    """Central differences of loss_fn(params) for every scalar of params[key].

    The same as nn.numerical_gradient, written again on purpose: in this
    process `nn` is the student's module and our python/ is off sys.path."""
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
    return {'error': f'{type(exc).__name__}: {message}'[:500], 'where': where,
            'traceback': ''.join(tb)[-4000:]}


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
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            value = fn(*args, **kwargs)
        except BaseException as e:  # noqa: B036  (exit() and KeyboardInterrupt too)
            out = error_summary(e)
            out['warnings'] = warning_texts(caught)
            return out
        # A generator's body runs only when iterated: do it here, inside the
        # warning catcher and the error handler.
        try:
            recorded = plain(value)
        except BaseException as e:  # noqa: B036
            return error_summary(e)
    return {'value': recorded, 'warnings': warning_texts(caught),
            'seconds': time.perf_counter() - start}


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
    for label, activation in (('sigmoid', sigmoid), ('linear', linear)):
        params = copy.deepcopy(inp['params'])
        r = call(mod.forward, inp['X'], params, inp['name'], activation, _keep=(params,))
        r['params'] = plain(params)
        calls[label] = r


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
    r = call(mod.backwards, inp['delta'], params, inp['name'], recording(sigmoid_deriv, log),
             _keep=(params,))
    r['params'] = plain({k: v for k, v in params.items() if not k.startswith('cache_')})
    r['deriv_args'] = log[:3]
    calls['layer'] = r
    if all(callable(getattr(mod, f, None)) for f in ('forward', 'softmax', 'compute_loss_and_acc')):
        calls['network'] = own_network_gradients(mod, inp['net'])
    else:
        calls['network'] = {'skipped': 'forward, softmax or compute_loss_and_acc is missing'}


def own_network_gradients(mod, net):
    """The student's backwards through their own forward, softmax and loss
    on a tiny 2-layer network, next to central differences of that loss.
    If the two disagree while backwards matches ours, the fault is in their
    forward or loss, not in backwards."""
    X, Y = net['X'], net['Y']

    def loss(p):
        h = mod.forward(X, p, 'layer1')
        probs = mod.forward(h, p, 'output', mod.softmax)
        return float(np.sum(np.asarray(mod.compute_loss_and_acc(Y, probs)[0], dtype=float)))

    def run():
        p = copy.deepcopy(net['params'])
        h = mod.forward(X, p, 'layer1')
        probs = np.asarray(mod.forward(h, p, 'output', mod.softmax), dtype=float)
        d = mod.backwards(probs - Y, p, 'output', linear_deriv)
        mod.backwards(d, p, 'layer1', sigmoid_deriv)
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


def probe_train(mod, inp, calls):
    """Train the handout's 1024-64-36 network with the student's functions:
    their init, batches, forward, softmax, loss, backwards and sigmoid_deriv,
    our SGD step and learning-rate schedule. Validation accuracy is the
    argmax of their network's output, counted here (their accuracy function
    has its own check). The history is saved after every epoch, so a run
    stopped by the time limit still reports how far it got."""
    data = np.load(inp['data'])
    x, y, xv, yv = data['x'], data['y'], data['xv'], data['yv']
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
                d = mod.backwards(probs - by, params, 'output', linear_deriv)
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
        save(out_path, {**result, 'calls': dict(result['calls'])})
    result['calls'] = Recorder(flush)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')     # module-level warnings are not failures
        start = time.perf_counter()
        try:
            mod = __import__(module)
            result['import'] = {'ok': True, 'seconds': time.perf_counter() - start,
                                'file': getattr(mod, '__file__', None)}
        except BaseException as e:  # noqa: B036
            result['import'] = {'ok': False, **error_summary(e)}
    flush()
    if result['import']['ok']:
        result['functions'] = {f: callable(getattr(mod, f, None)) for f in inp['needs']}
        # check 'import_<module>' only imports and lists the functions
        if check in PROBES and all(result['functions'].values()):
            PROBES[check](mod, inp, result['calls'])
    flush()


if __name__ == '__main__':
    main(*sys.argv[1:6])
    # Leave at once, without waiting for threads their code may have started.
    os._exit(0)
