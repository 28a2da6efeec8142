"""A fully connected neural network written from scratch in numpy.

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
import threads  # noqa: F401,I001  (first: BLAS and OpenMP threads, before numpy loads)

import numpy as np


# ----------------------------------------------------------------------------
# Activations and their derivatives (as functions of the post-activation)
# ----------------------------------------------------------------------------
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)) = (1 + tanh(x / 2)) / 2, elementwise.

    The tanh form never overflows (tanh saturates at +-1, where np.exp(1000)
    would be inf and warn), and numpy's vectorised tanh makes it about 4x
    faster than scipy's expit; the autoencoder's 1024 sigmoid outputs spend
    a fifth of its training time here otherwise. Its absolute error is at
    most machine epsilon (2e-16 in float64, 1e-7 in float32), so outputs
    near 0 lose relative precision and round to 0 below x = -38 (float64)
    or -20 (float32); no loss in this project takes the log of a sigmoid.
    """
    s = np.tanh(0.5 * x)
    s *= 0.5  # in place: saves two temporaries as large as x
    s += 0.5
    return s


def sigmoid_deriv(post_act):
    """d sigma / dx = sigma(x) (1 - sigma(x)), given post_act = sigma(x)."""
    return post_act * (1.0 - post_act)


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
# Q2.1.2 Initialisation
# ----------------------------------------------------------------------------
def xavier_bound(in_size, out_size):
    """Half-width a of U(-a, a) with Var = a^2 / 3 = 2 / (in + out) (Glorot eq. 16)."""
    return np.sqrt(6.0 / (in_size + out_size))


def initialize_weights(in_size, out_size, params, name='', rng=None, dtype=np.float64):
    """Create ``W<name>`` (in_size, out_size) ~ Xavier uniform and ``b<name>`` = 0.

    rng:   a ``np.random.Generator``; None uses numpy's global generator so
           ``np.random.seed`` still controls it, as in the starter code.
    dtype: float64 for gradient checks, float32 for fast training.
    """
    a = xavier_bound(in_size, out_size)
    uniform = (rng or np.random).uniform
    params['W' + name] = uniform(-a, a, size=(in_size, out_size)).astype(dtype)
    params['b' + name] = np.zeros(out_size, dtype=dtype)


# ----------------------------------------------------------------------------
# Q2.2 Forward propagation
# ----------------------------------------------------------------------------
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


def squared_error(x, recon):
    """Total squared error J = sum (recon - x)^2 and dJ/d recon = 2 (recon - x)."""
    diff = recon - x
    loss = float(np.vdot(diff, diff))  # the sum of squares as one dot product: no temporary
    diff *= 2.0
    return loss, diff


# ----------------------------------------------------------------------------
# Q2.3 Backpropagation
# ----------------------------------------------------------------------------
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
# A network is a list of layers (name, activation, activation_deriv)
# ----------------------------------------------------------------------------
def network_forward(X, params, layers):
    """Run the layers in order; returns the last layer's post-activation."""
    h = X
    for name, activation, _ in layers:
        h = forward(h, params, name, activation)
    return h


def network_backward(delta, params, layers):
    """Backprop delta = dJ/d(output) through the layers in reverse order."""
    for i in range(len(layers) - 1, -1, -1):
        name, _, activation_deriv = layers[i]
        delta = backwards(delta, params, name, activation_deriv, input_grad=i > 0)


def param_names(params):
    """The learnable parameters' keys (W*, b*), sorted."""
    return sorted(k for k in params if k[0] in 'Wb' and not k.startswith('grad'))


def count_params(params):
    """Number of learnable scalars."""
    return int(sum(params[k].size for k in param_names(params)))


# ----------------------------------------------------------------------------
# Losses, written as "loss and delta" pairs that a training loop can use
# ----------------------------------------------------------------------------
def softmax_cross_entropy(y, probs):
    """Cross-entropy of softmax outputs, and the gradient w.r.t. the *logits*.

    d CE(softmax(a)) / d a = probs - y, which folds the softmax Jacobian in, so
    a classifier's output layer is declared with ``linear_deriv`` (the
    starter code's trick). Returns (loss, delta).
    """
    loss, _ = compute_loss_and_acc(y, probs)
    return loss, probs - y


def classifier_layers(hidden_names=('layer1',), hidden_activation=sigmoid,
                      hidden_deriv=sigmoid_deriv):
    """Layer list of an MLP classifier: sigmoid hidden layer(s), softmax output."""
    hidden = [(n, hidden_activation, hidden_deriv) for n in hidden_names]
    return hidden + [('output', softmax, linear_deriv)]


# ----------------------------------------------------------------------------
# Q2.4 Batches and parameter updates
# ----------------------------------------------------------------------------
def get_random_batches(x, y, batch_size, rng=None):
    """Split (x, y) into random batches covering every example exactly once.

    x: (N, D), y: (N, C). Returns a list of (bx, by); the last batch holds the
    remainder when batch_size does not divide N.
    """
    return list(iter_random_batches(x, y, batch_size, rng))


def iter_random_batches(x, y, batch_size, rng=None):
    """The batches of ``get_random_batches`` (same shuffle, same order), each
    copied out of (x, y) only when the loop asks for it. A training loop then
    reuses one batch's memory for the next, instead of first writing a
    shuffled copy of the whole dataset to fresh memory: for the autoencoder,
    an epoch's batches take 4 ms instead of 18 ms."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    # A batch gathers whole rows, which is fast only when each row is one
    # contiguous block. scipy.io.loadmat hands back MATLAB's column-major
    # arrays, so the handout's own loading gives a Fortran-ordered x: one
    # C-ordered copy per epoch (no copy at all when x is C-ordered already)
    # made an epoch of the handout's NIST36 loop a quarter faster than
    # gathering every batch across the columns.
    autoencoder = y is x
    x = np.ascontiguousarray(x)
    y = x if autoencoder else np.ascontiguousarray(y)
    order = (rng or np.random).permutation(len(x))
    for idx in np.array_split(order, range(batch_size, len(x), batch_size)):
        bx = x[idx]
        # An autoencoder's target is its input: one copy serves both.
        yield bx, (bx if autoencoder else y[idx])


def sgd_update(params, lr):
    """Plain gradient descent: W <- W - lr dJ/dW for every parameter."""
    # A Python float keeps float32 weights in float32; a numpy float64 scalar
    # (say, from np.cos in a schedule) would make every update compute in
    # float64 and cast back, several times slower.
    lr = float(lr)
    for k in param_names(params):
        params[k] -= lr * params['grad_' + k]


# A unit that stops getting gradient (a dead ReLU) has its velocity shrink by
# 0.9 per step, towards the subnormal floats below np.finfo(dtype).tiny, where
# it would stay for good (0.9 x the smallest subnormal rounds back to itself).
# Arithmetic on subnormals is ~100x slower on x86 and made whole epochs 1.5x
# slower. So every FLUSH_EVERY steps, velocities under FLUSH_BELOW become
# exactly 0: a survivor then needs 0.9^100 ~ 3e-5 x 1e-30 > 1e-38 (float32's
# tiny) to go subnormal, more than 100 steps. A velocity under 1e-30 moves no
# weight: it is some 20 orders of magnitude under the last digit of a float32
# weight. Checking every step instead cost a sixth of the autoencoder's
# training time.
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


def train_epoch(x, y, params, layers, loss_and_delta, update, batch_size, rng=None):
    """One pass over (x, y) in random batches. Returns the summed training loss.

    loss_and_delta(target, output) -> (loss, dJ/d output), e.g.
    ``softmax_cross_entropy``; update(params) applies the gradients, e.g.
    ``lambda p: sgd_update(p, lr)``.
    """
    total = 0.0
    for bx, by in iter_random_batches(x, y, batch_size, rng):
        out = network_forward(bx, params, layers)
        loss, delta = loss_and_delta(by, out)
        network_backward(delta, params, layers)
        update(params)
        total += loss
    return total


def predict(x, params, layers, batch_size=4096):
    """Network output for x in chunks (keeps memory flat on big sets)."""
    outs = [network_forward(x[i:i + batch_size], params, layers)
            for i in range(0, len(x), batch_size)]
    return np.concatenate(outs) if outs else np.zeros((0, 0))


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


def batch_loss_and_grads(x, target, layers, loss_and_delta):
    """loss_and_grads(params) for ``check_gradients``: forward the fixed batch
    x, score it against target with loss_and_delta (e.g.
    ``softmax_cross_entropy`` or ``squared_error``), backprop, return the loss."""
    def loss_and_grads(params):
        loss, delta = loss_and_delta(target, network_forward(x, params, layers))
        network_backward(delta, params, layers)
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
