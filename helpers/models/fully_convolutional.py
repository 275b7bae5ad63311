"""Fully connected layers as convolutions (CS231n, "Converting FC layers to CONV layers").

A ``nn.Linear`` that reads a ``(C, H, W)`` feature map flattened in PyTorch's order is the
same map as a ``nn.Conv2d(C, out, (H, W))`` whose weights are the linear weights reshaped to
``(out, C, H, W)``: on an ``H x W`` map it returns ``(N, out, 1, 1)``. Every later linear layer
is a 1×1 convolution. The converted network accepts larger images and returns a *map* of
class scores: one score vector per window of the original input size, at the stride of the
feature extractor.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["convolutionalize", "linear_to_conv"]


def linear_to_conv(linear: nn.Linear, in_shape) -> nn.Conv2d:
    """The ``nn.Conv2d`` equal to ``linear`` on a ``(C, H, W)`` map flattened by ``nn.Flatten``.

    ``in_shape = (C, H, W)`` with ``C * H * W == linear.in_features``. The result maps
    ``x: (N, C, H, W)`` to ``(N, out_features, 1, 1)`` with
    ``conv(x).flatten(1) == linear(x.flatten(1))``.
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"linear_to_conv: linear must be an nn.Linear, got {type(linear).__name__}")
    c, h, w = (int(v) for v in in_shape)
    if c * h * w != linear.in_features:
        raise ValueError(
            f"linear_to_conv: in_shape {(c, h, w)} has {c * h * w} values, but the layer "
            f"reads {linear.in_features}"
        )
    conv = nn.Conv2d(
        c,
        linear.out_features,
        (h, w),
        bias=linear.bias is not None,
        device=linear.weight.device,
        dtype=linear.weight.dtype,
    )
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(linear.out_features, c, h, w))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv


def convolutionalize(
    features: nn.Module, classifier: nn.Sequential, feature_shape
) -> nn.Sequential:
    """``features`` followed by ``classifier`` with every ``nn.Linear`` turned into a convolution.

    ``classifier`` starts with ``nn.Flatten`` (dropped), then linear layers and element-wise
    layers (ReLU, Dropout, kept as they are). ``feature_shape = (C, H, W)`` is the output of
    ``features`` on the original input size. On that input the result returns
    ``(N, classes, 1, 1)``; on a larger one a map ``(N, classes, H', W')``.
    """
    layers, shape = [], tuple(int(v) for v in feature_shape)
    for module in classifier:
        if isinstance(module, nn.Flatten):
            continue
        if isinstance(module, nn.Linear):
            layers.append(linear_to_conv(module, shape))
            shape = (module.out_features, 1, 1)
        else:
            layers.append(module)
    return nn.Sequential(features, nn.Sequential(*layers))
