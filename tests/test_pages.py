"""Q4's OCR validation set (make_pages.py) and what it checks: findLetters
finds the known boxes in every condition a phone user produces, and every
way a photo can be stored reads like the upright RGB original.

No dataset is needed: the handwriting is drawn here from a font, a few
slanted and scaled variants per character, in NIST36's 32x32 framing."""
import io

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.io  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import transform  # noqa: E402

import make_pages  # noqa: E402
import q4  # noqa: E402
from conftest import run_script  # noqa: E402
from data import from_image  # noqa: E402
from util import save_params  # noqa: E402


def render_char(c, angle, weight):
    """One character as (32, 32) ink 1 on 0, framed like NIST36: its box's
    larger side 26 pixels, centred."""
    fig = plt.figure(figsize=(1, 1), dpi=96)
    fig.text(0.5, 0.5, c, fontsize=48, ha='center', va='center', weight=weight, rotation=angle)
    fig.canvas.draw()
    ink = 1 - np.asarray(fig.canvas.buffer_rgba())[..., 0] / 255.0
    plt.close(fig)
    ys, xs = np.nonzero(ink > 0.5)
    ink = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    scale = 26 / max(ink.shape)
    ink = transform.resize(ink, np.maximum(1, np.round(np.array(ink.shape) * scale)).astype(int),
                           order=1, anti_aliasing=True)
    out = np.zeros((32, 32))
    top, left = (32 - np.array(ink.shape)) // 2
    out[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return out


@pytest.fixture(scope='module')
def glyphs():
    """(images (108, 32, 32), labels (108,)): three variants of each of the 36 characters."""
    images, labels = [], []
    for k, c in enumerate(make_pages.CHARS):
        for angle, weight in ((0, 'bold'), (-8, 'normal'), (6, 'bold')):
            images.append(render_char(c, angle, weight))
            labels.append(k)
    return np.array(images, np.float32), np.array(labels)


def nearest_template(glyphs):
    """A stand-in classifier: the character whose glyph is nearest (L2) to
    the crop. Good enough to read pages written with those very glyphs."""
    images, labels = glyphs

    def classify(crops):
        d = ((1 - np.asarray(crops)[:, None]) - images[None]) ** 2
        return [make_pages.CHARS[labels[k]] for k in d.sum(axis=(2, 3)).argmin(1)]
    classify.native = lambda g: classify(1 - g)
    return classify


# The share of the characters findLetters must find (95%), and of its boxes
# that must be characters (90%), at IoU 0.5; lower for letters 10-14 pixels
# high, where a pixel off is a tenth of the box. Thin faint pencil on grey
# paper with a vignette is a known shortfall (README, Q4): its strokes break
# into pieces.
RECALL = {'scan_200px': 0.7}
PRECISION = {'scan_200px': 0.7}
FEW_WORDS = ('marker_big', 'card_on_desk')       # a few big words: 8 or more characters
KNOWN_SHORT = pytest.mark.xfail(reason='faint pencil on grey paper breaks into pieces (README, Q4)')


@pytest.mark.parametrize('k, condition', [pytest.param(k, c, marks=KNOWN_SHORT) if c == 'grey_vignette'
                                          else (k, c) for k, c in enumerate(make_pages.CONDITIONS)])
def test_findletters_finds_the_known_boxes_in_every_condition(glyphs, k, condition):
    page = make_pages.make_page(condition, *glyphs, np.random.default_rng([7, k]))
    assert len(page.boxes) == len(page.chars) > (7 if condition in FEW_WORDS else 50)
    image = q4.load_image(page.file_bytes)          # as stored: JPEG, EXIF tag and all
    assert image.shape[:2] == page.image.shape[:2]
    boxes, bw = q4.findLetters(image)
    found = len(q4.match_boxes(boxes, page.boxes))
    assert found >= RECALL.get(condition, 0.95) * len(page.boxes), \
        f'{condition}: {found} of {len(page.boxes)} characters found'
    assert found >= PRECISION.get(condition, 0.9) * len(boxes), f'{condition}: {len(boxes) - found} false boxes'


def test_pages_are_the_same_for_a_seed_and_labelled_consistently(glyphs):
    a = make_pages.make_pages(*glyphs, per_condition=1, seed=3, conditions=('clean', 'exif_rotated'))
    b = make_pages.make_pages(*glyphs, per_condition=1, seed=3, conditions=('clean', 'exif_rotated'))
    c = make_pages.make_pages(*glyphs, per_condition=1, seed=4, conditions=('clean',))
    assert [p.file_bytes for p in a] == [p.file_bytes for p in b]
    assert a[0].file_bytes != c[0].file_bytes
    for page in a:
        assert ''.join(page.lines).replace(' ', '') == page.chars        # text lines = the boxes' characters
        assert (page.glyphs >= 0).all() and len(page.glyphs) == len(page.chars)
        assert all(glyphs[1][g] == make_pages.CHARS.index(c) for g, c in zip(page.glyphs, page.chars))
    # the EXIF page is stored sideways: the file's own pixels are not upright
    stored = np.asarray(Image.open(io.BytesIO(a[1].file_bytes)))
    assert stored.shape[:2] != a[1].image.shape[:2] or a[1].info['exif'] == 3


# ----------------------------------------------------------------------------
# Every way a phone or a scanner stores a photo reads the same
# ----------------------------------------------------------------------------
def encode(img, mode, **save):
    """The page (a PIL RGB image) stored in another pixel format -> file bytes."""
    buf = io.BytesIO()
    fmt = save.pop('format', 'PNG')
    img.convert(mode).save(buf, fmt, **save) if mode else img.save(buf, fmt, **save)
    return buf.getvalue()


def sideways(img, orientation):
    """Stored turned, with the EXIF tag that turns it upright again."""
    turned = img.transpose({6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270,
                            3: Image.Transpose.ROTATE_180}[orientation])
    exif = Image.Exif()
    exif[make_pages.EXIF_ORIENTATION] = orientation
    return encode(turned, None, exif=exif)


def gray16(img):
    a = (np.asarray(img.convert('L'), np.uint16) * 257)
    return encode(Image.fromarray(a), None)


def gray_alpha(img):
    la = img.convert('LA')
    la.putalpha(255)
    return encode(la, None)


@pytest.fixture(scope='module')
def upright(glyphs):
    """A clean page as an upright RGB PNG, and what is read from it."""
    page = make_pages.make_page('clean', *glyphs, np.random.default_rng(11))
    img = Image.fromarray(page.image)
    image = q4.load_image(encode(img, None))
    boxes, bw = q4.findLetters(image)
    return img, page, boxes, q4.read_text(boxes, bw, nearest_template(glyphs), image)['text']


@pytest.mark.parametrize('kind', ['exif6', 'exif8', 'exif3', 'cmyk', 'gray_alpha', 'gray16',
                                  'palette', 'rgba', 'gray', 'jpeg_cmyk'])
def test_every_stored_form_reads_like_the_upright_rgb_file(glyphs, upright, kind):
    img, page, boxes, text = upright
    data = {'exif6': lambda: sideways(img, 6), 'exif8': lambda: sideways(img, 8),
            'exif3': lambda: sideways(img, 3), 'cmyk': lambda: encode(img, 'CMYK', format='TIFF'),
            'gray_alpha': lambda: gray_alpha(img), 'gray16': lambda: gray16(img),
            'palette': lambda: encode(img.convert('P', palette=Image.Palette.ADAPTIVE), None), 'rgba': lambda: encode(img, 'RGBA'),
            'gray': lambda: encode(img, 'L'),
            'jpeg_cmyk': lambda: encode(img, 'CMYK', format='JPEG', quality=95)}[kind]()
    image = q4.load_image(data)
    assert image.shape[:2] == page.image.shape[:2]
    b, bw = q4.findLetters(image)
    assert len(q4.match_boxes(b, boxes, 0.8)) >= 0.98 * len(boxes)
    assert q4.char_accuracy(q4.read_text(b, bw, nearest_template(glyphs), image)['text'], text) >= 0.98
    assert q4.char_accuracy(text, '\n'.join(page.lines)) >= 0.9     # and the upright one reads right


def test_load_image_refuses_what_is_not_an_image(tmp_path):
    (tmp_path / 'x.jpg').write_bytes(b'\xff\xd8\xff not really a jpeg')
    with pytest.raises(ValueError, match='not a readable image'):
        q4.load_image(tmp_path / 'x.jpg')


# ----------------------------------------------------------------------------
# run_q4.py scores the page set per condition
# ----------------------------------------------------------------------------
def test_run_q4_reports_accuracy_per_condition_on_the_page_set(tmp_path, glyphs):
    images, labels = glyphs
    data = tmp_path / 'data'
    data.mkdir()
    scipy.io.savemat(data / 'nist36_test.mat', {'test_data': from_image(1 - images).astype(np.float64),
                                                 'test_labels': np.eye(36, dtype=np.uint8)[labels]})
    # any sure weights will do: this checks the scoring and the report, not
    # the MLP (a network unsure of every crop gets no text written at all)
    params = {'Wlayer1': np.zeros((1024, 64)), 'blayer1': np.zeros(64),
              'Woutput': np.zeros((64, 36)), 'boutput': 10.0 * np.eye(36)[0]}
    save_params(tmp_path / 'w.pickle', params)
    gt = tmp_path / 'gt.json'
    gt.write_text('{}')
    blank = tmp_path / 'blank.png'
    Image.fromarray(np.full((100, 120), 235, np.uint8)).save(blank)
    out = tmp_path / 'out'
    run_script('run_q4.py', blank, '--weights', tmp_path / 'w.pickle', '--ground-truth', gt,
               '--pages', 1, '--data-dir', data, '--out', out)
    metrics = q4_metrics(out)
    pages = metrics['validation_pages']
    assert set(pages['per_condition']) == set(make_pages.CONDITIONS)
    for row in [*pages['per_condition'].values(), pages['all']]:
        assert all(0 <= row[k] <= 1 for k in ('char_accuracy', 'box_recall', 'box_precision',
                                              'crop_accuracy', 'dataset_accuracy'))
    assert pages['all']['box_recall'] > 0.9 and pages['seed'] == 0
    assert (out / 'pages_accuracy.png').stat().st_size > 0 and (out / 'pages_examples.png').exists()


def q4_metrics(out):
    import json
    return json.loads((out / 'metrics.json').read_text())


def test_page_rotation_matches_scipy_affine_transform():
    """make_pages rotates with PIL's affine transform: inside the frame the
    bilinear values are scipy.ndimage.affine_transform's, and the label map
    (nearest) agrees almost everywhere (ties round either way)."""
    from scipy import ndimage as ndi
    rng = np.random.default_rng(0)
    a = ndi.gaussian_filter(rng.random((120, 90)).astype(np.float32), 2)
    labels = rng.integers(0, 9, (120, 90)).astype(np.int32)
    angle, shape, shift = -11.0, (150, 110), (3.5, -2.0)
    t = np.deg2rad(angle)
    m = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    offset = (np.array(a.shape) - 1) / 2 - m @ ((np.array(shape) - 1) / 2 + np.array(shift))

    def scipy_rotate(x, order):
        return ndi.affine_transform(x, m, offset=offset, output_shape=shape, order=order, prefilter=False)

    inside = ndi.binary_erosion(scipy_rotate(np.ones_like(a), 1) > 0.999, iterations=2)
    ours = make_pages.rotate_about_centre(a, angle, shape, shift)
    assert ours.shape == shape and inside.mean() > 0.4
    np.testing.assert_allclose(ours[inside], scipy_rotate(a, 1)[inside], atol=1e-5)
    same = make_pages.rotate_about_centre(labels, angle, shape, shift, order=0) == scipy_rotate(labels, 0)
    assert same[inside].mean() > 0.98


def test_a_page_set_is_composed_once_and_read_back(glyphs, tmp_path, monkeypatch):
    """page_set composes the set into its folder the first time and reads
    the very same pages back after; other glyphs make it compose again."""
    images, labels = glyphs
    folder = tmp_path / 'pages' / 'set'
    conditions = ('clean', 'exif_rotated')
    composed = []
    real = make_pages.make_pages

    def counting(*args, **kwargs):
        composed.append(1)
        return real(*args, **kwargs, conditions=conditions)
    monkeypatch.setattr(make_pages, 'make_pages', counting)

    first = make_pages.page_set(images, labels, 1, 3, folder)
    again = make_pages.page_set(images, labels, 1, 3, folder)
    assert len(composed) == 1 and (folder / 'FINGERPRINT').is_file()
    assert [p.name for p in again] == [p.name for p in first] == ['clean_0', 'exif_rotated_0']
    for a, b in zip(first, again):
        assert a.file_bytes == b.file_bytes and a.suffix == b.suffix and a.lines == b.lines
        assert a.chars == b.chars and a.condition == b.condition
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.glyphs, b.glyphs)
        np.testing.assert_array_equal(a.image, b.image)
    other = images[::-1].copy(), labels[::-1].copy()
    make_pages.page_set(*other, 1, 3, folder)           # other glyphs: the stored set is stale
    assert len(composed) == 2
    (folder / 'boxes.json').write_text('{')               # damaged: composed again, not a traceback
    make_pages.page_set(*other, 1, 3, folder)
    assert len(composed) == 3
    make_pages.page_set(*other, 1, 3, folder)             # and kept again
    assert len(composed) == 3
