"""ShuffleNet's channel shuffle (Zhang, Zhou, Lin and Sun, CVPR 2018, Section 3.1).

Stack two grouped 1×1 convolutions and each output group sees only one input group: the
groups never talk to each other. The channel shuffle fixes it for free: reshape the
``C = g * n`` channels to ``(g, n)``, transpose to ``(n, g)`` and flatten back, so that
every group of the next grouped layer receives channels from every group of this one.

* :func:`channel_shuffle`: the operation on a tensor ``(N, C, H, W)``
  (what ``torch.nn.ChannelShuffle`` computes);
* :func:`shuffle_permutation`: which input channel lands at each output position;
* :func:`group_connectivity`: which input channels each output channel of a grouped
  convolution sees, as a boolean matrix (for pictures and for composing layers).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validate import as_int

__all__ = ["channel_shuffle", "group_connectivity", "shuffle_permutation"]


def _groups_of(channels: int, groups, fname: str) -> int:
    groups = as_int(groups, "groups", fname, minimum=1)
    if channels % groups:
        raise ValueError(f"{fname}: the {channels} channels must split into groups={groups}")
    return groups


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """``x: (N, C, H, W)`` with its channels shuffled: reshape to ``(N, g, C / g, H, W)``,
    swap the two channel axes, flatten back. Output channel ``i * g + j`` is input channel
    ``j * (C / g) + i``."""
    fname = "channel_shuffle"
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"{fname}: x must be a tensor (N, C, H, W), got {type(x).__name__}")
    n, c, h, w = x.shape
    g = _groups_of(c, groups, fname)
    return x.reshape(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)


def shuffle_permutation(channels: int, groups: int) -> np.ndarray:
    """``perm`` with ``channel_shuffle(x, groups)[:, i] == x[:, perm[i]]``."""
    fname = "shuffle_permutation"
    channels = as_int(channels, "channels", fname, minimum=1)
    g = _groups_of(channels, groups, fname)
    return np.arange(channels).reshape(g, channels // g).T.ravel()


def group_connectivity(in_channels: int, out_channels: int, groups: int) -> np.ndarray:
    """``(out_channels, in_channels)`` booleans: True where a grouped convolution connects
    output channel ``o`` to input channel ``i`` (both in the same group)."""
    fname = "group_connectivity"
    in_channels = as_int(in_channels, "in_channels", fname, minimum=1)
    out_channels = as_int(out_channels, "out_channels", fname, minimum=1)
    g = _groups_of(in_channels, groups, fname)
    _groups_of(out_channels, g, fname)
    group_in = np.arange(in_channels) // (in_channels // g)
    group_out = np.arange(out_channels) // (out_channels // g)
    return group_out[:, None] == group_in[None, :]
