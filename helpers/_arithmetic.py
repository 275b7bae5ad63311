"""The integer arithmetic of sliding windows, in one place: spans, output sizes, "same"
padding, and the error raised when a kernel does not fit.

Along one spatial axis of size ``n`` padded with ``before`` and ``after`` zeros, a kernel of
size ``k`` with dilation ``d`` spans ``d*(k-1) + 1`` positions and, moved ``s`` at a time,
fits ``floor((n + before + after - d*(k-1) - 1) / s) + 1`` times (``ceil`` with
``ceil_mode``, as in PyTorch's pooling). A transposed convolution inverts that map.

Every layer (:mod:`helpers.conv`, :mod:`helpers.im2col`, :mod:`helpers.pool`,
:mod:`helpers.affine`, :mod:`helpers.conv_transpose`) and every formula of
:mod:`helpers.shapes` uses these functions; they take plain ints (already validated) and
import neither NumPy nor PyTorch.

The error messages come in two vocabularies: a layer speaks of its tensors ("the padded
input along spatial axis 0"), a formula of :mod:`helpers.shapes` of its arguments
("n=3 with padding=0"); ``by_argument=True`` picks the second.
"""

from __future__ import annotations

from collections.abc import Sequence

Pads = tuple[int, int]
"""Zeros added (before, after) along one axis."""


def span(kernel: int, dilation: int = 1) -> int:
    """Input positions one window covers: ``dilation * (kernel - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def output_size(
    size: int, kernel: int, stride: int = 1, pads: Pads = (0, 0), dilation: int = 1,
    *, ceil_mode: bool = False,
) -> int:  # fmt: skip
    """Number of window positions along one axis; < 1 when the kernel does not fit.

    ``floor((size + before + after - span) / stride) + 1``; with ``ceil_mode`` the division
    rounds up, and a last window that would start in the right padding is dropped (PyTorch).
    """
    before, after = pads
    numerator = size + before + after - span(kernel, dilation)
    if ceil_mode:
        numerator += stride - 1
    out = numerator // stride + 1  # floor division rounds towards -inf, like PyTorch's div_rtn
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1
    return out


def output_sizes(
    sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Sequence[Pads],
    dilation: Sequence[int],
    *,
    fname: str,
    name: str = "input",
    ceil_mode: bool = False,
    by_argument: bool = False,
    axis_named: bool = True,
) -> list[int]:
    """:func:`output_size` on every axis; ``ValueError`` (:func:`kernel_does_not_fit`) if one
    would be empty. ``axis_named=False`` leaves the axis out of the message (a 1-D formula)."""
    out = []
    for axis, (n, k, s, p, d) in enumerate(zip(sizes, kernel, stride, pads, dilation, strict=True)):
        size = output_size(n, k, s, p, d, ceil_mode=ceil_mode)
        if size < 1:
            raise kernel_does_not_fit(
                fname, axis if axis_named else None, n, k, p, d, name=name, by_argument=by_argument
            )
        out.append(size)
    return out


def kernel_does_not_fit(
    fname: str, axis: int | None, size: int, kernel: int, pads: Pads, dilation: int,
    *, name: str = "input", by_argument: bool = False,
) -> ValueError:  # fmt: skip
    """The error for a window that does not fit in the padded input (returned, not raised)."""
    before, after = pads
    padded, reach = size + before + after, span(kernel, dilation)
    if by_argument:
        where = "" if axis is None else f" on axis {axis}"
        shown = before if before == after else pads
        return ValueError(
            f"{fname}: the output would be empty{where}: n={size} with padding={shown} gives a "
            f"padded input of {padded}, but kernel_size={kernel} with dilation={dilation} spans "
            f"dilation*(kernel_size-1)+1 = {reach} positions. Use a smaller kernel_size or "
            f"dilation, more padding, or a larger input."
        )
    zeros = f"2*{before}" if before == after else f"{before} + {after}"
    dilated = (
        f" with dilation {dilation} spans {reach} = dilation*(k-1)+1 positions"
        if dilation != 1
        else ""
    )
    smaller = " or dilation" if dilation != 1 else ""
    subject = "the input" if name == "input" else name
    return ValueError(
        f"{fname}: the kernel is larger than the padded {name} along spatial axis {axis}: "
        f"kernel size {kernel}{dilated}, but {subject} has {size} positions, {size} + {zeros} = "
        f"{padded} with the padding. Use a smaller kernel{smaller}, or more padding."
    )


def named_padding(
    padding: str, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
    *, fname: str, shown_stride=None, by_argument: bool = False,
) -> list[Pads]:  # fmt: skip
    """``padding="valid"`` (no zeros) or ``"same"`` as (before, after) pairs per axis.

    ``"same"`` pads ``dilation*(k-1)`` zeros per axis, the odd one at the end, exactly as
    PyTorch does, and needs stride 1 (``shown_stride``: how the error shows the stride;
    ``by_argument``: the vocabulary of the message, see the module docstring).
    """
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding != "same":
        raise ValueError(
            f"{fname}: padding must be an int, a tuple, 'valid' or 'same'; got {padding!r}"
        )
    if any(s != 1 for s in stride):
        shown = tuple(stride) if shown_stride is None else shown_stride
        raise ValueError(
            f"{fname}: padding='same' needs stride{'=' if by_argument else ' '}1 (as in "
            f"PyTorch), got stride={shown!r}"
        )
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return [(t // 2, t - t // 2) for t in totals]


def transpose_output_size(
    size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """Output size of a transposed convolution along one axis (may be < 1)::

    (size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1
    """
    return (size - 1) * stride - 2 * padding + span(kernel, dilation) + output_padding


def transpose_output_sizes(
    sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    output_padding: Sequence[int],
    dilation: Sequence[int],
    *,
    fname: str,
    by_argument: bool = False,
    axis_named: bool = True,
) -> list[int]:
    """:func:`transpose_output_size` on every axis, after PyTorch's rule
    ``output_padding < max(stride, dilation)``; ``ValueError`` for a bad output_padding or an
    empty output, in the vocabulary picked by ``by_argument`` (see the module docstring)."""
    out = []
    for axis, (n, k, s, p, op, d) in enumerate(
        zip(sizes, kernel, stride, padding, output_padding, dilation, strict=True)
    ):
        if by_argument:
            where = f" on axis {axis}" if axis_named else ""
        else:
            where = f" along spatial axis {axis}"
        if op >= max(s, d):
            raise ValueError(
                f"{fname}: output_padding must be smaller than the stride or the dilation "
                f"(as in PyTorch){where}, got output_padding={op}, stride={s}, dilation={d}"
            )
        size = transpose_output_size(n, k, s, p, op, d)
        if size >= 1:
            out.append(size)
        elif by_argument:
            raise ValueError(
                f"{fname}: the output would be empty{where}: n={n}, kernel_size={k}, "
                f"stride={s}, padding={p}, output_padding={op}, dilation={d} give "
                f"(n-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1 "
                f"= {size}. Use less padding."
            )
        else:
            raise ValueError(
                f"{fname}: the output would have {size} pixels{where}: "
                f"(H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1 = "
                f"{size} with input size {n}, stride {s}, padding {p}, dilation {d}, "
                f"kernel size {k}. Use less padding."
            )
    return out
