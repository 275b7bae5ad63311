"""AlexNet as described by Krizhevsky, Sutskever and Hinton (2012).

The paper's layers (Section 3.5 and Figure 2), for one 227×227 RGB image::

    conv1  96 @ 11×11, stride 4         -> 96 x 55 x 55,  ReLU, LRN, max pool 3/2 -> 27
    conv2 256 @ 5×5, pad 2 (2 groups)   -> 256 x 27 x 27, ReLU, LRN, max pool 3/2 -> 13
    conv3 384 @ 3×3, pad 1              -> 384 x 13 x 13, ReLU
    conv4 384 @ 3×3, pad 1 (2 groups)   -> 384 x 13 x 13, ReLU
    conv5 256 @ 3×3, pad 1 (2 groups)   -> 256 x 13 x 13, ReLU, max pool 3/2 -> 6
    fc6   9216 -> 4096, ReLU, dropout;  fc7 4096 -> 4096, ReLU, dropout;  fc8 4096 -> 1000

**224 or 227?** The paper says the input is 224x224x3, but an 11×11 kernel with stride 4
and no padding gives ``(224 - 11) / 4 + 1 = 54.25`` positions; the 55×55 maps of its
Figure 2 need ``(227 - 11) / 4 + 1 = 55``. Implementations use 227 (Caffe), or pad
(torchvision's single-GPU variant pads by 2 and has 64-192-384-256-256 channels, after
Krizhevsky's 2014 "One weird trick" paper). This class follows the paper with 227 input.

**Two GPUs.** The network was split over two GPUs: conv2, conv4 and conv5 only see the
half of the previous layer that lives on their own GPU. ``groups=2`` reproduces this with
grouped convolutions (60,965,224 parameters, the paper's "60 million"); ``groups=1`` is
the same network on one GPU, every layer dense (62,378,344 parameters). (The paper also
splits the fully connected layers, but each half still reads the whole previous layer,
so that split changes nothing.)

**LRN.** ``nn.LocalResponseNorm`` divides ``alpha`` by the window size ``n``; the paper's
``alpha = 1e-4`` (without that division) is therefore ``alpha = 5 * 1e-4`` here.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from .._validate import as_int
from ._common import check_input, is_traced, positive

__all__ = ["AlexNet"]

INPUT_SIZE = 227


class AlexNet(nn.Module):
    """The 2012 paper's AlexNet: ``x: (N, 3, 227, 227)`` -> logits ``(N, num_classes)``.

    Args:
        num_classes: outputs of fc8 (1000 ImageNet classes).
        groups: 2 (default) splits conv2, conv4 and conv5 as the two-GPU original; 1 makes
            every layer dense.
        lrn: include the local response normalisation after conv1 and conv2 (default True).
        dropout: dropout probability before fc7 and fc8 (the paper's 0.5).

    Attributes:
        features: ``conv1, relu1, norm1, pool1, ..., conv5, relu5, pool5`` (named).
        classifier: ``flatten, fc6, relu6, drop6, fc7, relu7, drop7, fc8`` (named).
    """

    def __init__(
        self, num_classes: int = 1000, groups: int = 2, lrn: bool = True, dropout: float = 0.5
    ):
        super().__init__()
        fname = "AlexNet"
        num_classes = positive(num_classes, "num_classes", fname)
        groups = as_int(groups, "groups", fname, minimum=1)
        if groups not in (1, 2):
            raise ValueError(f"{fname}: groups must be 1 (one GPU) or 2 (two GPUs), got {groups}")
        if not isinstance(lrn, bool):
            raise TypeError(f"{fname}: lrn must be a bool, got {lrn!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"{fname}: dropout must be a number in [0, 1), got {dropout!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{fname}: dropout must be in [0, 1), got {dropout}")

        def norm():
            if lrn:
                return nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0)
            return nn.Identity()

        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, 96, kernel_size=11, stride=4),
                relu1=nn.ReLU(inplace=True),
                norm1=norm(),
                pool1=nn.MaxPool2d(kernel_size=3, stride=2),
                conv2=nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups),
                relu2=nn.ReLU(inplace=True),
                norm2=norm(),
                pool2=nn.MaxPool2d(kernel_size=3, stride=2),
                conv3=nn.Conv2d(256, 384, kernel_size=3, padding=1),
                relu3=nn.ReLU(inplace=True),
                conv4=nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups),
                relu4=nn.ReLU(inplace=True),
                conv5=nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups),
                relu5=nn.ReLU(inplace=True),
                pool5=nn.MaxPool2d(kernel_size=3, stride=2),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                fc6=nn.Linear(256 * 6 * 6, 4096),
                relu6=nn.ReLU(inplace=True),
                drop6=nn.Dropout(dropout),
                fc7=nn.Linear(4096, 4096),
                relu7=nn.ReLU(inplace=True),
                drop7=nn.Dropout(dropout),
                fc8=nn.Linear(4096, num_classes),
            )
        )

    def forward(self, x):
        """``x: (N, 3, 227, 227)`` -> logits ``(N, num_classes)``."""
        if not is_traced(x) and x.ndim == 4 and tuple(x.shape[1:]) == (3, 224, 224):
            raise ValueError(
                "AlexNet: x must have shape (N, 3, 227, 227), got (N, 3, 224, 224): the "
                "paper says 224, but conv1 (11×11, stride 4, no padding) needs 227 to give "
                "its 55×55 maps ((224 - 11) / 4 + 1 = 54.25)"
            )
        check_input(x, "AlexNet", 3, (INPUT_SIZE, INPUT_SIZE))
        return self.classifier(self.features(x))
