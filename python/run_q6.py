"""Q6: PCA with 32 components, computed by SVD of the training data, against
the Q5 autoencoder.

    python python/run_q6.py [--components 32] [--weights results/q5/weights.pickle] [--nn FOLDER]

Needs the autoencoder that run_q5.py trains. --nn FOLDER runs the autoencoder
on the handout functions of a student's own nn.py. Writes to results/q6/:
  reconstructions_valid.png  Q6.2 the Q5 validation images: original | autoencoder | PCA
  reconstructions_test.png   Q6.2 (older edition) the same classes from the test set
  metrics.json               projection size and rank (Q6.1), PSNRs (Q6.3), parameter counts (Q6.4)
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

from pathlib import Path

import numpy as np

import autoencoder as ae
from data import load_all
from network import count_params, load_nn
from questions import NIST36_NOTE
from util import (DATA_DIR, RESULTS_DIR, Parser, Timer, UsageError, add_nn_arg, add_output_args, at_least,
                  load_json, load_params, prepare_output_dir, run_main, save_json)


def pca_fit(x, k):
    """PCA of x (N, D) by SVD, keeping k components.

    With the centred data Xc = x - mu (mu the mean image, (D,)),
        Xc = U S V^T,   U (N, D), S (D,) sorted decreasing, V (D, D) orthonormal.
    The columns of V are the principal directions: Xc^T Xc = V S^2 V^T, so
    S_i^2 / N is the variance of the data along V_i. Returns mu (D,), V_k (D, k)
    (the first k columns of V) and S (all singular values).
    """
    if k > min(x.shape):
        raise UsageError(f'--components {k} is more than the data allows ({min(x.shape)}: '
                         f'min of {x.shape[0]} images and {x.shape[1]} pixels)')
    mu = x.mean(axis=0)
    _, S, Vt = np.linalg.svd(x - mu, full_matrices=False)
    return mu, Vt[:k].T, S


def projection_matrix(V_k):
    """P = V_k V_k^T (D, D): the orthogonal projection onto the span of the
    k components. P = P^T, P^2 = P (V_k^T V_k = I), rank P = k."""
    return V_k @ V_k.T


def pca_reconstruct(x, mu, V_k):
    """x (N, D) -> mu + (x - mu) V_k V_k^T. The code (x - mu) V_k holds the k
    numbers per image that the reconstruction needs, as the autoencoder's 32."""
    return mu + ((x - mu) @ V_k) @ V_k.T


def count_pca_params(mu, V_k):
    """The numbers PCA learns from the training data and needs to encode and
    decode: the k directions V_k (D x k) and the mean mu (D). (V_k has k(k+1)/2
    orthonormality constraints, so only D k - k(k+1)/2 are free; the count
    here is what is stored, as for the autoencoder's weights.)"""
    return int(V_k.size + mu.size)


def autoencoder_seed(weights):
    """The seed run_q5.py trained the autoencoder with, from the metrics.json
    next to its weights; None (said, not silent) when it cannot be read."""
    path = Path(weights).parent / 'metrics.json'
    if not path.exists():
        return None
    try:
        seed = load_json(path).get('seed')
    except (UsageError, AttributeError) as e:
        print(f'note: the autoencoder\'s seed is recorded as unknown: {path} is unreadable ({e})')
        return None
    return seed


def main():
    parser = Parser(__doc__)
    parser.add_argument('--components', type=at_least(1), default=32, help='principal components kept')
    parser.add_argument('--weights', type=Path, default=RESULTS_DIR / 'q5' / 'weights.pickle',
                        help='the autoencoder trained by run_q5.py')
    parser.add_argument('--data-dir', type=Path, default=DATA_DIR, help='folder holding the datasets')
    parser.add_argument('--quick', action='store_true',
                        help='accepted like the other scripts; PCA has nothing to shorten')
    add_output_args(parser, 'q6')
    add_nn_arg(parser)
    args = parser.parse_args()
    params = load_params(args.weights, ae.param_shapes(), made_by='run_q5.py')
    ae_seed = autoencoder_seed(args.weights)
    nn = load_nn(args.nn)  # after the weights' checks: checking a student's nn.py takes seconds

    with Timer() as total:
        splits = load_all(args.data_dir)
        x = splits['train'][0]
        # checked before any work: the figures need two images of each shown class
        shown_rows = {split: ae.shown_indices(splits[split][1]) for split in ('valid', 'test')}
        print(f'data: {NIST36_NOTE}')
        print(f'Q6 PCA by SVD of the centred training data ({x.shape[0]} x {x.shape[1]}), '
              f'{args.components} components')
        mu, V_k, S = pca_fit(x, args.components)
        out = prepare_output_dir(args.out, args.force)
        P = projection_matrix(V_k)
        rank = int(np.linalg.matrix_rank(P, hermitian=True))
        explained = float(np.sum(S[:args.components] ** 2) / np.sum(S ** 2))
        print(f'Q6.1 projection matrix P = V_k V_k^T: shape {P.shape}, rank {rank} '
              f'(encoder V_k^T: {V_k.T.shape}); it keeps {100 * explained:.1f}% of the variance')

        psnr = {}
        for split, shown in shown_rows.items():
            xs = splits[split][0]
            recon = {'autoencoder': ae.reconstruct(nn, xs, params), 'PCA': pca_reconstruct(xs, mu, V_k)}
            psnr[split] = {method: ae.mean_psnr(xs, r) for method, r in recon.items()}
            print(f'Q6.3 average {split} PSNR: autoencoder {psnr[split]["autoencoder"]:.2f} dB, '
                  f'PCA {psnr[split]["PCA"]:.2f} dB')
            name = 'validation' if split == 'valid' else 'test'
            ae.reconstruction_figure(
                xs[shown], {method: r[shown] for method, r in recon.items()},
                out / f'reconstructions_{split}.png',
                f'Q6.2 {name} images: autoencoder ({psnr[split]["autoencoder"]:.2f} dB) '
                f'vs PCA-{args.components} ({psnr[split]["PCA"]:.2f} dB)')

        ae_params, pca_params = count_params(params), count_pca_params(mu, V_k)
        print(f'Q6.4 learned parameters: autoencoder {ae_params}, PCA {pca_params} '
              f'({V_k.shape[0]} x {V_k.shape[1]} directions + {mu.size} mean)')

    # PCA has no randomness; the autoencoder's numbers depend on the seed it
    # was trained with, which run_q5.py records next to its weights.
    save_json(out / 'metrics.json', {
        'projection_shape': list(P.shape), 'projection_rank': rank,
        'encoder_shape': list(V_k.T.shape), 'components': args.components,
        'explained_variance': explained,
        'pca_valid_psnr': psnr['valid']['PCA'], 'pca_test_psnr': psnr['test']['PCA'],
        'ae_valid_psnr': psnr['valid']['autoencoder'], 'ae_test_psnr': psnr['test']['autoencoder'],
        'ae_params': ae_params, 'pca_params': pca_params,
        'pca_params_counted': 'the D x k directions V_k plus the D-pixel mean image',
        'shown_classes': list(ae.SHOWN_CLASSES),
        'shown_valid_indices': shown_rows['valid'], 'shown_test_indices': shown_rows['test'],
        'ae_weights': str(args.weights), 'seed': ae_seed, 'seconds': total.seconds,
        'dataset': NIST36_NOTE,
    })


if __name__ == '__main__':
    run_main(main)
