"""The Inception module of GoogLeNet (Szegedy et al., 2015, Figure 2b).

Four branches see the same input and their outputs are concatenated along the channels::

    x ─┬─ 1×1 conv (c1) ─────────────────────────┐
       ├─ 1×1 conv (c3_reduce) ─ 3×3 conv (c3) ──┤
       ├─ 1×1 conv (c5_reduce) ─ 5×5 conv (c5) ──┼─ concat: c1 + c3 + c5 + pool_proj
       └─ 3×3 max pool, stride 1 ─ 1×1 conv (pool_proj)

Every convolution is followed by a ReLU and padded so that H and W are kept. The 1×1
"reduce" convolutions are the bottlenecks that make the 3×3 and 5×5 branches affordable.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_input, positive

__all__ = ["InceptionModule"]


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
        nn.ReLU(inplace=True),
    )


class InceptionModule(nn.Module):
    """GoogLeNet's Inception module: ``x: (N, in_channels, H, W)`` -> ``(N, C_out, H, W)``.

    ``C_out = c1 + c3 + c5 + pool_proj`` (available as ``out_channels``). The argument
    names follow the columns of the paper's Table 1 ("#1×1", "#3×3 reduce", "#3×3",
    "#5×5 reduce", "#5×5", "pool proj"); inception (3a) is
    ``InceptionModule(192, 64, 96, 128, 16, 32, 32)`` with 256 output channels.

    Attributes ``branch1``, ``branch3``, ``branch5``, ``branch_pool`` (each an
    ``nn.Sequential``).
    """

    def __init__(
        self,
        in_channels: int,
        c1: int,
        c3_reduce: int,
        c3: int,
        c5_reduce: int,
        c5: int,
        pool_proj: int,
    ):
        super().__init__()
        fname = "InceptionModule"
        self.in_channels = positive(in_channels, "in_channels", fname)
        c1, c3_reduce, c3, c5_reduce, c5, pool_proj = (
            positive(value, name, fname)
            for value, name in [
                (c1, "c1"),
                (c3_reduce, "c3_reduce"),
                (c3, "c3"),
                (c5_reduce, "c5_reduce"),
                (c5, "c5"),
                (pool_proj, "pool_proj"),
            ]
        )
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = _conv_relu(in_channels, c1, 1)
        self.branch3 = nn.Sequential(
            _conv_relu(in_channels, c3_reduce, 1), _conv_relu(c3_reduce, c3, 3)
        )
        self.branch5 = nn.Sequential(
            _conv_relu(in_channels, c5_reduce, 1), _conv_relu(c5_reduce, c5, 5)
        )
        self.branch_pool = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1), _conv_relu(in_channels, pool_proj, 1)
        )

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H, W)``."""
        check_input(x, "InceptionModule", self.in_channels)
        branches = (self.branch1, self.branch3, self.branch5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], dim=1)
