"""The checkers of notebook 07: reference answers pass, typical mistakes get a specific verdict."""

from __future__ import annotations

import numpy as np
from checker_contract import contract_tests, grading_tests, transposed

from helpers import check
from helpers.affine import conv_matrix
from helpers.conv import conv2d, conv2d_backward, conv_transpose2d, im2col

# --- 7.1 ---------------------------------------------------------------------------------


def matrix_4x9(w):
    return conv_matrix(w[None, None], (3, 3))


def matrix_4x9_by_hand(w):
    (a, b), (c, d) = w
    return np.array(
        [
            [a, b, 0, c, d, 0, 0, 0, 0],
            [0, a, b, 0, c, d, 0, 0, 0],
            [0, 0, 0, a, b, 0, c, d, 0],
            [0, 0, 0, 0, a, b, 0, c, d],
        ]
    )


def column_major(w):
    m = matrix_4x9(w).reshape(4, 3, 3)
    return m.transpose(0, 2, 1).reshape(4, 9)


# --- 7.2 ---------------------------------------------------------------------------------


def conv_matrix_ref(w, size, stride, padding):
    return conv_matrix(w, size, stride=stride, padding=padding)


def conv_matrix_loops(w, size, stride, padding):
    """A student-style answer: loops over outputs and weights."""
    c_out, c, kh, kw = w.shape
    h, wd = size
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    m = np.zeros((c_out * oh * ow, c * h * wd))
    for o in range(c_out):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * stride + u - padding, j * stride + v - padding
                            if 0 <= r < h and 0 <= q < wd:
                                m[(o * oh + i) * ow + j, (ch * h + r) * wd + q] = w[o, ch, u, v]
    return m


def rows_channel_last(w, size, stride, padding):
    m = conv_matrix_ref(w, size, stride, padding)
    return m.reshape(w.shape[0], -1, m.shape[1]).transpose(1, 0, 2).reshape(m.shape)


def columns_channel_last(w, size, stride, padding):
    m = conv_matrix_ref(w, size, stride, padding)
    c = w.shape[1]
    return m.reshape(-1, c, *size).transpose(0, 2, 3, 1).reshape(m.shape)


def padded_columns(w, size, stride, padding):
    padded = (size[0] + 2 * padding, size[1] + 2 * padding)
    return conv_matrix(w, padded, stride=stride)


# --- 7.3 ---------------------------------------------------------------------------------


def zero_insertion(z, w, stride, rotate=True, swap=True, pad=True, gap=None):
    """M.T @ z the NNDL way: insert S - 1 zeros, pad K - 1, convolve with rot180(w)."""
    gap = stride if gap is None else gap
    c_out, h, wd = z.shape
    kh, kw = w.shape[2:]
    spread = np.zeros((c_out, (h - 1) * gap + 1, (wd - 1) * gap + 1))
    spread[:, ::gap, ::gap] = z
    if pad:
        spread = np.pad(spread, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    kernel = w.transpose(1, 0, 2, 3) if swap else w
    if rotate:
        kernel = kernel[:, :, ::-1, ::-1]
    if not swap:  # keep the shapes consistent for the mistake: a square channel map
        kernel = np.ones((c_out, c_out, kh, kw)) * kernel.sum(axis=1, keepdims=True)
    return conv2d(spread[None], kernel)[0]


# --- 7.4 ---------------------------------------------------------------------------------


def im2col_loops(x, k, stride, padding):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    cols = np.zeros((n, c * k * k, oh * ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            cols[:, :, i * ow + j] = patch.reshape(n, -1)
    return cols


def channels_inner(x, k, stride, padding):
    cols = im2col(x, k, stride, padding)
    n, rows, length = cols.shape
    return cols.reshape(n, x.shape[1], k * k, length).transpose(0, 2, 1, 3).reshape(cols.shape)


# --- 7.5 ---------------------------------------------------------------------------------


def weight_grad(x, delta_z, k, stride, padding):
    """dW = delta @ X_col.T, one product for the batch (the notebook's answer)."""
    n, c_out = delta_z.shape[:2]
    cols = im2col(x, k, stride=stride, padding=padding)  # (N, C*k*k, H'*W')
    x_col = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)  # (C*k*k, N*H'*W')
    delta = delta_z.transpose(1, 0, 2, 3).reshape(c_out, -1)  # (C_out, N*H'*W')
    return (delta @ x_col.T).reshape(c_out, x.shape[1], k, k)


def weight_grad_per_image(x, delta_z, k, stride, padding):
    """A student-style answer: one product per image, added up."""
    total = 0
    for n in range(x.shape[0]):
        cols = im2col(x[n], k, stride=stride, padding=padding)  # (C*k*k, H'*W')
        total = total + delta_z[n].reshape(delta_z.shape[1], -1) @ cols.T
    return total.reshape(delta_z.shape[1], x.shape[1], k, k)


def weight_grad_unordered(x, delta_z, k, stride, padding):
    cols = im2col(x, k, stride=stride, padding=padding)
    product = delta_z.reshape(delta_z.shape[1], -1) @ cols.reshape(cols.shape[1], -1).T
    return product.reshape(delta_z.shape[1], x.shape[1], k, k)


def weight_grad_not_reshaped(x, delta_z, k, stride, padding):
    return weight_grad(x, delta_z, k, stride, padding).reshape(delta_z.shape[1], -1)


CASES = {
    check.matrix_4x9: (
        [matrix_4x9, matrix_4x9_by_hand],
        {
            "flipped kernel": (lambda w: matrix_4x9(w[::-1, ::-1]), ["rotated by 180°"]),
            "transposed": (lambda w: matrix_4x9(w).T, ["transposed"]),
            "column-major columns": (column_major, ["columns are in the wrong order"]),
            "rows swapped": (
                lambda w: matrix_4x9(w).reshape(2, 2, 9).transpose(1, 0, 2).reshape(4, 9),
                ["rows are in the wrong order"],
            ),
            "output instead of matrix": (lambda w: np.zeros((2, 2)), ["2×2 output"]),
            "off by one": (lambda w: np.zeros((4, 4)), ["*input* pixel"]),
            "scaled": (lambda w: 2 * matrix_4x9(w), ["values are wrong"]),
        },
    ),
    check.conv_matrix_naive: (
        [conv_matrix_ref, conv_matrix_loops],
        {
            "flipped kernel": (
                lambda w, size, s, p: conv_matrix_ref(w[:, :, ::-1, ::-1], size, s, p),
                ["rotated by 180°"],
            ),
            "transposed": (lambda *args: conv_matrix_ref(*args).T, ["has shape", "transposed"]),
            "padding ignored": (
                lambda w, size, s, p: conv_matrix_ref(w, size, s, 0),
                ["too few rows"],
            ),
            "stride ignored": (
                lambda w, size, s, p: conv_matrix_ref(w, size, 1, p),
                ["too many rows", "every S-th"],
            ),
            "padded columns": (padded_columns, ["*unpadded* input"]),
            "rows channel-last": (rows_channel_last, ["rows are in the wrong order"]),
            "columns channel-last": (columns_channel_last, ["columns are in the wrong order"]),
            "one output channel": (
                lambda w, size, s, p: conv_matrix_ref(w[:1], size, s, p),
                ["block of rows", "output channel"],
            ),
            "off by one": (lambda *args: conv_matrix_ref(*args)[:-1], ["has shape", "expected"]),
        },
    ),
    check.conv_transpose_zeros: (
        [lambda z, w, s: conv_transpose2d(z, w, stride=s), zero_insertion],
        {
            "no rotation": (
                lambda z, w, s: zero_insertion(z, w, s, rotate=False),
                ["rotate the kernel by 180°"],
            ),
            "channels not swapped": (
                lambda z, w, s: zero_insertion(z, w, s, swap=False),
                ["swap the first two axes"],
            ),
            "valid instead of full": (
                lambda z, w, s: zero_insertion(z, w, s, pad=False),
                ["valid convolution", "k - 1 zeros"],
            ),
            "no zeros inserted": (
                lambda z, w, s: zero_insertion(z, w, s, gap=1),
                ["insert S - 1 zeros"],
            ),
            "zeros after every value": (
                lambda z, w, s: np.pad(zero_insertion(z, w, s), ((0, 0), (0, s - 1), (0, s - 1))),
                ["*between* neighbouring values"],
            ),
            "off by one": (lambda z, w, s: zero_insertion(z, w, s)[:, 1:, 1:], ["has shape"]),
            "transposed": (
                transposed(zero_insertion, 0, 2, 1),
                ["Case 1 of", "values are wrong"],
            ),
            "wrong values": (lambda z, w, s: zero_insertion(z, w, s) + 1, ["values are wrong"]),
        },
    ),
    check.im2col_naive: (
        [lambda x, k, s, p: im2col(x, k, s, p), im2col_loops],
        {
            "transposed": (
                lambda *args: im2col(*args).transpose(0, 2, 1),
                ["one *column* per window"],
            ),
            "no batch axis": (lambda *args: im2col(*args)[0], ["keep the batch axis"]),
            "channels inner": (channels_inner, ["channel outermost"]),
            "windows numbered by column": (
                lambda x, k, s, p: (
                    im2col(x, k, s, p)
                    .reshape(
                        x.shape[0],
                        -1,
                        *conv2d(x[:, :1], np.ones((1, 1, k, k)), None, s, p).shape[2:],
                    )
                    .transpose(0, 1, 3, 2)
                    .reshape(x.shape[0], x.shape[1] * k * k, -1)
                ),
                ["row by row"],
            ),
            "padding ignored": (lambda x, k, s, p: im2col(x, k, s, 0), ["pad x"]),
            "stride ignored": (lambda x, k, s, p: im2col(x, k, 1, p), ["windows start every S"]),
            "off by one": (lambda *args: im2col(*args)[:, :, :-1], ["has shape", "expected"]),
            "not merged": (
                lambda x, k, s, p: im2col(x, k, s, p).reshape(x.shape[0], x.shape[1], k * k, -1),
                ["merge channel and kernel offset"],
            ),
        },
    ),
    check.conv2d_weight_grad: (
        [
            weight_grad,
            weight_grad_per_image,
            lambda x, d, k, s, p: conv2d_backward(
                d, x, np.zeros((d.shape[1], x.shape[1], k, k)), s, p
            )[1],
        ],
        {
            "rotated kernel": (
                lambda *args: weight_grad(*args)[:, :, ::-1, ::-1],
                ["no rotation"],
            ),
            "columns in another order": (weight_grad_unordered, ["not in the same order"]),
            "first image only": (
                lambda x, d, k, s, p: weight_grad(x[:1], d[:1], k, s, p),
                ["first image only"],
            ),
            "mean over the batch": (
                lambda x, d, k, s, p: weight_grad(x, d, k, s, p) / x.shape[0],
                ["mean over the batch"],
            ),
            "not reshaped": (weight_grad_not_reshaped, ["reshape it to (C_out, C, k, k)"]),
            "transposed": (
                lambda *args: weight_grad_not_reshaped(*args).T,
                ["the transpose"],
            ),
            "not summed over images": (
                lambda x, d, k, s, p: np.stack(
                    [weight_grad(x[i : i + 1], d[i : i + 1], k, s, p) for i in range(len(x))]
                ),
                ["one gradient per image"],
            ),
            "scaled": (lambda *args: 2 * weight_grad(*args), ["values are wrong"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="7")

# Grading mode forbids the course's own builders (conv_matrix, conv_transpose2d, im2col and,
# for 7.1 and 7.2, conv2d): only the answers written as a student would take its tests.
GRADED = {
    check.matrix_4x9: ([matrix_4x9_by_hand], CASES[check.matrix_4x9][1]),
    check.conv_matrix_naive: ([conv_matrix_loops], CASES[check.conv_matrix_naive][1]),
    check.conv_transpose_zeros: ([zero_insertion], CASES[check.conv_transpose_zeros][1]),
    check.im2col_naive: ([im2col_loops], CASES[check.im2col_naive][1]),
    check.conv2d_weight_grad: (
        [weight_grad, weight_grad_per_image],
        CASES[check.conv2d_weight_grad][1],
    ),
}

globals().update(grading_tests(GRADED))
