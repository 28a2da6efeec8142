"""Q4 on what real photos hold: any scale, thick marker, a card on a
textured desk with a shadow, chalk on a board, touching letters, and photos
with no writing at all. Every image is drawn here; the real development
photos (../shared/photos) are scored when present."""
import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage as ndi
from skimage import draw

import make_pages
import q4
import run_q4
from conftest import run_script

PAPER, INK = 0.9, 0.15
# Six letters on two lines, drawn as strokes in a 100 x 100 cell: I L T / V X O
LETTERS = {'I': [((0, 50), (100, 50))],
           'L': [((0, 20), (100, 20)), ((100, 20), (100, 80))],
           'T': [((0, 10), (0, 90)), ((0, 50), (100, 50))],
           'V': [((0, 10), (100, 50)), ((100, 50), (0, 90))],
           'X': [((0, 10), (100, 90)), ((100, 10), (0, 90))],
           'O': 'ring'}
TEXT = ['ILT', 'VXO']


def stroke(img, p0, p1, width, value=INK):
    """A line of the given width with round ends."""
    (r0, c0), (r1, c1) = p0, p1
    n = int(max(abs(r1 - r0), abs(c1 - c0))) + 1
    for t in np.linspace(0, 1, n):
        rr, cc = draw.disk((r0 + t * (r1 - r0), c0 + t * (c1 - c0)), width / 2, shape=img.shape)
        img[rr, cc] = value


def draw_page(height=90, width_frac=0.1, shape=None, gap=0.6, text=TEXT):
    """A gray page with ``text`` (lines) written in letters ``height``
    pixels high and strokes width_frac * height wide. Returns (image, true
    boxes in reading order)."""
    w = max(1.0, width_frac * height)
    cell = height + 2 * w
    shape = shape or (int(cell * (1.8 * len(text) + 0.9)), int(cell * 5.5))
    img = np.full(shape, PAPER)
    boxes = []
    for li, line in enumerate(text):
        top = cell * (0.8 + 1.8 * li)
        for ci, ch in enumerate(line):
            left = cell * (0.6 + (1 + gap) * ci)
            s = height / 100
            if LETTERS[ch] == 'ring':
                cy, cx = top + 50 * s, left + 50 * s
                rr, cc = draw.disk((cy, cx), 50 * s + w / 2, shape=shape)
                img[rr, cc] = INK
                rr, cc = draw.disk((cy, cx), max(50 * s - w / 2, 1), shape=shape)
                img[rr, cc] = PAPER
            else:
                for (r0, c0), (r1, c1) in LETTERS[ch]:
                    stroke(img, (top + r0 * s, left + c0 * s), (top + r1 * s, left + c1 * s), w)
            ys, xs = np.nonzero(img[int(top - w):int(top + height + w + 2), int(left - w):int(left + height + w + 2)] < 0.5)
            boxes.append((int(top - w) + ys.min(), int(left - w) + xs.min(),
                          int(top - w) + ys.max() + 1, int(left - w) + xs.max() + 1))
    return img, np.array(boxes)


def recall(found, truth, min_iou=0.5):
    return len(q4.match_boxes(found, truth, min_iou)) / len(truth)


PAGE = draw_page()


# ----------------------------------------------------------------------------
# No fixed scale
# ----------------------------------------------------------------------------
@pytest.mark.parametrize('scale', [0.25, 0.5, 1, 2, 4])
def test_the_same_page_at_five_scales_reads_the_same(scale):
    """Letters 22 to 360 pixels high, strokes 2 to 36 pixels wide: every
    letter is found once, and the lines read in the same order."""
    image, truth = draw_page(height=90 * scale)
    boxes, bw = q4.findLetters(image)
    assert len(boxes) == len(truth), boxes
    assert recall(boxes, truth) == 1.0
    result = q4.read_text(boxes, bw, lambda crops: ['?'] * len(crops), image)
    order = [q4.match_boxes(b[None], truth)[0][1] for b in result['boxes']]
    assert order == list(range(len(truth)))              # I L T, then V X O
    assert result['line_of'].tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize('width_frac, height', [(0.1, 90), (0.2, 90), (0.25, 120), (0.15, 400)])
def test_thick_marker_keeps_every_letter(width_frac, height):
    """Strokes a tenth to a quarter of the letter height, and letters 40%
    of the photo's height (the last case)."""
    big = height == 400
    image, truth = draw_page(height, width_frac, shape=(1000, 2400) if big else None,
                             text=TEXT[:1] if big else TEXT)
    boxes, _ = q4.findLetters(image)
    assert recall(boxes, truth) == 1.0 and len(boxes) == len(truth), boxes


# ----------------------------------------------------------------------------
# A card on a desk, chalk, touching letters
# ----------------------------------------------------------------------------
def card_on_desk(seed=0, desk=(0.75, 0.6, 0.45), grow=1.7):
    """The page as an index card on a grained wooden desk (light by
    default) that shows on every side, with a hard shadow across the text;
    an RGB uint8 photo and the true boxes in it."""
    rng = np.random.default_rng(seed)
    gray, truth = PAGE
    rgb = np.repeat(gray[..., None], 3, axis=2).astype(np.float32)
    rgb *= make_pages.lighting(gray.shape, {'shadow': 0.45, 'shadow_softness': 3.0}, rng)[..., None]
    owner = np.zeros(gray.shape, np.int32)
    for k, (y1, x1, y2, x2) in enumerate(truth, start=1):
        owner[y1:y2, x1:x2][gray[y1:y2, x1:x2] < 0.5] = k
    style = {'desk_grow': grow, 'desk': desk, 'desk_grain': 0.25}
    photo, owner = make_pages.on_desk(rgb, owner, 2.0, style, rng)
    photo = make_pages.camera(photo, {'noise': 0.01}, rng)
    boxes = [[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in
             ndi.find_objects(owner)]
    return photo, np.array(boxes)


def test_a_card_on_a_textured_desk_with_a_shadow_keeps_every_letter_and_no_grain():
    photo, truth = card_on_desk()
    boxes, _ = q4.findLetters(photo)
    assert recall(boxes, truth) == 1.0
    assert len(boxes) == len(truth), 'desk grain or the card edge read as letters'


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_a_small_card_on_a_dark_grained_desk_is_not_read_as_light_ink(seed):
    """The desk is most of the photo, which makes findLetters try light ink
    on a dark ground too: the desk's light grain lines up, but the card's
    letters are the reading to keep."""
    photo, truth = card_on_desk(seed, desk=(0.25, 0.2, 0.15), grow=2.5)
    boxes, _ = q4.findLetters(photo)
    assert recall(boxes, truth) == 1.0 and len(boxes) <= len(truth) + 3, boxes


def test_chalk_on_a_board_is_read_like_ink_on_paper():
    image, truth = PAGE
    boxes, bw = q4.findLetters(1.0 - image)                 # light strokes on a dark ground
    assert recall(boxes, truth) == 1.0 and len(boxes) == len(truth)
    crops = q4.read_text(boxes, bw, lambda c: ['?'] * len(c), 1.0 - image)['crops']
    assert all((c < 0.5).any() for c in crops)               # the crops hold the strokes as ink


def test_touching_letters_are_cut_apart():
    image, truth = draw_page(gap=-0.05)                       # each letter overlaps the next
    boxes, _ = q4.findLetters(image)
    assert len(boxes) == len(truth)
    assert recall(boxes, truth, min_iou=0.4) >= 5 / 6


# ----------------------------------------------------------------------------
# No text: no characters
# ----------------------------------------------------------------------------
def desk_only(seed=0, shape=(900, 1200)):
    rng = np.random.default_rng(seed)
    grain = make_pages.smooth_noise((shape[0] // 8, shape[1]), 1, rng)
    grain = make_pages.transform.resize(make_pages.ndi.uniform_filter1d(grain, 60, axis=1), shape, order=1)
    rgb = np.ones(shape + (3,), np.float32) * np.array([0.55, 0.42, 0.3], np.float32) * (1 + 0.2 * grain)[..., None]
    return make_pages.camera(rgb, {'noise': 0.015, 'blur': 0.8}, rng)


def blank_photo(seed=0, shape=(900, 1200)):
    rng = np.random.default_rng(seed)
    light = make_pages.lighting(shape, {'gradient': 0.3}, rng)
    return make_pages.camera(np.ones(shape + (3,), np.float32) * 0.92 * light[..., None], {'noise': 0.015}, rng)


def as_jpeg(image, quality):
    """What a phone or a messenger stores: the image through JPEG."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, 'JPEG', quality=quality)
    return q4.load_image(buf.getvalue())


@pytest.mark.parametrize('make', [blank_photo, desk_only])
@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('quality', [None, 50, 75])
def test_a_blank_photo_or_a_desk_gives_no_characters(make, seed, quality):
    """Also through heavy JPEG, whose block edges and smeared noise line up."""
    image = make(seed) if quality is None else as_jpeg(make(seed), quality)
    boxes, bw = q4.findLetters(image)
    assert boxes.shape == (0, 4) and (bw == 1).all()


def test_marks_read_with_low_confidence_give_no_text():
    image, _ = PAGE
    boxes, bw = q4.findLetters(image)

    def unsure(crops):
        return ['A'] * len(crops)
    unsure.probabilities = lambda crops: np.full((len(crops), 36), 1 / 36)
    result = q4.read_text(boxes, bw, unsure, image)
    assert result['text'] == '' and result['chars'] == [] and result['rejected'] == len(boxes)

    sure = lambda crops: ['A'] * len(crops)  # noqa: E731
    sure.probabilities = lambda crops: np.eye(36)[np.zeros(len(crops), int)]
    result = q4.read_text(boxes, bw, sure, image)
    assert result['text'].replace('\n', '').replace(' ', '') == 'A' * len(boxes)
    assert np.allclose(result['confidence'], 1.0)


def test_the_word_rule_weighs_the_probabilities():
    def probs(*pairs):
        """(char, p) per position, the rest of the mass spread evenly."""
        out = np.full((len(pairs), 36), 0.0)
        for i, spec in enumerate(pairs):
            for c, p in spec:
                out[i, q4.CLASS_NAMES.index(c)] = p
        return out
    # D, then two 0s barely ahead of O, then P: letters
    word = probs([('D', .9)], [('0', .5), ('O', .45)], [('0', .5), ('O', .45)], [('P', .9)])
    assert q4.consistent_word_probs(word) == 'DOOP'
    # 2 1 J 5 0: the J is a misread 2 in a number
    word = probs([('2', .9)], [('1', .8)], [('J', .4), ('2', .35)], [('5', .9)], [('0', .9)])
    assert q4.consistent_word_probs(word) == '21250'
    assert q4.consistent_word_probs(probs([('7', .6), ('T', .3)])) == '7'   # one character stays


def checksums(folder):
    """{file: sha256} of every file below folder."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}


def test_run_q4_says_no_text_found_and_writes_none(tmp_path, weights):
    Image.fromarray(desk_only()).save(tmp_path / 'desk.jpg')
    out = tmp_path / 'out'
    proc = run_script('run_q4.py', tmp_path / 'desk.jpg', '--weights', weights, '--pages', 0, '--quick',
                      '--out', out)
    assert '(no text found' in proc.stdout
    assert (out / 'desk.txt').read_text() == ''
    entry = json.loads((out / 'metrics.json').read_text())['images']['desk']
    assert entry['boxes'] == 0 and entry['chars'] == [] and entry['no_text']


def test_run_q4_scores_a_folder_of_development_photos(tmp_path, weights):
    """--dev-photos: every photo in truth.json read as the photos are, its
    accuracy and each character's confidence in metrics.json."""
    dev = tmp_path / 'dev'
    dev.mkdir()
    gray, _ = PAGE
    Image.fromarray((gray * 255).astype(np.uint8)).save(dev / 'page.png')
    (dev / 'truth.json').write_text(json.dumps({'page.png': 'ILT\nVXO'}))
    before = checksums(dev)
    out = tmp_path / 'out'
    run_script('run_q4.py', dev / 'page.png', '--weights', weights, '--pages', 0, '--dev-photos', dev,
               '--out', out)
    assert checksums(dev) == before                       # the user's photos and truth are untouched
    metrics = json.loads((out / 'metrics.json').read_text())
    photos = metrics['dev_photos']
    assert set(photos['char_accuracy']) == {'page'} and 0 <= photos['mean_char_accuracy'] <= 1
    entry = photos['images']['dev_page']
    assert entry['boxes'] == 6 and len(entry['confidence']) == 6
    assert all(0 <= c <= 1 for c in entry['confidence'])
    assert (out / 'dev_page_boxes.png').stat().st_size > 0


def test_run_q4_refuses_a_dev_photos_folder_without_truth(tmp_path, weights):
    gray, _ = PAGE
    Image.fromarray((gray * 255).astype(np.uint8)).save(tmp_path / 'page.png')
    before = checksums(tmp_path)
    proc = run_script('run_q4.py', tmp_path / 'page.png', '--weights', weights, '--dev-photos', tmp_path,
                      check=False)
    assert proc.returncode == 2 and 'truth.json' in proc.stderr and 'Traceback' not in proc.stderr
    assert checksums(tmp_path) == before


# ----------------------------------------------------------------------------
# The real development photos, when the mirror is here
# ----------------------------------------------------------------------------
PHOTOS = run_q4.dev_photos_folder(None, quick=False)    # the mirror's photos/, when it is here


@pytest.mark.skipif(PHOTOS is None, reason='no development photos here')
def test_every_development_photo_gives_letters_in_lines():
    """No real photo is read as noise: each gives about as many boxes as
    its text has characters (the classifiers' accuracy is run_q4's)."""
    truth = json.loads((PHOTOS / 'truth.json').read_text())
    for name, text in truth.items():
        boxes, _ = q4.findLetters(q4.load_image(PHOTOS / name))
        n = len(q4.normalise_text(text))
        assert 0.7 * n <= len(boxes) <= 1.3 * n, (name, len(boxes), n)
