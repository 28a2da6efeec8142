"""Time the Q5 autoencoder's training (1024-32-32-32-1024, batch 36, momentum)
and see where a step's time goes (the target: run_q5.py's 100 epochs in
under 20 s on 2 CPU cores).

    python benchmarks/bench_q5_epoch.py [--epochs 10] [--data-dir data]

Trains from run_q5.py's initialisation for --epochs epochs with run_q5.py's
own loop (run_q5.train_epoch) on this project's nn.py, then prints the
median milliseconds per epoch, the 100-epoch projection, and the median
microseconds of each phase of a step (forward, loss, backward, momentum
update) timed one by one over another epoch. This
is a benchmark, not a test: it prints figures and asserts nothing. Other
processes on the machine inflate the numbers; the load average is printed
for that reason.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import autoencoder as ae  # noqa: E402
import nn  # noqa: E402
from data import load_nist36  # noqa: E402
from network import momentum_update, network_backward, network_forward, random_batches, squared_error  # noqa: E402
from run_q5 import train_epoch  # noqa: E402
from util import DATA_DIR  # noqa: E402

LR, BATCH = 3e-5, 36  # run_q5.py's defaults


def phase_times(x, params, layers, rng):
    """One epoch, each step's phases timed separately: {phase: [seconds]}."""
    times = {'forward': [], 'loss': [], 'backward': [], 'momentum update': []}
    for bx, by in random_batches(nn, x, x, BATCH, rng):
        t0 = time.perf_counter()
        out = network_forward(nn, bx, params, layers)
        t1 = time.perf_counter()
        _, delta = squared_error(by, out)
        t2 = time.perf_counter()
        network_backward(nn, delta, params, layers)
        t3 = time.perf_counter()
        momentum_update(params, LR, momentum=0.9)
        t4 = time.perf_counter()
        for phase, seconds in zip(times, np.diff([t0, t1, t2, t3, t4])):
            times[phase].append(seconds)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--epochs', type=int, default=10, help='timed epochs')
    p.add_argument('--data-dir', type=Path, default=DATA_DIR)
    args = p.parse_args()

    x, _ = load_nist36('train', args.data_dir, dtype=np.float32)
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average '
          f'{load:.2f}; numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ["OPENBLAS_NUM_THREADS"]}; '
          f'{len(x)} images, batch {BATCH}, {-(-len(x) // BATCH)} steps per epoch')

    rng = np.random.default_rng(0)
    params, layers = ae.init_autoencoder(nn, rng, x=x), ae.autoencoder_layers(nn)
    epochs = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        train_epoch(nn, x, params, layers, LR, BATCH, rng)
        epochs.append(time.perf_counter() - start)
    per_epoch = float(np.median(epochs))
    print(f'training: {per_epoch * 1000:.1f} ms per epoch (median of {args.epochs}; fastest '
          f'{min(epochs) * 1000:.1f}), so {per_epoch * 100:.1f} s for run_q5.py\'s 100 epochs')

    phases = {k: float(np.median(v)) * 1e6 for k, v in phase_times(x, params, layers, rng).items()}
    print('one step, median by phase: ' +
          ', '.join(f'{k} {v:.0f} us' for k, v in phases.items()) +
          f' (sum {sum(phases.values()):.0f} us)')


if __name__ == '__main__':
    main()
