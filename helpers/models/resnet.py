"""ResNet building blocks (He, Zhang, Ren and Sun, 2016) and two ResNet builders.

A residual block computes ``relu(F(x) + shortcut(x))``: the layers learn the *residual*
``F(x)``, and a block whose best choice is "do nothing" only has to learn ``F(x) = 0``.
The shortcut is the identity when the shape is kept; when a block changes the number of
channels or strides, it is a 1×1 convolution with that stride followed by BatchNorm (the
paper's option B, as in torchvision).

* :class:`BasicBlock`: two 3×3 convolutions (ResNet-18/34, the CIFAR ResNets);
* :class:`Bottleneck`: 1×1 (reduce to ``mid``) -> 3×3 -> 1×1 (expand to ``4 * mid``)
  (ResNet-50/101/152). The stride sits on the 3×3 convolution ("ResNet v1.5", as in
  torchvision; the paper put it on the first 1×1);
* :func:`resnet`: the ImageNet ResNets of the paper's Table 1 (same parameters and MACs
  as ``torchvision.models.resnet18`` etc.);
* :func:`small_resnet`: a CIFAR-style ResNet (the paper's Section 4.2) for 28×28 or 32×32
  images, with ``residual=False`` giving the *plain* network of the same depth.

Every convolution is followed by BatchNorm and has no bias.
"""

from __future__ import annotations

import numbers

from torch import nn

from .._validate import as_int
from ._common import check_input, positive

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet", "small_resnet"]


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1):
    conv = nn.Conv2d(
        in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False
    )
    return conv, nn.BatchNorm2d(out_channels)


def _shortcut(in_channels: int, out_channels: int, stride: int, residual: bool) -> nn.Module | None:
    """Identity, a 1×1 projection (conv + BN), or ``None`` for a plain block."""
    if not residual:
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(*_conv_bn(in_channels, out_channels, 1, stride))


def _check_bool(value, name: str, fname: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{fname}: {name} must be a bool, got {value!r}")
    return value


def _block_arguments(block, fname, in_channels, channels, stride, residual) -> tuple[int, int]:
    """Check a residual block's arguments (errors name them); set ``block.in_channels`` and
    ``block.residual``; return the checked ``channels = (name, value)`` value and stride."""
    block.in_channels = positive(in_channels, "in_channels", fname)
    block.residual = _check_bool(residual, "residual", fname)
    return positive(channels[1], channels[0], fname), positive(stride, "stride", fname)


def _add_shortcut(block, out, x):
    """``relu(out + shortcut(x))``, or ``relu(out)`` for a plain block (no shortcut)."""
    return block.relu(out if block.shortcut is None else out + block.shortcut(x))


class BasicBlock(nn.Module):
    """3×3 conv (stride) -> BN -> ReLU -> 3×3 conv -> BN, plus the shortcut, then ReLU.

    ``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')`` with
    ``H' = (H - 1) // stride + 1``. ``residual=False`` drops the shortcut (a plain block).
    Attributes ``conv1, bn1, conv2, bn2`` and ``shortcut`` (``nn.Identity``, a projection
    ``nn.Sequential``, or ``None``).
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True):
        super().__init__()
        self.out_channels, stride = _block_arguments(
            self, "BasicBlock", in_channels, ("out_channels", out_channels), stride, residual
        )
        self.conv1, self.bn1 = _conv_bn(in_channels, out_channels, 3, stride)
        self.conv2, self.bn2 = _conv_bn(out_channels, out_channels, 3)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, out_channels, stride, residual)

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H', W')``."""
        check_input(x, "BasicBlock", self.in_channels)
        out = self.relu(self.bn1(self.conv1(x)))
        return _add_shortcut(self, self.bn2(self.conv2(out)), x)


class Bottleneck(nn.Module):
    """1×1 conv -> BN -> ReLU -> 3×3 conv (stride) -> BN -> ReLU -> 1×1 conv -> BN, + shortcut.

    ``x: (N, in_channels, H, W)`` -> ``(N, 4 * mid_channels, H', W')`` with
    ``H' = (H - 1) // stride + 1``. ``residual=False`` drops the shortcut.
    Attributes ``conv1, bn1, conv2, bn2, conv3, bn3, shortcut``; ``out_channels``.
    """

    expansion = 4

    def __init__(self, in_channels: int, mid_channels: int, stride: int = 1, residual: bool = True):
        super().__init__()
        mid_channels, stride = _block_arguments(
            self, "Bottleneck", in_channels, ("mid_channels", mid_channels), stride, residual
        )
        self.out_channels = self.expansion * mid_channels
        self.conv1, self.bn1 = _conv_bn(in_channels, mid_channels, 1)
        self.conv2, self.bn2 = _conv_bn(mid_channels, mid_channels, 3, stride)
        self.conv3, self.bn3 = _conv_bn(mid_channels, self.out_channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_channels, self.out_channels, stride, residual)

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, 4 * mid_channels, H', W')``."""
        check_input(x, "Bottleneck", self.in_channels)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return _add_shortcut(self, self.bn3(self.conv3(out)), x)


class ResNet(nn.Module):
    """A ResNet: ``stem``, then stages of residual blocks, global average pool, ``fc``.

    Args:
        stem: the first layers (an ``nn.Module``) and ``stem_channels``, their output
            channels.
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        blocks_per_stage: number of blocks in each stage, e.g. ``(2, 2, 2, 2)``.
        widths: per stage, the ``out_channels`` of a BasicBlock or the ``mid_channels``
            of a Bottleneck; the first block of every stage but the first has stride 2.
        num_classes: outputs of ``fc``; ``residual``: False for the plain network.

    ``x: (N, in_channels, H, W)`` -> logits ``(N, num_classes)``; any H, W the stem and
    strides allow. Attributes ``stem``, ``stages`` (one ``nn.Sequential`` per stage),
    ``pool``, ``fc``.
    """

    def __init__(
        self,
        stem: nn.Module,
        stem_channels: int,
        block: type,
        blocks_per_stage,
        widths,
        num_classes: int,
        in_channels: int,
        residual: bool = True,
    ):
        super().__init__()
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"ResNet: block must be BasicBlock or Bottleneck, got {block!r}")
        self.in_channels = in_channels
        self.stem = stem
        channels, stages = stem_channels, []
        for index, (count, width) in enumerate(zip(blocks_per_stage, widths, strict=True)):
            layers = []
            for number in range(count):
                stride = 2 if index > 0 and number == 0 else 1
                layers.append(block(channels, width, stride, residual))
                channels = layers[-1].out_channels
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> logits ``(N, num_classes)``."""
        check_input(x, "ResNet", self.in_channels)
        return self.fc(self.pool(self.stages(self.stem(x))))


_IMAGENET_DEPTHS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


def resnet(depth: int = 18, num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """The ImageNet ResNet-18/34/50/101/152 of the paper's Table 1 (torchvision's layout).

    Stem: 7×7 conv, 64 channels, stride 2 -> BN -> ReLU -> 3×3 max pool, stride 2; then
    four stages of widths 64, 128, 256, 512. ``x: (N, 3, 224, 224)`` -> ``(N, 1000)``.
    """
    fname = "resnet"
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"{fname}: depth must be an int, got {depth!r}")
    if depth not in _IMAGENET_DEPTHS:
        raise ValueError(f"{fname}: depth must be one of {sorted(_IMAGENET_DEPTHS)}, got {depth}")
    num_classes = positive(num_classes, "num_classes", fname)
    in_channels = positive(in_channels, "in_channels", fname)
    block, counts = _IMAGENET_DEPTHS[depth]
    conv, bn = _conv_bn(in_channels, 64, 7, stride=2)
    stem = nn.Sequential(conv, bn, nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
    return ResNet(stem, 64, block, counts, (64, 128, 256, 512), num_classes, in_channels)


def small_resnet(
    depth: int = 8,
    width: int = 16,
    in_channels: int = 1,
    num_classes: int = 10,
    residual: bool = True,
) -> ResNet:
    """A CIFAR-style ResNet of ``depth = 6n + 2`` layers for small images (28×28, 32×32).

    A 3×3 conv (``width`` channels) -> BN -> ReLU, then three stages of ``n`` BasicBlocks
    with ``width``, ``2 * width`` and ``4 * width`` channels (strides 1, 2, 2), a global
    average pool and a linear layer. ``depth=20, width=16`` is the paper's ResNet-20;
    ``depth=8, width=16`` (the default, 77,754 parameters) trains in seconds on a CPU.
    ``residual=False`` gives the plain network of the same depth (no shortcuts at all).

    ``x: (N, in_channels, H, W)`` -> logits ``(N, num_classes)``.
    """
    fname = "small_resnet"
    depth = as_int(depth, "depth", fname, minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"{fname}: depth must be 6n + 2 (8, 14, 20, 26, ...), got {depth}")
    width = positive(width, "width", fname)
    in_channels = positive(in_channels, "in_channels", fname)
    num_classes = positive(num_classes, "num_classes", fname)
    _check_bool(residual, "residual", fname)
    n = (depth - 2) // 6
    conv, bn = _conv_bn(in_channels, width, 3)
    stem = nn.Sequential(conv, bn, nn.ReLU(inplace=True))
    widths = (width, 2 * width, 4 * width)
    return ResNet(stem, width, BasicBlock, (n, n, n), widths, num_classes, in_channels, residual)
