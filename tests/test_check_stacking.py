"""Checker of notebook 01, Exercise 1.6 (stack_shapes): reference passes, mistakes get hints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from checker_contract import PASSES, contract_tests, grading_tests

from helpers import check


def stack_shapes(input_shape, filters):
    c, h, w = input_shape
    result = []
    for count, k in filters:
        weight = (count, c, k, k)
        c, h, w = count, h - k + 1, w - k + 1
        result.append((weight, (c, h, w)))
    return result


def edit(change):
    """The reference answer with every (weight, output) pair passed through ``change``."""

    def answer(input_shape, filters):
        return [change(weight, out) for weight, out in stack_shapes(input_shape, filters)]

    return answer


def image_depth(input_shape, filters):
    return [((w[0], input_shape[0], *w[2:]), out) for w, out in stack_shapes(input_shape, filters)]


def same_padding(input_shape, filters):
    c, h, w = input_shape
    return [
        ((n, c_in, k, k), (n, h, w)) for (n, c_in, k, _), _ in stack_shapes(input_shape, filters)
    ]


CASES = {
    check.stack_shapes: (
        [
            stack_shapes,
            edit(lambda w, o: (list(w), list(o))),  # lists
            edit(lambda w, o: (torch.Size(w), np.array(o))),  # torch.Size and arrays
            edit(lambda w, o: (tuple(np.int64(v) for v in w), torch.tensor(o))),  # scalars
        ],
        {
            "C_in and C_out swapped": (
                edit(lambda w, o: ((w[1], w[0], *w[2:]), o)),
                ["(C_out, C_in, kH, kW)", "filters comes first"],
            ),
            "depth of the image": (image_depth, ["layer 1", "previous layer's output"]),
            "off by one": (edit(lambda w, o: (w, (o[0], o[1] - 1, o[2] - 1))), ["H - k + 1"]),
            "output channels": (edit(lambda w, o: (w, (w[1], *o[1:]))), ["one channel"]),
            "same padding": (same_padding, ["valid (no padding)", "k - 1"]),
            "height and width swapped": (edit(lambda w, o: (w, (o[0], o[2], o[1]))), ["swapped"]),
            "last layer only": (
                lambda s, f: stack_shapes(s, f)[-1:],
                ["(weight_shape, output_shape)", "per layer"],
            ),
            "with the input": (
                lambda s, f: [(None, tuple(s)), *stack_shapes(s, f)],
                ["the input not included"],
            ),
            "output shapes only": (
                lambda s, f: [o for _, o in stack_shapes(s, f)],
                ["pair", "(weight_shape, output_shape)"],
            ),
            "batch axis in the output": (
                edit(lambda w, o: (w, (1, *o))),
                ["expected a shape of 3 numbers"],
            ),
            "not a whole number": (
                edit(lambda w, o: (w, (o[0], o[1] + 0.5, o[2]))),
                ["not a whole number"],
            ),
            "a number": (lambda s, f: 7, ["list", "(weight_shape, output_shape)"]),
            "returns None": (lambda s, f: None, ["None", "return"]),
            "a generator, lists inside": (
                lambda s, f: ([list(w), list(o)] for w, o in stack_shapes(s, f)),
                PASSES,
            ),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="1")


def test_seed_stack_is_case_1():
    # seed 000: 3 x 32 x 32 -> 6 filters 5 x 5 -> 10 filters 3 x 3 x 6
    assert stack_shapes((3, 32, 32), [(6, 5), (10, 3)]) == [
        ((6, 3, 5, 5), (6, 28, 28)),
        ((10, 6, 3, 3), (10, 26, 26)),
    ]
    text = str(check.stack_shapes.verdict(image_depth))
    assert "Case 1 of 5" in text and "(10, 3, 3, 3)" in text and "(10, 6, 3, 3)" in text


globals().update(grading_tests(CASES))


def test_grading_stops_building_the_layers():
    def with_layers(input_shape, filters):
        x, result = torch.zeros(1, *input_shape), []
        for count, k in filters:
            layer = torch.nn.Conv2d(x.shape[1], count, k)
            x = layer(x)
            result.append((tuple(layer.weight.shape), tuple(x.shape[1:])))
        return result

    assert check.stack_shapes.verdict(with_layers).passed
    with pytest.raises(AssertionError, match="torch.nn.Conv2d is not allowed"):
        check.stack_shapes.grade(with_layers)
