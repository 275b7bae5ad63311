"""What the convolution forward (:mod:`helpers.conv`) and backward (:mod:`helpers.conv_backward`)
passes share: checking their arguments, and gathering the input's windows as im2col columns."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._arithmetic import named_padding, output_size, output_sizes, span
from ._validate import as_float_array, as_int, as_tuple, check_ndim
from ._windows import gather_windows

LAYOUTS = {
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
"""Per number of spatial axes: the layouts of x (batched, unbatched), of w and of the output."""


@dataclass(frozen=True)
class ConvArguments:
    """The checked arguments of a convolution with ``nd`` spatial axes.

    ``x: (N, C_in, *in_size)`` (a batch axis added if the caller's x had none, see
    ``unbatched``); ``w: (C_out, C_in / groups, *kernel)``; ``pads``: (before, after) zeros
    per spatial axis; ``effective``: the span ``dilation * (k - 1) + 1`` of the kernel.
    """

    x: np.ndarray
    w: np.ndarray
    unbatched: bool
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    pads: list[tuple[int, int]]

    @property
    def nd(self) -> int:
        return self.w.ndim - 2

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(self.w.shape[2:])

    @property
    def effective(self) -> list[int]:
        return [span(k, d) for k, d in zip(self.kernel, self.dilation, strict=True)]

    @property
    def out_size(self) -> list[int]:
        return [
            output_size(n, k, s, p, d)
            for n, k, s, p, d in zip(
                self.x.shape[2:], self.kernel, self.stride, self.pads, self.dilation, strict=True
            )
        ]


def conv_arguments(x, w, stride, padding, dilation, groups, *, nd: int, fname: str):
    """Check the arguments of ``fname`` and return them as :class:`ConvArguments`.

    Raises ValueError/TypeError naming the argument: wrong number of axes, channels that do
    not match the weight and groups, a kernel larger than the padded input, bad hyperparameters.
    """
    batched_layout, single_layout, weight_layout, _ = LAYOUTS[nd]
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

    c_in, in_size = x.shape[1], x.shape[2:]
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

    pads = padding_amounts(padding, kernel, stride, dilation, fname)
    output_sizes(in_size, kernel, stride, pads, dilation, fname=fname)  # does the kernel fit?
    return ConvArguments(x, w, unbatched, stride, dilation, groups, pads)


def padding_amounts(padding, kernel, stride, dilation, fname) -> list[tuple[int, int]]:
    """Turn ``padding`` (int, tuple, ``"valid"`` or ``"same"``) into (before, after) pairs.

    ``"same"`` pads ``dilation*(k-1)`` zeros in total, the odd one at the end, exactly as
    PyTorch does (:func:`helpers._arithmetic.named_padding`).
    """
    if isinstance(padding, str):
        return named_padding(padding, kernel, stride, dilation, fname=fname)
    return [(p, p) for p in as_tuple(padding, "padding", fname, len(kernel), minimum=0)]


def window_columns(x_pad: np.ndarray, args: ConvArguments) -> np.ndarray:
    """The im2col matrix of the padded input, one matrix per group.

    ``x_pad: (N, C_in, *padded_size)`` -> ``(groups, C_in/groups * prod(kernel), N *
    prod(out_size))``: one row per (channel, kernel offset), one column per (n, output
    position). This order makes the single copy read x along its last axis, and gives one
    large matrix product per group (about twice as fast as one row per output position).
    """
    nd, kernel, out_size = args.nd, args.kernel, args.out_size
    n, c_in = x_pad.shape[:2]
    c_per_group = c_in // args.groups
    windows = gather_windows(x_pad, kernel, args.stride, args.dilation)  # (N, C, *out, *k)
    windows = windows.reshape(n, args.groups, c_per_group, *out_size, *kernel)
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    return windows.transpose(order).reshape(
        args.groups, c_per_group * math.prod(kernel), n * math.prod(out_size)
    )
