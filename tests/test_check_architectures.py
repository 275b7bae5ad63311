"""Checkers of notebook 08: the reference answers pass; typical mistakes get a specific hint."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from checker_contract import contract_tests, grading_tests
from torch import nn

from helpers import check
from helpers.models import LeNet5
from helpers.models import vgg_block as reference_vgg_block
from helpers.models.fully_convolutional import linear_to_conv as reference_linear_to_conv
from helpers.shapes import conv_output_size

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------- answers for 8.1 lenet5


def lenet(
    act=nn.ReLU, pool=nn.MaxPool2d, padding=2, classes=10, bias=True, last=None, conv_c5=False
):
    flat = 16 * (5 if padding == 2 else 4) ** 2
    c5 = [nn.Conv2d(16, 120, 5, bias=bias), nn.Flatten()] if conv_c5 else []
    head = [] if conv_c5 else [nn.Flatten(), nn.Linear(flat, 120, bias=bias)]
    layers = [
        nn.Conv2d(1, 6, 5, padding=padding, bias=bias),
        act(),
        pool(2),
        nn.Conv2d(6, 16, 5, bias=bias),
        act(),
        pool(2),
        *c5,
        *head,
        act(),
        nn.Linear(120, 84, bias=bias),
        act(),
        nn.Linear(84, classes, bias=bias),
    ]
    if last is not None:
        layers.append(last())
    return nn.Sequential(*layers)


# ------------------------------------------------------------ answers for 8.2 layer_table


def table(layers, input_shape, *, bias=True, bias_macs=False, hwc=False, ceil=False, in_macs=False):
    rows, shape = [], tuple(input_shape)
    for spec in layers:
        if spec[0] == "conv":
            _, c_out, k, s, p = spec
            side = conv_output_size(shape[1:], k, s, p)
            out = (c_out, *side)
            params = c_out * shape[0] * k * k + (c_out if bias else 0)
            positions = math.prod(shape[1:] if in_macs else side)
            macs = positions * c_out * shape[0] * k * k
        elif spec[0] == "pool":
            _, k, s = spec
            side = tuple((-(-(n - k) // s) if ceil else (n - k) // s) + 1 for n in shape[1:])
            out, params, macs = (shape[0], *side), 0, 0
        else:
            n_in = math.prod(shape)
            out = (spec[1],)
            params = n_in * spec[1] + (spec[1] if bias else 0)
            macs = n_in * spec[1]
        if bias_macs:
            macs += math.prod(out) if spec[0] != "pool" else 0
        shown = (*out[1:], out[0]) if hwc and len(out) == 3 else out
        rows.append((shown, params, macs))
        shape = out
    return rows


# --------------------------------------------------------------- answers for 8.3 vgg_block


def block(num_convs, c_in, c_out, padding=1, pool=nn.MaxPool2d, relu=True, same_in=False):
    layers = []
    for i in range(num_convs):
        layers.append(nn.Conv2d(c_in if (i == 0 or same_in) else c_out, c_out, 3, padding=padding))
        if relu:
            layers.append(nn.ReLU())
    if pool is not None:
        layers.append(pool(2, 2))
    return nn.Sequential(*layers)


def stack(c, layers, k):
    return layers * k * k * c * c, (1 + layers * (k - 1)) ** 2 * c * c


# ------------------------------------------------------- answers for 8.6 linear_to_conv


def fc_conv(linear, in_shape, *, order="chw", bias=True, kernel=None):
    c, h, w = in_shape
    out = linear.out_features
    conv = nn.Conv2d(c, out, kernel or (h, w), bias=linear.bias is not None)
    with torch.no_grad():
        weight = linear.weight.reshape(out, c, h, w)
        if order == "hwc":
            weight = linear.weight.reshape(out, h, w, c).permute(0, 3, 1, 2)
        if kernel is None:
            conv.weight.copy_(weight)
        if conv.bias is not None:
            conv.bias.copy_(linear.bias if bias else torch.zeros_like(conv.bias))
    return conv


def fc_kept(linear, in_shape):
    return nn.Sequential(nn.Flatten(), linear)


CASES = {
    check.lenet5: (
        lambda: LeNet5("relu", "max"),
        {
            "hand-written Sequential": (lambda: lenet(), ["passed"]),
            "C5 as a 5x5 convolution": (lambda: lenet(conv_c5=True), ["passed"]),
            "the 1998 network": (lambda: lenet(nn.Tanh, nn.AvgPool2d), ["1998", "ReLU"]),
            "average pooling": (lambda: lenet(pool=nn.AvgPool2d), ["max pooling"]),
            "tanh": (lambda: lenet(act=nn.Tanh), ["not tanh"]),
            "no padding": (lambda: lenet(padding=0), ["44,426", "padding=2"]),
            "no biases": (lambda: lenet(bias=False), ["biases"]),
            "ReLU after the output": (lambda: lenet(last=nn.ReLU), ["never negative", "logits"]),
            "wrong output size": (lambda: lenet(classes=5), ["shape (4, 5)", "expected (4, 10)"]),
            "no flatten": (
                lambda: nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Linear(28, 10)),
                ["returns shape", "flatten"],
            ),
            "forward crashes": (
                lambda: nn.Sequential(nn.Conv2d(1, 6, 5), nn.Flatten(), nn.Linear(400, 10)),
                ["raised RuntimeError"],
            ),
            "not a module": (lambda: [nn.Conv2d(1, 6, 5)], ["expected a torch.nn.Module"]),
        },
    ),
    check.layer_table: (
        table,
        {
            "no biases": (partial(table, bias=False), ["forgot the biases"]),
            "biases counted as MACs": (partial(table, bias_macs=True), ["biases are not counted"]),
            "channels last (transposed shape)": (
                partial(table, hwc=True),
                ["(channels, height, width)"],
            ),
            "pool off by one (ceil)": (partial(table, ceil=True), ["floor((n - K) / S) + 1"]),
            "MACs over input positions": (partial(table, in_macs=True), ["*output* positions"]),
            "rows missing": (lambda L, s: table(L, s)[:-1], ["one row per layer"]),
            "a dict": (lambda L, s: {"rows": table(L, s)}, ["a list of rows"]),
            "bad row": (lambda L, s: [r[1] for r in table(L, s)], ["each row must be a tuple"]),
            "float MACs": (
                lambda L, s: [(a, b, c + 0.5) for a, b, c in table(L, s)],
                ["whole number"],
            ),
            "shapes as lists": (
                lambda L, s: [(list(a), b, c) for a, b, c in table(L, s)],
                ["passed"],
            ),
        },
    ),
    check.vgg_block: (
        reference_vgg_block,
        {
            "hand-written": (block, ["passed"]),
            "ReLU after the pool too": (
                lambda n, i, o: nn.Sequential(*block(n, i, o), nn.ReLU()),
                ["passed"],
            ),
            "no padding": (lambda n, i, o: block(n, i, o, padding=0), ["padding=1"]),
            "no pool": (lambda n, i, o: block(n, i, o, pool=None), ["MaxPool2d"]),
            "average pool": (lambda n, i, o: block(n, i, o, pool=nn.AvgPool2d), ["not average"]),
            "no ReLU": (lambda n, i, o: block(n, i, o, relu=False), ["conv -> ReLU"]),
            "in_channels everywhere": (
                lambda n, i, o: block(n, i, o, same_in=True),
                ["raised RuntimeError"],
            ),
            "wrong out channels": (lambda n, i, o: block(n, i, o + 1), ["out_channels channels"]),
            "a list of layers": (lambda n, i, o: list(block(n, i, o)), ["torch.nn.Module"]),
        },
    ),
    check.stack_vs_single: (
        stack,
        {
            "swapped": (lambda c, L, k: stack(c, L, k)[::-1], ["wrong order"]),
            "with biases": (
                lambda c, L, k: (stack(c, L, k)[0] + L * c, stack(c, L, k)[1] + c),
                ["no biases"],
            ),
            "receptive field L*K": (
                lambda c, L, k: (stack(c, L, k)[0], (L * k) ** 2 * c * c),
                ["each layer adds K - 1"],
            ),
            "one layer only": (lambda c, L, k: (k * k * c * c, stack(c, L, k)[1]), ["num_layers"]),
            "C instead of C squared": (
                lambda c, L, k: (L * k * k * c, stack(c, L, k)[1]),
                ["C channels to C channels"],
            ),
            "a single number": (lambda c, L, k: stack(c, L, k)[0], ["expected a pair"]),
            "strings": (lambda c, L, k: ("27C²", "49C²"), ["whole number"]),
            "floats that are whole": (
                lambda c, L, k: tuple(float(v) for v in stack(c, L, k)),
                ["passed"],
            ),
        },
    ),
    check.linear_to_conv: (
        reference_linear_to_conv,
        {
            "hand-written": (fc_conv, ["passed"]),
            "channels last": (partial(fc_conv, order="hwc"), ["(out_features, C, H, W)"]),
            "bias not copied": (partial(fc_conv, bias=False), ["copy the bias"]),
            "the linear layer kept": (fc_kept, ["not a linear layer", "(N, out_features, 1, 1)"]),
            "a 1x1 kernel": (partial(fc_conv, kernel=1), ["covers the whole (H, W) map"]),
            "the weights as they are": (
                lambda linear, s: nn.Conv2d(s[0], linear.out_features, s[1:]),
                ["differ from the linear layer"],
            ),
            "a tensor": (lambda linear, s: linear.weight, ["expected a torch.nn.Module"]),
        },
    ),
}
(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="8")


class LeNetByHand(nn.Sequential):
    """lenet5 answered with a class: the recorder of the grading tests then sees the inputs
    of forward, the only data a function without arguments receives."""

    def __init__(self):
        super().__init__(*lenet())


# Grading mode forbids helpers.models.LeNet5 and vgg_block: the answers written by hand take
# its tests.
GRADED = {
    **CASES,
    check.lenet5: ([LeNetByHand, lambda: lenet()], CASES[check.lenet5][1]),
    check.vgg_block: ([block], CASES[check.vgg_block][1]),
    check.linear_to_conv: ([fc_conv], CASES[check.linear_to_conv][1]),
}

globals().update(grading_tests(GRADED))


def test_alexnet_layers_match_the_model():
    """ALEXNET_LAYERS describes helpers.models.AlexNet(groups=1)."""
    from helpers.check.architectures import ALEXNET_LAYERS
    from helpers.models import AlexNet
    from helpers.summary import summary

    with torch.device("meta"):
        model = AlexNet(groups=1)
    s = summary(model, (3, 227, 227))
    weighted = [
        (r.output_shape, r.params, r.macs) for r in s.rows if r.type in ("Conv2d", "Linear")
    ]
    ours = [
        row
        for spec, row in zip(ALEXNET_LAYERS, table(ALEXNET_LAYERS, (3, 227, 227)), strict=True)
        if spec[0] != "pool"
    ]
    assert ours == weighted
