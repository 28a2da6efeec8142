"""Time one epoch of the NIST36 MLP (1024-64-36, batch 32): our numpy code
against the same network in PyTorch on the CPU, in float32 and float64,
side by side in one run.

    python benchmarks/bench_mlp_epoch.py [--epochs 5] [--torch-threads N] [--data-dir data]

Three ways to train an epoch, each in both dtypes:
  numpy train_epoch   run_q3.py's loop (run_q3.train_epoch) on this
                      project's nn.py, with its fast paths: batches gathered
                      one at a time, no gradient for the input of the first layer
  numpy handout calls the handout's run_q3 loop written with its plain calls,
                      on the data as the handout loads it (scipy.io.loadmat's
                      arrays as stored: column-major pixels, uint8 labels):
                      get_random_batches (a list of every batch), forward,
                      softmax, compute_loss_and_acc, backwards for each
                      layer (the first one returns its input's gradient too),
                      then an SGD step
  torch               the same network in PyTorch, summed cross-entropy
                      (the same gradients), plain SGD

Each does forward, loss, backward and an SGD step per batch, lr 1e-2 per
example. The epochs are interleaved (one of each in turn, --epochs rounds)
so that a busy machine slows all of them alike; the table gives the median
milliseconds per epoch and each numpy time over torch's in the same dtype
(below 1: numpy is faster). numpy runs BLAS on one thread (threads.py);
torch keeps its own thread count unless --torch-threads is given (1 makes
it a one-core comparison).
This is a benchmark, not a test: it prints figures and asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.io  # noqa: E402
import torch  # noqa: E402

import nn  # noqa: E402
from data import load_nist36  # noqa: E402
from network import classifier_layers, sgd_update  # noqa: E402
from run_q3 import train_epoch  # noqa: E402
from util import DATA_DIR, linear_deriv  # noqa: E402

LR = 1e-2  # per example, as in run_q3.py (summed loss)
DTYPES = {'float32': (np.float32, torch.float32), 'float64': (np.float64, torch.float64)}


def numpy_params(dtype, seed=0):
    """The 1024-64-36 network's Xavier weights, the same in every run."""
    rng = np.random.default_rng(seed)
    params = {}
    nn.initialize_weights(1024, 64, params, 'layer1', rng=rng, dtype=dtype)
    nn.initialize_weights(64, 36, params, 'output', rng=rng, dtype=dtype)
    return params


def handout_data(data_dir, dtype):
    """The training set as the handout's run_q3 reads it: the .mat file's
    arrays as scipy hands them back (MATLAB's column-major order, labels in
    their stored type), the pixels in dtype."""
    mat = scipy.io.loadmat(Path(data_dir) / 'nist36_train.mat')
    return mat['train_data'].astype(dtype), mat['train_labels']  # astype keeps the column-major order


def train_epoch_runner(x, y, batch_size):
    params, rng = numpy_params(x.dtype), np.random.default_rng(0)
    layers = classifier_layers(nn)
    return lambda: train_epoch(nn, x, y, params, layers, LR, batch_size, rng)


def handout_runner(x, y, batch_size):
    params, rng = numpy_params(x.dtype), np.random.default_rng(0)

    def epoch():
        for xb, yb in nn.get_random_batches(x, y, batch_size, rng):
            h1 = nn.forward(xb, params, 'layer1', nn.sigmoid)
            probs = nn.forward(h1, params, 'output', nn.softmax)
            loss, acc = nn.compute_loss_and_acc(yb, probs)
            delta1 = probs - yb
            delta2 = nn.backwards(delta1, params, 'output', linear_deriv)
            nn.backwards(delta2, params, 'layer1', nn.sigmoid_deriv)
            sgd_update(params, LR)
    return epoch


def torch_runner(x, y, batch_size, dtype):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(1024, 64), torch.nn.Sigmoid(),
                                torch.nn.Linear(64, 36)).to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    xt, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    generator = torch.Generator().manual_seed(0)

    def epoch():
        for idx in torch.randperm(len(xt), generator=generator).split(batch_size):
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), labels[idx], reduction='sum')
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return epoch


def interleaved_medians(runners, rounds):
    """{name: median seconds}, timing one epoch of each runner in turn per round."""
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument('--epochs', type=int, default=5, help='timed epochs per implementation and dtype')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--torch-threads', type=int, default=None,
                   help="torch's intra-op threads (default: torch's own choice)")
    p.add_argument('--data-dir', type=Path, default=DATA_DIR)
    args = p.parse_args()
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)

    x64, y64 = load_nist36('train', args.data_dir, dtype=np.float64)
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__} '
          f'({torch.get_num_threads()} threads), numpy {np.__version__}; '
          f'{len(x64)} examples, batch {args.batch_size}, {args.epochs} epochs each')
    runners = {}
    for name, (np_dtype, torch_dtype) in DTYPES.items():
        x, y = x64.astype(np_dtype), y64.astype(np_dtype)
        runners[name, 'train_epoch'] = train_epoch_runner(x, y, args.batch_size)
        runners[name, 'handout'] = handout_runner(*handout_data(args.data_dir, np_dtype), args.batch_size)
        runners[name, 'torch'] = torch_runner(x, y, args.batch_size, torch_dtype)
    for run in runners.values():  # warm-up: first-call costs (BLAS buffers, torch's dispatch)
        run()
    t = interleaved_medians(runners, args.epochs)

    print(f'\nmilliseconds per epoch (median), and numpy / torch in the same dtype')
    print(f'{"dtype":8s} {"numpy train_epoch":>18s} {"numpy handout calls":>20s} {"torch":>8s}'
          f'   {"train_epoch/torch":>17s} {"handout/torch":>13s}')
    for name in DTYPES:
        ours, plain, ref = t[name, 'train_epoch'], t[name, 'handout'], t[name, 'torch']
        print(f'{name:8s} {ours * 1000:18.1f} {plain * 1000:20.1f} {ref * 1000:8.1f}'
              f'   {ours / ref:17.2f} {plain / ref:13.2f}')


if __name__ == '__main__':
    main()
