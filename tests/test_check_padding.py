"""Checkers of notebook 02: the reference answers pass; typical mistakes get a specific hint."""

from __future__ import annotations

import pytest
import torch
from checker_contract import contract_tests, grading_tests
from torch import nn

from helpers import check
from helpers.check.padding import CLAIMS
from helpers.costs import count_params, model_costs
from helpers.shapes import conv_output_size


def size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def same_padding(k, d=1):
    total = d * (k - 1)
    return None if total % 2 else total // 2


def predict_shapes(input_shape, layers):
    c, h, w = input_shape
    shapes = []
    for layer in layers:
        args = (layer["kernel_size"], layer["stride"], layer["padding"], layer["dilation"])
        c, h, w = layer["out_channels"], size(h, *args), size(w, *args)
        shapes.append((c, h, w))
    return shapes


def conv2d_cost(in_shape, c_out, k, s=1, p=0, d=1, groups=1, bias=True):
    c_in, h, w = in_shape
    params = c_out * (c_in // groups) * k * k + (c_out if bias else 0)
    macs = c_out * size(h, k, s, p, d) * size(w, k, s, p, d) * (c_in // groups) * k * k
    return params, macs


def bottleneck_costs(h, w, c_in, c_out, k, c_mid=None):
    layers = [(c_in, c_out, k)] if c_mid is None else [(c_in, c_mid, 1), (c_mid, c_out, k)]
    return {
        "macs": sum(h * w * o * i * kk * kk for i, o, kk in layers),
        "params": sum(o * i * kk * kk for i, o, kk in layers),
        "activations": sum(h * w * o for _, o, _ in layers),
    }


ANSWERS = {"a": 5, "b": 3, "c": 73_856, "d": 589_824, "e": 2, "f": 1, "g": 760, "h": 768_000}
ANSWERS["i"] = 5  # the NNDL padding example: its printed output says 4


def spot_the_mistakes():
    return dict(ANSWERS)


def with_answers(**changes):
    return lambda: {**ANSWERS, **changes}


# checker -> (reference answer, {kind of mistake: (wrong answer, words the verdict must contain)})
CASES = {
    check.conv_output_size: (
        size,  # helpers.shapes.conv_output_size is forbidden in grading mode
        {
            "the course's function": (conv_output_size, ["passed"]),
            "true division": (
                lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * (k - 1) - 1) / s + 1,
                ["not a whole number", "//"],
            ),
            "ceil": (
                lambda n, k, s=1, p=0, d=1: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1,
                ["rounded up", "floor"],
            ),
            "no dilation": (lambda n, k, s=1, p=0, d=1: size(n, k, s, p), ["dilation is missing"]),
            "d times k": (
                lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * k) // s + 1,
                ["d*(k-1) + 1", "not d*k"],
            ),
            "padding once": (
                lambda n, k, s=1, p=0, d=1: (n + p - d * (k - 1) - 1) // s + 1,
                ["both", "n + 2p"],
            ),
            "off by one": (lambda n, k, s=1, p=0, d=1: size(n, k, s, p, d) - 1, ["off by one"]),
            "no defaults": (lambda n, k, s, p, d: size(n, k, s, p, d), ["raised TypeError"]),
            "string": (lambda *args: "5", ["whole number"]),
        },
    ),
    check.same_padding: (
        same_padding,
        {
            "ignores dilation": (
                lambda k, d=1: None if (k - 1) % 2 else (k - 1) // 2,
                ["seed notes", "D(K-1)/2"],
            ),
            "float for odd": (lambda k, d=1: d * (k - 1) / 2, ["No whole number", "None"]),
            "rounds down odd": (lambda k, d=1: d * (k - 1) // 2, ["odd", "return None"]),
            "None everywhere": (lambda k, d=1: None, ["returned None", "keeps the size"]),
            "total padding": (
                lambda k, d=1: None if d * (k - 1) % 2 else d * (k - 1),
                ["got 2, expected 1", "n + 2P - D(K-1)"],
            ),
        },
    ),
    check.predict_shapes: (
        predict_shapes,
        {
            "last shape only": (lambda s, layers: predict_shapes(s, layers)[-1], ["one shape"]),
            "with input": (
                lambda s, layers: [tuple(s), *predict_shapes(s, layers)],
                ["leave out the input"],
            ),
            "channels kept": (
                lambda s, layers: [(s[0], *t[1:]) for t in predict_shapes(s, layers)],
                ["out_channels"],
            ),
            "swapped": (
                lambda s, layers: [(c, w, h) for c, h, w in predict_shapes(s, layers)],
                ["swapped"],
            ),
            "no stride": (
                lambda s, layers: predict_shapes(s, [{**la, "stride": 1} for la in layers]),
                ["after layer 1", "conv_output_size"],
            ),
            "lists": (lambda s, layers: [list(t) for t in predict_shapes(s, layers)], ["passed"]),
            "not shapes": (lambda s, layers: [1, 2, 3], ["list of (C, H, W)"]),
        },
    ),
    check.conv2d_cost: (
        conv2d_cost,
        {
            "swapped": (lambda *a: conv2d_cost(*a)[::-1], ["swapped"]),
            "params times HW": (
                lambda shape, *a: (conv2d_cost(shape, *a)[1], conv2d_cost(shape, *a)[1]),
                ["do not depend on the image size", "F^2 K L H W"],
            ),
            "no bias": (
                lambda shape, c_out, *a: (
                    conv2d_cost(shape, c_out, *a)[0] - c_out * a[-1],
                    conv2d_cost(shape, c_out, *a)[1],
                ),
                ["forgot the biases"],
            ),
            "input size": (
                lambda shape, c_out, k, *a: (
                    conv2d_cost(shape, c_out, k, *a)[0],
                    c_out * shape[1] * shape[2] * shape[0] * k * k,
                ),
                ["*output* size"],
            ),
            "FLOPs": (lambda *a: (conv2d_cost(*a)[0], 2 * conv2d_cost(*a)[1]), ["FLOP count"]),
            "bias adds counted": (
                lambda shape, c_out, k, s, p, d, g, b: (
                    conv2d_cost(shape, c_out, k, s, p, d, g, b)[0],
                    conv2d_cost(shape, c_out, k, s, p, d, g, b)[1]
                    + c_out * size(shape[1], k, s, p, d) * size(shape[2], k, s, p, d),
                ),
                ["bias additions"],
            ),
            "ignores groups": (
                lambda shape, c_out, k, s, p, d, g, b: conv2d_cost(shape, c_out, k, s, p, d, 1, b),
                ["groups=32", "C_in / groups = 1"],
            ),
            "a single number": (lambda *a: 760, ["pair (params, macs)"]),
        },
    ),
    check.bottleneck_costs: (
        bottleneck_costs,
        {
            "final map only": (
                lambda h, w, ci, co, k, cm=None: {
                    **bottleneck_costs(h, w, ci, co, k, cm),
                    "activations": h * w * co,
                },
                ["activations", "must be stored"],
            ),
            "forgot 1x1 MACs": (
                lambda h, w, ci, co, k, cm=None: {
                    **bottleneck_costs(h, w, ci, co, k, cm),
                    "macs": h * w * co * (cm or ci) * k * k,
                },
                ["MACs of the 1×1 layer"],
            ),
            "with biases": (
                lambda h, w, ci, co, k, cm=None: {
                    **bottleneck_costs(h, w, ci, co, k, cm),
                    "params": bottleneck_costs(h, w, ci, co, k, cm)["params"] + co + (cm or 0),
                },
                ["no biases"],
            ),
            "FLOPs": (
                lambda h, w, ci, co, k, cm=None: {
                    **bottleneck_costs(h, w, ci, co, k, cm),
                    "macs": 2 * bottleneck_costs(h, w, ci, co, k, cm)["macs"],
                },
                ["that is FLOPs"],
            ),
            "tuple": (
                lambda *a: tuple(bottleneck_costs(*a).values()),
                ["'macs'", "'params'", "'activations'"],
            ),
            "missing key": (
                lambda *a: {"macs": bottleneck_costs(*a)["macs"]},
                ["'macs'", "'params'", "'activations'"],
            ),
        },
    ),
    check.spot_the_mistakes: (
        spot_the_mistakes,
        {
            "kept the seed values": (
                with_answers(a=3, b=2, d=524_288, e=1),
                [
                    "4 of the 9 values",
                    "claim a: 3 is the value the notes claim",
                    "claim b",
                    "claim e",
                ],
            ),
            "params equal MACs": (
                with_answers(c=9 * 64 * 128 * 56 * 56),
                ["claim c", "multiply-adds", "F^2 K L + L"],
            ),
            "changed a right claim": (with_answers(g=750), ["claim g", "this claim is right"]),
            "depth": (with_answers(f=32), ["claim f", "depthwise"]),
            "half": (with_answers(b=2.5), ["claim b", "not a whole number"]),
            "missing": (lambda: {"a": 5}, ["Missing: b, c, d, e, f, g, h, i"]),
            "centre": (with_answers(i=4), ["claim i", "4", "notes claim"]),
            "extra key": (with_answers(z=1), ["Unknown keys: 'z'"]),
            "a list": (lambda: list(ANSWERS.values()), ["expected a dict"]),
            "no weights": (with_answers(c=73_728), ["claim c: 73,728 is not right"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="2", says_where=False)  # spot_the_mistakes has no cases


def test_claims_are_listed_and_answered():
    assert sorted(CLAIMS) == sorted(ANSWERS)
    assert all(claim.endswith(")") for claim in CLAIMS.values())  # each says what to give
    text = str(check.spot_the_mistakes.verdict(spot_the_mistakes))
    assert "a, b, c, d, e, f, i were wrong" in text and "g, h were right" in text


# Grading mode. Exercise 2.6 is the one documented exception to the test that grading
# calls the answer on new data: spot_the_mistakes() takes no arguments and its nine claims
# are fixed (the notebook prints them from CLAIMS), so there is no data to hide or to
# shift. test_spot_the_mistakes_grading_asks_the_same_question pins that; its other four
# grading tests run as for every checker.
globals().update(grading_tests(CASES, unrecorded=[check.spot_the_mistakes]))


def test_spot_the_mistakes_grading_asks_the_same_question():
    calls = []

    def recorded(*args, **kwargs):
        calls.append((args, kwargs))
        return spot_the_mistakes()

    check.spot_the_mistakes.verdict(recorded)
    check.spot_the_mistakes.grade(recorded)
    assert calls == [((), {}), ((), {})]  # no arguments: nothing a hidden case could vary
    assert check.spot_the_mistakes.forbid == ()  # the exercise asks for nn.Conv2d, summary...


@pytest.mark.parametrize(
    "checker, answer",
    [
        (check.conv_output_size, lambda *args: conv_output_size(*args)),
        (
            check.predict_shapes,
            lambda shape, layers: [
                tuple(
                    nn.Conv2d(shape[0], la["out_channels"], la["kernel_size"], la["stride"])(
                        torch.zeros(1, *shape)
                    ).shape[1:]
                )
                for la in layers
            ],
        ),
        (
            check.conv2d_cost,
            lambda shape, c_out, k, s, p, d, g, b: (
                count_params(nn.Conv2d(shape[0], c_out, k, s, p, d, g, b)),
                model_costs(nn.Conv2d(shape[0], c_out, k, s, p, d, g, b), shape).macs,
            ),
        ),
    ],
    ids=["conv_output_size", "predict_shapes", "conv2d_cost"],
)
def test_grading_stops_the_library_shortcuts(checker, answer):
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        checker.grade(answer)
