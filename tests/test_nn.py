"""The numpy network: the handout's functions in nn.py (activations, init,
softmax, loss, backprop, batches) and network.py's machinery built on them
(whole networks, the gradient checker, updates)."""
import numpy as np
import pytest

import network
import nn
from network import check_gradients, classifier_layers, momentum_update
from run_q3 import train_epoch
from util import linear, linear_deriv, relu, relu_deriv


def small_net(rng, sizes=(6, 5, 4)):
    params = {}
    nn.initialize_weights(sizes[0], sizes[1], params, 'layer1', rng=rng)
    nn.initialize_weights(sizes[1], sizes[2], params, 'output', rng=rng)
    # Non-zero biases, so their gradients are tested on a general point.
    params['blayer1'] += rng.normal(0, 0.1, sizes[1])
    params['boutput'] += rng.normal(0, 0.1, sizes[2])
    return params


def classifier_loss(x, y, layers):
    return network.batch_loss_and_grads(nn, x, y, layers, network.softmax_cross_entropy(nn))


def test_gradient_check_passes_on_two_layer_network():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 6))
    y = np.eye(4)[rng.integers(0, 4, 8)]
    params = small_net(rng)
    errors = check_gradients(classifier_loss(x, y, classifier_layers(nn)), params)
    assert set(errors) == {'Wlayer1', 'blayer1', 'Woutput', 'boutput'}
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_catches_a_wrong_gradient():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 6))
    y = np.eye(4)[rng.integers(0, 4, 8)]
    params = small_net(rng)
    # Backprop that forgets the hidden layer's sigmoid derivative.
    wrong = classifier_loss(x, y, [('layer1', nn.sigmoid, linear_deriv),
                                   ('output', nn.softmax, linear_deriv)])
    errors = check_gradients(wrong, params)
    assert errors['Wlayer1'] > 1e-2 and errors['blayer1'] > 1e-2
    assert errors['Woutput'] < 1e-6  # the output layer is still right


@pytest.mark.parametrize('activation, deriv', [(nn.sigmoid, nn.sigmoid_deriv),
                                               (relu, relu_deriv),
                                               (linear, linear_deriv)])
def test_activation_derivatives_match_finite_differences(activation, deriv):
    x = np.array([-2.0, -0.3, 0.4, 1.7])  # away from relu's kink at 0
    eps = 1e-6
    numeric = (activation(x + eps) - activation(x - eps)) / (2 * eps)
    np.testing.assert_allclose(deriv(activation(x)), numeric, rtol=1e-6, atol=1e-9)


def test_sigmoid_saturates_without_overflow():
    with np.errstate(over='raise', invalid='raise', divide='raise'):
        out = nn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


def test_softmax_is_translation_invariant_and_stable():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 7))
    np.testing.assert_allclose(nn.softmax(x), nn.softmax(x + 123.4), rtol=1e-12)
    with np.errstate(over='raise', invalid='raise', divide='raise'):
        p = nn.softmax(np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]]))
    np.testing.assert_allclose(p, [[1, 0, 0], [0.5, 0.5, 0]])
    np.testing.assert_allclose(nn.softmax(x).sum(axis=1), 1.0)


def test_xavier_bound_and_variance():
    rng = np.random.default_rng(3)
    params = {}
    nn.initialize_weights(400, 600, params, 'a', rng=rng)
    W = params['Wa']
    bound = np.sqrt(6 / 1000)
    assert W.shape == (400, 600) and params['ba'].shape == (600,)
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
    assert abs(W.var() - 2 / 1000) < 0.02 * (2 / 1000)
    assert not params['ba'].any()


def test_random_batches_cover_every_example_once():
    x = np.arange(23)[:, None].astype(float)
    y = np.eye(23)
    batches = nn.get_random_batches(x, y, 5, rng=np.random.default_rng(4))
    assert [len(bx) for bx, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([bx[:, 0] for bx, _ in batches])
    assert sorted(seen) == list(range(23))
    for bx, by in batches:  # x and y stay paired
        np.testing.assert_array_equal(np.argmax(by, axis=1), bx[:, 0])
    assert not np.array_equal(seen, np.arange(23))  # and the order is shuffled


def test_column_major_data_gives_the_same_batches():
    """The handout's loadmat arrays are column-major; batches drawn from them
    are the ones drawn from a C-ordered copy (same seed), each C-ordered, and
    an autoencoder's batch is still its own target."""
    x = np.random.default_rng(0).random((23, 6))
    xf, y = np.asfortranarray(x), np.asfortranarray(np.eye(23))
    for lazily in (False, True):
        def make(x, y, batch_size, rng):
            return nn.get_random_batches(x, y, batch_size, rng=rng, lazily=lazily)
        ours = list(make(xf, y, 5, rng=np.random.default_rng(4)))
        ref = list(make(x, np.eye(23), 5, rng=np.random.default_rng(4)))
        for (bx, by), (rx, ry) in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(bx, rx)
            np.testing.assert_array_equal(by, ry)
            assert bx.flags['C_CONTIGUOUS'] and by.flags['C_CONTIGUOUS']
        assert all(bx is by for bx, by in make(xf, xf, 5, rng=np.random.default_rng(4)))


def test_loss_and_accuracy_by_hand():
    y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8]])
    loss, acc = nn.compute_loss_and_acc(y, probs)
    assert loss == pytest.approx(-(np.log(0.7) + np.log(0.4) + np.log(0.8)))
    assert acc == pytest.approx(2 / 3)


def test_loss_stays_finite_when_a_probability_underflows():
    loss, _ = nn.compute_loss_and_acc(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    assert np.isfinite(loss) and loss > 700


def test_forward_and_backward_shapes():
    rng = np.random.default_rng(5)
    params = small_net(rng, (10, 7, 3))
    x = rng.normal(size=(4, 10))
    h = nn.forward(x, params, 'layer1')
    assert h.shape == (4, 7)
    dx = nn.backwards(np.ones((4, 7)), params, 'layer1')
    assert dx.shape == x.shape
    assert params['grad_Wlayer1'].shape == (10, 7) and params['grad_blayer1'].shape == (7,)


def test_forward_rejects_wrong_input_width():
    params = small_net(np.random.default_rng(6))
    with pytest.raises(ValueError, match=r'expects input of shape \(N, 6\)'):
        nn.forward(np.zeros((2, 5)), params, 'layer1')


def test_momentum_step_matches_the_formula():
    params = {'Wa': np.array([1.0, 2.0]), 'grad_Wa': np.array([0.5, -1.0])}
    momentum_update(params, lr=0.1)
    np.testing.assert_allclose(params['m_Wa'], [-0.05, 0.1])
    np.testing.assert_allclose(params['Wa'], [0.95, 2.1])
    params['grad_Wa'] = np.array([1.0, 1.0])
    momentum_update(params, lr=0.1)
    # M = 0.9 M - lr g;  W = W + M
    np.testing.assert_allclose(params['m_Wa'], [0.9 * -0.05 - 0.1, 0.9 * 0.1 - 0.1])
    np.testing.assert_allclose(params['Wa'], [0.95 - 0.145, 2.1 - 0.01])


def test_momentum_never_leaves_a_subnormal_velocity():
    """A weight that stops getting gradient (a dead ReLU's) has its velocity
    decay by 0.9 per step; it must reach exactly 0 without ever sitting in
    the slow subnormal range below float32's tiny."""
    tiny = np.finfo(np.float32).tiny
    params = {'Wa': np.ones(3, np.float32), 'grad_Wa': np.array([1.0, -1e-3, 1e-20], np.float32)}
    momentum_update(params, lr=0.1)
    params['grad_Wa'][:] = 0
    for _ in range(1000):
        momentum_update(params, lr=0.1)
        m = np.abs(params['m_Wa'])
        assert not np.any((m > 0) & (m < tiny)), m
    np.testing.assert_array_equal(params['m_Wa'], 0)
    assert params['Wa'].dtype == np.float32


def test_training_reduces_the_loss():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 6))
    labels = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0)
    y = np.eye(4)[labels]
    params = small_net(rng)
    layers = classifier_layers(nn)
    before, _ = nn.compute_loss_and_acc(y, network.network_forward(nn, x, params, layers))
    for _ in range(50):
        train_epoch(nn, x, y, params, layers, 0.05, 10, rng)  # run_q3.py's loop
    after, acc = nn.compute_loss_and_acc(y, network.network_forward(nn, x, params, layers))
    assert after < 0.5 * before and acc > 0.9
