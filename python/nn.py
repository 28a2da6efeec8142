"""The handout's nn.py: one fully connected layer at a time, written in numpy.

These are exactly the functions of the starter code, with its names and
signatures (the few extra keyword arguments have defaults, so the handout's
calls work unchanged). Everything that builds whole networks from them,
training loops, updates, the gradient checker, lives in network.py, which
calls this file only through the handout's signatures: a student's own
nn.py can take its place (``--nn FOLDER`` on run_q2, run_q3, run_q5, run_q6).
relu and linear, which the handout provides "in util.py", are in util.py.

Conventions (the handout's):
  * Data is N x D: one example per row, features along the columns.
  * A layer computes  y = activation(X @ W + b)  with W of shape (D, H) and b of (H,).
  * All parameters live in one dict ``params``. A layer called ``name`` owns
    ``W<name>`` and ``b<name>``; ``forward`` stores what backprop needs in
    ``cache_<name>``, and ``backwards`` writes ``grad_W<name>`` and ``grad_b<name>``.
  * Losses are summed over the examples of a batch, so gradients are sums too
    and the learning rate is "per example".

Every activation comes with its derivative written as a function of the
*post-activation* value, which is what the cache holds. That is why
``sigmoid_deriv(s) = s * (1 - s)`` takes sigma(x), not x (Q1.4).
"""
import numpy as np


# ----------------------------------------------------------------------------
# Q2.1.2 Initialisation
# ----------------------------------------------------------------------------
def initialize_weights(in_size, out_size, params, name='', rng=None, dtype=np.float64):
    """Create ``W<name>`` (in_size, out_size) ~ Xavier uniform and ``b<name>`` = 0.

    U(-a, a) has variance a^2 / 3, so a = sqrt(6 / (in + out)) gives the
    handout's Var[w] = 2 / (in + out) (Glorot and Bengio, eq. 16).
    rng:   a ``np.random.Generator``; None uses numpy's global generator so
           ``np.random.seed`` still controls it, as in the starter code.
    dtype: float64 for gradient checks, float32 for fast training.
    """
    a = np.sqrt(6.0 / (in_size + out_size))
    uniform = (rng or np.random).uniform
    params['W' + name] = uniform(-a, a, size=(in_size, out_size)).astype(dtype)
    params['b' + name] = np.zeros(out_size, dtype=dtype)


# ----------------------------------------------------------------------------
# Q2.2.1 Sigmoid and forward propagation
# ----------------------------------------------------------------------------
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)) = (1 + tanh(x / 2)) / 2, elementwise.

    The tanh form never overflows (tanh saturates at +-1, where np.exp(1000)
    would be inf and warn), and it is several times faster than scipy's
    expit (docs/measurements.md). Its absolute error is at most machine
    epsilon, so outputs near 0 round to 0 below x = -38 (float64) or -20
    (float32); no loss in this project takes the log of a sigmoid.
    """
    s = np.tanh(0.5 * x)
    s *= 0.5  # in place: saves two temporaries as large as x
    s += 0.5
    return s


def forward(X, params, name='', activation=sigmoid):
    """One layer: post_act = activation(X @ W + b).

    X: (N, D) input; W<name>: (D, H); b<name>: (H,). Returns post_act (N, H).
    Caches (X, pre_act, post_act) in ``params['cache_' + name]`` for backwards.
    """
    W, b = params['W' + name], params['b' + name]
    if X.ndim != 2 or X.shape[1] != W.shape[0]:
        raise ValueError(f"layer '{name}' expects input of shape (N, {W.shape[0]}), "
                         f"got {X.shape}: check the layer sizes and the data's shape")
    pre_act = X @ W
    pre_act += b  # in place: one (N, H) temporary fewer
    post_act = activation(pre_act)
    params['cache_' + name] = (X, pre_act, post_act)
    return post_act


# ----------------------------------------------------------------------------
# Q2.2.2 Softmax, Q2.2.3 loss and accuracy
# ----------------------------------------------------------------------------
def softmax(x):
    """Row-wise softmax of logits x (N, C) -> probabilities (N, C).

    softmax(x) = softmax(x - c) for any c (Q1.1). With c = max_j x_j every
    exponent is <= 0, so exp never overflows and the largest term is exactly 1.
    """
    shifted = x - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def compute_loss_and_acc(y, probs):
    """Summed cross-entropy and accuracy.

    y:     (N, C) one-hot labels.  probs: (N, C) predicted probabilities.
    loss = -sum_n sum_c y[n, c] log probs[n, c]   (a sum over examples, Q2.2.3)
    acc  = fraction of rows where argmax probs == argmax y.
    """
    if y.shape != probs.shape:
        raise ValueError(f"labels {y.shape} and probabilities {probs.shape} differ in shape")
    # A probability that underflowed to 0 would give log(0) = -inf; the
    # smallest positive float keeps the loss finite (and huge) instead.
    tiny = np.finfo(probs.dtype).tiny
    loss = -np.sum(y * np.log(np.maximum(probs, tiny)))
    acc = np.mean(np.argmax(probs, axis=1) == np.argmax(y, axis=1))
    return float(loss), float(acc)


# ----------------------------------------------------------------------------
# Q2.3.1 Backpropagation
# ----------------------------------------------------------------------------
def sigmoid_deriv(post_act):
    """d sigma / dx = sigma(x) (1 - sigma(x)), given post_act = sigma(x) (Q1.4)."""
    return post_act * (1.0 - post_act)


def backwards(delta, params, name='', activation_deriv=sigmoid_deriv, input_grad=True):
    """Backprop through one layer, given delta = dJ/d(post_act), shape (N, H).

    With a = X W + b and y = f(a) (Q1.5, written for rows):
        dJ/da = delta * f'(a)          (elementwise)
        dJ/dW = X^T dJ/da              (D, H): sums over the N examples
        dJ/db = sum_n dJ/da[n]         (H,)
        dJ/dX = dJ/da W^T              (N, D)
    Stores ``grad_W<name>``, ``grad_b<name>`` and returns dJ/dX.
    input_grad=False skips dJ/dX (returns None) for a first layer, whose input
    is the data and needs no gradient; that saves about a third of the work.
    """
    X, _, post_act = params['cache_' + name]
    grad_pre = delta * activation_deriv(post_act)
    params['grad_W' + name] = X.T @ grad_pre
    params['grad_b' + name] = grad_pre.sum(axis=0)
    if not input_grad:
        return None
    return grad_pre @ params['W' + name].T


# ----------------------------------------------------------------------------
# Q2.4.1 Random batches
# ----------------------------------------------------------------------------
def get_random_batches(x, y, batch_size, rng=None, lazily=False):
    """Split (x, y) into random batches covering every example exactly once.

    x: (N, D), y: (N, C). Returns a list of (bx, by); the last batch holds the
    remainder when batch_size does not divide N. rng as in initialize_weights.
    lazily=True returns the same batches as a generator instead, each copied
    out of (x, y) only when the loop asks for it, so one batch's memory is
    reused for the next: a training loop's fast path (docs/measurements.md).
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    # A batch gathers whole rows, which is fast only when each row is one
    # contiguous block; scipy.io.loadmat hands back MATLAB's column-major
    # arrays, so make one C-ordered copy (none when x is C-ordered already).
    autoencoder = y is x
    x = np.ascontiguousarray(x)
    y = x if autoencoder else np.ascontiguousarray(y)
    order = (rng or np.random).permutation(len(x))

    def batches():
        for idx in np.array_split(order, range(batch_size, len(x), batch_size)):
            bx = x[idx]
            # An autoencoder's target is its input: one copy serves both.
            yield bx, (bx if autoencoder else y[idx])
    return batches() if lazily else list(batches())
