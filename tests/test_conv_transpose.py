"""helpers.conv.conv_transpose2d against torch.nn.functional.conv_transpose2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from named_errors import assert_named_error
from strategies import PROPERTY, SEEDS, conv_transpose_problems

from helpers.conv import conv2d, conv_transpose2d


def torch_reference(cfg: dict, dtype=torch.float64) -> np.ndarray:
    b = None if cfg["b"] is None else torch.from_numpy(cfg["b"]).to(dtype)
    x, w = (torch.from_numpy(cfg[name]).to(dtype) for name in ("x", "w"))
    hyper = {k: v for k, v in cfg.items() if k not in ("x", "w", "b")}
    return F.conv_transpose2d(x, w, b, **hyper).numpy()


@settings(PROPERTY, max_examples=200)
@given(cfg=conv_transpose_problems())
def test_matches_torch(cfg):
    expected = torch_reference(cfg)
    got = conv_transpose2d(**cfg)
    assert got.shape == expected.shape
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@settings(PROPERTY, max_examples=30)
@given(cfg=conv_transpose_problems())
def test_float32_matches_torch(cfg):
    cfg32 = {k: v.astype(np.float32) if isinstance(v, np.ndarray) else v for k, v in cfg.items()}
    got = conv_transpose2d(**cfg32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, torch_reference(cfg, torch.float32), rtol=1e-4, atol=1e-5)


@settings(PROPERTY, max_examples=40)
@given(cfg=conv_transpose_problems(), seed=SEEDS)
def test_backward_is_conv2d(cfg, seed):
    """The gradient of conv_transpose2d w.r.t. its input is conv2d with the same weights."""
    x = torch.from_numpy(cfg["x"]).requires_grad_(True)
    out = F.conv_transpose2d(
        x,
        torch.from_numpy(cfg["w"]),
        stride=cfg["stride"],
        padding=cfg["padding"],
        output_padding=cfg["output_padding"],
        groups=cfg["groups"],
        dilation=cfg["dilation"],
    )
    dout = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(torch.from_numpy(dout))
    dx = conv2d(
        dout,
        cfg["w"],
        stride=cfg["stride"],
        padding=cfg["padding"],
        dilation=cfg["dilation"],
        groups=cfg["groups"],
    )
    # output_padding >= stride (allowed when below the dilation) adds windows past the input
    h, w = cfg["x"].shape[-2:]
    np.testing.assert_allclose(dx[..., :h, :w], x.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(40))
def test_adjoint_of_conv2d(seed):
    """<conv2d(x, w), z> == <x, conv_transpose2d(z, w)>, output_padding restoring x's size."""
    rng = np.random.default_rng(7000 + seed)
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    k, s, p, d = (int(rng.integers(low, high)) for low, high in [(1, 4), (1, 4), (0, 3), (1, 3)])
    h, w_size = (int(n) for n in rng.integers(d * (k - 1) + 1, 12, 2))
    x = rng.standard_normal((2, c_in, h, w_size))
    w = rng.standard_normal((c_out, c_in // groups, k, k))
    y = conv2d(x, w, stride=s, padding=p, dilation=d, groups=groups)
    z = rng.standard_normal(y.shape)
    # the rows/columns that the strided conv never reached
    op = tuple((n + 2 * p - d * (k - 1) - 1) % s for n in (h, w_size))
    back = conv_transpose2d(z, w, stride=s, padding=p, output_padding=op, dilation=d, groups=groups)
    assert back.shape == x.shape
    assert np.isclose(np.sum(y * z), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_unbatched_and_torch_tensors():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 3, 3))
    expected = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2)
    got = conv_transpose2d(x, w, stride=2)
    assert got.shape == tuple(expected.shape) == (3, 7, 9)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2), got, atol=1e-12
    )


def test_output_padding_smaller_than_dilation_is_allowed():
    """PyTorch accepts output_padding >= stride when it is below the dilation."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((2, 1, 3, 3))
    expected = F.conv_transpose2d(
        torch.from_numpy(x), torch.from_numpy(w), output_padding=2, dilation=3, padding=1
    ).numpy()
    got = conv_transpose2d(x, w, output_padding=2, dilation=3, padding=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_stamps_by_hand():
    """Each input pixel stamps the kernel, stride pixels apart: 1-D [1, 2] with [1, 1, 1]."""
    out = conv_transpose2d(np.array([[[[1.0, 2.0]]]]), np.ones((1, 1, 1, 3)), stride=2)
    np.testing.assert_array_equal(out[0, 0, 0], [1, 1, 3, 2, 2])


def test_checkerboard_counts():
    """Kernel 3, stride 2 on a constant input: overlaps alternate 1, 2 (products in 2-D)."""
    out = conv_transpose2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=2)[0, 0]
    assert out.shape == (9, 9)
    np.testing.assert_array_equal(out[4, 1:8], [2, 4, 2, 4, 2, 4, 2])
    np.testing.assert_array_equal(out[3, 1:8], [1, 2, 1, 2, 1, 2, 1])


# --- bad input: clear errors that name the argument -------------------------------------

X = np.zeros((1, 4, 5, 5))
W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(x=np.zeros((1, 3, 5, 5))), ValueError, ["C_in=3", "w.shape[0] = 4", "swapped"]),
        (dict(groups=3), ValueError, ["groups=3", "divide", "C_in=4"]),
        (dict(groups=0), ValueError, ["groups", "positive"]),
        (dict(output_padding=1), ValueError, ["output_padding", "smaller than the stride"]),
        (dict(stride=2, output_padding=2), ValueError, ["output_padding=2", "stride=2"]),
        (dict(stride=2, output_padding=(1, 2)), ValueError, ["axis 1", "output_padding=2"]),
        (dict(output_padding=-1), ValueError, ["output_padding", ">= 0"]),
        (dict(padding=4), ValueError, ["output would have -1 pixels", "less padding"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(padding="same"), TypeError, ["padding", "int"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
        (dict(stride=1.5), TypeError, ["stride", "int"]),
        (dict(dilation=(1, 0)), ValueError, ["dilation", "positive"]),
        (dict(b=np.zeros(4)), ValueError, ["b must have shape (C_out,) = (3,)", "(4,)"]),
        (dict(x=np.zeros((5, 5))), ValueError, ["x must have", "(N, C_in, H, W)"]),
        (dict(w=np.zeros((4, 3, 3))), ValueError, ["w must have", "(C_in, C_out/groups, kH, kW)"]),
        (dict(x=None), TypeError, ["x must be an array"]),
        (dict(w="kernel"), TypeError, ["w must hold numbers"]),
    ],
)
def test_bad_input(kwargs, error, words):
    arguments = dict(x=X, w=W, b=None, stride=1, padding=0, output_padding=0) | kwargs
    assert_named_error(conv_transpose2d, error, words, **arguments)
