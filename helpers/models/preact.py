"""The pre-activation residual block (He, Zhang, Ren and Sun, "Identity Mappings in Deep
Residual Networks", ECCV 2016, Figure 4e) and how gradients cross a stack of blocks.

The 2015 block adds the shortcut and *then* applies a ReLU, so the path from one block to
the next is not a pure identity. The pre-activation block moves BatchNorm and ReLU in front
of each convolution and leaves the sum alone::

    x_{l+1} = x_l + F(x_l),   F = conv(relu(bn(conv(relu(bn(x_l))))))

so that ``x_L = x_l + sum_{i=l}^{L-1} F(x_i)`` for any two blocks ``l < L`` (the paper's
Eq. 4), and the gradient reaching block ``l`` is the gradient at ``L`` *plus* what flows
through the residual branches (Eq. 5): it cannot vanish through the identity path.

* :class:`PreActBlock`: BN -> ReLU -> 3×3 conv (stride) -> BN -> ReLU -> 3×3 conv, plus the
  shortcut; ``residual=False`` drops the shortcut (the plain block);
* :func:`block_input_gradients`: the norm of the gradient at the input of every block of a
  stack, for one backward pass (what the notebook plots).
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import check_input
from .resnet import _block_arguments

__all__ = ["PreActBlock", "block_input_gradients"]


class PreActBlock(nn.Module):
    """BN -> ReLU -> 3×3 conv (stride) -> BN -> ReLU -> 3×3 conv, plus the shortcut; no ReLU
    after the addition.

    ``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
    ``H' = (H - 1) // stride + 1``. The shortcut is the identity when the shape is kept, else
    a 1×1 convolution with the stride (no BatchNorm: the paper's pre-activation projection
    sees the pre-activated input). ``residual=False`` drops the shortcut (a plain block).
    Attributes ``bn1, conv1, bn2, conv2, shortcut`` (``nn.Identity``, an ``nn.Conv2d`` or
    ``None``).
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True):
        super().__init__()
        self.out_channels, stride = _block_arguments(
            self, "PreActBlock", in_channels, ("out_channels", out_channels), stride, residual
        )
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.shortcut = None
        if residual:
            same = stride == 1 and in_channels == out_channels
            self.shortcut = (
                nn.Identity()
                if same
                else nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
            )

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')``."""
        check_input(x, "PreActBlock", self.in_channels)
        out = self.relu(self.bn1(x))
        shortcut = x if isinstance(self.shortcut, nn.Identity) else None
        if isinstance(self.shortcut, nn.Conv2d):
            shortcut = self.shortcut(out)  # the projection sees the pre-activated input
        out = self.conv2(self.relu(self.bn2(self.conv1(out))))
        return out if shortcut is None else out + shortcut


def block_input_gradients(blocks, x: torch.Tensor, *, seed: int = 0) -> list[float]:
    """Norm of ``d loss / d x_l`` at the input ``x_l`` of every block of ``blocks``, and last
    at the output (``len(blocks) + 1`` numbers), for ``loss = sum(out * v)`` with a fixed
    random ``v`` (drawn from ``seed``): the output gradient is ``v`` itself, the same for
    every stack.

    ``blocks``: a sequence of modules applied in turn (an ``nn.Sequential`` works);
    ``x: (N, C, H, W)``. The modules run in the mode they are in (train mode: BatchNorm
    with batch statistics); their parameters are not changed.
    """
    blocks = list(blocks)
    if not blocks:
        raise ValueError("block_input_gradients: blocks must hold at least one module")
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"block_input_gradients: x must be a tensor (N, C, H, W), got {x!r:.60}")
    inputs, out = [], x.detach().clone().requires_grad_(True)
    for block in blocks:
        inputs.append(out)
        out = block(out)
        out.retain_grad()
    inputs.append(out)
    v = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    (out * v).sum().backward()
    return [float(t.grad.norm()) for t in inputs]
