"""Is a fetched data file what the scripts need? Called by scripts/get_data.sh.

    python python/check_data.py PATH...

Prints one line per file that is not usable, "PATH: reason", and exits with 1
if there was one (0 when every file is fine). A file whose checksum the
offline mirror lists (../shared/README.md) passes when it matches it; any
other file, or one that does not match (your own copy of a course file, say),
is loaded the way the scripts load it: a .mat through the NIST36 loader,
photos decoded to the last byte, IDX files measured against their header,
weights through torch, the flowers folder photo by photo. A truncated or
otherwise damaged file fails here, once, instead of deep inside a training
run. A name ending in .part (a file being fetched) is checked as the name
without it.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import hashlib
import sys
from pathlib import Path

from util import Parser, UsageError, short_reason

# sha256 of the mirror's files, from its README (for the IDX files: of the
# extracted content, which is what data/ holds).
KNOWN_SHA256 = {
    'nist36_test.mat': '2cf83816920888c1a7f63518f88300eafb7a11cdc28198bb360f607359563542',
    'nist36_train.mat': '03682b45fa6ab354045103ee9c9c697db374cc0bf3f0ff6199fd571ae8593b8e',
    'nist36_valid.mat': '069ddcb1170a7b559a24294d8299befa7d4f2abdf6b2575d2fbc5afc6bc0cfb7',
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    'emnist-balanced-train-images-idx3-ubyte':
        '6fb5836b7dc16967cdf9f3997fb28c46a67d84fe06eeac8bbf5e2e9841e7fb4d',
    'emnist-balanced-test-images-idx3-ubyte':
        '5454055dd4955401634f340228f2d9b5b547cbabe42651cba8a6852f318dd9ab',
    'squeezenet1_0-deepcompression-imagenet.pth':
        '65a0e92f07dff4659cbce6cf36c447cedfea19a6fc23dcdea4e544ae00526f70',
}
PHOTO_SUFFIXES = ('.jpg', '.jpeg', '.png')
FLOWER_SPLITS = ('train', 'val', 'test')
FLOWER_CLASSES = 17


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def check_mat(path):
    """Through the scripts' own loader: keys, shapes, pixels, one-hot labels.
    (It finds the file by its name, so a .mat is checked under its own.)"""
    from data import load_nist36  # scipy loads only when a .mat is checked
    load_nist36(path.name[len('nist36_'):-len('.mat')], path.parent)


def check_photo(path, fast=False):
    """Decode the whole photo: a truncated file fails only at its last byte.
    fast: decode JPEGs at 1/8 size (still to the last byte), for folders."""
    from PIL import Image
    with Image.open(path) as image:
        if fast:
            image.draft('RGB', (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()


def check_idx(path):
    """An IDX file (MNIST, EMNIST): magic 0 0 8 ndim, ndim big-endian sizes,
    then exactly their product in bytes."""
    data = path.read_bytes()
    if len(data) < 4 or data[:2] != b'\0\0' or data[2] != 8:
        raise ValueError('not an IDX file of bytes (wrong magic number)')
    ndim = data[3]
    header = 4 + 4 * ndim
    sizes = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    body = 1
    for size in sizes:
        body *= size
    if len(data) != header + body or body == 0:
        raise ValueError(f'the header promises {sizes} ({header + body} bytes), the file has {len(data)} bytes')


def check_mapping(path):
    """emnist-balanced-mapping.txt: 47 lines of "<label> <character code>"."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if len(lines) != 47 or any(len(parts) != 2 or not all(p.isdigit() for p in parts) for parts in lines):
        raise ValueError('expected 47 lines of "<label> <character code>"')


def check_weights(path):
    from torch_common import check_finite_weights, load_tensors
    state = load_tensors(path, 'weights file', 'fetch it again')
    if not isinstance(state, dict) or not state:
        raise ValueError('not a state dict')
    check_finite_weights(state, path, 'fetch it again')


def check_flowers(folder):
    """train/val/test, each with one folder of photos per class, and classes.txt."""
    names = (folder / 'classes.txt').read_text().splitlines() if (folder / 'classes.txt').is_file() else []
    if len([n for n in names if n.strip()]) != FLOWER_CLASSES:
        raise ValueError(f'classes.txt must name the {FLOWER_CLASSES} classes')
    for split in FLOWER_SPLITS:
        classes = [d for d in (folder / split).iterdir() if d.is_dir()] if (folder / split).is_dir() else []
        if len(classes) != FLOWER_CLASSES:
            raise ValueError(f'{split}/ must hold {FLOWER_CLASSES} class folders, it holds {len(classes)}')
        for class_dir in classes:
            photos = [p for p in class_dir.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES]
            if not photos:
                raise ValueError(f'{split}/{class_dir.name}/ holds no photos')
            for photo in photos:
                try:
                    check_photo(photo, fast=True)
                except Exception as e:  # noqa: BLE001 - name the photo, then the reason
                    raise ValueError(f'{photo.relative_to(folder)}: {short_reason(e)}') from None


def problem(path):
    """Why ``path`` is not usable, or None when it is."""
    path = Path(path)
    name = path.name[:-len('.part')] if path.name.endswith('.part') else path.name
    if not path.exists():
        return 'missing' + (' (a link to a file that is gone)' if path.is_symlink() else '')
    if path.is_dir() != (name == 'oxford-flowers17'):
        return 'a folder where a file belongs' if path.is_dir() else 'a file where a folder belongs'
    if name in KNOWN_SHA256 and sha256(path) == KNOWN_SHA256[name]:
        return None  # byte for byte the mirror's file
    try:
        if name.startswith('nist36_') and path.name.endswith('.mat'):
            check_mat(path)
        elif name.endswith(PHOTO_SUFFIXES):
            check_photo(path)
        elif name.endswith('-ubyte'):
            check_idx(path)
        elif name.endswith('-mapping.txt'):
            check_mapping(path)
        elif name.endswith('.pth'):
            check_weights(path)
        elif name == 'oxford-flowers17':
            check_flowers(path)
        elif path.stat().st_size == 0:
            return 'empty'
    except UsageError as e:
        return str(e)
    except Exception as e:  # noqa: BLE001 - any failure to load means "not usable"
        return short_reason(e)
    return None


def main():
    parser = Parser(__doc__)
    parser.add_argument('paths', nargs='+', type=Path, help='files (or the flowers folder) to check')
    bad = [(p, problem(p)) for p in parser.parse_args().paths]
    bad = [(p, why) for p, why in bad if why]
    for path, why in bad:
        print(f'{path}: {why}')
    return 1 if bad else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except UsageError as e:  # only a bad command line gets here
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
