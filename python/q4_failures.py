"""Q4.1: two images on which findLetters fails, one per assumption it makes.

    python python/q4_failures.py [--out results/q4]

1. "One character = one connected blob of ink, apart from its neighbours."
   Joined-up (cursive) or touching letters form one blob, which gets one box
   for several letters (and a blob as wide as a whole word would be dropped
   as "not a letter"): failure_touching.png.
2. "Only the characters are dark; the page behind them is plain."
   Dark rules that the letters sit on join the letters and the grid into one
   blob, which becomes one box around the whole grid: the letters are missed
   and a non-letter is found: failure_ruled_background.png.

Both images are drawn here with matplotlib, so the script needs no data.
"""
import threads  # noqa: F401,I001  (first: BLAS and OpenMP threads, before numpy loads)

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from q4 import findLetters
from util import Parser, add_output_args, prepare_output_dir, run_main, save_figure

WORD = 'HELLO'


def render(draw, size=(8, 2.5), dpi=100):
    """Call draw(ax) on a blank white page and return the page as an RGB uint8 array."""
    fig = plt.figure(figsize=size, dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, size[0])
    ax.set_ylim(0, size[1])
    ax.set_axis_off()
    draw(ax)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return rgb


def touching_letters(ax):
    """Left: the word with gaps between its letters. Right: the same word
    with pairs of letters squeezed until they touch (HE, LL), as in
    joined-up handwriting."""
    for i, c in enumerate(WORD):
        ax.text(0.3 + 0.62 * i, 1.0, c, fontsize=44, fontweight='bold', va='baseline')
    for x, c in zip((4.3, 4.68, 5.35, 5.66, 6.3), WORD):
        ax.text(x, 1.0, c, fontsize=44, fontweight='bold', va='baseline')


def ruled_background(ax):
    """Graph paper with rules as dark and as thick as the pen: the letters
    stand on the horizontal rules and touch the vertical ones."""
    for y in (0.7, 1.9):
        ax.axhline(y, color='black', lw=4)
    for x in np.arange(0.25, 8, 1.5):
        ax.axvline(x, color='black', lw=4)
    for i, c in enumerate(WORD):
        ax.text(0.45 + 1.5 * i, 0.7, c, fontsize=44, fontweight='bold', va='baseline')


def show(image, n_letters, title, path):
    """The image with findLetters' boxes, next to findLetters' bw image."""
    boxes, bw = findLetters(image)
    fig, axes = plt.subplots(1, 2, figsize=(13, 2.6))
    axes[0].imshow(image)
    for y1, x1, y2, x2 in boxes:
        axes[0].add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec='red', lw=2))
    axes[0].set_title(f'input and findLetters boxes ({len(boxes)} for {n_letters} letters)')
    axes[1].imshow(bw, cmap='Greys_r', vmin=0, vmax=1)
    axes[1].set_title('findLetters bw (black = ink)')
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=12, y=1.04)
    save_figure(fig, path)
    return len(boxes)


def main():
    parser = Parser(__doc__)
    add_output_args(parser, 'q4')
    args = parser.parse_args()
    out = prepare_output_dir(args.out, args.force)
    n = show(render(touching_letters), 2 * len(WORD),
             'Assumption 1 broken: touching letters are one connected component, so they get one box',
             out / 'failure_touching.png')
    print(f'touching letters: {n} boxes for {2 * len(WORD)} letters')
    n = show(render(ruled_background), len(WORD),
             'Assumption 2 broken: dark rules join the letters and the grid into one component, '
             'boxed as one "letter"', out / 'failure_ruled_background.png')
    print(f'ruled background: {n} boxes for {len(WORD)} letters')


if __name__ == '__main__':
    run_main(main)
