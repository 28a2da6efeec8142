"""Time one epoch of the NIST36 MLP (1024-64-36, batch 32): our numpy code
against the same network in PyTorch on the CPU, in one run.

    python benchmarks/bench_mlp_epoch.py [--epochs 5] [--data-dir data]

Prints the median seconds per epoch of each and their ratio. Both do the same
work per batch: forward, softmax cross-entropy, backward, a plain SGD step.
This is a benchmark, not a test: it prints figures and asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import nn  # noqa: E402,I001  (first: it sets the BLAS threads before numpy loads)

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from data import load_nist36  # noqa: E402
from util import DATA_DIR  # noqa: E402

LR = 1e-2  # per example, as in run_q3.py (summed loss)


def numpy_epoch(x, y, params, rng, batch_size):
    nn.train_epoch(x, y, params, nn.classifier_layers(), nn.softmax_cross_entropy,
                   lambda p: nn.sgd_update(p, LR), batch_size, rng)


def torch_epoch(x, labels, model, optimizer, generator, batch_size):
    for idx in torch.randperm(len(x), generator=generator).split(batch_size):
        loss = torch.nn.functional.cross_entropy(model(x[idx]), labels[idx], reduction='sum')
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--epochs', type=int, default=5, help='timed epochs per implementation')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--data-dir', type=Path, default=DATA_DIR)
    args = p.parse_args()

    x, y = load_nist36('train', args.data_dir, dtype=np.float32)
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__} '
          f'({torch.get_num_threads()} threads), numpy {np.__version__}; '
          f'{len(x)} examples, batch {args.batch_size}, {args.epochs} epochs each')

    rng = np.random.default_rng(0)
    params = {}
    nn.initialize_weights(1024, 64, params, 'layer1', rng=rng, dtype=np.float32)
    nn.initialize_weights(64, 36, params, 'output', rng=rng, dtype=np.float32)

    model = torch.nn.Sequential(torch.nn.Linear(1024, 64), torch.nn.Sigmoid(), torch.nn.Linear(64, 36))
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    xt, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    generator = torch.Generator().manual_seed(0)

    t_numpy = median_seconds(lambda: numpy_epoch(x, y, params, rng, args.batch_size), args.epochs)
    t_torch = median_seconds(lambda: torch_epoch(xt, labels, model, optimizer, generator,
                                                 args.batch_size), args.epochs)
    print(f'numpy (this project): {t_numpy * 1000:7.1f} ms per epoch')
    print(f'PyTorch on the CPU:   {t_torch * 1000:7.1f} ms per epoch')
    print(f'numpy / torch time:   {t_numpy / t_torch:.2f} (below 1 means numpy is faster)')


if __name__ == '__main__':
    main()
