"""Q4.1: images on which character detection fails, for the handout's plain
method and for this project's findLetters, one per assumption they make.

    python python/q4_failures.py [--out results/q4]

The plain method is the handout's outline (``plain_find_letters``): blur,
one global threshold, a closing, connected components, their boxes.

1. "Only the characters are dark; the page behind them is plain."
   Dark rules that the letters sit on join the letters and the grid into one
   blob: the plain method boxes the whole grid as one "letter". findLetters
   removes straight lines longer than three letters and keeps the strokes
   that cross them: failure_ruled_background.png.
2. "The light is even." A hard shadow puts the paper in the shade below
   one global threshold: the plain method boxes the shadow. findLetters
   divides by the paper's own brightness first: failure_shadow.png.
3. "One character = one connected blob of ink, apart from its neighbours."
   Joined-up (cursive) or touching letters form one blob, which gets one box
   for several letters. Both methods still fail here; separating them needs
   a model of letter shapes, not of ink: failure_touching.png.

The images are drawn here with matplotlib, so the script needs no data.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import matplotlib.pyplot as plt
import numpy as np
import skimage.color
import skimage.filters
import skimage.measure
import skimage.morphology
from matplotlib.patches import Polygon, Rectangle

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


def hard_shadow(ax):
    """The word on white paper, with the lower right of the page in a hard
    shadow (a phone held over the page) that halves the light."""
    for i, c in enumerate(WORD):
        ax.text(0.5 + 1.4 * i, 0.9, c, fontsize=44, fontweight='bold', va='baseline', color='0.15')
    ax.add_patch(Polygon([(3.2, 0), (8, 0), (8, 2.5), (5.2, 2.5)], color='black', alpha=0.55, lw=0))


def plain_find_letters(image):
    """The handout's outline of findLetters: blur, Otsu's global threshold,
    a closing, connected components and their boxes (specks under 1% of the
    largest box's area dropped). Returns (boxes, bw)."""
    gray = skimage.color.rgb2gray(image[..., :3]) if image.ndim == 3 else image
    gray = skimage.filters.gaussian(gray, sigma=1)
    ink = skimage.morphology.closing(gray < skimage.filters.threshold_otsu(gray), skimage.morphology.square(3))
    regions = skimage.measure.regionprops(skimage.measure.label(ink, connectivity=2))
    boxes = np.array([r.bbox for r in regions], int).reshape(-1, 4)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[area >= 0.01 * area.max()] if len(boxes) else boxes, 1.0 - ink


def show(image, n_letters, title, path):
    """The plain method's boxes and findLetters' boxes on the image, and
    findLetters' bw. Returns the two box counts."""
    counts = {}
    fig, axes = plt.subplots(1, 3, figsize=(19, 2.6))
    for ax, (name, method) in zip(axes, (('handout\'s plain method', plain_find_letters),
                                          ('findLetters', findLetters))):
        boxes, bw = method(image)
        counts[name] = len(boxes)
        ax.imshow(image)
        for y1, x1, y2, x2 in boxes:
            ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec='red', lw=2))
        ax.set_title(f'{name}: {len(boxes)} boxes for {n_letters} letters')
    axes[2].imshow(bw, cmap='Greys_r', vmin=0, vmax=1)
    axes[2].set_title('findLetters bw (black = ink)')
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle(title, fontsize=12, y=1.04)
    save_figure(fig, path)
    return counts


CASES = [  # (file, drawing, letters, title)
    ('failure_ruled_background.png', ruled_background, len(WORD),
     'Assumption "the page is plain" broken: dark rules join the letters and the grid into one component'),
    ('failure_shadow.png', hard_shadow, len(WORD),
     'Assumption "the light is even" broken: one global threshold puts the shadow on the ink side'),
    ('failure_touching.png', touching_letters, 2 * len(WORD),
     'Assumption "one letter = one component" broken: touching letters get one box (both methods)'),
]


def main():
    parser = Parser(__doc__)
    add_output_args(parser, 'q4')
    args = parser.parse_args()
    out = prepare_output_dir(args.out, args.force)
    for name, draw, n_letters, title in CASES:
        counts = show(render(draw), n_letters, title, out / name)
        print(f'{name}: ' + ', '.join(f'{k} {v} boxes' for k, v in counts.items()) + f' for {n_letters} letters')


if __name__ == '__main__':
    run_main(main)
