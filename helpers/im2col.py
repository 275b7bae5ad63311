"""im2col and col2im: every receptive window as one column, exactly like ``F.unfold`` / ``F.fold``.

``im2col`` turns a convolution into a single matrix product. For ``x: (N, C, H, W)`` and
a ``kH x kW`` kernel it returns ``cols: (N, C*kH*kW, L)``: column ``l`` holds the window
under output position ``l`` (row-major over the ``H_out x W_out`` output grid), and row
``c*kH*kW + u*kW + v`` holds channel ``c`` at kernel offset ``(u, v)``. Then::

    out = w.reshape(C_out, -1) @ cols            # (N, C_out, L)
    out = out.reshape(N, C_out, H_out, W_out)    # == conv2d(x, w, ...)

``col2im`` is its transpose (adjoint): it puts every column back into its window and
*adds* where windows overlap, so ``col2im(im2col(x))`` multiplies each pixel by the number
of windows that contain it. It is the last step of a transposed convolution.

Layouts, argument names and errors follow ``torch.nn.functional.unfold`` and ``fold``;
unbatched input ``(C, H, W)`` / ``(C*kH*kW, L)`` is accepted as in PyTorch.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._arithmetic import output_sizes
from ._validate import as_float_array, as_tuple, check_ndim
from ._windows import gather_windows, scatter_add_windows

__all__ = ["col2im", "im2col"]


def im2col(x, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Gather every receptive window of ``x`` into a column, like ``F.unfold``.

    Args:
        x: input, shape ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: ``kH, kW``, an int or a pair.
        stride, dilation: positive int or pair.
        padding: int or pair >= 0, zeros on both sides.

    Returns:
        ``cols: (N, C*kH*kW, L)`` (or ``(C*kH*kW, L)`` for unbatched input) with
        ``L = H_out * W_out`` and ``H_out = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1``:
        ``cols[n, (c*kH + u)*kW + v, i*W_out + j] = x_pad[n, c, i*sH + u*dH, j*sW + v*dW]``.
    """
    fname = "im2col"
    x, unbatched, (kernel, stride, padding, dilation) = _prepare(
        x, "x", {4: "(N, C, H, W)", 3: "(C, H, W)"}, (kernel_size, stride, padding, dilation), fname
    )
    n, c, h, w = x.shape
    _output_size((h, w), kernel, stride, padding, dilation, fname, "x")  # validates

    x_pad = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)])
    windows = gather_windows(x_pad, kernel, stride, dilation)  # (N, C, H_out, W_out, kH, kW)
    # the one copy: (N, C, kH, kW, H_out, W_out) -> (N, C*kH*kW, L)
    cols = windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel[0] * kernel[1], -1)
    if not cols.flags.writeable:  # 1x1 kernels: reshape gave a (read-only) view, not a copy
        cols = cols.copy()
    return cols[0] if unbatched else cols


def col2im(cols, input_shape, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Add every column back into its window, like ``F.fold``: the transpose of :func:`im2col`.

    Args:
        cols: shape ``(N, C*kH*kW, L)`` or unbatched ``(C*kH*kW, L)``, laid out as
            :func:`im2col` returns it.
        input_shape: the shape of the image to rebuild: ``(H, W)`` (``F.fold``'s
            ``output_size``; an int means ``H = W``), or the full ``x.shape`` that was given
            to :func:`im2col`, ``(N, C, H, W)`` or ``(C, H, W)``, which is checked against
            ``cols``.
        kernel_size, stride, padding, dilation: as in :func:`im2col`.

    Returns:
        ``(N, C, H, W)`` (or ``(C, H, W)``) where each pixel is the sum of the column
        entries that :func:`im2col` would have copied from it; entries that fall in the
        padding are dropped. ``sum(im2col(x) * cols) == sum(x * col2im(cols))`` for all
        ``x`` and ``cols``.
    """
    fname = "col2im"
    layouts = {3: "(N, C*kH*kW, L)", 2: "(C*kH*kW, L)"}
    cols, unbatched, (kernel, stride, padding, dilation) = _prepare(
        cols, "cols", layouts, (kernel_size, stride, padding, dilation), fname
    )
    n, rows, length = cols.shape
    area = kernel[0] * kernel[1]
    if rows % area:
        raise ValueError(
            f"col2im: cols.shape[-2] = {rows} must be C * kH * kW, a multiple of "
            f"kH * kW = {kernel[0]} * {kernel[1]} = {area}"
        )
    c = rows // area
    h, w = _spatial_shape(input_shape, n if not unbatched else None, c, unbatched)
    out_size = _output_size((h, w), kernel, stride, padding, dilation, fname, "input_shape")
    if length != out_size[0] * out_size[1]:
        raise ValueError(
            f"col2im: cols has L = {length} columns, but a {h}×{w} image with kernel_size "
            f"{kernel}, stride {stride}, padding {padding} and dilation {dilation} has "
            f"{out_size[0]} * {out_size[1]} = {out_size[0] * out_size[1]} windows"
        )
    patches = cols.reshape(n, c, *kernel, *out_size)
    canvas = scatter_add_windows(
        patches, (h + 2 * padding[0], w + 2 * padding[1]), stride, dilation
    )
    out = canvas[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]
    out = np.ascontiguousarray(out)
    return out[0] if unbatched else out


def _prepare(array, name, layouts, hyperparameters, fname):
    """Check ``array`` (one of ``layouts``, the batched one first) and the hyperparameters
    ``(kernel_size, stride, padding, dilation)``; return the batched array, whether it was
    unbatched, and the hyperparameters as pairs."""
    array = as_float_array(array, name, fname)
    check_ndim(array, name, fname, layouts)
    unbatched = array.ndim == min(layouts)
    kernel_size, stride, padding, dilation = hyperparameters
    pairs = (
        as_tuple(kernel_size, "kernel_size", fname, 2, minimum=1),
        as_tuple(stride, "stride", fname, 2, minimum=1),
        as_tuple(padding, "padding", fname, 2, minimum=0),
        as_tuple(dilation, "dilation", fname, 2, minimum=1),
    )
    return (array[None] if unbatched else array), unbatched, pairs


def _output_size(size, kernel, stride, padding, dilation, fname, name) -> tuple[int, int]:
    """Number of window positions along H and W; ValueError if the kernel does not fit."""
    pads = [(p, p) for p in padding]
    out = output_sizes(size, kernel, stride, pads, dilation, fname=fname, name=name)
    return out[0], out[1]


def _spatial_shape(input_shape, n, c, unbatched) -> tuple[int, int]:
    """``(H, W)`` from ``input_shape``; a full shape must agree with ``cols``."""
    if isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool):
        input_shape = (input_shape, input_shape)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) not in (2, 3, 4):
        raise TypeError(
            f"col2im: input_shape must be (H, W), (C, H, W) or (N, C, H, W), got {input_shape!r}"
        )
    shape = as_tuple(tuple(input_shape), "input_shape", "col2im", len(input_shape), minimum=1)
    expected = (c,) if unbatched else (n, c)
    if len(shape) > 2:
        lead = shape[:-2]
        wanted = expected[-len(lead) :] if len(lead) <= len(expected) else None
        if wanted is None or lead != wanted:
            layout = "(C*kH*kW, L)" if unbatched else "(N, C*kH*kW, L)"
            raise ValueError(
                f"col2im: input_shape {shape} does not match cols of layout {layout}, "
                f"which gives {'(N, C)' if not unbatched else '(C,)'} = {expected}"
            )
    return shape[-2], shape[-1]
