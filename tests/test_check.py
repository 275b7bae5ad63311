"""Every checker: the reference answer passes; typical wrong answers get a specific verdict.

A checker must never raise, must print exactly one verdict, and must say *what* is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from checker_contract import contract_tests, grading_tests, transposed
from numpy.lib.stride_tricks import sliding_window_view

from helpers import check
from helpers.check.answers import whole_number, whole_pair
from helpers.check.core import Mismatch, NotAttempted
from helpers.check.modules import run_module


def conv2d(x, w, b=None, padding=0):
    """Cross-correlation in NumPy, x (N, C, H, W), w (O, C, kH, kW), b (O,): the references
    are written without helpers.conv.conv2d, which grading mode forbids in Exercises 1.2-1.4."""
    if padding == "same":  # as PyTorch: the extra zero of an even kernel goes at the end
        pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in w.shape[2:]]
    else:
        pads = [(p, p) for p in ((padding, padding) if np.isscalar(padding) else padding)]
    x = np.pad(x, ((0, 0), (0, 0), *pads))
    windows = sliding_window_view(x, w.shape[2:], axis=(2, 3))  # (N, C, H', W', kH, kW)
    out = np.einsum("nchwuv,ocuv->nohw", windows, w)
    return out if b is None else out + b[:, None, None]


def xcorr1d(x, w):
    return conv2d(x[None, None, None], w[None, None, None])[0, 0, 0]


def xcorr2d(x, w):
    return conv2d(x[None, None], w[None, None])[0, 0]


def full_conv(a, k):
    kh, kw = k.shape
    padded = np.pad(a, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return xcorr2d(padded, k[::-1, ::-1])


# checker -> (reference answer, {kind of mistake: (wrong answer, words the verdict must contain)})
CASES = {
    check.conv1d_naive: (
        xcorr1d,
        {
            "flipped kernel": (lambda x, w: xcorr1d(x, w[::-1]), ["true convolution", "flipp"]),
            "off by one": (lambda x, w: xcorr1d(x, w)[:-1], ["shape", "off by one", "L - K + 1"]),
            "same padding": (
                lambda x, w: conv2d(x[None, None, None], w[None, None, None], padding="same")[
                    0, 0, 0
                ],
                ["'same' length", "no padding"],
            ),
            "full length": (lambda x, w: np.convolve(x, w[::-1], "full"), ["'full' length"]),
            "wrong values": (
                lambda x, w: xcorr1d(x, w) + 1,
                ["values are wrong", "got", "expected"],
            ),
            "string": (lambda x, w: "hello", ["not an array of numbers"]),
        },
    ),
    check.conv2d_single: (
        xcorr2d,
        {
            "transposed": (lambda x, w: xcorr2d(x, w).T, ["transposed"]),
            "flipped kernel": (lambda x, w: xcorr2d(x, w[::-1, ::-1]), ["true convolution"]),
            "off by one in padding": (
                lambda x, w: conv2d(x[None, None], w[None, None], padding=1)[0, 0],
                ["has shape", "expected"],
            ),
            "same size": (
                lambda x, w: conv2d(x[None, None], w[None, None], padding="same")[0, 0],
                ["input size", "smaller"],
            ),
            "list of lists": (lambda x, w: xcorr2d(x, w).tolist(), ["passed"]),  # accepted
        },
    ),
    check.conv2d_multi: (
        conv2d,
        {
            "no bias": (lambda x, w, b: conv2d(x, w), ["forgot to add the bias"]),
            "channels last": (transposed(conv2d, 0, 2, 3, 1), ["channels before"]),
            "batch and channel swapped": (
                transposed(conv2d, 1, 0, 2, 3),
                ["batch axis comes first"],
            ),
            "padded": (lambda x, w, b: conv2d(x, w, b, padding=1), ["has shape"]),
            "flipped": (lambda x, w, b: conv2d(x, w[:, :, ::-1, ::-1], b), ["true convolution"]),
            "NaN": (lambda x, w, b: conv2d(x, w, b) * np.nan, ["NaN"]),
        },
    ),
    check.conv_full: (
        full_conv,
        {
            "no flip": (lambda a, k: full_conv(a, k[::-1, ::-1]), ["cross-correlation", "rotate"]),
            "valid only": (xcorr2d, ["valid size", "pad"]),
            "transposed": (lambda a, k: full_conv(a, k).T, ["transposed"]),
            "off by one": (lambda a, k: full_conv(a, k)[1:, 1:], ["has shape"]),
        },
    ),
    check.combined_kernel: (
        full_conv,
        {
            "cross-correlation": (
                lambda a, k: full_conv(a, k[::-1, ::-1]),
                ["true (flipped) full"],
            ),
            "just k1": (lambda a, k: a, ["k1 + k2 - 1"]),
            "sum of kernels": (lambda a, k: a.sum() * k, ["has shape"]),
            "scaled": (lambda a, k: 2 * full_conv(a, k), ["values are wrong"]),
        },
    ),
    check.conv_parameters: (
        lambda c_in, c_out, k: c_out * (c_in * k * k + 1),
        {
            "no bias": (lambda c_in, c_out, k: c_out * c_in * k * k, ["forgot the biases"]),
            "one channel": (
                lambda c_in, c_out, k: c_out * (k * k + 1),
                ["all c_in input channels"],
            ),
            "bias per input": (
                lambda c_in, c_out, k: c_in * c_out * k * k + c_in,
                ["per *output* channel"],
            ),
            "string": (lambda c_in, c_out, k: "760", ["whole number"]),
            "float": (lambda c_in, c_out, k: 760.5, ["whole number"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES)


def test_student_input_mutation_does_not_leak_between_cases():
    def mutating(x, w):
        result = xcorr2d(x, w)
        x[...] = 0
        w[...] = 0
        return result

    assert check.conv2d_single.verdict(mutating).passed


def test_compare_non_square_wrong_values_gives_a_verdict():
    from helpers.check.arrays import compare
    from helpers.check.core import Mismatch

    expected = np.arange(6.0).reshape(2, 3)
    with pytest.raises(Mismatch, match="values are wrong"):
        compare(expected + 1, expected, case="Case 1")


class _Returns(torch.nn.Module):
    def __init__(self, make):
        super().__init__()
        self.make = make

    def forward(self, x):
        return self.make(x)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda x: x.mul_(0) + float("nan"), ["NaN or infinity"]),
        (lambda x: x.tolist(), ["returned a list, not a tensor"]),
        (lambda x: x @ x, ["Case 1", "(2, 3)", "RuntimeError", "Hint: shapes"]),
    ],
)
def test_run_module_explains_what_went_wrong(make, words):

    x = torch.ones(2, 3)
    with pytest.raises(Mismatch) as info:
        run_module(_Returns(make), x, case="Case 1", hint=lambda error: "shapes")
    for word in words:
        assert word in str(info.value)
    assert torch.equal(x, torch.ones(2, 3)), "the caller's x must not change"


def test_run_module_half_done_is_not_attempted():

    def half_done(x):
        raise NotImplementedError("Exercise 9.3")

    with pytest.raises(NotAttempted):
        run_module(_Returns(half_done), torch.ones(1), case="Case 1")


@pytest.mark.parametrize(
    "value, words",
    [
        (None, ["your function returned None", "return"]),
        ("5", ["'5'", "expected a whole number"]),
        (True, ["expected a whole number"]),
        (2.5, ["not a whole number", "//"]),
    ],
)
def test_whole_number_says_why_not(value, words):
    with pytest.raises(Mismatch) as info:
        whole_number(value, case="Case 1")
    for word in words:
        assert word in str(info.value)


def test_whole_number_accepts_numpy_and_torch_scalars():
    assert whole_number(np.int64(7), case="c") == 7
    assert whole_number(torch.tensor(3.0), case="c") == 3


@pytest.mark.parametrize(
    "got, words",
    [
        (None, ["you returned None"]),
        (760, ["expected a pair (params, macs)"]),
        ((1, 2, 3), ["expected a pair (params, macs)"]),
        ((760, 0.5), ["macs is 0.5", "not a whole number"]),
    ],
)
def test_whole_pair_says_why_not(got, words):
    with pytest.raises(Mismatch) as info:
        whole_pair(got, case="Case 1", names=("params", "macs"))
    for word in words:
        assert word in str(info.value)
    assert whole_pair([760, np.int64(5)], case="c", names=("params", "macs")) == (760, 5)


globals().update(grading_tests(CASES))


def _layer_parameters(c_in, c_out, k):
    return sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, k).parameters())


def _library_conv2d(x, w):
    from helpers.conv import conv2d as library

    return library(x[None, None], w[None, None])[0, 0]


def _transposed_conv(a, k):
    t = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(a)[None, None], torch.from_numpy(k)[None, None]
    )
    return t[0, 0].numpy()


@pytest.mark.parametrize(
    "checker, answer",
    [
        (check.conv_parameters, _layer_parameters),
        (check.conv2d_single, _library_conv2d),
        (check.conv_full, _transposed_conv),
    ],
    ids=["conv_parameters", "conv2d_single", "conv_full"],
)
def test_grading_stops_the_library_shortcuts(checker, answer):
    assert checker.verdict(answer).passed  # a right answer in the student's check
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        checker.grade(answer)
