"""The Q7.1.4 EMNIST CNN as a character classifier for text extraction (Q4).

    classify = load_classifier()          # results/q7_1/cnn_emnist/model.pt
    classify(crops) -> ['H', 'E', ...]    # crops: (N, 28, 28), ink 0 on 1, upright

``python python/run_q4.py --classifier emnist`` uses it in place of the Q3
network. ``classify.crop_format`` is q4.EMNIST_CROP, so q4.read_text frames
each character the way EMNIST was made from the NIST scans (Cohen et al.,
2017): the character's bounding box centred in a 28x28 square, its larger
side 22 pixels at half intensity (24 with the soft edges), anti-aliased,
with its strokes' own gray levels stretched to the full range. The network
then sees ink high on 0, as in training.
"""
import numpy as np
import torch

from data import CLASS_NAMES
from q4 import EMNIST_CROP
from q7_models import build_model
from torch_common import load_checkpoint
from util import RESULTS_DIR, UsageError

MODEL_PATH = RESULTS_DIR / 'q7_1' / 'cnn_emnist' / 'model.pt'


def class_to_char(name):
    """EMNIST Balanced class name -> the character Q4 compares. The 11
    lower-case classes (a b d e f g h n q r t) are letters whose lower case
    looks different from the upper case; they count as that letter."""
    return name.upper()


def load_classifier(model_path=None, device='cpu'):
    """The trained EMNIST CNN as ``classify(crops) -> list of characters``.

    crops: (N, 28, 28) float in [0, 1], upright, ink dark (0) on white (1),
    framed as q4.EMNIST_CROP says (q4.read_text does that, seeing
    ``classify.crop_format``). Returns one upper-case letter or digit per
    crop.
    """
    path = model_path or MODEL_PATH
    ckpt = load_checkpoint(path, made_by='run_q7_1.py cnn_emnist')
    if ckpt.get('part') != 'cnn_emnist':
        raise UsageError(f'{path} holds the {ckpt.get("part", "unknown")} model, not the EMNIST CNN; '
                         'pass the model.pt written by `python python/run_q7_1.py cnn_emnist`')
    try:
        model = build_model(ckpt['config'])
        model.load_state_dict(ckpt['state_dict'])
        chars = [class_to_char(c) for c in ckpt['classes']]
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        raise UsageError(f'{path} is not a usable EMNIST CNN checkpoint ({type(e).__name__}); '
                         'retrain it with `python python/run_q7_1.py cnn_emnist`') from None
    model.to(device).eval()

    @torch.no_grad()
    def logits(images):
        """(N, 47) for images in EMNIST's own format (N, 28, 28), ink 1 on 0, upright."""
        return model(torch.as_tensor(np.asarray(images, np.float32))[:, None].to(device)).float()

    def native(images):
        if len(images) == 0:
            return []
        return [chars[k] for k in logits(images).argmax(1).tolist()]

    # the 47 classes folded into q4's 36: a lower-case class adds to its letter
    fold = np.zeros((len(chars), len(CLASS_NAMES)), np.float32)
    fold[np.arange(len(chars)), [CLASS_NAMES.index(c) for c in chars]] = 1

    def probabilities(crops):
        """(N, 36) probabilities over q4's CLASS_NAMES (A-Z, 0-9); crops ink 0 on 1."""
        if len(crops) == 0:
            return np.zeros((0, len(CLASS_NAMES)), np.float32)
        return torch.softmax(logits(1.0 - np.asarray(crops, np.float32)), 1).cpu().numpy() @ fold

    def classify(crops):
        return native(1.0 - np.asarray(crops, np.float32))
    classify.crop_format = EMNIST_CROP
    classify.probabilities = probabilities
    # the OCR validation compares the page's crops with the dataset's images
    classify.native = native
    return classify
