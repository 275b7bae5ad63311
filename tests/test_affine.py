"""helpers.affine.conv_matrix: M is conv2d, M.T is conv_transpose2d and conv2d's backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from named_errors import assert_named_error
from strategies import PROPERTY, SEEDS, conv_problems

from helpers.affine import conv_matrix
from helpers.conv import conv_transpose2d

SINGLE_IMAGES = conv_problems(2, groups=False, bias=False, batch=False, extra=5)
"""``x`` of shape ``(C, H, W)`` and ``w`` of ``(C_out, C, kH, kW)``, one group, no bias."""


def hyper(cfg: dict) -> dict:
    return {key: cfg[key] for key in ("stride", "padding", "dilation")}


@settings(PROPERTY, max_examples=100)
@given(cfg=SINGLE_IMAGES)
def test_matrix_times_x_is_conv2d(cfg):
    x, w = cfg["x"], cfg["w"]
    m = conv_matrix(w, x.shape[1:], **hyper(cfg))
    expected = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), **hyper(cfg)).numpy()
    assert m.shape == (expected.size, x.size)
    np.testing.assert_allclose(m @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)


@settings(PROPERTY, max_examples=100)
@given(cfg=SINGLE_IMAGES, seed=SEEDS)
def test_transpose_is_conv_transpose2d_and_the_input_gradient(cfg, seed):
    x, w = cfg["x"], cfg["w"]
    m = conv_matrix(w, x.shape, **hyper(cfg))
    x_t = torch.from_numpy(x)[None].requires_grad_(True)
    out = F.conv2d(x_t, torch.from_numpy(w), **hyper(cfg))
    z = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(z))
    mt_z = (m.T @ z.ravel()).reshape(x.shape)
    np.testing.assert_allclose(mt_z, x_t.grad[0].numpy(), rtol=1e-10, atol=1e-10)
    # the strided conv never reached the last (H + 2P - D(K-1) - 1) mod S rows: output_padding
    (kh, kw), (s_h, s_w) = w.shape[2:], cfg["stride"]
    (p_h, p_w), (d_h, d_w) = cfg["padding"], cfg["dilation"]
    op = (
        (x.shape[1] + 2 * p_h - d_h * (kh - 1) - 1) % s_h,
        (x.shape[2] + 2 * p_w - d_w * (kw - 1) - 1) % s_w,
    )
    transposed = conv_transpose2d(z[0], w, output_padding=op, **hyper(cfg))
    np.testing.assert_allclose(mt_z, transposed, rtol=1e-10, atol=1e-10)


def test_nndl_5_5_matrix_by_hand():
    """NNDL exercise 5-5: a 3x3 input and a 2x2 kernel [[a, b], [c, d]] give a 4x9 matrix."""
    a, b, c, d = 1.0, 2.0, 3.0, 4.0
    m = conv_matrix(np.array([[[[a, b], [c, d]]]]), (3, 3))
    expected = [
        [a, b, 0, c, d, 0, 0, 0, 0],
        [0, a, b, 0, c, d, 0, 0, 0],
        [0, 0, 0, a, b, 0, c, d, 0],
        [0, 0, 0, 0, a, b, 0, c, d],
    ]
    np.testing.assert_array_equal(m, expected)


def test_nndl_5_7_one_dimensional():
    """A 5-vector and a 3-tap kernel: a 3x5 banded matrix; its transpose is the full conv."""
    w = np.array([1.0, 2.0, 3.0])
    m = conv_matrix(w.reshape(1, 1, 1, 3), (1, 5))
    np.testing.assert_array_equal(m, [[1, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]])
    delta = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(m.T @ delta, np.convolve(delta, w, mode="full"))


def test_doubly_blocked_toeplitz_structure():
    """One channel, stride 1: blocks (W_out x W) depend only on (block column - block row)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((1, 1, 3, 3))
    h, wd = 5, 6
    oh, ow = h - 2, wd - 2
    m = conv_matrix(w, (h, wd))
    blocks = m.reshape(oh, ow, h, wd).transpose(0, 2, 1, 3)  # (block row i, block col r, ., .)
    for i in range(oh):
        for r in range(h):
            u = r - i
            if 0 <= u < 3:
                # block (i, r) is the Toeplitz matrix of kernel row u
                toeplitz = conv_matrix(w[:, :, u : u + 1, :], (1, wd))
                np.testing.assert_array_equal(blocks[i, r], toeplitz)
            else:
                assert not blocks[i, r].any()


def test_sparsity_and_weight_sharing():
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    m = conv_matrix(w, 5)
    assert m.shape == (9, 25)
    assert np.count_nonzero(m) == 9 * 9  # each output row holds all 9 weights
    values, counts = np.unique(m[m != 0], return_counts=True)
    np.testing.assert_array_equal(values, np.arange(1, 10))
    np.testing.assert_array_equal(counts, np.full(9, 9))  # each weight is used 9 times


def test_dtype_and_input_size_forms():
    w = np.ones((2, 3, 2, 2), dtype=np.float32)
    assert conv_matrix(w, 4).dtype == np.float32
    np.testing.assert_array_equal(conv_matrix(w, 4), conv_matrix(w, (3, 4, 4)))
    np.testing.assert_array_equal(conv_matrix(w, [4, 4]), conv_matrix(w, torch.Size([3, 4, 4])))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(w=np.zeros((3, 3))), ValueError, ["w must have 4 dimensions", "(C_out, C, kH, kW)"]),
        (dict(input_size=(3, 5, 5)), ValueError, ["C=3", "w.shape[1] = 2"]),
        (dict(input_size=(5,)), TypeError, ["input_size must be an int, (H, W) or (C, H, W)"]),
        (dict(input_size="5"), TypeError, ["input_size"]),
        (dict(input_size=(0, 5)), ValueError, ["input_size", "positive"]),
        (dict(input_size=2), ValueError, ["kernel is larger", "padded input", "2 + 2*0"]),
        (dict(dilation=3), ValueError, ["dilation 3", "spans 7"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(w=None), TypeError, ["w must be an array"]),
    ],
)
def test_bad_input(kwargs, error, words):
    arguments = dict(w=np.zeros((4, 2, 3, 3)), input_size=(5, 5)) | kwargs
    assert_named_error(conv_matrix, error, words, **arguments)
