"""Time q4.findLetters on each sample photo (the target: at most 1 s each on
2 CPU cores).

    python benchmarks/bench_findletters.py [--repeats 5] [IMAGE ...]

Prints, per image, its size, the boxes found and the median and fastest
seconds of findLetters over the repeats (the image is read once, outside
the timing), with a breakdown of the median by stage. This is a benchmark,
not a test: it prints figures and asserts nothing. Other processes on the
machine inflate the numbers; the load average is printed for that reason.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'python'))

import nn  # noqa: E402,F401,I001  (first: it sets the BLAS threads before numpy loads)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import skimage.io  # noqa: E402

import q4  # noqa: E402
from util import IMAGES_DIR  # noqa: E402


def stage_times(image):
    """findLetters' three stages, timed one by one."""
    t = [time.perf_counter()]
    image = q4.check_image(image)
    mask, factor = q4.ink_at_work_scale(image)
    t.append(time.perf_counter())
    q4.character_boxes(mask)
    t.append(time.perf_counter())
    q4.upscale_mask(mask, factor, image.shape[:2])
    t.append(time.perf_counter())
    return np.diff(t)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('images', nargs='*', type=Path, help='images (default: images/0*.jpg)')
    p.add_argument('--repeats', type=int, default=5, help='timed runs per image')
    args = p.parse_args()
    paths = args.images or sorted(IMAGES_DIR.glob('0*.jpg'))
    if not paths:
        raise SystemExit(f'no images in {IMAGES_DIR}; run `bash scripts/get_data.sh images`')

    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else float('nan')
    print(f'{platform.processor() or platform.machine()}, {os.cpu_count()} cores, '
          f'load average {load:.2f}; numpy {np.__version__}; {args.repeats} runs per image')
    print(f'{"image":16s} {"size":>11s} {"boxes":>5s} {"median s":>9s} {"min s":>7s}   '
          f'median by stage: ink mask / boxes / full-size bw')
    for path in paths:
        image = skimage.io.imread(path)
        times, stages = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            boxes, _ = q4.findLetters(image)
            times.append(time.perf_counter() - start)
            stages.append(stage_times(image))
        st = np.median(stages, axis=0)
        print(f'{path.name:16s} {image.shape[1]:>5d}x{image.shape[0]:<5d} {len(boxes):5d} '
              f'{np.median(times):9.3f} {min(times):7.3f}   ' + ' / '.join(f'{s:.3f}' for s in st))


if __name__ == '__main__':
    main()
