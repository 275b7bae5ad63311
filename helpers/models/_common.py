"""Small pieces shared by the model modules: argument checks and input-shape checks."""

from __future__ import annotations

import torch
from torch import nn

from .._validate import as_int

__all__ = ["activation_layer", "check_input", "is_traced", "positive", "pooling_layer"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_POOLINGS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def positive(value, name: str, fname: str) -> int:
    """``value`` as a positive int, else a TypeError/ValueError naming ``name``."""
    return as_int(value, name, fname, minimum=1)


def activation_layer(name, fname: str) -> nn.Module:
    """A new activation module from its name: ``"relu"``, ``"tanh"`` or ``"sigmoid"``."""
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError(f"{fname}: activation must be one of {sorted(_ACTIVATIONS)}, got {name!r}")
    return _ACTIVATIONS[name]()


def pooling_layer(name, fname: str, kernel_size: int = 2, stride: int = 2) -> nn.Module:
    """A new pooling module from its name: ``"max"`` or ``"avg"``."""
    if not isinstance(name, str) or name not in _POOLINGS:
        raise ValueError(f"{fname}: pooling must be one of {sorted(_POOLINGS)}, got {name!r}")
    return _POOLINGS[name](kernel_size, stride)


def is_traced(x) -> bool:
    """True while ``torch.fx`` traces the model (``x`` is a Proxy, its shape unknown):
    :func:`helpers.shapes.receptive_field` traces models, so input checks must let it."""
    return isinstance(x, torch.fx.Proxy)


def check_input(x, fname: str, channels: int, size: tuple[int, int] | None = None) -> None:
    """Raise unless ``x`` is a tensor (N, channels, H, W), with (H, W) == size if given.

    Does nothing while ``torch.fx`` traces the model (see :func:`is_traced`).
    """
    if is_traced(x):
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fname}: x must be a torch.Tensor, got {type(x).__name__}")
    expected = f"(N, {channels}, {size[0]}, {size[1]})" if size else f"(N, {channels}, H, W)"
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{fname}: x must have shape {expected}, got {tuple(x.shape)}")
    if size is not None and tuple(x.shape[2:]) != tuple(size):
        raise ValueError(f"{fname}: x must have shape {expected}, got {tuple(x.shape)}")
