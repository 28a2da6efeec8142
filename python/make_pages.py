"""Labelled handwriting pages for tuning and checking Q4: the OCR validation set.

    python python/make_pages.py [--source {nist36,emnist}] [--per-condition 3]
                                [--seed 0] [--out results/pages_nist36]

Each page is composed of real handwritten characters from a *test* split
(NIST36 test for the Q3 MLP, the 36 upper-case and digit classes of EMNIST
test for the EMNIST CNN), so no character on a page was ever seen in
training. The pages are then "photographed" in the conditions a phone user
produces, one named condition per page (``CONDITIONS``): tilt, uneven light
and hard shadows, ruled and squared paper, faint pencil on textured paper,
thin pens, blur and JPEG, a darker desk around the page, a whiteboard with
erased writing, a portrait photo stored sideways with an EXIF orientation
tag, and a 12-megapixel phone photo with all of it at once. Every page also
varies letter size, spacing, margins and baseline wobble.

Everything is drawn from one seeded generator, so a seed gives the same set
on every run. Written to --out:
  <name>.png / <name>.jpg   the page, as a phone or scanner would store it
  ground_truth.json         {name: [text lines]}, for run_q4.py --ground-truth
  boxes.json                {name: {"boxes": [[y1, x1, y2, x2], ...], "chars": "..."}}
                            in the upright (displayed) image's pixels

This is the only material Q4's thresholds and crop preparation are tuned on;
the four course photos are a final check.
"""
import threads  # noqa: F401,I001  (first: BLAS and OpenMP threads, before numpy loads)

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage import morphology, transform

import data as nist

CONDITIONS = ('clean', 'tilted', 'shadow', 'ruled', 'squared', 'pencil', 'thin_pen',
              'blur_jpeg', 'desk', 'whiteboard', 'exif_rotated', 'phone_12mp',
              # what real photos showed (../shared/photos): see page_style
              'marker_big', 'card_on_desk', 'grey_vignette', 'scan_200px')
CHARS = nist.CLASS_NAMES          # A-Z, 0-9: what both classifiers can read
EXIF_ORIENTATION = 0x0112         # the TIFF/EXIF tag number
# stored image = np.rot90(upright, k) for the EXIF orientation value that
# tells a viewer to undo it (6: "rotate 90 degrees clockwise to show").
EXIF_ROT90 = {6: 1, 3: 2, 8: -1}


@dataclass
class Page:
    """One labelled page. image is what a viewer shows (upright RGB uint8);
    file_bytes is the file as stored (possibly sideways with an EXIF tag)."""
    name: str
    condition: str
    image: np.ndarray
    lines: list
    boxes: np.ndarray                  # (N, 4) [y1, x1, y2, x2], reading order
    chars: str                         # N characters, reading order
    glyphs: np.ndarray                 # (N,) index of each character's glyph
    file_bytes: bytes = b''
    suffix: str = '.png'
    info: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------
# Glyphs: the handwriting
# ----------------------------------------------------------------------------
def load_glyphs(source='nist36', data_dir=None):
    """Test-split characters as (images (N, h, w) float32, ink 1 on 0,
    upright; labels (N,) indices into CHARS)."""
    kwargs = {} if data_dir is None else {'data_dir': data_dir}
    if source == 'nist36':
        x, y = nist.load_nist36('test', **kwargs, dtype=np.float32)
        return 1.0 - nist.to_image(x), nist.labels_of(y)
    if source == 'emnist':
        import q7_data  # torch is only needed for this source
        splits, classes = q7_data.emnist(**kwargs) if kwargs else q7_data.emnist(nist.DATA_DIR)
        x, y = splits['test']
        names = [classes[k] for k in y.tolist()]
        keep = np.array([c in CHARS for c in names])
        labels = np.array([CHARS.index(c) if c in CHARS else -1 for c in names])
        return x[:, 0].numpy()[keep], labels[keep]
    raise ValueError(f'unknown glyph source {source!r}; choose nist36 or emnist')


def ink_box(glyph, level=0.5):
    """(y1, x1, y2, x2) of the pixels above level; y2, x2 exclusive."""
    ys, xs = np.nonzero(glyph > level)
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


def draw_glyph(glyph, height, pen, rng):
    """One character at page scale: ink darkness in [0, 1] (1 = full ink).

    glyph: (h, w) ink 1 on 0. The ink box is scaled to ``height`` pixels
    (upper-case letters and digits are all the same height in handwriting),
    keeping the aspect ratio, unless that makes it wider than 1.4 ``height``
    (a character written flat stays flat rather than growing). pen: None keeps the dataset's own strokes
    (thick, like a felt pen at page scale); a width in pixels redraws the
    skeleton with a round pen of that width (ballpoint, pencil).
    """
    y1, x1, y2, x2 = ink_box(glyph)
    pad = 2
    g = np.pad(glyph, pad)[y1:y2 + 2 * pad, x1:x2 + 2 * pad]
    scale = min(height / (y2 - y1), 1.4 * height / (x2 - x1))
    shape = np.maximum(1, np.round(np.array(g.shape) * scale).astype(int))
    big = transform.resize(g, shape, order=1, anti_aliasing=False)
    if pen is not None:
        skeleton = morphology.skeletonize(big > 0.5)
        dist = ndi.distance_transform_edt(~skeleton)
        big = np.clip(pen / 2 + 0.5 - dist, 0, 1)      # a round pen, anti-aliased edge
    return big.astype(np.float32)


def random_text(rng, n_lines, words_per_line, max_word=7):
    """Lines of random 'words': mostly letters, some numbers, as on a list."""
    letters, digits = CHARS[:26], CHARS[26:]
    lines = []
    for _ in range(n_lines):
        words = []
        for _ in range(rng.integers(*words_per_line, endpoint=True)):
            pool = digits if rng.random() < 0.2 else letters
            words.append(''.join(rng.choice(pool, rng.integers(2, max_word, endpoint=True))))
        lines.append(words)
    return lines


# ----------------------------------------------------------------------------
# Composing a page: ink layer, then paper, light, camera
# ----------------------------------------------------------------------------
def compose_ink(lines, glyphs, labels, shape, style, rng):
    """Write the words onto an ink layer.

    Returns (ink (H, W) darkness in [0, 1], owner (H, W) int32: 1 + index of
    the character whose ink is > half its peak there, else 0, the characters
    written, their glyph indices, the text lines actually fitted, the
    baselines' y). Words that do not fit a line move to the next; lines that
    do not fit the page are dropped.
    """
    H, W = shape
    ink = np.zeros(shape, np.float32)
    owner = np.zeros(shape, np.int32)
    h = style['height']
    by_class = [np.flatnonzero(labels == k) for k in range(len(CHARS))]
    left, right = style['margin_left'], W - style['margin_right']
    y = style['margin_top'] + h
    chars, used, fitted, baselines = [], [], [], []
    words = [w for line in lines for w in line]
    wobble = style['wobble'] * h
    while words and y < H - style['margin_top'] * 0.5:
        x, line_words = left, []
        phase = rng.uniform(0, 2 * np.pi)
        while words:
            word = words[0]
            if line_words and x + len(word) * 0.9 * h > right:
                break
            words.pop(0)
            line_words.append(word)
            for c in word:
                idx = rng.choice(by_class[CHARS.index(c)])
                g = draw_glyph(glyphs[idx], h * rng.uniform(0.9, 1.1), style['pen'], rng)
                # baseline wobble: a slow wave along the line plus a jitter per letter
                base = y + wobble * np.sin(phase + x / (6 * h)) + rng.normal(0, wobble / 2)
                top, lx = int(base - g.shape[0] + 2), int(x)
                if top < 0 or lx + g.shape[1] > W or top + g.shape[0] > H:
                    continue
                region = ink[top:top + g.shape[0], lx:lx + g.shape[1]]
                np.maximum(region, g, out=region)
                own = owner[top:top + g.shape[0], lx:lx + g.shape[1]]
                own[g > 0.5 * g.max()] = len(chars) + 1
                chars.append(c)
                used.append(idx)
                x += g.shape[1] - 4 + h * style['letter_gap'] * rng.uniform(0.7, 1.3)
            x += h * style['word_gap'] * rng.uniform(0.8, 1.2)
        fitted.append(' '.join(line_words))
        baselines.append(y)
        y += style['line_pitch'] * h
    return ink, owner, ''.join(chars), np.array(used, int), fitted, baselines


def smooth_noise(shape, scale, rng):
    """Zero-mean, unit-std noise smooth over ``scale`` pixels (paper fibres,
    wood grain, shading), computed on a coarse grid and upsampled."""
    small = np.maximum(1, (np.array(shape) / max(scale, 1)).astype(int) + 2)
    n = rng.standard_normal(small).astype(np.float32)
    n = transform.resize(n, shape, order=1)
    return (n - n.mean()) / (n.std() + 1e-6)


def paper_rgb(shape, style, baselines, rng):
    """The blank paper, (H, W, 3) in [0, 1]: tint, texture, rules or squares."""
    H, W = shape
    paper = np.ones((H, W, 3), np.float32) * np.array(style['paper'], np.float32)
    if style.get('texture'):
        t = style['texture'] * (smooth_noise(shape, 3, rng) + 0.5 * smooth_noise(shape, 20, rng))
        paper *= (1 + t)[..., None]
    rule = np.array(style.get('rule_rgb', (0.55, 0.68, 0.9)), np.float32)
    thick = style.get('rule_width', 2)
    if style.get('ruled'):
        pitch = style['line_pitch'] * style['height']
        first = baselines[0] if baselines else pitch
        for yb in np.arange(first - pitch * int(first / pitch), H, pitch):
            yy = int(yb + style['height'] * 0.04)       # letters sit on the rule
            paper[yy:yy + thick] = rule
        xm = int(style['margin_left'] - 0.4 * style['height'])
        paper[:, xm:xm + thick + 1] = (0.85, 0.35, 0.35)   # the red margin line
    if style.get('squared'):
        pitch = style['line_pitch'] * style['height'] / 2
        off = rng.uniform(0, pitch)
        for v in np.arange(off, H, pitch):
            paper[int(v):int(v) + thick] = rule
        for v in np.arange(off, W, pitch):
            paper[:, int(v):int(v) + thick] = rule
    return np.clip(paper, 0, 1)


def lighting(shape, style, rng):
    """Illumination (H, W): a smooth gradient, and a hard-edged shadow."""
    H, W = shape
    yy, xx = np.ogrid[0:H, 0:W]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    light = np.ones(shape, np.float32)
    if style.get('gradient'):
        a = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(a) * xx / W + np.sin(a) * yy / H)
        ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
        light *= 1 - style['gradient'] * ramp
    if style.get('vignette'):
        # a phone held close: the light falls off towards one edge
        a = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(a) * (xx / W - 0.5) + np.sin(a) * (yy / H - 0.5)
        ramp = np.clip(ramp / max(np.abs(ramp).max(), 1e-6), 0, 1)
        light *= 1 - style['vignette'] * ramp ** 2
    if style.get('shadow'):
        # a straight shadow edge (a phone, a hand) through a random point
        a = rng.uniform(0, 2 * np.pi)
        cy, cx = rng.uniform(0.3, 0.7) * H, rng.uniform(0.3, 0.7) * W
        side = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)
        soft = style.get('shadow_softness', 3.0)
        inside = 1 / (1 + np.exp(np.clip(-side / soft, -50, 50)))
        light *= 1 - style['shadow'] * inside
    return light


def whiteboard_ghosts(shape, glyphs, style, rng):
    """Darkness of badly erased writing: old letters, faint and smeared."""
    H, W = shape
    ghost = np.zeros(shape, np.float32)
    for _ in range(int(rng.integers(25, 60))):
        g = draw_glyph(glyphs[rng.integers(len(glyphs))], style['height'] * rng.uniform(0.6, 1.6), None, rng)
        y, x = rng.integers(0, max(1, H - g.shape[0])), rng.integers(0, max(1, W - g.shape[1]))
        g = g[:H - y, :W - x]
        region = ghost[y:y + g.shape[0], x:x + g.shape[1]]
        np.maximum(region, g * rng.uniform(0.05, 0.2), out=region)
    smear = ndi.gaussian_filter(ghost, (rng.uniform(1, 3), rng.uniform(3, 8)))
    return smear + 0.03 * np.clip(smooth_noise(shape, 40, rng), 0, None)


def rotate_about_centre(a, angle, out_shape, shift=(0.0, 0.0), order=1, cval=0.0):
    """Resample a 2-D array rotated by ``angle`` degrees about its centre
    onto an ``out_shape`` frame whose centre sits ``shift`` (rows, cols)
    from the array's. order 1: bilinear, as float32; order 0: nearest, for
    integer label maps.

    PIL's affine transform maps each output pixel (x, y) back to the input
    point (a x + b y + c, d x + e y + f), in coordinates where pixel centres
    sit at +0.5; it is about twice as fast as scipy.ndimage.affine_transform
    on a 12-megapixel page, with the same bilinear values.
    """
    t = np.deg2rad(angle)
    cos, sin = np.cos(t), np.sin(t)
    cy_in, cx_in = np.array(a.shape) / 2
    cy_out, cx_out = np.array(out_shape) / 2 + np.array(shift)
    coeffs = (cos, -sin, cx_in - cos * cx_out + sin * cy_out,
              sin, cos, cy_in - sin * cx_out - cos * cy_out)
    if order:
        image, resample, fill = Image.fromarray(a.astype(np.float32, copy=False)), Image.BILINEAR, float(cval)
    else:
        image, resample, fill = Image.fromarray(a.astype(np.int32, copy=False)), Image.NEAREST, int(cval)
    out = image.transform((out_shape[1], out_shape[0]), Image.AFFINE, coeffs, resample=resample,
                          fillcolor=fill)
    return np.asarray(out).astype(np.float32 if order else a.dtype)


def rotate_page(rgb, owner, angle, fill):
    """Rotate the page (and the owner map) about its centre, same size;
    corners are filled with ``fill`` (the paper beyond the frame)."""
    out = np.stack([rotate_about_centre(rgb[..., c], angle, owner.shape, cval=fill[c])
                    for c in range(3)], -1)
    return out, rotate_about_centre(owner, angle, owner.shape, order=0)


def on_desk(rgb, owner, angle, style, rng):
    """Lay the page, rotated, on a darker desk that fills a larger frame."""
    H, W = owner.shape
    frame = (int(H * style['desk_grow']), int(W * style['desk_grow']))
    desk = np.ones(frame + (3,), np.float32) * np.array(style['desk'], np.float32)
    grain = smooth_noise((frame[0] // 8, frame[1]), 1, rng)       # wood grain runs along x
    grain = transform.resize(ndi.uniform_filter1d(grain, 60, axis=1), frame, order=1)
    desk *= (1 + style['desk_grain'] * grain)[..., None]
    shift = rng.uniform(-0.3, 0.3, 2) * (np.array(frame) - np.array([H, W]))
    put = lambda a, order=1: rotate_about_centre(a, angle, frame, shift, order)  # noqa: E731
    alpha = put(np.ones((H, W), np.float32))[..., None]
    page = np.stack([put(rgb[..., c]) for c in range(3)], -1)
    return alpha * page + (1 - alpha) * desk, put(owner, order=0)


def camera(rgb, style, rng):
    """Blur, sensor noise and 8-bit quantisation -> uint8 RGB. The noise is
    one value per pixel, the same in every channel (a phone's processing
    leaves mostly brightness noise), which also draws a third of the numbers."""
    if style.get('blur'):
        rgb = ndi.gaussian_filter(rgb, (style['blur'], style['blur'], 0))
    noise = rng.standard_normal(rgb.shape[:2], dtype=np.float32)
    noise *= style.get('noise', 0.01) * 255
    rgb = rgb * 255 + 0.5
    rgb += noise[..., None]
    return np.clip(rgb, 0, 255, out=rgb).astype(np.uint8)


def shrink(image, owner, scale):
    """A small scan: the image resized by scale < 1 (anti-aliased), and the
    owner map with it (nearest)."""
    shape = np.maximum(16, np.round(np.array(owner.shape) * scale).astype(int))
    small = Image.fromarray(image).resize((shape[1], shape[0]), Image.LANCZOS)
    rows = np.minimum((np.arange(shape[0]) + 0.5) / scale, owner.shape[0] - 1).astype(int)
    cols = np.minimum((np.arange(shape[1]) + 0.5) / scale, owner.shape[1] - 1).astype(int)
    return np.asarray(small), owner[np.ix_(rows, cols)]


def encode(upright, style):
    """The stored file: (bytes, suffix). JPEG for photos; an EXIF-rotated
    page is stored sideways with the orientation tag that turns it upright."""
    orientation = style.get('exif', 1)
    stored = np.ascontiguousarray(np.rot90(upright, EXIF_ROT90.get(orientation, 0)))
    img = Image.fromarray(stored)
    buf = io.BytesIO()
    if style.get('jpeg'):
        exif = Image.Exif()
        if orientation != 1:
            exif[EXIF_ORIENTATION] = orientation
        img.save(buf, 'JPEG', quality=style['jpeg'], exif=exif)
        return buf.getvalue(), '.jpg'
    img.save(buf, 'PNG', compress_level=0)   # the fastest; PNG is lossless at any level
    return buf.getvalue(), '.png'


def decode(file_bytes):
    """What the stored file shows once decoded and turned upright (JPEG
    changes the pixels a little): upright RGB uint8."""
    from PIL import ImageOps
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(file_bytes))).convert('RGB'))


# ----------------------------------------------------------------------------
# The conditions
# ----------------------------------------------------------------------------
def page_style(condition, rng):
    """The random settings of one page in a condition. Each page varies
    letter size, spacing, margins and wobble; the condition adds its own."""
    W = int(rng.integers(1400, 2000))
    s = {'size': (int(W * rng.uniform(1.25, 1.45)), W),
         'height': float(rng.uniform(0.025, 0.05) * W), 'pen': None,
         'letter_gap': rng.uniform(0.15, 0.45), 'word_gap': rng.uniform(0.9, 1.5),
         'line_pitch': rng.uniform(1.7, 2.3), 'wobble': rng.uniform(0.02, 0.08),
         'margin_left': int(rng.uniform(0.05, 0.15) * W), 'margin_right': int(rng.uniform(0.03, 0.1) * W),
         'margin_top': int(rng.uniform(0.04, 0.12) * W),
         'paper': tuple(rng.uniform(0.9, 0.98) * np.array([1, 0.99, 0.96])),
         'ink': tuple(rng.choice([(0.08, 0.08, 0.1), (0.1, 0.15, 0.45), (0.2, 0.2, 0.25)])),
         'ink_strength': rng.uniform(0.85, 1.0), 'angle': 0.0, 'noise': 0.01, 'gradient': 0.1}
    if condition == 'tilted':
        s.update(angle=rng.choice([-1, 1]) * rng.uniform(5, 15), jpeg=int(rng.integers(80, 95)))
    elif condition == 'shadow':
        s.update(gradient=rng.uniform(0.2, 0.4), shadow=rng.uniform(0.35, 0.55),
                 shadow_softness=rng.uniform(1, 6), angle=rng.uniform(-4, 4), jpeg=90)
    elif condition == 'ruled':
        s.update(ruled=True, rule_width=int(rng.integers(2, 4)), line_pitch=rng.uniform(1.5, 1.9),
                 rule_rgb=tuple(rng.uniform(0.45, 0.7) * np.array([0.9, 1.1, 1.45]).clip(0, 1.4)))
    elif condition == 'squared':
        s.update(squared=True, rule_width=int(rng.integers(1, 3)),
                 rule_rgb=tuple(rng.uniform(0.55, 0.75) * np.array([0.95, 1.05, 1.3])))
    elif condition == 'pencil':
        s.update(pen=rng.uniform(2.5, 4.0), ink=(0.3, 0.3, 0.32), ink_strength=rng.uniform(0.3, 0.5),
                 texture=rng.uniform(0.02, 0.04), grain=True, noise=0.015, jpeg=90)
    elif condition == 'thin_pen':
        s.update(size=(int(s['size'][0] * 1.6), int(W * 1.6)), pen=rng.uniform(2.0, 3.0),
                 ink_strength=rng.uniform(0.6, 0.9))
        s['height'] *= 1.6
        for k in ('margin_left', 'margin_right', 'margin_top'):
            s[k] = int(s[k] * 1.6)
    elif condition == 'blur_jpeg':
        s.update(blur=rng.uniform(1.0, 2.2), noise=0.02, jpeg=int(rng.integers(25, 50)))
    elif condition == 'desk':
        s.update(angle=rng.uniform(-12, 12), desk_grow=rng.uniform(1.15, 1.35), gradient=0.25,
                 desk=tuple(rng.choice([(0.35, 0.22, 0.12), (0.3, 0.3, 0.32), (0.55, 0.42, 0.3)])),
                 desk_grain=rng.uniform(0.1, 0.25), pen=rng.choice([None, rng.uniform(1.5, 4)]),
                 ink_strength=rng.uniform(0.35, 1.0), jpeg=85)
    elif condition == 'whiteboard':
        s.update(paper=tuple(rng.uniform(0.85, 0.95) * np.array([0.97, 1, 1.02]).clip(0, 1)),
                 ghosts=True, gradient=rng.uniform(0.1, 0.3), jpeg=85,
                 ink=tuple(rng.choice([(0.1, 0.1, 0.12), (0.1, 0.2, 0.6), (0.7, 0.12, 0.1), (0.1, 0.45, 0.2)])))
    elif condition == 'exif_rotated':
        s.update(exif=int(rng.choice([6, 8, 3])), jpeg=90, angle=rng.uniform(-3, 3))
    elif condition == 'phone_12mp':
        # 4032 x 3024 with everything: desk, tilt, light, shadow, thin pen, JPEG
        s.update(size=(3000, 2350), angle=rng.uniform(-10, 10), desk_grow=1.28,
                 desk=(0.35, 0.25, 0.16), desk_grain=0.15, gradient=0.3, shadow=0.35,
                 shadow_softness=4.0, pen=rng.uniform(3, 6), blur=1.0, noise=0.015, jpeg=85)
        s['height'] = rng.uniform(0.025, 0.04) * 2350
        s.update(margin_left=200, margin_right=150, margin_top=200)
    elif condition == 'marker_big':
        # a few words in thick marker, letters 8-25% of the photo's height
        # (smaller when a word would not fit), strokes a tenth to a fifth
        # of the letter height; stored sideways with an EXIF tag
        H, W = s['size']
        s.update(n_lines=int(rng.integers(1, 4)), words_per_line=(1, 2), max_word=6,
                 line_pitch=rng.uniform(1.3, 1.7), ink=(0.05, 0.05, 0.07), ink_strength=1.0,
                 exif=int(rng.choice([1, 6, 8])), jpeg=int(rng.integers(80, 95)), wobble=0.03,
                 margin_left=int(0.06 * W), margin_right=int(0.04 * W), margin_top=int(0.05 * H))
        s['height'] = min(rng.uniform(0.08, 0.25) * H, 0.85 * W / (6 * (1.0 + s['letter_gap'])))
        s['pen'] = rng.uniform(0.1, 0.2) * s['height']
    elif condition == 'card_on_desk':
        # an index card, a few lines in felt pen, with a light wooden desk on
        # every side and the hard shadow of a hand or phone across the text
        s['height'] *= 2
        s.update(size=(int(W * rng.uniform(0.55, 0.7)), W), n_lines=int(rng.integers(2, 4)),
                 words_per_line=(1, 3), pen=rng.uniform(0.07, 0.13) * s['height'],
                 angle=rng.uniform(-5, 5), desk_grow=rng.uniform(1.4, 1.9),
                 desk=tuple(rng.uniform(0.6, 0.8) * np.array([1.0, 0.8, 0.6])),
                 desk_grain=rng.uniform(0.1, 0.2), shadow=rng.uniform(0.3, 0.5),
                 shadow_softness=rng.uniform(2, 8), gradient=0.2, jpeg=85)
    elif condition == 'grey_vignette':
        # thin pencil on grey paper, and a dark vignette at one edge
        s.update(paper=tuple(rng.uniform(0.55, 0.75) * np.array([1, 1, 0.97])), pen=rng.uniform(1.5, 3.0),
                 ink=(0.25, 0.25, 0.27), ink_strength=rng.uniform(0.35, 0.6), texture=rng.uniform(0.02, 0.04),
                 grain=True, vignette=rng.uniform(0.5, 0.75), noise=0.02, jpeg=85)
    elif condition == 'scan_200px':
        # a small scan: the whole page brought down to letters 10-14 pixels high
        s.update(pen=rng.uniform(2.0, 4.0), shrink_to=rng.uniform(10, 14))
    elif condition != 'clean':
        raise ValueError(f'unknown condition {condition!r}; choose from {CONDITIONS}')
    return s


def make_page(condition, glyphs, labels, rng, name=None):
    """Compose, light and photograph one page of ``condition``; see Page."""
    s = page_style(condition, rng)
    shape = s['size']
    text = random_text(rng, n_lines=s.get('n_lines', 12), words_per_line=s.get('words_per_line', (2, 5)),
                       max_word=s.get('max_word', 7))
    ink, owner, chars, used, lines, baselines = compose_ink(text, glyphs, labels, shape, s, rng)
    if s.get('grain'):    # pencil: graphite leaves a grainy, broken line
        ink *= np.clip(0.75 + 0.35 * smooth_noise(shape, 1.5, rng), 0, 1)
    ink *= s['ink_strength']
    paper = paper_rgb(shape, s, baselines, rng)
    if s.get('ghosts'):
        paper *= (1 - whiteboard_ghosts(shape, glyphs, s, rng))[..., None]
    rgb = paper * (1 - ink[..., None]) + np.array(s['ink'], np.float32) * ink[..., None]
    rgb = rgb * lighting(shape, s, rng)[..., None]
    if 'desk' in s:
        rgb, owner = on_desk(rgb, owner, s['angle'], s, rng)
    elif s['angle']:
        rgb, owner = rotate_page(rgb, owner, s['angle'], rgb[5, 5])
    upright = camera(rgb, s, rng)
    if s.get('shrink_to'):
        upright, owner = shrink(upright, owner, s['shrink_to'] / s['height'])
    file_bytes, suffix = encode(upright, s)
    image = decode(file_bytes) if s.get('jpeg') else upright

    # Ground-truth boxes from the owner map; a character the frame cut off is dropped
    found = ndi.find_objects(owner, max_label=len(chars))
    keep = [i for i, sl in enumerate(found) if sl is not None]
    boxes = np.array([[found[i][0].start, found[i][1].start, found[i][0].stop, found[i][1].stop]
                      for i in keep], int).reshape(-1, 4)
    return Page(name=name or condition, condition=condition, image=image, lines=lines,
                boxes=boxes, chars=''.join(chars[i] for i in keep), glyphs=used[keep],
                file_bytes=file_bytes, suffix=suffix,
                info={k: (float(v) if isinstance(v, (float, np.floating)) else v)
                      for k, v in s.items() if k in ('angle', 'height', 'pen', 'jpeg', 'exif')})


def make_pages(glyphs, labels, per_condition=3, seed=0, conditions=CONDITIONS):
    """per_condition pages of every condition, the same for a given seed.
    Each page has its own generator derived from (seed, condition, k), so
    adding a condition does not change the pages of the others."""
    pages = []
    for ci, cond in enumerate(CONDITIONS):
        if cond not in conditions:
            continue
        for k in range(per_condition):
            rng = np.random.default_rng([seed, ci, k])
            pages.append(make_page(cond, glyphs, labels, rng, name=f'{cond}_{k}'))
    return pages


# ----------------------------------------------------------------------------
# Scoring the reader on the pages
# ----------------------------------------------------------------------------
def score_page(page, read, native):
    """Read one page as a user's file and score it against its labels.

    read(image) -> a dict with 'boxes' (in reading order), 'chars' (read
    per box) and 'text', as q4.read_text returns;
    native(glyph indices) -> the classifier's reading of those characters'
    own dataset images. Returns a dict of: char_accuracy of the text,
    box recall and precision at IoU >= 0.5, and for the characters found
    (matched boxes) how many the classifier read right from the page's
    crops and from their dataset images (the gap is the crop preparation's
    loss).
    """
    import q4
    image = q4.load_image(page.file_bytes)
    result = read(image)
    boxes, chars, text = result['boxes'], result['chars'], result['text']
    pairs = q4.match_boxes(boxes, page.boxes)
    truth = [page.chars[t] for _, t in pairs]
    from_page = [chars[f] for f, _ in pairs]
    from_dataset = native(page.glyphs[[t for _, t in pairs]]) if pairs else []
    return {'condition': page.condition,
            'char_accuracy': q4.char_accuracy(text, '\n'.join(page.lines)),
            'chars': len(page.chars), 'boxes': len(boxes), 'matched': len(pairs),
            'crop_correct': sum(a == b for a, b in zip(from_page, truth)),
            'dataset_correct': sum(a == b for a, b in zip(from_dataset, truth))}


def summarise(scores):
    """Per-condition and overall means of score_page's results."""
    def agg(rows):
        n = lambda k: sum(r[k] for r in rows)  # noqa: E731
        return {'pages': len(rows),
                'char_accuracy': float(np.mean([r['char_accuracy'] for r in rows])),
                'box_recall': n('matched') / max(n('chars'), 1),
                'box_precision': n('matched') / max(n('boxes'), 1),
                'crop_accuracy': n('crop_correct') / max(n('matched'), 1),
                'dataset_accuracy': n('dataset_correct') / max(n('matched'), 1)}
    conditions = list(dict.fromkeys(r['condition'] for r in scores))
    return {'per_condition': {c: agg([r for r in scores if r['condition'] == c]) for c in conditions},
            'all': agg(scores)}


def save_pages(pages, out):
    """Write the page files, ground_truth.json and boxes.json into out."""
    from util import save_json
    for p in pages:
        (out / f'{p.name}{p.suffix}').write_bytes(p.file_bytes)
    save_json(out / 'ground_truth.json', {
        '_about': 'Pages composed by python/make_pages.py from test-split handwriting',
        **{p.name: p.lines for p in pages}})
    save_json(out / 'boxes.json', {p.name: {'condition': p.condition, 'boxes': p.boxes,
                                            'chars': p.chars, 'glyphs': p.glyphs, 'info': p.info,
                                            'file': f'{p.name}{p.suffix}'} for p in pages})


# ----------------------------------------------------------------------------
# The page set, composed once: data/pages/
# ----------------------------------------------------------------------------
def fingerprint(glyphs, labels, per_condition, seed):
    """What a page set is made of: this file's code, the glyphs and their
    labels, the count and the seed. A stored set with another fingerprint
    is stale and is composed again."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for a in (glyphs, labels):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(f'{per_condition} {seed}'.encode())
    return h.hexdigest()


def load_pages(folder):
    """The pages save_pages wrote into folder (boxes.json lists them)."""
    lines = json.loads((folder / 'ground_truth.json').read_text())
    pages = []
    for name, p in json.loads((folder / 'boxes.json').read_text()).items():
        file_bytes = (folder / p['file']).read_bytes()
        pages.append(Page(name=name, condition=p['condition'], image=decode(file_bytes), lines=lines[name],
                          boxes=np.array(p['boxes'], int).reshape(-1, 4), chars=p['chars'],
                          glyphs=np.array(p['glyphs'], int), file_bytes=file_bytes,
                          suffix=Path(p['file']).suffix, info=p['info']))
    return pages


def page_set(glyphs, labels, per_condition, seed, folder=None):
    """make_pages(glyphs, labels, per_condition, seed), stored in folder.

    Composing a set takes about a second a page, so it is done once: a
    folder holding this very set (its FINGERPRINT file matches) is read
    back; otherwise the set is composed and written there for next time
    (``make data`` does that ahead). Without a folder, or where it cannot
    be written, the set is just composed.
    """
    key = fingerprint(glyphs, labels, per_condition, seed)
    if folder is not None and (folder / 'FINGERPRINT').is_file():
        try:
            if (folder / 'FINGERPRINT').read_text().strip() == key:
                return load_pages(folder)
        except (OSError, ValueError, KeyError) as e:   # a damaged folder: compose it again
            print(f'note: composing the pages again, {folder} is unreadable ({e})')
    pages = make_pages(glyphs, labels, per_condition, seed)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / 'FINGERPRINT').unlink(missing_ok=True)     # stale until the new set is in
            save_pages(pages, folder)
            (folder / 'FINGERPRINT').write_text(key + '\n')
        except OSError as e:
            print(f'note: the pages are not kept for next time: cannot write {folder} ({e.strerror})')
    return pages


# The set run_q4.py scores on every run (its --pages and --page-seed defaults)
RUN_Q4_SET = dict(per_condition=1, seed=0)


def page_folder(data_dir, source, per_condition, seed):
    """Where run_q4.py keeps a page set: <data_dir>/pages/<source>_seed<S>_x<N>."""
    return Path(data_dir) / 'pages' / f'{source}_seed{seed}_x{per_condition}'


def main():
    import argparse

    from util import DATA_DIR, add_output_args, prepare_output_dir
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--source', choices=('nist36', 'emnist'), default='nist36',
                        help='whose test-split handwriting to write with')
    parser.add_argument('--per-condition', type=int, default=None,
                        help='pages per condition (default: 3, or %d with --for-run-q4)'
                             % RUN_Q4_SET['per_condition'])
    parser.add_argument('--seed', type=int, default=None, help='random seed (default: %d)' % RUN_Q4_SET['seed'])
    parser.add_argument('--for-run-q4', action='store_true',
                        help='instead of writing to --out, compose the set into data/pages/, where '
                             '`run_q4.py --pages N --page-seed S` reads it from; `make data` does this '
                             'for run_q4.py\'s defaults')
    add_output_args(parser, 'pages')
    args = parser.parse_args()
    per_condition = (args.per_condition if args.per_condition is not None
                     else RUN_Q4_SET['per_condition'] if args.for_run_q4 else 3)
    seed = RUN_Q4_SET['seed'] if args.seed is None else args.seed
    if per_condition < 1:
        raise SystemExit('error: --per-condition must be at least 1')
    glyphs, labels = load_glyphs(args.source)
    if args.for_run_q4:
        folder = page_folder(DATA_DIR, args.source, per_condition, seed)
        pages = page_set(glyphs, labels, per_condition, seed, folder)
        print(f'{len(pages)} {args.source} pages ready in {folder}')
        return
    out = prepare_output_dir(args.out, args.force)
    pages = make_pages(glyphs, labels, per_condition, seed)
    save_pages(pages, out)
    print(f'wrote {len(pages)} pages ({len(CONDITIONS)} conditions x {per_condition}, '
          f'seed {seed}, {args.source} test handwriting) to {out}')


if __name__ == '__main__':
    from util import run_main
    run_main(main)
