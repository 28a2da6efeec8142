"""Q2: build the fully connected network piece by piece on toy data, train it,
and check backprop against numerical gradients.

    python python/run_q2.py [--epochs 500] [--lr 1e-3] [--seed 0]

Writes results/q2/metrics.json and results/q2/toy_training.png.
"""
import nn  # noqa: I001  (first: it sets the BLAS threads before numpy loads)

import numpy as np

from util import (Timer, check_loss, fit_batch_size, make_parser, plot_curves, prepare_output_dir, run_main,
                  save_json)


def toy_data(rng, per_class=10):
    """Four 2-D Gaussian blobs, one per class: x (40, 2), y (40, 4) one-hot.
    The two features have very different scales, as raw measurements often do."""
    means = [(3.6, 40), (3.9, 10), (3.4, 30), (2.0, 10)]
    stds = [(0.2, 3.0), (0.1, 2.0), (0.5, 2.0), (0.7, 3.0)]
    x = np.vstack([rng.normal(m, s, size=(per_class, 2)) for m, s in zip(means, stds)])
    labels = np.repeat(np.arange(4), per_class)
    return x, np.eye(4)[labels]


def gradient_check_report(x, y, params, layers):
    """Q2.5.1: central differences on every scalar, on the same batch and
    parameters as backprop (otherwise the two compare different things)."""
    errors = nn.check_gradients(nn.batch_loss_and_grads(x, y, layers, nn.softmax_cross_entropy), params)
    for key, err in errors.items():
        print(f'  {key:10s} shape {str(params[key].shape):10s} max relative error {err:.2e}')
    return errors


def main():
    parser = make_parser(__doc__, 'q2', epochs=500, lr=1e-3, batch_size=5, quick_epochs=20)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    x, y = toy_data(rng)
    args.batch_size = fit_batch_size(args.batch_size, len(x), 'batch_size' in args.given)
    out = prepare_output_dir(args.out, args.force)
    layers = nn.classifier_layers()

    print('Q2.1.2 Xavier initialisation of a 2-25-4 network')
    params = {}
    nn.initialize_weights(2, 25, params, 'layer1', rng=rng)
    nn.initialize_weights(25, 4, params, 'output', rng=rng)
    for name, n_in, n_out in (('layer1', 2, 25), ('output', 25, 4)):
        W = params['W' + name]
        print(f'  W{name} {W.shape}: variance {W.var():.3f} (target 2/(in+out) = '
              f'{2 / (n_in + n_out):.3f}), bias sum {params["b" + name].sum()}')

    print('Q2.2.1 sigmoid(-1000), sigmoid(1000) should be 0 and 1:', nn.sigmoid(np.array([-1000.0, 1000.0])))
    probs = nn.network_forward(x, params, layers)
    print(f'Q2.2.2 softmax output {probs.shape}: min {probs.min():.3f}, '
          f'row sums in [{probs.sum(1).min():.6f}, {probs.sum(1).max():.6f}]')
    loss0, acc0 = nn.compute_loss_and_acc(y, probs)
    print(f'Q2.2.3 untrained loss {loss0:.1f} (chance: 40 ln 4 = {40 * np.log(4):.1f}), accuracy {acc0:.2f}')

    _, delta = nn.softmax_cross_entropy(y, probs)
    nn.network_backward(delta, params, layers)
    print('Q2.3.1 gradient shapes match their parameters:',
          all(params['grad_' + k].shape == params[k].shape for k in nn.param_names(params)))

    print(f'Q2.4.1 batch sizes: {[len(bx) for bx, _ in nn.get_random_batches(x, y, args.batch_size, rng)]}')
    print(f'Q2.4 training for {args.epochs} epochs, lr {args.lr}, batch {args.batch_size}')
    losses, accs = [], []
    with Timer() as t:
        for epoch in range(args.epochs):
            nn.train_epoch(x, y, params, layers, nn.softmax_cross_entropy,
                           lambda p: nn.sgd_update(p, args.lr), args.batch_size, rng)
            loss, acc = nn.compute_loss_and_acc(y, nn.network_forward(x, params, layers))
            check_loss(loss, epoch + 1, args.lr)
            losses.append(loss)
            accs.append(acc)
            if epoch % 100 == 0 or epoch == args.epochs - 1:
                print(f'  epoch {epoch + 1:4d}  loss {loss:7.2f}  accuracy {acc:.2f}')

    print('Q2.5.1 numerical gradient check (central differences, eps 1e-6, float64)')
    errors = gradient_check_report(x, y, params, layers)
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
