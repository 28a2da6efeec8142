"""Q7.1: model shapes, the EMNIST orientation and label mapping, the CIFAR-10
reader, a --quick run of every part, and the errors for missing data.

Every dataset here is tiny and synthetic, written in the real file formats
(IDX for MNIST/EMNIST, the course .mat for NIST36, python pickles for
CIFAR-10), so the loaders under test are the ones real runs use.
"""
import hashlib
import json
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch

import emnist_ocr
import nn as numpy_nn
import network
import q7_data
import run_q7_1
import torch_common
from conftest import ROOT, run_script, write_nist36
from q7_models import CNN, FCNet, build_model
from util import UsageError

EMNIST_CLASSES = list('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt')


# ----------------------------------------------------------------------------
# Synthetic datasets in the real formats
# ----------------------------------------------------------------------------
def write_idx(path, array):
    """An IDX file as MNIST ships it: magic 0x0000 0x08 (uint8) ndim, the
    sizes as big-endian int32, then the bytes."""
    array = np.asarray(array, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack('>HBB', 0, 8, array.ndim) + struct.pack(f'>{array.ndim}I', *array.shape)
    path.write_bytes(header + array.tobytes())


def bar_images(labels, size, rng):
    """Class c: a bright bar at row 2c + 3 on a dark background (ink high)."""
    images = rng.integers(0, 30, (len(labels), size, size))
    for i, c in enumerate(labels):
        images[i, (2 * c + 3) % size, 4:-4] = 255
    return images


def write_mnist(root, per_class=4, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / 'MNIST' / 'raw'
    for prefix in ('train', 't10k'):
        labels = np.repeat(np.arange(10), per_class)
        write_idx(raw / f'{prefix}-images-idx3-ubyte', bar_images(labels, 28, rng))
        write_idx(raw / f'{prefix}-labels-idx1-ubyte', labels)


def glyph(kind, size=28, stroke=3, margin=5, shift=(0, 0)):
    """An upright 0/1 glyph made of two strokes of an 'L':
    'L' left + bottom, 'mirror' right + bottom, 'transpose' left + top,
    'flip' right + top (the L turned 180 degrees)."""
    img = np.zeros((size, size))
    lo, hi = margin, size - margin
    left, right = slice(lo, lo + stroke), slice(hi - stroke, hi)
    top, bottom = slice(lo, lo + stroke), slice(hi - stroke, hi)
    column = {'L': left, 'mirror': right, 'transpose': left, 'flip': right}[kind]
    row = {'L': bottom, 'mirror': bottom, 'transpose': top, 'flip': top}[kind]
    img[lo:hi, column] = 1
    img[row, lo:hi] = 1
    return np.roll(img, shift, axis=(0, 1))


# The four L-like glyphs and the EMNIST class each is written as: a loader
# that forgets to transpose (or flips) would learn the wrong pairing.
GLYPH_CLASSES = {'L': 'L', 'mirror': 'J', 'transpose': 'F', 'flip': 't'}


def write_emnist(root, per_class=40, seed=0):
    """EMNIST Balanced files holding the four L-like glyphs, stored
    transposed as every EMNIST file is."""
    rng = np.random.default_rng(seed)
    raw = root / 'EMNIST' / 'raw'
    for split, n in (('train', per_class), ('test', max(1, per_class // 4))):
        images, labels = [], []
        for kind, name in GLYPH_CLASSES.items():
            for _ in range(n):
                upright = glyph(kind, stroke=int(rng.integers(2, 5)), shift=tuple(rng.integers(-2, 3, 2)))
                images.append((upright.T * 255).astype(np.uint8))  # stored transposed
                labels.append(EMNIST_CLASSES.index(name))
        write_idx(raw / f'emnist-balanced-{split}-images-idx3-ubyte', np.array(images))
        write_idx(raw / f'emnist-balanced-{split}-labels-idx1-ubyte', np.array(labels))


def write_cifar10(root, per_batch=20, seed=0):
    """cifar-10-batches-py as the official archive has it: pickled dicts
    with 'data' (N, 3072) uint8, rows of R then G then B planes, and 'labels'."""
    rng = np.random.default_rng(seed)
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']:
        labels = np.arange(per_batch) % 10
        images = np.zeros((per_batch, 3, 32, 32), np.uint8)
        for i, c in enumerate(labels):
            images[i, c % 3, 3 * c:3 * c + 3, :] = 255  # class c: a bar at row 3c in channel c % 3
        images[0, :, 0, 0] = (255, 0, 0)                 # a red top-left pixel, to check the layout
        with open(folder / name, 'wb') as f:
            pickle.dump({'data': images.reshape(per_batch, -1), 'labels': labels.tolist(),
                         'batch_label': name}, f)
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump({'label_names': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                                     'frog', 'horse', 'ship', 'truck']}, f)


@pytest.fixture
def all_data(tmp_path):
    root = tmp_path / 'data'
    write_nist36(root)
    write_mnist(root)
    write_emnist(root)
    write_cifar10(root)
    return root


def nist_look(upright01):
    """A 28x28 ink-1 glyph -> a 32x32 crop in the NIST36 look (ink 0 on 1)."""
    return 1.0 - np.pad(upright01, 2)


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------
@pytest.mark.parametrize('channels,size,classes,hidden', [
    (1, 28, 10, 0), (1, 32, 36, 256), (1, 28, 47, 256), (3, 32, 10, 64)])
def test_cnn_output_shape(channels, size, classes, hidden):
    model = CNN(classes, in_channels=channels, image_size=size, widths=(8, 16, 32), hidden=hidden,
                mean=[0.5] * channels, std=[0.25] * channels)
    assert model(torch.rand(5, channels, size, size)).shape == (5, classes)
    rebuilt = build_model(model.config)
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    x = torch.rand(3, channels, size, size)
    assert torch.allclose(model(x), rebuilt(x))


def test_cnn_crop_sees_only_the_centre():
    """crop=2 cuts the outer 2 pixels: the border does not change the
    output, and the network is the uncropped one on the centre 24x24."""
    torch.manual_seed(0)
    cropped = CNN(10, image_size=28, widths=(4, 8, 8), hidden=0, crop=2).eval()
    plain = CNN(10, image_size=24, widths=(4, 8, 8), hidden=0).eval()
    plain.load_state_dict(cropped.state_dict())
    x = torch.rand(3, 1, 28, 28)
    noisy_border = x.clone()
    noisy_border[..., :2, :] = noisy_border[..., -2:, :] = 1.0
    noisy_border[..., :, :2] = noisy_border[..., :, -2:] = 1.0
    with torch.no_grad():
        assert torch.allclose(cropped(x), cropped(noisy_border))
        assert torch.allclose(cropped(x), plain(x[..., 2:-2, 2:-2]), atol=1e-6)
    assert build_model(cropped.config).crop == 2


def test_label_smoothing_is_for_training_only():
    """train_epoch reports the smoothed loss it trains on; evaluate scores
    the plain cross-entropy (a learning rate of 0 keeps the model fixed)."""
    import torch.nn.functional as F
    from torch_common import evaluate, train_epoch
    torch.manual_seed(0)
    model = FCNet(16, 8, 5)    # no dropout or batch norm: the same function in both modes
    x, y = torch.rand(40, 16), torch.randint(0, 5, (40,))
    batches = q7_data.loader(x, y, 40)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    loss, _ = train_epoch(model, batches, opt, torch.device('cpu'), label_smoothing=0.2)
    with torch.no_grad():
        logits = model(x)
    assert loss == pytest.approx(F.cross_entropy(logits, y, label_smoothing=0.2).item(), rel=1e-5)
    plain, _ = evaluate(model, batches, torch.device('cpu'))
    assert plain == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert plain != pytest.approx(loss, rel=1e-3)


def test_bfloat16_only_on_a_cpu_that_has_it(tmp_path):
    zen4, older = tmp_path / 'zen4', tmp_path / 'older'
    zen4.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n')
    older.write_text('processor\t: 0\nflags\t\t: fpu avx2 fma avx512f\n')
    assert torch_common.cpu_has_native_bf16(zen4)
    assert not torch_common.cpu_has_native_bf16(older)
    assert not torch_common.cpu_has_native_bf16(tmp_path / 'no-such-file')  # macOS, Windows


def test_precision_auto_and_forced(monkeypatch):
    """'auto' takes bfloat16 only on a CPU with bfloat16 instructions (never
    on a GPU); a precision the user names is used as named; autocast then
    computes the layers in that dtype."""
    cpu, x = torch.device('cpu'), torch.rand(2, 1, 28, 28)
    model = CNN(10, widths=(4, 8, 16), hidden=0).eval()
    monkeypatch.setattr(torch_common, 'cpu_has_native_bf16', lambda: True)
    assert torch_common.choose_precision('auto', cpu) == 'bfloat16'
    with torch.no_grad(), torch_common.autocast(cpu, 'bfloat16'):
        assert model(x).dtype == torch.bfloat16
    assert torch_common.choose_precision('auto', cpu, auto_bfloat16=False) == 'float32'  # the FC network
    assert torch_common.choose_precision('bfloat16', cpu, auto_bfloat16=False) == 'bfloat16'
    assert torch_common.choose_precision('auto', torch.device('cuda')) == 'float32'
    assert torch_common.choose_precision('float32', cpu) == 'float32'
    monkeypatch.setattr(torch_common, 'cpu_has_native_bf16', lambda: False)
    assert torch_common.choose_precision('auto', cpu) == 'float32'
    with torch.no_grad(), torch_common.autocast(cpu, 'float32'):
        assert model(x).dtype == torch.float32
    assert torch_common.choose_precision('bfloat16', cpu) == 'bfloat16'
    with pytest.raises(UsageError, match='precision'):
        torch_common.choose_precision('half', cpu)


def test_an_explicit_precision_is_used_for_every_part(nist36_dir, tmp_path):
    """--precision bfloat16 is kept even for the FC network, which 'auto'
    leaves in float32."""
    out = tmp_path / 'out'
    run_script('run_q7_1.py', 'fc_nist36', 'cnn_nist36', '--quick', '--precision', 'bfloat16',
               '--data-dir', nist36_dir, '--out', out)
    for part in ('fc_nist36', 'cnn_nist36'):
        assert json.loads((out / part / 'metrics.json').read_text())['precision'] == 'bfloat16'


def test_fc_matches_the_numpy_network():
    """The PyTorch FC network computes what Q3's numpy network computes."""
    model = FCNet()
    assert model(torch.rand(4, 1024)).shape == (4, 36)
    params = {'Wlayer1': model.hidden.weight.detach().numpy().T.astype(np.float64),
              'blayer1': model.hidden.bias.detach().numpy().astype(np.float64),
              'Woutput': model.output.weight.detach().numpy().T.astype(np.float64),
              'boutput': model.output.bias.detach().numpy().astype(np.float64)}
    x = np.random.default_rng(0).random((4, 1024))
    numpy_probs = network.network_forward(numpy_nn, x, params, network.classifier_layers(numpy_nn))
    torch_probs = torch.softmax(model(torch.tensor(x, dtype=torch.float32)), 1).detach().numpy()
    assert np.allclose(numpy_probs, torch_probs, atol=1e-5)


# ----------------------------------------------------------------------------
# EMNIST orientation and labels
# ----------------------------------------------------------------------------
def test_emnist_loader_turns_images_upright(tmp_path):
    write_emnist(tmp_path, per_class=1)
    splits, classes = q7_data.emnist(tmp_path)
    assert classes == EMNIST_CLASSES
    x, y = splits['train']
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32 and x.max() == 1.0
    l_image = x[list(y).index(EMNIST_CLASSES.index('L')), 0]
    # upright L: ink down the left and along the bottom, none top-right
    assert l_image[5:23, 5:8].mean() > 0.9 and l_image[20:23, 5:23].mean() > 0.9
    assert l_image[:12, 14:].max() == 0


def test_crops_for_the_emnist_cnn_are_framed_like_emnist():
    import q4
    mask = nist_look(glyph('L', stroke=3)) < 0.5
    out = q4.prepare_crop(mask, q4.EMNIST_CROP)
    assert out.shape == (28, 28)
    img = 1 - out                                # ink high, as the network sees it
    assert img.max() == pytest.approx(1.0, abs=0.05)
    rows, cols = np.nonzero(img > 0.5)
    # the glyph's ink box is 22 x 22 pixels, centred at 13.5, as in EMNIST
    assert rows.max() - rows.min() + 1 == pytest.approx(22, abs=1)
    assert cols.max() - cols.min() + 1 == pytest.approx(22, abs=1)
    assert (rows.max() + rows.min()) / 2 == pytest.approx(13.5, abs=1)
    assert img[3:25, 3:7].mean() > 0.5 and img[21:25, 3:25].mean() > 0.5   # left and bottom strokes
    assert img[3:14, 14:25].max() < 0.1                                     # top right is empty
    assert (q4.prepare_crop(np.zeros((5, 5), bool), q4.EMNIST_CROP) == 1).all()   # blank stays blank


def test_lower_case_classes_count_as_upper_case():
    assert [emnist_ocr.class_to_char(c) for c in 'a7Lt'] == ['A', '7', 'L', 'T']


def test_emnist_model_reads_an_upright_L_not_a_mirrored_or_transposed_one(tmp_path):
    """End to end: train on EMNIST files (stored transposed), then read
    crops framed as the Q4 plug-in asks (classify.crop_format). Mirror and
    transpose are other classes, so any orientation slip changes the answer."""
    write_emnist(tmp_path / 'data')
    run_script('run_q7_1.py', 'cnn_emnist', '--quick', '--epochs', 8, '--batch-size', 16,
               '--data-dir', tmp_path / 'data', '--out', tmp_path / 'out')
    classify = emnist_ocr.load_classifier(tmp_path / 'out' / 'cnn_emnist' / 'model.pt')
    import q4
    crops = np.stack([q4.prepare_crop(nist_look(glyph(kind)) < 0.5, classify.crop_format)
                      for kind in GLYPH_CLASSES])
    assert classify(crops) == ['L', 'J', 'F', 'T']


def test_emnist_classifier_needs_the_emnist_model(tmp_path):
    with pytest.raises(UsageError, match='run_q7_1.py cnn_emnist'):
        emnist_ocr.load_classifier(tmp_path / 'missing.pt')
    model = FCNet()
    torch.save({'state_dict': model.state_dict(), 'config': model.config, 'classes': [],
                'part': 'fc_nist36'}, tmp_path / 'fc.pt')
    with pytest.raises(UsageError, match='not the EMNIST CNN'):
        emnist_ocr.load_classifier(tmp_path / 'fc.pt')


# ----------------------------------------------------------------------------
# Loaders
# ----------------------------------------------------------------------------
def test_cifar10_reader_layout(tmp_path):
    write_cifar10(tmp_path)
    splits, classes = q7_data.cifar10(tmp_path)
    x, y = splits['train']
    assert x.shape == (100, 3, 32, 32) and len(classes) == 10
    assert x[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]    # red stays red, top-left stays top-left
    assert splits['test'][0].shape == (20, 3, 32, 32)


def test_nist36_images_are_upright_with_ink_high(tmp_path):
    write_nist36(tmp_path)
    splits, classes = q7_data.nist36_images(tmp_path)
    x, y = splits['train']
    assert x.shape == (108, 1, 32, 32) and len(classes) == 36
    # conftest draws class c as a dark row c; here it is a bright row c
    assert x[0, 0, y[0]].mean() == 1.0 and x[0, 0, (y[0] + 5) % 32].mean() < 0.2


def test_hold_out_is_seeded_disjoint_and_sized():
    x, y = torch.arange(120).float().view(120, 1, 1, 1), torch.arange(120) % 10
    (xt, yt), (xv, yv) = q7_data.hold_out(x, y, 1 / 12, seed=0)
    assert len(xv) == len(yv) == 10 and len(xt) == len(yt) == 110
    train, valid = set(xt.flatten().tolist()), set(xv.flatten().tolist())
    assert not train & valid and train | valid == set(range(120))      # disjoint, nothing lost
    assert torch.equal(yv, xv.flatten().long() % 10)                   # labels travel with images
    assert torch.equal(q7_data.hold_out(x, y, 1 / 12, seed=0)[1][0], xv)       # seeded
    assert not torch.equal(q7_data.hold_out(x, y, 1 / 12, seed=1)[1][0], xv)   # by the seed
    # a tiny set still keeps one example on each side
    (xt, _), (xv, _) = q7_data.hold_out(x[:2], y[:2], 0.01, seed=0)
    assert len(xt) == len(xv) == 1
    with pytest.raises(UsageError, match='cannot be split'):
        q7_data.hold_out(x[:1], y[:1], 0.5, seed=0)


def images_of(x):
    """Each image of x (N, C, H, W) as bytes, to compare sets of images."""
    return [row.numpy().tobytes() for row in x]


def test_mnist_validation_comes_from_train_and_test_is_scored_once(tmp_path, monkeypatch):
    """The curves (the only thing choices are made on) follow a validation
    split held out of MNIST's training file; the test file is scored once,
    after training. Spies on the script's fit and evaluate record both."""
    write_mnist(tmp_path / 'data', per_class=12)
    files, _ = q7_data.mnist(tmp_path / 'data')
    calls, valid_loader = [], []

    def spy_fit(model, train_loader, eval_loaders, *args, **kwargs):
        calls.append(('fit', {name: loader.dataset.tensors[0] for name, loader in eval_loaders.items()},
                      train_loader.dataset.tensors[0]))
        valid_loader.append(eval_loaders['valid'])
        return real_fit(model, train_loader, eval_loaders, *args, **kwargs)

    def spy_evaluate(model, loader, device, precision):
        calls.append(('evaluate', loader.dataset.tensors[0]))
        return real_evaluate(model, loader, device, precision)

    real_fit, real_evaluate = run_q7_1.fit, run_q7_1.evaluate
    monkeypatch.setattr(run_q7_1, 'fit', spy_fit)
    monkeypatch.setattr(run_q7_1, 'evaluate', spy_evaluate)
    monkeypatch.setattr(sys, 'argv', ['run_q7_1.py', 'cnn_mnist', '--quick', '--batch-size', '16',
                                      '--data-dir', str(tmp_path / 'data'), '--out', str(tmp_path / 'out')])
    run_q7_1.main()

    (_, curves, x_train), *finals = calls
    assert list(curves) == ['valid']
    train_file, test_file = images_of(files['train'][0]), images_of(files['test'][0])
    valid, train = images_of(curves['valid']), images_of(x_train)
    assert len(valid) == round(120 / 12) and len(train) == 110
    assert sorted(valid + train) == sorted(train_file)           # held out of train, disjoint
    assert not set(valid) & set(test_file)
    # after training: the training sample and the test file, the test file
    # exactly once; the validation numbers are those of the last epoch ...
    assert [c[0] for c in finals] == ['evaluate'] * 2
    assert sum(images_of(x) == test_file for _, x in finals) == 1
    metrics = json.loads((tmp_path / 'out' / 'cnn_mnist' / 'metrics.json').read_text())
    assert (metrics['valid_loss'], metrics['valid_acc']) == (metrics['history']['valid_loss'][-1],
                                                             metrics['history']['valid_acc'][-1])
    # ... which are the saved model's on the validation split
    ckpt = torch.load(tmp_path / 'out' / 'cnn_mnist' / 'model.pt', weights_only=True)
    model = build_model(ckpt['config'])
    model.load_state_dict(ckpt['state_dict'])
    # on the device the script trained on: a GPU's convolutions (TF32) differ from the CPU's
    # in the fifth digit
    device = torch_common.pick_device()
    loss, acc = real_evaluate(model.to(device), valid_loader[0], device, metrics['precision'])
    assert acc == metrics['valid_acc'] and loss == pytest.approx(metrics['valid_loss'], rel=1e-5)

    assert metrics['valid_split'] == {'source': 'held out of the training set', 'fraction': 1 / 12,
                                      'size': 10, 'of': 120, 'seed': run_q7_1.VALID_SEED}
    assert metrics['split_sizes'] == {'train': 110, 'valid': 10, 'test': 120}
    assert {k for k in metrics['history'] if k != 'seconds'} == {
        'train_loss', 'train_acc', 'valid_loss', 'valid_acc'}


def test_random_affine_identity_and_shape():
    x = torch.rand(6, 1, 28, 28)
    assert torch.allclose(q7_data.random_affine(x, 0, 0, 0, 0), x, atol=1e-5)
    assert q7_data.random_affine(x).shape == x.shape
    assert q7_data.random_shift_flip(torch.rand(4, 3, 32, 32)).shape == (4, 3, 32, 32)


@pytest.mark.parametrize('loader,hint', [
    (q7_data.mnist, 'get_data.sh mnist'), (q7_data.emnist, 'get_data.sh emnist'),
    (q7_data.nist36_images, 'get_data.sh nist36'), (q7_data.cifar10, 'not in the offline mirror')])
def test_missing_dataset_is_a_clear_error(tmp_path, loader, hint):
    with pytest.raises(UsageError, match=hint):
        loader(tmp_path)



def test_idx_reader_round_trip_and_damaged_files(tmp_path):
    """read_idx gives back what write_idx stored, and names a damaged file."""
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_idx(tmp_path / 'ok', images)
    np.testing.assert_array_equal(q7_data.read_idx(tmp_path / 'ok', 'fix'), images)
    whole = (tmp_path / 'ok').read_bytes()
    damaged = {'short': whole[:-5], 'padded': whole + b'\0', 'tiny': whole[:3],
               'not_idx': b'\x89PNG' + whole[4:], 'labels_as_int32': b'\0\0\x0c\x01' + whole[4:]}
    for name, raw in damaged.items():
        (tmp_path / name).write_bytes(raw)
        before = hashlib.sha256(raw).hexdigest()
        with pytest.raises(UsageError, match=f'{name}.*fix') as e:
            q7_data.read_idx(tmp_path / name, 'fix')
        assert 'IDX' in str(e.value) or 'cut short' in str(e.value)
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == before   # left as it was


def test_mnist_with_labels_for_other_images_is_a_clear_error(tmp_path):
    write_mnist(tmp_path)
    raw = tmp_path / 'MNIST' / 'raw'
    write_idx(raw / 't10k-labels-idx1-ubyte', np.zeros(3))      # 3 labels for 40 images
    with pytest.raises(UsageError, match='MNIST test'):
        q7_data.mnist(tmp_path)


def test_loading_mnist_does_not_import_torchvision(tmp_path):
    """torchvision's import costs seconds (it loads torch._dynamo); the IDX
    datasets do not need it."""
    write_mnist(tmp_path)
    code = ('import sys, q7_data; q7_data.mnist(sys.argv[1]); q7_data.emnist; '
            'print("torchvision" in sys.modules)')
    proc = subprocess.run([sys.executable, '-c', code, str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT / 'python', timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'False'

# ----------------------------------------------------------------------------
# The script
# ----------------------------------------------------------------------------
def check_part_outputs(out, part):
    """The files and metrics a finished --quick run of ``part`` leaves in ``out``."""
    folder = out / part
    for name in ('accuracy.png', 'loss.png', 'model.pt', 'metrics.json'):
        assert (folder / name).exists(), f'{part}: {name}'
    metrics = json.loads((folder / 'metrics.json').read_text())
    for key in ('train_acc', 'test_acc', 'epochs', 'seed', 'seconds', 'trainable_params'):
        assert key in metrics, f'{part}: {key}'
    assert 'valid_acc' in metrics and 'valid_acc' in metrics['history']
    assert not any(k.startswith('test') for k in metrics['history'])     # curves never show test
    assert ('size' in metrics['valid_split']) == (not part.endswith('nist36'))  # NIST36 has its own
    assert 0 <= metrics['test_acc'] <= 1 and metrics['epochs'] == 1
    assert (folder / 'samples.png').exists() == part.startswith('cnn')
    assert json.loads((out / 'summary.json').read_text())[part]['test_acc'] == metrics['test_acc']


def test_quick_all_runs_every_part_and_skips_missing_cifar10(all_data, tmp_path):
    """One process for the four mirrored parts (the script starts slowly);
    CIFAR-10's files are removed first, so `all` must skip it and say why."""
    for f in (all_data / 'cifar-10-batches-py').iterdir():
        f.unlink()
    (all_data / 'cifar-10-batches-py').rmdir()
    out = tmp_path / 'out'
    proc = run_script('run_q7_1.py', 'all', '--quick', '--data-dir', all_data, '--out', out)
    cnn_precision = 'bfloat16' if torch_common.cpu_has_native_bf16() and not torch.cuda.is_available() else 'float32'
    for part in ('fc_nist36', 'cnn_mnist', 'cnn_nist36', 'cnn_emnist'):
        check_part_outputs(out, part)
        metrics = json.loads((out / part / 'metrics.json').read_text())
        # --precision auto: bfloat16 where the CPU has it, never for the FC network
        assert metrics['precision'] == ('float32' if part == 'fc_nist36' else cnn_precision)
    assert 'skipping cnn_cifar10' in proc.stdout and '--download' in proc.stdout
    summary = json.loads((out / 'summary.json').read_text())
    assert 'skipped' in summary['cnn_cifar10'] and not (out / 'cnn_cifar10').exists()


def test_quick_cifar10_on_a_synthetic_batch_file(all_data, tmp_path):
    run_script('run_q7_1.py', 'cnn_cifar10', '--quick', '--data-dir', all_data, '--out', tmp_path / 'out')
    check_part_outputs(tmp_path / 'out', 'cnn_cifar10')


def test_single_part_with_missing_data_exits_with_message(tmp_path):
    proc = run_script('run_q7_1.py', 'cnn_cifar10', '--data-dir', tmp_path, '--out', tmp_path / 'out',
                      check=False)
    assert proc.returncode != 0
    assert 'error: CIFAR-10 not found' in proc.stderr and 'Traceback' not in proc.stderr
    assert not (tmp_path / 'out' / 'cnn_cifar10').exists()


def test_emnist_checkpoint_with_a_wrong_config_is_a_clear_error(tmp_path):
    """A model.pt of the EMNIST CNN whose config does not fit its weights."""
    model = FCNet()
    torch.save({'state_dict': model.state_dict(), 'config': {'kind': 'cnn', 'hidden': 7}, 'classes': ['A'],
                'part': 'cnn_emnist'}, tmp_path / 'bad.pt')
    with pytest.raises(UsageError, match='not a usable EMNIST CNN checkpoint'):
        emnist_ocr.load_classifier(tmp_path / 'bad.pt')
