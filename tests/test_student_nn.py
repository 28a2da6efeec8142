"""The handout's contract as the seam: nn.py holds exactly the handout's
functions, the rest of the project calls nn only through them, and every
numpy question runs on a student's own nn.py (--nn FOLDER), or stops in one
line naming the function that breaks the contract."""
import ast
import shutil

import pytest

from conftest import ROOT, run_script

PYTHON = ROOT / 'python'
STUDENT = ROOT / 'tests' / 'submissions' / 'messy'   # right answers in untidy starter-style code

# The starter code's nn.py: these functions, and only these.
HANDOUT_NN = {'initialize_weights', 'sigmoid', 'forward', 'softmax', 'compute_loss_and_acc',
              'sigmoid_deriv', 'backwards', 'get_random_batches'}
# Modules that build on nn and must reach it only through the handout's names.
USERS_OF_NN = ['network.py', 'autoencoder.py', 'q4.py', 'run_q2.py', 'run_q3.py', 'run_q5.py', 'run_q6.py']


def module_tree(name):
    return ast.parse((PYTHON / name).read_text())


def test_nn_holds_exactly_the_handouts_functions():
    tree = module_tree('nn.py')
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert functions == HANDOUT_NN


@pytest.mark.parametrize('name', USERS_OF_NN)
def test_nn_is_used_only_through_the_handouts_functions(name):
    used = {node.attr for node in ast.walk(module_tree(name))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == 'nn'}
    assert used <= HANDOUT_NN, used - HANDOUT_NN


def test_util_imports_nothing_of_nn():
    imported = set()
    for node in ast.walk(module_tree('util.py')):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert not imported & {'nn', 'network', 'autoencoder'}


@pytest.fixture
def student(tmp_path):
    """The student's folder as handed in: their nn.py and util.py."""
    folder = tmp_path / 'student'
    folder.mkdir()
    for f in ('nn.py', 'util.py'):
        shutil.copy(STUDENT / f, folder / f)
    return folder


def test_every_numpy_question_runs_on_a_students_nn(student, nist36_dir, tmp_path):
    out = tmp_path / 'results'
    runs = [('run_q2.py', 'q2', ['--quick'], ['toy_training.png']),
            ('run_q3.py', 'q3', ['--quick', '--data-dir', nist36_dir],
             ['accuracy_all.png', 'loss_all.png', 'weights_layer1.png', 'confusion_test.png']),
            ('run_q5.py', 'q5', ['--quick', '--data-dir', nist36_dir], ['loss.png', 'reconstructions.png']),
            ('run_q6.py', 'q6', ['--data-dir', nist36_dir, '--weights', out / 'q5' / 'weights.pickle'],
             ['reconstructions_valid.png', 'reconstructions_test.png'])]
    for script, question, args, figures in runs:
        proc = run_script(script, *args, '--nn', student, '--out', out / question)
        # their functions ran: their module printed on import and in forward
        assert 'nn.py loaded' in proc.stdout and 'forward layer1' in proc.stdout, script
        for figure in figures:
            assert (out / question / figure).stat().st_size > 1000, (script, figure)


def test_a_broken_function_stops_the_run_in_one_line_naming_it(student, nist36_dir, tmp_path):
    nn_py = student / 'nn.py'
    text = nn_py.read_text()
    assert text.count('grad_b = np.sum(d, axis=0)\n') == 1
    nn_py.write_text(text.replace('grad_b = np.sum(d, axis=0)\n', 'grad_b = np.sum(d, axis=0) / len(d)\n'))
    out = tmp_path / 'q3'
    proc = run_script('run_q3.py', '--quick', '--data-dir', nist36_dir, '--nn', student, '--out', out,
                      check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ')
    assert 'backwards breaks the handout' in lines[0] and 'batch size' in lines[0]
    assert 'check_submission.py' in lines[0]   # where the full report is
    assert not out.exists()


def test_a_missing_nn_py_is_one_line(tmp_path):
    proc = run_script('run_q2.py', '--quick', '--nn', tmp_path, '--out', tmp_path / 'q2', check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f'error: --nn {tmp_path}: no nn.py there; '
                                                'pass the folder that holds your nn.py']
