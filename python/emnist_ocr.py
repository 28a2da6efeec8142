"""The Q7.1.4 EMNIST CNN as a character classifier for text extraction (Q4).

    classify = load_classifier()          # results/q7_1/cnn_emnist/model.pt
    classify(crops) -> ['H', 'E', ...]    # crops: (N, 32, 32) from q4.prepare_crop

``python python/run_q4.py --classifier emnist`` uses it in place of the Q3
network. The crops come in the NIST36 look (upright, ink 0 on a white 1,
32x32); ``to_emnist`` redraws them in the EMNIST convention the network was
trained on, following how EMNIST was made from the NIST scans (Cohen et al.,
2017): ink high on 0, the character's bounding box centred in a square frame
whose longer side is 24 of the 28 pixels (2-pixel border), anti-aliased
resampling, and intensities stretched to the full range.
"""
import numpy as np
import torch
import torch.nn.functional as F

from q7_models import build_model
from torch_common import load_checkpoint
from util import RESULTS_DIR, UsageError

MODEL_PATH = RESULTS_DIR / 'q7_1' / 'cnn_emnist' / 'model.pt'
EMNIST_SIZE = 28
# Measured on EMNIST Balanced (ink = pixels above 0.5): the larger side of a
# character's box spans a median of 22 of the 28 pixels (24 with the soft
# edges, as the EMNIST paper says), and the box is centred at pixel 13.5.
EMNIST_BOX = 22
INK_LEVEL = 0.5


def to_emnist(crops):
    """(N, 32, 32) crops, ink 0 on 1, upright -> (N, 1, 28, 28) float tensor,
    ink 1 on 0, upright, in EMNIST's framing.

    Each crop is resampled (bilinear) so that the box of its ink pixels has
    its larger side EMNIST_BOX pixels, keeping the aspect ratio, centred in
    the 28x28 frame; the soft edges around the box come along. Then the
    intensities are stretched so the darkest ink is 1, as in EMNIST. A blank
    crop becomes a blank image.
    """
    ink = 1.0 - torch.as_tensor(np.asarray(crops, np.float32)).clamp(0, 1)
    n, h, w = ink.shape
    out = torch.zeros(n, 1, EMNIST_SIZE, EMNIST_SIZE)
    offsets = torch.arange(EMNIST_SIZE) - (EMNIST_SIZE - 1) / 2   # output pixels from the centre
    for i, img in enumerate(ink):
        rows, cols = torch.nonzero(img > INK_LEVEL, as_tuple=True)
        if len(rows) == 0:
            continue
        step = (max(rows.max() - rows.min(), cols.max() - cols.min()) + 1).item() / EMNIST_BOX
        ys = (rows.max() + rows.min()).item() / 2 + offsets * step   # input pixel coordinates
        xs = (cols.max() + cols.min()).item() / 2 + offsets * step
        # grid_sample wants coordinates in [-1, 1]: pixel k of n is at (2k + 1) / n - 1
        gy, gx = torch.meshgrid((2 * ys + 1) / h - 1, (2 * xs + 1) / w - 1, indexing='ij')
        grid = torch.stack([gx, gy], -1)[None]
        sample = F.grid_sample(img[None, None], grid, mode='bilinear', align_corners=False)[0]
        out[i] = sample / sample.max().clamp_min(1e-6)
    return out


def class_to_char(name):
    """EMNIST Balanced class name -> the character Q4 compares. The 11
    lower-case classes (a b d e f g h n q r t) are letters whose lower case
    looks different from the upper case; they count as that letter."""
    return name.upper()


def load_classifier(model_path=None, device='cpu'):
    """The trained EMNIST CNN as ``classify(crops) -> list of characters``.

    crops: (N, 32, 32) float in [0, 1], upright, ink dark (0) on white (1),
    as q4.prepare_crop makes them. Returns one upper-case letter or digit
    per crop.
    """
    path = model_path or MODEL_PATH
    ckpt = load_checkpoint(path, made_by='run_q7_1.py cnn_emnist')
    if ckpt.get('part') != 'cnn_emnist':
        raise UsageError(f'{path} holds the {ckpt.get("part", "unknown")} model, not the EMNIST CNN; '
                         'pass the model.pt written by `python python/run_q7_1.py cnn_emnist`')
    model = build_model(ckpt['config'])
    model.load_state_dict(ckpt['state_dict'])
    model.to(device).eval()
    chars = [class_to_char(c) for c in ckpt['classes']]

    @torch.no_grad()
    def classify(crops):
        if len(crops) == 0:
            return []
        logits = model(to_emnist(crops).to(device))
        return [chars[k] for k in logits.argmax(1).tolist()]
    return classify
