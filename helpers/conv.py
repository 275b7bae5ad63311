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

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, as_int, as_tuple, check_ndim

__all__ = ["conv1d", "conv2d", "conv3d"]

_LAYOUTS = {
    1: ("(N, C_in, L)", "(C_in, L)", "(C_out, C_in/groups, K)"),
    2: ("(N, C_in, H, W)", "(C_in, H, W)", "(C_out, C_in/groups, kH, kW)"),
    3: ("(N, C_in, D, H, W)", "(C_in, D, H, W)", "(C_out, C_in/groups, kD, kH, kW)"),
}


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
    batched_layout, single_layout, weight_layout = _LAYOUTS[nd]
    x = as_float_array(x, "x", fname)
    w = as_float_array(w, "w", fname)
    check_ndim(x, "x", fname, {nd + 2: batched_layout, nd + 1: single_layout})
    check_ndim(w, "w", fname, {nd + 2: weight_layout})
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x[None]
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
    if b is not None:
        b = as_float_array(b, "b", fname)
        if b.shape != (c_out,):
            raise ValueError(
                f"{fname}: b must have shape (C_out,) = ({c_out},), got {tuple(b.shape)}"
            )

    pads = _padding_amounts(padding, kernel, stride, dilation, fname)
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    padded = [size + lo + hi for size, (lo, hi) in zip(in_size, pads, strict=True)]
    for axis, (eff, size, k, d) in enumerate(zip(effective, padded, kernel, dilation, strict=True)):
        if eff > size:
            raise ValueError(
                f"{fname}: the kernel is larger than the padded input along spatial axis "
                f"{axis}: kernel size {k} with dilation {d} spans {eff} = dilation*(k-1)+1 "
                f"positions, but the padded input has only {size}. Use a smaller kernel or "
                f"dilation, or more padding."
            )

    dtype = np.result_type(x.dtype, w.dtype)
    x_pad = np.pad(x.astype(dtype, copy=False), [(0, 0), (0, 0), *pads])
    spatial_axes = tuple(range(2, 2 + nd))
    windows = sliding_window_view(x_pad, effective, axis=spatial_axes)
    # windows: (N, C_in, *full_out, *effective) -> keep every stride-th window start and
    # every dilation-th element inside a window.
    windows = windows[(slice(None),) * 2 + tuple(slice(None, None, s) for s in stride)]
    windows = windows[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    out_size = windows.shape[2 : 2 + nd]

    # im2col: one row per (group, c, kernel offset), one column per (n, output position).
    # This order makes the copy read x along its last axis, and gives one large matrix
    # product per group (about twice as fast as one row per output position).
    windows = windows.reshape(n, groups, c_per_group, *out_size, *kernel)
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    cols = windows.transpose(order).reshape(groups, c_per_group * math.prod(kernel), -1)
    w_mat = w.astype(dtype, copy=False).reshape(groups, c_out // groups, -1)
    out = w_mat @ cols  # (groups, C_out/groups, N * prod(out_size))
    out = out.reshape(c_out, n, *out_size).swapaxes(0, 1)
    if b is not None:
        out = out + b.astype(dtype, copy=False).reshape(c_out, *([1] * nd))
    out = np.ascontiguousarray(out)
    return out[0] if unbatched else out


def _padding_amounts(padding, kernel, stride, dilation, fname) -> list[tuple[int, int]]:
    """Turn ``padding`` (int, tuple, ``"valid"`` or ``"same"``) into (before, after) pairs.

    ``"same"`` pads ``dilation*(k-1)`` zeros in total, the odd one at the end, exactly as
    PyTorch does.
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


from .conv_backward import conv1d_backward, conv2d_backward  # noqa: E402

__all__ += ["conv1d_backward", "conv2d_backward"]

from .conv_transpose import conv_transpose2d  # noqa: E402
from .im2col import col2im, im2col  # noqa: E402

__all__ += ["col2im", "conv_transpose2d", "im2col"]
