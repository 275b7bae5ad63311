"""helpers.conv against torch.nn.functional on many random configurations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from named_errors import assert_named_error
from strategies import PROPERTY, conv_problems

from helpers.conv import conv1d, conv2d, conv3d

OURS = {1: conv1d, 2: conv2d, 3: conv3d}
THEIRS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def torch_reference(nd: int, cfg: dict) -> np.ndarray:
    b = None if cfg["b"] is None else torch.from_numpy(cfg["b"])
    hyper = {k: v for k, v in cfg.items() if k not in ("x", "w", "b")}
    return THEIRS[nd](torch.from_numpy(cfg["x"]), torch.from_numpy(cfg["w"]), b, **hyper).numpy()


@settings(PROPERTY, max_examples=200)
@given(cfg=conv_problems(nd=2))
def test_conv2d_matches_torch(cfg):
    expected = torch_reference(2, cfg)
    got = conv2d(**cfg)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 3])
@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_conv1d_conv3d_match_torch(nd, data):
    cfg = data.draw(conv_problems(nd=nd))
    np.testing.assert_allclose(OURS[nd](**cfg), torch_reference(nd, cfg), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(20))
def test_int_hyperparameters_and_unbatched_input(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 9, 7))
    w = rng.standard_normal((4, 3, 3, 2))
    s, p, d = (int(v) for v in rng.integers(1, 3, 3))
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=s, padding=p, dilation=d)
    got = conv2d(x, w, stride=s, padding=p, dilation=d)
    assert got.shape == tuple(expected.shape)  # unbatched in, unbatched out, like torch
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "kernel, dilation", [((3, 3), 1), ((4, 2), 1), ((3, 4), (2, 3)), ((1, 5), 2)]
)
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding_matches_torch(kernel, dilation, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 8, 11))
    w = rng.standard_normal((3, 2, *kernel))
    expected = F.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), padding=padding, dilation=dilation
    )
    got = conv2d(x, w, padding=padding, dilation=dilation)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-10)


def test_dtypes():
    rng = np.random.default_rng(0)
    x32 = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    w32 = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    assert conv2d(x32, w32).dtype == np.float32
    assert conv2d(x32.astype(np.float64), w32).dtype == np.float64
    ints = conv2d(np.arange(25).reshape(1, 1, 5, 5), np.ones((1, 1, 3, 3), dtype=int))
    assert ints.dtype == np.float64 and ints[0, 0, 0, 0] == 0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12


def test_accepts_torch_tensors():
    x, w = (
        torch.randn(1, 2, 6, 6, dtype=torch.float64),
        torch.randn(3, 2, 3, 3, dtype=torch.float64),
    )
    np.testing.assert_allclose(conv2d(x, w), F.conv2d(x, w).numpy(), rtol=1e-12, atol=1e-12)


def test_seed_stride_example():
    """The 5x5 image, 3x3 kernel, stride 2 example of the Tu/NNDL slides: [[4, 4], [2, 4]]."""
    x = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    )
    w = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    out = conv2d(x[None, None], w[None, None], stride=2)[0, 0]
    np.testing.assert_array_equal(out, [[4, 4], [2, 4]])


# --- bad input: clear errors that name the argument -------------------------------------

X = np.zeros((1, 3, 5, 5))
W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (
            dict(x=np.zeros((1, 2, 5, 5))),
            ValueError,
            ["C_in=2", "w.shape[1]", "(C_out, C_in/groups, kH, kW)"],
        ),
        (dict(w=np.zeros((4, 3, 7, 7))), ValueError, ["kernel", "larger than the padded input"]),
        (dict(w=np.zeros((4, 3, 3, 3)), dilation=3), ValueError, ["dilation 3", "spans 7"]),
        (dict(stride=0), ValueError, ["stride", "positive", "0"]),
        (dict(stride=-1), ValueError, ["stride", "positive"]),
        (dict(stride=(1, 0)), ValueError, ["stride", "positive"]),
        (dict(stride=1.5), TypeError, ["stride", "int"]),
        (dict(stride=(1, 2, 3)), ValueError, ["stride", "tuple of 2"]),
        (dict(padding=-1), ValueError, ["padding", ">= 0"]),
        (dict(padding="full"), ValueError, ["padding", "'same'"]),
        (dict(padding="same", stride=2), ValueError, ["'same'", "stride 1"]),
        (dict(dilation=0), ValueError, ["dilation", "positive"]),
        (dict(groups=2), ValueError, ["groups=2", "divide"]),
        (dict(groups=0), ValueError, ["groups", "positive"]),
        (
            dict(x=np.zeros((5, 5))),
            ValueError,
            ["x must have 4 dimensions", "(N, C_in, H, W)", "got 2"],
        ),
        (dict(x=np.zeros((1, 1, 3, 5, 5))), ValueError, ["x must have", "got 5"]),
        (
            dict(w=np.zeros((3, 3, 3))),
            ValueError,
            ["w must have 4 dimensions", "(C_out, C_in/groups, kH, kW)"],
        ),
        (dict(b=np.zeros(3)), ValueError, ["b must have shape (C_out,) = (4,)", "(3,)"]),
        (dict(x=None), TypeError, ["x must be an array", "None"]),
        (dict(x="image"), TypeError, ["x must hold numbers"]),
        (dict(w=[[["a"]]]), TypeError, ["w must hold numbers"]),
    ],
)
def test_conv2d_bad_input(kwargs, error, words):
    arguments = dict(x=X, w=W, b=None, stride=1, padding=0, dilation=1, groups=1) | kwargs
    assert_named_error(conv2d, error, words, **arguments)


def test_conv1d_errors_name_conv1d():
    with pytest.raises(ValueError, match=r"conv1d: x must have 3 dimensions \(N, C_in, L\)"):
        conv1d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match="conv1d: the kernel is larger"):
        conv1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 3)))
