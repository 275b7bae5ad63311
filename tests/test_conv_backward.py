"""helpers.conv.conv2d_backward (and the 1-D / 3-D versions) against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from named_errors import assert_named_error
from strategies import PROPERTY, SEEDS, conv_problems

from helpers.conv import conv1d, conv1d_backward, conv2d, conv2d_backward
from helpers.conv_backward import conv3d_backward
from helpers.gradcheck import numerical_gradient, rel_error

OURS = {1: conv1d_backward, 2: conv2d_backward, 3: conv3d_backward}
THEIRS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def autograd(nd: int, cfg: dict, seed: int) -> tuple[np.ndarray, ...]:
    """(dout, dx, dw, db) from torch autograd for an upstream gradient drawn from ``seed``."""
    x = torch.from_numpy(cfg["x"]).requires_grad_()
    w = torch.from_numpy(cfg["w"]).requires_grad_()
    b = torch.zeros(w.shape[0], dtype=w.dtype, requires_grad=True)
    hyper = {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}
    out = THEIRS[nd](x, w, b, **hyper)
    rng = np.random.default_rng(seed)
    dout = rng.standard_normal(tuple(out.shape)).astype(cfg["x"].dtype)
    out.backward(torch.from_numpy(dout))
    return dout, x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


def run_ours(nd: int, cfg: dict, dout: np.ndarray):
    hyper = {k: cfg[k] for k in ("stride", "padding", "dilation", "groups")}
    return OURS[nd](dout, cfg["x"], cfg["w"], **hyper)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@settings(PROPERTY, max_examples=120)
@given(cfg=conv_problems(2, bias=False, same=True), seed=SEEDS)
def test_conv2d_backward_matches_autograd(cfg, seed):
    dout, *expected = autograd(2, cfg, seed)
    got = run_ours(2, cfg, dout)
    for name, ours, theirs in zip(("dx", "dw", "db"), got, expected, strict=True):
        assert ours.shape == theirs.shape, name
        assert ours.dtype == np.float64, name
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("nd", [1, 3])
@settings(PROPERTY, max_examples=20)
@given(data=st.data())
def test_conv1d_conv3d_backward_match_autograd(nd, data):
    cfg = data.draw(conv_problems(nd, bias=False, same=True))
    dout, *expected = autograd(nd, cfg, data.draw(SEEDS))
    for ours, theirs in zip(run_ours(nd, cfg, dout), expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@settings(PROPERTY, max_examples=20)
@given(cfg=conv_problems(2, bias=False, same=True, dtype=np.float32), seed=SEEDS)
def test_float32_stays_float32_and_matches(cfg, seed):
    dout, *expected = autograd(2, cfg, seed)
    for ours, theirs in zip(run_ours(2, cfg, dout), expected, strict=True):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_matches_numerical_gradient():
    """Independent of torch: centred differences of the forward pass helpers.conv.conv2d."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 7))
    w = rng.standard_normal((6, 2, 3, 2))
    b = rng.standard_normal(6)
    hyper = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    dout = rng.standard_normal(conv2d(x, w, b, **hyper).shape)
    dx, dw, db = conv2d_backward(dout, x, w, **hyper)
    assert rel_error(dx, numerical_gradient(lambda v: conv2d(v, w, b, **hyper), x, dout)) < 1e-6
    assert rel_error(dw, numerical_gradient(lambda v: conv2d(x, v, b, **hyper), w, dout)) < 1e-6
    assert rel_error(db, numerical_gradient(lambda v: conv2d(x, w, v, **hyper), b, dout)) < 1e-6


def test_unbatched_input_and_int_hyperparameters():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((3, 9, 8)), requires_grad=True)
    w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, stride=2, padding=1)
    dout = torch.from_numpy(rng.standard_normal(tuple(out.shape)))
    out.backward(dout)
    dx, dw, db = conv2d_backward(dout.numpy(), x.detach().numpy(), w.detach().numpy(), 2, 1)
    assert dx.shape == (3, 9, 8)  # unbatched in, unbatched out
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, w.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, dout.numpy().sum(axis=(1, 2)), rtol=1e-12)


def test_accepts_torch_tensors_and_lists():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    dout = torch.randn(1, 3, 3, 3, dtype=torch.float64)
    dx, dw, db = conv2d_backward(dout, x, w)
    dx2, dw2, db2 = conv2d_backward(dout.tolist(), x.numpy(), w.tolist())
    np.testing.assert_allclose(dx, dx2)
    np.testing.assert_allclose(dw, dw2)
    assert isinstance(db, np.ndarray) and db.shape == (3,)


def test_uncovered_rows_get_zero_gradient():
    """H = 6, k = 3, stride 2: windows start at rows 0 and 2, so row 5 is never read."""
    x, w = np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3))
    dx, _, _ = conv2d_backward(np.ones((1, 1, 2, 2)), x, w, stride=2)
    assert np.all(dx[0, 0, 5] == 0) and np.all(dx[0, 0, :, 5] == 0)
    assert dx[0, 0, 2, 2] == 4  # the centre row/column is shared by all four windows


def test_conv1d_backward_three_tap_formula():
    """z_i = w1 x_{i-1} + w2 x_i + w3 x_{i+1}: dx_i = w1 d_{i+1} + w2 d_i + w3 d_{i-1}."""
    x = np.array([[[1.0, 2.0, -1.0, 3.0, 0.5]]])
    w = np.array([[[0.5, -1.0, 2.0]]])
    delta = np.array([[[1.0, -2.0, 0.5, 1.0, 3.0]]])
    dx, dw, db = conv1d_backward(delta, x, w, padding=1)
    d = np.pad(delta[0, 0], 1)
    expected_dx = w[0, 0, 0] * d[2:] + w[0, 0, 1] * d[1:-1] + w[0, 0, 2] * d[:-2]
    np.testing.assert_allclose(dx[0, 0], expected_dx)
    xp = np.pad(x[0, 0], 1)
    expected_dw = [np.dot(delta[0, 0], xp[u : u + 5]) for u in range(3)]
    np.testing.assert_allclose(dw[0, 0], expected_dw)
    assert db[0] == delta.sum()
    assert conv1d(x, w, padding=1).shape == delta.shape


# --- bad input: clear errors that name the argument -------------------------------------

X = np.zeros((1, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))
DOUT = np.zeros((1, 4, 3, 3))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(dout=np.zeros((1, 4, 5, 5))), ValueError, ["dout", "(1, 4, 3, 3)", "(1, 4, 5, 5)"]),
        (dict(dout=np.zeros((1, 3, 3, 3))), ValueError, ["dout", "forward output", "stride"]),
        (dict(dout=np.zeros((4, 3, 3))), ValueError, ["dout must have 4 dimensions"]),
        (dict(padding=1), ValueError, ["dout", "(1, 4, 5, 5)"]),
        (dict(x=np.zeros((1, 2, 5, 5))), ValueError, ["C_in=2", "w.shape[1]"]),
        (dict(w=np.zeros((4, 3, 7, 7))), ValueError, ["kernel is larger than the padded input"]),
        (dict(stride=0), ValueError, ["stride", "positive"]),
        (dict(stride=1.5), TypeError, ["stride", "int"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(padding="full"), ValueError, ["padding", "'same'"]),
        (dict(padding="same", stride=2), ValueError, ["'same'", "stride 1"]),
        (dict(dilation=(1, 0)), ValueError, ["dilation", "positive"]),
        (dict(groups=2), ValueError, ["groups=2", "divide"]),
        (dict(groups=0), ValueError, ["groups", "positive"]),
        (dict(x=np.zeros((5, 5))), ValueError, ["x must have 4 dimensions", "(N, C_in, H, W)"]),
        (dict(w=np.zeros((3, 3, 3))), ValueError, ["w must have 4 dimensions"]),
        (dict(dout=None), TypeError, ["dout must be an array", "None"]),
        (dict(x="image"), TypeError, ["x must hold numbers"]),
    ],
)
def test_conv2d_backward_bad_input(kwargs, error, words):
    arguments = dict(dout=DOUT, x=X, w=W, stride=1, padding=0, dilation=1, groups=1) | kwargs
    assert_named_error(conv2d_backward, error, words, **arguments)


def test_unbatched_dout_must_be_unbatched():
    with pytest.raises(ValueError, match=r"conv2d_backward: dout must have 3 dimensions"):
        conv2d_backward(DOUT, X[0], W)
    with pytest.raises(ValueError, match=r"conv1d_backward: x must have 3 dimensions"):
        conv1d_backward(np.zeros((1, 1, 2)), np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3)))
