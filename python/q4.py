"""Q4: find handwritten characters in a photo, put them in reading order, and
turn each one into a 32x32 image that looks like the NIST36 training data.

The pipeline of findLetters (Q4.2), each step a small function below:

  1. ``check_image``, ``to_gray``: RGB, RGBA or gray of any dtype -> gray in
     [0, 1]; anything else is a ValueError that says what is wrong.
  2. ``downscale``: average blocks so the long side is about ``WORK_SIDE``
     pixels. Block averaging is the blur (it anti-aliases and removes sensor
     noise), and every later step then costs the same on a 4000-pixel photo
     as on a 900-pixel one. Boxes are scaled back at the end.
  3. ``ink_darkness``: divide by an estimate of the paper's brightness, so
     shadows and uneven lighting drop out: 0 = paper, 0.5 = half as bright as
     the paper around it.
  4. ``ink_mask``: hysteresis threshold, the high threshold Otsu's but never
     inside the paper's own noise; then a 3x3 closing joins pen gaps.
  5. ``label_boxes``: measure.label and regionprops' boxes.
  6. ``character_boxes``: sizes are judged against the median character
     height, never against pixel counts: drop what is much taller or wider
     than a letter (ruled lines, page edges), merge the parts of one
     character that are stacked vertically (``merge_stacked``), then drop
     specks (dots, dust).

Then ``group_lines`` sorts the boxes into text lines, ``prepare_crop`` makes
the network's input, and ``char_accuracy`` scores the text.
"""
import nn  # noqa: I001  (first: it sets the BLAS threads before numpy loads)

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, transform

from data import CLASS_NAMES, from_image

WORK_SIDE = 1000         # long side of the working image, pixels
MIN_SIDE = 16            # smaller images cannot hold a legible character
MIN_CONTRAST = 0.12      # ink is at least this much darker than its paper (fraction)
NOISE_SIGMAS = 6.0       # ... and this many noise standard deviations above it

# Sizes relative to the median character height h of the image.
SPECK = 0.3              # drop components whose larger side is < SPECK h
TOO_TALL = 2.5           # drop components taller than TOO_TALL h (lines, edges)
TOO_WIDE = 4.0           # ... or wider than TOO_WIDE h
STACK_GAP = 0.6          # merge parts stacked with a vertical gap < STACK_GAP h ...
MERGED_HEIGHT = 1.5      # ... into a box no taller than MERGED_HEIGHT h
SPACE_FACTOR = 0.3       # a space: gap > median gap + SPACE_FACTOR h (see space_after)


# ----------------------------------------------------------------------------
# 1-4: image -> ink mask
# ----------------------------------------------------------------------------
def check_image(image):
    """Return image as an array after checking it is one findLetters can read:
    (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); integers (scaled by the dtype's
    maximum) or floats in [0, 1]; at least MIN_SIDE pixels a side.
    Raises ValueError naming the problem otherwise."""
    im = np.asarray(image)
    if im.dtype == bool:
        im = im.astype(np.uint8) * 255
    if not (np.issubdtype(im.dtype, np.integer) or np.issubdtype(im.dtype, np.floating)):
        raise ValueError(f'findLetters needs a numeric image array, got dtype {im.dtype}')
    if not (im.ndim == 2 or (im.ndim == 3 and im.shape[2] in (1, 3, 4))):
        raise ValueError(f'findLetters needs an (H, W) gray or (H, W, 3|4) colour image, '
                         f'got an array of shape {im.shape}')
    if min(im.shape[:2]) < MIN_SIDE:
        raise ValueError(f'image is {im.shape[0]}x{im.shape[1]} pixels; findLetters needs '
                         f'at least {MIN_SIDE}x{MIN_SIDE}')
    if np.issubdtype(im.dtype, np.floating):
        lo, hi = float(im.min()), float(im.max())
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi > 1:
            raise ValueError(f'a float image must hold values in [0, 1], got [{lo:g}, {hi:g}]')
    return im


def to_gray(image):
    """Checked image -> float32 gray (H, W) in [0, 1]. RGBA is composited on
    white first, so transparent areas count as paper."""
    im = image.astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        im /= np.iinfo(image.dtype).max
    if im.ndim == 2:
        return im
    if im.shape[2] == 1:
        return im[..., 0]
    gray = im[..., :3] @ np.array([0.2125, 0.7154, 0.0721], np.float32)  # as skimage.rgb2gray
    if im.shape[2] == 4:
        alpha = im[..., 3]
        gray = alpha * gray + (1 - alpha)
    return gray


def work_factor(shape, work_side=WORK_SIDE):
    """Integer block size that brings the long side to about work_side."""
    return max(1, int(round(max(shape[:2]) / work_side)))


def downscale(image, factor):
    """Average factor x factor blocks (trailing channels are kept), float32.

    Averaging is a box blur followed by subsampling: it anti-aliases and
    divides the sensor noise by factor. The last partial blocks (under
    factor pixels) are dropped. Summing strided slices keeps the cost to
    2 factor passes over the image.
    """
    h, w = image.shape[0] // factor, image.shape[1] // factor
    view = image[:h * factor, :w * factor]
    rows = view[0::factor].astype(np.float32)
    for i in range(1, factor):
        rows += view[i::factor]
    out = rows[:, 0::factor].copy()
    for i in range(1, factor):
        out += rows[:, i::factor]
    return out / np.float32(factor * factor)


def upscale_mask(mask, factor, shape):
    """Working-resolution boolean mask -> (H, W) float image of the input's
    size: 0.0 on ink, 1.0 elsewhere (the dropped border blocks are paper)."""
    bw = np.ones(shape, np.float32)
    h, w = mask.shape
    blocks = bw[:h * factor, :w * factor].reshape(h, factor, w, factor)
    blocks[...] = np.where(mask, np.float32(0), np.float32(1))[:, None, :, None]
    return bw


def ink_darkness(gray):
    """How much darker each pixel is than the paper around it, in [0, 1].

    The paper's brightness is a max filter (which replaces the dark strokes,
    far thinner than its window, by the paper next to them) then a mean
    filter (which smooths), both 1/20 of the image wide and computed on a 4x
    coarser grid for speed. What is left is the shading of the page.
    darkness = 1 - gray / paper is the ink's contrast, independent of lighting.
    """
    step = 4
    coarse = gray[::step, ::step]
    size = max(3, int(max(gray.shape) / 20 / step) | 1)
    paper = ndi.uniform_filter(ndi.maximum_filter(coarse, size=size), size=size)
    paper = np.repeat(np.repeat(paper, step, axis=0), step, axis=1)[:gray.shape[0], :gray.shape[1]]
    return np.clip(1.0 - gray / np.maximum(paper, 1e-3), 0.0, 1.0)


def ink_mask(dark):
    """Boolean ink mask by hysteresis thresholding of the darkness.

    high: Otsu's threshold, raised to at least MIN_CONTRAST and NOISE_SIGMAS
    noise deviations above the paper, so a blank page stays blank instead of
    Otsu splitting its noise in two. low = high / 2 keeps the faint edges of a
    stroke that touch a confidently dark core.
    """
    paper = np.median(dark)
    noise = 1.4826 * np.median(np.abs(dark - paper))  # robust std of the paper
    floor = max(MIN_CONTRAST, paper + NOISE_SIGMAS * noise)
    high = max(filters.threshold_otsu(dark), floor) if dark.max() > dark.min() else floor
    return filters.apply_hysteresis_threshold(dark, high / 2, high)


# ----------------------------------------------------------------------------
# 5-6: ink mask -> character boxes
# ----------------------------------------------------------------------------
def label_boxes(mask):
    """Boxes (K, 4) [y1, x1, y2, x2] of the 8-connected components of mask,
    y2 and x2 exclusive, as regionprops' bbox."""
    labels = measure.label(mask, connectivity=2)
    return np.array([r.bbox for r in measure.regionprops(labels)], dtype=int).reshape(-1, 4)


def median_height(boxes):
    """Typical character height: the median box height, recomputed once
    without the specks the first estimate identifies."""
    if len(boxes) == 0:
        return 0.0
    h = np.median(boxes[:, 2] - boxes[:, 0])
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    kept = boxes[sides >= SPECK * h]
    return float(np.median(kept[:, 2] - kept[:, 0])) if len(kept) else float(h)


def stacked(a, b, char_h):
    """Are boxes a and b two parts of one character stacked vertically (a
    broken stroke, the bar of a T drawn apart from its stem)? They overlap
    horizontally by at least half the narrower width, the vertical gap is
    under STACK_GAP * char_h, and together they are no taller than
    MERGED_HEIGHT * char_h, which two letters from different lines would be."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    narrower = min(a[3] - a[1], b[3] - b[1])
    gap = max(a[0], b[0]) - min(a[2], b[2])
    height = max(a[2], b[2]) - min(a[0], b[0])
    return overlap >= 0.5 * narrower and gap < STACK_GAP * char_h and height <= MERGED_HEIGHT * char_h


def merge_stacked(boxes, char_h):
    """Replace each set of stacked parts (see ``stacked``) by their union box."""
    boxes = [tuple(b) for b in boxes]
    i = 0
    while i < len(boxes):
        j = next((j for j in range(len(boxes)) if j != i and stacked(boxes[i], boxes[j], char_h)), None)
        if j is None:
            i += 1
            continue
        a, b = boxes[i], boxes[j]
        boxes[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        del boxes[j]
        i = 0      # the grown box may now reach one that was checked before
    return np.array(boxes, dtype=int).reshape(-1, 4)


def filter_boxes(boxes, char_h):
    """Drop anything much taller or wider than a character: ruled lines,
    page edges, shadows. (Specks are dropped after merging, since some are
    the detached parts of a character.)"""
    h = boxes[:, 2] - boxes[:, 0]
    w = boxes[:, 3] - boxes[:, 1]
    return boxes[(h <= TOO_TALL * char_h) & (w <= TOO_WIDE * char_h)]


def ink_at_work_scale(image):
    """Steps 1-4 and a closing: checked image -> (ink mask at the working
    resolution, the block size factor it was reduced by)."""
    factor = work_factor(image.shape)
    mask = ink_mask(ink_darkness(to_gray(downscale(image, factor))))
    # A closing with a 3x3 square bridges one-pixel gaps in thin pen strokes.
    return ndi.binary_closing(mask, np.ones((3, 3), bool), border_value=0), factor


def character_boxes(mask):
    """Steps 5-6: ink mask -> (N, 4) character boxes in the mask's pixels.
    The median height is measured again once lines and page edges are gone."""
    boxes = label_boxes(mask)
    boxes = filter_boxes(boxes, median_height(boxes))
    char_h = median_height(boxes)
    boxes = merge_stacked(boxes, char_h)
    return boxes[np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= SPECK * char_h]


def findLetters(image):
    """Q4.2: locate the handwritten characters in an image.

    image: (H, W, 3) RGB, (H, W, 4) RGBA or (H, W) gray array, any dtype.
    Returns (bboxes, bw):
      bboxes (N, 4) int array of [y1, x1, y2, x2] in the image's pixels, one
             row per character, y2 and x2 exclusive (bw[y1:y2, x1:x2] is the
             character); N = 0 for a page without characters.
      bw     (H, W) float image, 0.0 where there is ink and 1.0 elsewhere.
    Raises ValueError for an array that is not an image or is under 16x16.
    """
    image = check_image(image)
    mask, factor = ink_at_work_scale(image)
    boxes = character_boxes(mask)
    bboxes = np.minimum(boxes * factor, np.array(image.shape[:2] * 2))
    return bboxes, upscale_mask(mask, factor, image.shape[:2])


# ----------------------------------------------------------------------------
# Q4.4: a box -> a 32x32 image in the NIST36 look
# ----------------------------------------------------------------------------
# Measured on the NIST36 training images (ink = pixels below 0.5): the larger
# side of a character spans a median of 26 of the 32 pixels, its box is
# centred, and strokes are 3.7 pixels wide by ink area / skeleton length.
# The drawing below is set so that the same measurements of our crops of the
# sample photos give the same medians (26 and 3.7, mean pixel 0.81 vs 0.82):
# the soft rounded stroke ends lose half a pixel at the 0.5 threshold, hence
# a 27-pixel drawing, and area / skeleton length also counts stroke ends and
# crossings, hence a 3.25-pixel pen for a measured 3.7.
CROP_SIZE = 32
CHAR_SIDE = 27.0         # skeleton + pen, larger side
PEN_WIDTH = 3.25         # drawn stroke width
SUPERSAMPLE = 4          # draw at 4x, then average down: anti-aliased edges
EDGE_BLUR = 0.5          # Gaussian sigma (pixels at 32x32) for NIST's soft edges


def character_mask(bw, box):
    """The ink of one character: bw's ink inside box, keeping only the
    connected pieces that lie wholly inside it, so a neighbour's stroke that
    reaches into the box is left out. bw: 0 = ink. Returns a bool (h, w)."""
    y1, x1, y2, x2 = box
    H, W = bw.shape
    # one pixel of context: a piece cut by the box edge belongs to a neighbour
    Y1, X1, Y2, X2 = max(y1 - 1, 0), max(x1 - 1, 0), min(y2 + 1, H), min(x2 + 1, W)
    ink = bw[Y1:Y2, X1:X2] < 0.5
    labels, n = ndi.label(ink, np.ones((3, 3)))
    inside = np.zeros(n + 1, bool)
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        ys, xs = sl
        inside[i] = (ys.start + Y1 >= y1 and ys.stop + Y1 <= y2
                     and xs.start + X1 >= x1 and xs.stop + X1 <= x2)
    return inside[labels][y1 - Y1:y2 - Y1, x1 - X1:x2 - X1]


def bounding_crop(mask):
    """mask cut down to the bounding box of its True pixels."""
    ys, xs = np.nonzero(mask)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def skeleton_at(mask, scale):
    """Resize a bool mask by scale and thin it to one-pixel-wide strokes."""
    shape = np.maximum(1, np.round(np.array(mask.shape) * scale).astype(int))
    scaled = transform.resize(mask.astype(np.float32), shape, order=1, anti_aliasing=scale < 1) > 0.5
    return morphology.skeletonize(scaled) if scaled.any() else scaled


def prepare_crop(mask):
    """A character's bool ink mask (h, w) -> (32, 32) float image in the NIST36
    look: ink 0 (dark) on 1, upright, larger side CHAR_SIDE pixels, centred,
    strokes drawn PEN_WIDTH wide with soft edges.

    Photos differ from the training data in scale and pen width, so the
    character is redrawn: thin the mask to its skeleton at 4x the final
    resolution, sized so that skeleton plus pen spans CHAR_SIDE, dilate it
    with a disk as wide as the pen, and average 4x4 blocks down to 32x32.
    """
    if not mask.any():
        return np.ones((CROP_SIZE, CROP_SIZE), np.float32)
    mask = bounding_crop(mask)
    target = (CHAR_SIDE - PEN_WIDTH) * SUPERSAMPLE      # the skeleton's larger side
    scale = target / max(mask.shape)
    skeleton = skeleton_at(mask, scale)
    # Thinning shortens every stroke end by half the original pen's width,
    # so measure the skeleton and resize once more to hit the target.
    extent = max(bounding_crop(skeleton).shape)
    if extent > 1:
        skeleton = skeleton_at(mask, scale * target / extent)
    skeleton = bounding_crop(skeleton)[:CROP_SIZE * SUPERSAMPLE, :CROP_SIZE * SUPERSAMPLE]

    big = CROP_SIZE * SUPERSAMPLE
    canvas = np.zeros((big, big), bool)
    top, left = (big - np.array(skeleton.shape)) // 2
    canvas[top:top + skeleton.shape[0], left:left + skeleton.shape[1]] = skeleton
    pen = morphology.disk(int(round(PEN_WIDTH * SUPERSAMPLE / 2)))
    ink = downscale(ndi.binary_dilation(canvas, pen).astype(np.float32), SUPERSAMPLE)
    ink = ndi.gaussian_filter(ink, EDGE_BLUR)
    return np.clip(1.0 - ink / max(ink.max(), 1e-6), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------
# Q4.4: reading order and spaces
# ----------------------------------------------------------------------------
def group_lines(boxes):
    """Group boxes into text lines, top to bottom, each sorted left to right.

    boxes (N, 4) of [y1, x1, y2, x2]. Each box is shrunk to its middle half
    vertically; boxes whose middle halves overlap, directly or through a
    chain of others, are on one line. The middle half ignores what sticks
    out of a line (a descender, a raised digit) and tolerates letters that
    wander up and down, while lines, which are separated by more than half a
    letter height, stay apart. Returns a list of index arrays.
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    centre = (boxes[:, 0] + boxes[:, 2]) / 2
    quarter = (boxes[:, 2] - boxes[:, 0]) / 4
    top, bottom = centre - quarter, centre + quarter
    lines, line_bottom = [], -np.inf
    for i in np.argsort(top, kind='stable'):
        if top[i] > line_bottom:       # a gap in the union of middle halves
            lines.append([])
        lines[-1].append(i)
        line_bottom = max(line_bottom, bottom[i]) if top[i] <= line_bottom else bottom[i]
    return [np.array(sorted(line, key=lambda i: (boxes[i, 1] + boxes[i, 3]) / 2), dtype=int)
            for line in lines]


def space_after(line_boxes, factor=SPACE_FACTOR):
    """For one line's boxes (sorted left to right): a bool per gap, True
    where the gap is a space between words. Letters in a word are spaced
    about evenly, so a gap counts as a space when it exceeds the median gap
    by more than factor times the line's median letter height."""
    line_boxes = np.asarray(line_boxes).reshape(-1, 4)
    if len(line_boxes) < 2:
        return np.zeros(0, bool)
    gaps = line_boxes[1:, 1] - line_boxes[:-1, 3]
    height = np.median(line_boxes[:, 2] - line_boxes[:, 0])
    return gaps > np.median(gaps) + factor * height


def line_words(chars, line_boxes):
    """One line's characters (left to right) -> its words, split at the spaces."""
    words, spaces = [[]], space_after(line_boxes)
    for i, c in enumerate(chars):
        words[-1].append(c)
        if i < len(spaces) and spaces[i]:
            words.append([])
    return [''.join(w) for w in words if w]


# Handwritten digits and letters that the network confuses because they are
# drawn alike; NIST36 has both O and 0, which are often the same shape.
LOOKALIKE = {'0': 'O', '1': 'I', '2': 'Z', '5': 'S', '6': 'G', '8': 'B'}
LOOKALIKE_DIGIT = {v: k for k, v in LOOKALIKE.items()}


def consistent_word(word):
    """A word of two or more characters is letters or digits, not a mix.

    If most of it is digits, turn letters that look like digits into those
    digits; otherwise (ties count as letters, the commoner case) turn digits
    into the letters they look like. "T0" -> "TO", "1Z3" -> "123". Characters
    with no lookalike stay. A one-character word (a list number) is kept.
    """
    if len(word) < 2:
        return word
    if 2 * sum(c.isdigit() for c in word) > len(word):
        return ''.join(LOOKALIKE_DIGIT.get(c, c) for c in word)
    return ''.join(LOOKALIKE.get(c, c) for c in word)


def line_text(chars, line_boxes, word_rule=True):
    """One line's text: its words joined by single spaces."""
    words = line_words(chars, line_boxes)
    return ' '.join(consistent_word(w) for w in words) if word_rule else ' '.join(words)


# ----------------------------------------------------------------------------
# Scoring the extracted text
# ----------------------------------------------------------------------------
def normalise_text(text):
    """Upper-case letters and digits only: what the network can output."""
    return ''.join(c for c in text.upper() if c.isascii() and c.isalnum())


def levenshtein(a, b):
    """Edit distance: the fewest insertions, deletions and substitutions
    turning a into b. Row-by-row dynamic programming, O(len(a) len(b)):
    d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + (a[i] != b[j]))."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_accuracy(predicted, truth):
    """1 - edit distance / len(truth) on normalised text, floored at 0 (an
    output much longer than the truth cannot score below nothing)."""
    p, t = normalise_text(predicted), normalise_text(truth)
    if not t:
        return 1.0 if not p else 0.0
    return max(0.0, 1.0 - levenshtein(p, t) / len(t))


# ----------------------------------------------------------------------------
# The whole reader: image -> text, for any classifier
# ----------------------------------------------------------------------------
def read_text(boxes, bw, classify):
    """Order, prepare and classify the characters that findLetters found.

    boxes, bw: findLetters' output. classify(crops) -> list of str: crops
    (N, 32, 32) float in [0, 1], upright, ink 0 on 1, as ``prepare_crop``
    makes them; one upper-case character per crop.
    Returns a dict:
      text      lines joined by newlines, digits and letters made consistent
                within words (``consistent_word``)
      raw_text  the same with the classifier's characters as they are
      boxes     (N, 4) in reading order;  line_of (N,) the line of each box
      crops     (N, 32, 32) the classifier's inputs;  chars (N,) its outputs
    """
    lines = group_lines(boxes)
    order = np.concatenate(lines) if lines else np.zeros(0, int)
    boxes = np.asarray(boxes).reshape(-1, 4)[order]
    line_of = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    crops = np.array([prepare_crop(character_mask(bw, b)) for b in boxes],
                     dtype=np.float32).reshape(-1, CROP_SIZE, CROP_SIZE)
    chars = [str(c) for c in classify(crops)] if len(crops) else []
    if len(chars) != len(crops):
        raise ValueError(f'the classifier returned {len(chars)} characters for {len(crops)} crops')
    per_line = [np.flatnonzero(line_of == k) for k in range(len(lines))]
    text, raw = ('\n'.join(line_text([chars[i] for i in idx], boxes[idx], rule) for idx in per_line)
                 for rule in (True, False))
    return {'text': text, 'raw_text': raw, 'boxes': boxes, 'line_of': line_of,
            'crops': crops, 'chars': chars}


MLP_SHAPES = {'Wlayer1': (1024, 64), 'blayer1': (64,), 'Woutput': (64, 36), 'boutput': (36,)}


def mlp_classifier(params):
    """The Q3 network as a classifier: crops (N, 32, 32) -> N characters.
    The network was trained on rows in the files' column-major layout, so
    each upright crop is flattened with data.from_image."""
    layers = nn.classifier_layers()

    def classify(crops):
        x = from_image(np.asarray(crops, np.float32))
        probs = nn.predict(x, params, layers)
        return [CLASS_NAMES[k] for k in np.argmax(probs, axis=1)]
    return classify
