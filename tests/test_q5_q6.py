"""Q5 autoencoder and Q6 PCA: gradients, initialisation, PSNR, PCA algebra,
and both scripts end to end on tiny synthetic data.

The momentum step against the hand formula M = 0.9 M - lr g, W = W + M is
tests/test_nn.py::test_momentum_step_matches_the_formula."""
import json
import pickle

import numpy as np
import pytest

import autoencoder as ae
import nn
from conftest import ROOT, run_script
from network import count_params
from util import UsageError, linear_deriv, relu
from run_q6 import count_pca_params, pca_fit, pca_reconstruct, projection_matrix


def test_gradient_check_passes_on_the_autoencoder():
    errors = ae.gradient_check(nn)
    assert set(errors) == set(ae.param_shapes())  # all 4 layers, weights and biases
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_catches_a_missing_relu_derivative():
    # Backprop that treats the first ReLU as the identity.
    wrong = [('layer1', relu, linear_deriv)] + ae.autoencoder_layers(nn)[1:]
    errors = ae.gradient_check(nn, layers=wrong)
    assert errors['Wlayer1'] > 1e-2 and errors['blayer1'] > 1e-2
    assert errors['Woutput'] < 1e-6  # layers after it are still right


def test_centred_biases_centre_every_relu_and_start_at_the_mean_image():
    rng = np.random.default_rng(0)
    x = 0.8 + 0.2 * rng.random((50, 64))  # mostly white, as NIST images are
    params = ae.init_autoencoder(nn, rng, (64, 8, 8, 8, 64), np.float64, x)
    h = x
    for name, activation, _ in ae.autoencoder_layers(nn):
        pre = h @ params['W' + name] + params['b' + name]
        if name != 'output':
            np.testing.assert_allclose(pre.mean(axis=0), 0, atol=1e-12)
            assert (pre > 0).any(axis=0).all()  # no unit starts dead
        h = activation(pre)
    m = x.mean(axis=0)
    np.testing.assert_allclose(pre.mean(axis=0), np.log(m / (1 - m)), atol=1e-12)


def test_zero_biases_without_data():
    params = ae.init_autoencoder(nn, np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == ae.param_shapes()
    assert not any(params[k].any() for k in params if k.startswith('b'))
    assert count_params(params) == 1024 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 1024 + 1024


def test_step_decay_is_the_handouts_schedule():
    assert [ae.step_decay(e, 1.0) for e in (0, 19, 20, 39, 40)] == pytest.approx([1, 1, 0.9, 0.9, 0.81])


def test_psnr_is_skimages():
    from skimage.metrics import peak_signal_noise_ratio
    rng = np.random.default_rng(0)
    x, recon = rng.random((5, 1024)), rng.random((5, 1024))
    recon[1] = np.clip(x[1] + 0.01 * rng.standard_normal(1024), 0, 1)
    expected = [peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(x, recon)]
    np.testing.assert_allclose(ae.psnr_per_image(x, recon), expected, rtol=1e-12)
    assert ae.psnr_per_image(x[:1], x[:1])[0] == np.inf      # a perfect reconstruction


def test_psnr_by_hand_and_averaged_per_image():
    x = np.zeros((2, 1024))
    recon = x.copy()
    recon[0] += 0.1    # MSE 0.01  -> 20 dB
    recon[1] += 0.01   # MSE 1e-4  -> 40 dB
    np.testing.assert_allclose(ae.psnr_per_image(x, recon), [20, 40])
    assert ae.mean_psnr(x, recon) == pytest.approx(30)  # not 10 log10(1 / 0.00505) = 23 dB


def test_shown_indices_pick_the_first_two_of_each_class():
    labels = np.array([0, 6, 0, 12, 16, 31, 6, 0, 12, 16, 31, 5])  # A G A M Q 5 G A M Q 5 F
    y = np.eye(36)[labels]
    idx = ae.shown_indices(y)
    np.testing.assert_array_equal(idx, [0, 2, 1, 6, 3, 8, 4, 9, 5, 10])
    with pytest.raises(UsageError, match="3 of class 'A'"):
        ae.shown_indices(y, per_class=4)


def test_batches_share_one_copy_when_the_target_is_the_input():
    x = np.arange(20.0).reshape(10, 2)
    batches = nn.get_random_batches(x, x, 4, np.random.default_rng(0))
    assert all(bx is by for bx, by in batches)
    assert sorted(np.concatenate([bx[:, 0] for bx, _ in batches])) == list(range(0, 20, 2))


def test_pca_projection_is_rank_k_symmetric_and_idempotent():
    rng = np.random.default_rng(1)
    x = rng.random((60, 20))
    mu, V, S = pca_fit(x, 5)
    P = projection_matrix(V)
    assert P.shape == (20, 20) and V.shape == (20, 5)
    assert np.linalg.matrix_rank(P) == 5
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-12)
    assert np.all(np.diff(S) <= 0)
    assert count_pca_params(mu, V) == 20 * 5 + 20


def test_pca_finds_the_top_principal_directions():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 10)) * np.array([5, 4, 3, 2, 1, 0.5, 0.4, 0.3, 0.2, 0.1]) + 7
    mu, V, _ = pca_fit(x, 3)
    evals, evecs = np.linalg.eigh(np.cov(x, rowvar=False))  # ascending
    top = evecs[:, ::-1][:, :3]
    np.testing.assert_allclose(np.abs(V.T @ top), np.eye(3), atol=1e-9)
    np.testing.assert_allclose(mu, x.mean(axis=0))
    # Data already in the mean + span of the components comes back exactly.
    inside = mu + rng.normal(size=(4, 3)) @ V.T
    np.testing.assert_allclose(pca_reconstruct(inside, mu, V), inside, atol=1e-12)


def test_run_q5_and_q6_quick_write_documented_outputs(tmp_path, nist36_dir):
    q5, q6 = tmp_path / 'q5', tmp_path / 'q6'
    run_script('run_q5.py', '--quick', '--data-dir', nist36_dir, '--out', q5)
    m5 = json.loads((q5 / 'metrics.json').read_text())
    for key in ('valid_psnr', 'test_psnr', 'final_train_loss', 'seed', 'epochs', 'lr', 'batch_size',
                'seconds', 'shown_classes', 'gradcheck_pass', 'init'):
        assert key in m5, key
    assert m5['gradcheck_pass'] and m5['epochs'] == 2 and len(m5['shown_valid_indices']) == 10
    assert 5 < m5['valid_psnr'] < 60
    for name in ('loss.png', 'reconstructions.png'):
        assert (q5 / name).stat().st_size > 1000, name
    with open(q5 / 'weights.pickle', 'rb') as f:
        params = pickle.load(f)
    assert {k: v.shape for k, v in params.items()} == ae.param_shapes()

    # from inside python/, as some users run it
    run_script('run_q6.py', '--quick', '--data-dir', nist36_dir, '--weights', q5 / 'weights.pickle',
               '--out', q6, cwd=ROOT / 'python')
    m6 = json.loads((q6 / 'metrics.json').read_text())
    for key in ('projection_shape', 'projection_rank', 'pca_valid_psnr', 'pca_test_psnr',
                'ae_valid_psnr', 'ae_params', 'pca_params', 'seed', 'seconds'):
        assert key in m6, key
    assert m6['projection_shape'] == [1024, 1024] and m6['projection_rank'] == 32
    assert m6['ae_params'] == count_params(params) and m6['pca_params'] == 1024 * 32 + 1024
    assert m6['ae_valid_psnr'] == m5['valid_psnr'] and m6['seed'] == m5['seed']
    for name in ('reconstructions_valid.png', 'reconstructions_test.png'):
        assert (q6 / name).stat().st_size > 1000, name


def test_run_q5_is_reproducible(tmp_path, nist36_dir):
    for name in ('a', 'b'):
        run_script('run_q5.py', '--quick', '--data-dir', nist36_dir, '--out', tmp_path / name)
    a, b = (json.loads((tmp_path / n / 'metrics.json').read_text()) for n in 'ab')
    assert a['valid_psnr'] == b['valid_psnr'] and a['final_train_loss'] == b['final_train_loss']


def test_run_q6_without_autoencoder_is_a_clear_error(tmp_path, nist36_dir):
    proc = run_script('run_q6.py', '--data-dir', nist36_dir, '--weights', tmp_path / 'none.pickle',
                      '--out', tmp_path / 'q6', check=False)
    assert proc.returncode != 0
    assert 'run_q5.py' in proc.stderr and 'Traceback' not in proc.stderr


def test_run_q6_rejects_too_many_components(tmp_path, nist36_dir):
    q5 = tmp_path / 'q5'
    run_script('run_q5.py', '--quick', '--data-dir', nist36_dir, '--out', q5)
    proc = run_script('run_q6.py', '--data-dir', nist36_dir, '--weights', q5 / 'weights.pickle',
                      '--components', 5000, '--out', tmp_path / 'q6', check=False)
    assert proc.returncode != 0
    assert '--components 5000' in proc.stderr and 'Traceback' not in proc.stderr


def test_run_q5_missing_data_is_a_clear_error(tmp_path):
    proc = run_script('run_q5.py', '--quick', '--data-dir', tmp_path, '--out', tmp_path / 'o', check=False)
    assert proc.returncode != 0
    assert 'get_data.sh' in proc.stderr and 'Traceback' not in proc.stderr
