"""Whole networks built from the handout's layer functions in nn.py.

nn.py holds the handout's functions, one layer at a time. The run scripts
need more: a network as a list of layers ``(name, activation,
activation_deriv)`` run forward and backward, parameter updates, prediction
in chunks, the numerical gradient checker. That machinery is here.

Every function that runs layers takes the nn module as its first argument:
this project's nn.py, or a student's (``load_nn``). It calls that module
only through the handout's signatures. Where an nn function also takes one
of this project's extra keyword arguments (initialize_weights' ``rng`` and
``dtype``, backwards' ``input_grad``, get_random_batches' ``rng`` and
``lazily``), they are passed as a fast path; a student's plain function is
called plainly.
"""
import functools
import importlib.util
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from util import REPO_ROOT, UsageError, linear_deriv, param_names, short_reason

CHECKER = REPO_ROOT / 'checker' / 'check_submission.py'


# ----------------------------------------------------------------------------
# Which nn: ours, or a student's that passes the submission checker
# ----------------------------------------------------------------------------
def load_nn(path=None):
    """The nn module the numpy questions run on: this project's nn.py, or,
    with ``path`` (a folder holding nn.py, or the file itself), the
    student's, once the submission checker has passed each of its
    functions. A function that breaks the handout's contract stops the run
    with a UsageError naming it."""
    if path is None:
        import nn
        return nn
    path = Path(path)
    file = path / 'nn.py' if path.is_dir() else path
    if file.name != 'nn.py' or not file.is_file():
        raise UsageError(f'--nn {path}: no nn.py there; pass the folder that holds your nn.py')
    check_contract(file)
    spec = importlib.util.spec_from_file_location('nn', file)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001  (their module may raise anything on import)
        raise UsageError(f'importing {file} failed: {type(e).__name__}: {short_reason(e)}') from None
    print(f'nn: the handout functions of {file} (it passed the submission checker)')
    return module


def check_contract(file):
    """Run the submission checker on a student's nn.py (next to our util.py,
    which their ``from util import *`` gets in a run too) and raise a
    UsageError naming the first of its functions that fails or is missing."""
    shown = f'python {CHECKER.relative_to(REPO_ROOT)} {file.parent}'
    with tempfile.TemporaryDirectory(prefix='hw5_nn_') as tmp:
        shutil.copyfile(file, Path(tmp) / 'nn.py')
        shutil.copyfile(REPO_ROOT / 'python' / 'util.py', Path(tmp) / 'util.py')
        report_path = Path(tmp) / 'report.json'
        proc = subprocess.run([sys.executable, str(CHECKER), tmp, '--json', str(report_path)],
                              capture_output=True, text=True)
        if not report_path.exists():
            why = (proc.stderr.strip().splitlines() or ['no report'])[-1]
            raise UsageError(f'the submission checker could not check {file} ({why}); run `{shown}`')
        report = json.loads(report_path.read_text())
    rows = [row for row in report['checks'] if row['file'] == 'nn.py']
    for row in rows:
        if row['status'] in ('fail', 'missing'):
            raise UsageError(f"{file}: {row['function']} breaks the handout's contract: {row['hint']} "
                             f'(the full report: `{shown}`)')
    for row in rows:
        if row['status'] in ('warn', 'error'):  # a right answer in a questionable form, or unjudged
            print(f"note: {file}: {row['function']}: {row['hint']}")


@functools.lru_cache(maxsize=None)
def offers(fn, keyword):
    """Whether fn takes the keyword argument ``keyword``."""
    try:
        return keyword in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or an odd callable: call it plainly
        return False


# ----------------------------------------------------------------------------
# The handout's calls, with our fast paths where the nn in use offers them
# ----------------------------------------------------------------------------
def init_layer(nn, in_size, out_size, params, name, rng, dtype=np.float64):
    """nn.initialize_weights for one layer, drawing from ``rng`` in ``dtype``.
    A plain one draws from np.random (seeded here from rng), and its arrays
    are cast to dtype afterwards."""
    if offers(nn.initialize_weights, 'rng') and offers(nn.initialize_weights, 'dtype'):
        nn.initialize_weights(in_size, out_size, params, name, rng=rng, dtype=dtype)
        return
    np.random.seed(int(rng.integers(2 ** 32)))
    nn.initialize_weights(in_size, out_size, params, name)
    for key in ('W' + name, 'b' + name):
        params[key] = np.asarray(params[key], dtype=dtype)


def random_batches(nn, x, y, batch_size, rng):
    """nn.get_random_batches(x, y, batch_size): drawn from ``rng``, and one
    batch at a time (``lazily``), where it offers those."""
    fast = {k: v for k, v in (('rng', rng), ('lazily', True)) if offers(nn.get_random_batches, k)}
    return nn.get_random_batches(x, y, batch_size, **fast)


def network_forward(nn, X, params, layers):
    """nn.forward through the layers in order; the last layer's post-activation."""
    h = X
    for name, activation, _ in layers:
        h = nn.forward(h, params, name, activation)
    return h


def network_backward(nn, delta, params, layers):
    """nn.backwards through the layers in reverse, from delta = dJ/d(output).
    The first layer's input is the data, so where backwards offers it, that
    layer skips dJ/dX (``input_grad=False``)."""
    for i in range(len(layers) - 1, -1, -1):
        name, _, activation_deriv = layers[i]
        if i == 0 and offers(nn.backwards, 'input_grad'):
            nn.backwards(delta, params, name, activation_deriv, input_grad=False)
        else:
            delta = nn.backwards(delta, params, name, activation_deriv)


def predict(nn, x, params, layers, batch_size=4096):
    """Network output for x in chunks (keeps memory flat on big sets)."""
    outs = [network_forward(nn, x[i:i + batch_size], params, layers)
            for i in range(0, len(x), batch_size)]
    return np.concatenate(outs) if outs else np.zeros((0, 0))


def classifier_layers(nn, hidden_names=('layer1',), hidden_activation=None, hidden_deriv=None):
    """Layer list of an MLP classifier: sigmoid hidden layer(s) (or the
    activation given), softmax output. The output's derivative is linear:
    the loss's delta, probs - y, is already taken w.r.t. the logits."""
    activation = hidden_activation or nn.sigmoid
    deriv = hidden_deriv or nn.sigmoid_deriv
    return [(n, activation, deriv) for n in hidden_names] + [('output', nn.softmax, linear_deriv)]


def count_params(params):
    """Number of learnable scalars."""
    return int(sum(np.size(params[k]) for k in param_names(params)))


# ----------------------------------------------------------------------------
# Losses as "loss and delta" pairs, for the gradient checker
# ----------------------------------------------------------------------------
def softmax_cross_entropy(nn):
    """loss_and_delta(y, probs) of a softmax classifier: the summed
    cross-entropy (nn.compute_loss_and_acc) and its gradient w.r.t. the
    *logits*, probs - y, which folds the softmax Jacobian in (the starter
    code's trick; hence the output layer's linear_deriv)."""
    def loss_and_delta(y, probs):
        loss, _ = nn.compute_loss_and_acc(y, probs)
        return loss, probs - y
    return loss_and_delta


def squared_error(x, recon):
    """Total squared error J = sum (recon - x)^2 and dJ/d recon = 2 (recon - x)."""
    diff = recon - x
    loss = float(np.vdot(diff, diff))  # the sum of squares as one dot product: no temporary
    diff *= 2.0
    return loss, diff


# ----------------------------------------------------------------------------
# Updates (Q2.4 and Q5.1.2)
# ----------------------------------------------------------------------------
def sgd_update(params, lr):
    """Plain gradient descent: W <- W - lr dJ/dW for every parameter."""
    # A Python float keeps float32 weights in float32; a numpy float64 scalar
    # (say, from np.cos in a schedule) would make every update compute in
    # float64 and cast back, several times slower.
    lr = float(lr)
    for k in param_names(params):
        params[k] -= lr * params['grad_' + k]


# Every FLUSH_EVERY steps, velocities under FLUSH_BELOW become exactly 0, so
# that a dead unit's shrinking velocity never turns into subnormal floats,
# which x86 computes about 100x slower. A velocity under 1e-30 moves no
# float32 weight. Why these numbers: docs/measurements.md.
FLUSH_EVERY, FLUSH_BELOW = 100, 1e-30


def momentum_update(params, lr, momentum=0.9):
    """Q5.1.2: M <- momentum M - lr dJ/dW;  W <- W + M.

    The accumulators live in the params dict as ``m_<key>``, created as zeros
    the first time (with the step count ``m_steps``); a velocity keeps heading
    down a consistent slope while gradients that flip sign from batch to
    batch cancel out.
    """
    lr, momentum = float(lr), float(momentum)  # stay in the weights' dtype (see sgd_update)
    params['m_steps'] = params.get('m_steps', 0) + 1
    flush = params['m_steps'] % FLUSH_EVERY == 0
    for k in param_names(params):
        m_key = 'm_' + k
        if m_key not in params:
            params[m_key] = np.zeros_like(params[k])
        m = params[m_key]
        m *= momentum
        m -= lr * params['grad_' + k]
        if flush:
            m[np.abs(m) < FLUSH_BELOW] = 0
        params[k] += m


# ----------------------------------------------------------------------------
# Q2.5.1 Numerical gradient check
# ----------------------------------------------------------------------------
def numerical_gradient(loss_fn, params, key, eps=1e-6):
    """Central differences dJ/dtheta ~ (J(theta + eps) - J(theta - eps)) / 2 eps
    for every scalar of params[key], one at a time. loss_fn(params) -> float."""
    theta = params[key]
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        original = theta[i]
        theta[i] = original + eps
        plus = loss_fn(params)
        theta[i] = original - eps
        minus = loss_fn(params)
        theta[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """max_i |a_i - b_i| / max_i max(|a_i|, |b_i|): the worst error over one
    parameter array, relative to the size of that gradient.

    Dividing element by element instead would blow up where a gradient is
    ~0 (a saturated unit) and the finite difference is pure rounding noise.
    """
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    return float(np.abs(a - b).max(initial=0.0) / scale) if scale > 0 else 0.0


def batch_loss_and_grads(nn, x, target, layers, loss_and_delta):
    """loss_and_grads(params) for ``check_gradients``: forward the fixed batch
    x, score it against target with loss_and_delta (e.g.
    ``softmax_cross_entropy(nn)`` or ``squared_error``), backprop, return the loss."""
    def loss_and_grads(params):
        loss, delta = loss_and_delta(target, network_forward(nn, x, params, layers))
        network_backward(nn, delta, params, layers)
        return loss
    return loss_and_grads


def check_gradients(loss_and_grads, params, eps=1e-6):
    """Compare analytic gradients with central differences on every parameter.

    loss_and_grads(params) must compute the loss on a *fixed* batch and, as a
    side effect, fill params['grad_<key>'] by backprop (``batch_loss_and_grads``
    makes one); it is called once for the analytic gradients and then as a
    plain loss function. Returns a dict key -> max relative error. Use
    float64 parameters: in float32 the rounding of the loss alone is larger
    than eps.
    """
    loss_and_grads(params)
    analytic = {k: params['grad_' + k].copy() for k in param_names(params)}
    return {k: relative_error(analytic[k], numerical_gradient(loss_and_grads, params, k, eps))
            for k in analytic}
