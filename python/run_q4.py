"""Q4.3-Q4.4: read the handwritten text in photos with the Q3 network.

    python python/run_q4.py [IMAGE ...] [--out DIR] [--classifier {mlp,emnist}]
                            [--pages N] [--page-seed S] [--quick]

For each image (default: every .jpg/.png in images/): read the file as a
photo viewer shows it (EXIF orientation, any pixel format), find the
characters (q4.findLetters), group them into lines along the page's tilt,
turn each box into a 32x32 crop in the training data's look, classify it,
insert spaces at wide gaps, and make each word all letters or all digits
(q4.consistent_word: "T0" -> "TO").

Then the OCR validation set: --pages labelled pages per condition, composed
by make_pages.py from *test-split* handwriting (NIST36 test for the MLP,
EMNIST test for the CNN) and photographed in the conditions a phone user
produces (tilt, shadows, ruled and squared paper, pencil, thin pens, blur and
JPEG, a desk, a whiteboard, EXIF rotation, 12 megapixels). They are read
exactly like the photos and scored per condition. A page set is composed
once and kept in <data-dir>/pages/ (`make data` composes the default one).

Writes to DIR (default results/q4/, or results/q4_emnist/ with --classifier emnist):
  <name>.txt          the extracted text, one line per text line
  <name>_boxes.png    the boxes on the image, each with the character read
  <name>_crops.png    the 32x32 crops exactly as the network sees them
                      (<name> is the image's file name without extension, or
                      folder_name when two images share a name)
  pages_accuracy.png  per condition: text accuracy, and the classifier's
                      accuracy on the page's crops against on the same
                      characters' own dataset images
  pages_examples.png  one page per condition with its boxes
  metrics.json        per image: boxes, findLetters seconds, text and, where
                      images/ground_truth.json has the image, character
                      accuracy (1 - edit distance / length on upper-case
                      letters and digits), with and without the word rule;
                      their means; the page set's scores per condition.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import os
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

import make_pages
import q4
from questions import EMNIST_NOTE, NIST36_NOTE
from util import (DATA_DIR, IMAGES_DIR, MARKER, RESULTS_DIR, REPO_ROOT, Parser, Timer, UsageError, at_least,
                  image_grid, load_json, load_params, prepare_output_dir, run_main, save_figure,
                  save_json, save_text, seed_value, writable)

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.gif', '.webp')
GROUND_TRUTH = IMAGES_DIR / 'ground_truth.json'
MLP_WEIGHTS = RESULTS_DIR / 'q3' / 'weights.pickle'
# Whose test-split handwriting the validation pages are written with: the
# classifier's own dataset, so no character on a page was seen in training.
PAGE_SOURCE = {'mlp': 'nist36', 'emnist': 'emnist'}
PAGE_NOTE = {'mlp': NIST36_NOTE, 'emnist': EMNIST_NOTE}


def image_paths(args):
    """The images to read: the paths given (a folder means its images), or
    images/; a file named twice is read once."""
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
    return list({p.resolve(): p for p in paths}.values())


def output_names(paths):
    """A distinct name per image for its output files: the file name
    without extension, or folder_name where two images share a name (so
    a/page.png and b/page.jpg never overwrite each other's results)."""
    counts = Counter(p.stem for p in paths)
    names = {}
    for p in paths:
        name = p.stem if counts[p.stem] == 1 else f'{p.resolve().parent.name}_{p.stem}'
        while name in names.values():     # same folder name too: number them
            name += '_'
        names[p] = name
    return names


def load_image(path):
    """Read an image file as a viewer shows it; a file that is not an
    image is a UsageError."""
    try:
        return q4.load_image(path)
    except ValueError as e:
        raise UsageError(f'cannot read {path} as an image: {e}; pass a JPEG, PNG, BMP, TIFF, '
                         'GIF or WebP photo') from None


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


def show_image(ax, image, width=1300):
    """Draw a photo of any dtype at its own pixel coordinates, from a copy
    at most ``width`` pixels wide (as sharp as the saved figure, much faster)."""
    h, w = image.shape[:2]
    shown = q4.downscale(image, q4.work_factor(image.shape, width))
    shown /= np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1
    if shown.ndim == 3 and shown.shape[2] == 1:
        shown = shown[..., 0]
    ax.imshow(np.clip(shown, 0, 1), cmap='Greys_r' if shown.ndim == 2 else None, vmin=0, vmax=1,
              extent=(0, w, h, 0))
    ax.set_axis_off()


def draw_boxes(ax, boxes, chars=None, lw=1.2, unsure=None):
    """Red boxes, with the character read above each (blue) when given;
    boxes marked in unsure (bool (N,)) are orange, their character too.
    All the outlines are one LineCollection: a page's hundreds of boxes
    then draw many times faster than as one patch each."""
    if not len(boxes):
        return
    unsure = np.zeros(len(boxes), bool) if unsure is None else np.asarray(unsure)
    y1, x1, y2, x2 = np.asarray(boxes, float).T
    corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)]
    outlines = np.stack([np.stack(c, 1) for c in corners], 1)       # (N, 5 points, xy)
    ax.add_collection(LineCollection(outlines, colors=np.where(unsure, 'orange', 'red'), linewidths=lw))
    if chars is not None:
        size = np.median(y2 - y1)
        for k in range(len(boxes)):
            ax.text(x1[k], y1[k] - 0.08 * size, chars[k], color='orange' if unsure[k] else 'blue',
                    fontsize=9, fontweight='bold', va='bottom')


def plot_boxes(image, result, path, title):
    """The photo with one red box per character and the character read above it."""
    h, w = image.shape[:2]
    fig, ax = plt.subplots(figsize=(12, 12 * h / w + 0.6))
    show_image(ax, image)
    confidence = result['confidence']
    unsure = None if confidence is None else confidence < q4.LOW_CONFIDENCE
    draw_boxes(ax, result['boxes'], result['chars'], unsure=unsure)
    ax.set_title(title + '\nred: findLetters boxes, blue: the classifier\'s reading of each, '
                 f'orange: read with confidence under {q4.LOW_CONFIDENCE:.0%}')
    save_figure(fig, path)


def dev_photos_folder(given, quick):
    """The folder of real photos to score as a development set: --dev-photos
    when given; otherwise, unless --quick, the mirror's photos/ ($HW5_MIRROR,
    else ../shared beside the repo) when it holds a truth.json."""
    if given is not None:
        if not (given / 'truth.json').is_file():
            raise UsageError(f'--dev-photos {given} has no truth.json; pass a folder of photos with a '
                             'truth.json mapping each file name to its text')
        return given
    mirror = Path(os.environ.get('HW5_MIRROR') or REPO_ROOT.parent / 'shared')
    found = mirror if mirror.is_absolute() else REPO_ROOT / mirror
    return None if quick or not (found / 'photos' / 'truth.json').is_file() else found / 'photos'


def read_dev_photos(folder, classify, classifier, out):
    """Read and score every photo named in folder/truth.json, as the photos
    are (their files get a dev_ prefix); returns the summary for metrics.json."""
    data = load_json(folder / 'truth.json')
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UsageError(f'{folder / "truth.json"} must map each photo\'s file name to its text')
    print(f'\nDevelopment photos ({folder}): real photos that Q4 was tuned on, not a held-out test')
    entries = {}
    for file, text in sorted(data.items()):
        path = folder / file
        entries[f'dev_{path.stem}'] = read_image(path, f'dev_{path.stem}', classify, classifier,
                                                 {path.stem: text}, out)
    scores = {k: v['char_accuracy'] for k, v in entries.items()}
    print(f'\ndevelopment photos: mean character accuracy {np.mean(list(scores.values())):.3f} over '
          f'{len(scores)}, lowest {min(scores.values()):.3f}')
    return {'folder': shown_path(folder), 'photos': len(scores),
            'note': 'a development set: real photos Q4 was tuned on, not a held-out score',
            'char_accuracy': {k[4:]: v for k, v in scores.items()},
            'mean_char_accuracy': float(np.mean(list(scores.values()))),
            'min_char_accuracy': float(min(scores.values())), 'images': entries}


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


def read_page(image, classify):
    """findLetters, then reading order, crops and classification (q4.read_text)."""
    boxes, bw = q4.findLetters(image)
    return q4.read_text(boxes, bw, classify, image)


def no_text_message(result):
    """One line on why a photo gave no text."""
    if result['rejected']:
        return (f'(no text found: the {result["rejected"]} marks findLetters found read as characters '
                f'with a median confidence of only {result["rejected_confidence"]:.2f}, so none is written)')
    return '(no text found: nothing on the photo lines up like writing)'


def read_image(path, name, classify, classifier, truth, out):
    """Read one image's text, save its text and figures; return its metrics."""
    image = load_image(path)
    with Timer() as t:
        try:
            boxes, bw = q4.findLetters(image)
        except ValueError as e:
            raise UsageError(f'{path}: {e}') from None
    result = q4.read_text(boxes, bw, classify, image)
    n_lines = len(set(result['line_of'].tolist()))
    print(f'\n{path.name}: {len(result["boxes"])} characters in {n_lines} lines, tilt {result["angle"]:.1f} '
          f'degrees (findLetters {t.seconds:.2f} s)')
    print(result['text'] or no_text_message(result))
    confidence = result['confidence']
    if confidence is not None and len(confidence):
        print(f'confidence per character: median {np.median(confidence):.2f}, '
              f'{int(np.sum(confidence < q4.LOW_CONFIDENCE))} of {len(confidence)} under '
              f'{q4.LOW_CONFIDENCE:.0%} (orange in the boxes figure)')

    save_text(out / f'{name}.txt', result['text'] + '\n' if result['text'] else '')
    found = len(result['boxes'])
    entry = {'path': shown_path(path), 'boxes': found, 'lines': n_lines,
             'tilt_degrees': result['angle'], 'findletters_seconds': t.seconds,
             'text': result['text'], 'raw_text': result['raw_text'],
             'chars': result['chars'],
             'confidence': None if confidence is None else [round(float(c), 3) for c in confidence],
             'no_text': None if result['text'] else no_text_message(result),
             'files': [f'{name}.txt', f'{name}_boxes.png'] + ([f'{name}_crops.png'] if found else [])}
    title = f'{path.name}: {found} characters found'
    if path.stem in truth:
        entry['char_accuracy'] = q4.char_accuracy(result['text'], truth[path.stem])
        entry['char_accuracy_raw'] = q4.char_accuracy(result['raw_text'], truth[path.stem])
        print(f'character accuracy {entry["char_accuracy"]:.3f} '
              f'(the classifier alone, without the word rule: {entry["char_accuracy_raw"]:.3f})')
        title += f', character accuracy {entry["char_accuracy"]:.0%}'
    plot_boxes(image, result, writable(out / f'{name}_boxes.png'), title)
    if found:
        side = len(result['crops'][0])     # 32 for the MLP (NIST36's size), 28 for the EMNIST CNN
        image_grid(result['crops'], writable(out / f'{name}_crops.png'),
                   f'{path.name}: the {side}x{side} inputs of the {classifier} classifier and what it read',
                   labels=result['chars'])
    return entry


# ----------------------------------------------------------------------------
# The OCR validation set
# ----------------------------------------------------------------------------
def validate_on_pages(classifier, classify, per_condition, seed, data_dir, out):
    """Compose the page set for this classifier, read every page as a file,
    and score it per condition (make_pages.score_page). Saves the two page
    figures; returns the summary for metrics.json."""
    source = PAGE_SOURCE[classifier]
    glyphs, labels = make_pages.load_glyphs(source, data_dir)
    print(f'\nOCR validation: {per_condition} page(s) per condition from {source} test-split '
          f'handwriting, seed {seed}')
    folder = make_pages.page_folder(data_dir, source, per_condition, seed)
    with Timer() as t:
        pages = make_pages.page_set(glyphs, labels, per_condition, seed, folder)
    print(f'{len(pages)} pages ready in {t.seconds:.0f} s (kept in {folder})')
    scores, results = [], {}
    with Timer() as t:
        for page in pages:
            def read(image, name=page.name):        # kept for the examples figure
                results[name] = read_page(image, classify)
                return results[name]
            scores.append(make_pages.score_page(page, read, lambda idx: classify.native(glyphs[idx])))
    summary = make_pages.summarise(scores)
    print(f'read them in {t.seconds:.0f} s\n{"condition":14s} {"text":>6s} {"recall":>7s} '
          f'{"precis.":>7s} {"crops":>6s} {"dataset":>7s}')
    for cond, r in [*summary['per_condition'].items(), ('all', summary['all'])]:
        print(f'{cond:14s} {r["char_accuracy"]:6.3f} {r["box_recall"]:7.3f} {r["box_precision"]:7.3f} '
              f'{r["crop_accuracy"]:6.3f} {r["dataset_accuracy"]:7.3f}')
    plot_page_accuracy(summary, writable(out / 'pages_accuracy.png'),
                       f'{classifier} classifier on {len(pages)} generated pages ({source} test handwriting)')
    plot_page_examples(pages[::per_condition], results, writable(out / 'pages_examples.png'))
    return {'source': f'{source} test split', 'note': PAGE_NOTE[classifier], 'seed': seed,
            'pages_per_condition': per_condition, 'conditions': list(make_pages.CONDITIONS),
            'metric': 'char_accuracy: as for the photos; box recall/precision at IoU >= 0.5; '
                      'crop_accuracy: the classifier on the found characters\' crops; '
                      'dataset_accuracy: on the same characters\' own test images',
            **summary, 'pages': scores}


def plot_page_accuracy(summary, path, title):
    """Bars per condition: text accuracy, crop accuracy, dataset accuracy."""
    rows = {**summary['per_condition'], 'all': summary['all']}
    names = list(rows)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(13, 4.5))
    for k, (key, label) in enumerate([('char_accuracy', 'text (word rule)'),
                                      ('crop_accuracy', 'classifier on the page\'s crops'),
                                      ('dataset_accuracy', 'classifier on the same characters\' test images')]):
        ax.bar(x + (k - 1) * 0.27, [rows[n][key] for n in names], 0.27, label=label)
    ax.set_xticks(x, [n.replace('_', '\n') for n in names])
    ax.set_ylim(0, 1)
    ax.set_ylabel('accuracy')
    ax.grid(axis='y', alpha=0.3)
    ax.legend(loc='lower left', fontsize=8)
    ax.set_title(title)
    save_figure(fig, path)


def plot_page_examples(pages, results, path):
    """One page per condition, with the boxes findLetters found
    (results: page name -> what read_page returned for it)."""
    cols = 4
    rows = int(np.ceil(len(pages) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 5.2 * rows), squeeze=False)
    for ax, page in zip(axes.flat, pages):
        result = results[page.name]
        show_image(ax, q4.load_image(page.file_bytes), width=500)   # a 4-inch panel
        draw_boxes(ax, result['boxes'], lw=0.5)
        ax.set_title(f'{page.condition}: {len(result["boxes"])} boxes for {len(page.chars)} characters',
                     fontsize=9)
    for ax in axes.flat[len(pages):]:
        ax.set_axis_off()
    save_figure(fig, path)


def remove_stale_outputs(out, keep):
    """Delete the files an earlier run of this script listed in out's
    metrics.json that this run does not write again, so the folder never
    holds results that its metrics.json does not describe. Only files this
    script wrote are touched, and only in a folder this project made."""
    old = out / 'metrics.json'
    if not (out / MARKER).exists() or not old.exists():
        return
    try:
        listed = load_json(old).get('files', [])
    except (UsageError, AttributeError):
        return
    for name in set(listed) - set(keep):
        if isinstance(name, str) and Path(name).name == name and (out / name).is_file():
            (out / name).unlink()


def main():
    parser = Parser(__doc__)
    parser.add_argument('images', nargs='*', type=Path,
                        help='image files or folders (default: every image in images/)')
    parser.add_argument('--classifier', choices=('mlp', 'emnist'), default='mlp',
                        help='mlp: the Q3 network; emnist: the Q7.1 EMNIST CNN')
    parser.add_argument('--weights', type=Path, default=MLP_WEIGHTS,
                        help='Q3 weights for --classifier mlp')
    parser.add_argument('--ground-truth', type=Path, default=GROUND_TRUTH,
                        help='JSON of {image stem: [text lines]} for the accuracy')
    # One page per condition (about 2,000 characters in all) keeps the run
    # short; more pages give a tighter estimate per condition.
    parser.add_setting('--pages', at_least(0), make_pages.RUN_Q4_SET['per_condition'], 0,
                       'generated validation pages per condition (0: none)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: the photos only, no validation pages (unless --pages is given)')
    parser.add_argument('--page-seed', type=seed_value, default=make_pages.RUN_Q4_SET['seed'],
                        help='seed of the page set')
    parser.add_argument('--data-dir', type=Path, default=DATA_DIR,
                        help='datasets folder (test-split handwriting for the pages)')
    parser.add_argument('--dev-photos', type=Path, default=None,
                        help='a folder of real photos with a truth.json ({file name: text}) to score as '
                             'a development set (default: $HW5_MIRROR/photos or ../shared/photos when '
                             'present, except with --quick)')
    parser.add_argument('--out', type=Path, default=None,
                        help='output folder (default results/q4, or results/q4_emnist)')
    parser.add_argument('--force', action='store_true',
                        help='write into --out even if it holds files this project did not make '
                             '(it never replaces them)')
    args = parser.parse_args()
    paths = image_paths(args.images)
    truth = load_ground_truth(args.ground_truth)
    dev_folder = dev_photos_folder(args.dev_photos, args.quick)
    classify = load_classifier(args.classifier, args.weights)
    default_out = RESULTS_DIR / ('q4' if args.classifier == 'mlp' else f'q4_{args.classifier}')
    out = prepare_output_dir(args.out or default_out, args.force)

    names = output_names(paths)
    with Timer() as total:
        per_image = {names[p]: read_image(p, names[p], classify, args.classifier, truth, out) for p in paths}
        dev = read_dev_photos(dev_folder, classify, args.classifier, out) if dev_folder else None
        pages = (validate_on_pages(args.classifier, classify, args.pages, args.page_seed, args.data_dir, out)
                 if args.pages else None)

    scored = {k: v['char_accuracy'] for k, v in per_image.items() if 'char_accuracy' in v}
    raw = [v['char_accuracy_raw'] for v in per_image.values() if 'char_accuracy_raw' in v]
    files = [f for v in [*per_image.values(), *(dev['images'].values() if dev else [])] for f in v['files']]
    files += ['pages_accuracy.png', 'pages_examples.png'] if pages else []
    metrics = {'classifier': args.classifier,
               'weights': shown_path(args.weights) if args.classifier == 'mlp' else None,
               'char_accuracy': scored,
               'mean_char_accuracy': float(np.mean(list(scored.values()))) if scored else None,
               'mean_char_accuracy_raw': float(np.mean(raw)) if raw else None,
               'metric': '1 - Levenshtein distance / length, on upper-case letters and digits '
                         '(spaces and punctuation removed); _raw: without the word rule',
               'images': per_image, 'dev_photos': dev, 'validation_pages': pages, 'files': files,
               'seed': args.page_seed if pages else None, 'seconds': total.seconds}
    if scored:
        print(f'\nmean character accuracy over {len(scored)} images: {metrics["mean_char_accuracy"]:.3f} '
              f'(without the word rule: {metrics["mean_char_accuracy_raw"]:.3f})')
    remove_stale_outputs(out, files)
    save_json(out / 'metrics.json', metrics)


if __name__ == '__main__':
    run_main(main)
