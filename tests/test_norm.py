"""helpers.norm against PyTorch: forward, backward, running statistics and BN folding."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers import norm

T = torch.from_numpy
KINDS = ("batch", "layer", "instance", "group")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def random_problem(seed: int, kind: str, dtype=np.float64) -> dict:
    """Random x (2-D to 5-D, non-square), gamma, beta, num_groups and eps for one norm."""
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 2, 3, 4]))
    c = groups * int(rng.integers(1, 4))
    ndim = int(rng.choice([3, 4, 4, 4, 5] if kind == "instance" else [2, 3, 4, 4, 4, 5]))
    spatial = tuple(int(s) for s in rng.integers(1, 6, ndim - 2))
    n = int(rng.integers(1, 5))
    # PyTorch refuses a single value per set of statistics (and GroupNorm when N = 1 too)
    per_set = {"batch": int(np.prod(spatial)), "layer": c * int(np.prod(spatial))}
    per_set["group"] = c // groups * int(np.prod(spatial))
    if kind != "instance" and n * per_set[kind] == 1:
        n = 2
    if kind == "instance" and int(np.prod(spatial)) == 1:
        spatial = (2, *spatial[1:])
    # an offset and a scale per channel, so that normalizing actually does something
    x = rng.standard_normal((n, c, *spatial)) * rng.uniform(0.5, 3, (1, c) + (1,) * len(spatial))
    x = x + rng.uniform(-2, 2, (1, c) + (1,) * len(spatial))
    return dict(
        x=x.astype(dtype),
        gamma=rng.standard_normal(c).astype(dtype),
        beta=rng.standard_normal(c).astype(dtype),
        groups=groups,
        eps=float(rng.choice([1e-5, 1e-3, 0.1])),
        dout=rng.standard_normal(x.shape).astype(dtype),
    )


def ours_forward(kind: str, p: dict) -> np.ndarray:
    if kind == "group":
        return norm.group_norm(p["x"], p["groups"], p["gamma"], p["beta"], eps=p["eps"])
    fn = {"batch": norm.batch_norm, "layer": norm.layer_norm, "instance": norm.instance_norm}
    return fn[kind](p["x"], p["gamma"], p["beta"], eps=p["eps"])


def ours_backward(kind: str, p: dict):
    if kind == "group":
        return norm.group_norm_backward(p["dout"], p["x"], p["groups"], p["gamma"], eps=p["eps"])
    fn = {
        "batch": norm.batch_norm_backward,
        "layer": norm.layer_norm_backward,
        "instance": norm.instance_norm_backward,
    }
    return fn[kind](p["dout"], p["x"], p["gamma"], eps=p["eps"])


def torch_forward(kind: str, x, gamma, beta, groups: int, eps: float):
    if kind == "batch":
        return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    if kind == "layer":
        return F.group_norm(x, 1, gamma, beta, eps=eps)
    if kind == "instance":
        return F.instance_norm(x, weight=gamma, bias=beta, eps=eps)
    return F.group_norm(x, groups, gamma, beta, eps=eps)


def tolerance(dtype) -> dict:
    return dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("kind", KINDS)
def test_forward_matches_torch(kind, seed):
    for dtype in (np.float64, np.float32):
        p = random_problem(seed, kind, dtype)
        x, gamma, beta = T(p["x"]), T(p["gamma"]), T(p["beta"])
        expected = torch_forward(kind, x, gamma, beta, p["groups"], p["eps"])
        got = ours_forward(kind, p)
        assert got.shape == p["x"].shape and got.dtype == dtype
        np.testing.assert_allclose(got, expected.numpy(), **tolerance(dtype))


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("kind", KINDS)
def test_backward_matches_autograd(kind, seed):
    for dtype in (np.float64, np.float32):
        p = random_problem(100 + seed, kind, dtype)
        x, gamma, beta = (T(p[k]).clone().requires_grad_() for k in ("x", "gamma", "beta"))
        torch_forward(kind, x, gamma, beta, p["groups"], p["eps"]).backward(T(p["dout"]))
        dx, dgamma, dbeta = ours_backward(kind, p)
        assert dx.shape == p["x"].shape and dgamma.shape == dbeta.shape == p["gamma"].shape
        assert dx.dtype == dgamma.dtype == dbeta.dtype == dtype
        # float32: the sums of dgamma/dbeta and the cancellation in dx lose a few more digits
        tol = tolerance(dtype) if dtype == np.float64 else dict(rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(dx, x.grad.numpy(), **tol)
        np.testing.assert_allclose(dgamma, gamma.grad.numpy(), **tol)
        np.testing.assert_allclose(dbeta, beta.grad.numpy(), **tol)


@pytest.mark.parametrize("seed", range(10))
def test_layer_norm_is_torch_layer_norm_with_per_channel_affine(seed):
    p = random_problem(200 + seed, "layer")
    x, gamma, beta = p["x"], p["gamma"], p["beta"]
    shape = (1, -1) + (1,) * (x.ndim - 2)
    plain = F.layer_norm(T(x), x.shape[1:], eps=p["eps"]).numpy()
    expected = plain * gamma.reshape(shape) + beta.reshape(shape)
    np.testing.assert_allclose(
        norm.layer_norm(x, gamma, beta, eps=p["eps"]), expected, 1e-10, 1e-10
    )
    # and nn.LayerNorm with its elementwise affine set to gamma[c] everywhere
    layer = nn.LayerNorm(x.shape[1:], eps=p["eps"], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(T(gamma).reshape(-1, *[1] * (x.ndim - 2)).expand(x.shape[1:]))
        layer.bias.copy_(T(beta).reshape(-1, *[1] * (x.ndim - 2)).expand(x.shape[1:]))
        np.testing.assert_allclose(layer(T(x)).numpy(), expected, 1e-10, 1e-10)


@pytest.mark.parametrize("seed", range(10))
def test_special_cases_of_group_norm(seed):
    p = random_problem(300 + seed, "instance")
    x, g, b = p["x"], p["gamma"], p["beta"]
    c = x.shape[1]
    np.testing.assert_allclose(norm.layer_norm(x, g, b), norm.group_norm(x, 1, g, b), 0, 1e-12)
    np.testing.assert_allclose(norm.instance_norm(x, g, b), norm.group_norm(x, c, g, b), 0, 1e-12)
    dout = p["dout"]
    for a, bb in zip(
        norm.instance_norm_backward(dout, x, g),
        norm.group_norm_backward(dout, x, c, g),
        strict=True,
    ):
        np.testing.assert_allclose(a, bb, 0, 1e-12)


def test_statistics_of_the_output():
    rng = np.random.default_rng(0)
    x = 3 + 5 * rng.standard_normal((8, 4, 6, 6))
    y = norm.batch_norm(x, None, None)  # gamma = 1, beta = 0
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-4)  # eps shrinks it a bit
    y = norm.group_norm(x, 2, np.full(4, 2.0), np.full(4, -1.0))
    np.testing.assert_allclose(y.reshape(8, 2, -1).mean(axis=2), -1, atol=1e-12)
    np.testing.assert_allclose(y.reshape(8, 2, -1).std(axis=2), 2, atol=1e-4)


def test_gamma_and_beta_can_undo_the_normalization():
    rng = np.random.default_rng(1)
    x = 2 + 3 * rng.standard_normal((16, 5))
    eps = 1e-5
    gamma, beta = np.sqrt(x.var(axis=0) + eps), x.mean(axis=0)
    np.testing.assert_allclose(norm.batch_norm(x, gamma, beta, eps), x, rtol=1e-12, atol=1e-12)


def test_inputs_are_not_modified_and_tensors_accepted():
    p = random_problem(7, "group")
    saved = copy.deepcopy(p)
    ours_forward("group", p)
    ours_backward("group", p)
    for key in ("x", "gamma", "beta", "dout"):
        np.testing.assert_array_equal(p[key], saved[key])
    got = norm.batch_norm(T(p["x"]), T(p["gamma"]), T(p["beta"]))
    np.testing.assert_allclose(got, norm.batch_norm(p["x"], p["gamma"], p["beta"]), 0, 1e-12)


def test_integer_input_becomes_float64():
    x = np.arange(24).reshape(2, 3, 2, 2)
    assert norm.group_norm(x, 3, [1, 1, 1], [0, 0, 0]).dtype == np.float64


# --- running statistics --------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.1, 0.3, 1.0, None])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 5), (2, 3, 1, 7)])
def test_batchnorm_running_stats_match_torch(momentum, shape):
    rng = np.random.default_rng(0)
    c = shape[1]
    ours = norm.BatchNorm(c, eps=1e-3, momentum=momentum)
    theirs = (nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d)(
        c, eps=1e-3, momentum=momentum, dtype=torch.float64
    )
    with torch.no_grad():
        gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
        theirs.weight.copy_(T(gamma))
        theirs.bias.copy_(T(beta))
        ours.gamma, ours.beta = gamma, beta
        for step in range(5):
            x = 2 + 3 * rng.standard_normal(shape)
            np.testing.assert_allclose(ours(x), theirs(T(x)).numpy(), 1e-10, 1e-10)
            np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), 1e-12, 1e-12)
            np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), 1e-12, 1e-12)
            assert ours.num_batches_tracked == step + 1 == int(theirs.num_batches_tracked)
        ours.eval()
        theirs.eval()
        x_test = rng.standard_normal(shape)
        before = ours.running_mean.copy()
        np.testing.assert_allclose(ours(x_test), theirs(T(x_test)).numpy(), 1e-10, 1e-10)
        np.testing.assert_array_equal(ours.running_mean, before)  # eval changes nothing
        assert ours.num_batches_tracked == 5


def test_batchnorm_momentum_convention_by_hand():
    bn = norm.BatchNorm(1, momentum=0.1)
    x = np.array([[1.0], [3.0]])  # mean 2, biased var 1, unbiased var 2
    bn(x)
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 2])
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 2])
    np.testing.assert_allclose(bn.eval()(x), (x - 0.2) / np.sqrt(1.1 + 1e-5))


def test_batchnorm_modes_and_repr():
    bn = norm.BatchNorm(4)
    assert bn.training and bn.eval() is bn and not bn.training
    assert bn.train() is bn and bn.training
    assert repr(bn) == "BatchNorm(4, eps=1e-05, momentum=0.1, mode='train')"
    with pytest.raises(TypeError, match="BatchNorm.train: mode"):
        bn.train("no")
    # eval with a single example is fine (no batch statistics needed); train is not
    assert bn.eval()(np.ones((1, 4))).shape == (1, 4)
    with pytest.raises(ValueError, match="only one value per channel"):
        bn.train()(np.ones((1, 4)))


# --- folding ---------------------------------------------------------------------------------


def random_conv_bn(seed: int, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    conv = nn.Conv2d(
        c_in,
        c_out,
        kernel_size=tuple(int(k) for k in rng.integers(1, 4, 2)),
        stride=tuple(int(s) for s in rng.integers(1, 3, 2)),
        padding=int(rng.integers(0, 2)),
        dilation=int(rng.integers(1, 3)),
        groups=groups,
        bias=bool(rng.random() < 0.5),
        padding_mode=str(rng.choice(["zeros", "zeros", "reflect"])),
        dtype=dtype,
    )
    bn = nn.BatchNorm2d(c_out, eps=float(rng.choice([1e-5, 1e-3])), affine=bool(rng.random() < 0.8))
    bn = bn.to(dtype)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(c_out, generator=gen))
        bn.running_var.copy_(torch.rand(c_out, generator=gen) * 3 + 0.1)
        if bn.affine:
            bn.weight.copy_(torch.randn(c_out, generator=gen))
            bn.bias.copy_(torch.randn(c_out, generator=gen))
    x = torch.randn(2, c_in, 9, 8, generator=gen, dtype=dtype)
    return conv, bn, x


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", range(20))
def test_fold_batch_norm_equals_conv_then_bn(seed, dtype):
    conv, bn, x = random_conv_bn(seed, dtype)
    bn.train()  # folding uses the running statistics whatever the mode
    conv_state = copy.deepcopy(conv.state_dict())
    bn_state = copy.deepcopy(bn.state_dict())
    fused = norm.fold_batch_norm(conv, bn)
    assert isinstance(fused, nn.Conv2d) and fused is not conv and fused.bias is not None
    assert fused.weight.dtype == dtype
    with torch.no_grad():
        expected = bn.eval()(conv(x))
        got = fused(x)
    tol = 1e-10 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(got, expected, rtol=tol, atol=tol)
    for key, value in conv.state_dict().items():
        assert torch.equal(value, conv_state[key])
    for key, value in bn.state_dict().items():
        assert torch.equal(value, bn_state[key])


def test_fold_batch_norm_leaves_the_random_generator_alone():
    conv, bn, _ = random_conv_bn(0)
    torch.manual_seed(1)
    norm.fold_batch_norm(conv, bn)
    after_fold = torch.rand(3)
    torch.manual_seed(1)
    assert torch.equal(after_fold, torch.rand(3))


def test_fold_batch_norm_in_a_trained_style_block():
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
    block.train()
    for _ in range(3):  # a few training-mode passes give non-trivial running statistics
        block(torch.randn(16, 3, 10, 10) * 2 + 1)
    block.eval()
    fused = norm.fold_batch_norm(block[0], block[1])
    x = torch.randn(4, 3, 10, 10)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), block(x), rtol=1e-4, atol=1e-5)


# --- bad input -------------------------------------------------------------------------------

X = np.zeros((2, 4, 3, 3))
G = np.ones(4)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: norm.batch_norm(X, np.ones(3), G), ValueError, ["gamma", "(C,) = (4,)", "(3,)"]),
        (lambda: norm.batch_norm(X, G, np.ones((4, 1))), ValueError, ["beta", "(4, 1)"]),
        (lambda: norm.batch_norm(np.zeros((2, 4, 3, 3, 1, 1)), G, G), ValueError, ["x must"]),
        (lambda: norm.batch_norm(np.zeros(4), G, G), ValueError, ["x must", "(N, C)", "got 1"]),
        (lambda: norm.batch_norm(np.zeros((1, 4)), G, G), ValueError, ["one value per channel"]),
        (lambda: norm.batch_norm(np.zeros((1, 4, 1, 1)), G, G), ValueError, ["N * H * W = 1"]),
        (lambda: norm.batch_norm(X, G, G, eps=-1), ValueError, ["eps", ">= 0"]),
        (lambda: norm.batch_norm(X, G, G, eps="small"), TypeError, ["eps", "number"]),
        (lambda: norm.batch_norm(None, G, G), TypeError, ["x must be an array"]),
        (lambda: norm.batch_norm(np.zeros((0, 4)), G, G), ValueError, ["x is empty"]),
        (lambda: norm.layer_norm(X, np.ones(12), G), ValueError, ["gamma", "(C,) = (4,)"]),
        (lambda: norm.layer_norm(X[0], G, G), ValueError, ["gamma", "(C,) = (3,)"]),
        (lambda: norm.instance_norm(np.zeros((2, 4)), G, G), ValueError, ["(N, C, H, W)"]),
        (lambda: norm.instance_norm(np.zeros((2, 4, 1, 1)), G, G), ValueError, ["H * W = 1"]),
        (lambda: norm.group_norm(X, 3, G, G), ValueError, ["num_groups=3", "divide", "C=4"]),
        (lambda: norm.group_norm(X, 0, G, G), ValueError, ["num_groups", "positive"]),
        (lambda: norm.group_norm(X, 2.0, G, G), TypeError, ["num_groups", "int"]),
        (lambda: norm.group_norm(X, 2, G[:2], G[:2]), ValueError, ["one value per channel"]),
        (lambda: norm.batch_norm_backward(X[:1], X, G), ValueError, ["dout", "shape of x"]),
        (lambda: norm.layer_norm_backward(X, X, np.ones(2)), ValueError, ["gamma", "(4,)"]),
        (lambda: norm.group_norm_backward(X, X, 8, G), ValueError, ["num_groups=8", "divide"]),
        (lambda: norm.instance_norm_backward(X, X[:, :, 0, 0], G), ValueError, ["x must"]),
        (lambda: norm.BatchNorm(0), ValueError, ["num_features", "positive"]),
        (lambda: norm.BatchNorm(4, momentum=1.5), ValueError, ["momentum", "[0, 1]"]),
        (lambda: norm.BatchNorm(4, momentum="0.1"), TypeError, ["momentum", "number"]),
        (lambda: norm.BatchNorm(4)(np.zeros((2, 3, 5, 5))), ValueError, ["gamma", "(C,) = (3,)"]),
    ],
)
def test_bad_input(call, error, words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert message.split(":")[0] in {
        "batch_norm",
        "layer_norm",
        "instance_norm",
        "group_norm",
        "batch_norm_backward",
        "layer_norm_backward",
        "instance_norm_backward",
        "group_norm_backward",
        "BatchNorm",
    }, message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_fold_batch_norm_bad_input():
    conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
    with pytest.raises(TypeError, match="fold_batch_norm: conv must be a torch.nn.Conv2d"):
        norm.fold_batch_norm(nn.Linear(3, 4), bn)
    with pytest.raises(TypeError, match="fold_batch_norm: bn must be a torch.nn.BatchNorm2d"):
        norm.fold_batch_norm(conv, nn.BatchNorm1d(4))
    with pytest.raises(ValueError, match="num_features=5.*out_channels=4"):
        norm.fold_batch_norm(conv, nn.BatchNorm2d(5))
    with pytest.raises(ValueError, match="no running statistics"):
        norm.fold_batch_norm(conv, nn.BatchNorm2d(4, track_running_stats=False))
