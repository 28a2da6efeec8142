"""Did moving the machinery out of nn.py cost speed? One Q3 epoch and one Q5
epoch as the run scripts train them now (their loops, through network.py and
the handout's signatures) against the same epochs of the code before the move
(nn.train_epoch of git commit REF), side by side in one run.

    python benchmarks/bench_nn_seam.py [--ref 5b5da57] [--epochs 7] [--data-dir data]

The old nn.py is read with `git show REF:python/nn.py` into a temporary
folder and imported under another name. Both sides start from the same
weights and draw the same batches; epochs alternate (old, new, old, ...) so
a busy machine slows both alike. Prints the median milliseconds per epoch
and new / old. This is a benchmark, not a test: it asserts nothing.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib.util  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import autoencoder as ae  # noqa: E402
import nn  # noqa: E402
import run_q3  # noqa: E402
import run_q5  # noqa: E402
from data import load_nist36  # noqa: E402
from network import classifier_layers, init_layer  # noqa: E402
from util import DATA_DIR  # noqa: E402

Q3_LR, Q3_BATCH = 1e-2, 32   # run_q3.py's defaults
Q5_LR, Q5_BATCH = 3e-5, 36   # run_q5.py's defaults


def old_nn(ref, folder):
    """nn.py as it was at git commit ref, imported as the module 'nn_old'."""
    text = subprocess.run(['git', 'show', f'{ref}:python/nn.py'], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    path = Path(folder) / 'nn_old.py'
    path.write_text(text)
    spec = importlib.util.spec_from_file_location('nn_old', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def q3_runners(old, x, y):
    rng = np.random.default_rng(0)
    params = {}
    init_layer(nn, 1024, 64, params, 'layer1', rng, np.float32)
    init_layer(nn, 64, 36, params, 'output', rng, np.float32)
    new_params, old_params = copy.deepcopy(params), copy.deepcopy(params)
    new_rng, old_rng = np.random.default_rng(1), np.random.default_rng(1)
    new_layers, old_layers = classifier_layers(nn), old.classifier_layers()
    return {
        'Q3 before': lambda: old.train_epoch(x, y, old_params, old_layers, old.softmax_cross_entropy,
                                             lambda p: old.sgd_update(p, Q3_LR), Q3_BATCH, old_rng),
        'Q3 now': lambda: run_q3.train_epoch(nn, x, y, new_params, new_layers, Q3_LR, Q3_BATCH, new_rng),
    }


def q5_runners(old, x):
    params = ae.init_autoencoder(nn, np.random.default_rng(0), x=x)
    new_params, old_params = copy.deepcopy(params), copy.deepcopy(params)
    new_rng, old_rng = np.random.default_rng(1), np.random.default_rng(1)
    new_layers = ae.autoencoder_layers(nn)
    old_layers = [(name, old.relu, old.relu_deriv) for name in ae.LAYER_NAMES[:-1]] + \
                 [(ae.LAYER_NAMES[-1], old.sigmoid, old.sigmoid_deriv)]
    return {
        'Q5 before': lambda: old.train_epoch(x, x, old_params, old_layers, old.squared_error,
                                             lambda p: old.momentum_update(p, Q5_LR, momentum=0.9),
                                             Q5_BATCH, old_rng),
        'Q5 now': lambda: run_q5.train_epoch(nn, x, new_params, new_layers, Q5_LR, Q5_BATCH, new_rng),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--ref', default='5b5da57', help='git commit whose nn.py still held train_epoch')
    p.add_argument('--epochs', type=int, default=7, help='timed epochs of each')
    p.add_argument('--data-dir', type=Path, default=DATA_DIR)
    args = p.parse_args()

    x, y = load_nist36('train', args.data_dir, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        old = old_nn(args.ref, tmp)
    runners = {**q3_runners(old, x, y), **q5_runners(old, x)}
    for run in runners.values():  # warm-up: first-call costs
        run()
    times = {name: [] for name in runners}
    for _ in range(args.epochs):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    ms = {name: 1000 * float(np.median(t)) for name, t in times.items()}
    print(f'{len(x)} training images; median of {args.epochs} epochs each, alternating; before = {args.ref}')
    for q in ('Q3', 'Q5'):
        before, now = ms[f'{q} before'], ms[f'{q} now']
        print(f'{q} epoch: before {before:6.1f} ms, now {now:6.1f} ms, now / before {now / before:.3f}')


if __name__ == '__main__':
    main()
