"""Q4: find handwritten characters in a photo, put them in reading order, and
turn each one into an image that looks like the classifier's training data.

``load_image`` reads a file as a photo viewer shows it (EXIF orientation,
any pixel format). The pipeline of findLetters (Q4.2), each step a small
function below:

  1. ``check_image``, ``to_gray``: RGB, RGBA or gray of any dtype -> gray in
     [0, 1]; anything else is a ValueError that says what is wrong.
  2. ``downscale``: average blocks so the long side is about ``WORK_SIDE``
     pixels. Block averaging is the blur (it anti-aliases and removes sensor
     noise), and every later step then costs the same on a 4000-pixel photo
     as on a 900-pixel one. Boxes are scaled back at the end.
  3. ``paper_brightness``, ``ink_darkness``: divide by the paper's own
     brightness, so shadows and uneven lighting drop out: 0 = paper, 0.5 =
     half as bright as the paper around it.
  4. ``ink_mask``: hysteresis threshold, per tile of the image: Otsu's, but
     never inside the paper's own noise; ``off_page`` leaves out a textured
     desk around the page; then a 3x3 closing joins pen gaps.
  5. ``skew_of_mask``, ``remove_rules``: the lines' tilt, and ruled, squared
     and margin lines (and page edges) taken out, keeping crossing strokes.
  6. ``character_boxes``: sizes are judged against the letter height,
     never against pixel counts; the height is the median over the pieces
     of ink weighted by their ink (``median_height``), so no number of
     specks can set it. Drop what is much taller or wider than a letter,
     runs along the frame, has strokes far thinner than the letters', or is
     much fainter (ghosts, desk grain); merge the parts of one character
     that are stacked vertically (``merge_stacked``), cut boxes of touching
     letters apart (``split_wide``), then drop specks (dots, dust).
  7. ``findLetters`` keeps a reading only if it looks like text: characters
     that line up (``text_score``) and stand out of the paper's noise
     (``contrast_to_noise``); light ink on a dark ground is the other
     reading it tries. Otherwise: no boxes.

Then ``read_text`` groups the boxes into lines along the tilt
(``group_lines``), makes each classifier's input (``character_crop``), and
``char_accuracy`` scores the text.
"""
from collections import namedtuple

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, morphology, transform

import nn
from data import CLASS_NAMES, from_image
from network import classifier_layers, predict

WORK_SIDE = 1000         # long side of the working image, pixels
MIN_SIDE = 16            # smaller images cannot hold a legible character
MIN_CONTRAST = 0.06      # ink is at least this much darker than its paper (fraction)
NOISE_SIGMAS = 4.5       # ... and this many noise standard deviations above it
TILES = 8                # thresholds are set in TILES x TILES tiles of the image
DESK_TEXTURE = 6.0       # ... and its darkness varies this many times more than the paper's
DESK_RATIO = 0.45        # darker than this fraction of the paper, at the photo's edge: the desk

# Sizes relative to the median character height h of the image.
SPECK = 0.3              # drop components whose larger side is < SPECK h
THIN_RATIO = 0.4         # ... or whose strokes are < THIN_RATIO of the letters'
TOO_TALL = 2.5           # drop components taller than TOO_TALL h (lines, edges)
TOO_WIDE = 4.0           # ... or wider than TOO_WIDE h
STACK_GAP = 0.6          # merge parts stacked with a vertical gap < STACK_GAP h ...
MERGED_HEIGHT = 1.5      # ... into a box no taller than MERGED_HEIGHT h
SPLIT_WIDTH = 2.0        # cut boxes wider than SPLIT_WIDTH h into characters
SPACE_FACTOR = 0.3       # a space: gap > median gap + SPACE_FACTOR h (see space_after)
RULE_LENGTH = 3.0        # a straight run of ink longer than RULE_LENGTH h is a ruled line
RULE_INK_RATIO = 1.6     # ... unless a pixel on it is this much darker than the rule
FAINT_RATIO = 0.5        # drop components whose peak darkness is < FAINT_RATIO of the letters'
RUN_FILL = 0.85          # a straight run may have gaps: this fraction of it is ink
REMNANT = 0.3           # ... and what is left of it: pieces thinner than REMNANT h
MIN_TEXT = 2             # fewer characters lined up than this: no text
MIN_LETTER_PIXELS = 6   # ... or letters lower than this in the photo's pixels
MIN_CONTRAST_TO_NOISE = 8.0  # ... or characters fainter than this many paper noise deviations
NO_TEXT_CONFIDENCE = 0.3  # ... or the classifier's median confidence under this
LOW_CONFIDENCE = 0.5     # a character read with less is marked as unsure
MAX_SKEW = 20.0          # text lines are tilted by at most this many degrees


# ----------------------------------------------------------------------------
# 0: an image file -> the array a photo viewer shows
# ----------------------------------------------------------------------------
# Pillow modes -> the mode we convert to: what findLetters reads (gray, RGB,
# RGBA), keeping transparency where the file has it.
READ_AS = {'1': 'L', 'L': 'L', 'LA': 'RGBA', 'La': 'RGBA', 'P': 'RGB', 'PA': 'RGBA',
           'RGB': 'RGB', 'RGBA': 'RGBA', 'RGBa': 'RGBA', 'RGBX': 'RGB', 'CMYK': 'RGB',
           'YCbCr': 'RGB', 'LAB': 'RGB', 'HSV': 'RGB'}


def load_image(source):
    """Read an image file the way a photo viewer shows it.

    source: a path or the file's bytes. Phones store a portrait photo
    sideways with an EXIF orientation tag; the pixels are turned upright
    here (ImageOps.exif_transpose). Every pixel format becomes one
    findLetters reads: gray or 16-bit gray stays gray (uint8 or uint16),
    gray+alpha and palettes with transparency become RGBA, CMYK, YCbCr and
    palettes become RGB. Multi-page files give their first page.
    Raises ValueError naming the problem for a file that is not an image.
    """
    import io
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ('I;16', 'I;16B', 'I;16L', 'I;16N'):
                return np.asarray(img, dtype=np.uint16)
            if img.mode in ('I', 'F'):           # 32-bit gray: scale to its own range
                a = np.asarray(img, dtype=np.float64)
                return ((a - a.min()) / max(np.ptp(a), 1e-12)).astype(np.float32)
            if img.mode == 'P' and 'transparency' in img.info:
                img = img.convert('RGBA')
            return np.asarray(img.convert(READ_AS.get(img.mode, 'RGB')))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ValueError(f'not a readable image ({e})') from None


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


def paper_brightness(gray):
    """The paper's brightness at each pixel: the shading of the page.

    A grayscale closing 1/20 of the image wide: a max filter replaces the
    dark strokes, far thinner than its window, by the paper next to them,
    and a min filter of the same size moves the edge of a hard shadow back
    to where it is (a mean filter would blur it and make the shaded paper
    beside it look like ink). A small mean filter smooths the result and a
    small min filter settles its sharp edges. All on a 4x coarser grid for
    speed.
    """
    step = 4
    coarse = gray[::step, ::step]
    size = max(3, int(max(gray.shape) / 20 / step) | 1)
    paper = ndi.uniform_filter(ndi.grey_closing(coarse, size=size), size=3)
    # At a sharp edge (the page on a desk) the smoothing and the coarse grid
    # would leave the desk next to the edge under a paper-bright estimate,
    # a band of 'ink': there the darker neighbour's value wins.
    paper = ndi.minimum_filter(paper, size=3)
    paper = np.repeat(np.repeat(paper, step, axis=0), step, axis=1)[:gray.shape[0], :gray.shape[1]]
    return ndi.minimum_filter(paper, size=2 * step + 1)


def ink_darkness(gray, paper=None):
    """How much darker each pixel is than the paper around it, in [0, 1]:
    darkness = 1 - gray / paper (``paper_brightness``) is the ink's
    contrast, independent of the lighting."""
    paper = paper_brightness(gray) if paper is None else paper
    return np.clip(1.0 - gray / np.maximum(paper, 1e-3), 0.0, 1.0)


def off_page(paper, dark):
    """Where the page is not: a textured desk or floor around it, (H, W) bool.

    Candidates are regions much darker than the paper (under DESK_RATIO of
    the bright paper's brightness) that reach the edge of the photo. One is
    the desk, not a shadow on the page, when its darkness varies more than
    DESK_TEXTURE times as much as the paper's (wood grain, a carpet: what
    would otherwise read as faint ink). A shadow's darkness varies more than
    the paper's too, since the same sensor noise is a larger fraction of
    less light, but far less; a smooth desk is harmless and kept. The desk is grown by a margin of 1% of the image. Nothing is off
    the page when the candidates are most of the photo."""
    step = 4
    coarse, texture = paper[::step, ::step], dark[::step, ::step]
    labels, n = ndi.label(coarse < DESK_RATIO * np.percentile(coarse, 90))
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    if n == 0 or len(edge) == 0 or np.isin(labels, edge).mean() > 0.7:
        return np.zeros(paper.shape, bool)
    page_noise = np.median(np.abs(texture[labels == 0] - np.median(texture[labels == 0])))
    desk = np.zeros(coarse.shape, bool)
    for k in edge:
        region = texture[labels == k]
        if np.median(np.abs(region - np.median(region))) > DESK_TEXTURE * page_noise:
            desk |= labels == k
    if not desk.any():
        return np.zeros(paper.shape, bool)
    desk = ndi.binary_dilation(desk, iterations=max(1, int(0.01 * max(coarse.shape))))
    return np.repeat(np.repeat(desk, step, axis=0), step, axis=1)[:paper.shape[0], :paper.shape[1]]


def tiles(a, tile):
    """a (H, W) cut into tile x tile squares -> (H // tile, W // tile, tile * tile)
    (the last partial row and column of tiles are left out)."""
    h, w = max(1, a.shape[0] // tile), max(1, a.shape[1] // tile)
    return a[:h * tile, :w * tile].reshape(h, tile, w, tile).transpose(0, 2, 1, 3).reshape(h, w, -1)


def ink_mask(dark):
    """Boolean ink mask by hysteresis thresholding of the darkness, with
    thresholds that follow the page: computed in each of TILES x TILES tiles
    and interpolated between their centres.

    high: Otsu's threshold of the tile, raised to at least MIN_CONTRAST and
    NOISE_SIGMAS noise deviations above the tile's paper, so blank paper
    stays blank instead of Otsu splitting its noise in two. Per tile, a
    faint pencil page gets a threshold between its paper and its faint
    strokes, instead of one that a dark desk or shadow edge elsewhere in the
    photo pulled up past them. low = high / 2 keeps the faint edges of a
    stroke that touch a confidently dark core.
    """
    tile = max(16, max(dark.shape) // TILES)
    t = tiles(dark, tile)
    paper = np.median(t, axis=2)
    noise = 1.4826 * np.median(np.abs(t - paper[..., None]), axis=2)   # robust std of the paper
    floor = np.maximum(MIN_CONTRAST, paper + NOISE_SIGMAS * noise)
    otsu = np.array([[filters.threshold_otsu(x) if x.max() > x.min() else 0.0 for x in row] for row in t])
    high = np.maximum(otsu, floor)
    high = ndi.zoom(high, (dark.shape[0] / high.shape[0], dark.shape[1] / high.shape[1]), order=1,
                    mode='nearest', grid_mode=True)
    high = np.pad(high, [(0, max(0, n - m)) for n, m in zip(dark.shape, high.shape)], mode='edge')
    high = high[:dark.shape[0], :dark.shape[1]]
    return filters.apply_hysteresis_threshold(dark - high / 2, 0.0, high / 2)


# ----------------------------------------------------------------------------
Components = namedtuple('Components', 'labels boxes area stroke')


def components(mask):
    """The 8-connected pieces of ink in a bool mask, measured:
      labels (H, W) int: 1 + the piece's index, 0 off the ink
      boxes  (K, 4) [y1, x1, y2, x2], y2 and x2 exclusive (as regionprops' bbox)
      area   (K,) ink pixels
      stroke (K,) mean stroke width: a stroke of width s and length L has
             area s L and 2 L boundary pixels, so s = 2 area / boundary
             (a one-pixel line measures 2).
    """
    labels, n = ndi.label(mask, np.ones((3, 3), bool))
    boxes = np.array([[ys.start, xs.start, ys.stop, xs.stop] for ys, xs in ndi.find_objects(labels)],
                     dtype=int).reshape(-1, 4)
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    edge = mask & ~ndi.binary_erosion(mask, np.ones((3, 3), bool), border_value=0)
    boundary = np.bincount(labels[edge], minlength=n + 1)[1:]
    return Components(labels, boxes, area, 2.0 * area / np.maximum(boundary, 1))


def weighted_median(values, weights):
    """The value below which half of the total weight lies."""
    order = np.argsort(values, kind='stable')
    cum = np.cumsum(np.asarray(weights, float)[order])
    return float(np.asarray(values)[order][np.searchsorted(cum, cum[-1] / 2)])


def median_height(boxes, area=None, shape=None):
    """Typical character height h.

    Each piece of ink counts by its ink area (``area``, when given), so a
    page's letters outweigh any number of specks (sensor noise, desk grain,
    dust), which are many but small; a median over pieces would be a
    speck's height. With the image's shape, pieces that touch its border
    are left out when others do not (the desk or a page edge cut by the
    frame weighs a lot of ink). Recomputed once over the pieces that are
    letter-sized for that first estimate: between SPECK h and TOO_TALL h
    tall, at most TOO_WIDE h wide (a ruled line weighs a lot of ink too).
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    area = np.ones(len(boxes)) if area is None else np.asarray(area, float)
    if shape is not None:
        inside = ~touches_frame(boxes, shape)
        if inside.any():
            boxes, area = boxes[inside], area[inside]
    if len(boxes) == 0:
        return 0.0
    heights, widths = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    h = weighted_median(heights, area)
    sized = ((np.maximum(heights, widths) >= SPECK * h) & (heights <= TOO_TALL * h)
             & (widths <= TOO_WIDE * h))
    return weighted_median(heights[sized], area[sized]) if sized.any() else h


def text_stroke(comps, char_h):
    """The letters' stroke width: the area-weighted median stroke of the
    letter-sized pieces (half to 1.5 letter heights tall)."""
    h = comps.boxes[:, 2] - comps.boxes[:, 0]
    letters = (h >= 0.5 * char_h) & (h <= 1.5 * char_h)
    return weighted_median(comps.stroke[letters], comps.area[letters]) if letters.any() else 0.0


def stacked(a, others, char_h):
    """Is box a stacked vertically with each of others (K, 4), as two parts
    of one character are (a broken stroke, the bar of a T drawn apart from
    its stem)? They overlap horizontally by at least half the narrower
    width, the vertical gap is under STACK_GAP * char_h, and together they
    are no taller than MERGED_HEIGHT * char_h, which two letters from
    different lines would be. Returns a bool (K,)."""
    b = np.asarray(others).reshape(-1, 4)
    overlap = np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1])
    narrower = np.minimum(a[3] - a[1], b[:, 3] - b[:, 1])
    gap = np.maximum(a[0], b[:, 0]) - np.minimum(a[2], b[:, 2])
    height = np.maximum(a[2], b[:, 2]) - np.minimum(a[0], b[:, 0])
    return (overlap >= 0.5 * narrower) & (gap < STACK_GAP * char_h) & (height <= MERGED_HEIGHT * char_h)


def merge_stacked(boxes, char_h):
    """Replace each set of stacked parts (see ``stacked``) by their union box."""
    boxes = np.array(boxes, dtype=int).reshape(-1, 4)
    i = 0
    while i < len(boxes):
        partner = stacked(boxes[i], boxes, char_h)
        partner[i] = False
        if not partner.any():
            i += 1
            continue
        j = int(np.argmax(partner))
        boxes[i, :2] = np.minimum(boxes[i, :2], boxes[j, :2])
        boxes[i, 2:] = np.maximum(boxes[i, 2:], boxes[j, 2:])
        boxes = np.delete(boxes, j, axis=0)
        i = 0      # the grown box may now reach one that was checked before
    return boxes


def fits_a_letter(boxes, char_h):
    """bool (K,): not much taller or wider than a character (ruled lines,
    page edges and shadows are). Specks are dropped after merging, since
    some are the detached parts of a character."""
    h = boxes[:, 2] - boxes[:, 0]
    w = boxes[:, 3] - boxes[:, 1]
    return (h <= TOO_TALL * char_h) & (w <= TOO_WIDE * char_h)


def ink_at_work_scale(image, light_ink=False):
    """Steps 1-4 and a closing: checked image -> (ink mask at the working
    resolution, its darkness image, the block size factor it was reduced by).
    light_ink reads ink lighter than its ground (chalk on a blackboard)."""
    factor = work_factor(image.shape)
    gray = to_gray(downscale(image, factor))
    if light_ink:     # downscale keeps the dtype's range: 0-255 for uint8
        gray = (np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1.0) - gray
    paper = paper_brightness(gray)
    dark = ink_darkness(gray, paper)
    mask = ink_mask(dark) & ~off_page(paper, dark)
    # A closing with a 3x3 square bridges one-pixel gaps in thin pen strokes.
    return ndi.binary_closing(mask, np.ones((3, 3), bool), border_value=0), dark, factor


# ----------------------------------------------------------------------------
# Tilted pages: the angle of the text lines
# ----------------------------------------------------------------------------
def estimate_skew(points, bin_size, max_angle=MAX_SKEW, step=0.5):
    """The angle (degrees) of the text lines: y grows by tan(angle) per
    pixel of x along a line (image axes, y down).

    points (N, 2) of (y, x): box centres, or ink pixels. They are projected
    across the lines at each candidate angle; at the right angle the points
    of one line (or one ruled line) fall into few bins of ``bin_size``, so
    the histogram is most peaked (largest sum of squared counts: a
    projection profile). The smallest angle within 2% of the best score
    wins, so a page whose lines are too short to say stays at 0.
    """
    points = np.asarray(points, float).reshape(-1, 2)
    if len(points) < 3:
        return 0.0
    angles = np.arange(-max_angle, max_angle + step / 2, step)
    scores = []
    for a in np.deg2rad(angles):
        across = (points[:, 0] * np.cos(a) - points[:, 1] * np.sin(a)) / bin_size
        across -= across.min()
        # half-bin offsets too, so a line split by a bin edge is not penalised
        scores.append(max((np.bincount(across.astype(int)) ** 2).sum(),
                          (np.bincount((across + 0.5).astype(int)) ** 2).sum()))
    scores = np.array(scores, float)
    good = np.flatnonzero(scores >= 0.98 * scores.max())
    return float(angles[good[np.argmin(np.abs(angles[good]))]])


def box_centres(boxes):
    """(N, 4) boxes -> (N, 2) centres (y, x)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return np.stack([boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]], 1) / 2


def skew_of_boxes(boxes):
    """The text lines' angle from the character boxes (``estimate_skew`` of
    their centres, bins a third of a letter high)."""
    boxes = np.asarray(boxes).reshape(-1, 4)
    if len(boxes) == 0:
        return 0.0
    return estimate_skew(box_centres(boxes), max(np.median(boxes[:, 2] - boxes[:, 0]) / 3, 1.0))


def skew_of_mask(mask, max_points=20000):
    """The angle of the lines (text or ruled) from up to max_points ink
    pixels of the mask, in bins of 2 pixels."""
    points = np.argwhere(mask)
    if len(points) > max_points:
        points = points[::len(points) // max_points + 1]
    return estimate_skew(points, 2.0)


# ----------------------------------------------------------------------------
# Ruled and squared paper: removing long straight lines
# ----------------------------------------------------------------------------
def shear_columns(a, angle, inverse=False):
    """Shift column x of a 2-D array up by round(x tan(angle)) (down with
    inverse), so lines at ``angle`` become horizontal rows. Rows that move
    past the edge are padded with zeros."""
    shift = np.round(np.arange(a.shape[1]) * np.tan(np.deg2rad(angle))).astype(int)
    shift = -shift if inverse else shift
    pad = int(np.abs(shift).max()) if len(shift) else 0
    padded = np.pad(a, ((pad, pad), (0, 0)))
    rows = np.arange(a.shape[0])[:, None] + pad + shift[None, :]
    return np.take_along_axis(padded, rows, axis=0)


def long_runs(mask, length, fill=RUN_FILL):
    """The pixels of mask on horizontal runs at least ``length`` long: a
    binary opening with a line, done with running means so it costs O(size)
    for any length. A window counts as a run when at least ``fill`` of its
    pixels are ink in its row or the rows beside it: a faint printed line
    breaks up, and a thin one a fraction of a degree off the estimated
    angle steps from row to row."""
    band = mask | np.roll(mask, 1, axis=0) | np.roll(mask, -1, axis=0)
    core = ndi.uniform_filter1d(band.astype(np.float32), length, axis=1, mode='constant') >= fill
    run = ndi.uniform_filter1d(core.astype(np.float32), length, axis=1, mode='constant') > 0.5 / length
    return mask & (run | np.roll(run, 1, axis=0) | np.roll(run, -1, axis=0))


def straight_lines(mask, angle, length):
    """Pixels of mask on straight lines at least ``length`` long, parallel or
    perpendicular to text lines at ``angle`` degrees: (along, across) masks.
    A line takes the ink one pixel beside it along (see ``long_runs``)."""
    along = shear_columns(long_runs(shear_columns(mask, angle), length), angle, inverse=True)
    across = shear_columns(long_runs(shear_columns(mask.T, -angle), length), -angle, inverse=True).T
    return along, across


def remove_rules(mask, dark, angle, length, char_h):
    """Take ruled and margin lines (and a squared grid, and the straight
    edge of a page) out of the ink mask without eating the strokes that
    touch or cross them.

    A rule is a straight run of ink at least ``length`` pixels long,
    parallel or perpendicular to the text at ``angle``. Its pixels are
    removed, except where (a) a stroke crosses it: there is ink on both
    sides of it within a rule's width, or (b) the pixel is clearly darker
    than the rule itself (pen on a printed rule). What the removal leaves of
    a rule itself, pieces thinner across it than REMNANT letter heights
    that touched it, goes too (char_h=0 keeps them). Returns the cleaned mask.
    """
    along, across = straight_lines(mask, angle, max(int(length), 15))
    rules = along | across
    if not rules.any():
        return mask
    ink = mask & ~rules
    # the rule's own darkness: most of its pixels are no darker than this
    keep = dark > RULE_INK_RATIO * np.percentile(dark[rules], 75)
    width = 4                                           # a rule is at most this wide here
    for lines, axis in ((along, 0), (across, 1)):
        if lines.any():
            before, after = np.zeros_like(ink), np.zeros_like(ink)
            for d in range(1, width + 1):
                before |= np.roll(ink, d, axis=axis)
                after |= np.roll(ink, -d, axis=axis)
            keep |= lines & before & after
    cleaned = ink | (rules & keep)
    if not char_h:
        return cleaned
    # remnants: small pieces next to a removed rule, thin across it
    removed = ndi.binary_dilation(rules & ~keep, np.ones((3, 3), bool))
    labels, n = ndi.label(cleaned, np.ones((3, 3)))
    touching = np.zeros(n + 1, bool)
    touching[np.unique(labels[removed & cleaned])] = True
    drop = np.zeros(n + 1, bool)
    for i, (ys, xs) in enumerate(ndi.find_objects(labels), start=1):
        if touching[i]:
            drop[i] = min(ys.stop - ys.start, xs.stop - xs.start) < REMNANT * char_h
    return cleaned & ~drop[labels]


# ----------------------------------------------------------------------------
# Components -> character boxes, without ghosts
# ----------------------------------------------------------------------------
def touches_frame(boxes, shape):
    """bool (K,): the box reaches the image's border (within 2 pixels: the
    mask's closing erodes its outermost pixel)."""
    return ((boxes[:, :2] <= 2).any(1) | (boxes[:, 2] >= shape[0] - 2) | (boxes[:, 3] >= shape[1] - 2))


def along_the_frame(boxes, shape, ratio=3.0):
    """bool (K,): pieces that touch the image's border and run along it, at
    least ``ratio`` times longer along that border than across: the edge of
    the page or the desk beside it, cut by the frame, not a letter."""
    h, w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = (boxes[:, 1] <= 2) | (boxes[:, 3] >= shape[1] - 2)
    end = (boxes[:, 0] <= 2) | (boxes[:, 2] >= shape[0] - 2)
    return (side & (h >= ratio * w)) | (end & (w >= ratio * h))


def split_wide(boxes, mask, char_h):
    """Cut boxes wider than SPLIT_WIDTH letter heights (letters that touch,
    joined writing) into as many characters as the typical letter width
    fits, each cut at the column with the least ink within a quarter of a
    letter of where even spacing puts it; each part's box is shrunk to its
    own ink. Returns the boxes, the wide ones replaced by their parts."""
    widths = boxes[:, 3] - boxes[:, 1]
    wide = widths > SPLIT_WIDTH * char_h
    if not wide.any():
        return boxes
    letter_w = np.median(widths[~wide]) if (~wide).any() else 0.8 * char_h
    out = [boxes[~wide]]
    for y1, x1, y2, x2 in boxes[wide]:
        ink = mask[y1:y2, x1:x2]
        profile = ink.sum(0)
        k = max(2, int(round((x2 - x1) / letter_w)))
        step, reach = (x2 - x1) / k, max(1, int(letter_w / 4))
        cuts = [0]
        for i in range(1, k):
            t = int(i * step)
            lo, hi = max(cuts[-1] + 1, t - reach), min(x2 - x1 - 1, t + reach + 1)
            cuts.append(lo + int(np.argmin(profile[lo:hi])) if hi > lo else t)
        cuts.append(x2 - x1)
        for a, b in zip(cuts[:-1], cuts[1:]):
            rows = np.flatnonzero(ink[:, a:b].any(1))
            if len(rows):
                out.append(np.array([[y1 + rows[0], x1 + a, y1 + rows[-1] + 1, x1 + b]]))
    return np.concatenate(out).astype(int)


def not_faint(boxes, peak, char_h):
    """Which components (bool (K,)) have a peak darkness of at least
    FAINT_RATIO of the letters': the ghosts of erased writing, paper
    texture and the grain of a desk are much fainter than what was written
    last. peak (K,) is each component's darkest value.

    The letters' darkness is the median peak of the letter-sized pieces,
    or, where those fall into two clearly apart groups (Otsu's split of
    their peaks; the darker group's median over 1 / FAINT_RATIO times the
    fainter's) and the darker holds at least a fifth of them, of the darker
    group: a desk around a small card can have more letter-sized grain than
    the card has letters."""
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    letters = peak[sides >= 0.5 * char_h]
    if len(letters) == 0:
        return np.ones(len(boxes), bool)
    if letters.max() > letters.min():
        split = letters > filters.threshold_otsu(letters)
        darker, fainter = letters[split], letters[~split]
        if len(darker) >= 0.2 * len(letters) and np.median(darker) * FAINT_RATIO > np.median(fainter):
            letters = darker
    return peak >= FAINT_RATIO * np.median(letters)


def character_boxes(mask, dark=None):
    """Steps 5-6: ink mask -> (N, 4) character boxes in the mask's pixels.

    Components much taller or wider than a letter go (lines, edges,
    shadows), and those that run along the frame (``along_the_frame``); so
    do those whose strokes are under THIN_RATIO of the
    letters' (the grain of a desk, paper fibres beside a marker's strokes),
    and, with dark (the darkness image), those much fainter than the
    letters. The letter height is measured again without them, the parts
    of one character are merged, and specks go last."""
    comps = components(mask)
    boxes = comps.boxes
    if len(boxes) == 0:
        return boxes
    char_h = median_height(boxes, comps.area, mask.shape)
    keep = fits_a_letter(boxes, char_h) & ~along_the_frame(boxes, mask.shape)
    if dark is not None:
        peak = ndi.maximum(dark, comps.labels, np.arange(1, len(boxes) + 1))
        keep &= not_faint(boxes, np.asarray(peak, float), median_height(boxes[keep], comps.area[keep]))
    keep &= comps.stroke >= THIN_RATIO * text_stroke(comps, char_h)
    boxes = boxes[keep]
    char_h = median_height(boxes, comps.area[keep])
    boxes = split_wide(merge_stacked(boxes, char_h), mask, char_h)
    return boxes[np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= SPECK * char_h]


def letter_height(mask):
    """The letters' height in a mask (``median_height``, by ink area)."""
    comps = components(mask)
    return median_height(comps.boxes, comps.area, mask.shape)


def contrast_to_noise(boxes, mask, dark):
    """How far the characters stand out of the paper's own noise: the
    median over boxes of the darkest ink in each, divided by the robust
    standard deviation of the darkness on the bare paper around them
    (within a letter height of a box, away from the ink; a desk further
    off does not count). Writing stands far out (15 to thousands on real
    photos, 7 to 11 for faint pencil on grey paper); desk grain and the
    noise of blank paper, which thresholds let through here and there, do
    not (5 to 7)."""
    if len(boxes) == 0:
        return 0.0
    near = np.zeros(mask.shape, bool)
    reach = int(np.median(boxes[:, 2] - boxes[:, 0]))
    for y1, x1, y2, x2 in boxes:
        near[max(y1 - reach, 0):y2 + reach, max(x1 - reach, 0):x2 + reach] = True
    peaks = [(dark[y1:y2, x1:x2] * mask[y1:y2, x1:x2]).max() for y1, x1, y2, x2 in boxes]
    away = dark[near & ~ndi.binary_dilation(mask, iterations=3)]
    if len(away) == 0:
        return np.inf
    noise = 1.4826 * np.median(np.abs(away - np.median(away)))
    return float(np.median(peaks) / max(noise, 1e-4))


Reading = namedtuple('Reading', 'boxes mask factor score')


def find_boxes(image, light_ink=False):
    """Steps 1-6 on a checked image -> a Reading: boxes (N, 4) at the
    working resolution, the cleaned ink mask, the block size factor, how
    much the result looks like text (``text_score``, or 0 when the
    characters are under MIN_LETTER_PIXELS high in the photo or do not
    stand out of the paper's noise, ``contrast_to_noise``)."""
    mask, dark, factor = ink_at_work_scale(image, light_ink)
    # The angle of the lines (text or ruled) says which way rules run. Rules
    # that cross the page go first; then the letter height, measured without
    # them, says how long a shorter straight line must be to be a rule.
    angle = skew_of_mask(mask)
    mask = remove_rules(mask, dark, angle, max(mask.shape) / 4, 0)
    char_h = letter_height(mask)
    mask = remove_rules(mask, dark, angle, RULE_LENGTH * char_h, char_h)
    boxes = character_boxes(mask, dark)
    legible = (median_height(boxes) * factor >= MIN_LETTER_PIXELS
               and contrast_to_noise(boxes, mask, dark) >= MIN_CONTRAST_TO_NOISE)
    return Reading(boxes, mask, factor, text_score(boxes) if legible else 0)


def text_score(boxes):
    """How much the boxes look like text: the number of them that share a
    line (``group_lines``) with at least one other box of a similar height
    (within a factor of two of the line's median). Specks, grain and
    noise scatter; writing lines up."""
    score = 0
    for line in group_lines(boxes):
        h = boxes[line, 2] - boxes[line, 0]
        if len(line) >= 2:
            score += int(np.sum((h >= 0.5 * np.median(h)) & (h <= 2 * np.median(h))))
    return score


def findLetters(image):
    """Q4.2: locate the handwritten characters in an image.

    image: (H, W, 3) RGB, (H, W, 4) RGBA or (H, W) gray array, any dtype.
    Returns (bboxes, bw):
      bboxes (N, 4) int array of [y1, x1, y2, x2] in the image's pixels, one
             row per character, y2 and x2 exclusive (bw[y1:y2, x1:x2] is the
             character); N = 0 for a page without characters.
      bw     (H, W) float image, 0.0 where there is ink and 1.0 elsewhere.
    Raises ValueError for an array that is not an image or is under 16x16.

    Dark ink on light paper is read first. When under half of what that
    finds lines up like text (``text_score``), or the photo is mostly dark,
    ink lighter than its ground (chalk, a white pen on black) is tried too,
    and kept if more of it lines up. A reading whose characters are too
    small or too faint to tell from noise counts as no text (``find_boxes``):
    when neither has MIN_TEXT characters in lines, there are no boxes, and
    bw is blank.
    """
    image = check_image(image)
    best = find_boxes(image)
    mostly_dark = np.median(to_gray(image[::8, ::8])) < 0.5
    if best.score < 0.5 * len(best.boxes) or best.score < MIN_TEXT or mostly_dark:
        other = find_boxes(image, light_ink=True)
        if other.score > best.score:
            best = other
    boxes, mask, factor, score = best
    if score < MIN_TEXT:
        return np.zeros((0, 4), int), np.ones(image.shape[:2], np.float32)
    bboxes = np.minimum(boxes * factor, np.array(image.shape[:2] * 2))
    return bboxes, upscale_mask(mask, factor, image.shape[:2])


# ----------------------------------------------------------------------------
# Q4.4: a box -> an image in the training data's look
# ----------------------------------------------------------------------------
# NIST36 and EMNIST frame each character by its bounding box. Measured on
# their training images (ink = pixels darker than half), the larger side of
# the box spans a median of 26 of NIST36's 32 pixels and 22 of EMNIST's 28,
# the box is centred, and strokes (ink area / skeleton length) are 2.3-6.0
# and 2.0-5.1 pixels wide (5th-95th percentiles) with soft edges.
# ``character_crop`` does the same to a photo's character: the ink's own
# gray levels, lighting divided out, deskewed, framed by its box. Only a
# stroke width outside the training data's range (a fine pen on a large
# photo, a fat marker) is redrawn, by ``prepare_crop``.
CropFormat = namedtuple('CropFormat', 'size side strokes pen')
# size: crop side; side: the ink box's larger side; strokes: the data's
# stroke widths (lo, hi); pen: the width drawn when redrawing, set so that
# it measures as the data's median (the soft, rounded ends lose some).
NIST36_CROP = CropFormat(size=32, side=26.0, strokes=(2.3, 6.0), pen=3.25)
EMNIST_CROP = CropFormat(size=28, side=22.0, strokes=(2.0, 5.1), pen=2.8)
ANTI_ALIAS = 0.3         # Gaussian sigma (output pixels) before shrinking a character
REDRAW_SMOOTH = 0.5      # Gaussian sigma (crop pixels) on ink before it is redrawn
SUPERSAMPLE = 4          # draw at 4x, then average down: anti-aliased edges
EDGE_BLUR = 0.5          # Gaussian sigma (crop pixels) for the datasets' soft edges


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
    own = inside[labels][y1 - Y1:y2 - Y1, x1 - X1:x2 - X1]
    # letters that touch were cut apart by findLetters (split_wide): then
    # no piece lies wholly inside, and the box's own ink is the character
    return own if own.any() else ink[y1 - Y1:y2 - Y1, x1 - X1:x2 - X1]


def character_darkness(image, bw, box):
    """One character's ink as darkness in [0, 1] (1 = its darkest ink), with
    the paper at 0 and everything that is not this character removed.

    The patch around the box is read in gray at full resolution. The paper's
    brightness is estimated locally (a max filter wider than a stroke, then
    a mean), as in ``ink_darkness``, so a shadow edge or a gradient does not
    matter; darkness = 1 - gray / paper. Only ink within a few pixels of the
    character's own mask (``character_mask``) is kept, which removes the
    neighbours and the specks, and the contrast is stretched from the bare
    paper's texture to the ink, so that faint pencil on textured paper and
    black marker look the same. Returns (darkness, mask), both
    (h + 2m, w + 2m) with m a margin of a quarter of the box.
    """
    y1, x1, y2, x2 = box
    size = max(y2 - y1, x2 - x1)
    m = size // 4 + 2
    H, W = bw.shape
    Y1, X1, Y2, X2 = max(y1 - m, 0), max(x1 - m, 0), min(y2 + m, H), min(x2 + m, W)
    gray = to_gray(image[Y1:Y2, X1:X2])
    own = np.zeros(gray.shape, bool)
    own[y1 - Y1:y2 - Y1, x1 - X1:x2 - X1] = character_mask(bw, box)
    if own.any() and gray[own].mean() > gray[~own].mean():
        gray = 1.0 - gray          # light ink on a dark ground (findLetters read it so)
    k = max(3, int(0.4 * size) | 1)
    paper = ndi.uniform_filter(ndi.maximum_filter(gray, k, mode='nearest'), k, mode='nearest')
    dark = np.clip(1.0 - gray / np.maximum(paper, 1e-3), 0.0, 1.0)
    if not own.any():
        return np.zeros_like(dark), own
    near = ndi.distance_transform_edt(~own) <= max(2.0, 0.06 * size)
    # the paper's own texture sets the zero: darkness most of the bare paper
    # around the character reaches (0 on clean paper) counts as no ink
    floor = np.percentile(dark[~near], 90) if (~near).any() else 0.0
    level = np.percentile(dark[own], 90)
    dark = np.clip((dark - floor) / max(level - floor, 1e-3), 0.0, 1.0)
    return dark * near, own


def frame(dark, angle=0.0, side=NIST36_CROP.side, size=NIST36_CROP.size, level=0.5):
    """Resample a darkness image the way NIST36 frames a character: rotated
    by -angle (deskewed), its ink box (pixels above level) scaled so the
    larger side spans ``side`` pixels, centred in a size x size square.

    Each output pixel is mapped back into dark (bilinear); when shrinking,
    dark is blurred first so the result is anti-aliased.
    """
    ys, xs = np.nonzero(dark > level)
    if len(ys) == 0:
        return np.zeros((size, size), np.float32)
    t = np.deg2rad(angle)
    c, s = np.cos(t), np.sin(t)
    # pixel k covers [k, k+1): use the pixels' corners for the box
    ys, xs = ys + 0.5, xs + 0.5
    u, v = ys * c - xs * s, xs * c + ys * s              # deskewed (row, column)
    half = 0.5 * (abs(c) + abs(s))
    u1, u2, v1, v2 = u.min() - half, u.max() + half, v.min() - half, v.max() + half
    scale = side / max(u2 - u1, v2 - v1)
    if scale < 1:
        dark = ndi.gaussian_filter(dark, ANTI_ALIAS / scale)
    o = (np.arange(size) + 0.5 - size / 2) / scale
    uu, vv = np.meshgrid((u1 + u2) / 2 + o, (v1 + v2) / 2 + o, indexing='ij')
    y, x = uu * c + vv * s, vv * c - uu * s
    out = ndi.map_coordinates(dark, [y - 0.5, x - 0.5], order=1, cval=0.0)
    return (out / max(out.max(), 1e-6)).astype(np.float32)


def stroke_width(mask):
    """Mean stroke width of a bool mask: ink area / skeleton length."""
    return mask.sum() / max(morphology.skeletonize(mask).sum(), 1)


def character_crop(image, bw, box, angle=0.0, fmt=NIST36_CROP):
    """A photo's character -> (size, size) float, ink 0 on 1, framed like
    the classifier's training data (``fmt``): its own gray levels
    (``character_darkness``), deskewed and framed (``frame``). A character
    whose strokes are thinner or thicker than the data's range is redrawn
    with the data's pen instead (``prepare_crop``)."""
    dark, _ = character_darkness(image, bw, box)
    crop = frame(dark, angle, fmt.side, fmt.size)
    if not (crop > 0.5).any():
        return np.ones((fmt.size, fmt.size), np.float32)
    lo, hi = fmt.strokes          # measured as on the data: at the crop's size
    if not lo <= stroke_width(crop > 0.5) <= hi:
        # the redrawn skeleton follows every bump of a grainy pencil line:
        # smooth the ink over about a crop pixel first
        big = ndi.gaussian_filter(frame(dark, angle, fmt.side * SUPERSAMPLE, fmt.size * SUPERSAMPLE),
                                  REDRAW_SMOOTH * SUPERSAMPLE)
        return prepare_crop(big > 0.5 * big.max(), fmt)
    return 1.0 - crop


def bounding_crop(mask):
    """mask cut down to the bounding box of its True pixels."""
    ys, xs = np.nonzero(mask)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def skeleton_at(mask, scale):
    """Resize a bool mask by scale and thin it to one-pixel-wide strokes."""
    shape = np.maximum(1, np.round(np.array(mask.shape) * scale).astype(int))
    scaled = transform.resize(mask.astype(np.float32), shape, order=1, anti_aliasing=scale < 1) > 0.5
    return morphology.skeletonize(scaled) if scaled.any() else scaled


def prepare_crop(mask, fmt=NIST36_CROP):
    """A character's bool ink mask (h, w) -> (size, size) float image in the
    training data's look (``fmt``; NIST36's 32x32 by default): ink 0 (dark)
    on 1, upright, centred, strokes drawn ``fmt.pen`` wide with soft edges.

    For ink too thin or too thick to keep, the character is redrawn: thin
    the mask to its skeleton at 4x the final resolution, sized so that
    skeleton plus pen spans the data's box side (+1 for the pen's soft
    ends), dilate it with a disk as wide as the pen, and average 4x4 blocks
    down.
    """
    size = fmt.size
    if not mask.any():
        return np.ones((size, size), np.float32)
    mask = bounding_crop(mask)
    target = (fmt.side + 1 - fmt.pen) * SUPERSAMPLE     # the skeleton's larger side
    scale = target / max(mask.shape)
    skeleton = skeleton_at(mask, scale)
    # Thinning shortens every stroke end by half the original pen's width,
    # so measure the skeleton and resize once more to hit the target.
    extent = max(bounding_crop(skeleton).shape)
    if extent > 1:
        skeleton = skeleton_at(mask, scale * target / extent)
    skeleton = bounding_crop(skeleton)[:size * SUPERSAMPLE, :size * SUPERSAMPLE]

    big = size * SUPERSAMPLE
    canvas = np.zeros((big, big), bool)
    top, left = (big - np.array(skeleton.shape)) // 2
    canvas[top:top + skeleton.shape[0], left:left + skeleton.shape[1]] = skeleton
    # Dilating with a disk of radius r keeps the pixels within r of the
    # skeleton: one distance transform, several times faster than
    # binary_dilation with the disk and exactly the same pixels.
    radius = int(round(fmt.pen * SUPERSAMPLE / 2))
    ink = downscale((ndi.distance_transform_edt(~canvas) <= radius).astype(np.float32), SUPERSAMPLE)
    ink = ndi.gaussian_filter(ink, EDGE_BLUR)
    return np.clip(1.0 - ink / max(ink.max(), 1e-6), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------
# Q4.4: reading order and spaces
# ----------------------------------------------------------------------------
def group_lines(boxes, angle=None):
    """Group boxes into text lines, top to bottom, each sorted left to right.

    boxes (N, 4) of [y1, x1, y2, x2]; angle: the lines' tilt in degrees
    (``skew_of_boxes``; None estimates it). Positions are measured across
    and along the tilted lines. Each box is shrunk to its middle half
    across the line; boxes whose middle halves overlap, directly or through
    a chain of others, are on one line. The middle half ignores what sticks
    out of a line (a descender, a raised digit) and tolerates letters that
    wander up and down, while lines, which are separated by more than half a
    letter height, stay apart. Returns a list of index arrays.
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    t = np.deg2rad(skew_of_boxes(boxes) if angle is None else angle)
    yc, xc = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    across, along = yc * np.cos(t) - xc * np.sin(t), xc * np.cos(t) + yc * np.sin(t)
    quarter = (boxes[:, 2] - boxes[:, 0]) / 4
    top, bottom = across - quarter, across + quarter
    lines, line_bottom = [], -np.inf
    for i in np.argsort(top, kind='stable'):
        if top[i] > line_bottom:       # a gap in the union of middle halves
            lines.append([])
        lines[-1].append(i)
        line_bottom = max(line_bottom, bottom[i]) if top[i] <= line_bottom else bottom[i]
    return [np.array(sorted(line, key=lambda i: along[i]), dtype=int) for line in lines]


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


def consistent_word_probs(probs):
    """The same rule, with the group chosen by the classifier's
    probabilities: probs (n, 36) over CLASS_NAMES (A-Z, then 0-9) -> the
    word, all letters or all digits, whichever group holds more of the
    probability summed over the word (ties go to letters). A character read
    in the other group becomes its lookalike there ("0" -> "O") or, without
    one, the most probable character of the word's group. "D00P", its 0s
    barely ahead of O, becomes "DOOP"; "21J50" becomes "21250"."""
    probs = np.asarray(probs, float).reshape(-1, len(CLASS_NAMES))
    best = [CLASS_NAMES[k] for k in probs.argmax(1)]
    if len(probs) < 2:
        return ''.join(best)
    digits = probs[:, 26:].sum() > probs[:, :26].sum()
    swap = LOOKALIKE_DIGIT if digits else LOOKALIKE
    in_group = probs[:, 26:].argmax(1) + 26 if digits else probs[:, :26].argmax(1)
    return ''.join(c if c.isdigit() == digits else swap.get(c, CLASS_NAMES[k])
                   for c, k in zip(best, in_group))


def line_text(chars, line_boxes, word_rule=True, probs=None):
    """One line's text: its words joined by single spaces. With probs (n,
    36), the classifier's probabilities, the word rule weighs them
    (``consistent_word_probs``)."""
    words = line_words(chars, line_boxes)
    if not word_rule:
        return ' '.join(words)
    if probs is None:
        return ' '.join(consistent_word(w) for w in words)
    starts = np.cumsum([0] + [len(w) for w in words])
    return ' '.join(consistent_word_probs(probs[a:b]) for a, b in zip(starts[:-1], starts[1:]))


# ----------------------------------------------------------------------------
# Scoring the extracted text
# ----------------------------------------------------------------------------
def box_iou(a, b):
    """Intersection over union of every box in a (N, 4) with every box in
    b (M, 4), boxes [y1, x1, y2, x2] with y2, x2 exclusive -> (N, M)."""
    a = np.asarray(a, float).reshape(-1, 1, 4)
    b = np.asarray(b, float).reshape(1, -1, 4)
    dy = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    dx = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    area = lambda r: (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])  # noqa: E731
    inter = dy * dx
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def match_boxes(found, truth, min_iou=0.5):
    """Pair found boxes with true boxes, one to one, best IoU first.
    Returns [(found index, truth index)] for pairs with IoU >= min_iou."""
    iou = box_iou(found, truth)
    pairs, used_f, used_t = [], set(), set()
    for f, t in zip(*np.unravel_index(np.argsort(-iou, axis=None, kind='stable'), iou.shape)):
        if iou[f, t] < min_iou:
            break
        if f not in used_f and t not in used_t:
            pairs.append((int(f), int(t)))
            used_f.add(f)
            used_t.add(t)
    return pairs


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
def read_text(boxes, bw, classify, image=None):
    """Order, prepare and classify the characters that findLetters found.

    boxes, bw: findLetters' output. image: the photo they came from; with
    it, each crop keeps the ink's own gray levels (``character_crop``),
    without it the crop is redrawn from bw (``prepare_crop``). classify(crops)
    -> list of str: crops (N, S, S) float in [0, 1], upright, ink 0 on 1,
    framed as ``classify.crop_format`` says (NIST36_CROP if it says
    nothing); one upper-case character per crop.
    Returns a dict:
      text      lines joined by newlines, digits and letters made consistent
                within words (``consistent_word``)
      raw_text  the same with the classifier's characters as they are
      boxes     (N, 4) in reading order;  line_of (N,) the line of each box
      crops     (N, 32, 32) the classifier's inputs;  chars (N,) its outputs
      angle     the text lines' tilt in degrees
    """
    boxes = np.asarray(boxes).reshape(-1, 4)
    angle = skew_of_boxes(boxes)
    lines = group_lines(boxes, angle)
    order = np.concatenate(lines) if lines else np.zeros(0, int)
    boxes = boxes[order]
    line_of = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    fmt = getattr(classify, 'crop_format', NIST36_CROP)
    if image is None:
        crops = [prepare_crop(character_mask(bw, b), fmt) for b in boxes]
    else:
        image = check_image(image)
        crops = [character_crop(image, bw, b, angle, fmt) for b in boxes]
    crops = np.array(crops, dtype=np.float32).reshape(-1, fmt.size, fmt.size)
    probs = None
    if hasattr(classify, 'probabilities'):
        probs = np.asarray(classify.probabilities(crops), float).reshape(-1, len(CLASS_NAMES))
        chars = [CLASS_NAMES[k] for k in probs.argmax(1)]
    else:
        chars = [str(c) for c in classify(crops)] if len(crops) else []
    if len(chars) != len(crops):
        raise ValueError(f'the classifier returned {len(chars)} characters for {len(crops)} crops')
    confidence = None if probs is None else probs.max(1)
    if confidence is not None and len(confidence) and np.median(confidence) < NO_TEXT_CONFIDENCE:
        # most marks read as nothing in particular: grain, noise, not writing
        return {'text': '', 'raw_text': '', 'boxes': boxes[:0], 'line_of': line_of[:0],
                'crops': crops[:0], 'chars': [], 'angle': angle, 'confidence': confidence[:0],
                'rejected': len(boxes), 'rejected_confidence': float(np.median(confidence))}
    per_line = [np.flatnonzero(line_of == k) for k in range(len(lines))]
    text, raw = ('\n'.join(line_text([chars[i] for i in idx], boxes[idx], rule,
                                     None if probs is None else probs[idx]) for idx in per_line)
                 for rule in (True, False))
    return {'text': text, 'raw_text': raw, 'boxes': boxes, 'line_of': line_of, 'crops': crops,
            'chars': chars, 'angle': angle, 'confidence': confidence, 'rejected': 0}


MLP_SHAPES = {'Wlayer1': (1024, 64), 'blayer1': (64,), 'Woutput': (64, 36), 'boutput': (36,)}


def mlp_classifier(params):
    """The Q3 network as a classifier: crops (N, 32, 32) -> N characters.
    The network was trained on rows in the files' column-major layout, so
    each upright crop is flattened with data.from_image."""
    layers = classifier_layers(nn)

    def probabilities(crops):
        return predict(nn, from_image(np.asarray(crops, np.float32)), params, layers)

    def classify(crops):
        return [CLASS_NAMES[k] for k in np.argmax(probabilities(crops), axis=1)]
    classify.probabilities = probabilities
    # The same network on images in its training format (N, 32, 32), ink 1
    # on 0, upright: what the OCR validation compares crops against.
    classify.native = lambda images: classify(1.0 - np.asarray(images, np.float32))
    return classify
