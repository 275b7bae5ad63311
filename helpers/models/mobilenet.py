"""The depthwise-separable block of MobileNet (Howard et al., 2017, Figure 3).

A standard KxK convolution mixes space and channels at once: ``K*K*C_in*C_out`` weights.
The depthwise-separable block factorises it into

* a *depthwise* 3×3 convolution (``groups=C_in``): one 3×3 filter per input channel,
  ``9*C_in`` weights, mixing space only; then
* a *pointwise* 1×1 convolution: ``C_in*C_out`` weights, mixing channels only,

each followed by BatchNorm and ReLU. The cost ratio to a full 3×3 convolution is
``1/C_out + 1/9``.

:func:`mobilenet_v1` builds the whole network of the paper's Table 1 (a 3×3 convolution,
13 depthwise-separable blocks, global average pooling, a linear layer), thinned by the
**width multiplier** ``alpha`` (Section 4.2): every layer gets ``alpha`` times its channels,
so the cost of a layer with ``alpha * M`` inputs and ``alpha * N`` outputs falls by about
``alpha ** 2``.
"""

from __future__ import annotations

import numbers

from torch import nn

from ._common import check_input, positive

__all__ = ["MOBILENET_V1_BLOCKS", "DepthwiseSeparable", "mobilenet_v1"]


class DepthwiseSeparable(nn.Module):
    """Depthwise 3×3 (stride) -> BN -> ReLU -> pointwise 1×1 -> BN -> ReLU.

    ``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
    ``H' = (H - 1) // stride + 1`` (padding 1). Convolutions have no bias (BatchNorm
    follows). Attributes ``depthwise``, ``bn1``, ``pointwise``, ``bn2``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        fname = "DepthwiseSeparable"
        self.in_channels = positive(in_channels, "in_channels", fname)
        self.out_channels = positive(out_channels, "out_channels", fname)
        stride = positive(stride, "stride", fname)
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, 3, stride=stride, padding=1, groups=in_channels, bias=False
        )
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')``."""
        check_input(x, "DepthwiseSeparable", self.in_channels)
        x = self.relu(self.bn1(self.depthwise(x)))
        return self.relu(self.bn2(self.pointwise(x)))


# (output channels, stride) of the 13 depthwise-separable blocks of the paper's Table 1
MOBILENET_V1_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *[(512, 1)] * 5,
    (1024, 2),
    (1024, 1),
)


def mobilenet_v1(
    alpha: float = 1.0, num_classes: int = 1000, in_channels: int = 3
) -> nn.Sequential:
    """MobileNet (Howard et al., 2017, Table 1) with width multiplier ``alpha`` in (0, 1].

    3×3 conv (32 alpha channels, stride 2) -> BN -> ReLU, the 13 blocks of
    :data:`MOBILENET_V1_BLOCKS` (``round(alpha * channels)`` each), global average pooling
    and a linear layer from ``round(1024 * alpha)`` to ``num_classes``. Any input size the
    five stride-2 layers allow; the paper's resolutions are 224, 192, 160 and 128.
    ``x: (N, in_channels, H, W)`` -> ``(N, num_classes)``.
    """
    fname = "mobilenet_v1"
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha <= 1:
        raise ValueError(f"{fname}: alpha must be a number in (0, 1], got {alpha!r}")
    num_classes = positive(num_classes, "num_classes", fname)
    in_channels = positive(in_channels, "in_channels", fname)

    def width(channels: int) -> int:
        return max(1, round(alpha * channels))

    channels = width(32)
    layers = [
        nn.Conv2d(in_channels, channels, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
    ]
    for out_channels, stride in MOBILENET_V1_BLOCKS:
        layers.append(DepthwiseSeparable(channels, width(out_channels), stride))
        channels = width(out_channels)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)
