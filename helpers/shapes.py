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
:mod:`helpers.receptive_field` and are re-exported here.
"""

from __future__ import annotations

import numbers

from ._validate import as_int, as_tuple

__all__ = [
    "LayerField",
    "ReceptiveField",
    "ReceptiveFieldTable",
    "conv_output_size",
    "conv_transpose_output_size",
    "empirical_receptive_field",
    "field_gradient",
    "pool_output_size",
    "receptive_field",
    "receptive_field_table",
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
    sizes, is_tuple = _axes(n, fname)
    nd = len(sizes)
    kernel = _per_axis(kernel_size, "kernel_size", fname, nd, 1, is_tuple)
    stride = _per_axis(stride, "stride", fname, nd, 1, is_tuple)
    dilation = _per_axis(dilation, "dilation", fname, nd, 1, is_tuple)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{fname}: padding='same' needs stride=1 (as in PyTorch), got "
                    f"stride={_result(list(stride), is_tuple)!r}"
                )
            return _result(list(sizes), is_tuple)
        else:
            raise ValueError(
                f"{fname}: padding must be an int, a tuple, 'valid' or 'same'; got {padding!r}"
            )
    padding = _per_axis(padding, "padding", fname, nd, 0, is_tuple)
    out = []
    for axis, (size, k, s, p, d) in enumerate(
        zip(sizes, kernel, stride, padding, dilation, strict=True)
    ):
        span = d * (k - 1) + 1
        if size + 2 * p < span:
            where = f" on axis {axis}" if is_tuple else ""
            raise ValueError(
                f"{fname}: the output would be empty{where}: n={size} with padding={p} gives "
                f"a padded input of {size + 2 * p}, but kernel_size={k} with dilation={d} spans "
                f"dilation*(kernel_size-1)+1 = {span} positions. Use a smaller kernel_size or "
                f"dilation, more padding, or a larger input."
            )
        out.append((size + 2 * p - span) // s + 1)
    return _result(out, is_tuple)


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
    sizes, is_tuple = _axes(n, fname)
    nd = len(sizes)
    kernel = _per_axis(kernel_size, "kernel_size", fname, nd, 1, is_tuple)
    stride = _per_axis(stride, "stride", fname, nd, 1, is_tuple)
    padding = _per_axis(padding, "padding", fname, nd, 0, is_tuple)
    output_padding = _per_axis(output_padding, "output_padding", fname, nd, 0, is_tuple)
    dilation = _per_axis(dilation, "dilation", fname, nd, 1, is_tuple)
    out = []
    for axis, (size, k, s, p, op, d) in enumerate(
        zip(sizes, kernel, stride, padding, output_padding, dilation, strict=True)
    ):
        where = f" on axis {axis}" if is_tuple else ""
        if op >= max(s, d):
            raise ValueError(
                f"{fname}: output_padding must be smaller than stride or dilation{where}, got "
                f"output_padding={op}, stride={s}, dilation={d}"
            )
        size_out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if size_out < 1:
            raise ValueError(
                f"{fname}: the output would be empty{where}: n={size}, kernel_size={k}, "
                f"stride={s}, padding={p}, output_padding={op}, dilation={d} give "
                f"(n-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1 "
                f"= {size_out}. Use less padding."
            )
        out.append(size_out)
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
    sizes, is_tuple = _axes(n, fname)
    nd = len(sizes)
    kernel = _per_axis(kernel_size, "kernel_size", fname, nd, 1, is_tuple)
    stride = kernel if stride is None else _per_axis(stride, "stride", fname, nd, 1, is_tuple)
    padding = _per_axis(padding, "padding", fname, nd, 0, is_tuple)
    dilation = _per_axis(dilation, "dilation", fname, nd, 1, is_tuple)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{fname}: ceil_mode must be True or False, got {ceil_mode!r}")
    out = []
    for axis, (size, k, s, p, d) in enumerate(
        zip(sizes, kernel, stride, padding, dilation, strict=True)
    ):
        where = f" on axis {axis}" if is_tuple else ""
        if p > k // 2:
            raise ValueError(
                f"{fname}: padding must be at most half the kernel size{where} (as in "
                f"PyTorch), got padding={p} for kernel_size={k}"
            )
        span = d * (k - 1) + 1
        numerator = size + 2 * p - span + (s - 1 if ceil_mode else 0)
        size_out = numerator // s + 1  # floor division rounds towards -inf, like div_rtn
        if ceil_mode and (size_out - 1) * s >= size + p:
            size_out -= 1  # the last window would start in the right padding
        if size_out < 1:
            raise ValueError(
                f"{fname}: the output would be empty{where}: n={size} with padding={p} gives "
                f"a padded input of {size + 2 * p}, but kernel_size={k} with dilation={d} spans "
                f"{span} positions. Use a smaller kernel_size, or a larger input."
            )
        out.append(size_out)
    return _result(out, is_tuple)


from .receptive_field import (  # noqa: E402  (re-exported; that module does not import this one)
    LayerField,
    ReceptiveField,
    ReceptiveFieldTable,
    empirical_receptive_field,
    field_gradient,
    receptive_field,
    receptive_field_table,
)
