"""helpers.visualize: independent formulas, autograd against finite differences, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from named_errors import raises_named
from torch import nn

from helpers.visualize import (
    content_loss,
    gradient_ascent,
    gram_matrix,
    record_activations,
    saliency_map,
    style_loss,
    total_variation,
)


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def small_cnn(in_channels=1, seed=0):
    torch.manual_seed(seed)
    return (
        nn.Sequential(
            nn.Conv2d(in_channels, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4, 3),
        )
        .double()
        .eval()
    )


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 4, 5), (6, 2, 7), (2, 3, 8, 8)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_gram_matrix_matches_einsum(shape, dtype):
    features = randn(*shape, seed=sum(shape), dtype=dtype)
    expected = np.einsum("...ihw,...khw->...ik", features.numpy(), features.numpy())
    got = gram_matrix(features)
    assert got.shape == (*shape[:-3], shape[-3], shape[-3])
    assert got.dtype == dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-4
    np.testing.assert_allclose(got.numpy(), expected, rtol=tol, atol=tol)
    assert torch.allclose(got, got.transpose(-1, -2))


@pytest.mark.parametrize("seed", range(5))
def test_style_and_content_loss_formulas(seed):
    rng = np.random.default_rng(seed)
    c, h, w = (int(v) for v in rng.integers(1, 7, size=3))
    f = rng.standard_normal((c, h, w))
    p = rng.standard_normal((c, h, w))
    style = rng.standard_normal((c, h + 3, w + 1))
    flat = f.reshape(c, -1)
    a = style.reshape(c, -1) @ style.reshape(c, -1).T
    expected_style = np.sum((flat @ flat.T - a) ** 2) / (4 * c**2 * (h * w) ** 2)
    got = style_loss(torch.from_numpy(f), torch.from_numpy(a))
    assert got.shape == ()
    np.testing.assert_allclose(got.item(), expected_style, rtol=1e-12)
    got_content = content_loss(torch.from_numpy(f), torch.from_numpy(p))
    np.testing.assert_allclose(got_content.item(), 0.5 * np.sum((f - p) ** 2), rtol=1e-12)


def test_losses_gradients_match_finite_differences():
    features = randn(3, 4, 4, seed=1).requires_grad_(True)
    target = gram_matrix(randn(3, 5, 5, seed=2))
    content = randn(3, 4, 4, seed=3)
    assert torch.autograd.gradcheck(lambda f: style_loss(f, target), (features,))
    assert torch.autograd.gradcheck(lambda f: content_loss(f, content), (features,))
    assert torch.autograd.gradcheck(total_variation, (randn(2, 3, 5, seed=4).requires_grad_(),))


def test_total_variation_values():
    x = torch.tensor([[0.0, 1.0], [3.0, 1.0]], dtype=torch.float64)
    # vertical differences 3, 0; horizontal 1, -2 -> 9 + 0 + 1 + 4
    assert total_variation(x).item() == 14.0
    assert total_variation(torch.ones(2, 3, 4, 4)).item() == 0.0


def test_record_activations_returns_named_layer_outputs():
    model = small_cnn()
    x = randn(2, 1, 8, 8, seed=5)
    acts = record_activations(model, x, ["0", "2", "4"])
    assert list(acts) == ["0", "2", "4"]
    torch.testing.assert_close(acts["0"], model[0](x))
    torch.testing.assert_close(acts["2"], model[:3](x))
    torch.testing.assert_close(acts["4"], model(x))
    assert not model[0]._forward_hooks  # hooks are removed


def test_gradient_ascent_increases_objective_and_keeps_x0():
    model = small_cnn(seed=1)
    x0 = randn(1, 1, 8, 8, seed=6)
    kept = x0.clone()

    def objective(x):
        return model(x)[0, 2]

    x = gradient_ascent(objective, x0, steps=10, lr=0.05)
    assert torch.equal(x0, kept)
    assert not x.requires_grad
    assert x.shape == x0.shape
    assert objective(x) > objective(x0) + 0.1
    assert torch.equal(gradient_ascent(objective, x0, steps=0, lr=0.1), x0)


def test_gradient_ascent_step_is_normalised_and_penalised():
    x0 = randn(1, 1, 4, 4, seed=7)
    w = randn(1, 1, 4, 4, seed=8)
    # a linear objective: g = w, so one step moves by lr * w / mean|w|
    x1 = gradient_ascent(lambda x: (w * x).sum(), x0, steps=1, lr=0.1)
    torch.testing.assert_close(x1, x0 + 0.1 * w / (w.abs().mean() + 1e-8))
    # with an L2 penalty the gradient is w - 2 * l2 * x
    x2 = gradient_ascent(lambda x: (w * x).sum(), x0, steps=1, lr=0.1, l2=0.5)
    g = w - x0
    torch.testing.assert_close(x2, x0 + 0.1 * g / (g.abs().mean() + 1e-8))


def test_saliency_map_matches_finite_differences():
    model = small_cnn(in_channels=3, seed=2)
    x = randn(2, 3, 8, 8, seed=9)
    got = saliency_map(model, x, 1)
    assert got.shape == (2, 8, 8)
    eps = 1e-6
    grad = torch.zeros_like(x)
    for index in [(0, 0, 1, 2), (1, 2, 5, 5), (0, 1, 7, 0), (1, 0, 3, 4)]:
        plus, minus = x.clone(), x.clone()
        plus[index] += eps
        minus[index] -= eps
        n = index[0]
        grad[index] = (model(plus)[n, 1] - model(minus)[n, 1]) / (2 * eps)
    full = torch.stack(
        [
            torch.autograd.functional.jacobian(lambda v: model(v)[0, 1], x[n : n + 1])[0]
            for n in (0, 1)
        ]
    )
    for index in [(0, 0, 1, 2), (1, 2, 5, 5), (0, 1, 7, 0), (1, 0, 3, 4)]:
        assert abs(full[index] - grad[index]) < 1e-6
    torch.testing.assert_close(got, full.abs().amax(dim=1))
    # one target per image
    per_image = saliency_map(model, x, [0, 2])
    torch.testing.assert_close(per_image[1], saliency_map(model, x[1:], 2)[0])
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: gram_matrix(np.ones((2, 3, 3))), TypeError, ("gram_matrix", "features", "Tensor")),
        (
            lambda: gram_matrix(torch.ones(3, 3)),
            ValueError,
            ("gram_matrix", "features", "(C, H, W)"),
        ),
        (
            lambda: gram_matrix(torch.ones(2, 3, 3, dtype=torch.long)),
            TypeError,
            ("gram_matrix", "floating"),
        ),
        (
            lambda: style_loss(torch.ones(2, 3, 3), torch.ones(3, 3)),
            ValueError,
            ("style_loss", "target_gram", "(2, 2)"),
        ),
        (
            lambda: content_loss(torch.ones(2, 3, 3), torch.ones(2, 3, 4)),
            ValueError,
            ("content_loss", "target", "shape"),
        ),
        (
            lambda: gradient_ascent(lambda x: x.sum(), torch.ones(1, 1, 3, 3), -1, 0.1),
            ValueError,
            ("gradient_ascent", "steps"),
        ),
        (
            lambda: gradient_ascent(lambda x: x.sum(), torch.ones(1, 1, 3, 3), 1, 0),
            ValueError,
            ("gradient_ascent", "lr"),
        ),
        (
            lambda: gradient_ascent(lambda x: x, torch.ones(1, 1, 3, 3), 1, 0.1),
            ValueError,
            ("gradient_ascent", "objective", "scalar"),
        ),
        (
            lambda: gradient_ascent(None, torch.ones(1, 1, 3, 3), 1, 0.1),
            TypeError,
            ("gradient_ascent", "objective"),
        ),
        (
            lambda: saliency_map(small_cnn(), randn(2, 1, 8, 8), 5),
            ValueError,
            ("saliency_map", "target", "[0, 3)"),
        ),
        (
            lambda: saliency_map(small_cnn(), randn(2, 1, 8, 8), [0, 1, 2]),
            ValueError,
            ("saliency_map", "target", "2 ints"),
        ),
        (lambda: saliency_map(small_cnn(), randn(1, 8, 8), 0), ValueError, ("saliency_map", "x")),
        (
            lambda: record_activations(small_cnn(), randn(1, 1, 8, 8), ["nope"]),
            ValueError,
            ("record_activations", "layers", "'nope'"),
        ),
    ],
)
def test_bad_input(call, error, words):
    with raises_named(error, *words):
        call()
