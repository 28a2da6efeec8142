"""Checks the convolution-layer gradients derived in docs/theory.md (Q1.7)
against central differences, in both the scalar and the operator form."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def xcorr(inp, ker):
    """Valid cross-correlation: inp (C, M, N), ker (D, C, K, L) -> (D, M-K+1, N-L+1),
    out[d, i, j] = sum_{c,u,v} ker[d, c, u, v] inp[c, i+u, j+v]."""
    windows = sliding_window_view(inp, ker.shape[2:], axis=(1, 2))  # (C, Mo, No, K, L)
    return np.einsum('cijuv,dcuv->dij', windows, ker)


def conv_forward(x, W, b):
    return xcorr(x, W) + b[:, None, None]


def grads_operator(x, W, delta):
    """dJ/dW: x cross-correlated with delta; dJ/db: sums of delta;
    dJ/dx: zero-padded delta cross-correlated with the 180-degree-rotated filters."""
    K = W.shape[2]
    windows = sliding_window_view(x, delta.shape[1:], axis=(1, 2))  # (C, K, K, Mo, No)
    dW = np.einsum('cuvij,dij->dcuv', windows, delta)          # each x[c] xcorr delta[d]
    db = delta.sum(axis=(1, 2))
    padded = np.pad(delta, ((0, 0), (K - 1, K - 1), (K - 1, K - 1)))
    rotated = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)        # (C, D, K, K)
    dx = xcorr(padded, rotated)                                # (C, M, N)
    return dW, db, dx


def grad_x_scalar(W, delta, shape):
    """dJ/dx[c,p,q] = sum_{d,u,v} W[d,c,u,v] delta[d,p-u,q-v], out-of-range terms 0."""
    D, C, K, _ = W.shape
    _, Mo, No = delta.shape
    dx = np.zeros(shape)
    for c, p, q, d, u, v in np.ndindex(C, shape[1], shape[2], D, K, K):
        if 0 <= p - u < Mo and 0 <= q - v < No:
            dx[c, p, q] += W[d, c, u, v] * delta[d, p - u, q - v]
    return dx


def central_difference(f, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for i in np.ndindex(theta.shape):
        old = theta[i]
        theta[i] = old + eps
        plus = f()
        theta[i] = old - eps
        minus = f()
        theta[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def test_conv_gradients_match_central_differences():
    rng = np.random.default_rng(0)
    C, M, N, D, K = 2, 5, 6, 3, 3                       # non-square on purpose
    x, W, b = rng.normal(size=(C, M, N)), rng.normal(size=(D, C, K, K)), rng.normal(size=D)
    delta = rng.normal(size=(D, M - K + 1, N - K + 1))
    loss = lambda: float(np.sum(delta * conv_forward(x, W, b)))  # so dJ/dy = delta

    dW, db, dx = grads_operator(x, W, delta)
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(dW, central_difference(loss, W), atol=1e-7)
    np.testing.assert_allclose(db, central_difference(loss, b), atol=1e-7)
    np.testing.assert_allclose(dx, central_difference(loss, x), atol=1e-7)
    np.testing.assert_allclose(grad_x_scalar(W, delta, x.shape), dx, atol=1e-12)


def test_forward_is_cross_correlation():
    x = np.arange(16.0).reshape(1, 4, 4)
    W = np.zeros((1, 1, 2, 2))
    W[0, 0, 1, 1] = 1.0                                    # picks x[i+1, j+1]
    np.testing.assert_array_equal(conv_forward(x, W, np.zeros(1))[0], x[0, 1:, 1:])
