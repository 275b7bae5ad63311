"""Checkers for notebook 07 (convolution as a matrix). References come from PyTorch.

The matrix of a convolution is obtained from torch without any index arithmetic: column
``k`` of ``M`` is the convolution of the ``k``-th unit image (a one at pixel ``k``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .arrays import compare, describe, show_pair, to_numpy, tolerances
from .core import Mismatch, call, case_count, checker, numbered_cases
from .grading import rng

__all__ = [
    "conv2d_weight_grad",
    "conv_matrix_naive",
    "conv_transpose_zeros",
    "im2col_naive",
    "matrix_4x9",
]

_FLIPPED = (
    "your matrix holds the kernel rotated by 180° (a true convolution). PyTorch's conv2d "
    "is a cross-correlation: output (i, j) multiplies x[i + u, j + v] by w[u, v]."
)
_COLUMN_ORDER = (
    "the columns are in the wrong order. Column k must multiply x.ravel()[k], and ravel is "
    "row-major: x[0, 0], x[0, 1], x[0, 2], x[1, 0], ... (index r * W + q)."
)
_ROW_ORDER = (
    "the rows are in the wrong order. Row k must give conv2d(...).ravel()[k]: output "
    "positions row by row, (i, j) -> i * W_out + j, and channels outermost."
)


# The course's matrix builder does 7.1 and 7.2 outright, and a convolution of the unit
# images (how the check itself builds M) skips the index formula the exercises teach.
_MATRIX = ("helpers.affine.conv_matrix", "torch.nn.functional.conv2d", "helpers.conv.conv2d")
# M.T @ z in one call: the transposed convolution, M itself, or a convolution's input gradient.
# (conv2d stays allowed: the exercise cross-correlates with it.)
_TRANSPOSE = (
    "torch.nn.functional.conv_transpose2d",
    "helpers.conv.conv_transpose2d",
    "helpers.conv_transpose.conv_transpose2d",
    "helpers.affine.conv_matrix",
    "helpers.conv.conv2d_backward",
    "helpers.conv_backward.conv2d_backward",
    "torch.nn.grad.conv2d_input",
)
_IM2COL = ("torch.nn.functional.unfold", "helpers.conv.im2col", "helpers.im2col.im2col")
# dW in one call: the course's backward pass, PyTorch's own weight gradient, or autograd.
# (im2col stays allowed: the exercise builds the product from its columns.)
_WEIGHT_GRAD = (
    "helpers.conv.conv2d_backward",
    "helpers.conv_backward.conv2d_backward",
    "torch.nn.grad.conv2d_weight",
    "torch.autograd.grad",
    "torch.autograd.backward",
)


def _reference_matrix(w: np.ndarray, size, stride=1, padding=0) -> np.ndarray:
    """M with M @ x.ravel() == F.conv2d(x[None], w).ravel(): convolve every unit image."""
    c = w.shape[1]
    n = c * size[0] * size[1]
    basis = torch.eye(n, dtype=torch.float64).reshape(n, c, *size)
    out = F.conv2d(basis, torch.from_numpy(w), stride=stride, padding=padding)
    return out.reshape(n, -1).T.numpy().copy()


def _compare_matrix(got, expected: np.ndarray, *, case: str, name: str, **hints) -> None:
    """:func:`compare` for a non-square matrix.

    ``compare`` tests whether a wrong answer is the transpose of the right one with
    ``np.allclose(got.T, expected)``, which cannot broadcast when the matrix is not square.
    Here a same-shaped wrong matrix is diagnosed directly (known mistakes first), and
    everything else goes to ``compare``.
    """
    array = to_numpy(got, case=case, name=name)
    if array.shape != expected.shape or array.ndim != 2 or array.shape[0] == array.shape[1]:
        compare(array, expected, case=case, name=name, **hints)
        return
    if not np.all(np.isfinite(array)):
        raise Mismatch(f"{case}:\n{name} contains NaN or infinity.")
    atol, rtol = tolerances(array, expected, atol=1e-6, rtol=1e-5)
    if np.allclose(array, expected, atol=atol, rtol=rtol):
        return
    for mistake, hint in hints.get("known_mistakes", ()):
        if np.allclose(array, mistake, atol=atol, rtol=rtol):
            raise Mismatch(f"{case}:\nthe values are wrong. Hint: {hint}")
    wrong = ~np.isclose(array, expected, atol=atol, rtol=rtol)
    error = np.abs(array.astype(np.float64) - expected)
    row, col = np.unravel_index(int(np.argmax(error)), array.shape)
    got_value, expected_value = show_pair(array[row, col], expected[row, col])
    raise Mismatch(
        f"{case}:\n{int(wrong.sum())} of {expected.size} values are wrong. The largest error is "
        f"at row {row}, column {col}: got {got_value}, expected {expected_value}."
    )


def _permute_columns(m: np.ndarray, c: int, size, order) -> np.ndarray:
    """``m`` with its columns (c, r, q) re-indexed in another order (a typical mistake)."""
    h, w = size
    index = np.arange(c * h * w).reshape(c, h, w).transpose(order).ravel()
    return m[:, index]


@checker("7.1", "matrix_4x9", forbid=_MATRIX)
def matrix_4x9(student_fn) -> str:
    """Check ``student_fn(w)``: the 4×9 matrix of a 2×2 kernel ``w`` on a 3×3 input."""
    random = rng(71)
    kernels = [
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        random.standard_normal((2, 2)),
        np.array([[0.0, 1.0], [-1.0, 0.0]]),
        random.standard_normal((2, 2)),
    ]
    hidden = [np.array([[0.0, 0.0], [2.5, -1.5]]), 10 * random.standard_normal((2, 2))]
    for heading, w in numbered_cases(kernels, hidden=hidden):
        label = f"{heading} (w = {np.round(w, 3).tolist()})"
        expected = _reference_matrix(w[None, None], (3, 3))
        _compare_matrix(
            call(student_fn, w, case=label),
            expected,
            case=label,
            name="your matrix",
            shape_hints=[
                ((2, 2), "that is the 2×2 output; return the matrix M with z = M @ x."),
                ((3, 3), "one row per output value (4 of them), one column per input (9)."),
                ((4, 4), "one column per *input* pixel: a 3×3 image has 9."),
            ],
            known_mistakes=[
                (_reference_matrix(w[::-1, ::-1].copy()[None, None], (3, 3)), _FLIPPED),
                (_permute_columns(expected, 1, (3, 3), (0, 2, 1)), _COLUMN_ORDER),
                (expected.reshape(2, 2, 9).transpose(1, 0, 2).reshape(4, 9), _ROW_ORDER),
            ],
        )
    count = case_count(kernels, hidden)
    return (
        f"{count} kernels: M @ x.ravel() == conv2d(x, w).ravel() for every 3×3 x. "
        "Each row holds the same 4 weights, shifted: weight sharing."
    )


_MATRIX_CASES = [  # (C_out, C, kH, kW), (H, W), stride, padding
    ((1, 1, 2, 2), (3, 3), 1, 0),
    ((1, 1, 3, 3), (5, 5), 1, 0),
    ((3, 2, 2, 3), (4, 5), 1, 0),
    ((2, 1, 3, 3), (5, 5), 2, 0),
    ((1, 1, 3, 3), (4, 4), 1, 1),
    ((2, 3, 3, 2), (5, 4), 2, 1),
]
_MATRIX_HIDDEN = [
    ((2, 2, 1, 1), (3, 4), 1, 0),  # 1x1 kernels
    ((2, 1, 4, 3), (4, 3), 1, 0),  # a kernel as large as the input: one output pixel
    ((1, 2, 3, 3), (7, 6), 3, 2),  # stride 3, padding 2
]


@checker("7.2", "conv_matrix_naive", forbid=_MATRIX)
def conv_matrix_naive(student_fn) -> str:
    """Check ``student_fn(w, (H, W), stride, padding)``: M of shape (C_out*H'*W', C*H*W)."""
    random = rng(72)
    for heading, (shape, size, stride, padding) in numbered_cases(
        _MATRIX_CASES, hidden=_MATRIX_HIDDEN
    ):
        w = random.standard_normal(shape)
        label = f"{heading} ({describe(w=w, input_size=size, stride=stride, padding=padding)})"
        expected = _reference_matrix(w, size, stride, padding)
        c_out, c = shape[:2]
        h_out = (size[0] + 2 * padding - shape[2]) // stride + 1
        w_out = (size[1] + 2 * padding - shape[3]) // stride + 1
        no_pad = (
            (size[0] - shape[2]) // stride + 1,
            (size[1] - shape[3]) // stride + 1,
        )
        no_stride = (size[0] + 2 * padding - shape[2] + 1, size[1] + 2 * padding - shape[3] + 1)
        rows_channel_last = (
            expected.reshape(c_out, h_out * w_out, -1).transpose(1, 0, 2).reshape(expected.shape)
        )
        _compare_matrix(
            call(student_fn, w, size, stride, padding, case=label),
            expected,
            case=label,
            name="your matrix",
            shape_hints=[
                (
                    (c_out * no_pad[0] * no_pad[1], c * size[0] * size[1]),
                    "too few rows: with padding the output is (H + 2P - kH) // S + 1 high.",
                ),
                (
                    (c_out * no_stride[0] * no_stride[1], c * size[0] * size[1]),
                    "too many rows: with stride S keep only every S-th window position.",
                ),
                (
                    (c_out * h_out * w_out, c * (size[0] + 2 * padding) * (size[1] + 2 * padding)),
                    "one column per pixel of the *unpadded* input: padded zeros contribute "
                    "nothing, so they need no column.",
                ),
                (
                    (h_out * w_out, c * size[0] * size[1]),
                    "one block of rows per output channel: C_out * H_out * W_out rows.",
                ),
            ],
            known_mistakes=[
                (_reference_matrix(w[:, :, ::-1, ::-1].copy(), size, stride, padding), _FLIPPED),
                (_permute_columns(expected, c, size, (1, 2, 0)), _COLUMN_ORDER),
                (_permute_columns(expected, c, size, (0, 2, 1)), _COLUMN_ORDER),
                (rows_channel_last, _ROW_ORDER),
            ],
        )
    count = case_count(_MATRIX_CASES, _MATRIX_HIDDEN)
    return f"{count} cases (channels, stride, padding) match torch's conv2d column by column."


@checker("7.3", "conv_transpose_zeros", forbid=_TRANSPOSE)
def conv_transpose_zeros(student_fn) -> str:
    """Check ``student_fn(z, w, stride)`` == ``M.T @ z`` == ``F.conv_transpose2d(z, w, stride)``.

    ``z: (C_out, H', W')``, ``w: (C_out, C_in, kH, kW)`` (conv2d's layout), result
    ``(C_in, (H'-1)*S + kH, (W'-1)*S + kW)``.
    """
    random = rng(73)
    cases = [  # (C_out, C_in, kH, kW), (H', W'), stride
        ((1, 1, 3, 3), (3, 3), 1),
        ((1, 1, 3, 3), (2, 3), 2),
        ((2, 3, 2, 3), (3, 2), 1),
        ((3, 2, 3, 3), (3, 3), 2),
        ((2, 2, 4, 4), (2, 2), 3),
    ]
    hidden = [
        ((2, 3, 1, 1), (3, 4), 2),  # 1x1 kernels: zero insertion alone
        ((3, 1, 2, 3), (4, 1), 3),  # one column, odd kernel
    ]
    for heading, (shape, size, stride) in numbered_cases(cases, hidden=hidden):
        w = random.standard_normal(shape)
        z = random.standard_normal((shape[0], *size))
        label = f"{heading} ({describe(z=z, w=w, stride=stride)})"
        z_t, w_t = torch.from_numpy(z)[None], torch.from_numpy(w)
        expected = F.conv_transpose2d(z_t, w_t, stride=stride)[0].numpy()
        c_out, c_in, kh, kw = shape
        full = ((size[0] - 1) * stride + kh, (size[1] - 1) * stride + kw)
        unstrided = (size[0] + kh - 1, size[1] + kw - 1)
        too_many = (size[0] * stride + kh - 1, size[1] * stride + kw - 1)
        no_flip = F.conv_transpose2d(z_t, w_t.flip(-1, -2), stride=stride)[0].numpy()
        hints = [
            (
                (c_out, *full),
                "the result has one channel per *input* channel of the conv: "
                "swap the first two axes of w (w.transpose(1, 0, 2, 3)) before convolving.",
            ),
            (
                (c_in, size[0] - kh + 1, size[1] - kw + 1),
                "that is a valid convolution: "
                "pad the zero-inserted z with k - 1 zeros on every side first (a full conv).",
            ),
            (
                (c_in, *too_many),
                "insert S - 1 zeros *between* neighbouring values, "
                "not after each value: a row of H' values becomes (H' - 1) * S + 1 long.",
            ),
        ]
        if stride > 1:
            hints.append(
                (
                    (c_in, *unstrided),
                    "with stride S, first insert S - 1 zeros between "
                    "neighbouring values of z (fractional stride 1/S), then do the full conv.",
                )
            )
        compare(
            call(student_fn, z, w, stride, case=label),
            expected,
            case=label,
            shape_hints=hints,
            known_mistakes=[
                (
                    no_flip,
                    "rotate the kernel by 180° (w[:, :, ::-1, ::-1]): the transpose "
                    "of a cross-correlation is a true convolution.",
                ),
            ],
        )
    # the transpose relation itself, on the last case
    m = _reference_matrix(w, full, stride)
    got = to_numpy(call(student_fn, z, w, stride, case="Transpose check"), case="Transpose check")
    transposed = m.T @ z.ravel()
    atol, rtol = tolerances(got, transposed, atol=1e-8, rtol=1e-5)
    if got.shape != expected.shape or not np.allclose(
        transposed, got.ravel(), atol=atol, rtol=rtol
    ):
        raise Mismatch("Transpose check: your result differs from M.T @ z.ravel().")
    count = case_count(cases, hidden)
    return (
        f"{count} cases match F.conv_transpose2d, and your result equals M.T @ z: "
        "zero insertion + full convolution with the rotated kernel is the transposed matrix."
    )


@checker("7.4", "im2col_naive", forbid=_IM2COL)
def im2col_naive(student_fn) -> str:
    """Check ``student_fn(x, k, stride, padding)`` == ``F.unfold``: (N, C*k*k, L)."""
    random = rng(74)
    cases = [  # x shape, k, stride, padding
        ((1, 1, 4, 4), 3, 1, 0),
        ((2, 3, 5, 6), 2, 1, 0),
        ((1, 2, 7, 7), 3, 2, 0),
        ((2, 1, 5, 4), 3, 1, 1),
        ((1, 3, 6, 5), 3, 2, 1),
    ]
    hidden = [
        ((3, 2, 5, 5), 5, 1, 0),  # a kernel as large as the input: one window
        ((1, 1, 6, 9), 1, 2, 0),  # 1x1 windows, stride 2
        ((2, 2, 5, 7), 3, 3, 2),  # stride 3, padding 2
    ]
    for heading, (shape, k, stride, padding) in numbered_cases(cases, hidden=hidden):
        x = random.standard_normal(shape)
        label = f"{heading} ({describe(x=x, k=k, stride=stride, padding=padding)})"
        expected = F.unfold(torch.from_numpy(x), k, stride=stride, padding=padding).numpy()
        n, c, h, w = shape
        out_h, out_w = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
        length = out_h * out_w
        channels_inner = expected.reshape(n, c, k * k, length).transpose(0, 2, 1, 3)
        windows_by_column = (
            expected.reshape(n, -1, out_h, out_w).transpose(0, 1, 3, 2).reshape(expected.shape)
        )
        no_pad = ((h - k) // stride + 1) * ((w - k) // stride + 1)
        hints = [
            (
                (n, length, c * k * k),
                "one *column* per window, as F.unfold: "
                "(N, C*k*k, L); you have one row per window. Transpose the last two axes.",
            ),
            ((c * k * k, length), "keep the batch axis: (N, C*k*k, L), even for N = 1."),
            (
                (n, c, k * k, length),
                "merge channel and kernel offset into one axis: reshape to (N, C*k*k, L).",
            ),
        ]
        if padding:
            hints.append(((n, c * k * k, no_pad), "pad x with `padding` zeros on each side first."))
        if stride > 1:
            hints.append(
                (
                    (n, c * k * k, (h + 2 * padding - k + 1) * (w + 2 * padding - k + 1)),
                    "with stride S, windows start every S pixels.",
                )
            )
        compare(
            call(student_fn, x, k, stride, padding, case=label),
            expected,
            case=label,
            name="your columns",
            shape_hints=hints,
            known_mistakes=[
                (
                    channels_inner.reshape(expected.shape),
                    "row index must be c*k*k + u*k + v "
                    "(channel outermost, as w.reshape(C_out, -1) flattens the weights).",
                ),
                (windows_by_column, "number the windows row by row: column l = i * W_out + j."),
            ],
        )
    count = case_count(cases, hidden)
    return f"{count} cases match torch.nn.functional.unfold (batches, channels, stride, padding)."


def _weight_grad(x: np.ndarray, delta_z: np.ndarray, k: int, stride: int, padding: int):
    """dL/dw of ``F.conv2d(x, w, stride=stride, padding=padding)`` for the upstream gradient
    ``delta_z``, from PyTorch (float64)."""
    c_out, c = delta_z.shape[1], x.shape[1]
    grad = torch.nn.grad.conv2d_weight(
        torch.from_numpy(x), (c_out, c, k, k), torch.from_numpy(delta_z), stride, padding
    )
    return grad.numpy()


def _unordered_product(x: np.ndarray, delta_z: np.ndarray, k: int, stride: int, padding: int):
    """The typical slip: ``delta_z.reshape(C_out, -1)`` and ``cols.reshape(C*k*k, -1)``
    without moving the batch axis behind the channel axis first."""
    n, c_out = delta_z.shape[:2]
    cols = F.unfold(torch.from_numpy(x), k, stride=stride, padding=padding).numpy()
    product = delta_z.reshape(c_out, -1) @ cols.reshape(cols.shape[1], -1).T
    return product.reshape(c_out, x.shape[1], k, k)


_WEIGHT_GRAD_CASES = [  # x shape (N, C, H, W), C_out, k, stride, padding
    ((1, 1, 4, 4), 1, 3, 1, 0),
    ((2, 3, 5, 6), 4, 3, 1, 0),
    ((3, 2, 7, 7), 3, 3, 2, 1),
    ((2, 3, 6, 5), 2, 2, 1, 1),
    ((4, 2, 5, 5), 3, 1, 1, 0),
]
_WEIGHT_GRAD_HIDDEN = [
    ((2, 2, 5, 5), 3, 5, 1, 0),  # a kernel as large as the input: one position per image
    ((3, 2, 8, 7), 2, 3, 3, 2),  # stride 3, padding 2
]


@checker("7.5", "conv2d_weight_grad", forbid=_WEIGHT_GRAD)
def conv2d_weight_grad(student_fn) -> str:
    """Check ``student_fn(x, delta_z, k, stride, padding)`` == dL/dw of ``F.conv2d``:
    ``x: (N, C, H, W)``, ``delta_z: (N, C_out, H', W')``, result ``(C_out, C, k, k)``."""
    random = rng(75)
    for heading, (shape, c_out, k, stride, padding) in numbered_cases(
        _WEIGHT_GRAD_CASES, hidden=_WEIGHT_GRAD_HIDDEN
    ):
        n, c, h, w = shape
        out = ((h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1)
        x = random.standard_normal(shape)
        delta_z = random.standard_normal((n, c_out, *out))
        label = f"{heading} ({describe(x=x, delta_z=delta_z, k=k, stride=stride, padding=padding)})"
        expected = _weight_grad(x, delta_z, k, stride, padding)
        mistakes = [
            (
                expected[:, :, ::-1, ::-1],
                "no rotation here: dW[o, c, u, v] multiplies delta_z[n, o, i, j] with the input "
                "pixel that w[o, c, u, v] met, x_pad[n, c, i*S + u, j*S + v]. The product "
                "delta @ X_col.T pairs them without any flipping.",
            ),
            (
                _unordered_product(x, delta_z, k, stride, padding),
                "the columns of delta and X_col are not in the same order. Both must run "
                "over (n, i, j): move the batch axis behind the channel axis first "
                "(delta_z.transpose(1, 0, 2, 3) and cols.transpose(1, 0, 2)), then reshape to "
                "(C_out, N*H'*W') and (C*k*k, N*H'*W').",
            ),
        ]
        if n > 1:
            mistakes += [
                (
                    _weight_grad(x[:1], delta_z[:1], k, stride, padding),
                    "that is the gradient of the first image only. The same weights serve "
                    "every image of the batch, so dW sums over all N images: N*H'*W' columns.",
                ),
                (
                    expected / n,
                    "that is the mean over the batch; the gradient of the loss is the sum "
                    "(the loss already averages, if it does).",
                ),
            ]
        compare(
            call(student_fn, x, delta_z, k, stride, padding, case=label),
            expected,
            case=label,
            name="your dW",
            shape_hints=[
                (
                    (c_out, c * k * k),
                    "that is dW_row = delta @ X_col.T; reshape it to (C_out, C, k, k), the "
                    "shape of w.",
                ),
                (
                    (c * k * k, c_out),
                    "that is X_col @ delta.T, the transpose: delta @ X_col.T has C_out rows.",
                ),
                (
                    (n, c_out, c, k, k),
                    "one gradient per image: add them up over the batch axis, or put the N "
                    "images side by side in one product (N*H'*W' columns).",
                ),
            ],
            known_mistakes=mistakes,
        )
    count = case_count(_WEIGHT_GRAD_CASES, _WEIGHT_GRAD_HIDDEN)
    return (
        f"{count} cases (batches, channels, stride, padding) match PyTorch's weight gradient: "
        "dW = delta @ X_col.T, the weight sharing of the forward pass turned into a sum over "
        "every position of every image."
    )
