"""Checker for notebook 01, Exercise 1.6: the shapes of a stack of convolutions.

The reference is PyTorch itself: each case builds the ``nn.Conv2d`` layers and reads their
weight shapes and output shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from .answers import whole_shape
from .core import Mismatch, answer, case_count, checker, numbered_cases

__all__ = ["stack_shapes"]

# (input_shape (C, H, W), [(number of filters, kernel size), ...]); case 1 is seed 000's stack
_CASES = [
    ((3, 32, 32), [(6, 5), (10, 3)]),
    ((1, 28, 28), [(20, 5), (50, 5)]),
    ((3, 40, 24), [(16, 3), (32, 3), (8, 1)]),
    ((8, 10, 12), [(4, 7)]),
    ((2, 9, 9), [(5, 3), (5, 3), (7, 3), (3, 3)]),
]
_HIDDEN = [  # grading mode only (helpers.check.grading)
    ((4, 7, 12), [(6, 7), (2, 1)]),  # a kernel as tall as the image: H' = 1
    ((1, 6, 5), [(2, 2), (3, 2), (1, 2), (4, 2)]),  # even kernels, down to 2 x 1
    ((16, 13, 11), [(1, 5), (9, 3)]),  # one filter, then more
]

# Building the layers (nn.Conv2d) and reading their shapes is the check's own reference.
_LAYERS = ("torch.nn.Conv2d",)


def _reference(input_shape, filters) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(weight shape, output shape) of every layer, read off nn.Conv2d."""
    x = torch.zeros(1, *input_shape)
    result = []
    with torch.no_grad():
        for count, k in filters:
            layer = nn.Conv2d(x.shape[1], count, k)
            x = layer(x)
            result.append((tuple(layer.weight.shape), tuple(x.shape[1:])))
    return result


def _shape(value, *, case: str, name: str, length: int) -> tuple[int, ...]:
    """A returned shape (tuple, list, torch.Size, array or tensor) as a tuple of ints."""
    shape = whole_shape(value, case=case, name=name)
    if len(shape) != length:
        raise Mismatch(f"{case}:\n{name} is {value!r}; expected a shape of {length} numbers.")
    return shape


def _hint(got_weight, got_out, weight, out, c_prev, image_channels, layer) -> str:
    """The likeliest reason why one layer's shapes differ from PyTorch's."""
    count, k = weight[0], weight[2]
    if got_weight != weight:
        if got_weight == (weight[1], weight[0], k, k):
            return (
                "nn.Conv2d stores the weights as (C_out, C_in, kH, kW): the number of "
                "filters comes first, the channels each filter spans second."
            )
        if layer > 0 and got_weight[1] == image_channels and c_prev != image_channels:
            return (
                "a filter spans all the channels of *its* input. After the first layer the "
                "input is the previous layer's output, which has one channel per filter of "
                f"that layer ({c_prev} here), not the image's {image_channels}."
            )
        if got_weight[0] != count:
            return "the first axis of the weights is the number of filters of this layer."
        return "each filter is C_in x k x k, with C_in the channels of this layer's input."
    if got_out[0] != count:
        return "the output has one channel (one activation map) per filter."
    if got_out[1:] == out[2:0:-1] and out[1] != out[2]:
        return "height and width are swapped."
    if got_out[1:] == (out[1] - 1, out[2] - 1):
        return "off by one: a k x k kernel fits at H - k + 1 positions (and W - k + 1)."
    if got_out[1:] == (out[1] + k - 1, out[2] + k - 1):
        return "these convolutions are valid (no padding): each one shrinks H and W by k - 1."
    return "a valid convolution with a k x k kernel and stride 1 gives H - k + 1 by W - k + 1."


@checker("1.6", "stack_shapes", forbid=_LAYERS)
def stack_shapes(student_fn) -> str:
    """Check ``student_fn(input_shape, filters) -> [(weight_shape, output_shape), ...]``."""
    for heading, (shape, filters) in numbered_cases(_CASES, hidden=_HIDDEN):
        label = f"{heading}: input_shape={shape}, filters={filters}"
        got = answer(student_fn, shape, [tuple(f) for f in filters], case=label)
        expected = _reference(shape, filters)
        try:
            pairs = list(got)
        except TypeError as error:
            raise Mismatch(
                f"{label}:\nexpected a list of (weight_shape, output_shape) pairs, got {got!r}."
            ) from error
        if len(pairs) != len(expected):
            raise Mismatch(
                f"{label}:\nyou returned {len(pairs)} item(s), expected {len(expected)}: one "
                "(weight_shape, output_shape) pair per layer, the input not included."
            )
        c_prev = shape[0]
        for layer, (pair, (weight, out)) in enumerate(zip(pairs, expected, strict=True)):
            where = f"{label}, layer {layer}"
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise Mismatch(
                    f"{where}:\nexpected a pair (weight_shape, output_shape), got {pair!r}."
                )
            got_weight = _shape(pair[0], case=where, name="the weight shape", length=4)
            got_out = _shape(pair[1], case=where, name="the output shape", length=3)
            if (got_weight, got_out) != (weight, out):
                hint = _hint(got_weight, got_out, weight, out, c_prev, shape[0], layer)
                raise Mismatch(
                    f"{where}:\ngot weights {got_weight} and output {got_out}, "
                    f"expected weights {weight} and output {out}.\nHint: {hint}"
                )
            c_prev = out[0]
    return f"{case_count(_CASES, _HIDDEN)} stacks match the weight and output shapes of nn.Conv2d."
