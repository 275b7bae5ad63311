"""Checkers of notebook 04: the reference passes; typical wrong answers get a specific verdict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_contract import contract_tests, grading_tests, transposed

from helpers.check.pooling import avg_pool2d_conv, max_pool2d_naive, unchanged_fraction
from helpers.conv import conv2d
from helpers.pool import avg_pool2d, max_pool2d


def max_pool_loops(x, k, s, start=-np.inf):
    """A naive max pool; ``start`` = 0 reproduces the classic bug."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k]
            out[:, :, i, j] = np.maximum(window.max(axis=(2, 3)), start)
    return out


def avg_by_conv(x, k, s, weight=None, groups=True):
    c = x.shape[1]
    if groups:
        w = np.full((c, 1, k, k), 1 / (k * k)) if weight is None else weight
        return conv2d(x, w, stride=s, groups=c)
    w = np.full((c, c, k, k), 1 / (k * k)) if weight is None else weight
    return conv2d(x, w, stride=s)


def avg_by_reshape(x, k, s):
    n, c, h, w = x.shape
    out = conv2d(x.reshape(n * c, 1, h, w), np.full((1, 1, k, k), 1 / (k * k)), stride=s)
    return out.reshape(n, c, *out.shape[2:])


def shift_right(images, shift):
    shifted = np.zeros_like(images)
    shifted[:, :, shift:] = images[:, :, : images.shape[2] - shift]
    return shifted


def fraction(images, shift, k, shifted=None, pool=max_pool2d, count_all=False):
    shifted = shift_right(images, shift) if shifted is None else shifted
    a, b = pool(images[:, None], k), pool(shifted[:, None], k)
    where = np.ones(a.shape, bool) if count_all else (a != 0) | (b != 0)
    if not where.any():  # blank images: nothing changed
        return 1.0
    return float(np.mean(a[where] == b[where]))


def fraction_nan_when_blank(images, shift, k):
    shifted = shift_right(images, shift)
    a, b = max_pool2d(images[:, None], k), max_pool2d(shifted[:, None], k)
    where = (a != 0) | (b != 0)
    with warnings.catch_warnings():  # numpy warns about the mean of an empty slice
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.mean(a[where] == b[where]))  # nan for blank images


def shift_with_negative_zero_bug(images, shift, k):
    shifted = np.zeros_like(images)
    shifted[:, :, shift:] = images[:, :, :-shift]  # empty slice when shift == 0
    return fraction(images, shift, k, shifted)


# checker -> (reference, {kind of mistake: (wrong answer, words the verdict must contain)})
CASES = {
    max_pool2d_naive: (
        max_pool_loops,
        {
            "running max starts at 0": (
                lambda x, k, s: max_pool_loops(x, k, s, start=0.0),
                ["-inf", "not at 0"],
            ),
            "average instead of max": (avg_pool2d, ["average pooling"]),
            "stride ignored": (lambda x, k, s: max_pool2d(x, k, 1), ["stride 1"]),
            "off by one": (lambda x, k, s: max_pool2d(x, k, s)[:, :, :-1, :-1], ["off by one"]),
            "max over channels": (
                lambda x, k, s: max_pool2d(x, k, s).max(axis=1, keepdims=True),
                ["do not take the max over C"],
            ),
            "channel axis dropped": (
                lambda x, k, s: max_pool2d(x, k, s)[:, 0],
                ["keep the channel axis"],
            ),
            "batch and channel swapped": (
                transposed(max_pool2d, 1, 0, 2, 3),
                ["batch axis comes first"],
            ),
            "height and width swapped": (
                transposed(max_pool2d, 0, 1, 3, 2),
                ["rows and columns are swapped"],
            ),
            "wrong values": (lambda x, k, s: max_pool2d(x, k, s) + 1, ["values are wrong"]),
            "string": (lambda x, k, s: "pooled", ["not an array of numbers"]),
            "list of lists": (lambda x, k, s: max_pool2d(x, k, s).tolist(), ["passed"]),
        },
    ),
    avg_pool2d_conv: (
        avg_by_conv,
        {
            "reshape is fine too": (avg_by_reshape, ["passed"]),
            "kernel of ones": (
                lambda x, k, s: avg_by_conv(x, k, s, weight=np.ones((x.shape[1], 1, k, k))),
                ["times too large", "1 / (k*k)"],
            ),
            "channels mixed": (
                lambda x, k, s: avg_by_conv(x, k, s, groups=False),
                ["sum over all input channels", "groups=C"],
            ),
            "channels averaged": (
                lambda x, k, s: avg_by_conv(
                    x,
                    k,
                    s,
                    weight=np.full((x.shape[1], x.shape[1], k, k), 1 / (x.shape[1] * k * k)),
                    groups=False,
                ),
                ["mean over all input channels"],
            ),
            "single output channel": (
                lambda x, k, s: conv2d(x, np.full((1, x.shape[1], k, k), 1 / (k * k)), stride=s),
                ["output channel", "per input channel"],
            ),
            "stride forgotten": (lambda x, k, s: avg_by_conv(x, k, 1), ["stride=stride"]),
            "max instead of average": (max_pool2d, ["that is max pooling"]),
            "transposed": (transposed(avg_pool2d, 0, 1, 3, 2), ["transposed"]),
            "off by one": (lambda x, k, s: avg_pool2d(x, k, s)[..., 1:, 1:], ["has shape"]),
            "NaN": (lambda x, k, s: avg_pool2d(x, k, s) * np.nan, ["NaN"]),
        },
    ),
    unchanged_fraction: (
        fraction,
        {
            "percentage": (lambda im, s, k: 100 * fraction(im, s, k), ["not a percentage"]),
            "nan for blank images": (fraction_nan_when_blank, ["no position has ink", "1.0"]),
            "changed fraction": (lambda im, s, k: 1 - fraction(im, s, k), ["*changed*"]),
            "np.roll": (
                lambda im, s, k: fraction(im, s, k, np.roll(im, s, axis=2)),
                ["np.roll wraps"],
            ),
            "background counted": (
                lambda im, s, k: fraction(im, s, k, count_all=True),
                ["you counted every output"],
            ),
            "shifted left": (
                lambda im, s, k: fraction(im, s, k, shift_right(im[:, :, ::-1], s)[:, :, ::-1]),
                ["you shifted left"],
            ),
            "shifted down": (
                lambda im, s, k: fraction(
                    im, s, k, np.swapaxes(shift_right(np.swapaxes(im, 1, 2), s), 1, 2)
                ),
                ["you shifted down"],
            ),
            "average pooling": (
                lambda im, s, k: fraction(im, s, k, pool=avg_pool2d),
                ["use max pooling"],
            ),
            "the -0 slice bug": (shift_with_negative_zero_bug, ["Case 5", "x[:, :, :-0] is empty"]),
            "off by one pixel": (lambda im, s, k: fraction(im, s + 1, k), ["got", "expected"]),
            "an array": (lambda im, s, k: np.array([0.5, 0.5]), ["expected one number"]),
            "a string": (lambda im, s, k: "0.5", ["expected one number"]),
            "numpy scalar is fine": (lambda im, s, k: np.float32(fraction(im, s, k)), ["passed"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="4")

globals().update(grading_tests(CASES))


def test_student_input_mutation_does_not_leak_between_cases():
    def mutating(x, k, s):
        result = max_pool2d(x, k, s)
        x[...] = 0
        return result

    assert max_pool2d_naive.verdict(mutating).passed


@pytest.mark.parametrize(
    "checker, shortcut",
    [
        (max_pool2d_naive, lambda x, k, s: max_pool2d(x, k, s)),
        (max_pool2d_naive, lambda x, k, s: F.max_pool2d(torch.from_numpy(x), k, s).numpy()),
        (avg_pool2d_conv, lambda x, k, s: avg_pool2d(x, k, s)),
        (avg_pool2d_conv, lambda x, k, s: F.avg_pool2d(torch.from_numpy(x), k, s).numpy()),
    ],
)
def test_grading_refuses_a_library_pooling(checker, shortcut):
    assert checker.verdict(shortcut).passed  # the student's own check cannot tell
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        checker.grade(shortcut)
