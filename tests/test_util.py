"""Output folders, saved weights and the clear errors around them."""
import pickle

import numpy as np
import pytest

import util
from util import UsageError


def test_output_dir_refuses_a_users_folder(tmp_path):
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('my own work')
    with pytest.raises(UsageError, match='--force'):
        util.prepare_output_dir(mine)
    assert (mine / 'notes.txt').read_text() == 'my own work'
    util.prepare_output_dir(mine, force=True)  # the user insisted


def test_output_dir_can_be_rewritten_by_the_project(tmp_path):
    out = util.prepare_output_dir(tmp_path / 'results' / 'q9')
    (out / 'metrics.json').write_text('{}')
    assert util.prepare_output_dir(out) == out  # a rerun may replace its own results


def test_output_path_that_is_a_file(tmp_path):
    f = tmp_path / 'f'
    f.write_text('x')
    with pytest.raises(UsageError, match='is a file'):
        util.prepare_output_dir(f)


def test_load_params_checks_keys_and_shapes(tmp_path):
    path = tmp_path / 'w.pickle'
    util.save_params(path, {'Wa': np.zeros((3, 2)), 'ba': np.zeros(2), 'cache_a': 1, 'grad_Wa': 0})
    with open(path, 'rb') as f:
        assert set(pickle.load(f)) == {'Wa', 'ba'}
    assert util.load_params(path, {'Wa': (3, 2), 'ba': (2,)})['Wa'].shape == (3, 2)
    with pytest.raises(UsageError, match=r'Wa has shape \(3, 2\), expected \(4, 2\)'):
        util.load_params(path, {'Wa': (4, 2)})
    with pytest.raises(UsageError, match="no 'Wb'"):
        util.load_params(path, {'Wb': (3, 2)})


def test_load_params_bad_files(tmp_path):
    with pytest.raises(UsageError, match='does not exist.*run_q3.py'):
        util.load_params(tmp_path / 'nope.pickle', {}, made_by='run_q3.py')
    junk = tmp_path / 'junk.pickle'
    junk.write_bytes(b'not a pickle at all')
    with pytest.raises(UsageError, match='not a readable pickle'):
        util.load_params(junk, {})
    util.save_pickle(junk, [1, 2])
    with pytest.raises(UsageError, match='not a params dict'):
        util.load_params(junk, {})
