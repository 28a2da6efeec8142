"""What check_submission.py checks, one handout function at a time.

For every function of the handout's starter code there are two pieces:

  inputs_<function>()   the arguments the student's function is called with
                        (fixed seeds), made here in the parent process;
  judge_<function>(inputs, calls) -> Findings
                        what came back (recorded by submission_probe.py in
                        the child process) against the right answer: this
                        project's own nn.py / q4.py on the same inputs, or
                        the handout's contract where the answer is random
                        (Xavier statistics, batches) or a page drawn here
                        with known boxes (findLetters).

A judge never stops at "wrong": it tries the usual mistakes (a transpose, a
factor of the batch size, a missing bias, the pre-activation instead of the
post-activation, x and y swapped, ...) and names the one that fits.

Each check feeds its function inputs that do not depend on the student's
other functions (backwards gets a cache made by *our* forward; forward gets
our sigmoid), so one bug fails one check instead of every check after it.
"""
import copy
import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi
from skimage import draw, morphology

import network
import nn
from util import linear

TOL = 1e-6           # relative error under which two float64 answers are the same
TRAIN_BAR = 0.75     # Q3.1.1: "an accuracy on the validation set of at least 75%"
IOU_MATCH = 0.5      # a found box is a character if IoU >= 0.5 with its true box
MIN_RECALL = MIN_PRECISION = 0.8


# ----------------------------------------------------------------------------
# Findings: what a judge found, turned into a verdict
# ----------------------------------------------------------------------------
@dataclass
class Findings:
    """problems fail the check; warnings (the value is right, but the form or
    a side effect is not what the handout asks) make it 'warn'; notes are
    shown either way; measured (what a passing check saw) only on a pass."""
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    measured: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def problem(self, text):
        if text and text not in self.problems:
            self.problems.append(text)

    def warn(self, text):
        if text and text not in self.warnings:
            self.warnings.append(text)

    @property
    def status(self):
        return 'fail' if self.problems else 'warn' if self.warnings else 'pass'

    @property
    def hint(self):
        """The first problem (usually the cause; later ones are often its
        symptoms), else the first warning, else the notes."""
        shown = self.problems or self.warnings
        if not shown:
            return '; '.join(self.measured + self.notes)
        more = f' (+{len(shown) - 1} more)' if len(shown) > 1 else ''
        return shown[0] + more


# ----------------------------------------------------------------------------
# Comparing arrays and naming the difference
# ----------------------------------------------------------------------------
def type_name(value):
    """The type of a recorded value, as the student's code returned it."""
    if isinstance(value, dict) and '__object__' in value:
        return value['__object__']
    if isinstance(value, dict) and '__iterator__' in value:
        return value['__iterator__']
    return type(value).__name__


def to_array(value):
    """A recorded value as a float ndarray, or None if it is not numbers."""
    if value is None or isinstance(value, (dict, str, bytes)):
        return None
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return a


def rel_err(a, b):
    return network.relative_error(np.asarray(a, float), np.asarray(b, float))


def close(a, b, tol=TOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.isfinite(a).all()) and rel_err(a, b) < tol


def scale_factor(got, want, tol=TOL):
    """r if got = r * want for one number r, else None."""
    denom = np.vdot(want, want)
    if denom == 0:
        return None
    r = float(np.vdot(got, want) / denom)
    return r if close(got, r * want, tol) else None


def shape_text(shape):
    return str(tuple(int(s) for s in shape))


def difference(name, got, want, batch=None, alternatives=(), tol=TOL):
    """None if got is want (to TOL), else a hint naming how it differs.

    Tries, in order: not an array; the wrong shape (a transpose? the right
    numbers in another shape?); nan/inf; each (hint, array) of
    alternatives, the known mistakes of this function; all zeros; a
    constant factor (the batch size, a sign); and only then "differs".
    """
    want = np.asarray(want, float)
    if got is None:
        return f'{name} is None: the starter\'s placeholder (`= None`) is still there'
    g = to_array(got)
    if g is None:
        return f'{name} is a {type_name(got)}, expected an array of shape {shape_text(want.shape)}'
    if g.shape != want.shape:
        if g.ndim == 2 and want.ndim == 2 and g.shape == want.T.shape and close(g.T, want, tol):
            return (f'{name} is the transpose of the right answer: shape {shape_text(g.shape)}, '
                    f'expected {shape_text(want.shape)}')
        if g.size == want.size and close(g.reshape(want.shape), want, tol):
            return (f'{name} has shape {shape_text(g.shape)}, expected {shape_text(want.shape)} '
                    '(the numbers are right)')
        return f'{name} has shape {shape_text(g.shape)}, expected {shape_text(want.shape)}'
    if close(g, want, tol):
        return None
    if not np.isfinite(g).all():
        return f'{name} holds nan or inf'
    for hint, alt in alternatives:
        if np.shape(alt) == g.shape and close(g, alt, tol):
            return f'{name} {hint}'
    if not g.any():
        return f'{name} is all zeros'
    r = scale_factor(g, want, tol)
    if r is not None:
        if batch and abs(r * batch - 1) < tol:
            return (f'{name} is off by a factor of the batch size: 1/{batch} of the right answer '
                    f'(divided by N = {batch}; the handout\'s loss sums over the examples)')
        if batch and abs(r / batch - 1) < tol:
            return f'{name} is off by a factor of the batch size: {batch} times the right answer'
        if abs(r + 1) < tol:
            return f'{name} has the wrong sign'
        if r > 0 and abs(1 / r - round(1 / r)) < 1e-6 * (1 / r) and round(1 / r) > 1:
            return f'{name} is the right answer divided by {round(1 / r)}'
        return f'{name} is {r:.4g} times the right answer'
    return f'{name} differs from the right answer (worst relative error {rel_err(g, want):.2g})'


def array_form_warning(name, got):
    """A warning if a right answer comes as a list rather than an ndarray."""
    if isinstance(got, (list, tuple)):
        return f'{name} is a {type(got).__name__}; the handout\'s code expects numpy arrays'
    return None


def call_error(fn_text, r):
    """A problem for a call that raised or ran out of time, or None."""
    if r.get('timeout'):
        return f'{fn_text} did not finish within the time limit ({r["timeout"]:g} s)'
    if 'error' in r:
        return f'{fn_text} raised {short_error(r)}'
    return None


def short_error(r):
    """'ValueError: first line of the message (nn.py line 57)', cut to fit a
    table row (the whole message and traceback are in the JSON)."""
    text = r['error'].strip().splitlines()[0] if r['error'].strip() else r['error']
    if len(text) > 140:
        cut = text.find('. ', 40, 140)
        text = text[:cut + 1] if cut > 0 else text[:137] + '...'
    where = f' ({r["where"]})' if r.get('where') else ''
    why = ': input() reads nothing here, so leave it out' if text.startswith('EOFError') else ''
    return text + where + why


class Unfinished(dict):
    """The calls a check recorded before its process was stopped; a call it
    never reached reads as {'timeout': seconds}, which call_error reports."""

    def __init__(self, calls, seconds):
        super().__init__(calls)
        self.seconds = seconds

    def __missing__(self, key):
        return {'timeout': self.seconds, 'error': 'did not finish'}


def overflow_warnings(r):
    return [w for w in r.get('warnings', []) if 'overflow' in w]


# Handout, instructions: "do not use any libraries other than numpy, scipy,
# scikit-image, matplotlib and (in the appropriate section) pytorch".
ALLOWED_LIBRARIES = ('the handout allows only numpy, scipy, scikit-image, matplotlib and pytorch '
                     '("Including other libraries (for example, cv2, ipdb, etc.) may lead to loss '
                     'of credit")')


def environment_hint(what, r):
    """A call that failed because this machine lacks a library the handout
    allows: the environment's problem, said as such."""
    pip = r['environment']
    return (f'not judged: {what} needs {pip}, which is not installed on this machine '
            f'(pip install {pip}); this is the environment\'s problem, not the student\'s')


# What overwriting the caller's array in place does, by function.
IN_PLACE_EFFECT = {
    'softmax': 'the caller\'s logits (the output layer\'s cached pre_act) are overwritten',
    'sigmoid': 'the caller\'s pre-activation, which forward caches, is overwritten',
    'backwards': 'the caller\'s delta is overwritten; a loop that reuses it gets other numbers',
    'get_random_batches': 'the caller\'s data set is reordered or changed on every call',
}


def judge_side_effects(function, calls, f):
    """Warn when a call overwrote the caller's arrays in place (the probe
    compares every argument before and after the call). The handout does not
    forbid it, but the caller's numbers change under it."""
    changed = sorted({name for r in calls.values() if isinstance(r, dict)
                      for name in r.get('changed', ())})
    if changed:
        effect = IN_PLACE_EFFECT.get(function, 'the caller\'s arrays hold other numbers afterwards')
        f.warn(f'{function} changes its argument{"s" if len(changed) > 1 else ""} '
               f'{", ".join(changed)} in place (x -= ..., x *= ..., np.random.shuffle(x)): {effect}; '
               'work on a copy (x = x - ..., np.random.permutation)')


# ----------------------------------------------------------------------------
# initialize_weights: keys, shapes, zero biases, Xavier uniform statistics
# ----------------------------------------------------------------------------
def inputs_initialize_weights():
    # 60000 weights: the sample variance is within 0.4% of the true one (one
    # standard error), so 10% tolerances separate the usual formulas.
    return {'cases': {'big': (200, 300, 'layer1'), 'small': (3, 2, '')}}


def variance_mistake(var, in_size, out_size):
    """Name the formula a wrong variance fits, or None."""
    n = in_size + out_size
    known = [
        (2 / (3 * n), 'is a third of 2/(in+out): U(-a, a) has variance a^2/3, so the bound is '
                      'a = sqrt(6/(in+out)), not sqrt(2/(in+out))'),
        (6 / n, 'is 6/(in+out), three times too big: sqrt(6/(in+out)) is the bound of the '
                'uniform, not its standard deviation'),
        (1 / n, 'is 1/(in+out), half of the handout\'s 2/(in+out)'),
        (1 / in_size, 'is 1/in_size (LeCun\'s), not the handout\'s 2/(in+out)'),
        (2 / in_size, 'is 2/in_size (He\'s), not the handout\'s 2/(in+out)'),
        (1 / 3, 'is 1/3: W ~ U(-1, 1), not scaled by the layer sizes'),
        (1.0, 'is 1: unscaled random numbers'),
    ]
    for v, hint in known:
        if abs(var / v - 1) < 0.1:
            return f'Var[W] = {var:.3g} {hint}'
    return None


def judge_initialize_weights(inp, calls):
    """The starter's comments: "initialize b to 0 vector", "b should be a 1D
    array", "we will do XW + b" (so W is (in_size, out_size))."""
    f = Findings()
    for label, (i, o, name) in inp['cases'].items():
        r = calls[label]
        text = f'initialize_weights({i}, {o}, params, {name!r})'
        if call_error(text, r):
            f.problem(call_error(text, r))
            continue
        params = r['params']
        wk, bk = 'W' + name, 'b' + name
        if wk not in params or bk not in params:
            f.problem(f'after {text} params has keys {sorted(params)}; expected {wk!r} and {bk!r}')
            continue
        W, b = to_array(params[wk]), to_array(params[bk])
        if W is None or b is None:
            bad = wk if W is None else bk
            if params[bad] is None:
                f.problem(f'params[{bad!r}] is None: the starter\'s placeholder '
                          '(W, b = None, None) is still there')
            else:
                f.problem(f'params[{bad!r}] is a {type_name(params[bad])}, expected an array')
            continue
        f.warn(array_form_warning(f'params[{wk!r}]', params[wk]))
        f.warn(array_form_warning(f'params[{bk!r}]', params[bk]))
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            f.problem(f'{wk} or {bk} holds nan or inf (np.empty leaves memory uninitialised)')
            continue
        if W.shape != (i, o):
            transposed = ' (out, in): the handout computes X @ W' if W.shape == (o, i) else ''
            f.problem(f'{wk} has shape {shape_text(W.shape)}{transposed}, expected (in_size, out_size) = ({i}, {o})')
        if b.shape != (o,):
            one_d = ': the starter asks for a 1-D vector' if b.size == o else ''
            f.problem(f'{bk} has shape {shape_text(b.shape)}, expected ({o},){one_d}')
        if b.size and np.abs(b).max() > 0:
            f.problem(f'{bk} is not zero (max |b| = {np.abs(b).max():.3g}): biases start at 0')
        if label == 'big' and W.size == i * o:
            judge_xavier(W, i, o, f)
    x = f.details.get('xavier')
    if x:
        f.measured.append(f'Var[W] = {x["variance"]:.4g} (2/(in+out) = {x["expected_variance"]:.4g}), '
                       f'|W| <= {x["max_abs"]:.4g} (bound {x["bound"]:.4g}), zero biases')
    return f


def bound_mistake(W, i, o):
    """Name the formula of a uniform's wrong bound a = max |W| (60000 draws
    reach within 0.01% of it), or None."""
    a, n = float(np.abs(W).max()), i + o
    known = {'2/(in+out)': 2 / n, '6/(in+out)': 6 / n, 'sqrt(6)/(in+out)': np.sqrt(6) / n,
             'sqrt(2/(in+out))': np.sqrt(2 / n), 'sqrt(1/(in+out))': np.sqrt(1 / n),
             'sqrt(3/in_size)': np.sqrt(3 / i), '1/sqrt(in_size)': 1 / np.sqrt(i),
             'sqrt(6/(in*out))': np.sqrt(6 / (i * o)), '1': 1.0}
    for formula, value in known.items():
        if abs(a / value - 1) < 0.01:
            return (f'W is drawn from U(-a, a) with a = {formula} = {value:.3g}: the handout\'s '
                    f'Var[W] = 2/(in+out) needs a = sqrt(6/(in+out)) = {np.sqrt(6 / n):.3g} '
                    '(U(-a, a) has variance a^2/3)')
    return None


def judge_xavier(W, i, o, f):
    """Xavier uniform: mean 0, Var = 2/(in+out), values fill [-a, a] evenly
    with a = sqrt(6/(in+out)) (a uniform's kurtosis is 1.8, a normal's 3)."""
    # Handout Q2.1.2: "Xavier initialization [1], where Var[w] = 2/(n_in + n_out)
    # ... you use a uniform distribution to sample random numbers".
    target, bound = 2 / (i + o), np.sqrt(6 / (i + o))
    var, mean = float(W.var()), float(W.mean())
    kurtosis = float(np.mean((W - mean) ** 4) / var ** 2) if var > 0 else 0.0
    f.details['xavier'] = {'variance': var, 'expected_variance': target, 'mean': mean,
                           'max_abs': float(np.abs(W).max()), 'bound': bound, 'kurtosis': kurtosis}
    if var == 0:
        f.problem(f'every weight is {W.flat[0]:g}: draw them from U(-a, a), a = sqrt(6/(in+out))')
    elif abs(var / target - 1) > 0.1:
        f.problem(variance_mistake(var, i, o) or (kurtosis < 2.2 and bound_mistake(W, i, o)) or
                  f'Var[W] = {var:.3g}, expected 2/(in+out) = {target:.3g} ({var / target:.2f}x)')
    elif kurtosis > 2.4:
        f.problem(f'the variance is right but W is not uniform (kurtosis {kurtosis:.1f}, a uniform\'s '
                  'is 1.8): it looks normal; the handout asks for a uniform distribution')
    elif np.abs(W).max() > bound * (1 + 1e-9):
        f.problem(f'weights reach {np.abs(W).max():.3g}, beyond the bound sqrt(6/(in+out)) = {bound:.3g}')
    if abs(mean) > 0.05 * bound:
        f.problem(f'the weights are not centred on 0 (mean {mean:.3g})')


# ----------------------------------------------------------------------------
# sigmoid
# ----------------------------------------------------------------------------
def inputs_sigmoid():
    return {'inputs': {'grid': np.linspace(-10, 10, 21).reshape(3, 7),
                       # 2-D like every array the network passes: code written for
                       # matrices (x.shape[1]) is not failed on a vector
                       'extremes': np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])}}


def judge_sigmoid(inp, calls):
    """Handout Q2.2.1: "implement sigmoid"; its definition g(y) = 1/(1 + exp(-y))."""
    f = Findings()
    for label, x in inp['inputs'].items():
        r, want = calls[label], nn.sigmoid(x.copy())
        if call_error(f'sigmoid({label} values)', r):
            f.problem(call_error(f'sigmoid({label} values)', r))
            continue
        if label == 'extremes' and to_array(r['value']) is not None and \
                not np.isfinite(to_array(r['value'])).all():
            f.problem('sigmoid(+-1000) gives nan or inf: exp overflows and inf/inf is nan; '
                      'use a stable form such as np.where(x >= 0, ...) or (1 + tanh(x/2))/2')
            continue
        f.problem(difference(f'sigmoid({label} values)', r['value'], want,
                             alternatives=[('is sigmoid(-x): flip the sign in exp', nn.sigmoid(-x))]))
        f.warn(array_form_warning('sigmoid\'s output', r['value']))
        # The handout's own sigmoid is 1/(1 + exp(-y)): its overflow warning at
        # -1000 gives the right 0, so it is said, not held against anyone.
        if label == 'extremes' and not f.problems:
            f.measured.append('matches ours; 0 and 1 at -1000 and 1000' + (
                ' (np.exp overflows there with a harmless RuntimeWarning)' if overflow_warnings(r)
                else ''))
    return f


# ----------------------------------------------------------------------------
# forward: the output and the cache (X, pre_act, post_act)
# ----------------------------------------------------------------------------
def inputs_forward():
    rng = np.random.default_rng(1)
    # Non-square everywhere (N=6, D=5, H=4) so a transpose cannot hide.
    return {'X': rng.normal(size=(6, 5)), 'name': 'layer1',
            'params': {'Wlayer1': rng.normal(size=(5, 4)), 'blayer1': rng.normal(size=4)},
            'delta': rng.normal(size=(6, 4))}    # for their backwards on their own cache


def judge_forward(inp, calls):
    """Handout Q2.2.1: "forward propagation for a single layer with an
    activation function, namely y = sigma(XW + b), returning the output and
    intermediate results"."""
    f = Findings()
    X, W, b = inp['X'], inp['params']['Wlayer1'], inp['params']['blayer1']
    pre = X @ W + b
    for label, act in (('sigmoid', nn.sigmoid), ('linear', linear)):
        r = calls[label]
        text = f'forward(X, params, \'layer1\', {label})'
        if call_error(text, r):
            f.problem(call_error(text, r))
            continue
        out, want = r['value'], act(pre.copy())
        if isinstance(out, tuple):
            f.problem(f'forward returns a tuple of {len(out)}; the starter returns post_act alone '
                      '(the cache goes into params)')
            continue
        alternatives = [('misses the bias: it is activation(X @ W)', act(X @ W)),
                        ('is the pre-activation: the activation is not applied', pre),
                        (f'is softmax(X @ W + b) although forward was given {label}: call the '
                         'activation argument (a test such as activation == "sigmoid" compares '
                         'a function with a string and is never true)', nn.softmax(pre))]
        if label == 'linear':
            alternatives.insert(0, ('is sigmoid(X @ W + b) although forward was given another '
                                    'activation: use the activation argument', nn.sigmoid(pre.copy())))
        f.problem(difference(f'the output with {label}', out, want, alternatives=alternatives))
        f.warn(array_form_warning('forward\'s output', out))
        if label == 'sigmoid':
            judge_cache(r['params'], X, pre, want, f, own_backwards_right(inp, calls, pre))
    f.measured.append('output and cache (X, pre_act, post_act) match ours; the activation argument is used')
    return f


def own_backwards_right(inp, calls, pre):
    """Did their backwards, run on the cache their forward stored, give the
    right gradients? Then what the cache holds serves their own code."""
    r = calls.get('own_backwards') if hasattr(calls, 'get') else None
    if not r or 'error' in r or r.get('timeout'):
        return False
    post = nn.sigmoid(pre.copy())
    g = inp['delta'] * post * (1 - post)
    grads = r['params']
    return all(k in grads and to_array(grads[k]) is not None and close(grads[k], want)
               for k, want in (('grad_Wlayer1', inp['X'].T @ g), ('grad_blayer1', g.sum(axis=0))))


def judge_cache(params, X, pre, post, f, serves_own_backwards=False):
    """params['cache_<name>'] must be (X, pre_act, post_act). Handout Q2.2.1:
    forward returns "the output and intermediate results"; the starter stores
    them as params['cache_' + name] = (X, pre_act, post_act)."""
    key = 'cache_layer1'
    if key not in params:
        new = sorted(set(params) - {'Wlayer1', 'blayer1'})
        f.problem(f'params[{key!r}] is not stored (forward added {new or "nothing"}); '
                  'backwards reads (X, pre_act, post_act) from it')
        return
    cache = params[key]
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        size = f' of {len(cache)}' if isinstance(cache, (tuple, list)) else ''
        f.problem(f'params[{key!r}] is a {type_name(cache)}{size}; expected the tuple (X, pre_act, post_act)')
        return
    want = {'X': X, 'pre_act': pre, 'post_act': post}
    found = []
    for item in cache:
        a = to_array(item)
        found.append(next((n for n, w in want.items() if a is not None and close(a, w)), None))
    if found == ['X', 'pre_act', 'post_act']:
        return
    if sorted(filter(None, found)) == sorted(want):
        f.problem(f'the cache holds ({", ".join(found)}); expected (X, pre_act, post_act) in that order')
        return
    if found[0] == 'X' and found[2] == 'post_act' and serves_own_backwards:
        # Only pre_act differs, and their backwards never needs it.
        held = type_name(cache[1]) if to_array(cache[1]) is None else 'not X @ W + b'
        f.warn(f'cache item pre_act is {held}: your backwards does not read it (its gradients '
               'from this cache are right), but code written to the handout\'s cache '
               '(X, pre_act, post_act) would')
        return
    for got, name in zip(cache, want):
        f.problem(difference(f'cache item {name}', got, want[name]))


# ----------------------------------------------------------------------------
# softmax: rows sum to 1, shift invariance, no overflow at logits of 1e4
# ----------------------------------------------------------------------------
def inputs_softmax():
    x = np.random.default_rng(2).normal(0, 3, size=(4, 5))
    huge = np.array([[1e4, 1e4 - 1, 0.0, -1e4, 1e4 - 3],
                     [1.0, 2.0, 3.0, 0.0, -1.0],        # far below the array's max: a row-wise max is needed
                     [-1e4, -1e4 + 2, -1e4 + 1, -1e4 - 5, -1e4]])
    return {'inputs': {'random': x, 'shifted': x + 1000.0, 'huge': huge}}


def judge_softmax(inp, calls):
    # Handout Q2.2.2: "implement the softmax function. Be sure to use the
    # numerical stability trick you derived in Q1.1"; Q1.1: softmax(x) =
    # softmax(x + c); the starter: "softmax should be done for each row".
    f = Findings()
    x, huge = inp['inputs']['random'], inp['inputs']['huge']
    want = nn.softmax(x)
    r = calls['random']
    if call_error('softmax(x)', r):
        f.problem(call_error('softmax(x)', r))
    else:
        e = np.exp(x)
        f.problem(difference('softmax(x)', r['value'], want, alternatives=[
            ('normalises each column (axis 0): the handout\'s softmax is over each row (axis 1)',
             e / e.sum(axis=0, keepdims=True)),
            ('normalises over the whole array: each row must sum to 1', e / e.sum())]))
        f.warn(array_form_warning('softmax\'s output', r['value']))
    stable = 'subtract each row\'s max before np.exp (Q1.1: softmax(x) = softmax(x - c))'
    r = calls['shifted']
    if call_error('softmax(x + 1000)', r):
        f.problem(call_error('softmax(x + 1000)', r))
    else:
        got = to_array(r['value'])
        if got is not None and got.shape == want.shape and not np.isfinite(got).all():
            f.problem(f'softmax(x + 1000) is nan: exp(1000) overflows; {stable}')
        elif got is not None and got.shape == want.shape and not close(got, want, 1e-9):
            f.problem('softmax(x + 1000) differs from softmax(x): it must be invariant to a shift')
    r = calls['huge']
    if call_error('softmax at logits of 1e4', r):
        f.problem(call_error('softmax at logits of 1e4', r))
    else:
        got = to_array(r['value'])
        if got is not None and got.shape == huge.shape:
            bad_rows = [i for i in range(len(got)) if not np.isfinite(got[i]).all()]
            if bad_rows == [1, 2]:
                # Q1.1's trick holds for any c, the array's max included: right
                # answers wherever a batch's rows lie within ~700 of each other.
                f.warn('the shift is the whole array\'s max, not each row\'s: right for this '
                       'network\'s logits, but a row more than ~745 below the largest logit '
                       'underflows to 0/0 = nan; x.max(axis=1, keepdims=True) never does')
            elif bad_rows:
                f.problem(f'softmax at logits of 1e4 gives nan (overflow); {stable}')
            else:
                f.problem(difference('softmax at logits of 1e4', got, nn.softmax(huge)))
        if overflow_warnings(r):
            f.problem(f'np.exp overflows at logits of 1e4 (RuntimeWarning); {stable}')
    f.measured.append('matches ours; rows sum to 1; softmax(x + 1000) = softmax(x); finite at logits of 1e4')
    return f


# ----------------------------------------------------------------------------
# compute_loss_and_acc: a case worked by hand
# ----------------------------------------------------------------------------
def inputs_compute_loss_and_acc():
    probs = np.array([[0.5, 0.25, 0.25],     # label 0, predicted 0: right
                      [0.1, 0.8, 0.1],       # label 1, predicted 1: right
                      [0.2, 0.2, 0.6],       # label 1, predicted 2: wrong
                      [0.7, 0.2, 0.1]])      # label 2, predicted 0: wrong
    y = np.eye(3)[[0, 1, 1, 2]]
    return {'y': y, 'probs': probs}


def judge_compute_loss_and_acc(inp, calls):
    """loss = -(log .5 + log .8 + log .2 + log .1) = 4.828 (a sum), acc = 2/4 = 0.5.
    Handout Q2.2.3: "compute the accuracy of a set of labels, along with the
    scalar loss across the data", L_f(D) = - sum over (x, y) in D of y . log f(x)."""
    f = Findings()
    y, probs = inp['y'], inp['probs']
    loss, acc = nn.compute_loss_and_acc(y, probs)
    n = len(y)
    f.details.update(expected_loss=loss, expected_acc=acc)
    r = calls['hand']
    if call_error('compute_loss_and_acc(y, probs)', r):
        f.problem(call_error('compute_loss_and_acc(y, probs)', r))
        return f
    value = r['value']
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        f.problem(f'returns a {type_name(value)}; expected the pair (loss, acc)')
        return f
    got_loss, got_acc = (to_array(v) for v in value)
    f.details.update(loss=None if got_loss is None else got_loss.tolist(),
                     acc=None if got_acc is None else got_acc.tolist())
    if got_loss is not None and got_acc is not None and got_loss.size == got_acc.size == 1 and \
            np.isclose(float(got_loss.item()), acc) and np.isclose(float(got_acc.item()), loss):
        f.problem('returns (acc, loss); the starter returns (loss, acc)')
        return f
    binary = -np.sum(y * np.log(probs) + (1 - y) * np.log(1 - probs))
    if got_loss is None or got_loss.size != 1:
        shape = 'None' if got_loss is None else f'an array of shape {shape_text(got_loss.shape)}'
        placeholder = ': the starter\'s placeholder (loss, acc = None, None) is still there' \
            if got_loss is None and value[0] is None else ''
        f.problem(f'loss is {shape}; expected one number, the cross-entropy summed over the '
                  f'examples{placeholder}')
    else:
        L = float(got_loss.item())
        known = [(loss / n, f'is the mean over the {n} examples; the handout\'s loss is the sum '
                            '(L = -sum over the data of y . log f(x))'),
                 (-loss, 'has the wrong sign: L = -sum y . log(probs)'),
                 (loss / np.log(2), 'uses log base 2: use the natural log'),
                 (loss / np.log(10), 'uses log base 10: use the natural log'),
                 (binary, 'adds (1 - y) log(1 - probs) terms (binary cross-entropy); the handout\'s '
                          'loss is -sum y . log(probs)')]
        k = loss / L if L else 0
        if k > 1 and abs(k - round(k)) < 1e-6 * k and not np.isclose(k, n):
            known.append((L, f'is the sum divided by {round(k)}: the handout\'s loss is the sum '
                             '(L = -sum over the data of y . log f(x))'))
        if not np.isclose(L, loss, rtol=1e-6):
            hint = next((h for v, h in known if np.isclose(L, v, rtol=1e-6)), None)
            f.problem(f'loss = {L:.6g} ' + (hint or f'differs from the right {loss:.6g} (= -(log .5 + log .8 + log .2 + log .1))'))
    if got_acc is None or got_acc.size != 1:
        f.problem(f'acc is a {type_name(value[1])}; expected one number, the fraction of rows right')
    else:
        a = float(got_acc.item())
        if np.isclose(a, acc * n):
            f.problem(f'acc = {a:g} is a count; the handout\'s accuracy is a fraction ({acc:g})')
        elif np.isclose(a, acc * 100):
            f.problem(f'acc = {a:g} is a percentage; return the fraction ({acc:g})')
        elif not np.isclose(a, acc):
            f.problem(f'acc = {a:g}, expected {acc:g} (2 of the 4 rows have the most probable class '
                      'at the label)')
    f.measured.append(f'loss {loss:.4f} (the sum) and acc {acc:g} on a case worked by hand')
    return f


# ----------------------------------------------------------------------------
# sigmoid_deriv: a function of the post-activation
# ----------------------------------------------------------------------------
def inputs_sigmoid_deriv():
    return {'post_act': nn.sigmoid(np.random.default_rng(3).normal(0, 2, size=(5, 4)))}


def judge_sigmoid_deriv(inp, calls):
    """Handout Q1.4: the gradient "can be written as a function of sigma(x)
    (without having access to x directly)"; the starter: "it's a function of post_act"."""
    f = Findings()
    s = inp['post_act']
    r = calls['post_act']
    if call_error('sigmoid_deriv(post_act)', r):
        f.problem(call_error('sigmoid_deriv(post_act)', r))
        return f
    again = nn.sigmoid(s.copy())
    f.problem(difference('sigmoid_deriv(s)', r['value'], s * (1 - s), alternatives=[
        ('applies sigmoid to its argument again: it receives the post-activation s = sigmoid(x) '
         'and should return s * (1 - s)', again * (1 - again)),
        ('is 1 - s^2, the derivative of tanh, not of the sigmoid', 1 - s ** 2)]))
    f.warn(array_form_warning('sigmoid_deriv\'s output', r['value']))
    f.measured.append('s * (1 - s) of the post-activation s')
    return f


# ----------------------------------------------------------------------------
# backwards: against ours on our cache, and against central differences
# ----------------------------------------------------------------------------
def inputs_backwards():
    rng = np.random.default_rng(4)
    # N=6, D=5, H=4 (and 3 classes below): every dimension differs, so a
    # transpose or a factor of the batch size can be told apart.
    X = rng.normal(size=(6, 5))
    params = {'Wlayer1': rng.normal(size=(5, 4)), 'blayer1': rng.normal(size=4)}
    nn.forward(X, params, 'layer1', nn.sigmoid)      # our forward makes the cache
    net = {'X': rng.normal(size=(6, 5)), 'Y': np.eye(3)[rng.integers(0, 3, 6)],
           'params': {'Wlayer1': rng.normal(size=(5, 4)), 'blayer1': rng.normal(size=4) * 0.5,
                      'Woutput': rng.normal(size=(4, 3)), 'boutput': rng.normal(size=3) * 0.5}}
    return {'delta': rng.normal(size=(6, 4)), 'params': params, 'name': 'layer1', 'net': net}


def reference_backwards(inp):
    params = copy.deepcopy(inp['params'])
    grad_X = nn.backwards(inp['delta'], params, 'layer1', nn.sigmoid_deriv)
    return params['grad_Wlayer1'], params['grad_blayer1'], grad_X


def reference_network_gradients(net):
    """Our gradients of the summed cross-entropy of the tiny network."""
    params = copy.deepcopy(net['params'])
    network.batch_loss_and_grads(nn, net['X'], net['Y'], network.classifier_layers(nn),
                                 network.softmax_cross_entropy(nn))(params)
    return {k: params['grad_' + k] for k in net['params']}


def judge_backwards(inp, calls):
    """Handout Q2.3.1: "compute backpropagation for a single layer ... You
    should return the gradient with respect to X so you can feed it into the
    next layer"."""
    f = Findings()
    X, pre, post = inp['params']['cache_layer1']
    delta = inp['delta']
    gW, gb, gX = reference_backwards(inp)
    n = len(X)
    r = calls['layer']
    text = "backwards(delta, params, 'layer1', sigmoid_deriv)"
    if call_error(text, r):
        f.problem(call_error(text, r))
    else:
        if r['deriv_args'] is not None:        # None: their own sigmoid_deriv was passed
            judge_deriv_argument(r['deriv_args'], pre, post, f)
        added = sorted(set(r['params']) - set(inp['params']))
        g, g_pre = delta * post * (1 - post), delta * pre * (1 - pre)
        no_deriv = 'ignores activation_deriv: multiply delta by activation_deriv(post_act) first'
        pre_hint = ('is the gradient when backwards passes the pre-activation to activation_deriv; '
                    'the handout\'s derivatives take the post-activation (sigmoid_deriv(s) = '
                    's * (1 - s), s = sigmoid(x))')
        judge_gradient('grad_Wlayer1', r['params'], gW, n, added, f,
                       [(no_deriv, X.T @ delta), (pre_hint, X.T @ g_pre)])
        judge_gradient('grad_blayer1', r['params'], gb, n, added, f,
                       [(no_deriv, delta.sum(axis=0)), (pre_hint, g_pre.sum(axis=0)),
                        ('is the first example\'s gradient only: sum delta * activation_deriv(post_act) '
                         'over all the examples (axis 0)', g[0])])
        if r['value'] is None:
            f.problem('backwards returns None; it should return the gradient with respect to X, '
                      'which the layer below needs')
        else:
            f.problem(difference('the returned gradient wrt X', r['value'], gX, batch=n))
            f.warn(array_form_warning('the returned gradient', r['value']))
    f.measured.append('grad_W, grad_b and the returned grad_X match ours')
    judge_own_network(inp['net'], calls['network'], f)
    return f


def judge_gradient(key, params, want, n, added, f, alternatives):
    """One stored gradient against ours, with the hint its usual bugs need.
    Handout Q2.3.1: "As a size check, your gradients should be the same
    dimensions as the original objects"; Q1.5 derives dJ/dW, dJ/db, dJ/dx."""
    is_bias = key.startswith('grad_b')
    if key not in params:
        fate = ' so the biases are never updated' if is_bias else ''
        f.problem(f'params[{key!r}] is not stored{fate} (backwards added {added or "nothing"})')
        return
    got = params[key]
    hint = difference(key, got, want, batch=n, alternatives=alternatives)
    a = to_array(got)
    if hint and a is not None:
        if is_bias and a.shape == want.shape and not a.any():
            hint += ': the biases are never updated'
        elif is_bias and a.shape == (n, len(want)):
            hint += ': sum the per-example gradients over the examples (axis 0)'
        elif not is_bias and 'transpose' in hint:
            hint += " (dJ/dW = X.T @ (delta * f'(a)), shaped like W)"
    f.problem(hint)
    f.warn(array_form_warning(key, got))


def judge_deriv_argument(args, pre, post, f):
    """backwards must call activation_deriv on the post-activation (the
    starter's sigmoid_deriv: "it's a function of post_act")."""
    if not args:
        f.problem('backwards never calls activation_deriv; the gradient through the activation is '
                  'delta * activation_deriv(post_act)')
        return
    a = args[0]
    if a.shape == pre.shape and close(a, pre) and not close(a, post):
        f.problem('backwards passes the pre-activation to activation_deriv; the handout\'s '
                  'derivatives take the post-activation (sigmoid_deriv(s) = s * (1 - s), s = sigmoid(x))')


def judge_own_network(net, r, f):
    """Central differences of the student's own forward + softmax + loss
    against their backwards: where they disagree, and where their numbers
    disagree with ours, tells which function a mismatch comes from."""
    if 'skipped' in r:
        f.notes.append(f'no central-difference check of your own network: {r["skipped"]}')
        return
    if call_error('central differences of your own network', r):
        f.notes.append(call_error('central differences of your own network', r))
        return
    ours = reference_network_gradients(net)
    n = len(net['X'])
    worst = {}
    for k, numeric in r['value']['numeric'].items():
        analytic = to_array(r['value']['analytic'].get(k))
        worst[k] = rel_err(analytic, numeric) if analytic is not None and \
            analytic.shape == numeric.shape else float('inf')
    f.details['own_network_rel_error'] = worst
    bad = [k for k, e in worst.items() if not e < 1e-4]
    if not bad:
        f.notes.append('agrees with central differences of your own forward, softmax and loss '
                       f'(worst relative error {max(worst.values()):.1g})')
        return
    numeric = r['value']['numeric']
    off = [k for k in ours if not close(numeric[k], ours[k], 1e-4)]
    if not off:
        f.notes.append('disagrees with central differences of your own network too, in '
                       f'{", ".join("grad_" + k for k in bad)} (those agree with ours: the '
                       'mismatch is in backwards)')
    else:
        why = difference(f'grad_{off[0]}', numeric[off[0]], ours[off[0]], batch=n, tol=1e-4)
        f.notes.append('central differences of your own forward + softmax + loss differ from ours '
                       f'({why.replace("the right answer", "ours")}): look at those functions too')


# ----------------------------------------------------------------------------
# get_random_batches: every example exactly once, in batches of batch_size
# ----------------------------------------------------------------------------
def inputs_get_random_batches():
    # Sizes chosen so that the usual readings of batch_size differ: 10 by 4
    # should give [4, 4, 2]; np.array_split into N // 4 parts gives [5, 5];
    # batch_size taken as the number of batches gives [3, 3, 2, 2].
    cases = {}
    # 200 by 50 tells batches drawn with replacement (repeats inside a batch,
    # almost surely) from batches drawn independently without replacement.
    for label, n, bs in (('10 by 4', 10, 4), ('12 by 4', 12, 4), ('200 by 50', 200, 50)):
        x = np.random.default_rng(n).normal(size=(n, 3))
        x[:, 0] = np.arange(n)      # column 0 names the example ...
        cases[label] = (x, np.eye(n), bs)  # ... and its one-hot label names it too
    return {'cases': cases}


def split_sizes(n, parts):
    """Sorted batch sizes of np.array_split(range(n), parts)."""
    return sorted(len(a) for a in np.array_split(np.arange(n), max(parts, 1)))


def batch_pairs(value):
    """The recorded batches as a list of (bx, by) arrays, or (None, problem)."""
    items = value['items'] if isinstance(value, dict) and '__iterator__' in value else value
    if not isinstance(items, (list, tuple)):
        return None, f'returns a {type_name(value)}; expected a list of (x_batch, y_batch) pairs'
    pairs = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            return None, (f'an item of the result is a {type_name(item)}'
                          f'{f" of {len(item)}" if isinstance(item, (list, tuple)) else ""}; '
                          'expected a list of (x_batch, y_batch) pairs')
        bx, by = to_array(item[0]), to_array(item[1])
        if bx is None or by is None or bx.ndim != 2 or by.ndim != 2:
            return None, 'batches must be (x_batch, y_batch) pairs of 2-D arrays (rows are examples)'
        pairs.append((bx, by))
    return pairs, None


def recorded_batches(text, r, f):
    """The batches of one call as a list of (bx, by) arrays, or None after
    noting the problem."""
    if call_error(text, r):
        f.problem(call_error(text, r))
        return None
    value = r['value']
    if isinstance(value, dict) and '__iterator__' in value:
        f.warn(f'returns a {value["__iterator__"]}; the starter returns a list (its training '
               'loop calls len(batches))')
    if isinstance(value, list) and not value:
        f.problem('returns an empty list: the starter\'s placeholder (batches = []) is still there')
        return None
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (list, tuple)) and len(v) > 2 for v in value):
        f.problem('returns (x_batches, y_batches); the starter returns a list of (x_batch, y_batch) pairs')
        return None
    pairs, problem = batch_pairs(value)
    if problem:
        f.problem(f'{text}: {problem}')
        return None
    return pairs


def judge_get_random_batches(inp, calls):
    """Handout Q2.4.1: "takes the entire dataset (x and y) as input, and then
    split the dataset into random batches": every example once, x and y rows
    together, shuffled. How the leftover examples are handed out (a smaller
    last batch, spread, dropped) the handout leaves open: a warn says what
    each costs."""
    f = Findings()
    orders, cases = [], []
    for label, (x, y, bs) in inp['cases'].items():
        n = len(x)
        text = f'get_random_batches(x, y, {bs}) on {n} examples'
        pairs = recorded_batches(text, calls[label], f)
        if pairs is None:
            continue
        ids = [np.rint(bx[:, 0]).astype(int) for bx, _ in pairs]
        if any(by.shape != (len(bx), n) for bx, by in pairs):
            f.problem(f'{text}: an x batch and its y batch differ in rows or y lost its columns')
            continue
        if any((np.argmax(by, axis=1) != i).any() for (_, by), i in zip(pairs, ids)):
            f.problem('x and y rows no longer match: shuffle both with one permutation')
        cases.append((text, n, bs, ids))
    # With replacement, some batch repeats an example (in 200 by 50 almost surely).
    repeats_inside = any(len(set(i.tolist())) < len(i) for *_, ids in cases for i in ids)
    for text, n, bs, ids in cases:
        order = np.concatenate(ids) if ids else np.zeros(0, int)
        orders.append(np.array_equal(order, np.arange(n)))
        counts = np.bincount(order, minlength=n) if len(order) else np.zeros(n, int)
        sizes = [len(i) for i in ids]
        want_sizes = [bs] * (n // bs) + ([n % bs] if n % bs else [])
        twice, never = int((counts > 1).sum()), int((counts == 0).sum())
        if twice and repeats_inside:
            f.problem(f'{text}: {twice} examples come more than once and {never} never: batches '
                      'are drawn with replacement; shuffle once (np.random.permutation) and cut '
                      'the order into batches')
        elif twice:
            f.problem(f'{text}: {twice} examples come more than once and {never} never: each '
                      'batch is drawn on its own (np.random.choice(N, batch_size, replace=False) '
                      'per batch), so no batch repeats an example but the batches overlap; '
                      'shuffle once (np.random.permutation) and cut that order into batches')
        elif never:
            if never == n % bs and sorted(sizes) == [bs] * (n // bs):
                f.warn(f'{text}: the leftover {never} examples are dropped after the shuffle: '
                       'each epoch trains on N - N % batch_size examples (a different few are left '
                       'out each time); keep the smaller last batch to use them all every epoch')
            else:
                f.problem(f'{text}: {never} of the {n} examples never appear')
        elif sorted(sizes) == split_sizes(n, n // bs) != sorted(want_sizes):
            f.warn(f'{text}: batch sizes {sizes}, expected {want_sizes}: np.array_split(order, '
                   'N // batch_size) spreads the leftover examples over the batches')
        elif sorted(sizes) == split_sizes(n, bs) != sorted(want_sizes):
            f.problem(f'{text}: batch sizes {sizes}, expected {want_sizes}: batch_size is used '
                      'as the number of batches')
        elif sorted(sizes) != sorted(want_sizes):
            f.problem(f'{text}: batch sizes {sizes}, expected {want_sizes}')
    if orders and all(orders):
        f.problem('the batches keep the data\'s order: shuffle before splitting')
    f.measured.append('every example exactly once, x and y rows together, shuffled, batches of '
                      'batch_size (the last one smaller)')
    return f


# ----------------------------------------------------------------------------
# findLetters: drawn pages with known boxes
# ----------------------------------------------------------------------------
# Strokes of block capitals in a unit box, (row, col) with (0, 0) top left.
# Every glyph is one connected piece of ink, as a careful writer draws it.
GLYPHS = {
    'E': [[(0, 1), (0, 0), (1, 0), (1, 1)], [(0.5, 0), (0.5, 0.8)]],
    'F': [[(0, 1), (0, 0), (1, 0)], [(0.45, 0), (0.45, 0.8)]],
    'H': [[(0, 0), (1, 0)], [(0, 1), (1, 1)], [(0.5, 0), (0.5, 1)]],
    'L': [[(0, 0), (1, 0), (1, 1)]],
    'T': [[(0, 0), (0, 1)], [(0, 0.5), (1, 0.5)]],
    'V': [[(0, 0), (1, 0.5), (0, 1)]],
    'X': [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    'Z': [[(0, 0), (0, 1), (1, 0), (1, 1)]],
    'N': [[(1, 0), (0, 0), (1, 1), (0, 1)]],
    'M': [[(1, 0), (0, 0), (0.6, 0.5), (0, 1), (1, 1)]],
    'W': [[(0, 0), (1, 0.25), (0.4, 0.5), (1, 0.75), (0, 1)]],
    'A': [[(1, 0), (0, 0.5), (1, 1)], [(0.6, 0.2), (0.6, 0.8)]],
    'K': [[(0, 0), (1, 0)], [(0, 1), (0.5, 0), (1, 1)]],
    'Y': [[(0, 0), (0.5, 0.5), (0, 1)], [(0.5, 0.5), (1, 0.5)]],
    'U': [[(0, 0), (1, 0), (1, 1), (0, 1)]],
    '4': [[(0, 0.7), (0.65, 0), (0.65, 1)], [(0, 0.7), (1, 0.7)]],
    '7': [[(0, 0), (0, 1), (1, 0.3)]],
    'O': [[(0.5 - 0.5 * np.cos(t), 0.5 + 0.5 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 33)]],
    'C': [[(0.5 - 0.5 * np.cos(t), 0.5 - 0.5 * np.sin(t)) for t in np.linspace(0.6, 2 * np.pi - 0.6, 25)]],
}


def glyph_mask(char, height, width, radius):
    """Boolean ink of one character: its strokes drawn 1 pixel wide, then
    dilated by a disk into a pen of width 2 * radius + 1."""
    mask = np.zeros((height + 2 * radius, width + 2 * radius), bool)
    for stroke in GLYPHS[char]:
        pts = [(radius + round(r * (height - 1)), radius + round(c * (width - 1))) for r, c in stroke]
        for (r0, c0), (r1, c1) in zip(pts, pts[1:]):
            mask[draw.line(r0, c0, r1, c1)] = True
    return ndi.binary_dilation(mask, morphology.disk(radius))


def draw_page(shape, lines, top, left, height, width, step, line_step, radius,
              paper, ink, noise, seed):
    """A page of text. lines: one string per line. paper: (H, W) brightness.
    Returns (RGB float image in [0, 1], true boxes (K, 4) [y1, x1, y2, x2]
    with y2, x2 exclusive, the ink mask)."""
    ink_mask = np.zeros(shape, bool)
    boxes = []
    for li, text in enumerate(lines):
        for ci, char in enumerate(text):
            m = glyph_mask(char, height, width, radius)
            y, x = top + li * line_step, left + ci * step
            ink_mask[y:y + m.shape[0], x:x + m.shape[1]] |= m
            ys, xs = np.nonzero(m)
            boxes.append((y + ys.min(), x + xs.min(), y + ys.max() + 1, x + xs.max() + 1))
    gray = np.where(ink_mask, ink, paper)
    gray = gray + np.random.default_rng(seed).normal(0, noise, shape)
    tint = np.array([1.0, 0.97, 0.92])          # a photo's paper is never neutral grey
    return np.clip(gray[..., None] * tint, 0, 1), np.array(boxes), ink_mask


@functools.lru_cache(maxsize=1)
def drawn_pages():
    """Two pages the handout's method reads: a clean one and one lit unevenly.
    Wider than tall, and no character sits where swapping x and y would land
    it on another, so boxes given as [x1, y1, x2, y2] are told apart."""
    H, W = 520, 960
    clean = draw_page((H, W), ['EHTLVX', 'ZNAKMW'], top=90, left=150, height=120, width=80,
                      step=125, line_step=220, radius=5, paper=np.full((H, W), 0.92), ink=0.12,
                      noise=0.01, seed=0)
    H, W = 600, 1000
    yy, xx = np.mgrid[0:H, 0:W]
    shading = 0.95 - 0.2 * xx / W - 0.05 * yy / H
    shaded = draw_page((H, W), ['OCUYF', '4Z7EH', 'MKVAL'], top=80, left=200, height=90, width=65,
                       step=140, line_step=170, radius=4, paper=shading, ink=0.15, noise=0.02, seed=1)
    return {'clean': clean, 'shaded': shaded}


def inputs_findLetters():
    pages = drawn_pages()
    return {'pages': {k: image for k, (image, _, _) in pages.items()},
            'truth': {k: boxes for k, (_, boxes, _) in pages.items()},
            'ink': {k: mask for k, (_, _, mask) in pages.items()}}


def iou_matrix(a, b):
    """IoU of every box of a (K, 4) with every box of b (M, 4), [y1, x1, y2, x2]."""
    a, b = np.asarray(a, float).reshape(-1, 4), np.asarray(b, float).reshape(-1, 4)
    ih = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iw = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area = lambda r: np.abs((r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1]))  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - ih * iw
    return np.where(union > 0, ih * iw / np.maximum(union, 1e-9), 0.0)


def match_counts(found, truth):
    """(true boxes matched, found boxes matched) at IoU >= IOU_MATCH,
    each box matched at most once (greedily by IoU)."""
    iou = iou_matrix(found, truth)
    used_f, used_t = set(), set()
    for flat in np.argsort(-iou, axis=None):
        i, j = np.unravel_index(flat, iou.shape)
        if iou[i, j] < IOU_MATCH:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_t), len(used_f)


# Box layouts students return by mistake, as the columns that turn the
# handout's [y1, x1, y2, x2] into them (and back).
BOX_ORDERS = {'[x1, y1, x2, y2]': [1, 0, 3, 2], '[y1, y2, x1, x2]': [0, 2, 1, 3],
              '[x1, x2, y1, y2]': [1, 3, 0, 2]}


def box_order_mistake(found, truth):
    """The layout name if the boxes match the truth only when read in
    another column order (or as [y, x, height, width]), else None."""
    right, _ = match_counts(found, truth)
    candidates = {name: found[:, cols] for name, cols in BOX_ORDERS.items()}
    as_sizes = found.copy()
    as_sizes[:, 2:] += found[:, :2]
    candidates['[y1, x1, height, width]'] = as_sizes
    for name, boxes in candidates.items():
        if match_counts(boxes, truth)[0] > max(right, 0.5 * len(truth)):
            return name
    return None


def judge_findLetters(inp, calls):
    """Handout Q4.2: "Given an RGB image, this function should return bounding
    boxes for all of the located handwritten characters in the image, as well
    as a binary black-and-white version of the image"; rows "[y1,x1,y2,x2]"."""
    f = Findings()
    totals = np.zeros(3, int)                    # true boxes, found boxes, matches
    for page, image in inp['pages'].items():
        truth, ink = inp['truth'][page], inp['ink'][page]
        r = calls[page]
        if call_error(f'findLetters on the {page} page', r):
            gray = calls.get(f'{page} (gray)', {})
            if gray and 'error' not in gray:
                f.problem(f'findLetters raised {short_error(r)} on the RGB {page} page, but runs on '
                          'the same page in gray: it expects a gray (H, W) image; the handout '
                          'passes an RGB (H, W, 3) one ("Given an RGB image"): convert it with '
                          'skimage.color.rgb2gray first')
            else:
                f.problem(call_error(f'findLetters on the {page} page', r))
            totals[0] += len(truth)
            continue
        value = r['value']
        if isinstance(value, (tuple, list)) and len(value) == 2 and value[1] is None and \
                isinstance(value[0], list) and not value[0]:
            f.problem('returns ([], None): the starter\'s placeholder (bboxes = [], bw = None) is '
                      'still there')
            totals[0] += len(truth)
            continue
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            f.problem(f'findLetters returns a {type_name(value)}; expected the pair (bboxes, bw)')
            totals[0] += len(truth)
            continue
        bboxes, bw = value
        found = to_array(bboxes)
        if found is None or (found.size and (found.ndim != 2 or found.shape[1] != 4)):
            shape = type_name(bboxes) if found is None else f'an array of shape {shape_text(found.shape)}'
            f.problem(f'bboxes is {shape}; expected one row [y1, x1, y2, x2] per character')
            found = np.zeros((0, 4))
        found = found.reshape(-1, 4)
        if not len(found):
            f.problem(f'findLetters finds no box at all on the {page} page: bboxes comes back '
                      'empty (is it ever appended to?)')
        matched, correct = match_counts(found, truth)
        totals += (len(truth), len(found), matched)
        f.details[page] = {'true_boxes': len(truth), 'found': len(found), 'matched': matched}
        if matched < MIN_RECALL * len(truth) and len(found):
            order = box_order_mistake(found, truth)
            if order:
                f.problem(f'boxes are {order}: the handout\'s rows are [y1, x1, y2, x2] '
                          '(row = y first, then column = x)')
        judge_bw(bw, image.shape[:2], ink, page, f)
    recall = totals[2] / max(totals[0], 1)
    precision = totals[2] / max(totals[1], 1) if totals[1] else 0.0
    f.details.update(recall=recall, precision=precision, iou=IOU_MATCH)
    summary = (f'{totals[2]} of {totals[0]} characters found, {totals[1]} boxes '
               f'(recall {recall:.0%}, precision {precision:.0%} at IoU {IOU_MATCH})')
    if recall < MIN_RECALL or precision < MIN_PRECISION:
        f.problem(summary)
    else:
        f.notes.append(summary)
    return f


def judge_bw(bw, shape, ink, page, f):
    """bw: float (H, W) in [0, 1], characters 0 (black) on 1 (white). Handout
    Q4.2: "a binary black-and-white version of the image ... The black and
    white image should be floating point, 0 to 1"."""
    a = to_array(bw)
    if a is None or a.shape != shape:
        got = type_name(bw) if a is None else f'shape {shape_text(a.shape)}'
        f.problem(f'bw has {got}; expected an (H, W) = {shape_text(shape)} image like the input')
        return
    if not np.isfinite(a).all() or a.min() < 0 or a.max() > 1:
        f.problem(f'bw holds values outside [0, 1] ({np.nanmin(a):.3g} .. {np.nanmax(a):.3g})')
        return
    if isinstance(bw, np.ndarray) and bw.dtype == bool:
        f.warn('bw is a bool array; the handout asks for a floating-point image (0 to 1)')
    paper = ~ndi.binary_dilation(ink, iterations=6)
    ink_dark, paper_light = np.mean(a[ink] < 0.5), np.mean(a[paper] >= 0.5)
    if ink_dark < 0.5 and paper_light < 0.5:
        # The main edition: "with the characters in black and background in
        # white"; other editions say only "a binary black-and-white version".
        # The boxes do not depend on it; the crops fed to the classifier do.
        f.warn('bw has white characters on black: the boxes are unaffected, but crops cut from '
               'it must be inverted before the network reads them (NIST36 characters are black '
               'on white, as the main edition asks bw to be)')
    elif ink_dark < 0.5 or paper_light < 0.9:
        f.problem(f'bw on the {page} page: {ink_dark:.0%} of the ink is dark and {paper_light:.0%} '
                  'of the paper light; expected characters black (0) on white (1)')


@functools.lru_cache(maxsize=1)
def reference_findLetters():
    """Our q4.findLetters on the drawn pages: matched, true and found boxes
    per page, shown next to the student's (or why ours could not run)."""
    try:
        import q4
        out = {}
        for page, (image, truth, _) in drawn_pages().items():
            boxes, _ = q4.findLetters(image)
            matched, _ = match_counts(np.asarray(boxes).reshape(-1, 4), truth)
            out[page] = {'matched': matched, 'true_boxes': len(truth), 'found': len(boxes)}
        return out
    except Exception as e:  # noqa: BLE001  (ours is context only; never fail a student's check on it)
        return {'error': f'{type(e).__name__}: {e}'}


# ----------------------------------------------------------------------------
# Training on NIST36 (--train)
# ----------------------------------------------------------------------------
def judge_train(inp, calls):
    f = Findings()
    r = calls['train']
    h = r.get('value') or {}
    acc = h.get('valid_acc', [])
    epochs = len(acc)
    f.details.update(history=h, epochs_asked=inp['epochs'], lr=inp['lr'], batch_size=inp['batch_size'])
    done = f'after {epochs} of {inp["epochs"]} epochs' if epochs < inp['epochs'] else f'after {epochs} epochs'
    if 'error' in r:
        f.problem(f'training raised {short_error(r)} in epoch {epochs + 1}')
    if r.get('partial'):
        f.problem(f'stopped by the time limit {done}')
    losses = h.get('train_loss', [])
    if losses and not np.isfinite(losses[-1]):
        f.problem(f'the loss became nan or inf in epoch {len(losses)}: training diverged')
    if acc:
        final = acc[-1]
        text = f'validation accuracy {final:.1%} {done} (the handout\'s bar: {TRAIN_BAR:.0%})'
        if final < TRAIN_BAR:
            chance = ' : no better than chance (1/36 = 2.8%)' if final < 0.05 else ''
            f.problem(text + chance)
        else:
            f.notes.append(text)
        f.notes.append(f'{np.mean(h["epoch_seconds"]):.1f} s per epoch')
    return f


# ----------------------------------------------------------------------------
# The list of checks, in the handout's order
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    function: str               # the handout function (the report's row)
    module: str                 # the student's file: nn or q4
    needs: tuple                # functions that must exist for the check to run
    inputs: object              # () -> dict
    judge: object               # (inputs, calls) -> Findings


def _check(function, module='nn', needs=None):
    return Check(function, module, tuple(needs or (function,)),
                 globals()['inputs_' + function], globals()['judge_' + function])


TRAIN_NEEDS = ('initialize_weights', 'forward', 'softmax', 'compute_loss_and_acc',
               'sigmoid_deriv', 'backwards', 'get_random_batches')

CHECKS = [_check('initialize_weights'), _check('sigmoid'), _check('forward'), _check('softmax'),
          _check('compute_loss_and_acc'), _check('sigmoid_deriv'), _check('backwards'),
          _check('get_random_batches'), _check('findLetters', module='q4')]
TRAIN_CHECK = Check('train', 'nn', TRAIN_NEEDS, None, judge_train)
