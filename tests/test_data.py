"""The NIST36 loader, on tiny synthetic files in the course's format."""
import numpy as np
import pytest
import scipy.io

import data
from util import UsageError


def test_loads_synthetic_files_with_the_real_keys(nist36_dir):
    for split in data.SPLITS:
        x, y = data.load_nist36(split, nist36_dir)
        assert x.shape == (108, 1024) and y.shape == (108, 36)
        assert x.dtype == np.float64 and y.dtype == np.float64
        np.testing.assert_array_equal(y.sum(axis=1), 1)


def test_column_major_rows_come_out_upright(nist36_dir):
    x, y = data.load_nist36('train', nist36_dir)
    images = data.to_image(x)
    # conftest draws class c as a dark horizontal bar on row c
    for img, label in zip(images[:10], data.labels_of(y)[:10]):
        assert img[label % 32].max() == 0.0
    np.testing.assert_array_equal(data.from_image(images), x)


def test_missing_file_names_the_fetch_command(tmp_path):
    with pytest.raises(UsageError, match='get_data.sh nist36.*HW5_MIRROR'):
        data.load_nist36('train', tmp_path)


def test_wrong_key_is_reported(tmp_path):
    scipy.io.savemat(tmp_path / 'nist36_valid.mat', {'train_data': np.zeros((2, 1024)),
                                                     'train_labels': np.zeros((2, 36))})
    with pytest.raises(UsageError, match=r"no key 'valid_data' \(found \['train_data', 'train_labels'\]\)"):
        data.load_nist36('valid', tmp_path)


def test_wrong_shape_is_reported(tmp_path):
    scipy.io.savemat(tmp_path / 'nist36_test.mat', {'test_data': np.zeros((2, 784)),
                                                    'test_labels': np.zeros((2, 36))})
    with pytest.raises(UsageError, match=r'shape \(2, 784\), expected \(N, 1024\)'):
        data.load_nist36('test', tmp_path)
    scipy.io.savemat(tmp_path / 'nist36_test.mat', {'test_data': np.zeros((2, 1024)),
                                                    'test_labels': np.zeros((2, 10))})
    with pytest.raises(UsageError, match=r'expected \(2, 36\)'):
        data.load_nist36('test', tmp_path)


def test_file_that_is_not_a_mat(tmp_path):
    (tmp_path / 'nist36_train.mat').write_text('this is not a MATLAB file')
    with pytest.raises(UsageError, match='not a readable .mat file'):
        data.load_nist36('train', tmp_path)


def test_unknown_split():
    with pytest.raises(UsageError, match='unknown NIST36 split'):
        data.load_nist36('validation')
