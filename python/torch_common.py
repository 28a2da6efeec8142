"""The PyTorch side shared by Q7.1 and Q7.2: device choice, seeding, one
train/evaluate loop, input statistics, and saving and loading models.

The loop follows PyTorch's examples/mnist: ``train_epoch`` and ``evaluate``
are short functions, and ``fit`` runs them for a number of epochs while
recording a history of per-epoch loss and accuracy.
"""
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from util import UsageError, check_loss, writable


PRECISIONS = ('auto', 'float32', 'bfloat16')


def cpu_has_native_bf16(cpuinfo='/proc/cpuinfo'):
    """Whether this CPU multiplies bfloat16 numbers in hardware (x86's
    AVX512-BF16 or AMX instructions, as on AMD Zen 4 and Intel Sapphire
    Rapids). Elsewhere oneDNN would emulate bfloat16, slower than float32."""
    try:
        flags = Path(cpuinfo).read_text().split()
    except OSError:  # no /proc (macOS, Windows): assume not
        return False
    return 'avx512_bf16' in flags or 'amx_bf16' in flags


def pick_device():
    """CUDA when a GPU is usable, otherwise the CPU."""
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'CPU, {torch.get_num_threads()} threads'
    print(f'device: {device} ({name})')
    return device


def choose_precision(precision, device, auto_bfloat16=True):
    """What the networks compute in, 'float32' or 'bfloat16': the value the
    training and evaluation functions below take as ``precision``, as they
    take ``device``.

    precision 'auto': bfloat16 on a CPU that has bfloat16 instructions,
    float32 everywhere else (a GPU is fast enough in float32), and for a
    network too small to gain from it (auto_bfloat16=False). In bfloat16
    the weights, the optimizer and the loss stay in float32 and only the
    layers' products run in bfloat16 (``torch.autocast``): faster at the
    same validation accuracy (docs/measurements.md). 'float32' and
    'bfloat16' force one.
    """
    if precision not in PRECISIONS:
        raise UsageError(f'unknown precision {precision!r}; choose from {", ".join(PRECISIONS)}')
    native = device.type == 'cpu' and cpu_has_native_bf16()
    if precision == 'auto':
        precision = 'bfloat16' if native and auto_bfloat16 else 'float32'
    elif precision == 'bfloat16' and device.type == 'cpu' and not native:
        print('note: this CPU has no bfloat16 instructions; they are emulated, slower than float32')
    return precision


def autocast(device, precision):
    """The context the networks run in: bfloat16 products for precision
    'bfloat16', otherwise plain float32 (a context that does nothing)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == 'bfloat16')


def add_precision_arg(parser):
    parser.add_argument('--precision', choices=PRECISIONS, default='auto',
                        help="what the networks compute in: 'auto' is bfloat16 where it is faster (a CPU "
                             'with bfloat16 instructions, AVX512-BF16 or AMX), float32 elsewhere (default: auto)')


def seed_everything(seed):
    """Fix every random generator a run touches, so reruns give the same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def channel_stats(x):
    """Per-channel mean and std of training images x (N, C, H, W), as lists:
    the input scaling a CNN stores with its weights."""
    dims = (0, 2, 3)
    return x.mean(dims).tolist(), x.std(dims).tolist()


def eval_batch_size(device):
    """Images per forward pass when only evaluating (no gradients kept).

    On a CPU, 256 images' activations mostly stay in the caches, while
    1000 images' first conv output (100 MB) does not: smaller batches are
    faster per image (docs/measurements.md). A GPU instead wants
    large batches to keep busy. Eval mode makes the numbers independent of
    the batch size (batch norm uses its running statistics)."""
    return 256 if device.type == 'cpu' else 1024


def count_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def adamw_one_cycle(model, lr, weight_decay, total_steps, pct_start=0.3):
    """AdamW on the trainable parameters, with a one-cycle schedule stepped
    per batch: warm up to lr over the first pct_start of the steps, then
    anneal to ~0. It reaches good accuracy in few epochs, which is what a
    2-core CPU can afford. Returns (optimizer, scheduler) for ``fit``."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                    pct_start=pct_start)
    return optimizer, scheduler


def train_epoch(model, loader, optimizer, device, precision='float32', scheduler=None, label_smoothing=0.0):
    """One pass over ``loader`` computing in ``precision`` (``autocast``),
    stepping ``scheduler`` per batch if given.

    label_smoothing: the target puts this much of its mass evenly on every
    class (F.cross_entropy's option): the network is not pushed towards
    ever larger logits on labels that are sometimes wrong or ambiguous (an
    O that may be a 0), which in a short training run helps more than
    dropout does (measured on the EMNIST validation split, run_q7_1.py).
    Returns (mean training loss, accuracy) over the examples seen."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(device, precision):
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        seen += len(y)
    return total_loss / max(seen, 1), correct / max(seen, 1)


@torch.no_grad()
def predict(model, loader, device, precision='float32'):
    """Logits and labels for a whole loader, on the CPU."""
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        with autocast(device, precision):
            logits.append(model(x.to(device)).float().cpu())
        labels.append(y)
    return torch.cat(logits), torch.cat(labels)


def scores(logits, labels):
    """(mean cross-entropy, accuracy) of logits against class labels."""
    if len(labels) == 0:
        raise UsageError('cannot evaluate on an empty dataset')
    loss = F.cross_entropy(logits, labels).item()
    acc = (logits.argmax(1) == labels).float().mean().item()
    return loss, acc


def evaluate(model, loader, device, precision='float32'):
    """(mean cross-entropy, accuracy) of ``model`` on ``loader``."""
    return scores(*predict(model, loader, device, precision))


def fit(model, train_loader, eval_loaders, optimizer, epochs, device, precision='float32', scheduler=None,
        label_smoothing=0.0):
    """Train for ``epochs`` and evaluate after each one, computing in ``precision``.

    eval_loaders: {name: loader}, e.g. {'valid': ..., 'test': ...}; their
    loss is the plain cross-entropy, whatever ``label_smoothing`` training uses.
    Returns the history {'train_loss': [...], 'train_acc': [...],
    '<name>_loss': [...], '<name>_acc': [...], 'seconds': float}. The
    training numbers are running averages over the epoch, as most
    frameworks report them.
    """
    history = {'train_loss': [], 'train_acc': []}
    for name in eval_loaders:
        history[f'{name}_loss'], history[f'{name}_acc'] = [], []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        loss, acc = train_epoch(model, train_loader, optimizer, device, precision, scheduler, label_smoothing)
        check_loss(loss, epoch)
        history['train_loss'].append(loss)
        history['train_acc'].append(acc)
        line = f'epoch {epoch:3d}/{epochs}  train loss {loss:.4f} acc {acc:.4f}'
        for name, loader in eval_loaders.items():
            loss, acc = evaluate(model, loader, device, precision)
            history[f'{name}_loss'].append(loss)
            history[f'{name}_acc'].append(acc)
            line += f'  {name} loss {loss:.4f} acc {acc:.4f}'
        print(f'{line}  ({time.perf_counter() - start:.0f}s)', flush=True)
    history['seconds'] = time.perf_counter() - start
    return history


def save_model(path, model, **meta):
    """Save the state dict together with what is needed to rebuild the model."""
    torch.save({'state_dict': model.state_dict(), **meta}, writable(path))
    print(f'wrote {path}')


def load_tensors(path, what, fix):
    """torch.load a file of plain tensors (weights_only: no pickled code
    runs), with one-line errors. what: 'model file', ...; fix: how to get a
    good one."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f'{what} {path} does not exist; {fix}')
    if path.is_dir():
        raise UsageError(f'{what} {path} is a folder; pass the file itself')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a bad file
        # Only the type: torch's own message runs over many lines and
        # suggests weights_only=False, which would run whatever code the
        # file holds; the fix here is the right file.
        raise UsageError(f'{path} is not a PyTorch file of plain tensors ({type(e).__name__}); '
                         f'{fix}') from None


def check_finite_weights(state, path, fix):
    """Refuse the weights of a diverged run (NaN), which would give one
    class for every input instead of an error."""
    bad = [k for k, v in state.items() if torch.is_tensor(v) and not torch.isfinite(v).all()]
    if bad:
        raise UsageError(f'{path}: {bad[0]} holds NaN or infinite values (a diverged training run?); {fix}')


def load_checkpoint(path, made_by):
    """Read a checkpoint written by ``save_model``, with clear errors."""
    fix = f'run `python python/{made_by}` to make it'
    ckpt = load_tensors(path, 'model file', fix)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get('state_dict'), dict):
        raise UsageError(f'{path} is not a checkpoint written by {made_by}; {fix}')
    check_finite_weights(ckpt['state_dict'], path, fix)
    return ckpt
