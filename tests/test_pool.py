"""helpers.pool against torch.nn.functional, forward and backward, on many random configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from named_errors import assert_named_error
from strategies import PROPERTY, SEEDS, pool_problems

from helpers.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    global_avg_pool2d,
    max_pool2d,
    max_pool2d_backward,
)

LAYERS = {
    "max": (max_pool2d, max_pool2d_backward, F.max_pool2d),
    "avg": (avg_pool2d, avg_pool2d_backward, F.avg_pool2d),
}


def torch_forward_backward(kind: str, cfg: dict, dout: np.ndarray):
    x = torch.from_numpy(cfg["x"]).requires_grad_()
    out = LAYERS[kind][2](x, cfg["kernel_size"], cfg["stride"], cfg["padding"])
    (dx,) = torch.autograd.grad(out, x, torch.from_numpy(dout))
    return out.detach().numpy(), dx.numpy()


def run_ours(kind: str, cfg: dict, dout_seed: int):
    forward, backward, _ = LAYERS[kind]
    out = forward(**cfg)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape).astype(out.dtype)
    dx = backward(dout, **cfg)
    return out, dout, dx


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(PROPERTY, max_examples=60)
@given(cfg=pool_problems(), seed=SEEDS)
def test_matches_torch_float64(kind, cfg, seed):
    out, dout, dx = run_ours(kind, cfg, seed)
    expected_out, expected_dx = torch_forward_backward(kind, cfg, dout)
    assert out.shape == expected_out.shape and dx.shape == cfg["x"].shape
    np.testing.assert_allclose(out, expected_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(PROPERTY, max_examples=30)
@given(cfg=pool_problems(dtype=np.float32), seed=SEEDS)
def test_matches_torch_float32(kind, cfg, seed):
    out, dout, dx = run_ours(kind, cfg, seed)
    expected_out, expected_dx = torch_forward_backward(kind, cfg, dout)
    assert out.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(out, expected_out, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-5, atol=1e-5)


@settings(PROPERTY, max_examples=30)
@given(cfg=pool_problems(ties=True), seed=SEEDS)
def test_max_pool_ties_route_like_torch(cfg, seed):
    """Rounded inputs have many tied maxima; torch picks the first in row-major order."""
    out, dout, dx = run_ours("max", cfg, seed)
    expected_out, expected_dx = torch_forward_backward("max", cfg, dout)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


def test_tie_goes_to_the_first_maximum_in_row_major_order():
    x = np.array([[[[1.0, 5.0], [5.0, 5.0]]]])
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1], [0, 0]])
    constant = np.zeros((1, 1, 4, 4))  # every window is one big tie
    dx = max_pool2d_backward(np.ones((1, 1, 3, 3)), constant, 2, stride=1)
    expected = torch_forward_backward(
        "max", dict(x=constant, kernel_size=2, stride=1, padding=0), np.ones((1, 1, 3, 3))
    )[1]
    np.testing.assert_array_equal(dx, expected)
    assert dx[0, 0, 0, 0] == 1 and dx[0, 0, 3, 3] == 0


def test_minus_infinity_and_nan_like_torch():
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    x_nan = np.array([[[[1.0, np.nan, 2.0], [np.nan, 0.0, 3.0], [4.0, 5.0, 6.0]]]])
    for inp, kwargs in [(x, dict(kernel_size=2, stride=1, padding=1)), (x_nan, {"kernel_size": 2})]:
        cfg = dict(x=inp, stride=None, padding=0) | kwargs
        out, dout, dx = run_ours("max", cfg, 0)
        expected_out, expected_dx = torch_forward_backward("max", cfg, dout)
        np.testing.assert_array_equal(out, expected_out)  # NaN == NaN for this function
        np.testing.assert_allclose(dx, expected_dx, rtol=1e-12, atol=1e-12)


def test_padding_is_minus_infinity_for_max_and_counted_zeros_for_avg():
    negative = -np.ones((1, 1, 2, 2))
    assert np.all(max_pool2d(negative, 2, stride=1, padding=1) == -1)  # zeros would win
    ones = np.ones((1, 1, 3, 3))
    out = avg_pool2d(ones, 3, stride=1, padding=1)[0, 0]  # count_include_pad=True
    np.testing.assert_allclose(
        out, [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]
    )


def test_seed_examples():
    """EECS 498 / CS231n 2x2 stride-2 example; Hung-yi Lee's 4x4 feature map -> [[3, 0], [3, 1]]."""
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    np.testing.assert_array_equal(max_pool2d(x[None], 2)[0], [[6, 8], [3, 4]])
    np.testing.assert_array_equal(avg_pool2d(x[None], 2)[0], [[3.25, 5.25], [2, 2]])
    feature_map = np.array([[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]])
    np.testing.assert_array_equal(max_pool2d(feature_map[None], 2)[0], [[3, 0], [3, 1]])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_unbatched_int_and_tensor_input(kind):
    forward, backward, theirs = LAYERS[kind]
    x = np.arange(2 * 5 * 6).reshape(2, 5, 6)  # (C, H, W), integers
    out = forward(x, 2, 1)
    assert out.dtype == np.float64 and out.shape == (2, 4, 5)
    expected = theirs(torch.from_numpy(x).double(), 2, 1)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12)
    dx = backward(np.ones(out.shape), x, 2, 1)
    assert dx.shape == x.shape
    tensor = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    np.testing.assert_allclose(forward(tensor, 3), theirs(tensor, 3).numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_empty_batch_and_input_not_modified(kind):
    forward, backward, _ = LAYERS[kind]
    assert forward(np.zeros((0, 2, 4, 4)), 2).shape == (0, 2, 2, 2)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    copy = x.copy()
    out = forward(x, 3, 2, 1)
    backward(np.ones_like(out), x, 3, 2, 1)
    np.testing.assert_array_equal(x, copy)


def test_non_overlapping_gradients_sum_to_dout():
    """stride = kernel: each input is in exactly one window, so the gradient is conserved."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 6))
    dout = rng.standard_normal((2, 3, 4, 3))
    for backward in (max_pool2d_backward, avg_pool2d_backward):
        dx = backward(dout, x, 2)
        np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-12)
    dx = max_pool2d_backward(dout, x, 2)
    assert np.count_nonzero(dx) == dout.size  # one winner per window


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (4, 1, 1), (1, 2, 1, 9)])
def test_global_avg_pool2d(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    expected = F.adaptive_avg_pool2d(torch.from_numpy(x), 1).numpy()
    out = global_avg_pool2d(x)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert global_avg_pool2d(x.astype(np.float32)).dtype == np.float32


# --- bad input: clear errors that name the argument -------------------------------------

X = np.zeros((1, 2, 5, 5))


@pytest.mark.parametrize("fname", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(padding=2), ValueError, ["padding", "at most half the kernel size", "padding=2"]),
        (dict(kernel_size=2, padding=(0, 2)), ValueError, ["padding=(0, 2)", "kernel_size=2"]),
        (dict(kernel_size=6), ValueError, ["kernel is larger than the padded input", "6"]),
        (dict(kernel_size=(3, 9), padding=1), ValueError, ["axis 1", "5 positions", "= 7"]),
        (dict(kernel_size=0), ValueError, ["kernel_size", "positive"]),
        (dict(kernel_size=(2, 2, 2)), ValueError, ["kernel_size", "tuple of 2"]),
        (dict(kernel_size=2.5), TypeError, ["kernel_size", "int"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
        (dict(stride=(1, -1)), ValueError, ["stride", "positive"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(x=np.zeros((5, 5))), ValueError, ["x must have 4 dimensions", "(N, C, H, W)"]),
        (dict(x=np.zeros((1, 1, 1, 5, 5))), ValueError, ["x must have", "got 5"]),
        (dict(x=np.zeros((1, 0, 5, 5))), ValueError, ["at least one channel", "(1, 0, 5, 5)"]),
        (dict(x=None), TypeError, ["x must be an array", "None"]),
        (dict(x="image"), TypeError, ["x must hold numbers"]),
    ],
)
def test_forward_bad_input(fname, kwargs, error, words):
    forward = {"max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d}[fname]
    arguments = dict(x=X, kernel_size=3, stride=None, padding=0) | kwargs
    assert_named_error(forward, error, words, **arguments)


@pytest.mark.parametrize("backward", [max_pool2d_backward, avg_pool2d_backward])
def test_backward_bad_input(backward):
    name = backward.__name__
    with pytest.raises(ValueError, match=rf"^{name}: dout must have the shape .* \(1, 2, 2, 2\)"):
        backward(np.zeros((1, 2, 3, 3)), X, 2)
    with pytest.raises(ValueError, match=rf"^{name}: dout .* \(C, H_out, W_out\) = \(2, 2, 2\)"):
        backward(np.zeros((1, 2, 2, 2)), X[0], 2)
    with pytest.raises(TypeError, match=rf"^{name}: dout must be an array"):
        backward(None, X, 2)
    with pytest.raises(ValueError, match=rf"^{name}: padding must be at most half"):
        backward(np.zeros((1, 2, 2, 2)), X, 2, padding=3)


def test_global_avg_pool2d_bad_input():
    with pytest.raises(ValueError, match=r"^global_avg_pool2d: x must have 4 dimensions"):
        global_avg_pool2d(np.zeros(5))
    with pytest.raises(ValueError, match=r"^global_avg_pool2d: x must have at least one"):
        global_avg_pool2d(np.zeros((1, 3, 0, 4)))
