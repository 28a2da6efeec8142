"""Every bad input is refused with one clear line, nothing is made up, and no
file of the user's is changed (checked by sha256).

Each test is one case of the issue "Nothing lost, nothing cryptic". Script
cases run the script's main() in this process, as `python python/<script>`
would (util.run_main turns a UsageError into "error: ..." and exit code 2),
which saves a second of start-up per case; a few run as real subprocesses.
"""
import hashlib
import importlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.io
import torch

import util
from conftest import ROOT, run_script, write_nist36
from util import UsageError


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_main(script, *args, monkeypatch, capsys):
    """``python python/<script>.py ARGS`` in this process: (exit code, stdout, stderr)."""
    module = importlib.import_module(script)
    monkeypatch.setattr(sys, 'argv', [f'{script}.py', *map(str, args)])
    try:
        util.run_main(module.main)
        code = 0
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(code, err, *phrases):
    """Exit code 2 and a single 'error: ...' line naming the problem."""
    assert code == 2, err
    assert 'Traceback' not in err
    errors = [line for line in err.splitlines() if line.startswith('error: ')]
    assert len(errors) == 1, err
    for phrase in phrases:
        assert phrase in errors[0], errors[0]


@pytest.fixture
def refuse(monkeypatch, capsys, tmp_path):
    """refuse(script, *args, phrases=[...]): the script exits 2 with one
    error line holding every phrase, and leaves no output folder behind."""
    def check(script, *args, phrases=()):
        code, _, err = run_main(script, *args, monkeypatch=monkeypatch, capsys=capsys)
        assert_refused(code, err, *phrases)
        return err
    return check


# ----------------------------------------------------------------------------
# Bad settings (issue item 5)
# ----------------------------------------------------------------------------
@pytest.mark.parametrize('script, args, phrase', [
    ('run_q3', ['--epochs', '-3'], 'argument --epochs: must be at least 1, got -3'),
    ('run_q3', ['--lr', '0'], 'argument --lr: must be above 0, got 0'),
    ('run_q3', ['--lr', '-1'], 'argument --lr: must be above 0, got -1'),
    ('run_q3', ['--lr', 'nan'], "'nan' is not a finite number"),
    ('run_q3', ['--batch-size', '0'], 'argument --batch-size: must be at least 1'),
    ('run_q3', ['--hidden', '0'], 'argument --hidden: must be at least 1'),
    ('run_q3', ['--seed', '-1'], 'argument --seed: must be from 0 to'),
    ('run_q3', ['--epoch', '3'], 'unrecognized arguments: --epoch 3'),  # no abbreviations
    ('run_q2', ['--epochs', '0'], 'argument --epochs: must be at least 1, got 0'),
    ('run_q5', ['--epochs', '-1'], 'argument --epochs: must be at least 1, got -1'),
    ('run_q5', ['--epochs', 'ten'], "'ten' is not a whole number"),
    ('run_q6', ['--components', '0'], 'argument --components: must be at least 1'),
    ('run_q7_1', ['fc_nist36', '--lr', '0'], 'argument --lr: must be above 0, got 0'),
    ('run_q7_2', ['--unfreeze-epochs', '-1'], 'argument --unfreeze-epochs: must be at least 0'),
    ('run_q7_2', ['--weight-decay', '-1'], 'argument --weight-decay: must be at least 0.0'),
    ('run_q7_1', ['cnn_mnist', '--precision', 'half'], "argument --precision: invalid choice: 'half'"),
    ('run_q7_2', ['--precision', 'bf16'], "argument --precision: invalid choice: 'bf16'"),
    ('make_report', ['--update'], 'unrecognized arguments: --update'),
    ('q4_failures', ['--ou', 'x'], 'unrecognized arguments: --ou'),
])
def test_bad_settings_are_refused_before_any_work(refuse, tmp_path, script, args, phrase):
    out = tmp_path / 'out'
    refuse(script, *args, '--out', out, phrases=[phrase, '--help'])
    assert not out.exists()  # nothing trained, nothing written (Q5 used to save its weights first)


def test_batch_larger_than_the_training_set_is_refused(refuse, nist36_dir, tmp_path):
    refuse('run_q3', '--batch-size', 100000, '--data-dir', nist36_dir, '--out', tmp_path / 'out',
           phrases=['--batch-size 100000 is more than the 108 training examples; choose at most 108'])
    refuse('run_q7_1', 'fc_nist36', '--quick', '--batch-size', 5000, '--data-dir', nist36_dir,
           '--out', tmp_path / 'out', phrases=['--batch-size 5000 is more than the 108'])
    assert not (tmp_path / 'out').exists()


def test_a_default_batch_larger_than_tiny_data_is_said_and_shrunk(capsys):
    assert util.fit_batch_size(64, 34, given=False) == 34
    assert 'default --batch-size 64 is more than the 34' in capsys.readouterr().out
    assert util.fit_batch_size(32, 108, given=True) == 32


@pytest.mark.parametrize('script, argv, setting, expected', [
    ('run_q2', ['--quick', '--epochs', '3'], 'epochs', 3),
    ('run_q2', ['--quick'], 'epochs', 20),
    ('run_q2', [], 'epochs', 500),
    ('run_q3', ['--quick', '--epochs', '7'], 'epochs', 7),
    ('run_q5', ['--quick', '--epochs', '4'], 'epochs', 4),
    ('run_q7_2', ['--quick', '--epochs', '5'], 'epochs', 5),
    ('run_q7_2', ['--quick', '--scratch-epochs', '9'], 'scratch_epochs', 9),
    ('run_q7_2', ['--quick', '--unfreeze-epochs', '3'], 'unfreeze_epochs', 3),
])
def test_quick_never_replaces_an_explicit_flag(monkeypatch, script, argv, setting, expected):
    """Read off each script's own parser, stopped right after parsing."""
    module = importlib.import_module(script)
    seen = {}
    original = util.Parser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        seen['args'] = original(self, args, namespace)
        raise SystemExit(0)
    monkeypatch.setattr(util.Parser, 'parse_args', parse_then_stop)
    monkeypatch.setattr(sys, 'argv', [f'{script}.py', *argv])
    with pytest.raises(SystemExit):
        (module.parse_args if script == 'run_q7_2' else module.main)()
    assert getattr(seen['args'], setting) == expected


def test_q7_1_quick_keeps_explicit_epochs_and_lr(nist36_dir, tmp_path):
    run_script('run_q7_1.py', 'fc_nist36', '--quick', '--epochs', 2, '--lr', 0.5,
               '--data-dir', nist36_dir, '--out', tmp_path / 'out')
    metrics = json.loads((tmp_path / 'out' / 'fc_nist36' / 'metrics.json').read_text())
    assert metrics['epochs'] == 2 and metrics['lr'] == 0.5


def test_help_keeps_the_docstrings_lines(monkeypatch, capsys):
    for script, line in (('run_q3', '  weights.pickle, metrics.json'),
                         ('run_q5', '  loss.png             Q5.2 training loss per epoch'),
                         ('run_q6', '  metrics.json               projection size'),
                         ('run_q7_1', '  fc_nist36    Q7.1.1')):
        code, out, _ = run_main(script, '--help', monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0 and line in out, script


def test_a_diverging_run_stops_with_a_clear_error():
    with pytest.raises(UsageError, match='the loss is nan after epoch 3 with lr 10; lower --lr'):
        util.check_loss(float('nan'), 3, 10.0)


# ----------------------------------------------------------------------------
# Bad data (item 6)
# ----------------------------------------------------------------------------
def spoil(folder, split, change):
    """Rewrite one synthetic NIST36 split with change(x, y) -> (x, y)."""
    path = folder / f'nist36_{split}.mat'
    mat = scipy.io.loadmat(path)
    x, y = change(mat[f'{split}_data'].astype(float), mat[f'{split}_labels'].astype(float))
    scipy.io.savemat(path, {f'{split}_data': x, f'{split}_labels': y})
    return path


def with_nan(x, y):
    x[3, 5] = np.nan
    return x, y


@pytest.mark.parametrize('change, phrase', [
    (with_nan, 'has 1 pixel values that are NaN or infinite'),
    (lambda x, y: (x * 255, y), 'outside 0 to 1 (0-255 pixels? divide them by 255)'),
    (lambda x, y: (x, y * 2), 'labels must be one-hot'),
    (lambda x, y: (x, np.roll(y, 1, axis=1) + y), 'labels must be one-hot'),
    (lambda x, y: (x[:0], y[:0]), 'holds no images'),
], ids=['nan', '0-255', 'labels-2', 'two-labels', 'empty'])
def test_bad_nist36_data_is_refused_and_left_as_it_is(refuse, tmp_path, change, phrase):
    data = write_nist36(tmp_path / 'data')
    path = spoil(data, 'train', change)
    before = sha(path)
    for script in ('run_q3', 'run_q5'):
        refuse(script, '--quick', '--data-dir', data, '--out', tmp_path / 'out',
               phrases=[str(path), phrase, 'get_data.sh nist36'])
    assert sha(path) == before and not (tmp_path / 'out').exists()


def test_bad_data_in_a_real_subprocess(tmp_path):
    data = write_nist36(tmp_path / 'data')
    spoil(data, 'valid', with_nan)
    proc = run_script('run_q5.py', '--quick', '--data-dir', data, '--out', tmp_path / 'o', check=False)
    assert_refused(proc.returncode, proc.stderr, 'NaN')
    assert not (tmp_path / 'o').exists()


def test_torch_labels_outside_the_classes_are_refused():
    x, y = torch.zeros(4, 1, 28, 28), torch.tensor([0, 1, 2, 200])
    with pytest.raises(UsageError, match='labels from 0 to 200, but its 10 classes are 0 to 9'):
        util.check_class_indices(x, y, 10, 'the MNIST train split', 'fetch it again')
    with pytest.raises(UsageError, match='4 images but 3 labels'):
        util.check_class_indices(x, y[:3], 10, 'the MNIST train split', 'fetch it again')


def test_too_few_images_for_the_figure_is_refused_before_training(refuse, tmp_path):
    data = write_nist36(tmp_path / 'data', per_class=1)  # the figures show two of each class
    refuse('run_q5', '--quick', '--data-dir', data, '--out', tmp_path / 'out', phrases=["of class 'A'"])
    assert not (tmp_path / 'out').exists()


# ----------------------------------------------------------------------------
# Weights and JSON (items 6 and 8)
# ----------------------------------------------------------------------------
SHAPES = {'Wa': (3, 2), 'ba': (2,)}


@pytest.mark.parametrize('content, phrase', [
    ({'Wa': np.full((3, 2), np.nan), 'ba': np.zeros(2)}, 'Wa holds NaN or infinite values'),
    ({'Wa': [[0, 0]] * 3, 'ba': np.zeros(2)}, 'Wa is a list, not a numpy array'),
    ({'Wa': np.array([['a', 'b']] * 3), 'ba': np.zeros(2)}, 'Wa is a ndarray, not a numpy array of numbers'),
    ([1, 2], 'holds a list, not a params dict'),
], ids=['nan', 'list', 'strings', 'not-a-dict'])
def test_bad_weights_are_refused(tmp_path, content, phrase):
    path = tmp_path / 'w.pickle'
    with open(path, 'wb') as f:
        pickle.dump(content, f)
    before = sha(path)
    with pytest.raises(UsageError, match=re.escape(phrase)):
        util.load_params(path, SHAPES, made_by='run_q3.py')
    assert sha(path) == before


def test_weights_that_are_a_folder_or_junk(tmp_path, refuse):
    with pytest.raises(UsageError, match='is a folder; pass the file itself'):
        util.load_params(tmp_path, SHAPES)
    junk = tmp_path / 'junk.pickle'
    junk.write_bytes(b'\x80\x05K\x07' + os.urandom(64))
    with pytest.raises(UsageError, match=r'not a readable pickle \(.*\); check the path'):
        util.load_params(junk, SHAPES)
    refuse('run_q6', '--weights', tmp_path, '--out', tmp_path / 'q6', phrases=['is a folder'])


def photo(folder):
    """A small white page to read (the sample photos are not fetched in CI)."""
    from PIL import Image
    path = folder / 'page.png'
    Image.new('RGB', (64, 48), 'white').save(path)
    return path


def test_nan_weights_stop_q4_instead_of_reading_every_letter_as_A(tmp_path):
    import q4
    path = tmp_path / 'nan.pickle'
    util.save_params(path, {k: np.full(s, np.nan) for k, s in q4.MLP_SHAPES.items()})
    before = sha(path)
    proc = run_script('run_q4.py', photo(tmp_path), '--weights', path, '--out', tmp_path / 'out', check=False)
    assert_refused(proc.returncode, proc.stderr, 'NaN')
    assert sha(path) == before and not (tmp_path / 'out').exists()


@pytest.mark.parametrize('text, phrase', [
    ('{"01_list": ["A"],}', 'is not valid JSON (line 1, column 19'),
    ('\xff\xfe junk', 'as JSON text'),
], ids=['trailing-comma', 'junk'])
def test_malformed_json_is_one_line(tmp_path, text, phrase):
    path = tmp_path / 'truth.json'
    path.write_text(text, encoding='latin-1')
    before = sha(path)
    with pytest.raises(UsageError, match=re.escape(phrase)):
        util.load_json(path)
    with pytest.raises(UsageError, match='is a folder'):
        util.load_json(tmp_path)
    assert sha(path) == before


def test_malformed_ground_truth_in_run_q4(tmp_path):
    path = tmp_path / 'truth.json'
    path.write_text('{"01_list": ["A"')
    before = sha(path)
    proc = run_script('run_q4.py', photo(tmp_path), '--ground-truth', path, '--out', tmp_path / 'out',
                      check=False)
    assert_refused(proc.returncode, proc.stderr, 'is not valid JSON')
    assert sha(path) == before


def test_junk_model_file_names_the_problem_not_a_number(tmp_path):
    from torch_common import load_checkpoint
    path = tmp_path / 'model.pt'
    for junk in (b'\x80\x02' + bytes(range(200)), os.urandom(5000), b'hello, this is text'):
        path.write_bytes(junk)
        with pytest.raises(UsageError) as e:
            load_checkpoint(path, 'run_q7_1.py cnn_emnist')
        message = str(e.value)
        assert 'is not a PyTorch file of plain tensors' in message and 'run_q7_1.py cnn_emnist' in message
        assert '\n' not in message and 'weights_only' not in message


def test_checkpoint_with_nan_weights_is_refused(tmp_path):
    from torch_common import load_checkpoint
    path = tmp_path / 'model.pt'
    torch.save({'state_dict': {'w': torch.full((2,), float('nan'))}}, path)
    with pytest.raises(UsageError, match='w holds NaN'):
        load_checkpoint(path, 'run_q7_1.py')


# ----------------------------------------------------------------------------
# Output folders (items 7, 8, 9)
# ----------------------------------------------------------------------------
def users_folder(tmp_path):
    folder = tmp_path / 'mine'
    folder.mkdir()
    (folder / 'metrics.json').write_text('{"my": "own numbers"}')
    (folder / 'notes.txt').write_text('my notes')
    return folder, {p.name: sha(p) for p in folder.iterdir()}


def test_force_never_replaces_a_users_file_nor_claims_the_folder(refuse, tmp_path, capsys):
    folder, before = users_folder(tmp_path)
    err = refuse('run_q2', '--quick', '--out', folder, '--force',
                 phrases=['metrics.json already exists and is not this project\'s', 'never replaces'])
    assert {p.name: sha(p) for p in folder.iterdir() if p.name in before} == before
    assert not (folder / util.MARKER).exists()
    # what --force did write stays beside the user's files; a later run asks again
    assert (folder / 'toy_training.png').exists() and 'error' in err
    refuse('run_q2', '--quick', '--out', folder, phrases=['--force'])
    assert {p.name: sha(p) for p in folder.iterdir() if p.name in before} == before


def test_force_writes_beside_the_users_files(tmp_path, monkeypatch, capsys):
    folder = tmp_path / 'mine'
    folder.mkdir()
    (folder / 'notes.txt').write_text('my notes')
    before = sha(folder / 'notes.txt')
    code, out, _ = run_main('run_q2', '--quick', '--out', folder, '--force', monkeypatch=monkeypatch,
                            capsys=capsys)
    assert code == 0 and 'none of them is replaced' in out
    assert (folder / 'metrics.json').exists() and sha(folder / 'notes.txt') == before
    assert not (folder / util.MARKER).exists()


def test_a_link_in_the_output_is_not_written_through(tmp_path):
    out = util.prepare_output_dir(tmp_path / 'out')
    target = tmp_path / 'precious.json'
    target.write_text('{}')
    before = sha(target)
    (out / 'metrics.json').symlink_to(target)
    with pytest.raises(UsageError, match='is a link'):
        util.save_json(out / 'metrics.json', {'a': 1})
    assert sha(target) == before


@pytest.mark.parametrize('where, phrase', [
    ('under-a-file', 'is a file, not a folder'),
    ('proc', 'choose a folder you can write to'),
], ids=['under-a-file', 'unwritable'])
def test_out_that_cannot_be_made(refuse, tmp_path, where, phrase):
    blocker = tmp_path / 'file'
    blocker.write_text('mine')
    before = sha(blocker)
    out = blocker / 'q2' if where == 'under-a-file' else '/proc/hw5-test/q2'
    refuse('run_q2', '--quick', '--out', out, phrases=['cannot create --out', phrase])
    assert sha(blocker) == before


def test_a_failed_run_leaves_no_empty_output_folder(refuse, tmp_path):
    out = tmp_path / 'new' / 'q7_1'
    refuse('run_q7_1', 'all', '--quick', '--data-dir', tmp_path / 'nodata', '--out', out,
           phrases=['get_data.sh nist36'])
    assert not (tmp_path / 'new').exists()


def test_run_main_tidies_only_folders_it_made_and_left_empty(tmp_path, capsys):
    kept = util.prepare_output_dir(tmp_path / 'kept')
    (kept / 'metrics.json').write_text('{}')

    def fails():
        util.prepare_output_dir(tmp_path / 'a' / 'b')
        raise UsageError('something the user can fix')
    with pytest.raises(SystemExit):
        util.run_main(fails)
    assert not (tmp_path / 'a').exists() and (kept / 'metrics.json').exists()


# ----------------------------------------------------------------------------
# The report (items 2 and 7)
# ----------------------------------------------------------------------------
def test_readme_table_never_makes_up_numbers(tmp_path):
    import make_report
    empty = make_report.readme_table(tmp_path)
    assert '0.0e+00' not in empty and '0.00 dB' not in empty and ' 0%' not in empty
    assert empty.count('not run') == 11
    (tmp_path / 'q5').mkdir()
    (tmp_path / 'q5' / 'metrics.json').write_text('{"valid_psnr": null}')  # a diverged run
    assert '| Q5 autoencoder | valid PSNR – |' in make_report.readme_table(tmp_path)


def test_update_readme_touches_only_the_results_block(tmp_path):
    import make_report
    readme = tmp_path / 'README.md'
    readme.write_text('intro\n<!-- results:start -->\nold\n<!-- results:end -->\noutro\n')
    make_report.update_readme(tmp_path, readme)
    text = readme.read_text()
    assert text.startswith('intro\n') and text.endswith('outro\n') and 'old' not in text
    readme.write_text('no markers')
    with pytest.raises(UsageError, match='no <!-- results:start -->'):
        make_report.update_readme(tmp_path, readme)


def test_report_never_overwrites_a_users_report(refuse, tmp_path, monkeypatch, capsys):
    report = tmp_path / 'REPORT.md'
    report.write_text('# My own report\n')
    before = sha(report)
    refuse('make_report', '--results', tmp_path, phrases=['was not written by make_report.py'])
    assert sha(report) == before
    # its own report it replaces, but not once someone has edited it
    report.unlink()
    assert run_main('make_report', '--results', tmp_path, monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    assert run_main('make_report', '--results', tmp_path, monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    report.write_text(report.read_text() + '\nMy comment.\n')
    before = sha(report)
    refuse('make_report', '--results', tmp_path, phrases=['or was edited since'])
    assert sha(report) == before


@pytest.mark.parametrize('text, phrase', [
    ('{"epochs": 3,', 'q2/metrics.json is not valid JSON'),
    ('{"epochs": 3}', "q2/metrics.json has no 'lr'"),
    ('[1, 2]', 'holds a list, not metrics'),
    ('{"epochs": 1, "lr": 1, "batch_size": 1, "seed": 0, "initial_loss": 1, "final_loss": 1, '
     '"initial_acc": 0, "final_acc": 1, "gradcheck_max_rel_error": [1]}', 'holds a value the report cannot show'),
], ids=['truncated', 'missing-key', 'list', 'wrong-type'])
def test_report_on_malformed_metrics(refuse, tmp_path, text, phrase):
    (tmp_path / 'q2').mkdir()
    path = tmp_path / 'q2' / 'metrics.json'
    path.write_text(text)
    before = sha(path)
    refuse('make_report', '--results', tmp_path, phrases=[phrase])
    assert sha(path) == before and not (tmp_path / 'REPORT.md').exists()


def test_report_on_malformed_timings(refuse, tmp_path):
    (tmp_path / 'timings.tsv').write_text('step\tstatus\tseconds\nq2\tok\n')
    refuse('make_report', '--results', tmp_path, phrases=['timings.tsv line 2'])


# ----------------------------------------------------------------------------
# get_data.sh (items 1, 4, 9), on a tiny mirror and a copy of the scripts
# ----------------------------------------------------------------------------
@pytest.fixture
def fetch(tmp_path):
    """fetch(*parts, mirror=...) runs scripts/get_data.sh of a scratch repo
    (its own data/ and images/) and returns the CompletedProcess."""
    repo = tmp_path / 'repo'
    (repo / 'scripts').mkdir(parents=True)
    shutil.copy(ROOT / 'scripts' / 'get_data.sh', repo / 'scripts')
    (repo / 'python').symlink_to(ROOT / 'python')
    mirror = tmp_path / 'mirror'
    write_nist36(mirror / 'data')
    (mirror / 'images').mkdir()
    for name in ('01_list.jpg', '02_letters.jpg', '03_haiku.jpg', '04_deep.jpg'):
        from PIL import Image
        Image.new('RGB', (40, 30), 'white').save(mirror / 'images' / name, quality=90)
    (tmp_path / 'tmp').mkdir()

    def run(*parts, mirror=mirror):
        env = {**os.environ, 'HW5_MIRROR': str(mirror), 'PYTHON': sys.executable,
               'TMPDIR': str(tmp_path / 'tmp')}
        if mirror is None:
            env.pop('HW5_MIRROR')
        return subprocess.run(['bash', str(repo / 'scripts' / 'get_data.sh'), *parts], env=env,
                              capture_output=True, text=True, timeout=300)
    run.repo, run.mirror, run.tmp = repo, mirror, tmp_path / 'tmp'
    return run


def truncate(path):
    data = path.read_bytes()
    path.unlink()  # the mirror's files are read-only links elsewhere; write a new one
    path.write_bytes(data[:len(data) // 2])


def test_get_data_keeps_a_users_file_and_fetches_only_the_missing_one(fetch):
    data = fetch.repo / 'data'
    data.mkdir()
    mine = data / 'nist36_train.mat'
    shutil.copy(fetch.mirror / 'data' / 'nist36_train.mat', mine)  # a plain file of the user's
    before = sha(mine)
    for extra in ([], ['--force']):
        proc = fetch('nist36', *extra)
        assert proc.returncode == 0, proc.stderr
        assert not mine.is_symlink() and sha(mine) == before
        assert (data / 'nist36_valid.mat').is_symlink() and (data / 'nist36_test.mat').is_symlink()
    # --force fetched again the links it made, and only those
    assert 'nist36: ok (nist36_valid.mat nist36_test.mat)' in proc.stdout
    assert 'kept' in proc.stdout and 'no record of placing it' in proc.stdout


@pytest.mark.parametrize('name', ['data/nist36_valid.mat', 'images/02_letters.jpg'])
def test_get_data_refuses_a_damaged_file_in_the_mirror(fetch, name):
    truncate(fetch.mirror / name)
    part = 'nist36' if name.startswith('data') else 'images'
    proc = fetch(part)
    assert proc.returncode == 1 and f'{part}: ok' not in proc.stdout and 'in place' not in proc.stdout
    assert 'is damaged' in proc.stderr and 'Traceback' not in proc.stderr
    assert not (fetch.repo / name).exists() and not (fetch.repo / name).is_symlink()
    # a rerun does not call it "in place" either
    assert fetch(part).returncode == 1


def test_get_data_repairs_its_own_damaged_link_without_force(fetch):
    assert fetch('nist36').returncode == 0
    link = fetch.repo / 'data' / 'nist36_test.mat'
    broken = fetch.mirror / 'data' / 'old_copy.mat'
    broken.write_bytes(b'MATLAB 5.0 MAT-file, but cut short')
    link.unlink()
    link.symlink_to(broken)  # a link of the script's, into the mirror, to a damaged file
    proc = fetch('nist36')
    assert proc.returncode == 0, proc.stderr
    assert 'fetching nist36_test.mat again' in proc.stdout
    assert link.resolve() == (fetch.mirror / 'data' / 'nist36_test.mat').resolve()


def test_get_data_stops_at_a_damaged_file_of_the_users(fetch):
    data = fetch.repo / 'data'
    data.mkdir()
    mine = data / 'nist36_valid.mat'
    mine.write_bytes(b'my own half-written file')
    before = sha(mine)
    for extra in ([], ['--force']):
        proc = fetch('nist36', *extra)
        assert proc.returncode == 1 and 'move it away' in proc.stderr and str(mine) in proc.stderr
        assert sha(mine) == before


def test_get_data_with_an_empty_mirror_says_one_thing(fetch, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = fetch('nist36', mirror=empty)
    assert proc.returncode == 1
    assert 'has no data/nist36_train.mat' in proc.stderr and 'ln:' not in proc.stderr


def test_get_data_failed_download_leaves_no_temp_folder(fetch):
    proc = fetch('nist36', mirror=None)  # no network here: the download fails
    assert proc.returncode == 1 and 'could not download' in proc.stderr
    assert list(fetch.tmp.iterdir()) == []


@pytest.mark.parametrize('name, content, phrase', [
    ('train-labels-idx1-ubyte', b'\0\0\x08\x01\0\0\0\x0a' + bytes(5), 'the header promises [10]'),
    ('emnist-balanced-mapping.txt', b'0 48\n1 49\n', 'expected 47 lines'),
    ('squeezenet1_0-deepcompression-imagenet.pth', b'junk', 'not a PyTorch file'),
    ('01_list.jpg', b'\xff\xd8\xff\xe0 not really', 'Truncated File Read'),
])
def test_check_data_finds_damage_in_every_kind_of_file(tmp_path, name, content, phrase):
    import check_data
    path = tmp_path / name
    path.write_bytes(content)
    assert phrase in check_data.problem(path)


# ----------------------------------------------------------------------------
# Thread settings come first, whatever a script imports first
# ----------------------------------------------------------------------------
WATCH = '''
import os, runpy, sys
seen = {}
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name in ('numpy', 'torch') and name not in seen:
            seen[name] = (os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_WAIT_POLICY'))
sys.meta_path.insert(0, Watch())
sys.path.insert(0, os.path.dirname(sys.argv[1]))
script, sys.argv = sys.argv[1], [sys.argv[1], '--help']
try:
    runpy.run_path(script, run_name='__main__')
except SystemExit:
    pass
print('SEEN', seen)
'''


@pytest.mark.parametrize('script', ['run_q2.py', 'run_q3.py', 'run_q5.py', 'run_q6.py', 'run_q7_1.py',
                                    'run_q7_2.py', 'q4_failures.py', 'make_report.py', 'check_data.py'])
def test_thread_settings_are_in_place_before_numpy_and_torch_load(script):
    env = {k: v for k, v in os.environ.items() if k not in ('OPENBLAS_NUM_THREADS', 'OMP_WAIT_POLICY')}
    proc = subprocess.run([sys.executable, '-c', WATCH, str(ROOT / 'python' / script)], env=env,
                          capture_output=True, text=True, timeout=120)
    seen = eval(proc.stdout.split('SEEN ')[-1])  # noqa: S307 - our own printout
    assert seen and all(v == ('1', 'PASSIVE') for v in seen.values()), seen
