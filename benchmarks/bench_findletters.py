"""Time q4.findLetters on the sample photos and on a 12-megapixel phone photo
(the target: under 0.5 s for 12 megapixels on one core).

    python benchmarks/bench_findletters.py [--repeats 5] [--no-phone] [IMAGE ...]

The phone photo is the phone_12mp page of the OCR validation set
(make_pages.py: 3840 x 3008, a page on a desk, tilted, shadowed, thin pen,
JPEG), written with NIST36 test handwriting; it needs data/nist36_test.mat.
The process is pinned to one core where the OS allows it, and BLAS/OpenMP
run one thread (threads.py), so the figures are one core's.

Prints, per image, its size, the boxes found and the median and fastest
seconds of findLetters over the repeats (the image is read once, outside
the timing), with the median split by stage. A benchmark, not a test: it
prints figures and asserts nothing. Other processes on the machine inflate
the numbers; the load average is printed for that reason.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import threads  # noqa: E402,F401,I001  (first: sets the math libraries' threads before numpy loads)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import make_pages  # noqa: E402
import q4  # noqa: E402
from util import IMAGES_DIR  # noqa: E402


def stage_times(image):
    """findLetters' stages, timed one by one (the same calls it makes)."""
    t = [time.perf_counter()]
    image = q4.check_image(image)
    mask, dark, factor = q4.ink_at_work_scale(image)
    t.append(time.perf_counter())
    angle = q4.skew_of_mask(mask)
    mask = q4.remove_rules(mask, dark, angle, max(mask.shape) / 4, 0)
    char_h = q4.letter_height(mask)
    mask = q4.remove_rules(mask, dark, angle, q4.RULE_LENGTH * char_h, char_h)
    t.append(time.perf_counter())
    q4.character_boxes(mask, dark)
    t.append(time.perf_counter())
    q4.upscale_mask(mask, factor, image.shape[:2])
    t.append(time.perf_counter())
    return np.diff(t)


def phone_photo():
    """The 12-megapixel page of the validation set, decoded as a file."""
    glyphs, labels = make_pages.load_glyphs('nist36')
    k = make_pages.CONDITIONS.index('phone_12mp')
    page = make_pages.make_page('phone_12mp', glyphs, labels, np.random.default_rng([0, k, 0]))
    return q4.load_image(page.file_bytes)


def main():
    p = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('images', nargs='*', type=Path, help='images (default: images/0*.jpg)')
    p.add_argument('--repeats', type=int, default=5, help='timed runs per image')
    p.add_argument('--no-phone', action='store_true', help='skip the 12-megapixel page')
    args = p.parse_args()
    if hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    images = [(path.name, q4.load_image(path)) for path in args.images or sorted(IMAGES_DIR.glob('0*.jpg'))]
    if not args.no_phone:
        images.append(('phone_12mp (generated)', phone_photo()))
    if not images:
        raise SystemExit(f'no images in {IMAGES_DIR}; run `bash scripts/get_data.sh images`')

    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    print(f'{platform.processor() or platform.machine()}, pinned to {cores} core(s), '
          f'load average {load:.2f}; numpy {np.__version__}; {args.repeats} runs per image')
    print(f'{"image":24s} {"size":>11s} {"MP":>5s} {"boxes":>5s} {"median s":>9s} {"min s":>7s}   '
          f'median by stage: ink mask / rules / boxes / full-size bw')
    for name, image in images:
        times, stages = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            boxes, _ = q4.findLetters(image)
            times.append(time.perf_counter() - start)
            stages.append(stage_times(image))
        st = np.median(stages, axis=0)
        print(f'{name:24s} {image.shape[1]:>5d}x{image.shape[0]:<5d} {image.shape[0] * image.shape[1] / 1e6:5.1f} '
              f'{len(boxes):5d} {np.median(times):9.3f} {min(times):7.3f}   ' + ' / '.join(f'{s:.3f}' for s in st))


if __name__ == '__main__':
    main()
