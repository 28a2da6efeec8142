"""Training speed of the Q7.1 CNNs on the CPU, and of the choices that make
them fast: pooling before batch norm, the channels_last layout, and
bfloat16 on a CPU that has bfloat16 instructions (``--precision auto``).

    python benchmarks/bench_q7_1_cnn.py [--batches 20] [--threads 1 2]

For each network (the MNIST, NIST36/EMNIST and CIFAR-10 sizes) and each
thread count, prints the milliseconds of one training step (forward,
backward, AdamW) per 1000 images, and the seconds that makes per epoch of
each dataset. Random images: the speed does not depend on the data. The
variants are the shipped block (conv -> pool -> BN -> ReLU, channels_last)
against the textbook order (conv -> BN -> ReLU -> pool) in NCHW, on the same
pixels (the shipped NIST36 and EMNIST networks cut a 2-pixel frame, "c2"),
and the shipped block under bfloat16 autocast. Then SqueezeNet's features
for Q7.2 in float32 and bfloat16.
Run it as `OMP_WAIT_POLICY=ACTIVE python ...` to see what spinning threads
cost while other processes share the cores.

A second table times evaluation (what torch_common.evaluate does after
every epoch and at the end): milliseconds per 1000 images for each eval
batch size in --eval-batches, under torch.no_grad and torch.inference_mode,
at torch's default thread count. The runs are interleaved, so that a busy
machine slows all of them alike.
This is a benchmark, not a test: it prints figures and asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: OMP_WAIT_POLICY, as the scripts set it, before torch loads)

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

from q7_models import CNN  # noqa: E402
from torch_common import autocast, cpu_has_native_bf16  # noqa: E402

CPU = torch.device('cpu')

# training images per epoch (MNIST, EMNIST and CIFAR-10 after their validation split is held out)
EPOCH_SIZES = {'MNIST': 55000, 'NIST36': 10800, 'EMNIST': 87923, 'CIFAR-10': 45000}
NETWORKS = [  # name, channels, image size, widths, hidden, classes, dataset it trains on, crop
    ('16-32-64 (cnn_mnist)', 1, 28, (16, 32, 64), 256, 10, 'MNIST', 0),
    ('24-48-96 c2 (cnn_nist36)', 1, 32, (24, 48, 96), 0, 36, 'NIST36', 2),
    ('24-48-96 c2 (cnn_emnist)', 1, 28, (24, 48, 96), 256, 47, 'EMNIST', 2),
    ('64-128-256 (cnn_cifar10)', 3, 32, (64, 128, 256), 256, 10, 'CIFAR-10', 0),
]


class TextbookCNN(nn.Module):
    """The same layers in the usual order (conv -> BN -> ReLU -> pool), NCHW.
    (Its head has no hidden layer; for the CIFAR-10 size that makes it a
    little cheaper than the shipped network, so the speed-up is understated.)"""

    def __init__(self, channels, size, widths, classes):
        super().__init__()
        layers, c = [], channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = w
        side = size // 8
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.3), nn.Linear(c * side * side, classes))

    def forward(self, x):
        return self.net(x)


def ms_per_1000(model, channels, size, classes, batches, batch_size=128, precision='float32'):
    """Median over batches of one training step, scaled to 1000 images, in
    ``precision`` as the scripts compute (torch_common.autocast)."""
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x, y = torch.rand(batch_size, channels, size, size), torch.randint(0, classes, (batch_size,))
    times = []
    for i in range(batches + 3):
        start = time.perf_counter()
        with autocast(CPU, precision):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 3:  # the first steps build oneDNN's kernels
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000 * 1000 / batch_size


def squeezenet_ms_per_image(precision, batches=10, batch_size=4):
    """Median ms per image of SqueezeNet 1.0's features (the network
    run_q7_2.py uses offline, with the mirror's weights; on a connected
    machine it takes 1.1), computed as it computes them (channels_last, no
    gradients, optionally bfloat16)."""
    model = torchvision.models.squeezenet1_0(weights=None).eval().to(memory_format=torch.channels_last)
    x = torch.rand(batch_size, 3, 224, 224).contiguous(memory_format=torch.channels_last)
    times = []
    with torch.no_grad(), autocast(CPU, precision):
        for i in range(batches + 2):
            start = time.perf_counter()
            model.features(x)
            if i >= 2:
                times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000 / batch_size


def eval_ms_per_1000(networks, batch_sizes, images=4096, rounds=5):
    """{(network, mode, batch size): median ms per 1000 images} of a forward
    pass in eval mode over ``images`` random images, one round of every
    setting in turn."""
    modes = {'no_grad': torch.no_grad, 'inference_mode': torch.inference_mode}
    runs = {}
    for name, channels, size, widths, hidden, classes, _, crop in networks:
        torch.manual_seed(0)
        model = CNN(classes, channels, size, widths, hidden=hidden,
                    mean=[0.5] * channels, std=[0.25] * channels, crop=crop).eval()
        x = torch.rand(images, channels, size, size)
        for mode, context in modes.items():
            for bs in batch_sizes:
                def run(model=model, x=x, context=context, bs=bs):
                    with context():
                        for i in range(0, len(x), bs):
                            model(x[i:i + bs])
                runs[name, mode, bs] = run
    times = {key: [] for key in runs}
    for round_ in range(rounds + 1):
        for key, run in runs.items():
            start = time.perf_counter()
            run()
            if round_:  # round 0 warms up (oneDNN builds its kernels per shape)
                times[key].append((time.perf_counter() - start) * 1000 * 1000 / images)
    return {key: sorted(t)[len(t) // 2] for key, t in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--batches', type=int, default=20, help='timed training steps per measurement')
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2], help='torch thread counts to try')
    p.add_argument('--eval-batches', type=int, nargs='*', default=[128, 256, 512, 1000],
                   help='evaluation batch sizes to time (none: skip the evaluation table)')
    args = p.parse_args()
    default_threads = torch.get_num_threads()
    print(f'{platform.processor() or platform.machine()}, {torch.__version__}, '
          f'{torch.get_num_threads()} threads by default; batch 128, median of {args.batches} steps')
    print(f'(bfloat16 instructions: {"yes" if cpu_has_native_bf16() else "no, emulated"})')
    print(f'{"network":26s} {"threads":>7s} {"shipped ms/1k":>14s} {"textbook ms/1k":>15s} '
          f'{"speed-up":>8s} {"bf16 ms/1k":>10s} {"speed-up":>8s}  shipped s/epoch (fp32, bf16)')
    for name, channels, size, widths, hidden, classes, dataset, crop in NETWORKS:
        for threads in args.threads:
            torch.set_num_threads(threads)

            def shipped(precision):
                torch.manual_seed(0)
                return ms_per_1000(CNN(classes, channels, size, widths, hidden=hidden,
                                       mean=[0.5] * channels, std=[0.25] * channels, crop=crop),
                                   channels, size, classes, args.batches, precision=precision)
            fp32, bf16 = shipped('float32'), shipped('bfloat16')
            # the textbook network on the same pixels the shipped one keeps
            inner = size - 2 * crop
            textbook = ms_per_1000(TextbookCNN(channels, inner, widths, classes),
                                   channels, inner, classes, args.batches)
            epoch = f'{dataset} {fp32 * EPOCH_SIZES[dataset] / 1e6:.0f}, {bf16 * EPOCH_SIZES[dataset] / 1e6:.0f}'
            print(f'{name:26s} {threads:7d} {fp32:14.1f} {textbook:15.1f} {textbook / fp32:7.2f}x '
                  f'{bf16:10.1f} {fp32 / bf16:7.2f}x  {epoch}', flush=True)
    torch.set_num_threads(1)
    print('\nQ7.2 SqueezeNet 1.0 features (224 px, batches of 4, one thread), ms per image:')
    fp32, bf16 = (squeezenet_ms_per_image(precision) for precision in ('float32', 'bfloat16'))
    print(f'float32 {fp32:.1f}, bfloat16 {bf16:.1f} ({fp32 / bf16:.2f}x)')
    if not args.eval_batches:
        return
    torch.set_num_threads(default_threads)
    print(f'\nevaluation, ms per 1000 images ({default_threads} threads), by eval batch size')
    ms = eval_ms_per_1000(NETWORKS, args.eval_batches)
    print(f'{"network":26s} {"mode":>15s} ' + ' '.join(f'{bs:>7d}' for bs in args.eval_batches))
    for name, *_ in NETWORKS:
        for mode in ('no_grad', 'inference_mode'):
            print(f'{name:26s} {mode:>15s} ' + ' '.join(f'{ms[name, mode, bs]:7.1f}'
                                                         for bs in args.eval_batches))


if __name__ == '__main__':
    main()
