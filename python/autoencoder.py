"""The Q5 autoencoder, built from nn.py's layers, and the evaluation that Q5
and Q6 share (PSNR, the images shown, the reconstruction figure). Like
network.py, every function that runs layers takes the nn module in use.

The network (Q5.1.1), rows are images:

    h1 = relu(x W1 + b1)          x (N, 1024) -> h1 (N, 32)    layer 'layer1'
    h2 = relu(h1 W2 + b2)                        (N, 32)       layer 'hidden'
    h3 = relu(h2 W3 + b3)                        (N, 32)       layer 'hidden2'
    r  = sigmoid(h3 W4 + b4)                     (N, 1024)     layer 'output'

trained on the total squared error J = sum_n sum_i (r_ni - x_ni)^2
(``network.squared_error``) with momentum (``network.momentum_update``).
"""
import numpy as np

from data import CLASS_NAMES, labels_of, to_image
from network import batch_loss_and_grads, check_gradients, init_layer, predict, squared_error
from util import UsageError, image_grids, relu, relu_deriv

SIZES = (1024, 32, 32, 32, 1024)
LAYER_NAMES = ('layer1', 'hidden', 'hidden2', 'output')

# Q5.3.1 / Q6.2: five classes with different shapes (a straight-stroke letter,
# two round ones, a wide one and a digit), the first two images of each in
# the split's file order. Q5 and Q6 show the same images.
SHOWN_CLASSES = ('A', 'G', 'M', 'Q', '5')
PER_CLASS = 2


def autoencoder_layers(nn):
    """The layer list for network_forward / network_backward: relu (from
    util.py, as the handout provides it), then nn's sigmoid."""
    return ([(name, relu, relu_deriv) for name in LAYER_NAMES[:-1]] +
            [(LAYER_NAMES[-1], nn.sigmoid, nn.sigmoid_deriv)])


def param_shapes(sizes=SIZES):
    """{'W<name>': (in, out), 'b<name>': (out,)} for every layer."""
    shapes = {}
    for name, n_in, n_out in zip(LAYER_NAMES, sizes[:-1], sizes[1:]):
        shapes['W' + name], shapes['b' + name] = (n_in, n_out), (n_out,)
    return shapes


def init_autoencoder(nn, rng, sizes=SIZES, dtype=np.float32, x=None):
    """Xavier-uniform weights (nn.initialize_weights); zero biases, or with
    x (N, sizes[0]) given, the data-dependent biases of ``centre_biases``."""
    params = {}
    for name, n_in, n_out in zip(LAYER_NAMES, sizes[:-1], sizes[1:]):
        init_layer(nn, n_in, n_out, params, name, rng, dtype=dtype)
    if x is not None:
        centre_biases(params, autoencoder_layers(nn), x)
    return params


def centre_biases(params, layers, x, eps=1e-3):
    """Pick each layer's bias from the data, first layer to last, so that over x:

        ReLU layer:      mean_n a_n = 0                 (a = h W + b, the pre-activation)
        sigmoid output:  mean_n a_n = logit(mean_n x_n) (start at the average image)

    that is b = target - mean(h) W, with h the layer's input under the biases
    already chosen. Why: a NIST image is mostly white (mean pixel 0.82), so
    x W is dominated by the shared background and has the same sign for nearly
    every image. With b = 0, a unit whose weights sum negatively over the
    background starts dead and gets no gradient to revive it: at seed 0, 17
    of the 32 first-layer units end training firing for no training image,
    and the validation PSNR stops at 17.2 dB (16.9-17.3 over seeds 0-2).
    Centring each pre-activation makes every unit fire for about half the
    images, and starting the output at the average image avoids the huge
    first gradients that knock units out: 7 dead units and 18.7 dB (18.7-19.2
    over seeds 0-2), with everything else at the handout's defaults. It is a
    data-dependent initialisation (Kraehenbuehl et al., ICLR 2016): the
    biases are still learned, and the architecture and loss are unchanged.
    """
    mean_image = np.clip(x.mean(axis=0), eps, 1 - eps)
    h = x
    for i, (name, activation, _) in enumerate(layers):
        W = params['W' + name]
        last = i == len(layers) - 1
        target = np.log(mean_image / (1 - mean_image)) if last else 0.0
        params['b' + name] = (target - h.mean(axis=0) @ W).astype(W.dtype)
        if not last:  # the output itself is never needed (it is N x 1024)
            h = activation(h @ W + params['b' + name])


def step_decay(epoch, lr, factor=0.9, every=20):
    """The handout's schedule: lr * 0.9 after every 20 epochs (epoch from 0)."""
    return lr * factor ** (epoch // every)


def reconstruct(nn, x, params):
    """Autoencoder output (N, 1024) for x (N, 1024), in the weights' dtype."""
    return predict(nn, np.asarray(x, dtype=params['Wlayer1'].dtype), params, autoencoder_layers(nn))


def dead_units(x, params):
    """Per ReLU layer, how many units output 0 for every row of x."""
    counts, h = {}, np.asarray(x, dtype=params['Wlayer1'].dtype)
    for name in LAYER_NAMES[:-1]:
        h = relu(h @ params['W' + name] + params['b' + name])
        counts[name] = int(np.sum(h.max(axis=0) <= 0))
    return counts


# ----------------------------------------------------------------------------
# Evaluation shared by Q5 and Q6
# ----------------------------------------------------------------------------
def psnr_per_image(x, recon):
    """PSNR = 20 log10(MAX) - 10 log10(MSE) of each row, MAX = 1 (pixels in
    [0, 1]) and MSE over that image's 1024 pixels; (N,) in dB."""
    x, recon = np.asarray(x, np.float64), np.asarray(recon, np.float64)
    if x.shape != recon.shape:
        raise ValueError(f'images {x.shape} and reconstructions {recon.shape} differ in shape')
    # The handout's equation (1), as skimage.metrics.peak_signal_noise_ratio
    # computes it (tests/test_q5_q6.py compares the two), written out to
    # spare each run skimage.metrics' slow import (docs/measurements.md).
    mse = np.mean((x - recon) ** 2, axis=1)
    with np.errstate(divide='ignore'):   # a perfect reconstruction: MSE 0, PSNR inf
        return 20 * np.log10(1.0) - 10 * np.log10(mse)


def mean_psnr(x, recon):
    """Q5.3.2: the average over images of each image's PSNR (not the PSNR of
    the pooled MSE, which is lower: -log is convex)."""
    return float(np.mean(psnr_per_image(x, recon)))


def shown_indices(y, classes=SHOWN_CLASSES, per_class=PER_CLASS):
    """Row indices of the first ``per_class`` examples of each class, by
    class (the figure's rows) in file order. y: (N, 36) one-hot."""
    labels = labels_of(y)
    idx = []
    for name in classes:
        rows = np.flatnonzero(labels == CLASS_NAMES.index(name))[:per_class]
        if len(rows) < per_class:
            raise UsageError(f'the reconstruction figures show {per_class} images of each of the classes '
                             f'{", ".join(classes)}, but the split has {len(rows)} of class {name!r}; '
                             'use NIST36 splits that hold every class')
        idx.extend(rows.tolist())
    return np.array(idx)


def reconstruction_figure(x, recons, path, title, classes=SHOWN_CLASSES, per_class=PER_CLASS):
    """Originals next to each method's reconstructions, upright.

    x: (K, 1024) originals in ``shown_indices`` order, K = classes x per_class.
    recons: {method name: (K, 1024)}. One panel per column group, one row
    per class; each reconstruction is labelled with its own PSNR. Every image
    is drawn on the same 0 (black) to 1 (white) scale, so grey means grey;
    PCA's values outside [0, 1] show as pure black or white.
    """
    names = [c for c in classes for _ in range(per_class)]
    panels = [('original', to_image(x), names)]
    for method, recon in recons.items():
        psnrs = psnr_per_image(x, recon)
        panels.append((method, to_image(recon), [f'{n}  {p:.1f} dB' for n, p in zip(names, psnrs)]))
    image_grids(panels, path, title, nrows=len(classes), ncols=per_class, value_range=(0, 1))


# ----------------------------------------------------------------------------
# Q2.5-style gradient check on a small autoencoder with the same layer list
# ----------------------------------------------------------------------------
def gradient_check(nn, seed=0, sizes=(64, 8, 8, 8, 64), n=5, layers=None):
    """Max relative error per parameter of backprop vs central differences,
    on a small float64 autoencoder (same layers, loss and init as the real
    one, unless ``layers`` replaces the layer list) and n random images.
    Centred biases keep every ReLU alive, so the check covers their
    derivatives; a pre-activation within eps of the kink at 0 is vanishingly
    unlikely with random data."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, sizes[0]))
    params = init_autoencoder(nn, rng, sizes, np.float64, x)
    layers = layers or autoencoder_layers(nn)
    return check_gradients(batch_loss_and_grads(nn, x, x, layers, squared_error), params)
