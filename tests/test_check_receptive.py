"""Checkers of notebook 03: the reference passes; typical mistakes get a specific verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest
from checker_contract import contract_tests, grading_tests
from torch import nn

from helpers import check
from helpers.check.receptive import fewest_layers
from helpers.shapes import receptive_field


def field_size(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        size += d * (k - 1) * jump
        jump *= s
    return size, jump


def no_strides(layers):
    return 1 + sum(d * (k - 1) for k, s, d in layers), math.prod(s for _, s, _ in layers)


def own_stride(layers):
    size, jump = 1, 1
    for k, s, d in layers:
        jump *= s
        size += d * (k - 1) * jump
    return size, jump


def no_dilation(layers):
    return field_size([(k, s, 1) for k, s, _ in layers])


def dilation_times_k(layers):
    return field_size([(k * d, s, 1) for k, s, d in layers])


def stride_sum(layers):
    return field_size(layers)[0], sum(s for _, s, _ in layers) or 1


def dense(target, channels, dilations=None, kernel=3, bias=False, **conv):
    """3x3 layers with dilations 1, 3, 9, ... until the dense field reaches the target."""
    layers, field, dilation = [], 1, 1
    for step in range(100):
        if (
            dilations is None
            and field >= target
            or dilations is not None
            and step == len(dilations)
        ):
            break
        d = dilation if dilations is None else dilations[step]
        pad = conv.pop("padding", d * (kernel - 1) // 2) if step == 0 else d * (kernel - 1) // 2
        layers += [
            nn.Conv2d(channels, channels, kernel, padding=pad, dilation=d, bias=bias, **conv),
            nn.ReLU(),
        ]
        field += d * (kernel - 1)
        dilation *= 3
    return nn.Sequential(*layers)


def plain_stack(target, channels):
    n = math.ceil((target - 1) / 2)
    return nn.Sequential(
        *(nn.Conv2d(channels, channels, 3, padding=1, bias=False) for _ in range(n))
    )


def gridding(target, channels):
    return dense(target, channels, dilations=[2 * 3**i for i in range(fewest_layers(target))])


def powers_of_two(target, channels):
    count = math.ceil(math.log2((target + 1) / 2)) if target > 3 else 1
    return dense(target, channels, dilations=[2**i for i in range(count)])


def one_big_kernel(target, channels):
    k = target if target % 2 else target + 1
    return nn.Sequential(nn.Conv2d(channels, channels, k, padding=k // 2, bias=False))


CASES = {
    check.receptive_field_size: (
        field_size,
        {
            "ignores strides": (no_strides, ["ignored the strides", "1 + L(K-1)"]),
            "own stride": (own_stride, ["*before* it", "not by its own stride"]),
            "ignores dilation": (no_dilation, ["ignored the dilation", "d*(k-1)+1"]),
            "dilation times k": (dilation_times_k, ["not d*k"]),
            "swapped": (lambda layers: field_size(layers)[::-1], ["swapped"]),
            "wrong stride": (stride_sum, ["size is right", "product of all the strides"]),
            "one number": (lambda layers: field_size(layers)[0], ["one number", "pair"]),
            "off by one": (
                lambda layers: (field_size(layers)[0] - 1, field_size(layers)[1]),
                ["got (size, stride)", "expected", "start from r = 1"],
            ),
            "three values": (lambda layers: (*field_size(layers), 0), ["got 3 values"]),
            "floats": (lambda layers: (2.5, 1.0), ["whole numbers"]),
            "numpy pair": (lambda layers: np.array(field_size(layers)), ["passed"]),  # accepted
        },
    ),
    check.dense_field_network: (
        dense,
        {
            "plain 3x3 stack": (
                plain_stack,
                ["Case 2 of ", "(target=7, channels=4)", "fewest possible is", "dilations 1, 3, 9"],
            ),
            "gridding": (gridding, ["gridding", "no influence"]),
            "dilations 1, 2, 4": (powers_of_two, ["fewest possible"]),
            "one big kernel": (one_big_kernel, ["fewest possible", "weights"]),
            "with biases": (lambda t, c: dense(t, c, bias=True), ["bias=False"]),
            "valid padding": (lambda t, c: dense(t, c, padding=0), ["padding='same'"]),
            "stride 2": (lambda t, c: dense(t, c, stride=2), ["use stride 1"]),
            "depthwise": (lambda t, c: dense(t, c, groups=c), ["groups=1"]),
            "even kernel": (lambda t, c: dense(t, c, kernel=2), ["odd size"]),
            "too small": (lambda t, c: dense(3, c), ["smaller than the target"]),
            "wrong channels": (
                lambda t, c: nn.Sequential(nn.Conv2d(c, 2 * c, 3, padding=1)),
                ["keep `channels`"],
            ),
            "batch norm": (
                lambda t, c: nn.Sequential(dense(t, c), nn.BatchNorm2d(c)),
                ["BatchNorm2d", "only nn.Conv2d"],
            ),
            "a list": (
                lambda t, c: list(dense(t, c)),
                ["expected a torch.nn.Module", "nn.Sequential(*layers)"],
            ),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="3")

globals().update(grading_tests(CASES))


def test_fewest_layers_is_the_optimum_of_odd_square_kernels():
    # brute force over odd kernels 3..31: minimise sum(k*k) subject to prod(k) >= target
    def brute(target):
        best = {1: 0}
        for _ in range(6):
            for product, cost in list(best.items()):
                for k in range(3, 32, 2):
                    new = min(product * k, 10**4)
                    best[new] = min(best.get(new, 10**9), cost + k * k)
        return min(cost for product, cost in best.items() if product >= target)

    for target in range(2, 200):
        assert brute(target) == 9 * fewest_layers(target), target


def test_student_list_mutation_does_not_leak():
    def mutating(layers):
        result = field_size(layers)
        layers.clear()
        return result

    assert check.receptive_field_size.verdict(mutating).passed


def test_grading_refuses_the_course_receptive_field_tool():
    def measured(layers):
        model = nn.Sequential(*(nn.Conv1d(1, 1, k, s, dilation=d) for k, s, d in layers))
        field = receptive_field(model, (1, 1, 1000))
        return field.size, field.stride

    assert check.receptive_field_size.verdict(measured).passed  # students may try it
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        check.receptive_field_size.grade(measured)
