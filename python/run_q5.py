"""Q5: train the 1024-32-32-32-1024 autoencoder on NIST36 with momentum and
evaluate its reconstructions.

    python python/run_q5.py [--epochs 100] [--lr 3e-5] [--batch-size 36] [--init centred] [--seed 0]
                            [--nn FOLDER]

The defaults are the handout's (100 epochs, batch 36, lr 3e-5 on the summed
loss, times 0.9 every 20 epochs, momentum 0.9), except the initial biases:
--init centred (see autoencoder.centre_biases) reaches a validation PSNR of
18.7-19.2 dB (seeds 0-2) where --init xavier, the plain zero biases, stops
at 16.9-17.3 dB. --nn FOLDER runs it on the handout functions of a
student's own nn.py.
Writes to results/q5/:
  loss.png             Q5.2 training loss per epoch
  reconstructions.png  Q5.3.1 two validation images of 5 classes and their reconstructions
  weights.pickle       the trained parameters (read by run_q6.py)
  metrics.json         valid_psnr (Q5.3.2), final loss, settings, gradient check, timing
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import numpy as np

import autoencoder as ae
from data import load_nist36
from network import (count_params, load_nn, momentum_update, network_backward, network_forward, random_batches,
                     squared_error)
from questions import NIST36_NOTE
from util import (Timer, add_nn_arg, check_loss, fit_batch_size, make_parser, plot_curves, prepare_output_dir,
                  run_main, save_json, save_params)


def train_epoch(nn, x, params, layers, lr, batch_size, rng):
    """One epoch of the handout's loop (Q5.2): random batches, x as both
    input and target; for each, forward, loss, backwards, a momentum step.
    Returns the summed loss."""
    total = 0.0
    for xb, _ in random_batches(nn, x, x, batch_size, rng):
        recon = network_forward(nn, xb, params, layers)
        loss, delta = squared_error(xb, recon)
        network_backward(nn, delta, params, layers)
        momentum_update(params, lr, momentum=0.9)
        total += loss
    return total


def train(nn, x, params, lr, epochs, batch_size, rng):
    """Momentum SGD on the total squared error. Returns the loss per epoch,
    averaged over the images (summed over pixels)."""
    layers = ae.autoencoder_layers(nn)
    losses = []
    for epoch in range(epochs):
        step = ae.step_decay(epoch, lr)
        total = train_epoch(nn, x, params, layers, step, batch_size, rng)
        losses.append(total / len(x))
        check_loss(losses[-1], epoch + 1, step)
        print(f'  epoch {epoch + 1:3d}/{epochs}  lr {step:.3g}  loss per image {losses[-1]:.2f}', flush=True)
    return losses


def main():
    parser = make_parser(__doc__, 'q5', epochs=100, lr=3e-5, batch_size=36, quick_epochs=2)
    parser.add_argument('--init', choices=('centred', 'xavier'), default='centred',
                        help='initial biases: data-centred, or zero as in the handout')
    add_nn_arg(parser)
    args = parser.parse_args()
    nn = load_nn(args.nn)

    with Timer() as total:
        # Training in float32 halves the cost of every matmul; PSNRs are
        # measured against the float64 originals, as run_q6.py does.
        x, _ = load_nist36('train', args.data_dir, dtype=np.float32)
        xv, yv = load_nist36('valid', args.data_dir)
        xt, _ = load_nist36('test', args.data_dir)
        shown = ae.shown_indices(yv)  # before any work: the figure needs two images of each class
        args.batch_size = fit_batch_size(args.batch_size, len(x), 'batch_size' in args.given)
        out = prepare_output_dir(args.out, args.force)
        print(f'data: {NIST36_NOTE}\n  train {len(x)}, valid {len(xv)}, test {len(xt)}')

        print('Q5 gradient check on a 64-8-8-8-64 autoencoder (same layers, float64)')
        errors = ae.gradient_check(nn, args.seed)
        worst = max(errors.values())
        print(f'  worst max relative error {worst:.2e} '
              f'({"PASS" if worst < 1e-6 else "FAIL"}: threshold 1e-6)')

        rng = np.random.default_rng(args.seed)
        params = ae.init_autoencoder(nn, rng, x=x if args.init == 'centred' else None)
        print(f'Q5.2 training {"-".join(map(str, ae.SIZES))} ({count_params(params)} parameters), '
              f'{args.init} init, {args.epochs} epochs, lr {args.lr:g} x 0.9 every 20, '
              f'batch {args.batch_size}, momentum 0.9')
        with Timer() as t:
            losses = train(nn, x, params, args.lr, args.epochs, args.batch_size, rng)

        recon_v = ae.reconstruct(nn, xv, params)
        valid_psnr = ae.mean_psnr(xv, recon_v)
        test_psnr = ae.mean_psnr(xt, ae.reconstruct(nn, xt, params))
        dead = ae.dead_units(x, params)
        print(f'Q5.3.2 average PSNR: valid {valid_psnr:.2f} dB, test {test_psnr:.2f} dB '
              f'(training took {t.seconds:.1f} s; ReLU units never active on train: {dead})')

        plot_curves({'train': losses}, out / 'loss.png',
                    'Q5.2 autoencoder training loss (NIST36 stand-in)',
                    'squared error per image (sum over 1024 pixels)')
        ae.reconstruction_figure(xv[shown], {'autoencoder': recon_v[shown]}, out / 'reconstructions.png',
                                 f'Q5.3.1 validation images and autoencoder reconstructions '
                                 f'(average PSNR {valid_psnr:.2f} dB)')
        save_params(out / 'weights.pickle', params)

    save_json(out / 'metrics.json', {
        'valid_psnr': valid_psnr, 'test_psnr': test_psnr,
        'final_train_loss': losses[-1], 'initial_train_loss': losses[0],
        'train_loss_unit': 'squared error summed over 1024 pixels, averaged over the epoch\'s images',
        'params': count_params(params), 'architecture': list(ae.SIZES),
        'seed': args.seed, 'epochs': args.epochs, 'lr': args.lr, 'batch_size': args.batch_size,
        'lr_schedule': 'lr * 0.9 ** (epoch // 20)', 'momentum': 0.9, 'init': args.init,
        'dead_relu_units_on_train': dead,
        'shown_classes': list(ae.SHOWN_CLASSES), 'shown_valid_indices': shown,
        'gradcheck_max_rel_error': errors, 'gradcheck_worst': worst, 'gradcheck_pass': worst < 1e-6,
        'train_seconds': t.seconds, 'seconds': total.seconds,
        'dataset': NIST36_NOTE,
    })


if __name__ == '__main__':
    run_main(main)
