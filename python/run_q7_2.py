"""Q7.2.1: fine-tune SqueezeNet on Oxford Flowers 17, and compare it with a
small CNN (3 conv + 2 fc layers) trained from scratch on the same split.

    python python/run_q7_2.py [--arch squeezenet1_1] [--weights imagenet|random|PATH]
                              [--epochs 15] [--scratch-epochs 30] [--unfreeze-epochs 0] [--seed 0]
                              [--precision auto|float32|bfloat16]

Fine-tuning, "a single layer classifier": SqueezeNet's final 1x1 conv is
replaced by a 17-way one and only that layer trains. The frozen backbone's
features are computed once (centre crops, plus mirrored copies of the
training images), so each epoch is a cheap pass over cached tensors.
--unfreeze-epochs N adds a second stage that trains every layer on augmented
images at a low learning rate (off by default: about a CPU minute an epoch).

Weights: --weights imagenet (the default) takes torchvision's ImageNet
weights for --arch (downloaded on a connected machine). Where they cannot be
had it falls back to SqueezeNet 1.0 with the offline mirror's ImageNet
weights, data/weights/squeezenet1_0-deepcompression-imagenet.pth, and says
so; metrics.json records which (weights_used). --weights PATH loads a state
dict of torchvision's --arch; --weights random trains on an untrained backbone.

Writes to results/q7_2/: metrics.json, comparison.md, accuracy.png, loss.png,
test_predictions.png, finetuned_squeezenet.pt and scratch_cnn.pt (and
finetuned_squeezenet_all_layers.pt with --unfreeze-epochs).
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy and torch load)

import time

import torch

import q7_flowers as flowers
from q7_data import Augmented, loader
from q7_models import CNN
from torch_common import (adamw_one_cycle, add_precision_arg, channel_stats, choose_precision, count_trainable, fit,
                          pick_device, predict, save_model, scores, seed_everything)
from util import (Timer, at_least, fit_batch_size, make_parser, plot_history, positive, prepare_output_dir,
                  run_main, save_json, save_text)

# Working sizes in pixels: photos are stored at `stored` (shorter side, centre
# square) and SqueezeNet sees the centre `crop`, as in torchvision's ImageNet
# evaluation (256 -> 224). The scratch CNN sees random crops of a
# `scratch_stored` copy, resized to `scratch`: small enough for a 2-core CPU
# at no loss of validation accuracy (docs/measurements.md).
SIZES = dict(stored=256, crop=224, scratch_stored=64, scratch=48)
QUICK_SIZES = dict(stored=72, crop=64, scratch_stored=40, scratch=32)

MODELS = {'finetune': 'fine-tuned SqueezeNet (new final layer only)',
          'unfrozen': 'fine-tuned SqueezeNet, then every layer too',
          'scratch': 'from scratch (3 conv + 2 fc)'}


def parse_args():
    p = make_parser(__doc__, 'q7_2', epochs=15, lr=3e-3, batch_size=64, quick_epochs=2)
    p.add_argument('--arch', choices=flowers.ARCHS, default='squeezenet1_1',
                   help='torchvision SqueezeNet version (the handout asks for 1.1)')
    p.add_argument('--weights', default='imagenet',
                   help="'imagenet' (torchvision's, else the mirror's SqueezeNet 1.0 file), "
                        "'random', or the path of a state dict for --arch")
    p.add_argument('--weight-decay', type=at_least(0.0, float), default=1e-4,
                   help='AdamW weight decay of the new layer')
    p.add_argument('--unfreeze-epochs', type=at_least(0), default=0,
                   help='second stage: epochs training every layer on augmented images')
    p.add_argument('--unfreeze-lr', type=positive, default=1e-4, help='peak learning rate of the second stage')
    p.add_setting('--scratch-epochs', at_least(1), 30, 2, 'epochs of the CNN trained from scratch')
    p.add_argument('--scratch-lr', type=positive, default=3e-3, help='peak learning rate, from scratch')
    p.add_argument('--scratch-weight-decay', type=at_least(0.0, float), default=0.05,
                   help='AdamW weight decay, from scratch')
    add_precision_arg(p)
    return p.parse_args()


def train(model, train_loader, val_loader, test_loader, lr, weight_decay, epochs, device, precision):
    """AdamW with a one-cycle schedule (warm up, then anneal to ~0, stepped
    per batch) on the trainable parameters, through the shared ``fit`` loop.
    Returns the numbers the writeup quotes, and the test predictions."""
    optimizer, scheduler = adamw_one_cycle(model, lr, weight_decay, epochs * len(train_loader))
    history = fit(model, train_loader, {'val': val_loader}, optimizer, epochs, device, precision, scheduler)
    logits, labels = predict(model, test_loader, device, precision)
    test_loss, test_acc = scores(logits, labels)
    print(f'=> val acc {history["val_acc"][-1]:.4f}, test acc {test_acc:.4f}')
    return dict(train_acc=history['train_acc'][-1], val_acc=history['val_acc'][-1], test_acc=test_acc,
                test_loss=test_loss, trainable_params=count_trainable(model), history=history, pred=logits.argmax(1))


def finetune_last_layer(model, splits, crop, args, device, precision):
    """Train only the new final conv, on backbone features computed once."""
    print(f'computing SqueezeNet features once ({crop}x{crop} centre crops; '
          'training images also mirrored) ...', flush=True)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (splits[s] for s in flowers.SPLITS)
    with Timer() as t:
        f_train = torch.cat([flowers.backbone_features(model, x_train, crop, device, precision),
                             flowers.backbone_features(model, x_train, crop, device, precision, flip=True)])
        f_val = flowers.backbone_features(model, x_val, crop, device, precision)
        f_test = flowers.backbone_features(model, x_test, crop, device, precision)
    print(f'  features {tuple(f_train.shape[1:])} per image, {len(f_train) + len(f_val) + len(f_test)} '
          f'images in {t.seconds:.0f}s')
    result = train(flowers.head(model),
                   loader(f_train, torch.cat([y_train, y_train]), args.batch_size, shuffle=True),
                   loader(f_val, y_val, 256), loader(f_test, y_test, 256),
                   args.lr, args.weight_decay, args.epochs, device, precision)
    return dict(result, feature_seconds=t.seconds)


def finetune_every_layer(model, splits, crop, args, device, precision):
    """Optional second stage: unfreeze everything and train on random crops
    and flips of the photos at a low learning rate."""
    for p in model.parameters():
        p.requires_grad_(True)

    def augment(x):
        x = flowers.random_resized_crop(flowers.to_float(x), crop, min_area=0.5)
        return flowers.normalise(x).contiguous(memory_format=torch.channels_last)

    def centre(x, y):
        s = (x.shape[-1] - crop) // 2
        return loader(flowers.normalise(flowers.to_float(x[..., s:s + crop, s:s + crop])), y, 64)

    x_train, y_train = splits['train']
    return train(model, Augmented(loader(x_train, y_train, 32, shuffle=True), augment),
                 centre(*splits['val']), centre(*splits['test']),
                 args.unfreeze_lr, args.weight_decay, args.unfreeze_epochs, device, precision)


def train_from_scratch(splits, num_classes, size, stored, args, device, precision):
    """q7_models.CNN (3 conv blocks, then 2 fully connected layers) on random
    crops, flips and colour changes of small copies of the photos; evaluated
    on the whole photo at the network's input size."""
    x_train, y_train = splits['train']
    x_train = flowers.resize(x_train, stored)
    mean, std = channel_stats(flowers.to_float(x_train))
    model = CNN(num_classes, in_channels=3, image_size=size, widths=(24, 48, 96), hidden=256, dropout=0.5,
                mean=mean, std=std).to(device)
    print(model)

    def whole(x, y):
        return loader(flowers.to_float(flowers.resize(x, size)), y, 256)

    train_loader = Augmented(loader(x_train, y_train, args.batch_size, shuffle=True),
                             flowers.augment_for_scratch(size))
    result = train(model, train_loader, whole(*splits['val']), whole(*splits['test']),
                   args.scratch_lr, args.scratch_weight_decay, args.scratch_epochs, device, precision)
    return model, result


def comparison_table(results):
    """Markdown: one row per trained model."""
    lines = ['| model | val acc | test acc | trainable parameters | training time |', '|---|---|---|---|---|']
    lines += [f'| {MODELS[k]} | {r["val_acc"]:.1%} | {r["test_acc"]:.1%} | {r["trainable_params"]:,} | '
              f'{r["seconds"]:.0f} s |' for k, r in results.items()]
    return '\n'.join(lines)


def main():
    args = parse_args()
    start = time.perf_counter()
    seed_everything(args.seed)
    device = pick_device()
    precision = choose_precision(args.precision, device)
    print(f'computing in {precision}')
    sizes = QUICK_SIZES if args.quick else SIZES

    # the weights first, so that a bad --weights fails before any work
    model, arch, weights_used = flowers.pretrained_squeezenet(args.arch, args.weights, args.data_dir)
    print(f'weights used: {weights_used}')
    print(f'loading Oxford Flowers 17 from {args.data_dir / "oxford-flowers17"} ...', flush=True)
    with Timer() as t:
        splits, names = flowers.load_flowers(args.data_dir / 'oxford-flowers17', sizes['stored'])
    print(f'  {", ".join(f"{s} {len(y)}" for s, (_, y) in splits.items())} images, {len(names)} classes '
          f'({t.seconds:.0f}s): {", ".join(names)}')
    args.batch_size = fit_batch_size(args.batch_size, len(splits['train'][1]), 'batch_size' in args.given)
    out = prepare_output_dir(args.out, args.force)
    results = {}
    meta = dict(arch=arch, num_classes=len(names), class_names=names, weights_used=weights_used)

    print('\n== Fine-tuning SqueezeNet: only a new final layer trains ==')
    flowers.freeze_backbone(flowers.replace_classifier(model, len(names)))
    model = model.to(device, memory_format=torch.channels_last)
    total = sum(p.numel() for p in model.parameters())
    print(f'trainable parameters: {count_trainable(model):,} of {total:,} '
          f'(classifier.1 = {model.classifier[1]})')
    with Timer() as t:
        results['finetune'] = finetune_last_layer(model, splits, sizes['crop'], args, device, precision)
    results['finetune']['seconds'] = t.seconds
    save_model(out / 'finetuned_squeezenet.pt', model, trained='classifier.1 only', **meta)

    if args.unfreeze_epochs:
        print(f'\n== Second stage: every layer trains, peak lr {args.unfreeze_lr} ==')
        with Timer() as t:
            results['unfrozen'] = finetune_every_layer(model, splits, sizes['crop'], args, device, precision)
        results['unfrozen'].update(seconds=t.seconds, epochs=args.unfreeze_epochs, lr=args.unfreeze_lr)
        save_model(out / 'finetuned_squeezenet_all_layers.pt', model,
                   trained='classifier.1, then every layer', **meta)

    print('\n== From scratch: 3 conv + 2 fully connected layers ==')
    seed_everything(args.seed)
    with Timer() as t:
        scratch, results['scratch'] = train_from_scratch(splits, len(names), sizes['scratch'],
                                                         sizes['scratch_stored'], args, device, precision)
    results['scratch']['seconds'] = t.seconds
    save_model(out / 'scratch_cnn.pt', scratch, config=scratch.config, class_names=names)

    table = comparison_table(results)
    print('\n' + table)
    save_text(out / 'comparison.md', f'Weights: {weights_used}\n\n{table}\n')
    plot_history({'fine-tuned SqueezeNet': results['finetune']['history'],
                  'from scratch': results['scratch']['history']},
                 out, 'Q7.2 Flowers 17', note='train: running average over the epoch')
    x_test, y_test = splits['test']
    ft, sc = results['finetune'], results['scratch']
    flowers.plot_predictions(flowers.resize(x_test, 128), y_test,
                             {'SqueezeNet': ft['pred'], 'scratch': sc['pred']}, names,
                             out / 'test_predictions.png',
                             'Q7.2 test images (first of each class): true name, then each model\'s guess\n'
                             f'fine-tuned SqueezeNet (last layer) {ft["test_acc"]:.1%} test accuracy, '
                             f'CNN from scratch {sc["test_acc"]:.1%}')

    metrics = {
        'seed': args.seed, 'quick': args.quick, 'device': str(device), 'precision': precision,
        'torch_threads': torch.get_num_threads(),
        'arch': arch, 'weights_used': weights_used, 'class_names': names, 'image_sizes': sizes,
        **{f'{s}_images': len(y) for s, (_, y) in splits.items()},
        'epochs': args.epochs, 'lr': args.lr, 'batch_size': args.batch_size,
        'weight_decay': args.weight_decay,
        'scratch_epochs': args.scratch_epochs, 'scratch_lr': args.scratch_lr,
        'scratch_weight_decay': args.scratch_weight_decay,
        **{f'{k}_{key}': v for k, r in results.items() for key, v in r.items() if key != 'pred'},
        'seconds': time.perf_counter() - start,
    }
    save_json(out / 'metrics.json', metrics)
    print(f'done in {metrics["seconds"]:.0f}s')


if __name__ == '__main__':
    run_main(main)
