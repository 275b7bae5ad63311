"""helpers.shapes output sizes against the shapes PyTorch layers actually produce."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from named_errors import assert_named_error

from helpers.shapes import conv_output_size, conv_transpose_output_size, pool_output_size


def torch_size(fn, *args, **kwargs):
    """The last-axis size of ``fn(*args, **kwargs)``, or None where PyTorch refuses."""
    try:
        with torch.no_grad():
            return fn(*args, **kwargs).shape[-1]
    except RuntimeError:
        return None


def ours(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


GRID = list(
    itertools.product(range(1, 10), range(1, 5), range(1, 4), range(0, 3), range(1, 3))
)  # n, kernel, stride, padding, dilation


@pytest.mark.parametrize("chunk", range(4))
def test_conv_output_size_matches_conv1d_on_a_grid(chunk):
    for n, k, s, p, d in GRID[chunk::4]:
        x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
        expected = torch_size(F.conv1d, x, w, stride=s, padding=p, dilation=d)
        got = ours(conv_output_size, n, k, stride=s, padding=p, dilation=d)
        assert got == expected, (n, k, s, p, d)


@pytest.mark.parametrize("seed", range(60))
def test_conv_output_size_matches_nn_conv2d_with_pairs(seed):
    rng = np.random.default_rng(seed)
    k, s, d = (tuple(int(v) for v in rng.integers(1, 5, 2)) for _ in range(3))
    p = tuple(int(v) for v in rng.integers(0, 3, 2))
    size = tuple(int(rng.integers(d[i] * (k[i] - 1) + 1, 20)) for i in range(2))
    layer = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    expected = tuple(layer(torch.zeros(1, 1, *size)).shape[-2:])
    assert conv_output_size(size, k, s, p, d) == expected
    assert conv_output_size(list(size), list(k), list(s), list(p), list(d)) == expected
    # an int hyper-parameter applies to both axes
    layer = torch.nn.Conv2d(1, 1, k[0], stride=s[0], padding=p[0], dilation=d[0])
    try:
        expected = tuple(layer(torch.zeros(1, 1, *size)).shape[-2:])
    except RuntimeError:  # the kernel does not fit on the smaller axis
        expected = None
    assert ours(conv_output_size, size, k[0], s[0], p[0], d[0]) == expected


@pytest.mark.parametrize("seed", range(20))
def test_conv_output_size_matches_conv3d(seed):
    rng = np.random.default_rng(100 + seed)
    k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 3)) for _ in range(3))
    p = tuple(int(v) for v in rng.integers(0, 3, 3))
    size = tuple(int(rng.integers(d[i] * (k[i] - 1) + 1, 12)) for i in range(3))
    out = F.conv3d(torch.zeros(1, 1, *size), torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d)
    assert conv_output_size(size, k, s, p, d) == tuple(out.shape[-3:])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv_output_size_string_padding(padding):
    for n, k, d in itertools.product(range(1, 9), range(1, 5), range(1, 3)):
        x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
        expected = torch_size(F.conv1d, x, w, padding=padding, dilation=d)
        assert ours(conv_output_size, n, k, padding=padding, dilation=d) == expected
    with pytest.raises(ValueError, match="^conv_output_size: padding='same' needs stride=1"):
        conv_output_size(10, 3, stride=2, padding="same")


@pytest.mark.parametrize("chunk", range(4))
def test_conv_transpose_output_size_matches_conv_transpose1d(chunk):
    for (n, k, s, p, d), op in itertools.product(GRID[chunk::4], range(3)):
        x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
        expected = torch_size(
            F.conv_transpose1d, x, w, stride=s, padding=p, output_padding=op, dilation=d
        )
        got = ours(conv_transpose_output_size, n, k, s, p, op, d)
        assert got == expected, (n, k, s, p, op, d)


@pytest.mark.parametrize("seed", range(30))
def test_conv_transpose_output_size_matches_nn_conv_transpose2d(seed):
    rng = np.random.default_rng(200 + seed)
    k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
    p = tuple(int(v) for v in rng.integers(0, 2, 2))
    op = tuple(int(rng.integers(0, max(s[i], d[i]))) for i in range(2))
    size = tuple(int(v) for v in rng.integers(2, 10, 2))
    layer = torch.nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d, bias=False)
    expected = tuple(layer(torch.zeros(1, 1, *size)).shape[-2:])
    assert conv_transpose_output_size(size, k, s, p, op, d) == expected


def test_conv_transpose_inverts_conv_size():
    for n, k, s, p, d in GRID:
        try:
            m = conv_output_size(n, k, s, p, d)
        except ValueError:
            continue
        # output_padding picks which of the s input sizes that give m
        extra = (n + 2 * p - d * (k - 1) - 1) % s
        if extra < max(s, d):
            assert conv_transpose_output_size(m, k, s, p, extra, d) == n


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_max_pool1d(ceil_mode):
    for n, k, s, p, d in itertools.product(
        range(1, 10), range(1, 5), range(1, 4), range(3), (1, 2)
    ):
        x = torch.zeros(1, 1, n)
        expected = torch_size(F.max_pool1d, x, k, s, p, d, ceil_mode=ceil_mode)
        got = ours(pool_output_size, n, k, s, p, d, ceil_mode=ceil_mode)
        assert got == expected, (n, k, s, p, d, ceil_mode)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_avg_pool1d(ceil_mode):
    for n, k, s, p in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(3)):
        x = torch.zeros(1, 1, n)
        expected = torch_size(F.avg_pool1d, x, k, s, p, ceil_mode=ceil_mode)
        assert ours(pool_output_size, n, k, s, p, ceil_mode=ceil_mode) == expected


@pytest.mark.parametrize("seed", range(40))
def test_pool_output_size_matches_nn_max_pool2d(seed):
    rng = np.random.default_rng(300 + seed)
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    s = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, 2))
    p = tuple(int(rng.integers(0, k[i] // 2 + 1)) for i in range(2))
    ceil_mode = bool(rng.random() < 0.5)
    size = tuple(int(rng.integers(k[i], 16)) for i in range(2))
    layer = torch.nn.MaxPool2d(k, s, p, ceil_mode=ceil_mode)
    expected = tuple(layer(torch.zeros(1, 1, *size)).shape[-2:])
    assert pool_output_size(size, k, s, p, ceil_mode=ceil_mode) == expected


def test_pool_stride_defaults_to_kernel_size():
    assert pool_output_size(224, 2) == 112
    assert pool_output_size((55, 55), 3, 2) == (27, 27)  # AlexNet's first pooling
    assert pool_output_size(112, 3, 2, 1) == 56  # ResNet's stem pooling
    assert pool_output_size(6, 4, 4, ceil_mode=True) == 2  # a partial window counts
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3  # starts in left padding: kept


def test_worked_examples():
    assert conv_output_size(32, 5, padding=2) == 32
    assert conv_output_size(227, 11, stride=4) == 55
    assert conv_output_size((224, 224), 7, 2, 3) == (112, 112)
    assert conv_output_size(28, 3, dilation=2) == 24
    assert conv_transpose_output_size(4, 4, stride=2, padding=1) == 8
    assert conv_output_size(np.int64(10), np.int64(3)) == 8  # NumPy integers are fine


@pytest.mark.parametrize(
    "fn, args, kwargs, error, words",
    [
        (conv_output_size, (3, 5), {}, ValueError, ["output would be empty", "n=3", "span"]),
        (conv_output_size, ((9, 3), 5), {}, ValueError, ["empty on axis 1", "kernel_size=5"]),
        (conv_output_size, (10, 3), {"stride": 0}, ValueError, ["stride must be positive"]),
        (conv_output_size, (10, 3), {"padding": -1}, ValueError, ["padding must be >= 0"]),
        (conv_output_size, (10, 0), {}, ValueError, ["kernel_size must be positive"]),
        (conv_output_size, (10, 3), {"dilation": 0}, ValueError, ["dilation"]),
        (conv_output_size, (10.0, 3), {}, TypeError, ["n must be an int"]),
        (conv_output_size, (10, 3.0), {}, TypeError, ["kernel_size must be an int"]),
        (conv_output_size, (10, (3, 3)), {}, ValueError, ["n is an int", "kernel_size"]),
        (conv_output_size, ((10, 10), (3, 3, 3)), {}, ValueError, ["tuple of 2 ints"]),
        (conv_output_size, (10, 3), {"padding": "full"}, ValueError, ["'valid' or 'same'"]),
        (conv_output_size, (0, 3), {}, ValueError, ["n must be positive"]),
        (conv_output_size, (True, 3), {}, TypeError, ["n must be an int"]),
        (conv_output_size, ((), 3), {}, ValueError, ["non-empty"]),
        (conv_transpose_output_size, (4, 3, 2, 0, 2), {}, ValueError, ["output_padding"]),
        (conv_transpose_output_size, (1, 1, 1, 1), {}, ValueError, ["output would be empty"]),
        (pool_output_size, (10, 2), {"padding": 2}, ValueError, ["half the kernel"]),
        (pool_output_size, (2, 3), {}, ValueError, ["output would be empty"]),
        (pool_output_size, (8, 2), {"ceil_mode": 1}, TypeError, ["ceil_mode"]),
        (pool_output_size, (8, 2), {"stride": 0}, ValueError, ["stride must be positive"]),
    ],
)
def test_bad_arguments_are_named(fn, args, kwargs, error, words):
    assert_named_error(fn, error, words, *args, **kwargs)
