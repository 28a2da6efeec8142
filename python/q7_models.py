"""The Q7.1 networks: the Q3 fully connected network in PyTorch, and one
compact CNN family used for MNIST, NIST36, EMNIST and CIFAR-10.

Every model takes images with values in [0, 1] (ink high, as in MNIST) and
returns logits; softmax lives in the loss (``F.cross_entropy``), as usual in
PyTorch. A model keeps the arguments it was built with in ``model.config``,
so a checkpoint can rebuild it (``build_model(ckpt['config'])``).
"""
import torch
import torch.nn as nn


class FCNet(nn.Module):
    """Q3's network: 1024 -> 64 sigmoid -> 36 (softmax in the loss).

    x: (N, 1024) rows as stored in the NIST36 files -> logits (N, 36).
    """

    def __init__(self, in_features=1024, hidden=64, num_classes=36):
        super().__init__()
        self.config = dict(kind='fc', in_features=in_features, hidden=hidden, num_classes=num_classes)
        self.hidden = nn.Linear(in_features, hidden)
        self.output = nn.Linear(hidden, num_classes)
        # Q3 initialises with Xavier uniform and zero biases; do the same so
        # the two implementations start from the same distribution.
        for layer in (self.hidden, self.output):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.output(torch.sigmoid(self.hidden(x)))


def conv_block(c_in, c_out):
    """3x3 conv (same padding) -> 2x2 max pool -> batch norm -> ReLU.

    Pooling straight after the conv halves the resolution before batch norm
    and ReLU, so those run on a quarter of the pixels (with channels_last, the
    block trains about 2x faster than conv -> BN -> ReLU -> pool on a CPU; see
    benchmarks/bench_q7_1_cnn.py). Max pool commutes with the monotone ReLU,
    so this changes little.
    The conv has no bias: batch norm's shift replaces it.
    """
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.MaxPool2d(2), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class CNN(nn.Module):
    """Three conv blocks, then a small fully connected head.

    x: (N, C, S, S) in [0, 1] (S = 28 for MNIST/EMNIST, 32 for NIST36 and
    CIFAR-10) -> logits (N, num_classes). ``crop`` pixels are first cut off
    every side (S -> S - 2 crop): the outer frame of a character dataset
    holds almost no ink, and every layer's cost grows with the pixels it
    sees. Each pool then halves S, rounding down:

        conv_block(C, w1)  -> (N, w1, S/2, S/2)     28 -> 14   32 -> 16
        conv_block(w1, w2) -> (N, w2, S/4, S/4)           7          8
        conv_block(w2, w3) -> (N, w3, S/8, S/8)           3          4
        flatten -> [linear(hidden) -> BN -> ReLU] -> dropout -> linear(num_classes)

    The bracketed hidden layer is left out when ``hidden`` is 0.

    ``mean``/``std`` (one value per channel, of the training images) are
    stored as buffers, so the saved model takes raw [0, 1] images.
    """

    def __init__(self, num_classes, in_channels=1, image_size=28, widths=(32, 64, 128),
                 hidden=256, dropout=0.3, mean=(0.5,), std=(0.25,), crop=0):
        super().__init__()
        self.config = dict(kind='cnn', num_classes=num_classes, in_channels=in_channels,
                           image_size=image_size, widths=list(widths), hidden=hidden,
                           dropout=dropout, mean=list(mean), std=list(std), crop=crop)
        self.crop = crop
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        chans = [in_channels, *widths]
        self.features = nn.Sequential(*[conv_block(a, b) for a, b in zip(chans, chans[1:])])
        side = (image_size - 2 * crop) // 8
        flat = widths[-1] * side * side
        head = ([nn.Linear(flat, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)]
                if hidden else [])
        self.classifier = nn.Sequential(nn.Flatten(), *head, nn.Dropout(dropout),
                                        nn.Linear(hidden or flat, num_classes))
        # channels_last (NHWC) makes conv, pool and batch norm 1.4-1.7x faster
        # on a CPU with oneDNN (measured here); the maths is the same.
        self.to(memory_format=torch.channels_last)

    def forward(self, x):
        if self.crop:
            c = self.crop
            x = x[..., c:x.shape[-2] - c, c:x.shape[-1] - c]
        x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        return self.classifier(self.features(x))


def build_model(config):
    """Rebuild a model from its ``config`` (as stored in a checkpoint)."""
    config = dict(config)
    kind = config.pop('kind')
    if kind == 'fc':
        return FCNet(**config)
    if kind == 'cnn':
        return CNN(**config)
    raise ValueError(f'unknown model kind {kind!r}')


def describe(model):
    """One line per layer, for metrics.json and the README."""
    return [str(m) for m in model.modules() if not list(m.children())]
