"""Output sizes of convolution and pooling layers, exactly as PyTorch computes them.

For one spatial axis of size ``n`` (a kernel of size ``k`` with dilation ``d`` spans
``d*(k-1) + 1`` input positions)::

    conv:            floor((n + 2p - d*(k-1) - 1) / s) + 1
    conv transpose:  (n - 1)*s - 2p + d*(k-1) + output_padding + 1
    pool:            like conv, with ceil instead of floor when ceil_mode=True, minus one
                     if the last window would start in the right padding

Every function takes an int ``n`` (one axis) or a tuple ``(H, W)`` / ``(D, H, W)``; with a
tuple, the other arguments may be an int (the same on every axis) or a tuple of the same
length, and the result is a tuple. An argument that is out of range, or an output that
would be empty, raises ``ValueError`` naming the arguments.

The receptive-field tools (``receptive_field``, ``receptive_field_table``,
``empirical_receptive_field``, ``field_gradient`` and their result types) live in
:mod:`helpers.receptive_field` and are re-exported here, imported on first use: the
formulas themselves load neither NumPy nor PyTorch. The arithmetic is shared with the
layers, in :mod:`helpers._arithmetic`.
"""

from __future__ import annotations

import numbers

from ._arithmetic import named_padding, output_sizes, transpose_output_sizes
from ._validate import as_int, as_tuple

# re-exported from helpers.receptive_field on first use, by __getattr__ below
_RECEPTIVE_FIELD_NAMES = ("LayerField", "ReceptiveField", "ReceptiveFieldTable")
_RECEPTIVE_FIELD_NAMES += ("empirical_receptive_field", "field_gradient")
_RECEPTIVE_FIELD_NAMES += ("receptive_field", "receptive_field_table")

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    *_RECEPTIVE_FIELD_NAMES,
]


def _axes(n, fname: str) -> tuple[tuple[int, ...], bool]:
    """Return the input sizes as a tuple, and whether ``n`` was a tuple."""
    if isinstance(n, (tuple, list)):
        if not n:
            raise ValueError(f"{fname}: n must be an int or a non-empty tuple of ints, got {n!r}")
        return as_tuple(n, "n", fname, len(n), minimum=1), True
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{fname}: n must be an int or a tuple of ints, got {n!r}")
    return (as_int(n, "n", fname, minimum=1),), False


def _per_axis(value, name: str, fname: str, length: int, minimum: int, is_tuple: bool):
    """``value`` as a tuple of ``length`` ints; a tuple is only allowed when n is a tuple."""
    if isinstance(value, (tuple, list)) and not is_tuple:
        if len(value) == 1:
            return as_tuple(value, name, fname, 1, minimum)
        raise ValueError(
            f"{fname}: n is an int (one axis), so {name} must be an int too, got {value!r}; "
            f"pass n as a tuple, e.g. n=(H, W), to give one {name} per axis"
        )
    return as_tuple(value, name, fname, length, minimum)


def _arguments(n, fname: str, **arguments):
    """The input sizes, whether ``n`` was a tuple, and each of ``arguments`` (checked in
    their order) as one int per axis: >= 0 for a padding, positive otherwise."""
    sizes, is_tuple = _axes(n, fname)
    per_axis = [
        _per_axis(value, name, fname, len(sizes), 0 if "padding" in name else 1, is_tuple)
        for name, value in arguments.items()
    ]
    return sizes, is_tuple, per_axis


def _result(values: list[int], is_tuple: bool):
    return tuple(values) if is_tuple else values[0]


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of ``nn.Conv{1,2,3}d`` along each spatial axis.

    Args:
        n: input size ``L``, or a tuple such as ``(H, W)``.
        kernel_size, stride, dilation: positive int, or a tuple like ``n``.
        padding: int >= 0 (zeros on both sides), a tuple, or ``"valid"`` / ``"same"``.

    Returns:
        ``floor((n + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``, an int (or a
        tuple when ``n`` is a tuple).

    Raises:
        ValueError: an argument out of range, ``"same"`` with a stride other than 1, or a
            dilated kernel larger than the padded input (an empty output).
    """
    fname = "conv_output_size"
    sizes, is_tuple, (kernel, stride, dilation) = _arguments(
        n, fname, kernel_size=kernel_size, stride=stride, dilation=dilation
    )
    if isinstance(padding, str):
        shown = _result(list(stride), is_tuple)
        pads = named_padding(
            padding, kernel, stride, dilation, fname=fname, shown_stride=shown, by_argument=True
        )
    else:
        pads = [(p, p) for p in _per_axis(padding, "padding", fname, len(sizes), 0, is_tuple)]
    return _formula_sizes(sizes, kernel, stride, pads, dilation, fname, is_tuple)


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Output size of ``nn.ConvTranspose{1,2,3}d`` along each spatial axis.

    Args:
        n: input size, or a tuple such as ``(H, W)``.
        kernel_size, stride, dilation: positive int, or a tuple like ``n``.
        padding: int >= 0, or a tuple: removed from both ends of the full output.
        output_padding: int >= 0, or a tuple: extra positions added at the end; PyTorch
            requires ``output_padding < max(stride, dilation)``.

    Returns:
        ``(n - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``,
        an int (or a tuple when ``n`` is a tuple). It is the input size of a
        ``conv_output_size`` call that gives back ``n``.

    Raises:
        ValueError: an argument out of range, or a non-positive output size.
    """
    fname = "conv_transpose_output_size"
    sizes, is_tuple, per_axis = _arguments(
        n, fname, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )  # fmt: skip
    out = transpose_output_sizes(
        sizes, *per_axis, fname=fname, by_argument=True, axis_named=is_tuple
    )
    return _result(out, is_tuple)


def pool_output_size(n, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output size of ``nn.MaxPool{1,2,3}d`` / ``nn.AvgPool{1,2,3}d`` along each axis.

    Args:
        n: input size, or a tuple such as ``(H, W)``.
        kernel_size: positive int, or a tuple like ``n``.
        stride: positive int or tuple; ``None`` (the default, as in PyTorch) means
            ``stride = kernel_size``.
        padding: int or tuple with ``0 <= padding <= kernel_size // 2`` (PyTorch's rule).
        dilation: positive int or tuple (``MaxPool`` only; ``AvgPool`` has dilation 1).
        ceil_mode: round the number of window steps up instead of down, so that a
            partial window at the end still gives an output; as in PyTorch, that last
            window must start inside the input or the left padding (else it is dropped).

    Returns:
        An int (or a tuple when ``n`` is a tuple).

    Raises:
        ValueError: an argument out of range, padding larger than half the kernel, or an
            empty output.
    """
    fname = "pool_output_size"
    sizes, is_tuple, (kernel, stride, padding, dilation) = _arguments(
        n, fname, kernel_size=kernel_size, stride=kernel_size if stride is None else stride,
        padding=padding, dilation=dilation,
    )  # fmt: skip
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{fname}: ceil_mode must be True or False, got {ceil_mode!r}")
    for axis, (k, p) in enumerate(zip(kernel, padding, strict=True)):
        if p > k // 2:
            where = f" on axis {axis}" if is_tuple else ""
            raise ValueError(
                f"{fname}: padding must be at most half the kernel size{where} (as in "
                f"PyTorch), got padding={p} for kernel_size={k}"
            )
    pads = [(p, p) for p in padding]
    return _formula_sizes(sizes, kernel, stride, pads, dilation, fname, is_tuple, ceil_mode)


def _formula_sizes(sizes, kernel, stride, pads, dilation, fname, is_tuple, ceil_mode=False):
    """The output sizes as the formulas return them (an int, or a tuple when n is one)."""
    out = output_sizes(
        sizes, kernel, stride, pads, dilation,
        fname=fname, ceil_mode=ceil_mode, by_argument=True, axis_named=is_tuple,
    )  # fmt: skip
    return _result(out, is_tuple)


def __getattr__(name: str):
    """Re-export the receptive-field tools of :mod:`helpers.receptive_field` on first use,
    so that the integer formulas above load without PyTorch and ``torch.fx``."""
    if name in _RECEPTIVE_FIELD_NAMES:
        from . import receptive_field

        value = getattr(receptive_field, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
