"""Q2: build the fully connected network piece by piece on toy data, train it,
and check backprop against numerical gradients.

    python python/run_q2.py [--epochs 500] [--lr 1e-3] [--seed 0] [--nn FOLDER]

--nn FOLDER runs it on the handout functions of a student's own nn.py.
Writes results/q2/metrics.json and results/q2/toy_training.png.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import numpy as np

from network import check_gradients, init_layer, load_nn, random_batches, sgd_update
from util import (Timer, add_nn_arg, check_loss, fit_batch_size, linear_deriv, make_parser, param_names,
                  plot_curves, prepare_output_dir, run_main, save_json)


def toy_data(rng, per_class=10):
    """Four 2-D Gaussian blobs, one per class: x (40, 2), y (40, 4) one-hot.
    The two features have very different scales, as raw measurements often do."""
    means = [(3.6, 40), (3.9, 10), (3.4, 30), (2.0, 10)]
    stds = [(0.2, 3.0), (0.1, 2.0), (0.5, 2.0), (0.7, 3.0)]
    x = np.vstack([rng.normal(m, s, size=(per_class, 2)) for m, s in zip(means, stds)])
    labels = np.repeat(np.arange(4), per_class)
    return x, np.eye(4)[labels]


def two_layer_forward(nn, x, params):
    """Q2.2: the 2-25-4 network's output, one nn.forward per layer."""
    h1 = nn.forward(x, params, 'layer1', nn.sigmoid)
    return nn.forward(h1, params, 'output', nn.softmax)


def two_layer_backward(nn, delta, params):
    """Q2.3: backprop delta = dJ/d(logits) through the output layer, then layer1."""
    delta1 = nn.backwards(delta, params, 'output', linear_deriv)
    nn.backwards(delta1, params, 'layer1', nn.sigmoid_deriv)


def train_epoch(nn, x, y, params, lr, batch_size, rng):
    """Q2.4.1: one epoch of the handout's loop: random batches; for each,
    forward, loss, backwards, an SGD step. Returns the summed loss."""
    total = 0.0
    for xb, yb in random_batches(nn, x, y, batch_size, rng):
        probs = two_layer_forward(nn, xb, params)
        loss, _ = nn.compute_loss_and_acc(yb, probs)
        two_layer_backward(nn, probs - yb, params)  # probs - y: the loss's gradient w.r.t. the logits
        sgd_update(params, lr)
        total += loss
    return total


def gradient_check_report(nn, x, y, params):
    """Q2.5.1: central differences on every scalar, on the same batch and
    parameters as backprop (otherwise the two compare different things)."""
    def loss_and_grads(params):
        probs = two_layer_forward(nn, x, params)
        two_layer_backward(nn, probs - y, params)
        return nn.compute_loss_and_acc(y, probs)[0]
    errors = check_gradients(loss_and_grads, params)
    for key, err in errors.items():
        print(f'  {key:10s} shape {str(params[key].shape):10s} max relative error {err:.2e}')
    return errors


def main():
    parser = make_parser(__doc__, 'q2', epochs=500, lr=1e-3, batch_size=5, quick_epochs=20)
    add_nn_arg(parser)
    args = parser.parse_args()
    nn = load_nn(args.nn)
    rng = np.random.default_rng(args.seed)
    x, y = toy_data(rng)
    args.batch_size = fit_batch_size(args.batch_size, len(x), 'batch_size' in args.given)
    out = prepare_output_dir(args.out, args.force)

    print('Q2.1.2 Xavier initialisation of a 2-25-4 network')
    params = {}
    init_layer(nn, 2, 25, params, 'layer1', rng)
    init_layer(nn, 25, 4, params, 'output', rng)
    for name, n_in, n_out in (('layer1', 2, 25), ('output', 25, 4)):
        W = params['W' + name]
        print(f'  W{name} {W.shape}: variance {W.var():.3f} (target 2/(in+out) = '
              f'{2 / (n_in + n_out):.3f}), bias sum {params["b" + name].sum()}')

    print('Q2.2.1 sigmoid(-1000), sigmoid(1000) should be 0 and 1:', nn.sigmoid(np.array([-1000.0, 1000.0])))
    probs = two_layer_forward(nn, x, params)
    print(f'Q2.2.2 softmax output {probs.shape}: min {probs.min():.3f}, '
          f'row sums in [{probs.sum(1).min():.6f}, {probs.sum(1).max():.6f}]')
    loss0, acc0 = nn.compute_loss_and_acc(y, probs)
    print(f'Q2.2.3 untrained loss {loss0:.1f} (chance: 40 ln 4 = {40 * np.log(4):.1f}), accuracy {acc0:.2f}')

    two_layer_backward(nn, probs - y, params)
    print('Q2.3.1 gradient shapes match their parameters:',
          all(np.shape(params['grad_' + k]) == params[k].shape for k in param_names(params)))

    print(f'Q2.4.1 batch sizes: {[len(bx) for bx, _ in random_batches(nn, x, y, args.batch_size, rng)]}')
    print(f'Q2.4 training for {args.epochs} epochs, lr {args.lr}, batch {args.batch_size}')
    losses, accs = [], []
    with Timer() as t:
        for epoch in range(args.epochs):
            train_epoch(nn, x, y, params, args.lr, args.batch_size, rng)
            loss, acc = nn.compute_loss_and_acc(y, two_layer_forward(nn, x, params))
            check_loss(loss, epoch + 1, args.lr)
            losses.append(loss)
            accs.append(acc)
            if epoch % 100 == 0 or epoch == args.epochs - 1:
                print(f'  epoch {epoch + 1:4d}  loss {loss:7.2f}  accuracy {acc:.2f}')

    print('Q2.5.1 numerical gradient check (central differences, eps 1e-6, float64)')
    errors = gradient_check_report(nn, x, y, params)
    worst = max(errors.values())
    print(f'  worst over all parameters: {worst:.2e} ({"PASS" if worst < 1e-6 else "FAIL"}: threshold 1e-6)')

    plot_curves({'loss (summed over 40 examples)': losses}, out / 'toy_training.png',
                'Q2.4 toy data: training loss', 'cross-entropy')
    save_json(out / 'metrics.json', {
        'seed': args.seed, 'epochs': args.epochs, 'lr': args.lr, 'batch_size': args.batch_size,
        'initial_loss': loss0, 'initial_acc': acc0,
        'final_loss': losses[-1], 'final_acc': accs[-1],
        'gradcheck_max_rel_error': errors, 'gradcheck_worst': worst,
        'gradcheck_pass': worst < 1e-6, 'seconds': t.seconds,
    })


if __name__ == '__main__':
    run_main(main)
