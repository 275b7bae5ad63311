"""Checkers for notebook 04 (pooling). Pooling answers are compared with PyTorch."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .answers import real_number
from .arrays import compare, describe, show_pair
from .core import Mismatch, call, case_count, checker, numbered_cases
from .grading import rng

__all__ = ["avg_pool2d_conv", "max_pool2d_naive", "unchanged_fraction"]


def _torch_pool(fn, x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    return fn(torch.from_numpy(x), kernel_size, stride).numpy()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b))


def _pool_shape_hints(x: np.ndarray, k: int, s: int, expected_shape) -> list:
    """Shapes that typical mistakes produce, with a hint for each."""
    n, c, h, w = x.shape
    h_out, w_out = expected_shape[2:]
    hints = [
        (
            (n, c, h - k + 1, w - k + 1),
            "that is the size for stride 1; move the window by `stride`.",
        ),
        (
            (n, c, h_out - 1, w_out - 1),
            "off by one: there are floor((H - k) / stride) + 1 windows.",
        ),
        (
            (n, c, h_out + 1, w_out + 1),
            "off by one: there are floor((H - k) / stride) + 1 windows.",
        ),
        (
            (n, c, -(-(h - k) // s) + 1, -(-(w - k) // s) + 1),
            "round down: a window that sticks out of the input is dropped (floor, not ceil).",
        ),
        (
            (n, c, h // s, w // s),
            "the output size is floor((H - k) / stride) + 1, which is H // stride only when "
            "the kernel equals the stride.",
        ),
        ((n, h_out, w_out), "pool each channel separately and keep the channel axis."),
        ((n, 1, h_out, w_out), "pool each channel separately: do not take the max over C."),
        ((c, n, h_out, w_out), "the batch axis comes first: (N, C, H_out, W_out)."),
        ((n, c, w_out, h_out), "height and width are swapped."),
    ]
    return [(shape, hint) for shape, hint in hints if tuple(shape) != tuple(expected_shape)]


_MAX_POOL = (
    "helpers.pool.max_pool2d",
    "torch.nn.functional.max_pool2d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.max_pool2d",
)
"""Max pooling done by a library: Exercise 4.1 asks for the loops."""

_AVG_POOL = ("helpers.pool.avg_pool2d", "torch.nn.functional.avg_pool2d")
"""Average pooling done by a library: Exercise 4.2 builds it from helpers.conv.conv2d."""


@checker("4.1", "max_pool2d_naive", forbid=_MAX_POOL)
def max_pool2d_naive(student_fn) -> str:
    """Check ``student_fn(x, kernel_size, stride)``: x (N, C, H, W) -> (N, C, H_out, W_out)."""
    random = rng(41)
    cases = [
        (np.array([[[[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]]), 2, 2),
        (random.standard_normal((2, 3, 6, 6)), 2, 2),
        (random.standard_normal((1, 2, 7, 5)), 3, 2),
        (-np.abs(random.standard_normal((2, 1, 5, 5))) - 0.1, 2, 1),
        (random.standard_normal((2, 2, 9, 8)), 3, 3),
        (random.standard_normal((1, 3, 5, 9)), 2, 3),
    ]
    hidden = [  # a window as large as the input, a 1x1 window with stride 2, odd sizes
        (random.standard_normal((3, 2, 4, 4)), 4, 1),
        (random.standard_normal((1, 1, 11, 6)), 1, 2),
        (random.standard_normal((2, 3, 10, 7)), 4, 2),
    ]
    for heading, (x, k, s) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({describe(x=x, kernel_size=k, stride=s)})"
        expected = _torch_pool(F.max_pool2d, x, k, s)
        mistakes = [
            (
                _torch_pool(F.avg_pool2d, x, k, s),
                "that is average pooling; max pooling keeps the largest value of each window.",
            ),
            (
                np.maximum(expected, 0),
                "negative maxima came out as 0: start the running maximum at -inf (or at "
                "the first element of the window), not at 0.",
            ),
            (
                expected.transpose(0, 1, 3, 2),
                "rows and columns are swapped: out[n, c, i, j] is the window that starts at "
                "row i*stride and column j*stride.",
            ),
        ]
        compare(
            call(student_fn, x, k, s, case=label),
            expected,
            case=label,
            shape_hints=_pool_shape_hints(x, k, s, expected.shape),
            known_mistakes=mistakes,
        )
    return (
        f"{case_count(cases, hidden)} cases match torch.nn.functional.max_pool2d "
        "(overlapping, non-overlapping, all-negative)."
    )


@checker("4.2", "avg_pool2d_conv", forbid=_AVG_POOL)
def avg_pool2d_conv(student_fn) -> str:
    """Check ``student_fn(x, kernel_size, stride)``: average pooling written as a convolution."""
    random = rng(42)
    cases = [
        (np.arange(16.0).reshape(1, 1, 4, 4), 2, 2),
        (random.standard_normal((2, 3, 6, 6)), 2, 2),
        (random.standard_normal((1, 4, 7, 8)), 3, 2),
        (random.standard_normal((3, 2, 5, 5)), 3, 1),
        (random.standard_normal((1, 3, 9, 6)), 3, 3),
    ]
    hidden = [  # a window as large as the input, a stride larger than the kernel
        (random.standard_normal((2, 5, 6, 6)), 6, 1),
        (random.standard_normal((1, 2, 10, 7)), 2, 3),
    ]
    for heading, (x, k, s) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({describe(x=x, kernel_size=k, stride=s)})"
        expected = _torch_pool(F.avg_pool2d, x, k, s)
        channel_sum = expected.sum(axis=1, keepdims=True)
        mixed = np.broadcast_to(channel_sum, expected.shape)
        mistakes = [
            (
                expected * k * k,
                f"every value is {k * k} = k*k times too large: the kernel's weights must "
                "be 1 / (k*k), so that they sum to 1.",
            ),
            (
                mixed,
                "every output channel is the sum over all input channels: a (C, C, k, k) "
                "weight mixes channels. Pool each channel on its own: a (C, 1, k, k) weight "
                "with groups=C, or reshape x to (N*C, 1, H, W).",
            ),
            (
                mixed / x.shape[1],
                "every output channel is the mean over all input channels: pool each "
                "channel on its own (groups=C, or reshape x to (N*C, 1, H, W)).",
            ),
            (
                _torch_pool(F.max_pool2d, x, k, s),
                "that is max pooling; this exercise wants the average of each window.",
            ),
            (expected.transpose(0, 1, 3, 2), "height and width are swapped (transposed)."),
            (
                _torch_pool(F.avg_pool2d, x, k, 1),
                "that is the average over every window at stride 1: pass stride=stride to "
                "conv2d (its default is 1).",
            ),
        ]
        for padding in range(1, k):
            mistakes.append(
                (
                    _padded_average(x, k, s, padding),
                    f"you padded the input (padding={padding}); average pooling here has no "
                    "padding: the output is floor((H - k) / stride) + 1 high.",
                )
            )
        n, c, h, w = x.shape
        shape_hints = [
            (
                (n, 1, *expected.shape[2:]),
                "one output channel per input channel: pool every channel on its own.",
            ),
            ((n, c, h - k + 1, w - k + 1), "pass stride=stride to conv2d (the default is 1)."),
            ((n, c, h // k, w // k), "no padding here: the output is floor((H - k) / stride) + 1."),
        ]
        compare(
            call(student_fn, x, k, s, case=label),
            expected,
            case=label,
            shape_hints=[hint for hint in shape_hints if hint[0] != expected.shape],
            known_mistakes=[m for m in mistakes if not _same(m[0], expected)],
        )
    return f"{case_count(cases, hidden)} cases match torch.nn.functional.avg_pool2d."


def _padded_average(x: np.ndarray, k: int, s: int, padding: int) -> np.ndarray:
    """Average pooling of x zero-padded by ``padding`` (zeros counted): a typical mistake."""
    c = x.shape[1]
    weight = torch.full((c, 1, k, k), 1.0 / (k * k), dtype=torch.float64)
    return F.conv2d(torch.from_numpy(x), weight, stride=s, padding=padding, groups=c).numpy()


_SHIFT_ZERO = (
    "with shift 0 nothing moves, so the answer is 1.0. Careful: x[:, :, :-0] is empty "
    "(-0 is 0); use x[:, :, : W - shift]."
)


def _shift_right(images: np.ndarray, shift: int) -> np.ndarray:
    shifted = np.zeros_like(images)
    shifted[:, :, shift:] = images[:, :, : images.shape[2] - shift]
    return shifted


def _fraction(images: np.ndarray, shifted: np.ndarray, k: int, *, count_all=False, pool=None):
    """Reference measurement; the keyword arguments produce typical wrong answers."""
    pool = pool or F.max_pool2d
    a = pool(torch.from_numpy(images[:, None]), k).numpy()
    b = pool(torch.from_numpy(shifted[:, None]), k).numpy()
    where = np.ones(a.shape, dtype=bool) if count_all else (a != 0) | (b != 0)
    if not where.any():  # no ink anywhere: nothing changed (np.mean of nothing would be nan)
        return 1.0
    return float(np.mean(a[where] == b[where]))


def _invariance_images(random: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Sparse images that look a little like digits: a few bright strokes on black."""
    images = np.zeros((n, size, size))
    for image in images:
        for _ in range(3):
            top, left = random.integers(0, size - 3, 2)
            height, width = random.integers(2, 6, 2)
            image[top : top + height, left : left + width] = random.choice([0.5, 1.0])
        image[random.integers(0, size), size - 1] = 1.0  # ink at the right border
    return images


# The exercise asks for helpers.pool.max_pool2d, and no library does the measurement:
# nothing to forbid.
@checker("4.3", "unchanged_fraction", forbid=())
def unchanged_fraction(student_fn) -> str:
    """Check ``student_fn(images, shift, kernel_size) -> float`` (the invariance measurement).

    Shift ``images: (N, H, W)`` right by ``shift`` pixels (zeros enter on the left), max-pool
    the original and the shifted images (kernel = stride = ``kernel_size``; 1 means the raw
    pixels), and return the fraction of equal outputs among the positions where either
    output is non-zero.
    """
    random = rng(43)
    # (shift, kernel size, image size, blank): the last case has no ink at all
    cases = [
        (1, 2, 12, False),
        (2, 2, 12, False),
        (1, 1, 12, False),
        (3, 4, 16, False),
        (0, 2, 12, False),
        (2, 3, 15, False),
        (1, 2, 12, True),
    ]
    # sizes that the kernel does not divide, a shift as large as the kernel, a wide kernel
    hidden = [(5, 2, 13, False), (4, 4, 18, False), (2, 5, 20, False)]
    count, shifts, kernels = 0, set(), set()
    for heading, (shift, k, size, blank) in numbered_cases(cases, hidden=hidden):
        count += 1
        shifts.add(shift)
        kernels.add(k)
        images = _invariance_images(random, 6, size)
        if blank:
            images = np.zeros_like(images)
        label = f"{heading} ({describe(images=images, shift=shift, kernel_size=k)})"
        try:
            got = call(student_fn, images, shift, k, case=label)
        except Mismatch as error:
            if shift == 0:  # the classic x[:, :, :-shift] bug: an empty slice when shift is 0
                raise Mismatch(f"{error}\nHint: {_SHIFT_ZERO}") from error
            raise
        got = real_number(got, case=label)
        shifted = _shift_right(images, shift)
        expected = _fraction(images, shifted, k)
        if np.isclose(got, expected, rtol=0, atol=1e-6):
            continue
        hint = (
            "shift along the width (the last axis) by `shift` columns, filling with zeros; "
            "pool with kernel_size = stride = k; compare where either pooled value is non-zero."
        )
        left = np.zeros_like(images)
        left[:, :, : size - shift] = images[:, :, shift:]
        wrong = [
            (100 * expected, "return a fraction between 0 and 1, not a percentage."),
            (1 - expected, "that is the fraction that *changed*; return the unchanged fraction."),
            (
                _fraction(images, np.roll(images, shift, axis=2), k),
                "np.roll wraps the right edge around to the left; shift with zeros instead "
                "(the pixels that leave the image are lost).",
            ),
            (
                _fraction(images, shifted, k, count_all=True),
                "you counted every output; count only positions where the original or the "
                "shifted output is non-zero (the black background is trivially unchanged).",
            ),
            (
                _fraction(images, left, k),
                "you shifted left; shift right (zeros enter on the left).",
            ),
            (
                _fraction(
                    images, np.swapaxes(_shift_right(np.swapaxes(images, 1, 2), shift), 1, 2), k
                ),
                "you shifted down; shift along the width (the last axis), to the right.",
            ),
            (
                _fraction(images, shifted, k, pool=F.avg_pool2d),
                "use max pooling (the experiment is about max pooling).",
            ),
        ]
        if shift == 0:
            hint = _SHIFT_ZERO
        if blank:
            hint = (
                "no position has ink in these images: nothing changed, so return 1.0 "
                "(np.mean of an empty array is nan)."
            )
        # a fraction is one number: two mistakes may give the same one; name every match
        matches = [
            text
            for value, text in wrong
            if not np.isclose(value, expected) and np.isclose(got, value, rtol=0, atol=1e-6)
        ]
        if matches:
            hint = "\nOr: ".join(dict.fromkeys(matches))
        shown, right = show_pair(got, expected)
        raise Mismatch(f"{label}:\ngot {shown}, expected {right}.\nHint: {hint}")
    return (
        f"{count} cases match the reference measurement (shifts {min(shifts)} to "
        f"{max(shifts)}, kernels {min(kernels)} to {max(kernels)}, and blank images)."
    )
