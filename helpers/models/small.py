"""A small CNN for 28×28 grey images, the network notebook 12 pretrains and transfers.

::

    from helpers.models.small import SmallCNN
    model = SmallCNN()                      # 3 conv blocks, global average pool, a linear head
    model(torch.zeros(8, 1, 28, 28)).shape  # torch.Size([8, 10])
    model.features(x)                       # (N, 576): what a linear probe sees

Three blocks ``Conv3x3 -> ReLU -> MaxPool2`` with 16, 32 and 64 channels (28 -> 14 -> 7 -> 3),
flattened to 64 * 3 * 3 = 576 features, and ``Linear(576, classes)``: 29 066 parameters,
about 120 kB in float32.
No batch norm, so that freezing layers really freezes them (no running statistics to drift).
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_input, positive

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """``block1``, ``block2``, ``block3`` (conv, ReLU, max pool), ``drop``, ``head`` (Linear).

    Args:
        classes: outputs of the head (10).
        in_channels: channels of the input images (1: grey).
        dropout: the probability of ``nn.Dropout`` on the features before the head (0: none,
            the layer is then an ``nn.Identity``; the shipped weights have none).

    Input ``x: (N, in_channels, 28, 28)``; output logits ``(N, classes)``.
    """

    def __init__(self, classes: int = 10, in_channels: int = 1, dropout: float = 0.0) -> None:
        super().__init__()
        classes = positive(classes, "classes", "SmallCNN")
        self.in_channels = positive(in_channels, "in_channels", "SmallCNN")
        widths = (self.in_channels, 16, 32, 64)
        for i in range(3):
            block = nn.Sequential(
                nn.Conv2d(widths[i], widths[i + 1], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
            )
            self.add_module(f"block{i + 1}", block)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"SmallCNN: dropout must be a number in [0, 1), got {dropout!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"SmallCNN: dropout must be in [0, 1), got {dropout}")
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(widths[-1] * 3 * 3, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 576 features of each image: ``(N, C, 28, 28) -> (N, 64 * 3 * 3)``."""
        check_input(x, "SmallCNN", self.in_channels, (28, 28))
        return self.block3(self.block2(self.block1(x))).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.features(x)))
