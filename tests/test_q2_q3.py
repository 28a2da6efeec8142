"""run_q2.py and run_q3.py end to end on tiny synthetic data."""
import json
import pickle

import numpy as np

import nn
from network import classifier_layers, predict
from conftest import ROOT, run_script
from data import load_nist36


def test_run_q2_gradient_check_passes(tmp_path):
    proc = run_script('run_q2.py', '--quick', '--out', tmp_path / 'q2')
    metrics = json.loads((tmp_path / 'q2' / 'metrics.json').read_text())
    assert metrics['gradcheck_pass'] and metrics['gradcheck_worst'] < 1e-6
    assert set(metrics['gradcheck_max_rel_error']) == {'Wlayer1', 'blayer1', 'Woutput', 'boutput'}
    assert 'max relative error' in proc.stdout


def test_run_q3_quick_writes_documented_outputs(tmp_path, nist36_dir):
    out = tmp_path / 'q3'
    # from inside python/, as some users run it
    run_script('run_q3.py', '--quick', '--data-dir', nist36_dir, '--out', out, cwd=ROOT / 'python')
    metrics = json.loads((out / 'metrics.json').read_text())
    for key in ('best_lr', 'valid_acc', 'test_acc', 'seconds', 'epochs', 'seed', 'per_lr',
                'top_confused_pairs'):
        assert key in metrics, key
    assert len(metrics['per_lr']) == 3 and len(metrics['top_confused_pairs']) == 5
    for name in ('accuracy_all.png', 'loss_all.png', 'weights_layer1.png', 'weights_layer2.png',
                 'confusion_test.png'):
        assert (out / name).stat().st_size > 1000, name
    assert len(list(out.glob('accuracy_lr*.png'))) == 3 and len(list(out.glob('loss_lr*.png'))) == 3

    with open(out / 'weights.pickle', 'rb') as f:
        params = pickle.load(f)
    assert set(params) == {'Wlayer1', 'blayer1', 'Woutput', 'boutput'}
    xv, yv = load_nist36('valid', nist36_dir, dtype=np.float32)
    _, acc = nn.compute_loss_and_acc(yv, predict(nn, xv, params, classifier_layers(nn)))
    assert acc == metrics['valid_acc']


def test_run_q3_is_reproducible(tmp_path, nist36_dir):
    for name in ('a', 'b'):
        run_script('run_q3.py', '--quick', '--data-dir', nist36_dir, '--out', tmp_path / name)
    a, b = (json.loads((tmp_path / n / 'metrics.json').read_text()) for n in 'ab')
    strip = lambda m: {lr: {k: v for k, v in run.items() if k != 'seconds'} for lr, run in m['per_lr'].items()}
    assert strip(a) == strip(b)
    assert a['top_confused_pairs'] == b['top_confused_pairs']


def test_run_q3_missing_data_is_a_clear_error(tmp_path):
    proc = run_script('run_q3.py', '--quick', '--data-dir', tmp_path, '--out', tmp_path / 'o', check=False)
    assert proc.returncode != 0
    assert 'get_data.sh' in proc.stderr and 'Traceback' not in proc.stderr


def test_confusion_pairs_by_hand():
    import run_q3
    true = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([1, 0, 0, 0, 1, 2])
    C = run_q3.confusion_matrix(true, pred, 36)
    assert C[0, 1] == 1 and C[1, 0] == 2 and C[2, 2] == 1
    top = run_q3.most_confused_pairs(C, k=1)[0]
    assert top['pair'] == 'A/B' and top['count'] == 3 and top['A->B'] == 1 and top['B->A'] == 2
