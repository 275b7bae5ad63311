"""The depthwise-separable block of MobileNet (Howard et al., 2017, Figure 3).

A standard KxK convolution mixes space and channels at once: ``K*K*C_in*C_out`` weights.
The depthwise-separable block factorises it into

* a *depthwise* 3x3 convolution (``groups=C_in``): one 3x3 filter per input channel,
  ``9*C_in`` weights, mixing space only; then
* a *pointwise* 1x1 convolution: ``C_in*C_out`` weights, mixing channels only,

each followed by BatchNorm and ReLU. The cost ratio to a full 3x3 convolution is
``1/C_out + 1/9``.
"""

from __future__ import annotations

from torch import nn

from ._common import check_input, positive

__all__ = ["DepthwiseSeparable"]


class DepthwiseSeparable(nn.Module):
    """Depthwise 3x3 (stride) -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU.

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
