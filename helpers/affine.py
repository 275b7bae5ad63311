"""A convolution layer written as one (sparse, structured) matrix: the affine view of notebook 07.

A convolution is linear in its input, so for a fixed kernel there is a matrix ``M`` with::

    conv2d(x[None], w, stride=S, padding=P, dilation=D).ravel() == M @ x.ravel()

for every ``x: (C, H, W)`` (bias left out; with it the layer is the affine map
``M @ x + b``). Row ``(o, i, j)`` of ``M`` (output channel ``o``, position ``(i, j)``)
holds the weights ``w[o, c, u, v]`` in the columns of the input pixels
``(c, i*S + u*D - P, j*S + v*D - P)`` and zeros elsewhere. For one channel and stride 1
this is a *doubly blocked Toeplitz* matrix; its transpose ``M.T`` is the transposed
convolution (:func:`helpers.conv.conv_transpose2d`) and the backward pass of the layer.

``M`` has ``C_out*H_out*W_out x C*H*W`` entries, almost all zero: it is a tool for
understanding, not for computing (use :func:`helpers.im2col.im2col` for that).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._arithmetic import output_sizes
from ._validate import as_float_array, as_tuple, check_ndim

__all__ = ["conv_matrix"]


def conv_matrix(w, input_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The dense matrix ``M`` of ``conv2d(., w, stride, padding, dilation)`` on ``(C, H, W)``.

    Args:
        w: filters, shape ``(C_out, C, kH, kW)`` (no groups).
        input_size: ``(H, W)``, an int for a square input, or the full ``(C, H, W)``
            (then ``C`` must equal ``w.shape[1]``).
        stride, dilation: positive int or pair.
        padding: int or pair >= 0 (zeros on both sides: they only *remove* entries of
            ``M``, because a zero input contributes nothing).

    Returns:
        ``M: (C_out*H_out*W_out, C*H*W)``, dtype of ``w``, with
        ``M @ x.ravel() == conv2d(x[None], w, stride=stride, padding=padding,
        dilation=dilation).ravel()`` for every ``x: (C, H, W)``; rows and columns follow
        NumPy's row-major ``ravel`` order, ``(o, i, j)`` and ``(c, r, q)``.
    """
    fname = "conv_matrix"
    w = as_float_array(w, "w", fname)
    check_ndim(w, "w", fname, {4: "(C_out, C, kH, kW)"})
    c_out, c, kh, kw = w.shape
    h, wd = _input_size(input_size, c, fname)
    stride = as_tuple(stride, "stride", fname, 2, minimum=1)
    padding = as_tuple(padding, "padding", fname, 2, minimum=0)
    dilation = as_tuple(dilation, "dilation", fname, 2, minimum=1)
    pads = [(p, p) for p in padding]
    oh, ow = output_sizes((h, wd), (kh, kw), stride, pads, dilation, fname=fname)

    # one index array per axis of (C_out, C, kH, kW, H_out, W_out): every (weight, position)
    o, ch, u, v, i, j = np.ogrid[:c_out, :c, :kh, :kw, :oh, :ow]
    r = i * stride[0] + u * dilation[0] - padding[0]  # input row under weight (u, v)
    q = j * stride[1] + v * dilation[1] - padding[1]  # input column
    shape = (c_out, c, kh, kw, oh, ow)
    inside = np.broadcast_to((r >= 0) & (r < h) & (q >= 0) & (q < wd), shape)
    rows = np.broadcast_to((o * oh + i) * ow + j, shape)
    cols = np.broadcast_to((ch * h + r) * wd + q, shape)
    values = np.broadcast_to(w[:, :, :, :, None, None], shape)
    m = np.zeros((c_out * oh * ow, c * h * wd), dtype=w.dtype)
    # each (row, column) pair occurs once: input row r fixes u, column q fixes v
    m[rows[inside], cols[inside]] = values[inside]
    return m


def _input_size(input_size, c: int, fname: str) -> tuple[int, int]:
    if isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool):
        input_size = (input_size, input_size)
    if not isinstance(input_size, (tuple, list)) or len(input_size) not in (2, 3):
        raise TypeError(
            f"{fname}: input_size must be an int, (H, W) or (C, H, W), got {input_size!r}"
        )
    size = as_tuple(tuple(input_size), "input_size", fname, len(input_size), minimum=1)
    if len(size) == 3 and size[0] != c:
        raise ValueError(
            f"{fname}: input_size {size} has C={size[0]} channels, but w has "
            f"w.shape[1] = {c}; w must have shape (C_out, C, kH, kW)"
        )
    return size[-2], size[-1]
