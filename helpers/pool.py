"""Pooling layers in NumPy, forward and backward, with exactly PyTorch's semantics.

Like ``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` (with ``ceil_mode=False``,
``dilation=1``), every channel of every image is pooled on its own::

    max: out[n, c, i, j] = max_{u, v}  x_pad[n, c, i*sH + u, j*sW + v]
    avg: out[n, c, i, j] = mean_{u, v} x_pad[n, c, i*sH + u, j*sW + v]

for ``0 <= u < kH``, ``0 <= v < kW``, with ``H_out = floor((H + 2*pH - kH) / sH) + 1`` (and
likewise for W): the same output size as a convolution. The stride defaults to the kernel
size, so that by default the windows tile the input without overlapping.

Padding follows PyTorch: at most half the kernel size on each side; ``-inf`` for max
pooling (a padded position never wins), zeros for average pooling, *and the zeros count*
in the average (PyTorch's default ``count_include_pad=True``: the divisor is always
``kH * kW``).

The implementation is vectorized: ``sliding_window_view`` gathers every window at once; the
backward passes scatter the gradient with ``np.bincount`` (max) or with col2im's one
slice-add per kernel offset (average, :func:`helpers._windows.scatter_add_windows`). There
is no Python loop over output pixels.
"""

from __future__ import annotations

import numpy as np

from ._arithmetic import output_sizes
from ._validate import as_float_array, as_tuple, check_ndim
from ._windows import gather_windows, scatter_add_windows

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "max_pool2d",
    "max_pool2d_backward",
]

_LAYOUTS = {4: "(N, C, H, W)", 3: "(C, H, W)"}


def max_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """2-D max pooling, like ``torch.nn.functional.max_pool2d``.

    Args:
        x: input, shape ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size, an int or a pair ``(kH, kW)``.
        stride: an int or a pair; ``None`` (the default) means ``stride = kernel_size``
            (non-overlapping windows).
        padding: an int or a pair, at most half the kernel size (``p <= k // 2``);
            the padded positions hold ``-inf``, so they never win.

    Returns:
        ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``), with
        ``H_out = floor((H + 2*pH - kH) / sH) + 1`` and likewise for W. A window that
        contains a NaN gives NaN, as in PyTorch.
    """
    x, unbatched, geometry = _prepare(x, kernel_size, stride, padding, "max_pool2d")
    kernel, step, pad, _ = geometry
    windows = _windows(x, kernel, step, pad, fill=-np.inf)  # (N, C, H_out, W_out, kH, kW)
    out = np.ascontiguousarray(windows.max(axis=(-2, -1)))
    return out[0] if unbatched else out


def max_pool2d_backward(dout, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to ``x``.

    Each output routes its upstream gradient to the input position that won its window
    (every other position of the window gets nothing); overlapping windows add up.
    Ties go where PyTorch sends them: to the *first* maximum of the window in row-major
    order (a window containing NaN sends it to its last NaN, also like PyTorch).

    Args:
        dout: upstream gradient, the shape of ``max_pool2d(x, ...)``:
            ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``).
        x: the input of the forward pass, ``(N, C, H, W)`` (or ``(C, H, W)``).
        kernel_size, stride, padding: as in :func:`max_pool2d`.

    Returns:
        ``dx``, the shape of ``x``.
    """
    fname = "max_pool2d_backward"
    x, unbatched, geometry = _prepare(x, kernel_size, stride, padding, fname)
    kernel, step, pad, out_size = geometry
    dout = _check_dout(dout, x, out_size, unbatched, fname)
    n, c, h, w = x.shape
    windows = _windows(x, kernel, step, pad, fill=-np.inf)
    winner = _argmax_in_window(windows, kernel, step, pad, (h, w))  # (N, C, H_out, W_out)
    # window index -> (row, column) of the input, then a flat index into dx
    rows = np.arange(out_size[0])[:, None] * step[0] - pad[0] + winner // kernel[1]
    cols = np.arange(out_size[1])[None, :] * step[1] - pad[1] + winner % kernel[1]
    planes = np.arange(n * c).reshape(n, c, 1, 1)
    flat = (planes * h + rows) * w + cols
    dx = np.bincount(flat.ravel(), weights=dout.ravel(), minlength=n * c * h * w)
    dx = dx.reshape(x.shape).astype(np.result_type(x.dtype, dout.dtype), copy=False)
    return dx[0] if unbatched else dx


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """2-D average pooling, like ``torch.nn.functional.avg_pool2d`` (its defaults).

    Args:
        x: input, shape ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size: window size, an int or a pair ``(kH, kW)``.
        stride: an int or a pair; ``None`` (the default) means ``stride = kernel_size``.
        padding: an int or a pair, at most half the kernel size. The padded positions
            are zeros and **count** in the average (PyTorch's ``count_include_pad=True``):
            every output is the window's sum divided by ``kH * kW``, so outputs near a
            padded border are pulled towards 0.

    Returns:
        ``(N, C, H_out, W_out)`` (or ``(C, H_out, W_out)``), sizes as in :func:`max_pool2d`.
    """
    x, unbatched, geometry = _prepare(x, kernel_size, stride, padding, "avg_pool2d")
    kernel, step, pad, _ = geometry
    windows = _windows(x, kernel, step, pad, fill=0.0)
    out = np.ascontiguousarray(windows.mean(axis=(-2, -1)))
    return out[0] if unbatched else out


def avg_pool2d_backward(dout, x, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Gradient of :func:`avg_pool2d` with respect to ``x``.

    Each output spreads its upstream gradient evenly, ``dout / (kH * kW)``, over its
    window (the share of padded positions is dropped); overlapping windows add up.

    Args:
        dout: upstream gradient, the shape of ``avg_pool2d(x, ...)``.
        x: the input of the forward pass, ``(N, C, H, W)`` (or ``(C, H, W)``); only its
            shape is used.
        kernel_size, stride, padding: as in :func:`avg_pool2d`.

    Returns:
        ``dx``, the shape of ``x``.
    """
    fname = "avg_pool2d_backward"
    x, unbatched, geometry = _prepare(x, kernel_size, stride, padding, fname)
    (kh, kw), (sh, sw), (ph, pw), (h_out, w_out) = geometry
    dout = _check_dout(dout, x, (h_out, w_out), unbatched, fname)
    n, c, h, w = x.shape
    dtype = np.result_type(x.dtype, dout.dtype)
    share = (dout / (kh * kw)).astype(dtype, copy=False)
    patches = np.broadcast_to(share[:, :, None, None], (n, c, kh, kw, h_out, w_out))
    dx_pad = scatter_add_windows(patches, (h + 2 * ph, w + 2 * pw), (sh, sw), (1, 1))
    dx = np.ascontiguousarray(dx_pad[:, :, ph : ph + h, pw : pw + w])
    return dx[0] if unbatched else dx


def global_avg_pool2d(x) -> np.ndarray:
    """Global average pooling: the mean of each channel over all positions.

    Equals ``torch.nn.functional.adaptive_avg_pool2d(x, 1)`` (and ``nn.AdaptiveAvgPool2d(1)``),
    which keeps the spatial axes with size 1; ``out.reshape(N, C)`` gives the feature
    vectors that a classifier head takes.

    Args:
        x: input, shape ``(N, C, H, W)`` or unbatched ``(C, H, W)``.

    Returns:
        ``(N, C, 1, 1)`` (or ``(C, 1, 1)``).
    """
    fname = "global_avg_pool2d"
    x = as_float_array(x, "x", fname)
    check_ndim(x, "x", fname, _LAYOUTS)
    _check_not_empty(x, fname)
    return x.mean(axis=(-2, -1), keepdims=True)


# --------------------------------------------------------------------------- internals


def _prepare(x, kernel_size, stride, padding, fname):
    """Validate the arguments; return the batched input, whether it was unbatched, and
    ``(kernel, stride, padding, out_size)`` as pairs."""
    x = as_float_array(x, "x", fname)
    check_ndim(x, "x", fname, _LAYOUTS)
    _check_not_empty(x, fname)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    kernel = as_tuple(kernel_size, "kernel_size", fname, 2, minimum=1)
    step = kernel if stride is None else as_tuple(stride, "stride", fname, 2, minimum=1)
    pad = as_tuple(padding, "padding", fname, 2, minimum=0)
    for p, k in zip(pad, kernel, strict=True):
        if p > k // 2:
            raise ValueError(
                f"{fname}: padding must be at most half the kernel size on each side "
                f"(padding <= kernel_size // 2, as in PyTorch); got padding={padding!r} "
                f"with kernel_size={kernel_size!r}"
            )
    out_size = output_sizes(x.shape[2:], kernel, step, [(p, p) for p in pad], (1, 1), fname=fname)
    return x, unbatched, (kernel, step, pad, tuple(out_size))


def _check_not_empty(x: np.ndarray, fname: str) -> None:
    """Like PyTorch, allow an empty batch but not empty channels or images."""
    if 0 in x.shape[-3:]:
        raise ValueError(
            f"{fname}: x must have at least one channel and one pixel, got shape {tuple(x.shape)}"
        )


def _check_dout(dout, x, out_size, unbatched, fname) -> np.ndarray:
    dout = as_float_array(dout, "dout", fname)
    expected = x.shape[:2] + tuple(out_size)
    if unbatched:
        expected = expected[1:]
    if dout.shape != expected:
        layout = "(C, H_out, W_out)" if unbatched else "(N, C, H_out, W_out)"
        raise ValueError(
            f"{fname}: dout must have the shape of the forward output, {layout} = "
            f"{expected}; got {tuple(dout.shape)}"
        )
    return dout[None] if unbatched else dout


def _windows(x, kernel, step, pad, fill) -> np.ndarray:
    """Every pooling window of the padded ``x``: a view ``(N, C, H_out, W_out, kH, kW)``."""
    (ph, pw) = pad
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    return gather_windows(x_pad, kernel, step, (1, 1))


def _argmax_in_window(windows, kernel, step, pad, size) -> np.ndarray:
    """Index ``u * kW + v`` of the element of each window that PyTorch's max pooling picks.

    The first maximum in row-major order among the *real* (unpadded) positions, so that
    a window of ``-inf`` values picks its first real position, not the padding; if the
    window contains NaN, its last NaN. Returns ``(N, C, H_out, W_out)`` ints.
    """
    n, c, h_out, w_out, kh, kw = windows.shape
    flat = windows.reshape(n, c, h_out, w_out, kh * kw)
    real = []  # which kernel offsets fall inside the unpadded input, per output position
    for axis in range(2):
        count = (h_out, w_out)[axis]
        offsets = np.arange(count)[:, None] * step[axis] + np.arange(kernel[axis]) - pad[axis]
        real.append((offsets >= 0) & (offsets < size[axis]))
    real = (real[0][:, None, :, None] & real[1][None, :, None, :]).reshape(h_out, w_out, -1)
    best = flat.max(axis=-1, keepdims=True)
    winner = ((flat == best) & real).argmax(axis=-1)
    nan = np.isnan(flat)
    if nan.any():
        last_nan = kh * kw - 1 - nan[..., ::-1].argmax(axis=-1)
        winner = np.where(nan.any(axis=-1), last_nan, winner)
    return winner
