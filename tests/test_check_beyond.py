"""Checkers of notebook 11: the reference answers pass; typical mistakes get a specific hint."""

from __future__ import annotations

import numpy as np
from checker_contract import contract_tests, grading_tests

from helpers import check


def triple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3


def text_cnn_shapes(batch, seq_len, embed_dim, branches):
    shapes = [(batch, c, seq_len - k + 1) for c, k in branches]
    return shapes, sum(c for c, _ in branches)


def rising_tone_filter():
    kernel = np.eye(7)
    return kernel - kernel.mean()


def conv3d_cost(in_shape, out_channels, kernel_size, stride=1, padding=0):
    c_in, *sizes = in_shape
    k, s, p = triple(kernel_size), triple(stride), triple(padding)
    out = [(n + 2 * pp - kk) // ss + 1 for n, kk, ss, pp in zip(sizes, k, s, p, strict=True)]
    per_output = c_in * k[0] * k[1] * k[2]
    return out_channels * per_output + out_channels, out_channels * np.prod(out) * per_output


def text_variant(change):
    def answer(batch, seq_len, embed_dim, branches):
        return change(batch, seq_len, embed_dim, branches)

    return answer


def kernel(array):
    return lambda: np.asarray(array, dtype=float)


def cost_variant(change):
    def answer(in_shape, out_channels, kernel_size, stride=1, padding=0):
        params, macs = conv3d_cost(in_shape, out_channels, kernel_size, stride, padding)
        return change(params, macs, in_shape, out_channels, kernel_size)

    return answer


def no_depth(shape, c, k, s=1, p=0):
    params, macs = conv3d_cost(shape, c, k, s, p)
    kd = triple(k)[0]
    return (params - c) // kd + c, macs // kd


def input_size(shape, c, k, s=1, p=0):
    kd, kh, kw = triple(k)
    return conv3d_cost(shape, c, k, s, p)[0], c * int(np.prod(shape)) * kd * kh * kw


CASES = {
    check.text_cnn_shapes: (
        text_cnn_shapes,
        {
            "along embedding": (
                text_variant(
                    lambda b, n, e, br: ([(b, c, e - k + 1) for c, k in br], sum(c for c, _ in br))
                ),
                ["embedding axis", "along time"],
            ),
            "off by one": (
                text_variant(
                    lambda b, n, e, br: ([(b, c, n - k) for c, k in br], sum(c for c, _ in br))
                ),
                ["off by one", "L - K + 1"],
            ),
            "no batch": (
                text_variant(
                    lambda b, n, e, br: ([(c, n - k + 1) for c, k in br], sum(c for c, _ in br))
                ),
                ["batch axis"],
            ),
            "embed channels": (
                text_variant(
                    lambda b, n, e, br: ([(b, e, n - k + 1) for c, k in br], sum(c for c, _ in br))
                ),
                ["out_channels"],
            ),
            "features keep time": (
                text_variant(
                    lambda b, n, e, br: (
                        [(b, c, n - k + 1) for c, k in br],
                        sum(c * (n - k + 1) for c, k in br),
                    )
                ),
                ["n_features", "length disappears"],
            ),
            "only shapes": (
                text_variant(lambda b, n, e, br: [(b, c, n - k + 1) for c, k in br]),
                ["pair (shapes, n_features)"],
            ),
        },
    ),
    check.rising_tone_filter: (
        rising_tone_filter,
        {
            "falling": (kernel(np.fliplr(np.eye(7)) - 1 / 7), ["falling", "origin='lower'"]),
            "not zero mean": (kernel(np.eye(7)), ["sum to zero"]),
            "constant": (kernel(np.ones((5, 5))), ["constant kernel"]),
            "too short": (kernel(np.eye(5) - 0.2), ["longer diagonal", "1.5 times"]),
            "1-D": (kernel(np.ones(5)), ["2-D array"]),
            "too large": (kernel(np.eye(20)), ["between 2 and 15"]),
            "nan": (kernel(np.full((3, 3), np.nan)), ["NaN"]),
        },
    ),
    check.conv3d_cost: (
        conv3d_cost,
        {
            "no bias": (cost_variant(lambda p, m, s, c, k: (p - c, m)), ["biases"]),
            "2-D formula": (no_depth, ["kD"]),
            "swapped": (cost_variant(lambda p, m, s, c, k: (m, p)), ["swapped"]),
            "input size": (input_size, ["output size"]),
            "bias as MAC": (
                lambda s, c, k, st=1, p=0: (
                    conv3d_cost(s, c, k, st, p)[0],
                    conv3d_cost(s, c, k, st, p)[1]
                    + conv3d_cost(s, c, k, st, p)[1] // (s[0] * int(np.prod(triple(k)))),
                ),
                ["bias is not a multiply-accumulate"],
            ),
            "fraction": (cost_variant(lambda p, m, s, c, k: (p + 0.5, m)), ["whole number"]),
            "one number": (cost_variant(lambda p, m, s, c, k: p), ["pair (params, macs)"]),
        },
    ),
}


(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="11", says_where=False)

# rising_tone_filter() takes no arguments: grading mode plays it other sounds (new noise, three
# more tones), which no recorder of the answer's calls can see (test_grading_plays_other_sounds).
globals().update(grading_tests(CASES, unrecorded=[check.rising_tone_filter]))


def test_grading_plays_other_sounds():
    from helpers.check import beyond, grading

    rising, others = beyond._spectrograms(grading.seed(110), grading.is_hidden())
    with grading.hidden_mode("11.2"):
        more_rising, more_others = beyond._spectrograms(grading.seed(110), grading.is_hidden())
    assert len(more_rising) == len(rising) + 1 and len(more_others) == len(others) + 2
    noise, new_noise = others[-1][1], more_others[-1][1]
    assert others[-1][0] == more_others[-1][0] == "white noise"
    assert not np.array_equal(noise, new_noise)


def test_not_a_function():
    assert "Expected a function" in str(check.conv3d_cost.verdict(42))


def test_numpy_integers_are_accepted():
    def numpy_ints(*args):
        params, macs = conv3d_cost(*args)
        return np.int64(params), np.int64(macs)

    assert check.conv3d_cost.verdict(numpy_ints).passed
