"""Q7.1: handwritten characters (and CIFAR-10) with PyTorch.

    python python/run_q7_1.py PART [PART ...] [--epochs N] [--lr LR] [--batch-size B] [--seed S]
                              [--quick] [--download] [--data-dir DIR] [--out DIR]
                              [--precision auto|float32|bfloat16]

PART:
  fc_nist36    Q7.1.1  Q3's 1024-64-36 sigmoid network, rewritten in PyTorch
  cnn_mnist    Q7.1.2  a CNN on MNIST
  cnn_nist36   Q7.1.3  a CNN on NIST36, to compare with fc_nist36
  cnn_emnist   Q7.1.4  a CNN on EMNIST Balanced (47 classes); then read the
                       sample images with `python python/run_q4.py --classifier emnist`
  cnn_cifar10  (later edition) a CNN on CIFAR-10; not in the offline mirror,
               so it needs --download on a machine with internet access
  all          every part in turn; CIFAR-10 is skipped, with a message, when
               its files are not there
Several parts run one after the other, in the order given.

Each part writes results/q7_1/<part>/: accuracy.png and loss.png (per-epoch
train and validation curves), samples.png (test images with predictions),
metrics.json and model.pt; results/q7_1/summary.json collects every part's
headline numbers.

Validation and test: NIST36 has its own validation file. MNIST, EMNIST and
CIFAR-10 ship only train and test, so a fixed, seeded part of their training
set is held out for validation (VALID_FRACTION of each Part, drawn with
VALID_SEED whatever --seed is). Every choice (the recipes in PARTS, the
curves) is made on validation; the test set is scored once, after training,
and never during it.
--epochs, --lr and --batch-size default to each part's own settings (PARTS,
in this file). --precision auto trains the CNNs in bfloat16 on a CPU with
bfloat16 instructions (torch_common.choose_precision), float32 elsewhere.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy and torch load)

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

import q7_data
from q7_models import CNN, FCNet, describe
from questions import EMNIST_NOTE, NIST36_NOTE, Q7_1_TITLES
from torch_common import (adamw_one_cycle, add_precision_arg, autocast, channel_stats, choose_precision,
                          count_trainable, eval_batch_size, evaluate, fit, pick_device, save_model, seed_everything)
from util import (RESULTS_DIR, UsageError, exclusive, fit_batch_size, image_grid, load_json, make_parser,
                  plot_history, prepare_output_dir, run_main, save_json)

AFFINE = 'random affine per image: rotation +-10 deg, zoom +-10%, shear +-0.15, shift +-10%'


@dataclass
class Part:
    """One experiment: the data, the network, and its training recipe
    (its title is questions.Q7_1_TITLES[name])."""
    load: object            # (data_dir, download) -> (splits, classes)
    model: object           # (classes, x_train) -> nn.Module
    epochs: int
    lr: float
    batch_size: int
    optimizer: str = 'adamw'  # 'adamw' + one-cycle schedule, or 'sgd' + cosine (as Q3)
    augment: object = None  # batch -> batch, applied to training batches only
    augment_note: str = 'none'
    label_smoothing: float = 0.0  # of the training loss (torch_common.train_epoch)
    # May --precision auto choose bfloat16? Not for the small FC network,
    # whose matrices are too small to gain (docs/measurements.md).
    bfloat16: bool = True
    # The share of the training set held out for validation, for datasets
    # that ship no validation split (None: the data has its own).
    valid_fraction: float | None = None
    notes: dict = field(default_factory=dict)


def cnn(widths, hidden=0, dropout=0.0, crop=0):
    """A model factory for the CNN family, sized from the data it will see."""
    def make(classes, x):
        mean, std = channel_stats(x)
        return CNN(len(classes), in_channels=x.shape[1], image_size=x.shape[-1], widths=widths,
                   hidden=hidden, dropout=dropout, mean=mean, std=std, crop=crop)
    return make


# The recipes were chosen on the validation splits, for accuracy per CPU
# second; the candidates and their numbers: docs/measurements.md.
PARTS = {
    # Q3 runs 50 epochs of SGD, lr 1e-2, batch 32, on the loss *summed* over
    # the batch. PyTorch's cross_entropy averages over the batch instead, so
    # the same steps need lr 1e-2 x 32 = 0.32.
    'fc_nist36': Part(q7_data.nist36_rows,
                      lambda classes, x: FCNet(x.shape[1], 64, len(classes)),
                      epochs=50, lr=0.32, batch_size=32, optimizer='sgd', bfloat16=False,
                      notes={'dataset': NIST36_NOTE}),
    # 1/12 of MNIST's 60,000 is the usual 55,000 / 5,000 split.
    'cnn_mnist': Part(q7_data.mnist, cnn((16, 32, 64), hidden=256),
                      epochs=3, lr=3e-3, batch_size=128, label_smoothing=0.1, valid_fraction=1 / 12),
    'cnn_nist36': Part(q7_data.nist36_images, cnn((24, 48, 96), crop=2),
                       epochs=8, lr=3e-3, batch_size=128, label_smoothing=0.1,
                       augment=q7_data.random_affine, augment_note=AFFINE,
                       notes={'dataset': NIST36_NOTE}),
    # 1/20 of the 92,551 stand-in images (4,628, about 100 per class): enough
    # to tell recipes apart by a few tenths of a point, while the training
    # set loses only 5%.
    'cnn_emnist': Part(q7_data.emnist, cnn((24, 48, 96), hidden=256, crop=2),
                       epochs=3, lr=3e-3, batch_size=128, label_smoothing=0.1, valid_fraction=1 / 20,
                       notes={'dataset': EMNIST_NOTE,
                              'next': 'python python/run_q4.py --classifier emnist'}),
    # (not run here: CIFAR-10 is not in the offline mirror)
    'cnn_cifar10': Part(q7_data.cifar10, cnn((64, 128, 256), hidden=256, dropout=0.3),
                        epochs=15, lr=3e-3, batch_size=128, augment=q7_data.random_shift_flip,
                        augment_note='shift up to 4 px and horizontal flip', valid_fraction=0.1),
}
QUICK_TRAIN, QUICK_TEST = 1000, 500  # --quick: examples kept per split; 1 epoch unless --epochs
# The final training accuracy is measured on at most this many training
# images (a fixed random sample): enough for a tenth of a point, while
# scoring all 88,000 of EMNIST would cost a tenth of its training time.
FINAL_TRAIN_SAMPLE = 10_000
# The held-out validation images depend on this seed only, not on --seed: runs
# with different training seeds are then compared on the same images.
VALID_SEED = 0


def with_validation(part, splits):
    """The splits with a 'valid' one, and how it was made (for metrics.json).

    A dataset without its own validation split gets one held out of its
    training set (``q7_data.hold_out``); the test split is left untouched."""
    if 'valid' in splits:
        return splits, {'source': 'the dataset\'s own validation split'}
    if part.valid_fraction is None:
        raise ValueError('a part whose data has no validation split needs a valid_fraction')
    n_train = len(splits['train'][0])
    train, valid = q7_data.hold_out(*splits['train'], part.valid_fraction, VALID_SEED)
    how = {'source': 'held out of the training set', 'fraction': part.valid_fraction,
           'size': len(valid[0]), 'of': n_train, 'seed': VALID_SEED}
    return {'train': train, 'valid': valid, 'test': splits['test']}, how


def make_optimizer(part, model, lr, steps):
    """AdamW with a one-cycle schedule (warm up to lr, then anneal) for the
    CNNs: it reaches good accuracy in few epochs. Plain SGD with a cosine
    schedule for the FC network, like the numpy version in Q3."""
    if part.optimizer == 'sgd':
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        return opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    return adamw_one_cycle(model, lr, weight_decay=5e-4, total_steps=steps, pct_start=0.25)


@torch.no_grad()
def plot_samples(model, x, y, classes, device, precision, path, title, n=32):
    """The first n test images with the prediction (and the truth when wrong)."""
    model.eval()
    with autocast(device, precision):  # as the accuracies were scored
        pred = model(x[:n].to(device)).argmax(1).cpu()
    labels = [classes[p] if p == t else f'{classes[p]} (true {classes[t]})' for p, t in zip(pred, y[:n])]
    images = x[:n].permute(0, 2, 3, 1).numpy()
    images = images[..., 0] if images.shape[-1] == 1 else images
    # Grey images are shown ink-dark on white, like writing on paper.
    image_grid(images, path, title, ncols=8, labels=labels, cmap='Greys')


def numpy_q3_result():
    """Q3's numbers from results/q3/metrics.json, when run_q3.py has run:
    the best learning rate's run (Q3 trains three, one per learning rate)."""
    path = RESULTS_DIR / 'q3' / 'metrics.json'
    if not path.exists():
        return None
    try:
        q3 = load_json(path)
    except UsageError as e:  # only a comparison: say why it is left out, and go on
        print(f'note: no comparison with Q3: {e}')
        return None
    if not isinstance(q3, dict) or not isinstance(q3.get('per_lr'), dict):
        return None  # an older or partial file
    best = q3.get('per_lr', {}).get(str(q3.get('best_lr')), {})
    result = {k: best.get(k, q3.get(k)) for k in ('train_acc', 'valid_acc', 'test_acc', 'seconds')}
    if None in result.values():
        return None  # an older or partial file
    return {'lr': q3.get('best_lr'), 'epochs': q3.get('epochs'), 'batch_size': q3.get('batch_size'), **result}


def print_comparison(metrics, q3):
    """Q7.1.1: the PyTorch FC network next to the numpy one of Q3."""
    if q3 is None:
        print('(run python/run_q3.py to compare with the numpy network)')
        return
    print(f'accuracy {"train":>7s} {"valid":>7s} {"test":>7s}   training seconds')
    for label, m, secs in (('numpy', q3, q3['seconds']), ('pytorch', metrics, metrics['train_seconds'])):
        print(f'{label:8s} ' + ' '.join(f'{m[k]:7.4f}' for k in ('train_acc', 'valid_acc', 'test_acc'))
              + f'   {secs:.1f}')


def run_part(name, args, device):
    """Load, train, evaluate, plot and save one part; return its metrics."""
    part, title = PARTS[name], Q7_1_TITLES[name]
    print(f'\n=== {name}: {title} ===')
    start = time.perf_counter()
    seed_everything(args.seed)
    splits, classes = part.load(args.data_dir, args.download)
    splits, valid_split = with_validation(part, splits)
    print(f'validation: {valid_split["source"]}' + (
        f' ({valid_split["size"]:,} of {valid_split["of"]:,} images, seed {VALID_SEED})'
        if 'size' in valid_split else ''))
    # A flag given is used as given; the part's own recipe fills the rest
    # (the parser has already made --epochs 1 under --quick).
    epochs = args.epochs if args.epochs is not None else part.epochs
    lr = args.lr if args.lr is not None else part.lr
    batch_size = args.batch_size if args.batch_size is not None else part.batch_size
    if args.quick:
        splits = {s: q7_data.subsample(x, y, QUICK_TRAIN if s == 'train' else QUICK_TEST, args.seed)
                  for s, (x, y) in splits.items()}
    batch_size = fit_batch_size(batch_size, len(splits['train'][0]), 'batch_size' in args.given)
    precision = choose_precision(args.precision, device, auto_bfloat16=part.bfloat16)
    print(f'computing in {precision}')
    print('data: ' + ', '.join(f'{s} {tuple(x.shape)}' for s, (x, _) in splits.items()))
    out = prepare_output_dir(args.out / name, args.force)

    x_train, y_train = splits['train']
    model = part.model(classes, x_train).to(device)
    params = count_trainable(model)
    print(f'model: {params:,} trainable parameters, augmentation: {part.augment_note}')
    train_loader = q7_data.loader(x_train, y_train, batch_size, shuffle=True)
    if part.augment is not None:
        train_loader = q7_data.Augmented(train_loader, part.augment)
    # The curves follow validation only: the test set is not looked at
    # until training is over.
    eval_batch = eval_batch_size(device)
    eval_loaders = {'valid': q7_data.loader(*splits['valid'], eval_batch)}
    optimizer, scheduler = make_optimizer(part, model, lr, epochs * len(train_loader))
    history = fit(model, train_loader, eval_loaders, optimizer, epochs, device, precision, scheduler,
                  part.label_smoothing)

    # Final numbers on clean data (no augmentation, dropout off), every split;
    # this is the one time the test set is scored. The training split is
    # scored on a fixed sample (see FINAL_TRAIN_SAMPLE). The validation split
    # was scored by this very model after the last epoch, in the same
    # batches: those numbers are the final ones.
    scored = {**splits, 'train': q7_data.subsample(*splits['train'], FINAL_TRAIN_SAMPLE, VALID_SEED)}
    final = {s: ((history['valid_loss'][-1], history['valid_acc'][-1]) if s == 'valid' else
                 evaluate(model, q7_data.loader(*scored[s], eval_batch), device, precision)) for s in scored}
    for s, (loss, acc) in final.items():
        print(f'final {s:5s} loss {loss:.4f} accuracy {acc:.4f}'
              + (f' (on {len(scored[s][0]):,} of its images)' if len(scored[s][0]) < len(splits[s][0]) else ''))
    plot_history({'': history}, out, title)
    if x_train.dim() == 4:  # images (the FC network's rows are not shown)
        plot_samples(model, *splits['test'], classes, device, precision, out / 'samples.png',
                     f'{title}: test images, predicted class')
    save_model(out / 'model.pt', model, config=model.config, classes=classes, part=name)

    metrics = {
        'part': name, 'title': title,
        **{f'{s}_acc': acc for s, (_, acc) in final.items()},
        **{f'{s}_loss': loss for s, (loss, _) in final.items()},
        'epochs': epochs, 'lr': lr, 'batch_size': batch_size, 'seed': args.seed, 'quick': args.quick,
        'optimizer': ('SGD, cosine schedule' if part.optimizer == 'sgd'
                      else 'AdamW (weight decay 5e-4), one-cycle schedule'),
        'augmentation': part.augment_note, 'label_smoothing': part.label_smoothing,
        'valid_split': valid_split, 'split_sizes': {s: len(x) for s, (x, _) in splits.items()},
        'train_acc_images': len(scored['train'][0]),
        'trainable_params': params, 'architecture': describe(model),
        'train_seconds': history['seconds'], 'seconds': time.perf_counter() - start,
        'device': str(device), 'precision': precision, 'torch_threads': torch.get_num_threads(),
        'history': history, 'classes': classes, **part.notes,
    }
    if name == 'fc_nist36':
        metrics['numpy_q3'] = numpy_q3_result()
        print_comparison(metrics, metrics['numpy_q3'])
    save_json(out / 'metrics.json', metrics)
    return metrics


def update_summary(out, name, metrics):
    """results/q7_1/summary.json: one entry per part, the numbers the README quotes."""
    path = out / 'summary.json'
    with exclusive(path):      # another part may be training beside this one (run_all.sh)
        _update_summary(path, name, metrics)


def _update_summary(path, name, metrics):
    summary = {}
    if path.exists():
        try:
            summary = load_json(path)
        except UsageError as e:
            print(f'note: starting {path} afresh: {e}')
        if not isinstance(summary, dict):
            print(f'note: starting {path} afresh: it holds a {type(summary).__name__}, not a dict')
            summary = {}
    keys = ('train_acc', 'valid_acc', 'test_acc', 'trainable_params', 'epochs', 'seconds',
            'train_seconds', 'seed', 'quick', 'skipped')
    summary[name] = {k: metrics[k] for k in keys if k in metrics}
    save_json(path, summary)


def main():
    parser = make_parser(__doc__, 'q7_1', epochs=None, lr=None, batch_size=None, quick_epochs=1)
    parser.add_argument('part', nargs='+', choices=[*PARTS, 'all'], help='which experiments to run')
    parser.add_argument('--download', action='store_true',
                        help='let torchvision download MNIST/EMNIST/CIFAR-10 (needs internet)')
    add_precision_arg(parser)
    args = parser.parse_args()
    args.out = prepare_output_dir(Path(args.out), args.force)
    device = pick_device()

    every = 'all' in args.part
    names = list(PARTS) if every else list(dict.fromkeys(args.part))
    for name in names:
        try:
            metrics = run_part(name, args, device)
        except UsageError as e:
            if not every or name != 'cnn_cifar10':
                raise
            print(f'\nskipping {name}: {e}')
            metrics = {'skipped': str(e)}
        update_summary(args.out, name, metrics)


if __name__ == '__main__':
    run_main(main)
