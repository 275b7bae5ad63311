"""Transposed ("fractionally strided", "deconvolution") 2-D convolution in NumPy.

``conv_transpose2d`` is the transpose (adjoint) of :func:`helpers.conv.conv2d` with the same
weights and hyper-parameters: if ``conv2d`` is the matrix ``M``, this is ``M.T``. It
matches ``torch.nn.functional.conv_transpose2d`` exactly, including PyTorch's weight
layout ``(C_in, C_out/groups, kH, kW)`` (the conv2d layout with the first two axes
swapped) and ``output_padding``::

    out[n, o, i*S + u*D - P, j*S + v*D - P] += x[n, c, i, j] * w[c, o', u, v]

for every input pixel ``(i, j)`` and kernel offset ``(u, v)``, where ``o`` is output
channel ``o'`` of the group of input channel ``c``. Every input pixel *stamps* a scaled
copy of the kernel onto the output, ``S`` pixels apart; overlapping stamps add up.

Computed as in the libraries: one matrix product ``w.T @ x`` gives every stamp as a
column (``(N, C_out*kH*kW, H*W)``), and :func:`helpers.im2col.col2im`'s scatter-add puts
them in place. There is no Python loop over pixels.
"""

from __future__ import annotations

import numpy as np

from ._arithmetic import transpose_output_sizes
from ._validate import as_float_array, as_int, as_tuple, check_ndim
from ._windows import scatter_add_windows

__all__ = ["conv_transpose2d"]


def conv_transpose2d(
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1
) -> np.ndarray:
    """Transposed 2-D convolution, like ``torch.nn.functional.conv_transpose2d``.

    Note the order of the keyword arguments: PyTorch's positional order is
    ``(input, weight, bias, stride, padding, output_padding, groups, dilation)``; pass
    ``dilation`` and ``groups`` by name.

    Args:
        x: input, shape ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        w: filters, shape ``(C_in, C_out / groups, kH, kW)``.
        b: optional bias, shape ``(C_out,)``.
        stride, dilation: positive int or pair.
        padding: int or pair >= 0: ``dilation*(k-1) - padding`` zeros of implicit padding,
            i.e. ``padding`` rows and columns are *cropped* from each side of the output.
        output_padding: int or pair >= 0, smaller than the stride or the dilation: extra
            rows/columns added on the bottom/right side of the output. A strided conv2d
            maps several input sizes to one output size; this picks which one to rebuild.
        groups: split the channels into this many independent groups.

    Returns:
        ``(N, C_out, H_out, W_out)`` (or ``(C_out, H_out, W_out)``) with
        ``H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + opH + 1`` and likewise for W.
    """
    fname = "conv_transpose2d"
    x = as_float_array(x, "x", fname)
    w = as_float_array(w, "w", fname)
    check_ndim(x, "x", fname, {4: "(N, C_in, H, W)", 3: "(C_in, H, W)"})
    check_ndim(w, "w", fname, {4: "(C_in, C_out/groups, kH, kW)"})
    stride = as_tuple(stride, "stride", fname, 2, minimum=1)
    padding = as_tuple(padding, "padding", fname, 2, minimum=0)
    output_padding = as_tuple(output_padding, "output_padding", fname, 2, minimum=0)
    dilation = as_tuple(dilation, "dilation", fname, 2, minimum=1)
    groups = as_int(groups, "groups", fname, minimum=1)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]

    n, c_in, h, wd = x.shape
    w_in, c_out_per_group, kh, kw = w.shape
    if w_in % groups:
        raise ValueError(
            f"{fname}: groups={groups} must divide the C_in={w_in} input channels of w"
        )
    if c_in != w_in:
        raise ValueError(
            f"{fname}: x has C_in={c_in} channels, but w of shape {tuple(w.shape)} has "
            f"w.shape[0] = {w_in}. A transposed convolution's w has shape "
            f"(C_in, C_out/groups, kH, kW): the conv2d layout with the first two axes swapped."
        )
    c_out = c_out_per_group * groups
    if b is not None:
        b = as_float_array(b, "b", fname)
        if b.shape != (c_out,):
            raise ValueError(
                f"{fname}: b must have shape (C_out,) = ({c_out},) (w.shape[1] * groups), "
                f"got {tuple(b.shape)}"
            )
    out_size = transpose_output_sizes(
        (h, wd), (kh, kw), stride, padding, output_padding, dilation, fname=fname
    )
    # the full canvas every stamp lands on, before cropping `padding` from each side
    canvas = [size + 2 * p for size, p in zip(out_size, padding, strict=True)]

    dtype = np.result_type(x.dtype, w.dtype)
    c_in_per_group = c_in // groups
    # one stamp per input pixel and group g: w_g.T @ x_g, (C_out/g*kH*kW, C_in/g) @ (C_in/g, H*W)
    w_g = w.astype(dtype, copy=False).reshape(groups, c_in_per_group, -1)
    x_g = x.astype(dtype, copy=False).reshape(n, groups, c_in_per_group, h * wd)
    stamps = np.empty((n, groups, w_g.shape[-1], h * wd), dtype=dtype)
    for g in range(groups):  # tensordot: one BLAS call for the whole batch
        stamps[:, g] = np.tensordot(w_g[g], x_g[:, g], axes=(0, 1)).transpose(1, 0, 2)
    patches = stamps.reshape(n, c_out, kh, kw, h, wd)
    full = scatter_add_windows(patches, canvas, stride, dilation)
    out = full[:, :, padding[0] : padding[0] + out_size[0], padding[1] : padding[1] + out_size[1]]
    if b is not None:
        out = out + b.astype(dtype, copy=False)[:, None, None]
    out = np.ascontiguousarray(out)
    return out[0] if unbatched else out
