"""EfficientNet's compound scaling (Tan and Le, ICML 2019, Section 3.3), on a ResNet.

A network grows in three ways: **depth** (more layers, cost x d), **width** (more channels
in every layer, cost x w^2: inputs and outputs both grow) and **resolution** (larger images,
cost x r^2). The paper scales all three with one coefficient phi (its Eq. 3)::

    d = alpha ** phi,  w = beta ** phi,  r = gamma ** phi,  alpha * beta**2 * gamma**2 ~ 2

so that the cost, proportional to ``d * w**2 * r**2``, grows by about ``2 ** phi``. A small
grid search on EfficientNet-B0 gave ``alpha = 1.2, beta = 1.1, gamma = 1.15`` (Section 4).

* :func:`compound_multipliers`: ``(d, w, r)`` for a phi;
* :func:`scaled_resnet`: ResNet-18 or 34 (the :func:`helpers.models.resnet` layout) with
  ``ceil(d * n)`` blocks per stage and every width times ``w`` (rounded to a multiple of 8),
  so that a cost counter can check the rule.
"""

from __future__ import annotations

import math
import numbers

from torch import nn

from .resnet import _IMAGENET_DEPTHS, BasicBlock, ResNet, _conv_bn

__all__ = ["EFFICIENTNET_COEFFICIENTS", "compound_multipliers", "scaled_resnet"]

# (alpha, beta, gamma): depth, width and resolution per unit of phi (the paper's Section 4)
EFFICIENTNET_COEFFICIENTS = (1.2, 1.1, 1.15)


def _positive_real(value, name: str, fname: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{fname}: {name} must be a positive number, got {value!r}")
    return float(value)


def compound_multipliers(phi: float, coefficients=EFFICIENTNET_COEFFICIENTS):
    """``(d, w, r) = (alpha ** phi, beta ** phi, gamma ** phi)``; phi may be any real >= 0."""
    fname = "compound_multipliers"
    if isinstance(phi, bool) or not isinstance(phi, numbers.Real) or phi < 0:
        raise ValueError(f"{fname}: phi must be a number >= 0, got {phi!r}")
    alpha, beta, gamma = (
        _positive_real(c, n, fname) for c, n in zip(coefficients, "abg", strict=True)
    )
    return alpha**phi, beta**phi, gamma**phi


def _round_width(channels: float) -> int:
    """``channels`` rounded to the nearest multiple of 8 (at least 8)."""
    return max(8, int(round(channels / 8)) * 8)


def scaled_resnet(
    depth_multiplier: float = 1.0,
    width_multiplier: float = 1.0,
    base: int = 34,
    num_classes: int = 1000,
) -> ResNet:
    """ResNet-``base`` (18 or 34) with ``ceil(depth_multiplier * n)`` blocks in a stage of
    ``n`` and ``width_multiplier`` times the channels of every layer (stem included), each
    rounded to a multiple of 8. ``(1, 1)`` is the network of :func:`helpers.models.resnet`.
    ``x: (N, 3, H, W)`` -> ``(N, num_classes)``; the resolution is the input's size.
    """
    fname = "scaled_resnet"
    d = _positive_real(depth_multiplier, "depth_multiplier", fname)
    w = _positive_real(width_multiplier, "width_multiplier", fname)
    if base not in (18, 34):
        raise ValueError(f"{fname}: base must be 18 or 34, got {base!r}")
    _, counts = _IMAGENET_DEPTHS[base]
    counts = [math.ceil(d * n - 1e-9) for n in counts]
    stem_channels = _round_width(64 * w)
    widths = [_round_width(c * w) for c in (64, 128, 256, 512)]
    conv, bn = _conv_bn(3, stem_channels, 7, stride=2)
    stem = nn.Sequential(conv, bn, nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))
    return ResNet(stem, stem_channels, BasicBlock, counts, widths, num_classes, 3)
