"""Q4.3-Q4.4: read the handwritten text in photos with the Q3 network.

    python python/run_q4.py [IMAGE ...] [--out DIR] [--classifier {mlp,emnist}]

For each image (default: every .jpg/.png in images/): find the characters
(q4.findLetters), group them into lines, turn each box into a 32x32 image in
the NIST36 look, classify it, insert spaces at wide gaps, and make each word
all letters or all digits (q4.consistent_word: "T0" -> "TO"). Writes to DIR
(default results/q4/, or results/q4_emnist/ with --classifier emnist):
  <stem>.txt         the extracted text, one line per text line
  <stem>_boxes.png   the boxes on the image, each with the character read
  <stem>_crops.png   the 32x32 crops exactly as the network sees them
  metrics.json       per image: boxes, findLetters seconds, text and, where
                     images/ground_truth.json has the image, character
                     accuracy (1 - edit distance / length on upper-case
                     letters and digits), with and without the word rule;
                     their means.
"""
import nn  # noqa: F401,I001  (first: it sets the BLAS threads before numpy loads)

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import skimage.io
from matplotlib.patches import Rectangle

import q4
from util import (IMAGES_DIR, RESULTS_DIR, REPO_ROOT, Timer, UsageError, image_grid, load_json,
                  load_params, prepare_output_dir, run_main, save_figure, save_json)

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
GROUND_TRUTH = IMAGES_DIR / 'ground_truth.json'
MLP_WEIGHTS = RESULTS_DIR / 'q3' / 'weights.pickle'


def image_paths(args):
    """The images to read: the paths given (a folder means its images), or images/."""
    paths = []
    for p in args or [IMAGES_DIR]:
        p = Path(p)
        if p.is_dir():
            paths += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.exists():
            paths.append(p)
        else:
            raise UsageError(f'{p} does not exist; pass image files or folders '
                             '(the sample photos come from `bash scripts/get_data.sh images`)')
    if not paths:
        raise UsageError(f'no images found in {", ".join(map(str, args or [IMAGES_DIR]))}; '
                         'fetch the samples with `bash scripts/get_data.sh images`')
    return paths


def load_image(path):
    """Read an image file; a file that is not an image is a UsageError."""
    try:
        return skimage.io.imread(path)
    except Exception as e:  # imageio and Pillow raise many types for a bad file
        # Only the first line: imageio goes on to suggest installing plugins
        # (pyav, opencv) that this project neither needs nor allows.
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f'cannot read {path} as an image ({reason}); pass a JPEG, PNG, BMP '
                         'or TIFF photo') from None


def load_classifier(name, weights):
    """classify(crops (N, 32, 32)) -> N characters, for --classifier."""
    if name == 'mlp':
        return q4.mlp_classifier(load_params(weights, q4.MLP_SHAPES, made_by='run_q3.py'))
    try:
        from emnist_ocr import load_classifier as load_emnist
        return load_emnist()
    except (ImportError, FileNotFoundError) as e:
        raise UsageError(f'the EMNIST classifier is not available ({e}); '
                         'train it first with `python python/run_q7_1.py cnn_emnist`') from None


def plot_boxes(image, result, path, title):
    """The photo with one red box per character and the character read above it."""
    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(12, 12 * h / w + 0.6))
    # A 1300-pixel copy is as sharp as the saved figure and draws much faster.
    shown = q4.downscale(image, q4.work_factor(image.shape, 1300))
    shown /= np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1
    if shown.ndim == 3 and shown.shape[2] == 1:
        shown = shown[..., 0]
    ax.imshow(shown, cmap='Greys_r' if shown.ndim == 2 else None, vmin=0, vmax=1, extent=(0, w, h, 0))
    size = np.median(result['boxes'][:, 2] - result['boxes'][:, 0]) if len(result['boxes']) else 0
    for (y1, x1, y2, x2), c in zip(result['boxes'], result['chars']):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec='red', lw=1.2))
        ax.text(x1, y1 - 0.08 * size, c, color='blue', fontsize=9, fontweight='bold', va='bottom')
    ax.set_title(title + '\nred: findLetters boxes, blue: the classifier\'s reading of each')
    ax.set_axis_off()
    save_figure(fig, path)


def load_ground_truth(path):
    """{image stem: text} from a JSON of {stem: [lines]}; keys starting with
    '_' are comments. A missing default file just means no accuracy."""
    if path == GROUND_TRUTH and not path.exists():
        return {}
    data = load_json(path)
    if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(line, str) for line in v)
            for k, v in data.items() if not k.startswith('_')):
        raise UsageError(f'{path} must map each image name (without extension) to a list of text lines')
    return {k: '\n'.join(v) for k, v in data.items() if not k.startswith('_')}


def shown_path(path):
    """A path for metrics.json: relative to the repo when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def read_image(path, classify, classifier, truth, out):
    """Read one image's text, save its text and figures; return its metrics."""
    image = load_image(path)
    with Timer() as t:
        try:
            boxes, bw = q4.findLetters(image)
        except ValueError as e:
            raise UsageError(f'{path}: {e}') from None
    result = q4.read_text(boxes, bw, classify)
    n_lines = len(set(result['line_of'].tolist()))
    print(f'\n{path.name}: {len(boxes)} characters in {n_lines} lines (findLetters {t.seconds:.2f} s)')
    print(result['text'] or '(no text found)')

    stem = path.stem
    (out / f'{stem}.txt').write_text(result['text'] + '\n' if result['text'] else '')
    entry = {'boxes': len(boxes), 'lines': n_lines, 'findletters_seconds': t.seconds,
             'text': result['text'], 'raw_text': result['raw_text']}
    title = f'{path.name}: {len(boxes)} characters found'
    if stem in truth:
        entry['char_accuracy'] = q4.char_accuracy(result['text'], truth[stem])
        entry['char_accuracy_raw'] = q4.char_accuracy(result['raw_text'], truth[stem])
        print(f'character accuracy {entry["char_accuracy"]:.3f} '
              f'(the classifier alone, without the word rule: {entry["char_accuracy_raw"]:.3f})')
        title += f', character accuracy {entry["char_accuracy"]:.0%}'
    plot_boxes(image, result, out / f'{stem}_boxes.png', title)
    if len(boxes):
        image_grid(result['crops'], out / f'{stem}_crops.png',
                   f'{path.name}: the 32x32 inputs of the {classifier} classifier and what it read',
                   labels=result['chars'])
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('images', nargs='*', type=Path,
                        help='image files or folders (default: every image in images/)')
    parser.add_argument('--classifier', choices=('mlp', 'emnist'), default='mlp',
                        help='mlp: the Q3 network; emnist: the Q7.1 EMNIST CNN')
    parser.add_argument('--weights', type=Path, default=MLP_WEIGHTS,
                        help='Q3 weights for --classifier mlp')
    parser.add_argument('--ground-truth', type=Path, default=GROUND_TRUTH,
                        help='JSON of {image stem: [text lines]} for the accuracy')
    parser.add_argument('--out', type=Path, default=None,
                        help='output folder (default results/q4, or results/q4_emnist)')
    parser.add_argument('--force', action='store_true',
                        help='write into --out even if it holds files this project did not make')
    args = parser.parse_args()
    paths = image_paths(args.images)
    truth = load_ground_truth(args.ground_truth)
    classify = load_classifier(args.classifier, args.weights)
    default_out = RESULTS_DIR / ('q4' if args.classifier == 'mlp' else f'q4_{args.classifier}')
    out = prepare_output_dir(args.out or default_out, args.force)

    with Timer() as total:
        per_image = {path.stem: read_image(path, classify, args.classifier, truth, out) for path in paths}

    scored = {k: v['char_accuracy'] for k, v in per_image.items() if 'char_accuracy' in v}
    raw = [v['char_accuracy_raw'] for v in per_image.values() if 'char_accuracy_raw' in v]
    metrics = {'classifier': args.classifier,
               'weights': shown_path(args.weights) if args.classifier == 'mlp' else None,
               'char_accuracy': scored,
               'mean_char_accuracy': float(np.mean(list(scored.values()))) if scored else None,
               'mean_char_accuracy_raw': float(np.mean(raw)) if raw else None,
               'metric': '1 - Levenshtein distance / length, on upper-case letters and digits '
                         '(spaces and punctuation removed); _raw: without the word rule',
               'images': per_image, 'seed': None, 'seconds': total.seconds}
    if scored:
        print(f'\nmean character accuracy over {len(scored)} images: {metrics["mean_char_accuracy"]:.3f} '
              f'(without the word rule: {metrics["mean_char_accuracy_raw"]:.3f})')
    save_json(out / 'metrics.json', metrics)


if __name__ == '__main__':
    run_main(main)
