"""Checkers for notebook 02 (padding, stride, dilation; counting parameters and MACs).

Every reference value comes from PyTorch: output sizes from running
``torch.nn.functional`` convolutions on a one-channel zero input, parameters from
``nn.Conv2d``, parameters and MACs from :mod:`helpers.costs` (output elements times
``(C_in / groups) * k * k``; ``tests/test_costs.py`` checks that convention against
``torch.utils.flop_counter.FlopCounterMode``). Each checker calls the student's
function before building its references, so an exercise that is not attempted yet costs
nothing.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from ..costs import count_params, model_costs
from .answers import as_items, plain_number, whole_number, whole_pair, whole_shape
from .core import Mismatch, answer, call, case_count, checker, forgot_return, numbered_cases
from .grading import COST_COUNTERS

__all__ = [
    "CLAIMS",
    "PADDING_IMAGE",
    "bottleneck_costs",
    "conv2d_cost",
    "conv_output_size",
    "predict_shapes",
    "same_padding",
    "spot_the_mistakes",
]


# ---------------------------------------------------------------- references (PyTorch)


def _torch_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of ``F.conv1d`` on an input of length ``n`` (one channel, zeros)."""
    out = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    return int(out.shape[-1])


def _conv(c_in, c_out, k, s=1, p=0, d=1, groups=1, bias=True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, s, p, d, groups=groups, bias=bias)


# ------------------------------------------------ forbidden in grading mode (helpers.check.grading)

# 2.1 implements the formula: the course's functions and running a convolution on zeros (the
# check's own reference) give the size without it.
_SIZE = (
    "helpers.shapes.conv_output_size",
    "helpers.shapes.pool_output_size",
    "torch.nn.functional.conv1d",
    "torch.nn.functional.conv2d",
)
# 2.3 predicts the shapes "without running any layer" (shapes.conv_output_size is allowed).
_RUN = ("torch.nn.Conv2d", "torch.nn.functional.conv2d", "helpers.conv.conv2d")
# 2.4 and 2.5 use the formulas: building the layers and counting with the course's tools is
# the check's own reference (shapes.conv_output_size is allowed).
_COUNT = ("torch.nn.Conv2d", *COST_COUNTERS)


# ------------------------------------------------------------------------ 2.1


def _size(n, k, s, p, d, *, ceil=False) -> int:
    top = n + 2 * p - d * (k - 1) - 1
    return (-(-top // s) if ceil else top // s) + 1


_SIZE_MISTAKES = [
    (
        lambda n, k, s, p, d: _size(n, k, s, p, d, ceil=True),
        "you rounded up. PyTorch rounds down: a window that would stick out past the "
        "padded input is dropped, so use floor division //.",
    ),
    (
        lambda n, k, s, p, d: _size(n, k, s, p, 1),
        "the dilation is missing. A kernel of size k with dilation d spans d*(k-1) + 1 "
        "input positions.",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1,
        "a kernel of size k with dilation d spans d*(k-1) + 1 input positions, not d*k.",
    ),
    (
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
        "padding p adds p zeros on *both* sides: the padded length is n + 2p.",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
        "off by one: the first window counts too, so add 1 after dividing by the stride.",
    ),
    (
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1 + 1) // s,
        "divide (n + 2p - d(k-1) - 1) by the stride first, round down, then add 1.",
    ),
]


@checker("2.1", "conv_output_size", forbid=_SIZE)
def conv_output_size(student_fn) -> str:
    """Check ``student_fn(n, kernel_size, stride=1, padding=0, dilation=1) -> int``."""
    cases = [
        (5, 3),  # defaults: valid convolution
        (5, 3, 1, 1, 1),  # same padding
        (5, 3, 2, 1, 1),  # stride 2 with padding: 3, not 2
        (5, 3, 2, 0, 1),  # the NNDL stride example: 2
        (32, 5, 1, 2, 1),  # 3x32x32 with 5x5 filters, pad 2
        (8, 3, 2, 0, 1),  # floor: the last column is never used
        (7, 3, 3, 2, 1),
        (10, 3, 1, 0, 2),  # dilation 2
        (9, 3, 2, 3, 3),  # stride, padding and dilation together
        (224, 11, 4, 2, 1),  # AlexNet's first layer: 55
        (224, 7, 2, 3, 1),  # ResNet's first layer: 112
        (6, 4, 1, 3, 1),  # full padding k - 1: n + k - 1
        (1, 1, 1, 0, 1),
        (12, 5, 5, 0, 1),
    ]
    hidden = [
        (11, 11),  # a kernel as large as the input: 1
        (13, 4, 3, 1, 2),  # an even kernel, dilated and strided: 3
        (15, 5, 4, 5, 3),  # padding larger than the kernel: 4
    ]
    for heading, args in numbered_cases(cases, hidden=hidden):
        n, k, s, p, d = (*args, 1, 0, 1)[:5] if len(args) == 2 else args
        names = ["n", "kernel_size", "stride", "padding", "dilation"]
        shown = ", ".join(f"{name}={v}" for name, v in zip(names, args, strict=False))
        label = f"{heading}: conv_output_size({shown})"
        got = whole_number(call(student_fn, *args, case=label), case=label)
        expected = _torch_size(n, k, s, p, d)
        if got == expected:
            continue
        message = f"{label}:\ngot {got}, expected {expected} (the size nn.Conv1d/nn.Conv2d gives)."
        for mistake, hint in _SIZE_MISTAKES:
            if mistake(n, k, s, p, d) == got:
                message += f"\nHint: {hint}"
                break
        else:
            message += (
                "\nHint: floor((n + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1."
            )
        raise Mismatch(message)
    return (
        f"{case_count(cases, hidden)} cases match the output sizes of torch.nn.functional.conv1d."
    )


# ------------------------------------------------------------------------ 2.2


def _impossible(got, label: str, k: int, d: int, span: int) -> None:
    """Explain an answer other than None for a case that no symmetric padding solves."""
    value = plain_number(got)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        if value != int(value):
            raise Mismatch(
                f"{label}:\ngot {got!r}. No whole number of zeros works here: the kernel "
                f"spans d*(k-1) + 1 = {span} positions, so 'same' needs d*(k-1) = "
                f"{d * (k - 1)} zeros in total, an odd number, which cannot be split evenly "
                "between the two sides. Return None. (PyTorch's padding='same' then puts "
                "the extra zero at the end.)"
            )
        p = int(value)
        if p >= 0:
            out = 16 + 2 * p - span + 1  # as F.conv1d gives (no tensor of a huge padding)
            raise Mismatch(
                f"{label}:\ngot {p}, but with padding {p} an input of 16 gives an output of "
                f"{out}, not 16. d*(k-1) = {d * (k - 1)} is odd, so no symmetric padding keeps "
                "the size: return None."
            )
    raise Mismatch(
        f"{label}:\ngot {got!r}. d*(k-1) = {d * (k - 1)} is odd, so no symmetric padding "
        "keeps the size: impossible cases return None itself, not a marker value such as "
        "-1, NaN, False or 0."
    )


# No library function returns the padding that keeps the size (trying paddings with
# shapes.conv_output_size is a right answer): nothing is forbidden.
@checker("2.2", "same_padding", forbid=())
def same_padding(student_fn) -> str:
    """Check ``student_fn(kernel_size, dilation) -> int | None`` (NNDL exercise 5-8)."""
    cases = [(3, 1), (5, 1), (3, 2), (5, 2), (3, 4), (7, 3), (1, 1), (1, 5), (2, 2), (2, 1)]
    cases += [(4, 1), (4, 3), (6, 2)]
    hidden = [(9, 1), (5, 3), (2, 3)]  # P = 4, P = 6, and None for an odd D(K-1) = 3
    for heading, (k, d) in numbered_cases(cases, hidden=hidden):
        label = f"{heading}: same_padding(kernel_size={k}, dilation={d})"
        got = call(student_fn, k, d, case=label)
        span = d * (k - 1) + 1
        works = [
            p
            for p in range(span + 1)
            if all(n + 2 * p >= span and _torch_size(n, k, 1, p, d) == n for n in (9, 16))
        ]
        expected = works[0] if works else None
        if expected is None:
            if got is None:
                continue
            _impossible(got, label, k, d, span)
        if got is None:
            raise Mismatch(
                f"{label}:\nyou returned None, but padding {expected} on each side keeps the size "
                f"(d*(k-1) = {d * (k - 1)} is even)."
            )
        p = whole_number(got, case=label)
        if p == expected:
            continue
        message = f"{label}:\ngot {p}, expected {expected}."
        if p == (k - 1) // 2 and d > 1:
            message += (
                "\nHint: that is the padding for an undilated kernel, P = (K-1)/2 (the answer in "
                "the seed notes). A kernel with dilation D spans D(K-1) + 1 positions, so the "
                "size is kept with P = D(K-1)/2."
            )
        else:
            message += "\nHint: the output size is n + 2P - D(K-1); set it equal to n."
        raise Mismatch(message)
    count = case_count(cases, hidden)
    return (
        f"{count} cases: your padding keeps the size in torch.nn.functional.conv1d, and "
        "you return None exactly when D(K-1) is odd."
    )


# ------------------------------------------------------------------------ 2.3


def _stack_shapes(input_shape, layers) -> list[tuple[int, ...]]:
    """Shapes after each layer, from PyTorch (spatial sizes do not depend on channels)."""
    shapes, plane = [], torch.zeros(1, 1, *input_shape[1:])
    for layer in layers:
        kernel = torch.zeros(1, 1, layer["kernel_size"], layer["kernel_size"])
        plane = F.conv2d(
            plane,
            kernel,
            stride=layer["stride"],
            padding=layer["padding"],
            dilation=layer["dilation"],
        )
        shapes.append((layer["out_channels"], *(int(v) for v in plane.shape[2:])))
    return shapes


def _layer(c, k, s=1, p=0, d=1) -> dict:
    return {"out_channels": c, "kernel_size": k, "stride": s, "padding": p, "dilation": d}


_STACKS = [
    ((3, 32, 32), [_layer(10, 5, 1, 2), _layer(20, 3, 2, 1), _layer(40, 3, 2, 1)]),
    ((1, 28, 28), [_layer(6, 5), _layer(16, 5, 2), _layer(32, 3, 1, 0, 2)]),
    ((3, 224, 224), [_layer(64, 7, 2, 3), _layer(64, 3, 2, 1), _layer(128, 3, 2, 1)]),
    ((3, 227, 227), [_layer(96, 11, 4), _layer(256, 5, 1, 2), _layer(384, 3, 2, 0)]),
    ((2, 17, 9), [_layer(4, 3, 2, 0, 2), _layer(8, 1), _layer(8, 2, 2, 1)]),
    ((8, 64, 48), [_layer(16, 3, 1, 2, 2), _layer(16, 3, 1, 4, 4), _layer(4, 1, 3)]),
]
_HIDDEN_STACKS = [  # grading mode only
    ((5, 9, 9), [_layer(7, 9), _layer(3, 1)]),  # a kernel as large as the input, then 1 x 1
    ((3, 30, 17), [_layer(6, 4, 3, 2, 2), _layer(12, 2, 2), _layer(5, 3, 1, 1)]),
    ((2, 50, 50), [_layer(4, 3, 1, 1), _layer(4, 5, 5), _layer(8, 3, 2, 3, 3)]),
]


def _shape_list(got) -> list | None:
    """The rows of a returned list of shapes (a list, a tuple or a 2-D array or tensor)."""
    if getattr(got, "ndim", None) == 2 and hasattr(got, "tolist"):
        return list(got.tolist())
    return as_items(got)


@checker("2.3", "predict_shapes", forbid=_RUN)
def predict_shapes(student_fn) -> str:
    """Check ``student_fn(input_shape, layers) -> [(C, H, W), ...]`` for stacks of Conv2d."""
    for heading, (shape, layers) in numbered_cases(_STACKS, hidden=_HIDDEN_STACKS):
        label = f"{heading}: input_shape={shape}, {len(layers)} layers"
        got = answer(student_fn, shape, [dict(layer) for layer in layers], case=label)
        expected = _stack_shapes(shape, layers)
        items = _shape_list(got)
        if items is None:
            raise Mismatch(f"{label}:\nexpected a list of (C, H, W) tuples, got {got!r}.")
        if len(items) == 3 and all(as_items(v) is None for v in items):
            raise Mismatch(
                f"{label}:\nyou returned one shape, {got}; return a list of (C, H, W) "
                f"shapes, one after *each* of the {len(layers)} layers."
            )
        got = [
            whole_shape(v, case=label, name=f"the shape after layer {index}")
            for index, v in enumerate(items)
        ]
        if len(got) != len(expected):
            raise Mismatch(
                f"{label}:\nyou returned {len(got)} shapes, expected {len(expected)} (one per "
                "layer; leave out the input shape)."
            )
        for index, (mine, right, layer) in enumerate(zip(got, expected, layers, strict=True)):
            if mine == right:
                continue
            message = f"{label}:\nafter layer {index} ({layer}) got {mine}, expected {right}."
            if mine[0] != right[0]:
                message += "\nHint: the number of output channels is the layer's out_channels."
            elif mine[1:] == right[2:0:-1]:
                message += "\nHint: height and width are swapped."
            else:
                message += (
                    "\nHint: apply conv_output_size to H and W separately, starting from the "
                    "previous layer's output."
                )
            raise Mismatch(message)
    return f"{case_count(_STACKS, _HIDDEN_STACKS)} stacks match the shapes nn.Conv2d produces."


# ------------------------------------------------------------------------ 2.4


_COST_CASES = [
    # (in_shape, out_channels, kernel_size, stride, padding, dilation, groups, bias)
    ((3, 32, 32), 10, 5, 1, 2, 1, 1, True),  # the EECS 498 example: 760 and 768,000
    ((64, 56, 56), 128, 3, 1, 1, 1, 1, True),
    ((256, 100, 100), 256, 3, 1, 1, 1, 1, False),
    ((192, 28, 28), 16, 1, 1, 0, 1, 1, True),
    ((3, 224, 224), 64, 7, 2, 3, 1, 1, False),
    ((32, 112, 112), 32, 3, 1, 1, 1, 32, False),  # depthwise
    ((64, 20, 30), 128, 3, 2, 0, 2, 4, True),  # grouped, dilated, strided
]
_HIDDEN_COSTS = [  # grading mode only
    ((12, 15, 9), 6, 4, 3, 2, 2, 3, True),  # an even kernel, groups, fewer outputs than inputs
    ((5, 7, 7), 3, 7, 1, 0, 1, 1, False),  # a kernel as large as the input: a 1 x 1 output
    ((16, 9, 13), 16, 3, 2, 1, 1, 16, True),  # depthwise with biases, strided
]


@checker("2.4", "conv2d_cost", forbid=_COUNT)
def conv2d_cost(student_fn) -> str:
    """Check ``student_fn(in_shape, out_channels, kernel_size, stride, padding, dilation,
    groups, bias) -> (params, macs)`` against nn.Conv2d."""
    count = 0
    for heading, args in numbered_cases(_COST_CASES, hidden=_HIDDEN_COSTS):
        count += 1
        shape, c_out, k, s, p, d, g, bias = args
        label = (
            f"{heading}: in_shape={shape}, out_channels={c_out}, "
            f"kernel_size={k}, stride={s}, padding={p}, dilation={d}, groups={g}, bias={bias}"
        )
        got = call(student_fn, *args, case=label)
        conv = _conv(shape[0], c_out, k, s, p, d, g, bias)
        params, macs = count_params(conv), model_costs(conv, shape).macs
        got_params, got_macs = whole_pair(got, case=label, names=("params", "macs"))
        if (got_params, got_macs) == (params, macs):
            continue
        c_in = shape[0]
        h_out, w_out = (_torch_size(n, k, s, p, d) for n in shape[1:])
        outputs = c_out * h_out * w_out
        if (got_params, got_macs) == (macs, params):
            raise Mismatch(f"{label}:\nthe two numbers are swapped: return (params, macs).")
        if got_params != params:
            weights = c_out * c_in // g * k * k
            hint = "weights: C_out x (C_in / groups) x k x k; plus one bias per filter if bias."
            if got_params == macs or got_params == weights * shape[1] * shape[2]:
                hint = (
                    "parameters do not depend on the image size: that is (about) the MAC "
                    "count, the seed's F^2 K L H W mistake. The same weights are reused at "
                    "every position."
                )
            elif bias and got_params == weights:
                hint = "you forgot the biases: one per output channel."
            elif not bias and got_params == weights + c_out:
                hint = "this layer has bias=False: no biases."
            elif g > 1 and got_params in (c_out * c_in * k * k, c_out * c_in * k * k + c_out):
                hint = (
                    f"with groups={g} each filter sees only C_in / groups = {c_in // g} channels."
                )
            raise Mismatch(
                f"{label}:\nparams: got {got_params:,}, expected {params:,}.\nHint: {hint}"
            )
        hint = "MACs = output elements (C_out x H_out x W_out) x (C_in / groups) x k x k."
        if got_macs == c_out * shape[1] * shape[2] * (c_in // g) * k * k:
            hint = "use the *output* size (H_out x W_out), not the input size."
        elif got_macs == macs + outputs:
            hint = "do not count the bias additions: MACs count multiply-accumulates only."
        elif g > 1 and got_macs == outputs * c_in * k * k:
            hint = f"with groups={g} each output sums over C_in / groups = {c_in // g} channels."
        elif got_macs == 2 * macs:
            hint = "that is the FLOP count (a multiply and an add); MACs are half of it."
        raise Mismatch(f"{label}:\nmacs: got {got_macs:,}, expected {macs:,}.\nHint: {hint}")
    return f"{count} layers match the parameters and MACs of nn.Conv2d."


# ------------------------------------------------------------------------ 2.5


def _block(c_in, c_out, k, c_mid):
    if c_mid is None:
        return nn.Sequential(_conv(c_in, c_out, k, p=(k - 1) // 2, bias=False))
    return nn.Sequential(
        _conv(c_in, c_mid, 1, bias=False), _conv(c_mid, c_out, k, p=(k - 1) // 2, bias=False)
    )


@checker("2.5", "bottleneck_costs", forbid=_COUNT)
def bottleneck_costs(student_fn) -> str:
    """Check ``student_fn(h, w, c_in, c_out, k, c_mid=None) -> {"macs", "params",
    "activations"}`` (NNDL exercise 5-4) against PyTorch."""
    cases = [
        (100, 100, 256, 256, 3, None),
        (100, 100, 256, 256, 3, 64),
        (28, 28, 192, 32, 5, None),
        (28, 28, 192, 32, 5, 16),
        (14, 20, 64, 128, 3, 32),
        (7, 7, 512, 512, 1, 128),
    ]
    hidden = [
        (9, 13, 48, 24, 5, 12),  # non-square, a wider bottleneck ratio
        (5, 3, 10, 20, 7, None),  # a kernel larger than the map (same padding keeps it)
        (1, 1, 3, 5, 1, 2),  # two 1 x 1 layers on one pixel
    ]
    count = 0
    for heading, (h, w, c_in, c_out, k, c_mid) in numbered_cases(cases, hidden=hidden):
        count += 1
        label = f"{heading}: h={h}, w={w}, c_in={c_in}, c_out={c_out}, k={k}, c_mid={c_mid}"
        args = (h, w, c_in, c_out, k) if c_mid is None else (h, w, c_in, c_out, k, c_mid)
        got = answer(student_fn, *args, case=label)
        block = _block(c_in, c_out, k, c_mid)
        layer_macs = [model_costs(conv, (conv.in_channels, h, w)).macs for conv in block]
        expected = {
            "macs": sum(layer_macs),
            "params": count_params(block),
            "activations": sum(
                conv.out_channels
                * _torch_size(h, conv.kernel_size[0], 1, conv.padding[0])
                * _torch_size(w, conv.kernel_size[1], 1, conv.padding[1])
                for conv in block
            ),
        }
        if not isinstance(got, dict) or set(got) != set(expected):
            raise Mismatch(
                f"{label}:\nexpected a dict with the keys 'macs', 'params' and 'activations', "
                f"got {got!r}."
            )
        for key, right in expected.items():
            mine = whole_number(got[key], case=label, name=key)
            if mine == right:
                continue
            message = f"{label}:\n{key}: got {mine:,}, expected {right:,}."
            if key == "activations" and mine in (
                right + c_in * h * w,
                c_in * h * w + c_out * h * w,
            ):
                message += (
                    "\nHint: count the outputs of the layers only; the input x is not an "
                    "activation of this block."
                )
            elif key == "activations" and mine == c_out * h * w and c_mid is not None:
                message += (
                    f"\nHint: the {c_mid}-channel map between the two layers must be stored "
                    "too (that is the 'space' the 1×1 layer costs)."
                )
            elif key == "macs" and c_mid is not None and mine == layer_macs[1]:
                message += "\nHint: add the MACs of the 1×1 layer too."
            elif key == "params" and mine - right in (c_out, c_out + (c_mid or 0)):
                message += "\nHint: these layers have no biases (bias=False); count weights only."
            elif key == "macs" and mine == right * 2:
                message += "\nHint: that is FLOPs; MACs are half of it."
            elif key == "activations":
                message += (
                    "\nHint: same padding keeps h x w, so each layer outputs C_out * h * w "
                    "values; add them over the layers of the block."
                )
            elif key == "params":
                message += "\nHint: each layer has C_out * C_in * k * k weights (no biases)."
            else:
                message += (
                    "\nHint: same padding keeps h x w, so each layer's MACs are "
                    "h * w * C_out * C_in * k * k."
                )
            raise Mismatch(message)
    return f"{count} blocks match the parameters, MACs and outputs of nn.Conv2d layers."


# ------------------------------------------------------------------------ 2.6

CLAIMS = {
    "a": "CSE559A: a 5×5 image, a 3×3 kernel, padding 1, stride 1 gives a 3×3 output. "
    "(Give the output side length.)",
    "b": "CSE559A: the same with stride 2 gives a 2×2 output, (5-3+2*1)/2+1 = 2. "
    "(Give the output side length.)",
    "c": "CSE559A: a conv layer with F x F = 3 x 3 kernels from K = 64 to L = 128 channels on "
    "a 56 x 56 map (same padding) takes F^2 x K x L x H x W parameters. "
    "(Give the number of parameters, biases included.)",
    "d": "CSE559A: a 3×3 conv layer from 256 to 256 channels has 256 x 3 x 3 x 256 = 524,288 "
    "weights. (Give the number of weights, no biases.)",
    "e": "NNDL 5-8 answer: a 3×3 kernel with dilation D = 2 keeps the size with padding "
    "P = (K-1)/2 = 1. (Give the padding that keeps the size.)",
    "f": "EECS 498: filters always extend the full depth of the input volume. "
    "(For nn.Conv2d(32, 32, 3, groups=32), give the number of input channels one filter sees.)",
    "g": "EECS 498: 10 filters of 5×5 with stride 1 and pad 2 on a 3x32x32 input have "
    "10 x (3 x 5 x 5 + 1) = 760 parameters. (Give the number of parameters.)",
    "h": "EECS 498: the same layer does 75 x 10,240 = 768K multiply-adds. "
    "(Give the exact number of MACs.)",
    "i": "NNDL slides, zero-padding example: the 5×5 image with rows 11100, 01110, 00111, "
    "01110, 01100, the kernel [[1, 0, 1], [0, 1, 0], [1, 0, 1]] and padding 1 give an output "
    "whose centre value (row 2, column 2, counting from 0) is 4. (Give the centre value.)",
}

# the image of the NNDL zero-padding example (the stride example differs in row 3)
PADDING_IMAGE = [
    [1, 1, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [0, 0, 1, 1, 1],
    [0, 1, 1, 1, 0],
    [0, 1, 1, 0, 0],
]

_CLAIMED = {"a": 3, "b": 2, "c": 9 * 64 * 128 * 56 * 56, "d": 524_288, "e": 1, "f": 32}
_CLAIMED.update({"g": 760, "h": 768_000, "i": 4})

_WHY = {
    "a": "floor((5 + 2*1 - 3) / 1) + 1 = 5: padding 1 exactly makes up for the 3×3 kernel "
    "(same padding), so the output is as large as the input.",
    "b": "floor((5 + 2*1 - 3) / 2) + 1 = floor(4/2) + 1: the formula the seed writes down "
    "gives a different number than the one it states.",
    "c": "F^2 K L H W is the number of multiply-adds: each of the L H W outputs is a dot "
    "product of length F^2 K. The weights are shared across positions, so the parameters "
    "are F^2 K L + L, independent of H and W.",
    "d": "the arithmetic is off: 256 x 3 x 3 x 256 = 256^2 x 9.",
    "e": "a kernel with dilation D spans D(K-1) + 1 positions, so the size is kept with "
    "P = D(K-1)/2, not (K-1)/2.",
    "f": "true for a standard convolution only: with groups=g a filter sees C_in / g "
    "channels, and a depthwise convolution (groups = C_in) sees one.",
    "g": "this claim is right: each filter has 3 x 5 x 5 weights and one bias.",
    "h": "this claim is right: 10 x 32 x 32 = 10,240 outputs, each a dot product of 75.",
    "i": "the centre window is rows 1-3, columns 1-3 of the image; the kernel picks its four "
    "corners and its centre. Look at each of those five pixels.",
}


def _claim_answers() -> dict[str, int]:
    """The corrected (or confirmed) value of every claim, computed with PyTorch."""
    conv_c = _conv(64, 128, 3, p=1)
    conv_g = _conv(3, 10, 5, p=2)
    same = [p for p in range(6) if _torch_size(11, 3, 1, p, 2) == 11]
    image = torch.tensor(PADDING_IMAGE, dtype=torch.float32)[None, None]
    kernel = torch.tensor([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]])[None, None]
    return {
        "a": _torch_size(5, 3, 1, 1),
        "b": _torch_size(5, 3, 2, 1),
        "c": count_params(conv_c),
        "d": count_params(_conv(256, 256, 3, p=1, bias=False)),
        "e": same[0],
        "f": int(_conv(32, 32, 3, groups=32).weight.shape[1]),
        "g": count_params(conv_g),
        "h": model_costs(conv_g, (3, 32, 32)).macs,
        "i": int(F.conv2d(image, kernel, padding=1)[0, 0, 2, 2]),
    }


# The exercise asks to compute the values with nn.Conv2d, summary and conv2d: nothing is
# forbidden. It has no hidden cases either: spot_the_mistakes() takes no arguments and the
# claims are fixed, so grading mode checks the same nine values as the student's check.
@checker("2.6", "spot_the_mistakes", forbid=())
def spot_the_mistakes(student_fn) -> str:
    """Check ``student_fn() -> {claim: corrected value}`` for the claims in ``CLAIMS``."""
    got = call(student_fn, case="Calling spot_the_mistakes()")
    if got is None:
        raise forgot_return(None, "spot_the_mistakes() returned None")
    if not isinstance(got, dict):
        raise Mismatch(f"expected a dict such as {{'a': 5, 'b': ...}}, got a {type(got).__name__}.")
    answers = _claim_answers()
    missing = sorted(set(answers) - set(got))
    extra = sorted(set(got) - set(answers))
    if missing or extra:
        message = f"expected one value for each of the claims {', '.join(sorted(answers))}."
        if missing:
            message += f" Missing: {', '.join(map(str, missing))}."
        if extra:
            message += f" Unknown keys: {', '.join(map(repr, extra))}."
        raise Mismatch(message)
    problems = []
    for key, right in answers.items():
        value = got[key]
        label = f"claim {key}"
        try:
            value = whole_number(value, case=label, name="your value")
        except Mismatch as error:
            problems.append(str(error).replace(":\n", ": "))
            continue
        if value == right:
            continue
        if value == _CLAIMED[key]:
            problems.append(
                f"claim {key}: {value:,} is the value the notes claim. Why: {_WHY[key]}"
            )
        else:
            problems.append(f"claim {key}: {value:,} is not right. Why: {_WHY[key]}")
    if problems:
        wrong = len(problems)
        raise Mismatch(
            f"{wrong} of the {len(answers)} values need another look:\n"
            + "\n".join(f"- {problem}" for problem in problems)
        )
    fixed = [key for key in answers if answers[key] != _CLAIMED[key]]
    kept = [key for key in answers if answers[key] == _CLAIMED[key]]
    return (
        f"{len(answers)} claims checked with PyTorch: {', '.join(fixed)} were wrong and you "
        f"corrected them; {', '.join(kept)} were right."
    )
