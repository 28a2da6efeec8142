"""Plot sigmoid, tanh and their derivatives for the Q1.6 answer in docs/theory.md.

Run from anywhere:  python docs/plot_activations.py
Writes results/theory/activations.png (generated, not committed).
"""
import os
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

# HW5_RESULTS moves the results folder, as for the question scripts.
RESULTS = Path(os.environ.get('HW5_RESULTS', Path(__file__).resolve().parents[1] / 'results'))
OUT = RESULTS / 'theory' / 'activations.png'


def main():
    x = np.linspace(-6, 6, 601)
    sig = 1.0 / (1.0 + np.exp(-x))
    tanh = np.tanh(x)

    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(x, sig, color='tab:blue', label=r'$\sigma(x)$, range $(0, 1)$')
    ax.plot(x, sig * (1 - sig), color='tab:blue', ls='--',
            label=r"$\sigma'(x) = \sigma(1-\sigma)$, max $1/4$")
    ax.plot(x, tanh, color='tab:orange', label=r'$\tanh(x)$, range $(-1, 1)$')
    ax.plot(x, 1 - tanh ** 2, color='tab:orange', ls='--',
            label=r"$\tanh'(x) = 1-\tanh^2$, max $1$")
    ax.axhline(0, color='grey', lw=0.6)
    ax.axvline(0, color='grey', lw=0.6)
    ax.set(title='Sigmoid and tanh with their derivatives (Q1.6)',
           xlabel='pre-activation $x$', ylabel='value', ylim=(-1.1, 1.1))
    ax.legend(loc='lower right', fontsize=9)
    ax.grid(alpha=0.3)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110, bbox_inches='tight')
    plt.close(fig)
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
