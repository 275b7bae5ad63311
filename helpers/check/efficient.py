"""Checkers for notebook 09 (Inception, ResNet and efficient convolutions).

The module exercises (an Inception module, ResNet's basic and bottleneck blocks) are
compared with :mod:`helpers.models`, weight for weight: the student's convolutions are
matched to the reference's by their weight shapes (trying every assignment when several
have the same shape), given deterministic random values, copied into the reference, and
both modules run in train mode on the same input, so that BatchNorm normalises with the
batch statistics. Every BatchNorm is reset to ``gamma = 1, beta = 0`` first. When the
outputs differ, functional variants of the block (no shortcut, ReLU before the addition,
stride on the wrong convolution, ...) name the mistake.

The cost exercises are compared with ``nn.Conv2d`` layers (and
:class:`helpers.models.InceptionModule`), counted by :mod:`helpers.costs`. The channel
shuffle (9.6) is compared with the permutation ``arange(C).reshape(g, C / g).T`` applied to
the channels, after checking that the answer moves whole channels and nothing else.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..costs import count_params, model_costs
from .answers import whole_number, whole_pair
from .arrays import compare, to_numpy
from .core import Mismatch, answer, call, case_count, checker, numbered_cases
from .grading import COST_COUNTERS, generator
from .modules import expect_module, run_module

__all__ = [
    "basic_block",
    "bottleneck_block",
    "channel_shuffle",
    "inception_cost",
    "inception_module",
    "separable_cost",
]

_ATOL, _RTOL = 1e-5, 1e-4
_MAX_ASSIGNMENTS = 720

# The cost exercises ask for pen-and-paper formulas: no counting nn layers.
_COUNTERS = COST_COUNTERS
# The course's modules, which the module exercises are compared with. (nn.Conv2d, BatchNorm
# and the functions they call stay allowed: every right answer uses them.)
_INCEPTION = ("helpers.models.InceptionModule", "helpers.models.inception.InceptionModule")
_BASIC_CLASSES = (
    "helpers.models.BasicBlock",
    "helpers.models.resnet.BasicBlock",
    "torchvision.models.resnet.BasicBlock",
)
_BOTTLENECK_CLASSES = (
    "helpers.models.Bottleneck",
    "helpers.models.resnet.Bottleneck",
    "torchvision.models.resnet.Bottleneck",
)


# ------------------------------------------------------------------ shared machinery


def _build(cls, args: tuple, label: str, *, example: str) -> nn.Module:
    """``cls(*args)``, which must be an ``nn.Module``; ``example``: how to pass the class.

    (In grading mode the guard of ``call`` refuses a subclass of the course's own class.)
    """
    if isinstance(cls, nn.Module):
        name = type(cls).__name__
        raise Mismatch(
            f"{label}:\nyou passed a module already built (an instance of {name}); pass the "
            f"class itself, so that the check can build it with each case's arguments: "
            f"{example}({name}), not {example}({name}(...))."
        )
    return expect_module(
        call(cls, *args, case=label),
        case=label,
        advice=f"Pass the class itself, e.g. {example}(YourClass).",
    )


def _run(module: nn.Module, x: torch.Tensor, label: str, hint) -> torch.Tensor:
    """Run ``module`` on ``x`` in train mode; ``hint`` explains an exception."""
    return run_module(module, x, case=label, train=True, hint=hint)


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def _batch_norms(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def _reset(module: nn.Module, seed: int) -> None:
    """Deterministic random conv weights (scaled by 1/sqrt(fan in)); BatchNorm to 1 and 0."""
    random = generator(seed)
    with torch.no_grad():
        for conv in _convs(module):
            fan_in = conv.weight[0].numel()
            shape = conv.weight.shape
            conv.weight.copy_(torch.randn(shape, generator=random) / math.sqrt(fan_in))
            if conv.bias is not None:
                conv.bias.copy_(0.1 * torch.randn(conv.bias.shape, generator=random))
        for bn in _batch_norms(module):
            if bn.affine:
                bn.weight.fill_(1.0)
                bn.bias.zero_()


def _shape(conv: nn.Conv2d) -> tuple[int, ...]:
    return tuple(conv.weight.shape)


def _assignments(student: list[nn.Conv2d], reference: list[nn.Conv2d]):
    """Yield lists ``pairs[i] = student conv for reference conv i``, same weight shapes.

    Yields nothing when the multisets of weight shapes differ.
    """
    if sorted(map(_shape, student)) != sorted(map(_shape, reference)):
        return
    groups: dict[tuple, tuple[list[int], list[int]]] = {}
    for i, conv in enumerate(reference):
        groups.setdefault(_shape(conv), ([], []))[0].append(i)
    for j, conv in enumerate(student):
        groups[_shape(conv)][1].append(j)
    options = [
        [list(zip(refs, perm, strict=True)) for perm in itertools.permutations(studs)]
        for refs, studs in groups.values()
    ]
    for count, choice in enumerate(itertools.product(*options)):
        if count >= _MAX_ASSIGNMENTS:
            return
        pairs = [None] * len(reference)
        for group in choice:
            for i, j in group:
                pairs[i] = student[j]
        yield pairs


def _copy(pairs: list[nn.Conv2d], reference: list[nn.Conv2d]) -> None:
    with torch.no_grad():
        for mine, theirs in zip(pairs, reference, strict=True):
            theirs.weight.copy_(mine.weight)
            if theirs.bias is not None and mine.bias is not None:
                theirs.bias.copy_(mine.bias)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=_ATOL, rtol=_RTOL)


def _match(
    student: nn.Module, reference: nn.Module, x: torch.Tensor, out: torch.Tensor, label: str
):
    """The assignment of the student's convs to the reference's that reproduces ``out``.

    Returns ``(pairs, matched)``: ``pairs`` maps reference convs to student convs (the
    first assignment tried when none matches, for the hints), ``matched`` whether the
    reference then gives the student's output.
    """
    mine, theirs = _convs(student), _convs(reference)
    first = None
    for pairs in _assignments(mine, theirs):
        first = first or pairs
        _copy(pairs, theirs)
        reference.train()
        with torch.no_grad():
            expected = reference(x)
        if _close(out, expected):
            return pairs, True
    if first is None:
        got, want = sorted(map(_shape, mine)), sorted(map(_shape, theirs))
        raise Mismatch(
            f"{label}:\nthe convolutions have the right number of parameters but not the "
            f"right shapes.\nyour conv weights: {got}\nexpected:          {want}"
        )
    return first, False


def _bn(t: torch.Tensor) -> torch.Tensor:
    """BatchNorm in train mode with gamma = 1, beta = 0 (what the checked modules use)."""
    return F.batch_norm(t, None, None, training=True, eps=1e-5)


def _costs(module: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(weights of the convs, all parameters, MACs) of ``module`` on one input."""
    weights = sum(conv.weight.numel() for conv in _convs(module))
    params, macs = model_costs(module, input_shape)
    return weights, params, macs


# ------------------------------------------------------------------- 9.1 Inception


_INCEPTION_CASES = [
    # (in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, H, W)
    (6, 4, 3, 5, 2, 3, 7, 7, 9),
    (10, 2, 5, 6, 3, 4, 1, 6, 6),
    (192, 64, 96, 128, 16, 32, 32, 5, 5),  # inception (3a), on a 5 x 5 input
    (4, 3, 2, 3, 1, 2, 2, 4, 3),
]
_HIDDEN_INCEPTION = [
    (3, 2, 2, 2, 2, 2, 2, 1, 1),  # a 1 x 1 input; four 1x1 convs of one shape
    (5, 1, 4, 7, 3, 2, 6, 9, 2),  # odd sizes, a wide pool projection
]
_INCEPTION_HINT = (
    "every branch must keep H and W: padding=1 for the 3×3 conv, padding=2 for the 5×5, "
    "and the max pool needs kernel_size=3, stride=1, padding=1 (its default stride is 3)."
)


def _inception_error_hint(error: Exception) -> str:
    text = str(error)
    if "except in dimension" in text and "except in dimension 1" not in text:
        return "concatenate along the channel axis: torch.cat(branches, dim=1)."
    return _INCEPTION_HINT


def _inception_functional(x, p, *, pool="max", reduce_relu=True, out_relu=True):
    """The module with the reference's weights ``p`` (six convs), and variants of it."""

    def conv(t, m):
        return F.conv2d(t, m.weight, m.bias, padding=m.kernel_size[0] // 2)

    act = F.relu if out_relu else (lambda t: t)
    red = F.relu if reduce_relu else (lambda t: t)
    b1x1, b3r, b3, b5r, b5, bpool = p
    if pool == "max":
        pooled = F.max_pool2d(x, 3, 1, 1)
    else:
        pooled = F.avg_pool2d(x, 3, 1, 1)
    return [
        act(conv(x, b1x1)),
        act(conv(red(conv(x, b3r)), b3)),
        act(conv(red(conv(x, b5r)), b5)),
        act(conv(pooled, bpool)),
    ]


def _inception_hint(x, pairs, out) -> str:
    branches = _inception_functional(x, pairs)
    for order in itertools.permutations(range(4)):
        if order != (0, 1, 2, 3) and _close(out, torch.cat([branches[i] for i in order], 1)):
            return (
                "the branches are concatenated in the wrong order: use 1×1, 3×3, 5×5, pool "
                "(the columns of the paper's Table 1, and torchvision's order)."
            )
    variants = [
        ({"pool": "avg"}, "the pool branch uses a 3×3 *max* pool (nn.MaxPool2d), not average."),
        (
            {"reduce_relu": False},
            "the 1×1 reduce convolutions are followed by a ReLU too (every conv is).",
        ),
    ]
    for kwargs, hint in variants:
        if _close(out, torch.cat(_inception_functional(x, pairs, **kwargs), 1)):
            return hint
    if (out < 0).any():
        return "every convolution is followed by a ReLU, so the output is never negative."
    return (
        "each branch is conv -> ReLU (1×1), or 1×1 conv -> ReLU -> kxk conv -> ReLU, or "
        "3×3 max pool -> 1×1 conv -> ReLU; torch.cat(..., dim=1) joins them."
    )


@checker("9.1", "Inception module", forbid=_INCEPTION)
def inception_module(student_cls) -> str:
    """Check ``student_cls(in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)``."""
    from ..models import InceptionModule

    random = generator(91)
    for heading, case in numbered_cases(_INCEPTION_CASES, hidden=_HIDDEN_INCEPTION):
        c_in, c1, c3r, c3, c5r, c5, pp, h, w = case
        args = (c_in, c1, c3r, c3, c5r, c5, pp)
        label = (
            f"{heading} (in_channels={c_in}, c1={c1}, "
            f"c3_reduce={c3r}, c3={c3}, c5_reduce={c5r}, c5={c5}, pool_proj={pp})"
        )
        module = _build(student_cls, args, label, example="check.inception_module")
        x = torch.randn(2, c_in, h, w, generator=random)
        _run(module, x, label, _inception_error_hint)  # materialises lazy layers
        _reset(module, seed=910 + heading.number)
        out = _run(module, x, label, _inception_error_hint)
        c_out = c1 + c3 + c5 + pp
        expected_shape = (2, c_out, h, w)
        if tuple(out.shape) != expected_shape:
            hint = "the output has c1 + c3 + c5 + pool_proj channels and the input's H and W."
            if out.ndim == 4 and out.shape[1] == c1 + c3 + c5 + c_in:
                hint = "the pool branch ends with a 1×1 conv to pool_proj channels."
            elif out.ndim == 4 and out.shape[1] == c1 + c3r + c3 + c5r + c5 + pp:
                hint = "the reduce convs feed the 3×3 and 5×5 convs; only branch outputs count."
            elif out.ndim == 4 and out.shape[0] != 2:
                hint = "concatenate along the channel axis: torch.cat(branches, dim=1)."
            elif out.ndim == 4 and tuple(out.shape[2:]) != (h, w):
                hint = _INCEPTION_HINT
            raise Mismatch(
                f"{label}:\nfor x of shape {tuple(x.shape)} your module returns "
                f"{tuple(out.shape)}, expected {expected_shape}.\nHint: {hint}"
            )
        reference = InceptionModule(*args)
        count, right = count_params(module), count_params(reference)
        if count != right:
            hint = "count the weights of the six convolutions (1×1, 1×1 -> 3×3, 1×1 -> 5×5, 1×1)."
            if _batch_norms(module):
                hint = "the 2014 module has no BatchNorm: conv -> ReLU only."
            elif any(conv.bias is None for conv in _convs(module)):
                hint = "the paper's convolutions have biases: keep nn.Conv2d's bias=True."
            elif count == right - c5r * c5 * 16:
                hint = (
                    "the 5×5 branch uses a 5×5 kernel. (torchvision's GoogLeNet has 3×3 "
                    "there, a known quirk; follow the paper.)"
                )
            raise Mismatch(
                f"{label}:\nyour module has {count:,} parameters, expected {right:,}.\nHint: {hint}"
            )
        pairs, matched = _match(module, reference, x, out, label)
        if not matched:
            raise Mismatch(
                f"{label}:\nthe shapes and parameters are right, the outputs are not.\n"
                f"Hint: {_inception_hint(x, pairs, out)}"
            )
    count = case_count(_INCEPTION_CASES, _HIDDEN_INCEPTION)
    return (
        f"{count} modules: same shapes, parameters and outputs as helpers.models.InceptionModule."
    )


# ---------------------------------------------------------------- 9.2 Inception cost


_COST_CASES = [
    # (in_channels, h, w, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
    (192, 28, 28, 64, 96, 128, 16, 32, 32),  # inception (3a)
    (512, 14, 14, 128, 128, 256, 24, 64, 64),  # inception (4c)
    (832, 7, 7, 384, 192, 384, 48, 128, 128),  # inception (5b)
    (10, 5, 9, 3, 4, 6, 2, 5, 7),
]
_HIDDEN_COSTS = [
    (480, 14, 14, 192, 96, 208, 16, 48, 64),  # inception (4a)
    (7, 1, 1, 1, 2, 3, 1, 1, 1),  # a 1 x 1 input
    (33, 11, 6, 5, 9, 2, 4, 13, 8),
]


def _inception_reference(c_in, h, w, c1, c3r, c3, c5r, c5, pp) -> dict[str, int]:
    from ..models import InceptionModule

    module = InceptionModule(c_in, c1, c3r, c3, c5r, c5, pp)
    with torch.no_grad():
        out = module(torch.zeros(1, c_in, h, w))
    weights, _, macs = _costs(module, (c_in, h, w))
    return {"out_channels": int(out.shape[1]), "weights": weights, "macs": macs}


def _inception_cost_hint(key, mine, right, case) -> str:
    c_in, h, w, c1, c3r, c3, c5r, c5, pp = case
    hw = h * w
    biases = c1 + c3r + c3 + c5r + c5 + pp
    weights = {
        "1×1": c_in * c1,
        "3×3 reduce": c_in * c3r,
        "3×3": c3r * c3 * 9,
        "5×5 reduce": c_in * c5r,
        "5×5": c5r * c5 * 25,
        "pool proj": c_in * pp,
    }
    if key == "out_channels":
        if mine == c1 + c3r + c3 + c5r + c5 + pp:
            return "only the four branch outputs are concatenated, not the reduce layers."
        if mine == c1 + c3 + c5 + c_in:
            return "the pool branch ends with a 1×1 conv to pool_proj channels."
        return "the output channels are c1 + c3 + c5 + pool_proj."
    if key == "weights":
        if mine == right + biases:
            return "count weights only, without biases, as the paper's Table 1 does."
        if mine == right - weights["5×5"] + c5r * c5 * 9:
            return "the 5×5 branch has 5×5 kernels: c5_reduce * c5 * 25 weights."
        if mine == right - weights["3×3 reduce"] - weights["5×5 reduce"]:
            return "add the weights of the two 1×1 reduce convolutions."
        if mine == right - weights["pool proj"]:
            return "the pool branch has a 1×1 conv (pool proj): in_channels * pool_proj weights."
        if mine == right - weights["3×3"] + c_in * c3 * 9:
            return "the 3×3 conv sees c3_reduce channels (the reduced ones), not in_channels."
        return "a k x k conv from a to b channels has a * b * k * k weights; add all six."
    if mine == right // hw:
        return "multiply by the number of output positions, H * W."
    if mine == (right - weights["3×3"] * hw) + c_in * c3 * 9 * hw:
        return "the 3×3 conv sees c3_reduce channels (the reduced ones), not in_channels."
    if mine == right + 9 * c_in * hw:
        return "pooling counts no MACs (only conv and linear layers do)."
    if mine == right + biases * hw:
        return "a MAC multiplies a weight; biases are not counted."
    if mine == 2 * right:
        return "that is FLOPs; MACs are half of it."
    return "every conv keeps H x W, so its MACs are H * W times its weights."


@checker("9.2", "inception_cost", forbid=(*_COUNTERS, *_INCEPTION))
def inception_cost(student_fn) -> str:
    """Check ``student_fn(in_channels, h, w, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
    -> {"out_channels", "weights", "macs"}`` against helpers.models.InceptionModule."""
    keys = ("out_channels", "weights", "macs")
    for heading, case in numbered_cases(_COST_CASES, hidden=_HIDDEN_COSTS):
        names = "in_channels h w c1 c3_reduce c3 c5_reduce c5 pool_proj".split()
        described = ", ".join(f"{n}={v}" for n, v in zip(names, case, strict=True))
        label = f"{heading} ({described})"
        got = answer(student_fn, *case, case=label)
        if not isinstance(got, dict) or set(got) != set(keys):
            raise Mismatch(
                f"{label}:\nexpected a dict with the keys 'out_channels', 'weights' and "
                f"'macs', got {got!r}."
            )
        expected = _inception_reference(*case)
        for key in keys:
            mine, right = whole_number(got[key], case=label, name=key), expected[key]
            if mine != right:
                raise Mismatch(
                    f"{label}:\n{key}: got {mine:,}, expected {right:,}.\n"
                    f"Hint: {_inception_cost_hint(key, mine, right, case)}"
                )
    count = case_count(_COST_CASES, _HIDDEN_COSTS)
    return (
        f"{count} modules, among them inception (3a), (4c) and (5b): channels, "
        "weights and MACs match."
    )


# ------------------------------------------------------------------- 9.3 BasicBlock

_BLOCK_HINT = (
    "when the stride is not 1 or the channels change, x cannot be added as it is: the "
    "shortcut is then a 1×1 conv (with the block's stride, no bias) followed by BatchNorm."
)


def _block_error_hint(error: Exception) -> str:
    text = str(error)
    if "non-singleton dimension 2" in text or "non-singleton dimension 3" in text:
        return (
            "F(x) and the shortcut must have the same shape: 3×3 convs need padding=1, so "
            "that only the stride changes H and W; " + _BLOCK_HINT
        )
    return _BLOCK_HINT


def _basic_functional(x, p, stride, *, shortcut=True, relu_first=False, final_relu=True, on=1):
    """BasicBlock with the reference's convs ``p = [conv1, conv2, (projection)]``."""
    conv1, conv2, *projection = p
    out = F.relu(_bn(F.conv2d(x, conv1.weight, stride=stride if on == 1 else 1, padding=1)))
    out = _bn(F.conv2d(out, conv2.weight, stride=stride if on == 2 else 1, padding=1))
    if relu_first:
        out = F.relu(out)
    if shortcut:
        out = out + (_bn(F.conv2d(x, projection[0].weight, stride=stride)) if projection else x)
    return F.relu(out) if final_relu else out


def _bottleneck_functional(x, p, stride, *, shortcut=True, relu_first=False, final_relu=True, on=2):
    """Bottleneck with the reference's convs ``p = [conv1, conv2, conv3, (projection)]``."""
    conv1, conv2, conv3, *projection = p
    out = F.relu(_bn(F.conv2d(x, conv1.weight, stride=stride if on == 1 else 1)))
    out = F.relu(_bn(F.conv2d(out, conv2.weight, stride=stride if on == 2 else 1, padding=1)))
    out = _bn(F.conv2d(out, conv3.weight))
    if relu_first:
        out = F.relu(out)
    if shortcut:
        out = out + (_bn(F.conv2d(x, projection[0].weight, stride=stride)) if projection else x)
    return F.relu(out) if final_relu else out


def _residual_hint(functional, x, pairs, stride, out, *, stride_hint: str) -> str:
    variants = [
        (
            {"shortcut": False},
            "you forgot the shortcut: add x (or its projection) before the last ReLU.",
        ),
        ({"relu_first": True}, "add the shortcut first, then apply the ReLU: relu(F(x) + x)."),
        ({"on": 2 if functional is _basic_functional else 1}, stride_hint),
    ]
    for kwargs, hint in variants:
        try:
            candidate = functional(x, pairs, stride, **kwargs)
        except RuntimeError:  # e.g. the stride on another conv changes the shapes
            continue
        if _close(out, candidate):
            return hint
    if (out < 0).any():
        return "the block ends with a ReLU after the addition, so its output is never negative."
    return (
        "conv -> BN -> ReLU -> ... -> conv -> BN, then add the shortcut, then ReLU; the "
        "projection shortcut is conv 1×1 (stride) -> BN."
    )


class _Block(NamedTuple):
    """What differs between the two residual-block exercises."""

    name: str  # the reference class in helpers.models
    example: str  # the checker, to show how the class is passed
    second: str  # the name of the second argument
    cases: list  # (in_channels, second argument, stride, H, W)
    functional: Callable  # the reference as a function, for the mistake variants
    stride_hint: str  # the hint when the stride sits on the wrong conv
    wide: int  # out_channels = wide * the second argument
    seed: int  # of the inputs
    hidden: list  # the cases only grading mode runs


def _check_block(student_cls, spec: _Block) -> str:
    """Check ``student_cls(in_channels, spec.second, stride)`` against ``spec.name``."""
    from .. import models

    reference_cls, wide = getattr(models, spec.name), spec.wide
    random = generator(spec.seed)
    for heading, (c_in, width, stride, h, w) in numbered_cases(spec.cases, hidden=spec.hidden):
        label = (
            f"{heading} ({spec.name}(in_channels={c_in}, {spec.second}={width}, stride={stride}))"
        )
        block = _build(student_cls, (c_in, width, stride), label, example=spec.example)
        x = torch.randn(3, c_in, h, w, generator=random)
        _run(block, x, label, _block_error_hint)  # materialises lazy layers
        _reset(block, seed=930 + heading.number)
        out = _run(block, x, label, _block_error_hint)
        c_out = wide * width
        h_out, w_out = (h - 1) // stride + 1, (w - 1) // stride + 1
        expected_shape = (3, c_out, h_out, w_out)
        if tuple(out.shape) != expected_shape:
            hint = "3×3 convs need padding=1; the stride divides H and W (rounding up)."
            if out.ndim == 4 and out.shape[1] == width and wide != 1:
                hint = "the last 1×1 conv expands to 4 * mid_channels channels."
            elif out.ndim == 4 and out.shape[1] != c_out:
                hint = f"the block outputs {c_out} channels."
            elif out.ndim == 4 and tuple(out.shape[2:]) == (h, w):
                hint = "the block must apply its stride (and so must the shortcut)."
            raise Mismatch(
                f"{label}:\nfor x of shape {tuple(x.shape)} your block returns "
                f"{tuple(out.shape)}, expected {expected_shape}.\nHint: {hint}"
            )
        reference = reference_cls(c_in, width, stride)
        count, right = count_params(block), count_params(reference)
        projection = stride != 1 or c_in != c_out
        if count != right:
            mine, theirs = _convs(block), _convs(reference)
            hint = "count the convolutions' weights and two parameters per BatchNorm channel."
            if any(conv.bias is not None for conv in mine):
                hint = "a conv followed by BatchNorm needs no bias: use bias=False."
            elif projection and len(mine) < len(theirs):
                hint = (
                    "this course uses the paper's option B (as torchvision does): a 1×1 conv "
                    "with stride, then BatchNorm, whenever the shape changes."
                )
            elif len(_batch_norms(block)) < len(_batch_norms(reference)):
                hint = "every conv is followed by BatchNorm, the projection's 1×1 conv too."
            elif not projection and len(mine) > len(theirs):
                hint = "when the shape is kept, the shortcut is the identity (no parameters)."
            raise Mismatch(
                f"{label}:\nyour block has {count:,} parameters, expected {right:,}.\nHint: {hint}"
            )
        pairs, matched = _match(block, reference, x, out, label)
        if not matched:
            hint = _residual_hint(
                spec.functional, x, pairs, stride, out, stride_hint=spec.stride_hint
            )
            raise Mismatch(
                f"{label}:\nthe shapes and parameters are right, the outputs are not.\nHint: {hint}"
            )
    count = case_count(spec.cases, spec.hidden)
    return (
        f"{count} blocks (identity and projection shortcuts): same shapes, parameters "
        f"and outputs as helpers.models.{spec.name}."
    )


_BASIC_CASES = [
    # (in_channels, out_channels, stride, H, W)
    (8, 8, 1, 6, 6),
    (4, 8, 2, 7, 7),
    (6, 10, 1, 5, 4),
    (8, 8, 2, 8, 6),
]


_BASIC = _Block(
    name="BasicBlock",
    example="check.basic_block",
    second="out_channels",
    cases=_BASIC_CASES,
    functional=_basic_functional,
    stride_hint="the stride belongs to the first 3×3 conv (and to the shortcut).",
    wide=1,
    seed=93,
    hidden=[(5, 3, 3, 7, 5), (6, 6, 1, 3, 7), (2, 4, 2, 1, 2)],  # stride 3; odd; 1 x 2 input
)


@checker("9.3", "BasicBlock", forbid=_BASIC_CLASSES)
def basic_block(student_cls) -> str:
    """Check ``student_cls(in_channels, out_channels, stride)`` against BasicBlock."""
    return _check_block(student_cls, _BASIC)


_BOTTLENECK_CASES = [
    # (in_channels, mid_channels, stride, H, W)
    (16, 4, 1, 5, 5),
    (8, 4, 2, 7, 7),
    (12, 4, 1, 6, 5),
    (16, 4, 2, 6, 6),
]


_BOTTLENECK = _Block(
    name="Bottleneck",
    example="check.bottleneck_block",
    second="mid_channels",
    cases=_BOTTLENECK_CASES,
    functional=_bottleneck_functional,
    stride_hint=(
        "the stride sits on the first 1×1 conv: that is the 2015 paper's ResNet-50 "
        "(v1). Put it on the 3×3 conv, as torchvision does (v1.5)."
    ),
    wide=4,
    seed=94,
    hidden=[(8, 2, 1, 5, 3), (3, 2, 3, 7, 4), (12, 3, 2, 1, 3)],  # identity; stride 3; 1 x 3
)


@checker("9.4", "Bottleneck", forbid=_BOTTLENECK_CLASSES)
def bottleneck_block(student_cls) -> str:
    """Check ``student_cls(in_channels, mid_channels, stride)`` against Bottleneck."""
    return _check_block(student_cls, _BOTTLENECK)


# ----------------------------------------------------------- 9.5 separable costs


_SEPARABLE_CASES = [
    # (c_in, c_out, k, h, w, stride)
    (32, 64, 3, 112, 112, 1),
    (64, 128, 3, 112, 112, 2),
    (512, 512, 3, 14, 14, 1),
    (3, 8, 5, 9, 7, 2),
    (16, 24, 7, 10, 10, 1),
]
_HIDDEN_SEPARABLE = [
    (5, 3, 3, 7, 6, 3),  # stride 3 on odd sizes
    (8, 16, 1, 4, 5, 2),  # a 1x1 depthwise kernel
    (6, 2, 9, 9, 4, 1),  # a kernel larger than the width
]


def _separable_reference(c_in, c_out, k, h, w, stride) -> tuple[int, int, int, int]:
    """(params, macs, depthwise macs, output positions) of depthwise k x k + pointwise 1×1."""
    block = nn.Sequential(
        nn.Conv2d(c_in, c_in, k, stride, padding=k // 2, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_out, 1, bias=False),
    )
    with torch.no_grad():
        out = block(torch.zeros(1, c_in, h, w))
    _, params, macs = _costs(block, (c_in, h, w))
    positions = int(out.shape[2] * out.shape[3])
    return params, macs, c_in * k * k * positions, positions


def _separable_hint(got, expected, case, depthwise_macs, positions) -> str:
    (params, macs), (right_params, right_macs) = got, expected
    c_in, c_out, k, h, w, stride = case
    if (params, macs) == (right_macs, right_params):
        return "the pair is in the wrong order: return (params, macs)."
    if params != right_params:
        if params == right_params + c_in + c_out:
            return "these convolutions have no biases (BatchNorm follows them)."
        if params == c_in * c_in * k * k + c_in * c_out:
            return "the depthwise conv has groups=C_in: one k x k filter per channel, C_in*k*k."
        if params == c_in * k * k:
            return "add the pointwise 1×1 conv: C_in * C_out weights."
        if params == c_out * k * k + c_in * c_out:
            return "the depthwise conv has C_in filters (one per input channel), not C_out."
        return "params = C_in * k * k (depthwise) + C_in * C_out (pointwise)."
    if macs == 2 * right_macs:
        return "that is FLOPs; MACs are half of it."
    if macs == params * h * w and stride != 1:
        return "count output positions: with stride 2 there are about H * W / 4 of them."
    if macs == depthwise_macs + c_in * c_out * h * w and stride != 1:
        return "the 1×1 conv runs on the depthwise output, H' x W', not on the input."
    if macs == params:
        return "multiply by the number of output positions H' * W'."
    if macs == depthwise_macs:
        return "add the MACs of the pointwise 1×1 conv."
    return (
        "MACs = H' * W' * (C_in * k * k + C_in * C_out), with "
        "H' = floor((H + 2*(k//2) - k) / stride) + 1."
    )


@checker(
    "9.5",
    "separable_cost",
    forbid=(
        *_COUNTERS,
        "helpers.models.DepthwiseSeparable",
        "helpers.models.mobilenet.DepthwiseSeparable",
    ),
)
def separable_cost(student_fn) -> str:
    """Check ``student_fn(c_in, c_out, k, h, w, stride) -> (params, macs)`` of a
    depthwise-separable convolution (depthwise k x k, then pointwise 1×1, no biases)."""
    for heading, case in numbered_cases(_SEPARABLE_CASES, hidden=_HIDDEN_SEPARABLE):
        c_in, c_out, k, h, w, stride = case
        label = f"{heading} (c_in={c_in}, c_out={c_out}, k={k}, h={h}, w={w}, stride={stride})"
        got = call(student_fn, *case, case=label)
        mine = whole_pair(got, case=label, names=("params", "macs"))
        params, macs, depthwise_macs, positions = _separable_reference(*case)
        if mine != (params, macs):
            hint = _separable_hint(mine, (params, macs), case, depthwise_macs, positions)
            raise Mismatch(
                f"{label}:\ngot (params, macs) = ({mine[0]:,}, {mine[1]:,}), expected "
                f"({params:,}, {macs:,}).\nHint: {hint}"
            )
    count = case_count(_SEPARABLE_CASES, _HIDDEN_SEPARABLE)
    return (
        f"{count} cases match nn.Conv2d(groups=C_in) + a 1×1 conv, among them MobileNet's layers."
    )


# ------------------------------------------------------------------ 9.6 channel shuffle

# (N, C, H, W, groups); C != groups**2 in the cases shown, so the inverse shuffle differs
_SHUFFLE_CASES = [
    (2, 6, 3, 4, 2),
    (1, 12, 2, 2, 3),
    (2, 8, 3, 1, 4),
    (3, 10, 2, 3, 5),
    (1, 24, 2, 2, 4),
]
_HIDDEN_SHUFFLE = [
    (2, 9, 2, 2, 3),  # C = g**2: the shuffle is its own inverse
    (1, 7, 3, 2, 1),  # one group: nothing moves
    (2, 6, 2, 2, 6),  # as many groups as channels: nothing moves either
    (1, 30, 1, 1, 5),
]
_SHUFFLE_FORBID = (
    "torch.nn.ChannelShuffle",
    "torch.nn.functional.channel_shuffle",
    "torch.native_channel_shuffle",
    "helpers.models.channel_shuffle",
    "helpers.models.shufflenet.channel_shuffle",
)


def _permutation(channels: int, groups: int) -> np.ndarray:
    """Output channel ``i`` of the shuffle is input channel ``perm[i]``."""
    return np.arange(channels).reshape(groups, channels // groups).T.ravel()


def _channel_sources(got: np.ndarray, x: np.ndarray) -> list[int] | None:
    """For each output channel, the input channel it equals exactly; None if one equals none."""
    sources = []
    for c in range(got.shape[1]):
        same = [i for i in range(x.shape[1]) if np.array_equal(got[:, c], x[:, i])]
        if not same:
            return None
        sources.append(same[0])
    return sources


def _shuffle_hint(sources, channels: int, groups: int) -> str:
    n = channels // groups
    if sources == list(range(channels)):
        return (
            "the channels are in their original order: after reshaping to (N, g, C/g, H, W), "
            "transpose the two channel axes (1 and 2) before flattening back."
        )
    if sources == list(np.arange(channels).reshape(n, groups).T.ravel()):
        return (
            f"that is the inverse shuffle: you reshaped the channels to (C/g, g) = ({n}, "
            f"{groups}); reshape to (g, C/g) = ({groups}, {n}), groups first, then transpose."
        )
    if len(set(sources)) < channels:
        return "some input channels appear twice and others not at all: move every channel once."
    return (
        "a permutation of the channels, but not the shuffle: reshape to (N, g, C/g, H, W), "
        "transpose axes 1 and 2, reshape to (N, C, H, W)."
    )


@checker("9.6", "channel_shuffle", forbid=_SHUFFLE_FORBID)
def channel_shuffle(student_fn) -> str:
    """Check ``student_fn(x, groups)`` -> ``x`` with its channels shuffled (ShuffleNet)."""
    for heading, (n, c, h, w, g) in numbered_cases(_SHUFFLE_CASES, hidden=_HIDDEN_SHUFFLE):
        label = f"{heading} (x.shape=({n}, {c}, {h}, {w}), groups={g})"
        x = torch.randn(n, c, h, w, generator=generator(heading.number))
        got = answer(student_fn, x.clone(), g, case=label)
        got = to_numpy(got, case=label)
        x_np = x.numpy()
        expected = x_np[:, _permutation(c, g)]
        if got.shape == (n, g, c // g, h, w) or got.shape == (n, c // g, g, h, w):
            raise Mismatch(
                f"{label}:\nyour output has shape {got.shape}, expected {(n, c, h, w)}.\n"
                "Hint: flatten the two channel axes back into one: reshape to (N, C, H, W)."
            )
        if got.shape == expected.shape:
            sources = _channel_sources(got, x_np)
            if sources is None:
                raise Mismatch(
                    f"{label}:\nyour output is not a permutation of the input channels: some "
                    "output channel holds values from other channels or other positions.\n"
                    "Hint: reshape only the channel axis, (N, C, H, W) -> (N, g, C/g, H, W), "
                    "and keep H and W where they are."
                )
            if sources != list(_permutation(c, g)):
                raise Mismatch(
                    f"{label}:\nyour output moves whole channels, but to the wrong places: "
                    f"output channels 0..{c - 1} come from input channels {sources}, expected "
                    f"{list(map(int, _permutation(c, g)))}.\nHint: {_shuffle_hint(sources, c, g)}"
                )
        compare(got, expected, case=label, atol=0.0, rtol=0.0, float32_tolerance=False)
    count = case_count(_SHUFFLE_CASES, _HIDDEN_SHUFFLE)
    return (
        f"{count} cases: a permutation of the channels, and the one of ShuffleNet "
        "(reshape to (g, C/g), transpose, flatten)."
    )
