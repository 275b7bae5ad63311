"""Gathering the windows of a padded input, and adding window contents back: the two halves
of im2col / col2im that the convolution, pooling and transposed-convolution layers share.

Both work on any number of spatial axes. Along one axis, window ``i`` starts at input
position ``i * stride`` and its kernel offset ``u`` reads position ``i * stride + u *
dilation``; the window sizes are :func:`helpers._arithmetic.output_size`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._arithmetic import span


def gather_windows(
    x_pad: np.ndarray, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> np.ndarray:
    """Every window of the (already padded) ``x_pad``, as a read-only view (no copy).

    ``x_pad: (N, C, *padded_size)`` -> ``(N, C, *out_size, *kernel)``: entry
    ``[n, c, i, j, u, v]`` is ``x_pad[n, c, i*sH + u*dH, j*sW + v*dW]`` (for 2 axes).
    """
    nd = len(kernel)
    reach = [span(k, d) for k, d in zip(kernel, dilation, strict=True)]
    windows = sliding_window_view(x_pad, reach, axis=tuple(range(2, 2 + nd)))
    # every stride-th window start, every dilation-th element inside a window
    windows = windows[(slice(None),) * 2 + tuple(slice(None, None, s) for s in stride)]
    return windows[(Ellipsis, *(slice(None, None, d) for d in dilation))]


def scatter_add_windows(
    patches: np.ndarray, canvas_shape: Sequence[int], stride: Sequence[int], dilation
) -> np.ndarray:
    """Add window contents into a zero canvas: the transpose of :func:`gather_windows`.

    Args:
        patches: ``(N, C, *kernel, *out_size)``; for 2 axes ``patches[n, c, u, v, i, j]``
            belongs at canvas position ``(i*sH + u*dH, j*sW + v*dW)``.
        canvas_shape: the spatial size of the canvas, at least
            ``(out_size - 1) * stride + dilation * (kernel - 1) + 1`` per axis.
        stride, dilation: one positive int per spatial axis.

    Returns:
        ``(N, C, *canvas_shape)``; overlapping windows add up. One vectorized strided ``+=``
        per kernel offset: the loop runs ``prod(kernel)`` times, never over pixels.
    """
    nd = len(canvas_shape)
    kernel, out_size = patches.shape[2 : 2 + nd], patches.shape[2 + nd :]
    canvas = np.zeros((*patches.shape[:2], *canvas_shape), dtype=patches.dtype)
    everything = (slice(None), slice(None))
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(
            slice(u * d, u * d + s * (o - 1) + 1, s)
            for u, d, s, o in zip(offset, dilation, stride, out_size, strict=True)
        )
        canvas[(*everything, *target)] += patches[(*everything, *offset)]
    return canvas
