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


def test_mosaic_places_scales_and_separates_images():
    """Images are tiled row by row, each stretched to [0, 1] (or by a fixed
    range), with NaN gaps and NaN empty cells."""
    a = np.array([[0.0, 2.0], [4.0, 4.0]])
    b = np.full((2, 2), 7.0)                 # flat: drawn mid-grey
    c = np.array([[-1.0, 0.0], [0.0, 0.5]])
    out = util.mosaic([a, b, c], nrows=2, ncols=2, gap=1)
    assert out.shape == (5, 5)
    np.testing.assert_allclose(out[:2, :2], [[0, 0.5], [1, 1]])
    np.testing.assert_allclose(out[:2, 3:], 0.5)
    np.testing.assert_allclose(out[3:, :2], [[0, 2 / 3], [2 / 3, 1]])
    assert np.isnan(out[2]).all() and np.isnan(out[:, 2]).all() and np.isnan(out[3:, 3:]).all()
    sym = util.mosaic([c], 1, 1, 1, symmetric=True)
    np.testing.assert_allclose(sym, [[0, 0.5], [0.5, 0.75]])
    fixed = util.mosaic([a], 1, 1, 1, value_range=(0, 8))
    np.testing.assert_allclose(fixed, a / 8)
    rgb = util.mosaic([np.full((2, 2, 3), 0.25)], 1, 2, 1)
    assert rgb.shape == (2, 5, 3)
    np.testing.assert_allclose(rgb[:, :2], 0.25)
    np.testing.assert_allclose(rgb[:, 2:], 1.0)            # colour mosaics are on white
