"""Q3: train the 1024-64-36 network on NIST36 and produce every analysis figure.

    python python/run_q3.py [--epochs 50] [--lr 1e-2] [--batch-size 32] [--hidden 64] [--seed 0]

Trains three networks from the same initial weights, with learning rates
lr, 10 lr and lr / 10 (Q3.1.2; lr is the start of a cosine schedule), keeps
the one with the best validation accuracy, and writes to results/q3/:
  accuracy_lr*.png, loss_lr*.png   per-epoch curves for each learning rate
  accuracy_all.png, loss_all.png   the three runs overlaid
  weights_layer1.png               first-layer weights at init and trained (Q3.1.3)
  weights_layer2.png               W1 W2 e_i for 3 classes, next to the validation
                                   image that excites output i most (older edition)
  confusion_test.png               confusion matrix on the test set (Q3.1.4)
  weights.pickle, metrics.json
--nn FOLDER runs it on the handout functions of a student's own nn.py.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import copy

import matplotlib.pyplot as plt
import numpy as np

from data import CLASS_NAMES, load_all, labels_of, to_image
from network import (classifier_layers, init_layer, load_nn, network_backward, network_forward, predict,
                     random_batches, sgd_update)
from questions import NIST36_NOTE
from util import (Timer, add_nn_arg, at_least, check_loss, fit_batch_size, image_grid, image_grids, make_parser,
                  plot_history, prepare_output_dir, run_main, save_figure, save_json, save_params)

# Three classes for the second-layer figure: two that look alike and a digit.
LAYER2_CLASSES = ('O', '0', 'A')


def evaluate(nn, x, y, params, layers):
    """(mean cross-entropy, accuracy) on a whole split."""
    loss, acc = nn.compute_loss_and_acc(y, predict(nn, x, params, layers))
    return loss / len(x), acc


def lr_at(epoch, lr, epochs, schedule):
    """Learning rate for epoch 0..epochs-1. The cosine schedule starts at lr
    and glides to 0: big steps make progress early, and small steps at the
    end stop the minibatch noise (which scales with lr) from bouncing the
    weights around the minimum. On NIST36 it adds about 1 point of validation
    accuracy over a constant lr."""
    if schedule == 'constant':
        return lr
    return lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))


def train_epoch(nn, x, y, params, layers, lr, batch_size, rng):
    """One epoch of the handout's loop (Q2.4, Q3.1): random batches; for
    each, forward, loss, backwards, an SGD step. Returns the summed loss."""
    total = 0.0
    for xb, yb in random_batches(nn, x, y, batch_size, rng):
        probs = network_forward(nn, xb, params, layers)
        loss, _ = nn.compute_loss_and_acc(yb, probs)
        network_backward(nn, probs - yb, params, layers)  # probs - y: the gradient w.r.t. the logits
        sgd_update(params, lr)
        total += loss
    return total


def train(nn, splits, params, layers, lr, epochs, batch_size, rng, schedule='cosine'):
    """SGD on the summed cross-entropy. Returns the per-epoch history of
    train and valid loss (averaged over the examples) and accuracy."""
    (x, y), (xv, yv) = splits['train'], splits['valid']
    history = {'train_loss': [], 'train_acc': [], 'valid_loss': [], 'valid_acc': []}
    for epoch in range(1, epochs + 1):
        train_epoch(nn, x, y, params, layers, lr_at(epoch - 1, lr, epochs, schedule), batch_size, rng)
        for split, (xs, ys) in (('train', (x, y)), ('valid', (xv, yv))):
            loss, acc = evaluate(nn, xs, ys, params, layers)
            history[f'{split}_loss'].append(loss)
            history[f'{split}_acc'].append(acc)
        check_loss(history['train_loss'][-1], epoch, lr)
        print(f'  lr {lr:g} epoch {epoch:3d}/{epochs}  train loss {history["train_loss"][-1]:.3f} '
              f'acc {history["train_acc"][-1]:.3f}  valid loss {history["valid_loss"][-1]:.3f} '
              f'acc {history["valid_acc"][-1]:.3f}', flush=True)
    return history


def confusion_matrix(true, pred, num_classes):
    """C[i, j] = number of examples of class i predicted as class j."""
    C = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(C, (true, pred), 1)
    return C


def most_confused_pairs(C, k=5):
    """The k unordered class pairs {a, b} with the most mistakes a->b plus b->a."""
    errors = C + C.T
    a, b = np.triu_indices(len(C), 1)
    order = np.argsort(-errors[a, b], kind='stable')[:k]
    return [{'pair': f'{CLASS_NAMES[a[i]]}/{CLASS_NAMES[b[i]]}', 'count': int(errors[a[i], b[i]]),
             f'{CLASS_NAMES[a[i]]}->{CLASS_NAMES[b[i]]}': int(C[a[i], b[i]]),
             f'{CLASS_NAMES[b[i]]}->{CLASS_NAMES[a[i]]}': int(C[b[i], a[i]])} for i in order]


def plot_confusion(C, path, title):
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(C, cmap='Blues')
    ticks = np.arange(len(CLASS_NAMES))
    ax.set_xticks(ticks, CLASS_NAMES, fontsize=7)
    ax.set_yticks(ticks, CLASS_NAMES, fontsize=7)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label='test images')
    save_figure(fig, path)


def layer2_visualisation(nn, params, xv, class_indices):
    """For each class i: W1 W2 e_i (the handout's e_i W2^T W1^T, written for
    our row convention) as a 32x32 image, and the validation image whose
    output probability y2(i) is the largest."""
    probs = predict(nn, xv, params, classifier_layers(nn))
    templates = [to_image(params['Wlayer1'] @ params['Woutput'][:, i]) for i in class_indices]
    best = [to_image(xv[np.argmax(probs[:, i])]) for i in class_indices]
    return templates, best


def main():
    parser = make_parser(__doc__, 'q3', epochs=50, lr=1e-2, batch_size=32, quick_epochs=2)
    parser.add_argument('--hidden', type=at_least(1), default=64, help='hidden units')
    parser.add_argument('--schedule', choices=('cosine', 'constant'), default='cosine',
                        help='learning-rate schedule over the epochs (lr is the starting value)')
    add_nn_arg(parser)
    args = parser.parse_args()
    nn = load_nn(args.nn)

    # float32 halves the matmul cost; the network is too small to need float64.
    splits = load_all(args.data_dir, dtype=np.float32)
    args.batch_size = fit_batch_size(args.batch_size, len(splits['train'][0]), 'batch_size' in args.given)
    out = prepare_output_dir(args.out, args.force)
    print(f'data: {NIST36_NOTE}\n  ' + ', '.join(f'{k} {len(v[0])}' for k, v in splits.items()))

    rng = np.random.default_rng(args.seed)
    layers = classifier_layers(nn)
    init = {}
    init_layer(nn, 1024, args.hidden, init, 'layer1', rng, dtype=np.float32)
    init_layer(nn, args.hidden, 36, init, 'output', rng, dtype=np.float32)

    # Q3.1.2: the same initial weights and batch order for each learning rate,
    # so the runs differ only in lr.
    runs = {}
    with Timer() as total:
        for lr in (args.lr, 10 * args.lr, args.lr / 10):
            params = copy.deepcopy(init)
            with Timer() as t:
                history = train(nn, splits, params, layers, lr, args.epochs, args.batch_size,
                                np.random.default_rng(args.seed + 1), args.schedule)
            results = {split: evaluate(nn, *splits[split], params, layers) for split in splits}
            runs[lr] = {'params': params, 'history': history, 'seconds': t.seconds,
                        **{f'{s}_{m}': v for s, (loss, acc) in results.items()
                           for m, v in (('loss', loss), ('acc', acc))}}
            print(f'lr {lr:g}: ' + ', '.join(f'{s} acc {acc:.4f}' for s, (_, acc) in results.items()))

    best_lr = max(runs, key=lambda lr: runs[lr]['valid_acc'])
    best = runs[best_lr]
    print(f'best lr {best_lr:g}: valid acc {best["valid_acc"]:.4f}, test acc {best["test_acc"]:.4f}')

    for lr, run in runs.items():
        plot_history({'': run['history']}, out, f'NIST36 (stand-in) MLP, lr {lr:g}', suffix=f'_lr{lr:g}')
    # One colour per learning rate; solid for train, dashed for valid.
    styles = {f'lr {lr:g}: {split}': {'color': f'C{i}', 'linestyle': '-' if split == 'train' else '--'}
              for i, lr in enumerate(sorted(runs)) for split in ('train', 'valid')}
    plot_history({f'lr {lr:g}': run['history'] for lr, run in sorted(runs.items())}, out,
                 'NIST36 (stand-in) MLP, three learning rates', suffix='_all', styles=styles)

    image_grids([('after initialisation', to_image(init['Wlayer1'].T), None),
                 (f'after training (lr {best_lr:g})', to_image(best['params']['Wlayer1'].T), None)],
                out / 'weights_layer1.png', 'First-layer weights W1 as 32x32 images', symmetric=True)

    xv = splits['valid'][0]
    idx = [CLASS_NAMES.index(c) for c in LAYER2_CLASSES]
    templates, best_images = layer2_visualisation(nn, best['params'], xv, idx)
    image_grid(templates + best_images, out / 'weights_layer2.png',
               'Top: W1 W2 e_i.  Bottom: validation image with the largest y2(i)',
               nrows=2, ncols=len(idx),
               labels=[f'template {c}' for c in LAYER2_CLASSES] + [f'most "{c}"' for c in LAYER2_CLASSES])

    xt, yt = splits['test']
    pred = np.argmax(predict(nn, xt, best['params'], layers), axis=1)
    C = confusion_matrix(labels_of(yt), pred, 36)
    plot_confusion(C, out / 'confusion_test.png',
                   f'NIST36 (stand-in) test confusion matrix (accuracy {best["test_acc"]:.3f})')
    pairs = most_confused_pairs(C)
    print('most confused pairs on test: ' + ', '.join(f'{p["pair"]} ({p["count"]})' for p in pairs))

    save_params(out / 'weights.pickle', best['params'])
    save_json(out / 'metrics.json', {
        'best_lr': best_lr, 'valid_acc': best['valid_acc'], 'test_acc': best['test_acc'],
        'train_acc': best['train_acc'], 'seconds': total.seconds,
        'epochs': args.epochs, 'batch_size': args.batch_size, 'hidden': args.hidden, 'seed': args.seed,
        'lr_schedule': args.schedule,
        'dataset': NIST36_NOTE,
        'per_lr': {f'{lr:g}': {k: v for k, v in run.items() if k not in ('params', 'history')}
                   for lr, run in runs.items()},
        'top_confused_pairs': pairs,
        'layer2_classes': list(LAYER2_CLASSES),
    })


if __name__ == '__main__':
    run_main(main)
