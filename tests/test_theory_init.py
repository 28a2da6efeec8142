"""Checks the Q2.1.1 answer in docs/theory.md: a zero-initialised network stays
symmetric (sigmoid hidden layer) or learns only the class prior (tanh)."""
import numpy as np

import nn
from network import classifier_layers, predict
from run_q3 import train_epoch


def train_from_zeros(hidden_activation, hidden_deriv, epochs=200):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], [30, 20, 10])           # unbalanced: prior 1/2, 1/3, 1/6
    x = rng.normal(size=(len(labels), 8)) + labels[:, None]
    y = np.eye(3)[labels]
    params = {}
    nn.initialize_weights(8, 5, params, 'layer1')
    nn.initialize_weights(5, 3, params, 'output')
    for key in list(params):
        params[key][...] = 0.0
    layers = classifier_layers(nn, hidden_activation=hidden_activation, hidden_deriv=hidden_deriv)
    for _ in range(epochs):
        train_epoch(nn, x, y, params, layers, 0.01, batch_size=len(x), rng=rng)
    return params, predict(nn, x, params, layers), y


def test_sigmoid_hidden_units_stay_identical():
    params, _, _ = train_from_zeros(nn.sigmoid, nn.sigmoid_deriv)
    W1, b1, W2 = params['Wlayer1'], params['blayer1'], params['Woutput']
    assert np.abs(W1).max() > 1e-3                        # the first layer did learn...
    np.testing.assert_allclose(W1, W1[:, :1].repeat(5, axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(b1, b1[0], rtol=0, atol=1e-12)   # ...but as one unit
    np.testing.assert_allclose(W2, W2[:1].repeat(5, axis=0), rtol=0, atol=1e-12)


def test_tanh_network_outputs_the_class_prior():
    params, probs, y = train_from_zeros(np.tanh, lambda t: 1 - t * t, epochs=500)
    assert not params['Wlayer1'].any() and not params['Woutput'].any()
    np.testing.assert_allclose(probs, np.broadcast_to(y.mean(axis=0), probs.shape), atol=1e-3)
