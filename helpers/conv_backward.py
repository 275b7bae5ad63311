"""Backward pass of the convolution layers in NumPy, equal to PyTorch's autograd.

For the forward pass ``out = conv2d(x, w, b, stride, padding, dilation, groups)`` (a
cross-correlation, see :mod:`helpers.conv`) and an upstream gradient ``dout = dL/dout``::

    db[o]          = sum_{n, i, j} dout[n, o, i, j]
    dw[o, c, u, v] = sum_{n, i, j} dout[n, o, i, j] * x_pad[n, g*C_g + c, i*S + u*D, j*S + v*D]
    dx_pad[n, g*C_g + c, i*S + u*D, j*S + v*D] += dout[n, o, i, j] * w[o, c, u, v]

and ``dx`` is ``dx_pad`` with the padding cropped off. ``dw`` is a correlation of the input
with ``dout``; ``dx`` is the full convolution of ``dout`` (with ``S - 1`` zeros between its
entries) with the kernel rotated by 180 degrees: notebook 06 derives both.

The implementation is vectorized. ``dw`` gathers every receptive window at once
(``sliding_window_view``, the im2col matrix) and does one matrix product per group; ``dx``
does one matrix product per group to get each window's gradient, then adds the windows
back into place with one strided slice per kernel offset (a loop over the ``kH * kW``
offsets, never over output pixels: this is ``col2im``, shared with :mod:`helpers.im2col`).
"""

from __future__ import annotations

import math

import numpy as np

from ._conv_arguments import LAYOUTS, conv_arguments, window_columns
from ._validate import as_float_array, check_ndim
from ._windows import scatter_add_windows

__all__ = ["conv1d_backward", "conv2d_backward", "conv3d_backward"]


def conv1d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`helpers.conv.conv1d`: returns ``(dx, dw, db)``.

    Args:
        dout: upstream gradient dL/dout, shape ``(N, C_out, L_out)`` (the forward output's
            shape), or ``(C_out, L_out)`` when ``x`` is unbatched.
        x: the forward input, ``(N, C_in, L)`` or ``(C_in, L)``.
        w: the forward filters, ``(C_out, C_in / groups, K)``.
        stride, padding, dilation, groups: exactly as given to the forward pass
            (``padding`` may be ``"same"`` or ``"valid"``).

    Returns:
        ``dx`` shaped like ``x``, ``dw`` shaped like ``w``, ``db`` of shape ``(C_out,)``.
    """
    return _conv_backward(dout, x, w, stride, padding, dilation, groups, 1, "conv1d_backward")


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`helpers.conv.conv2d`: returns ``(dx, dw, db)``.

    Args:
        dout: upstream gradient dL/dout, shape ``(N, C_out, H_out, W_out)`` (the forward
            output's shape), or ``(C_out, H_out, W_out)`` when ``x`` is unbatched.
        x: the forward input, ``(N, C_in, H, W)`` or ``(C_in, H, W)``.
        w: the forward filters, ``(C_out, C_in / groups, kH, kW)``.
        stride, padding, dilation, groups: exactly as given to the forward pass: ints or
            pairs; ``padding`` may also be ``"same"`` or ``"valid"``.

    Returns:
        ``(dx, dw, db)``: ``dx`` shaped like ``x``, ``dw`` shaped like ``w`` and
        ``db: (C_out,)``, the gradient of the bias (whether or not the forward pass had one).
        Input rows and columns that no window reaches (stride > 1 with a remainder) get a
        zero gradient, as in PyTorch.
    """
    return _conv_backward(dout, x, w, stride, padding, dilation, groups, 2, "conv2d_backward")


def conv3d_backward(dout, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of :func:`helpers.conv.conv3d`: returns ``(dx, dw, db)``.

    Shapes as in :func:`conv2d_backward` with three spatial axes: ``dout: (N, C_out, D_out,
    H_out, W_out)``, ``x: (N, C_in, D, H, W)``, ``w: (C_out, C_in / groups, kD, kH, kW)``.
    """
    return _conv_backward(dout, x, w, stride, padding, dilation, groups, 3, "conv3d_backward")


def _conv_backward(dout, x, w, stride, padding, dilation, groups, nd: int, fname: str):
    """Shared implementation for 1, 2 and 3 spatial dimensions."""
    args = conv_arguments(x, w, stride, padding, dilation, groups, nd=nd, fname=fname)
    out_layout = LAYOUTS[nd][3]
    dout = as_float_array(dout, "dout", fname)
    if args.unbatched:
        check_ndim(dout, "dout", fname, {nd + 1: out_layout.replace("N, ", "")})
        dout = dout[None]
    else:
        check_ndim(dout, "dout", fname, {nd + 2: out_layout})
    x, w, unbatched = args.x, args.w, args.unbatched
    stride, dilation, groups, pads = args.stride, args.dilation, args.groups, args.pads
    kernel, out_size = args.kernel, args.out_size
    n, c_in, *in_size = x.shape
    c_out, c_per_group = w.shape[:2]
    expected = (n, c_out, *out_size)
    if dout.shape != expected:
        shown = expected[1:] if unbatched else expected
        raise ValueError(
            f"{fname}: dout must have the shape of the forward output, {out_layout} = "
            f"{shown}, got {tuple(dout.shape[1:] if unbatched else dout.shape)}. Pass the "
            f"same stride, padding, dilation and groups as in the forward pass."
        )

    dtype = np.result_type(dout.dtype, x.dtype, w.dtype)
    dout = dout.astype(dtype, copy=False)
    x_pad = np.pad(x.astype(dtype, copy=False), [(0, 0), (0, 0), *pads])
    w = w.astype(dtype, copy=False)
    c_out_g, taps, positions = c_out // groups, math.prod(kernel), math.prod(out_size)

    # dout as one row per output channel within its group: (groups, C_out/g, N * positions)
    d_mat = dout.reshape(n, groups, c_out_g, positions).transpose(1, 2, 0, 3)
    d_mat = d_mat.reshape(groups, c_out_g, n * positions)
    w_mat = w.reshape(groups, c_out_g, c_per_group * taps)  # (groups, C_out/g, C_g * taps)

    # dw: the im2col matrix of x and one matrix product per group. (cols @ d_mat.T, then
    # transposed, is many times faster with OpenBLAS than d_mat @ cols.T, whose inner
    # dimension is long.)
    cols = window_columns(x_pad, args)  # (groups, C_g * taps, N * positions)
    dw = (cols @ d_mat.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(w.shape)

    # dx: the gradient of every window (col2im input), then add each kernel offset back.
    d_cols = w_mat.transpose(0, 2, 1) @ d_mat  # (groups, C_g * taps, N * positions)
    d_cols = d_cols.reshape(groups, c_per_group, *kernel, n, *out_size)
    d_cols = np.moveaxis(d_cols, 2 + nd, 0).reshape(n, c_in, *kernel, *out_size)
    dx_pad = scatter_add_windows(d_cols, x_pad.shape[2:], stride, dilation)
    crop = tuple(slice(lo, lo + size) for (lo, _), size in zip(pads, in_size, strict=True))
    dx = np.ascontiguousarray(dx_pad[(slice(None), slice(None), *crop)])

    db = dout.sum(axis=(0, *range(2, 2 + nd)))
    return (dx[0] if unbatched else dx), dw, db
