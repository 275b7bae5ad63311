"""Convolution layers in NumPy, with exactly PyTorch's semantics and weight layout.

Like ``torch.nn.functional.conv{1,2,3}d`` these compute a *cross-correlation* (the kernel
is not flipped)::

    out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x_pad[n, g*C_g + c, i*S + u*D, j*S + v*D]

where ``g`` is the group of output channel ``o``. The implementation is vectorized: it
gathers every receptive window at once with ``sliding_window_view`` (no copy), then does
one matrix product per group (the "im2col" idea of notebook 07). There is no Python loop
over output pixels.
"""

from __future__ import annotations

import numpy as np

from ._conv_arguments import conv_arguments, window_columns
from ._validate import as_float_array

__all__ = ["conv1d", "conv2d", "conv3d"]


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """1-D convolution (cross-correlation), like ``torch.nn.functional.conv1d``.

    Args:
        x: input, shape ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        w: filters, shape ``(C_out, C_in / groups, K)``.
        b: optional bias, shape ``(C_out,)``.
        stride, dilation: positive int (or a 1-tuple).
        padding: int >= 0 zeros added at both ends, or ``"valid"`` (0) or ``"same"``
            (output length = input length; stride must be 1).
        groups: split the channels into this many independent groups.

    Returns:
        ``(N, C_out, L_out)`` (or ``(C_out, L_out)`` for unbatched input), with
        ``L_out = floor((L + 2*padding - dilation*(K-1) - 1) / stride) + 1``.
    """
    return _conv(x, w, b, stride, padding, dilation, groups, nd=1, fname="conv1d")


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """2-D convolution (cross-correlation), like ``torch.nn.functional.conv2d``.

    Args:
        x: input, shape ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        w: filters, shape ``(C_out, C_in / groups, kH, kW)``.
        b: optional bias, shape ``(C_out,)``.
        stride, dilation: positive int or pair ``(vertical, horizontal)``.
        padding: int or pair of ints >= 0 (zeros on both sides), or ``"valid"`` /
            ``"same"`` (output size = input size; stride must be 1).
        groups: split the channels into this many independent groups
            (``groups = C_in`` is a depthwise convolution).

    Returns:
        ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)`` for unbatched input),
        with ``H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1`` and likewise for W.
    """
    return _conv(x, w, b, stride, padding, dilation, groups, nd=2, fname="conv2d")


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> np.ndarray:
    """3-D convolution (cross-correlation), like ``torch.nn.functional.conv3d``.

    Args:
        x: input, shape ``(N, C_in, D, H, W)`` or unbatched ``(C_in, D, H, W)``.
        w: filters, shape ``(C_out, C_in / groups, kD, kH, kW)``.
        b, stride, padding, dilation, groups: as in :func:`conv2d`, with triples.

    Returns:
        ``(N, C_out, D_out, H_out, W_out)`` (or unbatched ``(C_out, D_out, H_out, W_out)``).
    """
    return _conv(x, w, b, stride, padding, dilation, groups, nd=3, fname="conv3d")


def _conv(x, w, b, stride, padding, dilation, groups, *, nd: int, fname: str) -> np.ndarray:
    """Shared implementation of :func:`conv1d`, :func:`conv2d` and :func:`conv3d`."""
    args = conv_arguments(x, w, stride, padding, dilation, groups, nd=nd, fname=fname)
    c_out = args.w.shape[0]
    if b is not None:
        b = as_float_array(b, "b", fname)
        if b.shape != (c_out,):
            raise ValueError(
                f"{fname}: b must have shape (C_out,) = ({c_out},), got {tuple(b.shape)}"
            )

    dtype = np.result_type(args.x.dtype, args.w.dtype)
    x_pad = np.pad(args.x.astype(dtype, copy=False), [(0, 0), (0, 0), *args.pads])
    cols = window_columns(x_pad, args)  # (groups, C_in/groups * taps, N * positions)
    w_mat = args.w.astype(dtype, copy=False).reshape(args.groups, c_out // args.groups, -1)
    out = w_mat @ cols  # (groups, C_out/groups, N * prod(out_size))
    out = out.reshape(c_out, args.x.shape[0], *args.out_size).swapaxes(0, 1)
    if b is not None:
        out = out + b.astype(dtype, copy=False).reshape(c_out, *([1] * nd))
    out = np.ascontiguousarray(out)
    return out[0] if args.unbatched else out


from .conv_backward import conv1d_backward, conv2d_backward  # noqa: E402

__all__ += ["conv1d_backward", "conv2d_backward"]

from .conv_transpose import conv_transpose2d  # noqa: E402
from .im2col import col2im, im2col  # noqa: E402

__all__ += ["col2im", "conv_transpose2d", "im2col"]
