"""check_submission.py: our own code passes; each deliberate breakage of it
fails the one function it breaks, with a hint that names the cause; messy
and hostile student code is reported, never fatal; PATH is never written.

Each breakage is a one-line text substitution in a copy of our nn.py (or a
wrapper appended to q4.py); the substitution must apply exactly once, so a
change to nn.py that moves the line fails here loudly instead of testing
nothing. The catalogue of usual mistakes at the end runs the probes in this
process on small student functions, so each hint is checked in milliseconds.
"""
import importlib.util
import json
import pickle
import re
import shutil
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest

import check_submission as cs
import nn
import submission_checks as sc
import submission_probe
from conftest import ROOT, write_nist36

PYTHON = ROOT / 'python'
SUBMISSIONS = ROOT / 'tests' / 'submissions'
CHECKER = ROOT / 'checker' / 'check_submission.py'


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def statuses(report):
    return {r['function']: r['status'] for r in report['checks']}


def hint_of(report, function):
    return next(r['hint'] for r in report['checks'] if r['function'] == function)


def our_copy(folder, with_q4=False):
    """Our python/ as a student's folder (q4.py left out unless asked: the
    findLetters check is then skipped, which keeps the nn tests quick)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in PYTHON.glob('*.py'):
        if with_q4 or f.name != 'q4.py':
            shutil.copy(f, folder)
    return folder


def patch(path, edits):
    text = path.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f'{old!r} is not in {path.name} exactly once'
        text = text.replace(old, new)
    path.write_text(text)


# function it breaks, substitutions in nn.py, what the hint must say
BREAKAGES = {
    'softmax without the max shift': (
        'softmax', [('shifted = x - x.max(axis=1, keepdims=True)', 'shifted = x')],
        r"nan: exp\(1000\) overflows; subtract each row's max"),
    'transpose dropped in backwards': (
        'backwards', [("params['grad_W' + name] = X.T @ grad_pre",
                       "params['grad_W' + name] = grad_pre.T @ X")],
        r'grad_Wlayer1 is the transpose of the right answer'),
    'bias gradient zero': (
        'backwards', [("params['grad_b' + name] = grad_pre.sum(axis=0)",
                       "params['grad_b' + name] = np.zeros_like(params['b' + name])")],
        r'grad_blayer1 is all zeros: the biases are never updated'),
    'bias gradient not stored': (
        'backwards', [("    params['grad_b' + name] = grad_pre.sum(axis=0)\n", '')],
        r"params\['grad_blayer1'\] is not stored so the biases are never updated"),
    'gradient averaged over the batch': (
        'backwards', [("params['grad_W' + name] = X.T @ grad_pre",
                       "params['grad_W' + name] = X.T @ grad_pre / len(X)")],
        r'grad_Wlayer1 is off by a factor of the batch size: 1/6'),
    'Xavier with the wrong variance': (
        'initialize_weights', [('np.sqrt(6.0 / (in_size + out_size))',
                                'np.sqrt(2.0 / (in_size + out_size))')],
        r'Var\[W\] = 0.001\d+ is a third of 2/\(in\+out\).*sqrt\(6/\(in\+out\)\)'),
    'batches drawn with replacement': (
        'get_random_batches', [('order = (rng or np.random).permutation(len(x))',
                                'order = (rng or np.random).randint(0, len(x), len(x))')],
        r'come more than once and \d+ never: batches are drawn with replacement'),
    'sigmoid_deriv of the pre-activation': (
        'sigmoid_deriv', [('return post_act * (1.0 - post_act)',
                           's = sigmoid(post_act)\n    return s * (1.0 - s)')],
        r'applies sigmoid to its argument again: it receives the post-activation'),
    'backwards passes the pre-activation': (
        'backwards', [("X, _, post_act = params['cache_' + name]",
                       "X, pre_act, post_act = params['cache_' + name]"),
                      ('activation_deriv(post_act)', 'activation_deriv(pre_act)')],
        r'backwards passes the pre-activation to activation_deriv'),
}


@pytest.fixture(scope='module')
def own_report():
    return cs.run_checks(PYTHON)


def test_our_own_code_passes_every_check(own_report):
    assert statuses(own_report) == {c.function: 'pass' for c in sc.CHECKS}, \
        [(r['function'], r['hint']) for r in own_report['checks'] if r['status'] != 'pass']
    assert own_report['passed'] and own_report['code_folder'] == '.'
    backwards = next(r for r in own_report['checks'] if r['function'] == 'backwards')
    assert max(backwards['details']['own_network_rel_error'].values()) < 1e-6
    letters = next(r for r in own_report['checks'] if r['function'] == 'findLetters')
    assert letters['details']['recall'] == letters['details']['precision'] == 1.0


@pytest.mark.parametrize('breakage', BREAKAGES)
def test_a_breakage_fails_its_function_and_nothing_else(breakage, tmp_path):
    function, edits, hint = BREAKAGES[breakage]
    folder = our_copy(tmp_path / 'student')
    patch(folder / 'nn.py', edits)
    report = cs.run_checks(folder)
    got = statuses(report)
    assert got[function] == 'fail', hint_of(report, function)
    assert re.search(hint, hint_of(report, function)), hint_of(report, function)
    others = {f: s for f, s in got.items() if f != function}
    assert set(others.values()) <= {'pass', 'skipped'}, others
    assert got['findLetters'] == 'skipped' and not report['passed']
    if breakage == 'transpose dropped in backwards':
        # The student's own forward and loss are right, so central differences
        # of their network agree with ours and the mismatch is put on backwards.
        row = next(r for r in report['checks'] if r['function'] == 'backwards')
        assert any('the mismatch is in backwards' in n for n in row['notes']), row['notes']


def test_findletters_with_x_and_y_swapped(tmp_path):
    folder = our_copy(tmp_path / 'student', with_q4=True)
    with open(folder / 'q4.py', 'a') as f:
        f.write('\n\n_findLetters = findLetters\n\n\ndef findLetters(image):\n'
                '    bboxes, bw = _findLetters(image)\n    return bboxes[:, [1, 0, 3, 2]], bw\n')
    report = cs.run_checks(folder)
    got = statuses(report)
    assert got.pop('findLetters') == 'fail'
    assert hint_of(report, 'findLetters').startswith(
        "boxes are [x1, y1, x2, y2]: the handout's rows are [y1, x1, y2, x2]")
    assert set(got.values()) == {'pass'}


# ----------------------------------------------------------------------------
# Student code as it comes in
# ----------------------------------------------------------------------------
def snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob('*')}


def test_messy_but_right_student_code_passes(tmp_path):
    """Starter-style code that prints, plots at import, imports util and
    skimage submodules and calls deprecated skimage functions: all fine,
    the textbook sigmoid included. Exit code 0,
    the JSON holds every check, and nothing is written into PATH."""
    folder = SUBMISSIONS / 'messy'
    before = snapshot(folder)
    out = tmp_path / 'report.json'
    proc = subprocess.run([sys.executable, str(CHECKER), str(folder), '--json', str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '9 pass (' in proc.stdout
    report = json.loads(out.read_text())
    # the textbook sigmoid's harmless overflow warning is said, not warned
    assert 'harmless RuntimeWarning' in hint_of(report, 'sigmoid')
    assert statuses(report) == {c.function: 'pass' for c in sc.CHECKS}
    forward = next(r for r in report['checks'] if r['function'] == 'forward')
    assert forward['printed'].startswith('nn.py loaded')
    assert snapshot(folder) == before


def test_hostile_student_code_is_reported_function_by_function(tmp_path, capsys):
    """input(), an endless loop, a print flood, a segfault, lists for
    arrays, 2-D biases, a mean loss, a missing function and a file written
    on import: each is named on its own row, the checker finishes with exit
    code 1, and PATH is left as it was."""
    folder = SUBMISSIONS / 'odd'
    before = snapshot(folder)
    out = tmp_path / 'report.json'
    assert cs.main([str(folder), '--json', str(out), '--timeout', '3']) == 1
    assert 'MISSING  nn.py defines no function get_random_batches' in capsys.readouterr().out
    report = json.loads(out.read_text())
    got = statuses(report)
    assert got == {'initialize_weights': 'fail', 'sigmoid': 'fail', 'forward': 'warn',
                   'softmax': 'fail', 'compute_loss_and_acc': 'fail', 'sigmoid_deriv': 'fail',
                   'backwards': 'fail', 'get_random_batches': 'missing', 'findLetters': 'warn'}
    hints = {r['function']: r['hint'] for r in report['checks']}
    assert 'blayer1 has shape (1, 300), expected (300,)' in hints['initialize_weights']
    assert 'raised EOFError' in hints['sigmoid'] and 'input()' in hints['sigmoid']
    assert "forward's output is a list" in hints['forward']
    assert 'did not finish within 3 s' in hints['softmax']
    assert 'is the mean over the 4 examples' in hints['compute_loss_and_acc']
    assert 'crashed (SIGSEGV)' in hints['sigmoid_deriv']
    assert 'grad_blayer1 has shape (1, 4), expected (4,)' in hints['backwards']
    letters = next(r for r in report['checks'] if r['function'] == 'findLetters')
    assert any('white characters on black' in w for w in letters['warnings']), letters['warnings']
    forward = next(r for r in report['checks'] if r['function'] == 'forward')
    assert forward['printed_chars'] > 1_000_000 and len(forward['printed']) <= 500
    assert snapshot(folder) == before


def test_a_zip_with_the_code_in_a_subfolder(tmp_path):
    archive = tmp_path / 'andrewid.zip'
    with zipfile.ZipFile(archive, 'w') as z:
        for f in our_copy(tmp_path / 'code').iterdir():
            z.write(f, f'andrewid/python/{f.name}')
        z.writestr('andrewid/writeup.txt', 'not code')
    report = cs.run_checks(archive)
    assert report['code_folder'] == 'andrewid/python'
    assert statuses(report)['backwards'] == 'pass' and statuses(report)['findLetters'] == 'skipped'


def test_import_that_hangs_or_lacks_util(tmp_path):
    hang = tmp_path / 'hang'
    hang.mkdir()
    (hang / 'nn.py').write_text('import time\nwhile True:\n    time.sleep(0.1)\n')
    report = cs.run_checks(hang, timeout=2)
    assert set(statuses(report).values()) == {'fail', 'skipped'}
    assert 'importing nn.py did not finish within 2 s' in hint_of(report, 'softmax')

    no_util = tmp_path / 'no_util'
    no_util.mkdir()
    (no_util / 'nn.py').write_text('import numpy as np\nfrom util import *\n')
    hint = hint_of(cs.run_checks(no_util), 'forward')
    assert "No module named 'util'" in hint and 'put the util.py it uses next to it' in hint


@pytest.mark.parametrize('make, message', [
    (lambda p: p / 'nowhere', 'does not exist'),
    (lambda p: (p / 'notes.txt').write_text('hi') and p / 'notes.txt', 'neither a folder nor a .zip'),
    (lambda p: (p / 'empty').mkdir() or p / 'empty', 'no nn.py in'),
])
def test_bad_path_is_one_clear_line(tmp_path, capsys, make, message):
    assert cs.main([str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and message in err and '\n' not in err


# ----------------------------------------------------------------------------
# --train
# ----------------------------------------------------------------------------
def test_train_runs_their_functions_and_reports_accuracy(tmp_path):
    data = write_nist36(tmp_path / 'data')
    report = cs.run_checks(our_copy(tmp_path / 'student'), train=True, data_dir=data, epochs=3)
    row = next(r for r in report['checks'] if r['function'] == 'train')
    assert report['checks'][-1] is row
    assert len(row['details']['history']['valid_acc']) == 3
    assert 'validation accuracy' in row['hint'] and "the handout's bar: 75%" in row['hint']


def test_train_without_data_is_skipped_with_a_clear_message(tmp_path):
    report = cs.run_checks(our_copy(tmp_path / 'student'), train=True, data_dir=tmp_path / 'none')
    assert statuses(report)['train'] == 'skipped'
    assert 'get_data.sh' in hint_of(report, 'train')
    assert report['passed']          # skipped checks do not fail a submission


# ----------------------------------------------------------------------------
# The judges' building blocks
# ----------------------------------------------------------------------------
def test_difference_names_the_usual_mistakes():
    want = np.arange(1.0, 21.0).reshape(5, 4)
    assert sc.difference('g', want.copy(), want) is None
    assert 'transpose' in sc.difference('g', want.T, want)
    assert 'factor of the batch size: 1/6' in sc.difference('g', want / 6, want, batch=6)
    assert 'wrong sign' in sc.difference('g', -want, want)
    assert 'all zeros' in sc.difference('g', np.zeros((5, 4)), want)
    assert 'is a str' in sc.difference('g', 'oops', want)
    assert sc.difference('g', want.tolist(), want) is None     # a list is a form issue, not a value one


def test_drawn_pages_tell_swapped_coordinates_apart():
    for image, truth, ink in sc.drawn_pages().values():
        assert image.shape[0] != image.shape[1] and ink[tuple(np.argwhere(ink)[0])]
        assert sc.match_counts(truth, truth) == (len(truth), len(truth))
        assert sc.match_counts(truth[:, [1, 0, 3, 2]], truth)[0] == 0
        assert sc.box_order_mistake(truth[:, [1, 0, 3, 2]], truth) == '[x1, y1, x2, y2]'


def test_results_are_unpickled_without_running_code(tmp_path):
    """A student's process writes the result file: it may hold arrays and
    plain values, never an object whose unpickling runs code."""
    good, evil = tmp_path / 'good.pickle', tmp_path / 'evil.pickle'
    good.write_bytes(pickle.dumps({'a': np.arange(3.0), 'b': [1, (2, 'x')], 'c': np.float32(1)}))
    assert cs.read_result(good)['b'] == [1, (2, 'x')]

    class Evil:
        def __reduce__(self):
            return (print, ('ran code',))
    evil.write_bytes(pickle.dumps({'calls': Evil()}))
    assert cs.read_result(evil) is None


# ----------------------------------------------------------------------------
# The hint for each usual mistake (probes run in-process: no subprocess)
# ----------------------------------------------------------------------------
def judged(function, theirs=None, **student):
    """Run a check's probe on student functions given as keywords, in this
    process, and judge what came back as check_submission does. theirs: the
    student's activations the import step found right (passed as theirs)."""
    check = next(c for c in sc.CHECKS if c.function == function)
    inputs, calls = check.inputs(), {}
    submission_probe.PROBES[function](SimpleNamespace(**student), {**inputs, 'theirs': theirs or {}},
                                      calls)
    found = check.judge(inputs, calls)
    sc.judge_side_effects(function, calls, found)
    return found


def softmax_global_max(x):
    e = np.exp(x - x.max())
    return e / e.sum(axis=1, keepdims=True)


def softmax_columns(x):
    e = np.exp(x - x.max(axis=0))
    return e / e.sum(axis=0)


def forward_variant(bias=True, fixed_sigmoid=False, cache_order=(0, 1, 2)):
    def forward(X, params, name='', activation=None):
        pre = X @ params['W' + name] + (params['b' + name] if bias else 0)
        post = nn.sigmoid(pre.copy()) if fixed_sigmoid else activation(pre)
        params['cache_' + name] = tuple((X, pre, post)[i] for i in cache_order)
        return post
    return forward


def loss_variant(kind):
    def compute_loss_and_acc(y, probs):
        loss = -np.sum(y * np.log(probs))
        acc = np.mean(np.argmax(y, 1) == np.argmax(probs, 1))
        return {'mean': (loss / len(y), acc), 'count': (loss, acc * len(y)),
                'percent': (loss, 100 * acc), 'swapped': (acc, loss)}[kind]
    return compute_loss_and_acc


def batches_variant(kind):
    def get_random_batches(x, y, batch_size):
        n = len(x)
        order = np.arange(n) if kind == 'unshuffled' else np.random.permutation(n)
        cuts = range(0, n - n % batch_size if kind == 'drop_last' else n, batch_size)
        out = [(x[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in cuts]
        if kind == 'apart':
            other = np.random.permutation(n)
            out = [(x[order[i:i + batch_size]], y[other[i:i + batch_size]]) for i in cuts]
        if kind == 'two_lists':
            return [b[0] for b in out], [b[1] for b in out]
        return out
    return get_random_batches


def init_variant(kind):
    def initialize_weights(in_size, out_size, params, name=''):
        n = in_size + out_size
        W = {'normal': lambda: np.random.normal(0, np.sqrt(2 / n), (in_size, out_size)),
             'transposed': lambda: np.random.uniform(-1, 1, (out_size, in_size)) * np.sqrt(6 / n),
             'lecun': lambda: np.random.uniform(-1, 1, (in_size, out_size)) * np.sqrt(3 / in_size)}[kind]()
        params['W' + name], params['b' + name] = W, np.zeros(out_size)
    return initialize_weights


def backwards_variant(kind):
    def backwards(delta, params, name='', activation_deriv=None):
        X, _, post = params['cache_' + name]
        g = delta if kind == 'no_deriv' else delta * activation_deriv(post)
        params['grad_W' + name] = X.T @ g
        params['grad_b' + name] = g if kind == 'unsummed_b' else g.sum(axis=0)
        return g @ params['W' + name].T
    return backwards


@pytest.mark.parametrize('function, student, hint', [
    ('softmax', {'softmax': softmax_columns}, r'normalises each column \(axis 0\)'),
    ('forward', {'forward': forward_variant(bias=False)}, 'misses the bias'),
    ('forward', {'forward': forward_variant(fixed_sigmoid=True)}, 'use the activation argument'),
    ('forward', {'forward': forward_variant(cache_order=(0, 2, 1))},
     r'the cache holds \(X, post_act, pre_act\)'),
    ('compute_loss_and_acc', {'compute_loss_and_acc': loss_variant('mean')}, 'is the mean over'),
    ('compute_loss_and_acc', {'compute_loss_and_acc': loss_variant('count')}, 'acc = 2 is a count'),
    ('compute_loss_and_acc', {'compute_loss_and_acc': loss_variant('percent')}, 'is a percentage'),
    ('compute_loss_and_acc', {'compute_loss_and_acc': loss_variant('swapped')}, r'returns \(acc, loss\)'),
    ('get_random_batches', {'get_random_batches': batches_variant('unshuffled')}, "keep the data's order"),
    ('get_random_batches', {'get_random_batches': batches_variant('apart')}, 'x and y rows no longer match'),
    ('get_random_batches', {'get_random_batches': batches_variant('two_lists')},
     r'returns \(x_batches, y_batches\)'),
    ('initialize_weights', {'initialize_weights': init_variant('normal')}, 'looks normal'),
    ('initialize_weights', {'initialize_weights': init_variant('transposed')},
     r'has shape \(300, 200\) \(out, in\)'),
    ('initialize_weights', {'initialize_weights': init_variant('lecun')}, "1/in_size \\(LeCun's\\)"),
    ('sigmoid_deriv', {'sigmoid_deriv': lambda s: 1 - s ** 2}, 'the derivative of tanh'),
    ('backwards', {'backwards': backwards_variant('no_deriv')}, 'never calls activation_deriv'),
    ('backwards', {'backwards': backwards_variant('unsummed_b')},
     r'grad_blayer1 has shape \(6, 4\).*sum the per-example gradients over the examples'),
])
def test_each_usual_mistake_gets_its_hint(function, student, hint):
    found = judged(function, **student)
    assert found.status == 'fail' and re.search(hint, found.hint), found.hint


def test_right_answers_pass_in_process():
    for function in ('initialize_weights', 'sigmoid', 'forward', 'softmax', 'compute_loss_and_acc',
                     'sigmoid_deriv', 'get_random_batches'):
        assert judged(function, **{function: getattr(nn, function)}).status == 'pass', function


# ----------------------------------------------------------------------------
# Mistakes found in published solutions (docs/check_submission_corpus.md),
# rewritten in tests/submissions/real_mistakes.py
# ----------------------------------------------------------------------------
rm = load_module('real_mistakes', SUBMISSIONS / 'real_mistakes.py')


@pytest.mark.parametrize('function, student, hint', [
    ('get_random_batches', {'get_random_batches': rm.batches_each_drawn_alone},
     r'each batch is drawn on its own .*replace=False.* the batches overlap'),
    ('get_random_batches', {'get_random_batches': rm.batches_with_replacement},
     'batches are drawn with replacement'),
    ('get_random_batches', {'get_random_batches': lambda x, y, batch_size: []},
     r"the starter's placeholder \(batches = \[\]\)"),
    ('backwards', {'backwards': rm.backwards_first_example_bias},
     r"grad_blayer1 is the first example's gradient only"),
    ('compute_loss_and_acc', {'compute_loss_and_acc': rm.loss_over_100}, 'is the sum divided by 100'),
    ('initialize_weights', {'initialize_weights': rm.init_bound_without_root},
     r'a = 2/\(in\+out\) = 0.004.*needs a = sqrt\(6/\(in\+out\)\)'),
    ('initialize_weights', {'initialize_weights': rm.init_starter},
     r"params\['Wlayer1'\] is None: the starter's placeholder \(W, b = None, None\)"),
    ('findLetters', {'findLetters': rm.find_letters_on_gray},
     r'on the RGB clean page, but runs on the same page in gray: it expects a gray'),
    ('findLetters', {'findLetters': lambda image: ([], None)},
     r"returns \(\[\], None\): the starter's placeholder"),
    ('findLetters', {'findLetters': lambda image: ([], np.ones(image.shape[:2]))},
     r'finds no box at all on the clean page: bboxes comes back empty'),
    ('forward', {'forward': rm.forward_by_name},
     r'is softmax\(X @ W \+ b\) although forward was given sigmoid: call the activation argument'),
])
def test_real_mistakes_get_a_hint_that_names_the_cause(function, student, hint):
    found = judged(function, **student)
    assert found.status == 'fail' and re.search(hint, found.hint), found.hint


@pytest.mark.parametrize('function, student, hint', [
    ('softmax', {'softmax': softmax_global_max},
     r"the whole array's max, not each row's: right for this network's logits.*nan"),
    ('softmax', {'softmax': rm.softmax_in_place},
     r"changes its argument x in place .*the caller's logits .* are overwritten"),
    ('get_random_batches', {'get_random_batches': batches_variant('drop_last')},
     r'the leftover 2 examples are dropped after the shuffle: each epoch trains on'),
    ('forward', {'forward': rm.forward_without_pre_act, 'backwards': rm.backwards_from_post_act},
     r'cache item pre_act is NoneType: your backwards does not read it'),
    ('findLetters', {'findLetters': rm.find_letters_white_on_black},
     r'white characters on black: the boxes are unaffected, but crops .* must be inverted'),
])
def test_what_the_handout_leaves_open_is_a_warn_that_says_its_cost(function, student, hint):
    found = judged(function, **student)
    assert found.status == 'warn' and re.search(hint, found.hint), (found.status, found.hint)


def test_a_cache_without_pre_act_fails_when_their_backwards_needs_it():
    found = judged('forward', forward=rm.forward_without_pre_act)     # no backwards of theirs
    assert found.status == 'fail' and 'cache item pre_act is None' in found.hint, found.hint


def test_textbook_sigmoid_passes_without_a_warning():
    found = judged('sigmoid', sigmoid=lambda x: 1 / (1 + np.exp(-x)))
    assert found.status == 'pass' and 'harmless RuntimeWarning' in found.hint, found.hint


def test_their_own_derivative_is_passed_when_it_is_right():
    student = {'backwards': rm.backwards_by_identity, 'sigmoid_deriv': rm.deriv_of_their_own}
    assert judged('backwards', theirs={'sigmoid_deriv': True}, **student).status == 'pass'
    # ours in its place (theirs was wrong or missing) makes this code raise
    assert judged('backwards', **student).status == 'fail'


def test_the_import_step_tries_their_activations():
    mod = SimpleNamespace(sigmoid=lambda x: 1 / (1 + np.exp(-x)), sigmoid_deriv=lambda s: s,
                          linear=lambda x: x, linear_deriv=lambda s: 1 / 0)
    assert submission_probe.right_activations(mod) == {
        'sigmoid': True, 'linear': True, 'sigmoid_deriv': False, 'linear_deriv': False}


def test_a_library_missing_here_is_the_environments_problem():
    check = next(c for c in sc.CHECKS if c.function == 'findLetters')

    def needs_pywavelets(image):
        raise ModuleNotFoundError("No module named 'pywt'", name='pywt')
    inputs, calls = check.inputs(), {}
    submission_probe.PROBES['findLetters'](SimpleNamespace(findLetters=needs_pywavelets), inputs, calls)
    out = cs.judged_row(check, inputs, {'calls': calls}, 'ok', 0.1, 60)
    assert out['status'] == 'skipped' and "environment's problem, not the student's" in out['hint']
    assert 'pip install PyWavelets' in out['hint']


def test_a_library_the_handout_forbids_is_the_students(tmp_path):
    folder = our_copy(tmp_path / 'student')
    (folder / 'q4.py').write_text('import cv2\n\n\ndef findLetters(image):\n    return [], None\n')
    report = cs.run_checks(folder)
    assert statuses(report)['findLetters'] == 'fail'
    assert "No module named 'cv2'" in hint_of(report, 'findLetters')
    assert 'the handout allows only numpy, scipy, scikit-image' in hint_of(report, 'findLetters')


def test_code_for_older_libraries_runs_with_the_names_mapped(tmp_path):
    """multichannel=, selem=, rgb2grey, np.float, skimage.morphology.selem,
    np.delete past the end and numpy.lib.function_base: written for the
    course's older numpy and scikit-image, judged on its logic."""
    old = SUBMISSIONS / 'old_libraries'
    folder = our_copy(tmp_path / 'student')
    shutil.copy(old / 'q4.py', folder / 'q4.py')
    with open(folder / 'nn.py', 'a') as f:
        f.write((old / 'nn_tail.py').read_text())
    report = cs.run_checks(folder)
    row = next(r for r in report['checks'] if r['function'] == 'findLetters')
    assert row['status'] == 'pass', row['hint']
    mapped = row['notes'][0]
    for name in ('multichannel', 'selem', 'rgb2grey', 'np.float'):
        assert name in mapped, mapped
    assert row['details']['recall'] == 1.0
    assert statuses(report)['get_random_batches'] == 'pass', hint_of(report, 'get_random_batches')
    assert 'np.delete' in next(r for r in report['checks']
                               if r['function'] == 'get_random_batches')['notes'][0]
    # what the import itself needed is said once, in the header
    header = cs.format_table(report).splitlines()[1:3]
    assert any('numpy.lib.function_base' in line for line in header), header


def test_an_untouched_starter_is_called_a_placeholder(tmp_path):
    folder = tmp_path / 'student'
    shutil.copytree(SUBMISSIONS / 'starter', folder)
    report = cs.run_checks(folder)
    text = cs.format_table(report)
    assert 'the untouched starter' in text.splitlines()[1], text
    failed = [r for r in report['checks'] if r['status'] == 'fail']
    assert failed and all('placeholder' in r['hint'] for r in failed), failed
