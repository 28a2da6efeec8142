"""Mistakes seen in published HW5 solutions, each rewritten in a few lines of
our own (no student's code is kept here). docs/check_submission_corpus.md
lists the solutions each came from; tests/test_check_submission.py checks
that the hint names the cause (or, where the handout leaves room, that the
row is a warn that says what it costs).
"""
import numpy as np

import nn


# --- real bugs: each must FAIL with a hint that names it --------------------
def batches_each_drawn_alone(x, y, batch_size):
    """Every batch drawn without replacement, but independently of the others
    (np.random.choice(..., replace=False) per batch)."""
    picks = [np.random.choice(len(x), batch_size, replace=False) for _ in range(len(x) // batch_size)]
    return [(x[i], y[i]) for i in picks]


def batches_with_replacement(x, y, batch_size):
    """np.random.randint (or choice without replace=False) for every batch."""
    picks = [np.random.randint(0, len(x), batch_size) for _ in range(len(x) // batch_size)]
    return [(x[i], y[i]) for i in picks]


def backwards_first_example_bias(delta, params, name='', activation_deriv=None):
    """The bias gradient of the first example only, not summed over the batch."""
    X, _, post = params['cache_' + name]
    g = delta * activation_deriv(post)
    params['grad_W' + name], params['grad_b' + name] = X.T @ g, g[0]
    return g @ params['W' + name].T


def loss_over_100(y, probs):
    """The summed loss divided by a constant."""
    return -np.sum(y * np.log(probs)) / 100, np.mean(y.argmax(1) == probs.argmax(1))


def init_bound_without_root(in_size, out_size, params, name=''):
    """The uniform's bound taken as 2/(in+out), the variance, with no root."""
    a = 2 / (in_size + out_size)
    params['W' + name] = np.random.uniform(-a, a, (in_size, out_size))
    params['b' + name] = np.zeros(out_size)


def init_starter(in_size, out_size, params, name=''):
    """The starter's body, never filled in."""
    W, b = None, None
    params['W' + name], params['b' + name] = W, b


def forward_by_name(X, params, name='', activation=None):
    """Picks its activation by comparing with a string: never true."""
    pre = X @ params['W' + name] + params['b' + name]
    post = nn.sigmoid(pre) if activation == 'sigmoid' else nn.softmax(pre)
    params['cache_' + name] = (X, pre, post)
    return post


def find_letters_on_gray(image):
    """Written for a gray image: unpacking an RGB image's shape raises."""
    rows, cols = image.shape
    import q4
    return q4.findLetters(np.dstack([image] * 3))


# --- what the handout leaves open: a warn that says what it costs -----------
def softmax_in_place(x):
    """Right values, but the caller's logits are shifted in place."""
    x -= x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def forward_without_pre_act(X, params, name='', activation=None):
    """Caches None for pre_act, which backwards_from_post_act never reads."""
    post = activation(X @ params['W' + name] + params['b' + name])
    params['cache_' + name] = (X, None, post)
    return post


def backwards_from_post_act(delta, params, name='', activation_deriv=None):
    X, _, post = params['cache_' + name]
    g = delta * activation_deriv(post)
    params['grad_W' + name], params['grad_b' + name] = X.T @ g, g.sum(axis=0)
    return g @ params['W' + name].T


def find_letters_white_on_black(image):
    """Every box right; bw with white characters on black."""
    import q4
    bboxes, bw = q4.findLetters(image)
    return bboxes, 1.0 - bw


# --- how the handout's scripts call their code ------------------------------
def deriv_of_their_own(post_act):
    return post_act * (1.0 - post_act)


def backwards_by_identity(delta, params, name='', activation_deriv=deriv_of_their_own):
    """Branches on which derivative it was given: right with the student's
    own sigmoid_deriv, as run_q2.py passes it; raises with any other."""
    X, _, post = params['cache_' + name]
    if activation_deriv == deriv_of_their_own:
        g = delta * post * (1 - post)
    else:
        raise ValueError('unknown activation derivative')
    params['grad_W' + name], params['grad_b' + name] = X.T @ g, g.sum(axis=0)
    return g @ params['W' + name].T
