"""Checkers for notebook 01 (convolution). Every answer is compared with PyTorch."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .arrays import compare, describe, to_numpy, tolerances
from .core import Mismatch, call, case_count, checker, numbered_cases
from .grading import rng

__all__ = ["combined_kernel", "conv1d_naive", "conv2d_multi", "conv2d_single", "conv_full"]

_FLIPPED = (
    "your result equals a *true convolution* (kernel flipped). PyTorch's conv layers compute "
    "a cross-correlation: multiply x[i + u] by w[u], without flipping w."
)


def _torch_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Valid cross-correlation with torch: x (N, C, *S), w (O, C, *K), b (O,)."""
    fn = F.conv1d if x.ndim == 3 else F.conv2d
    bias = None if b is None else torch.from_numpy(b)
    return fn(torch.from_numpy(x), torch.from_numpy(w), bias).numpy()


def _full_true_conv(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Full ("wide") 2-D convolution with flipped kernel: shape (H + kH - 1, W + kW - 1)."""
    kh, kw = k.shape
    padded = np.pad(a, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    return _torch_conv(padded[None, None], k[::-1, ::-1].copy()[None, None])[0, 0]


_SIGNAL = (
    "numpy.convolve",
    "numpy.correlate",
    "torch.nn.functional.conv1d",
    "helpers.conv.conv1d",
)
# Exercises 1.2 and 1.3 write the 2-D cross-correlation: the library's conv2d is the answer.
_PLANE = ("torch.nn.functional.conv2d", "helpers.conv.conv2d")
# Exercise 1.4 pads, flips and cross-correlates by hand (with conv2d_single of 1.2 if you
# like); a transposed convolution of a by k is the full convolution itself.
_FULL = (
    *_PLANE,
    "torch.nn.functional.conv_transpose2d",
    "helpers.conv_transpose.conv_transpose2d",
)


@checker("1.1", "conv1d_naive", forbid=_SIGNAL)
def conv1d_naive(student_fn) -> str:
    """Check ``student_fn(x, w)``: valid 1-D cross-correlation, x (L,), w (K,) -> (L-K+1,)."""
    random = rng(11)
    cases = [
        (np.array([1.0, 2, 3, 4, 5]), np.array([1.0, 0, -1])),
        (random.standard_normal(9), random.standard_normal(4)),
        (random.standard_normal(6), random.standard_normal(1)),
        (random.standard_normal(5), random.standard_normal(5)),
        (random.standard_normal(12), random.standard_normal(2)),
    ]
    hidden = [
        (random.standard_normal(17), random.standard_normal(7)),
        (random.standard_normal(2), random.standard_normal(2)),
    ]
    for heading, (x, w) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({describe(x=x, w=w)})"
        expected = _torch_conv(x[None, None], w[None, None])[0, 0]
        length, k = len(x), len(w)
        compare(
            call(student_fn, x, w, case=label),
            expected,
            case=label,
            shape_hints=[
                ((length - k,), "off by one: a kernel of size K fits in L - K + 1 positions."),
                (
                    (length + k - 1,),
                    "that is the 'full' length; keep only positions where "
                    "the whole kernel lies inside x.",
                ),
                ((length,), "that is the 'same' length; this exercise has no padding."),
            ],
            known_mistakes=[
                (_torch_conv(x[None, None], w[::-1].copy()[None, None])[0, 0], _FLIPPED)
            ],
        )
    return f"{case_count(cases, hidden)} cases match torch.nn.functional.conv1d."


@checker("1.2", "conv2d_single", forbid=_PLANE)
def conv2d_single(student_fn) -> str:
    """Check ``student_fn(x, w)``: valid 2-D cross-correlation, (H, W), (kH, kW) -> (H', W')."""
    random = rng(12)
    cases = [
        (np.arange(16.0).reshape(4, 4), np.array([[1.0, 0], [0, -1]])),
        (random.standard_normal((5, 5)), random.standard_normal((3, 3))),
        (random.standard_normal((6, 9)), random.standard_normal((2, 4))),
        (random.standard_normal((7, 4)), random.standard_normal((3, 1))),
        (random.standard_normal((3, 3)), random.standard_normal((3, 3))),
    ]
    hidden = [
        (random.standard_normal((8, 3)), random.standard_normal((5, 2))),  # tall, odd kernel
        (random.standard_normal((2, 7)), random.standard_normal((2, 7))),  # kernel = image
        (random.standard_normal((1, 6)), random.standard_normal((1, 3))),  # one row
    ]
    for heading, (x, w) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({describe(x=x, w=w)})"
        expected = _torch_conv(x[None, None], w[None, None])[0, 0]
        (h, wd), (kh, kw) = x.shape, w.shape
        compare(
            call(student_fn, x, w, case=label),
            expected,
            case=label,
            shape_hints=[
                ((h - kh, wd - kw), "off by one: a kernel of size K fits in H - K + 1 positions."),
                ((h, wd), "that is the input size; without padding the output is smaller."),
                ((wd - kw + 1, h - kh + 1), "height and width are swapped."),
            ],
            known_mistakes=[
                (_torch_conv(x[None, None], w[::-1, ::-1].copy()[None, None])[0, 0], _FLIPPED)
            ],
        )
    count = case_count(cases, hidden)
    return f"{count} cases (square and non-square) match torch.nn.functional.conv2d."


@checker("1.3", "conv2d_multi", forbid=_PLANE)
def conv2d_multi(student_fn) -> str:
    """Check ``student_fn(x, w, b)``: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,)."""
    random = rng(13)
    shapes = [
        (1, 1, 4, 4, 1, 3, 3),
        (2, 3, 5, 6, 4, 3, 3),
        (3, 2, 6, 5, 3, 2, 4),
        (1, 4, 3, 3, 2, 1, 1),
    ]
    hidden = [
        (2, 2, 5, 4, 3, 5, 4),  # the kernel covers the whole image: a 1 x 1 output
        (1, 5, 7, 9, 6, 3, 2),  # more filters than input channels, odd sizes
        (4, 1, 6, 3, 1, 1, 3),
    ]
    for heading, (n, c_in, h, wd, c_out, kh, kw) in numbered_cases(shapes, hidden=hidden):
        x = random.standard_normal((n, c_in, h, wd))
        w = random.standard_normal((c_out, c_in, kh, kw))
        b = random.standard_normal(c_out)
        label = f"{heading} ({describe(x=x, w=w, b=b)})"
        expected = _torch_conv(x, w, b)
        out_h, out_w = h - kh + 1, wd - kw + 1
        compare(
            call(student_fn, x, w, b, case=label),
            expected,
            case=label,
            shape_hints=[
                (
                    (n, c_in, out_h, out_w),
                    "one output channel per *filter* (C_out), not per input channel.",
                ),
                ((c_out, n, out_h, out_w), "the batch axis comes first: (N, C_out, H', W')."),
                ((n, out_h, out_w, c_out), "PyTorch puts channels before height and width."),
                ((n, c_out, h, wd), "without padding the output is (H - kH + 1, W - kW + 1)."),
            ],
            known_mistakes=[
                (expected - b[None, :, None, None], "you forgot to add the bias b[o]."),
                (_torch_conv(x, w[:, :, ::-1, ::-1].copy(), b), _FLIPPED),
            ],
        )
    count = case_count(shapes, hidden)
    return f"{count} cases match torch.nn.functional.conv2d (batches, channels, bias)."


@checker("1.4", "conv_full", forbid=_FULL)
def conv_full(student_fn) -> str:
    """Check ``student_fn(a, k)``: full (wide) true convolution, shape (H+kH-1, W+kW-1)."""
    random = rng(14)
    cases = [
        (np.array([[1.0, 2], [3, 4]]), np.array([[0.0, 1], [2, 0]])),
        (random.standard_normal((4, 4)), random.standard_normal((3, 3))),
        (random.standard_normal((5, 3)), random.standard_normal((2, 4))),
        (random.standard_normal((3, 6)), random.standard_normal((3, 2))),
    ]
    hidden = [
        (random.standard_normal((2, 3)), random.standard_normal((4, 5))),  # k larger than a
        (random.standard_normal((3, 4)), random.standard_normal((1, 1))),
        (random.standard_normal((1, 5)), random.standard_normal((3, 1))),
    ]
    for heading, (a, k) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({describe(a=a, k=k)})"
        expected = _full_true_conv(a, k)
        no_flip = _full_true_conv(a, k[::-1, ::-1].copy())
        (h, wd), (kh, kw) = a.shape, k.shape
        compare(
            call(student_fn, a, k, case=label),
            expected,
            case=label,
            shape_hints=[
                (
                    (h - kh + 1, wd - kw + 1),
                    "that is the valid size; pad a with K - 1 zeros on every side first.",
                ),
                ((h, wd), "that is the 'same' size; the full output is (H + kH - 1, W + kW - 1)."),
            ],
            known_mistakes=[
                (
                    no_flip,
                    "that is a full cross-correlation: rotate k by 180° "
                    "(np.flip or k[::-1, ::-1]) before sliding it.",
                )
            ],
        )
    a, k = cases[1]
    swapped = call(student_fn, k, a, case="Commutativity check")
    compare(swapped, _full_true_conv(a, k), case="Commutativity check: conv_full(k, a)")
    return f"{case_count(cases, hidden)} cases match, and conv_full(a, k) == conv_full(k, a)."


def _distinct(mistakes, expected: np.ndarray) -> list:
    """The mistakes whose result differs from the right one and from the mistakes before it
    (a 1-row kernel flipped along its rows is not flipped at all)."""
    kept = []
    for array, hint in mistakes:
        seen = [expected, *(a for a, _ in kept)]
        if not any(a.shape == array.shape and np.allclose(a, array) for a in seen):
            kept.append((array, hint))
    return kept


# Exercise 1.5 asks *which* kernel combines the two; once that is found (the full true
# convolution), computing it with conv_full of 1.4, the notebook's full_conv (helpers.conv)
# or torch is a right answer. Nothing is forbidden.
@checker("1.5", "combined_kernel", forbid=())
def combined_kernel(student_fn) -> str:
    """Check ``student_fn(k1, k2)``: one kernel equal to cross-correlating with k1 then k2."""
    random = rng(15)
    pairs = [((3, 3), (3, 3)), ((2, 2), (3, 3)), ((1, 3), (3, 1)), ((3, 2), (2, 4))]
    hidden = [((1, 1), (4, 2)), ((4, 5), (1, 1)), ((5, 4), (3, 6))]
    for heading, (s1, s2) in numbered_cases(pairs, hidden=hidden):
        k1, k2 = random.standard_normal(s1), random.standard_normal(s2)
        label = f"{heading} ({describe(k1=k1, k2=k2)})"
        got = call(student_fn, k1, k2, case=label)
        expected = _full_true_conv(k1, k2)
        mistakes = [
            (
                _full_true_conv(k1, k2[::-1, ::-1].copy()),
                "combine the kernels "
                "with a true (flipped) full convolution, not a cross-correlation: the kernel "
                "k2 was not flipped.",
            ),
            (
                _full_true_conv(k1, k2[:, ::-1].copy()),  # = cross-correlation with k2[::-1]
                "k2 was flipped along one axis only (upside down, k2[::-1], but not left to "
                "right): a true convolution rotates it by 180°, k2[::-1, ::-1].",
            ),
            (
                _full_true_conv(k1, k2[::-1].copy()),  # = cross-correlation with k2[:, ::-1]
                "k2 was flipped along one axis only (left to right, k2[:, ::-1], but not "
                "upside down): a true convolution rotates it by 180°, k2[::-1, ::-1].",
            ),
            (
                expected[::-1, ::-1],
                "your kernel is rotated by 180°: both kernels were flipped (or the result "
                "was). Only k2 is flipped when combining: K = k1 * k2, a true full convolution.",
            ),
        ]
        compare(
            got,
            expected,
            case=label,
            shape_hints=[
                (
                    (max(s1[0], s2[0]), max(s1[1], s2[1])),
                    "two valid convolutions "
                    "shrink the image by (k1 - 1) + (k2 - 1), so the combined kernel has "
                    "size k1 + k2 - 1.",
                )
            ],
            known_mistakes=[(m, hint) for m, hint in _distinct(mistakes, expected)],
        )
        x = random.standard_normal((9, 10))
        two_steps = _torch_conv(_torch_conv(x[None, None], k1[None, None]), k2[None, None])
        kernel = to_numpy(got, case=label)
        one_step = _torch_conv(x[None, None], kernel.astype(np.float64)[None, None])
        atol, rtol = tolerances(kernel, two_steps, atol=1e-8, rtol=1e-5)
        if not np.allclose(two_steps, one_step, atol=atol, rtol=rtol):
            raise Mismatch(f"{label}: conv(conv(x, k1), k2) != conv(x, your kernel).")
    return f"{case_count(pairs, hidden)} cases: conv(conv(x, k1), k2) == conv(x, K) for your K."
