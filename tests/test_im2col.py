"""helpers.im2col (im2col / col2im) against torch.nn.functional.unfold / fold."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from named_errors import assert_named_error
from strategies import PROPERTY, SEEDS, unfold_problems

from helpers.conv import col2im, conv2d, im2col


def torch_kwargs(cfg: dict) -> dict:
    return {key: cfg[key] for key in ("kernel_size", "stride", "padding", "dilation")}


@settings(PROPERTY, max_examples=100)
@given(cfg=unfold_problems())
def test_im2col_matches_unfold(cfg):
    expected = F.unfold(torch.from_numpy(cfg["x"]), **torch_kwargs(cfg)).numpy()
    got = im2col(**cfg)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)  # a pure copy: bit for bit


@settings(PROPERTY, max_examples=100)
@given(cfg=unfold_problems(), seed=SEEDS)
def test_col2im_matches_fold_and_is_the_gradient_of_unfold(cfg, seed):
    x = torch.from_numpy(cfg["x"]).requires_grad_(True)
    cols = F.unfold(x, **torch_kwargs(cfg))
    g = torch.randn(cols.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    (cols * g).sum().backward()
    got = col2im(g.numpy(), cfg["x"].shape[-2:], **torch_kwargs(cfg))
    folded = F.fold(g, cfg["x"].shape[-2:], **torch_kwargs(cfg)).numpy()
    np.testing.assert_allclose(got, folded, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(PROPERTY, max_examples=20)
@given(cfg=unfold_problems())
def test_float32_and_unbatched(cfg):
    x32 = cfg["x"][0].astype(np.float32)  # (C, H, W)
    cols = im2col(x32, **torch_kwargs(cfg))
    expected = F.unfold(torch.from_numpy(x32), **torch_kwargs(cfg)).numpy()
    assert cols.dtype == np.float32 and cols.shape == expected.shape and cols.ndim == 2
    np.testing.assert_array_equal(cols, expected)
    back = col2im(cols, x32.shape, **torch_kwargs(cfg))
    assert back.dtype == np.float32 and back.shape == x32.shape
    folded = F.fold(torch.from_numpy(cols), x32.shape[-2:], **torch_kwargs(cfg)).numpy()
    np.testing.assert_allclose(back, folded, rtol=1e-5, atol=1e-5)


@settings(PROPERTY, max_examples=30)
@given(cfg=unfold_problems(), seed=SEEDS)
def test_adjoint_identity(cfg, seed):
    """<im2col(x), y> == <x, col2im(y)>: col2im is the transpose of im2col."""
    cols = im2col(**cfg)
    y = np.random.default_rng(seed).standard_normal(cols.shape)
    lhs = np.sum(cols * y)
    rhs = np.sum(cfg["x"] * col2im(y, cfg["x"].shape, **torch_kwargs(cfg)))
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@settings(PROPERTY, max_examples=30)
@given(cfg=unfold_problems(), seed=SEEDS)
def test_one_matmul_is_a_convolution(cfg, seed):
    x = cfg["x"]
    c_out = int(np.random.default_rng(seed).integers(1, 5))
    w = np.random.default_rng(seed).standard_normal((c_out, x.shape[1], *cfg["kernel_size"]))
    out = w.reshape(c_out, -1) @ im2col(**cfg)
    expected = conv2d(x, w, stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"])
    np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-10, atol=1e-10)


def test_layout_by_hand():
    """Column l is the window of output position l (row-major), rows are (c, u, v)."""
    x = np.arange(2 * 3 * 4, dtype=float).reshape(1, 2, 3, 4)
    cols = im2col(x, 2)[0]  # (2*2*2, 2*3)
    assert cols.shape == (8, 6)
    np.testing.assert_array_equal(cols[:, 0], [0, 1, 4, 5, 12, 13, 16, 17])
    np.testing.assert_array_equal(cols[:, 4], [5, 6, 9, 10, 17, 18, 21, 22])  # (i, j) = (1, 1)


def test_alexnet_conv1_shape():
    """The CS231n example: 227x227x3, 11x11 filters, stride 4 -> a 363 x 3025 matrix."""
    cols = im2col(np.zeros((3, 227, 227), dtype=np.float32), 11, stride=4)
    assert cols.shape == (363, 3025)


def test_col2im_counts_windows():
    """col2im(im2col(ones)) counts, for each pixel, the windows that contain it."""
    ones = np.ones((1, 1, 4, 4))
    counts = col2im(im2col(ones, 3), (4, 4), 3)[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


@pytest.mark.parametrize(
    "input_shape", [(5, 6), [5, 6], (2, 3, 5, 6), (3, 5, 6), torch.Size([2, 3, 5, 6])]
)
def test_col2im_input_shape_forms(input_shape):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    cols = im2col(x, 2, padding=1)
    expected = F.fold(torch.from_numpy(cols), (5, 6), 2, padding=1).numpy()
    np.testing.assert_allclose(col2im(cols, input_shape, 2, padding=1), expected, atol=1e-12)


def test_col2im_square_int_shape():
    cols = im2col(np.ones((1, 1, 4, 4)), 2)
    assert col2im(cols, 4, 2).shape == (1, 1, 4, 4)


# --- bad input ---------------------------------------------------------------------------

X = np.zeros((1, 2, 5, 5))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(x=np.zeros((5, 5))), ValueError, ["x must have", "(N, C, H, W)", "got 2"]),
        (dict(kernel_size=6), ValueError, ["kernel is larger", "padded x", "5 + 2*0"]),
        (dict(kernel_size=3, dilation=3), ValueError, ["dilation 3", "spans 7"]),
        (dict(kernel_size=0), ValueError, ["kernel_size", "positive"]),
        (dict(kernel_size=2.5), TypeError, ["kernel_size", "int"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
        (dict(stride=(1, 2, 3)), ValueError, ["stride", "tuple of 2"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(padding="same"), TypeError, ["padding", "int"]),
        (dict(x=None), TypeError, ["x must be an array"]),
        (dict(x="image"), TypeError, ["x must hold numbers"]),
    ],
)
def test_im2col_bad_input(kwargs, error, words):
    arguments = dict(x=X, kernel_size=3, stride=1, padding=0, dilation=1) | kwargs
    assert_named_error(im2col, error, words, **arguments)


COLS = np.zeros((1, 18, 9))  # C=2, 3x3 kernel, 5x5 input -> 3*3 = 9 windows


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(cols=np.zeros((1, 17, 9))), ValueError, ["cols.shape[-2] = 17", "multiple"]),
        (dict(cols=np.zeros((1, 18, 10))), ValueError, ["L = 10", "3 * 3 = 9 windows"]),
        (dict(input_shape=(2, 2)), ValueError, ["kernel is larger", "input_shape"]),
        (dict(input_shape=(1, 3, 5, 5)), ValueError, ["input_shape", "(1, 2)"]),
        (dict(input_shape=(4, 2, 5, 5)), ValueError, ["input_shape", "does not match"]),
        (dict(input_shape=(5,)), TypeError, ["input_shape must be (H, W)"]),
        (dict(input_shape="5x5"), TypeError, ["input_shape must be (H, W)"]),
        (dict(input_shape=(0, 5)), ValueError, ["input_shape", "positive"]),
        (dict(cols=np.zeros(18)), ValueError, ["cols must have", "(N, C*kH*kW, L)"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
    ],
)
def test_col2im_bad_input(kwargs, error, words):
    arguments = dict(cols=COLS, input_shape=(5, 5), kernel_size=3) | kwargs
    assert_named_error(col2im, error, words, **arguments)
