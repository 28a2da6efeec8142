"""Q4: finding letters, reading order, crops in the NIST36 look, the
accuracy metric, and clear behaviour on bad input. Every image is drawn here."""
import numpy as np
import pytest
import skimage.io
from skimage import draw

import nn
import q4
import run_q4
from conftest import run_script
from util import UsageError, save_params

PAPER = 0.85   # photos are never pure white
INK = 0.2
STROKE = 6


def thick_line(img, r0, c0, r1, c1, width=STROKE):
    """Draw a line of the given width as a filled polygon."""
    dr, dc = np.array([c1 - c0, r0 - r1], float) * width / 2 / np.hypot(c1 - c0, r1 - r0)  # normal
    rr, cc = draw.polygon([r0 + dr, r1 + dr, r1 - dr, r0 - dr],
                          [c0 + dc, c1 + dc, c1 - dc, c0 - dc], img.shape)
    img[rr, cc] = INK


def synthetic_page():
    """A page with six 'characters' on two lines, a speck and a ruled line.

    Returns (gray image, true boxes [y1, x1, y2, x2] in reading order).
    The T is drawn with its bar apart from its stem (two components that
    must be merged), the speck must be dropped and the rule ignored.
    """
    img = np.full((400, 700), PAPER)
    boxes = []
    # line 1: I, O, L
    thick_line(img, 60, 80, 150, 80); boxes.append((57, 77, 153, 84))
    rr, cc = draw.disk((105, 200), 45, shape=img.shape); img[rr, cc] = INK
    rr, cc = draw.disk((105, 200), 45 - STROKE, shape=img.shape); img[rr, cc] = PAPER
    boxes.append((60, 155, 151, 246))
    thick_line(img, 60, 300, 150, 300); thick_line(img, 147, 297, 147, 360)
    boxes.append((57, 297, 153, 363))
    # line 2: V, T (bar drawn apart from the stem), X
    thick_line(img, 230, 80, 320, 110); thick_line(img, 320, 110, 230, 140)
    boxes.append((227, 77, 323, 143))
    thick_line(img, 232, 200, 232, 270); thick_line(img, 242, 235, 320, 235)
    boxes.append((229, 197, 323, 273))
    thick_line(img, 230, 320, 320, 390); thick_line(img, 320, 320, 230, 390)
    boxes.append((227, 317, 323, 393))
    img[200:203, 500:503] = INK                 # a speck of dust
    img[380:383, 20:680] = 0.75                 # a faint ruled line
    return img, np.array(boxes)


def iou(a, b):
    inter = (max(0, min(a[2], b[2]) - max(a[0], b[0])) *
             max(0, min(a[3], b[3]) - max(a[1], b[1])))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def match(found, truth):
    """Best IoU of each true box among the found ones."""
    return [max((iou(t, f) for f in found), default=0.0) for t in truth]


# ----------------------------------------------------------------------------
# findLetters
# ----------------------------------------------------------------------------
@pytest.mark.parametrize('form', ['gray_float', 'rgb_uint8', 'rgba_uint8', 'gray_uint16'])
def test_findletters_finds_every_character_once(form):
    gray, truth = synthetic_page()
    image = {'gray_float': gray,
             'rgb_uint8': np.repeat((gray * 255).astype(np.uint8)[..., None], 3, axis=2),
             'rgba_uint8': np.dstack([np.repeat((gray * 255).astype(np.uint8)[..., None], 3, axis=2),
                                      np.full(gray.shape, 255, np.uint8)]),
             'gray_uint16': (gray * 65535).astype(np.uint16)}[form]
    boxes, bw = q4.findLetters(image)
    assert boxes.shape == (len(truth), 4), boxes
    assert min(match(boxes, truth)) > 0.5
    assert bw.shape == gray.shape and bw.dtype.kind == 'f'
    assert set(np.unique(bw)) <= {0.0, 1.0}
    assert bw[truth[1][0] + 2, 200] == 0.0            # the top of the O is ink
    assert bw[5, 5] == 1.0 and bw[381, 300] == 1.0   # paper and the faint rule are white


def test_findletters_on_a_large_photo_sized_image_scales_boxes_back():
    """A 4x bigger page is worked on at reduced resolution; boxes must come
    back in the input's pixels."""
    gray, truth = synthetic_page()
    big = np.kron(gray, np.ones((6, 6)))
    boxes, bw = q4.findLetters(big)
    assert bw.shape == big.shape
    assert len(boxes) == len(truth)
    assert min(match(boxes, truth * 6)) > 0.5


def test_transparent_rgba_counts_as_paper():
    gray, truth = synthetic_page()
    rgba = np.zeros(gray.shape + (4,), np.uint8)   # black but fully transparent ...
    ink = gray < 0.5
    rgba[ink, 3] = 255                               # ... except the characters
    boxes, _ = q4.findLetters(rgba)
    assert len(boxes) == len(truth) and min(match(boxes, truth)) > 0.5


@pytest.mark.parametrize('image', [np.full((300, 400, 3), 200, np.uint8),
                                   np.full((300, 400), 0.9),
                                   np.random.default_rng(0).normal(0.8, 0.01, (300, 400)).clip(0, 1)])
def test_blank_page_gives_no_boxes(image):
    boxes, bw = q4.findLetters(image)
    assert boxes.shape == (0, 4)
    assert bw.shape == image.shape[:2] and (bw == 1).all()


@pytest.mark.parametrize('image, message', [
    (np.zeros((8, 8, 3), np.uint8), 'at least'),
    (np.zeros((100,)), 'shape'),
    (np.zeros((100, 100, 2)), 'shape'),
    (np.full((50, 50), 3.0), r'\[0, 1\]'),
    (np.full((50, 50), np.nan), r'\[0, 1\]'),
    (np.array([['a'] * 50] * 50), 'numeric'),
])
def test_findletters_rejects_what_is_not_an_image(image, message):
    with pytest.raises(ValueError, match=message):
        q4.findLetters(image)


# ----------------------------------------------------------------------------
# Reading order and spaces
# ----------------------------------------------------------------------------
def test_group_lines_orders_lines_and_letters():
    # two lines of 4 boxes, letters bobbing up and down, one with a
    # descender, given in a scrambled order
    line1 = [(100 + d, 50 + 60 * i, 150 + d, 90 + 60 * i) for i, d in enumerate([0, 8, -6, 4])]
    line2 = [(200 + d, 40 + 60 * i, 250 + d + (25 if i == 2 else 0), 80 + 60 * i)
             for i, d in enumerate([3, -5, 0, 6])]
    boxes = np.array(line1 + line2)
    perm = np.random.default_rng(1).permutation(len(boxes))
    lines = q4.group_lines(boxes[perm])
    assert [perm[line].tolist() for line in lines] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_group_lines_follows_a_sloping_line_and_keeps_lines_apart():
    slope = [(100 + 12 * i, 50 * i, 140 + 12 * i, 50 * i + 30) for i in range(10)]  # drifts 108 px
    below = [(260 + 12 * i, 50 * i, 300 + 12 * i, 50 * i + 30) for i in range(10)]
    lines = q4.group_lines(np.array(below + slope))
    assert [line.tolist() for line in lines] == [list(range(10, 20)), list(range(10))]


def test_group_lines_empty_and_single():
    assert q4.group_lines(np.zeros((0, 4))) == []
    assert [x.tolist() for x in q4.group_lines(np.array([[0, 0, 10, 10]]))] == [[0]]


def test_spaces_go_where_gaps_are_wide():
    h, w = 40, 30
    lefts = [0, 40, 80, 160, 200, 290]  # letter gap 10, word gaps 50 and 60
    boxes = np.array([(0, x, h, x + w) for x in lefts])
    assert q4.space_after(boxes).tolist() == [False, False, True, False, True]
    assert q4.line_text(list('ABCDEF'), boxes) == 'ABC DE F'


def test_word_rule_makes_words_all_letters_or_all_digits():
    assert q4.consistent_word('T0') == 'TO'
    assert q4.consistent_word('L1ST') == 'LIST'
    assert q4.consistent_word('1Z3') == '123'
    assert q4.consistent_word('2') == '2'                 # a list number stays
    assert q4.consistent_word('A7') == 'A7'               # no lookalike: unchanged


# ----------------------------------------------------------------------------
# Crops in the NIST36 look
# ----------------------------------------------------------------------------
def test_prepare_crop_is_upright_centred_and_sized_like_nist36():
    mask = np.zeros((120, 60), bool)
    mask[:, :8] = True        # an L: stem on the left ...
    mask[-8:, :] = True       # ... foot at the bottom
    crop = q4.prepare_crop(mask)
    assert crop.shape == (32, 32) and crop.dtype == np.float32
    assert 0 <= crop.min() < 0.1 and crop.max() == 1.0
    ink = crop < 0.5
    rows, cols = np.nonzero(ink)
    assert abs(rows.max() - rows.min() + 1 - 26) <= 1.5             # larger side ~ 26 px, as NIST36
    assert abs((rows.min() + rows.max()) / 2 - 15.5) <= 1            # centred
    assert abs((cols.min() + cols.max()) / 2 - 15.5) <= 1
    top_half = ink[rows.min():16]
    assert top_half[:, :12].any() and not top_half[:, 20:].any()     # stem on the left
    assert ink[rows.max() - 1, 10:22].all()                          # foot along the bottom
    stroke = ink[12, :].sum()
    assert abs(stroke - 3.7) <= 1.5                                  # NIST36 stroke width


def test_prepare_crop_of_nothing_is_blank():
    assert (q4.prepare_crop(np.zeros((10, 10), bool)) == 1).all()


def test_character_mask_leaves_out_a_neighbours_stroke():
    bw = np.ones((50, 80), np.float32)
    bw[10:40, 10:14] = 0          # our character, a bar: box x 10..30
    bw[10:14, 10:30] = 0
    bw[20:24, 25:60] = 0          # a neighbour's stroke reaching into the box
    mask = q4.character_mask(bw, (10, 10, 40, 30))   # in the box's coordinates
    assert mask.shape == (30, 20)
    assert mask[5, 1] and mask[1, 15]                # our stem and bar
    assert not mask[11, 17]                          # the neighbour's stroke


def test_read_text_with_a_fake_classifier():
    gray, truth = synthetic_page()
    boxes, bw = q4.findLetters(gray)
    seen = []

    def classify(crops):
        seen.append(crops)
        return list('IOLVTX')
    result = q4.read_text(boxes, bw, classify)
    assert result['text'] == 'IOL\nVTX'
    assert seen[0].shape == (6, 32, 32)
    assert min(match(result['boxes'], truth)) > 0.5 and result['line_of'].tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match='returned 1 characters'):
        q4.read_text(boxes, bw, lambda crops: ['A'])


# ----------------------------------------------------------------------------
# Accuracy metric
# ----------------------------------------------------------------------------
def test_levenshtein():
    assert q4.levenshtein('kitten', 'sitting') == 3
    assert q4.levenshtein('', 'abc') == 3
    assert q4.levenshtein('abc', 'abc') == 0


def test_char_accuracy_ignores_case_spaces_and_punctuation():
    assert q4.char_accuracy('to do\nlist', '1. TO DO LIST') == pytest.approx(1 - 1 / 9)
    assert q4.char_accuracy('TODOLIST', 'TO DO LIST') == 1.0
    assert q4.char_accuracy('X' * 50, 'AB') == 0.0      # floored, not negative
    assert q4.char_accuracy('', '') == 1.0


# ----------------------------------------------------------------------------
# The script, as a user runs it
# ----------------------------------------------------------------------------
def test_run_q4_writes_text_boxes_and_metrics(tmp_path, weights):
    gray, _ = synthetic_page()
    skimage.io.imsave(tmp_path / 'page.png', (gray * 255).astype(np.uint8), check_contrast=False)
    skimage.io.imsave(tmp_path / 'blank.png', np.full((200, 300, 3), 230, np.uint8), check_contrast=False)
    (tmp_path / 'gt.json').write_text('{"page": ["IOL", "VTX"]}')
    out = tmp_path / 'out'
    run_script('run_q4.py', tmp_path / 'page.png', tmp_path / 'blank.png', '--weights', weights,
               '--ground-truth', tmp_path / 'gt.json', '--out', out, '--pages', 0)
    text = (out / 'page.txt').read_text().splitlines()
    assert [len(line.replace(' ', '')) for line in text] == [3, 3]
    assert (out / 'blank.txt').read_text() == ''
    for name in ('page_boxes.png', 'page_crops.png', 'blank_boxes.png', 'metrics.json'):
        assert (out / name).stat().st_size > 0
    metrics = run_q4.load_json(out / 'metrics.json')
    assert metrics['classifier'] == 'mlp'
    assert set(metrics['char_accuracy']) == {'page'}
    assert 0 <= metrics['mean_char_accuracy'] <= 1
    assert metrics['images']['blank']['boxes'] == 0


def write_file(folder, kind):
    path = folder / {'missing': 'missing.jpg', 'text': 'notes.jpg', 'tiny': 'tiny.png'}[kind]
    if kind == 'text':
        path.write_text('not an image')
    elif kind == 'tiny':
        skimage.io.imsave(path, np.zeros((5, 5), np.uint8), check_contrast=False)
    return path


@pytest.mark.parametrize('kind, message', [('missing', 'does not exist'), ('text', 'cannot read'),
                                           ('tiny', 'at least')])
def test_run_q4_bad_input_is_a_clear_error(tmp_path, weights, kind, message):
    proc = run_script('run_q4.py', write_file(tmp_path, kind), '--weights', weights,
                      '--out', tmp_path / 'out', '--pages', 0, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr and 'Traceback' not in proc.stderr


def test_run_q4_keeps_images_with_the_same_name_apart_and_drops_stale_outputs(tmp_path, weights):
    gray, _ = synthetic_page()
    for folder in ('a', 'b'):
        (tmp_path / folder).mkdir()
        skimage.io.imsave(tmp_path / folder / 'page.png', (gray * 255).astype(np.uint8), check_contrast=False)
    skimage.io.imsave(tmp_path / 'other.png', (gray * 255).astype(np.uint8), check_contrast=False)
    out = tmp_path / 'out'
    common = ('--weights', weights, '--out', out, '--pages', 0)
    run_script('run_q4.py', tmp_path / 'other.png', *common)
    assert (out / 'other.txt').exists()
    run_script('run_q4.py', tmp_path / 'a' / 'page.png', tmp_path / 'b' / 'page.png', *common)
    metrics = run_q4.load_json(out / 'metrics.json')
    assert set(metrics['images']) == {'a_page', 'b_page'}
    assert (out / 'a_page.txt').exists() and (out / 'b_page_boxes.png').exists()
    # other.* came from the earlier run, which this metrics.json does not describe
    assert not (out / 'other.txt').exists() and not (out / 'other_boxes.png').exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith('.')) == sorted(
        metrics['files'] + ['metrics.json'])


def test_run_q4_with_force_never_deletes_a_users_files(tmp_path, weights):
    import hashlib
    gray, _ = synthetic_page()
    skimage.io.imsave(tmp_path / 'page.png', (gray * 255).astype(np.uint8), check_contrast=False)
    mine = tmp_path / 'mine'
    mine.mkdir()
    (mine / 'notes.txt').write_text('my own notes')
    (mine / 'metrics.json').write_text('{"files": ["notes.txt"]}')
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in mine.iterdir()}
    proc = run_script('run_q4.py', tmp_path / 'page.png', '--weights', weights, '--out', mine,
                      '--force', '--pages', 0, check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr     # metrics.json is the user's
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in mine.iterdir() if p.name in before} == before


def test_missing_weights_name_the_script_that_makes_them(tmp_path):
    with pytest.raises(UsageError, match='run_q3.py'):
        run_q4.load_classifier('mlp', tmp_path / 'none.pickle')


def test_emnist_classifier_without_its_model_says_how_to_train_it(tmp_path, monkeypatch):
    emnist_ocr = pytest.importorskip('emnist_ocr')
    monkeypatch.setattr(emnist_ocr, 'MODEL_PATH', tmp_path / 'none.pt')
    with pytest.raises(UsageError, match='run_q7_1.py'):
        run_q4.load_classifier('emnist', None)
