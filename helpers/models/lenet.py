"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, 1998) with the classic layer sizes.

The 1998 network read 32×32 images; MNIST digits are 28×28, so the first convolution pads
by 2 pixels, which gives exactly the original sizes::

    input  1 x 28 x 28
    C1     conv 6 @ 5×5, padding 2  ->  6 x 28 x 28
    S2     pool 2×2, stride 2       ->  6 x 14 x 14
    C3     conv 16 @ 5×5            -> 16 x 10 x 10
    S4     pool 2×2, stride 2       -> 16 x  5 x  5
    C5     fully connected 400 -> 120   (a 5×5 conv on a 5×5 map in the paper)
    F6     fully connected 120 -> 84
    output fully connected  84 -> 10    (logits)

Two simplifications against the paper, both standard today: C3 is *dense* (each of its 16
maps sees all 6 maps of S2, where the paper used the sparse table
:data:`C3_CONNECTIONS`), and the output is a linear layer (the paper used Euclidean RBF
units). The pooling layers have no parameters (the paper's S2/S4 had a trainable
coefficient and bias per map). With these choices the network has 61,706 parameters;
:func:`paper_parameter_counts` gives the 1998 network's 60,000.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from torch import nn

from ._common import activation_layer, check_input, pooling_layer, positive

__all__ = ["C3_CONNECTIONS", "LeNet5", "paper_parameter_counts"]

# Table I of the paper: row i = S2 map i (0..5), column j = C3 map j (0..15); True where
# C3 map j reads S2 map i. Columns 0-5 read 3 contiguous maps, 6-11 four contiguous maps,
# 12-14 four non-contiguous maps, 15 all six.
_TABLE = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""
C3_CONNECTIONS = np.array([[c == "X" for c in row] for row in _TABLE.split()], dtype=bool)
"""(6, 16) bool: which S2 maps (rows) each C3 map (columns) is connected to (paper, Table I)."""
C3_CONNECTIONS.setflags(write=False)


class LeNet5(nn.Module):
    """LeNet-5 for 28×28 greyscale input: ``x: (N, 1, 28, 28)`` -> logits ``(N, 10)``.

    Args:
        activation: ``"tanh"`` (the paper's squashing function, default), ``"relu"`` or
            ``"sigmoid"``; used after C1, C3, C5 and F6.
        pooling: ``"avg"`` (default: plain 2×2 averaging, close to the paper's subsampling,
            which sums each 2×2 block, scales it by a trainable coefficient, adds a trainable
            bias and squashes the result) or ``"max"``.
        num_classes: size of the output layer (10).
        in_channels: channels of the input (1).

    Attributes:
        features: ``c1, act1, s2, c3, act3, s4`` (an ``nn.Sequential``; index it by name,
            e.g. ``model.features.c1``), maps ``(N, 1, 28, 28)`` to ``(N, 16, 5, 5)``.
        classifier: ``flatten, c5, act5, f6, act6, output``: ``(N, 16, 5, 5)`` to
            ``(N, num_classes)``.

    ``LeNet5()`` is the classic network (tanh, average pooling);
    ``LeNet5("relu", "max")`` is the modern variant that trains faster.
    """

    def __init__(
        self,
        activation: str = "tanh",
        pooling: str = "avg",
        num_classes: int = 10,
        in_channels: int = 1,
    ):
        super().__init__()
        fname = "LeNet5"
        num_classes = positive(num_classes, "num_classes", fname)
        self.in_channels = positive(in_channels, "in_channels", fname)
        act = lambda: activation_layer(activation, fname)  # noqa: E731
        self.features = nn.Sequential(
            OrderedDict(
                c1=nn.Conv2d(self.in_channels, 6, kernel_size=5, padding=2),
                act1=act(),
                s2=pooling_layer(pooling, fname),
                c3=nn.Conv2d(6, 16, kernel_size=5),
                act3=act(),
                s4=pooling_layer(pooling, fname),
            )
        )
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                c5=nn.Linear(16 * 5 * 5, 120),
                act5=act(),
                f6=nn.Linear(120, 84),
                act6=act(),
                output=nn.Linear(84, num_classes),
            )
        )

    def forward(self, x):
        """``x: (N, in_channels, 28, 28)`` -> logits ``(N, num_classes)``."""
        check_input(x, "LeNet5", self.in_channels, (28, 28))
        return self.classifier(self.features(x))


def paper_parameter_counts() -> dict[str, int]:
    """Trainable parameters of each layer of the 1998 LeNet-5, as the paper counts them.

    C1: 6 kernels 5×5 + 6 biases; S2 and S4: a coefficient and a bias per map; C3: the
    sparse :data:`C3_CONNECTIONS` (60 kernels 5×5) + 16 biases; C5: 120 maps over all 16
    maps of S4 (a 5×5 conv on a 5×5 input); F6: 84 units. The output layer's 10 RBF
    centres (84 values each) were fixed by hand, not trained; they are listed as
    ``"output (RBF, fixed)"`` and are not part of the 60,000.
    """
    c3_kernels = int(C3_CONNECTIONS.sum())
    return {
        "C1": 6 * 5 * 5 + 6,
        "S2": 6 * 2,
        "C3": c3_kernels * 5 * 5 + 16,
        "S4": 16 * 2,
        "C5": 120 * 16 * 5 * 5 + 120,
        "F6": 84 * 120 + 84,
        "output (RBF, fixed)": 10 * 84,
    }
