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
offsets, never over output pixels: this is ``col2im``).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, as_int, as_tuple, check_ndim

__all__ = ["conv1d_backward", "conv2d_backward", "conv3d_backward"]

_LAYOUTS = {
    1: ("(N, C_in, L)", "(C_in, L)", "(C_out, C_in/groups, K)", "(N, C_out, L_out)"),
    2: (
        "(N, C_in, H, W)",
        "(C_in, H, W)",
        "(C_out, C_in/groups, kH, kW)",
        "(N, C_out, H_out, W_out)",
    ),
    3: (
        "(N, C_in, D, H, W)",
        "(C_in, D, H, W)",
        "(C_out, C_in/groups, kD, kH, kW)",
        "(N, C_out, D_out, H_out, W_out)",
    ),
}


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
    batched_layout, single_layout, weight_layout, out_layout = _LAYOUTS[nd]
    x = as_float_array(x, "x", fname)
    w = as_float_array(w, "w", fname)
    dout = as_float_array(dout, "dout", fname)
    check_ndim(x, "x", fname, {nd + 2: batched_layout, nd + 1: single_layout})
    check_ndim(w, "w", fname, {nd + 2: weight_layout})
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
        check_ndim(dout, "dout", fname, {nd + 1: out_layout.replace("N, ", "")})
        dout = dout[None]
    else:
        check_ndim(dout, "dout", fname, {nd + 2: out_layout})
    stride = as_tuple(stride, "stride", fname, nd, minimum=1)
    dilation = as_tuple(dilation, "dilation", fname, nd, minimum=1)
    groups = as_int(groups, "groups", fname, minimum=1)

    n, c_in, *in_size = x.shape
    c_out, c_per_group, *kernel = w.shape
    if c_in % groups:
        raise ValueError(f"{fname}: groups={groups} must divide the C_in={c_in} input channels")
    if c_out % groups:
        raise ValueError(f"{fname}: groups={groups} must divide the C_out={c_out} filters")
    if c_per_group * groups != c_in:
        raise ValueError(
            f"{fname}: x has C_in={c_in} channels, but w of shape {tuple(w.shape)} expects "
            f"w.shape[1] * groups = {c_per_group} * {groups} = {c_per_group * groups}. "
            f"w must have shape {weight_layout}."
        )

    pads = _padding_amounts(padding, kernel, stride, dilation, fname)
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    padded = [size + lo + hi for size, (lo, hi) in zip(in_size, pads, strict=True)]
    for axis, (eff, size, k, d) in enumerate(zip(effective, padded, kernel, dilation, strict=True)):
        if eff > size:
            raise ValueError(
                f"{fname}: the kernel is larger than the padded input along spatial axis "
                f"{axis}: kernel size {k} with dilation {d} spans {eff} = dilation*(k-1)+1 "
                f"positions, but the padded input has only {size}."
            )
    out_size = [(p - e) // s + 1 for p, e, s in zip(padded, effective, stride, strict=True)]
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

    # dw: im2col matrix of x (one row per window) and one matrix product per group.
    spatial_axes = tuple(range(2, 2 + nd))
    windows = sliding_window_view(x_pad, effective, axis=spatial_axes)
    windows = windows[(slice(None),) * 2 + tuple(slice(None, None, s) for s in stride)]
    windows = windows[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    # (N, C_in, *out, *kernel) -> (groups, C_g * taps, N * positions), with a single copy
    # that reads x along its last axis. (cols @ d_mat.T, then transposed, is many times
    # faster with OpenBLAS than d_mat @ cols.T, whose inner dimension is long.)
    windows = windows.reshape(n, groups, c_per_group, *out_size, *kernel)
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    cols = windows.transpose(order).reshape(groups, c_per_group * taps, n * positions)
    dw = (cols @ d_mat.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(w.shape)

    # dx: the gradient of every window (col2im input), then add each kernel offset back.
    d_cols = w_mat.transpose(0, 2, 1) @ d_mat  # (groups, C_g * taps, N * positions)
    d_cols = d_cols.reshape(groups, c_per_group, *kernel, n, *out_size)
    d_cols = np.moveaxis(d_cols, 2 + nd, 0).reshape(n, c_in, *kernel, *out_size)
    dx_pad = np.zeros_like(x_pad)
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(
            slice(u * d, u * d + s * (o - 1) + 1, s)
            for u, d, s, o in zip(offset, dilation, stride, out_size, strict=True)
        )
        dx_pad[(slice(None), slice(None), *target)] += d_cols[(slice(None), slice(None), *offset)]
    crop = tuple(slice(lo, lo + size) for (lo, _), size in zip(pads, in_size, strict=True))
    dx = np.ascontiguousarray(dx_pad[(slice(None), slice(None), *crop)])

    db = dout.sum(axis=(0, *spatial_axes))
    return (dx[0] if unbatched else dx), dw, db


def _padding_amounts(padding, kernel, stride, dilation, fname) -> list[tuple[int, int]]:
    """``padding`` (int, tuple, ``"valid"`` or ``"same"``) as (before, after) pairs.

    The same rule as the forward pass in :mod:`helpers.conv`: ``"same"`` pads
    ``dilation*(k-1)`` zeros in total, the odd one at the end, as PyTorch does.
    """
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [(0, 0)] * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fname}: padding='same' needs stride 1 (as in PyTorch), got stride={stride}"
                )
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return [(t // 2, t - t // 2) for t in totals]
        raise ValueError(
            f"{fname}: padding must be an int, a tuple, 'valid' or 'same'; got {padding!r}"
        )
    return [(p, p) for p in as_tuple(padding, "padding", fname, nd, minimum=0)]
