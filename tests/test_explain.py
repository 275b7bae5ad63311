"""helpers.explain: against PyTorch and independent loops, identities of CAM and Grad-CAM."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from named_errors import raises_named
from torch import nn

from helpers.explain import (
    class_activation_map,
    fgsm,
    gap_cnn,
    grad_cam,
    layer_gradients,
    nearest_neighbours,
    occlusion_map,
    top_patches,
)
from helpers.shapes import receptive_field


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 5, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(5 * 4 * 4, 3),
    ).double()


def test_top_patches_cut_out_what_the_unit_sees():
    torch.manual_seed(0)
    layer = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(3, 2, 3))
    layer = layer.double()
    images = rand(12, 1, 10, 10)
    field = receptive_field(layer, (1, 1, 10, 10))
    assert field == (8, 2, 1)
    found = top_patches(layer, images, channel=1, field=field, k=4)
    maps = layer(images).detach()[:, 1]
    best = maps.flatten(start_dim=1).amax(dim=1)
    assert torch.equal(found.values, best.sort(descending=True).values[:4])
    assert found.patches.shape == (4, 1, 8, 8)
    for patch, n, i, j in zip(found.patches, found.index, found.row, found.col, strict=True):
        assert maps[n, i, j] == best[n]
        # the unit sees exactly its patch: changing pixels outside the patch leaves it unchanged
        top, left = int(i) * 2 - 1, int(j) * 2 - 1
        padded = F.pad(images[n], (1, 1, 1, 1))
        assert torch.equal(patch, padded[:, top + 1 : top + 9, left + 1 : left + 9])
        outside = images[n : n + 1].clone() + 5.0
        rows = slice(max(top, 0), top + 8)
        cols = slice(max(left, 0), left + 8)
        outside[..., rows, cols] = images[n : n + 1, :, rows, cols]
        assert torch.allclose(layer(outside).detach()[0, 1, i, j], maps[n, i, j])


def test_nearest_neighbours_match_cdist():
    queries, keys = randn(7, 3, 4, seed=1), randn(30, 3, 4, seed=2)
    expected = torch.cdist(queries.flatten(1), keys.flatten(1)).argsort(dim=1)[:, :5]
    assert torch.equal(nearest_neighbours(queries, keys, k=5), expected)
    assert torch.equal(nearest_neighbours(keys[:4], keys, k=1)[:, 0], torch.arange(4))


def test_occlusion_map_matches_a_loop():
    model = small_cnn().eval()
    x, target = rand(2, 1, 8, 8, seed=3), [0, 2]
    got = occlusion_map(model, x, target, size=3, fill=0.5)
    assert got.shape == (2, 8, 8)
    for n in range(2):
        p = model(x[n : n + 1]).softmax(dim=1)[0, target[n]]
        for i in range(8):
            for j in range(8):
                hidden = x[n : n + 1].clone()
                hidden[..., max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2] = 0.5
                q = model(hidden).softmax(dim=1)[0, target[n]]
                assert torch.allclose(got[n, i, j], p - q)


def test_occluding_with_the_pixel_itself_changes_nothing():
    model = small_cnn().eval()
    x = torch.full((1, 1, 8, 8), 0.25, dtype=torch.float64)
    assert torch.equal(occlusion_map(model, x, 1, size=5, fill=0.25), torch.zeros(1, 8, 8).double())


def test_the_class_score_is_the_mean_of_the_cam_plus_the_bias():
    torch.manual_seed(0)
    model = gap_cnn(widths=(4, 6, 8), classes=5).double().eval()
    x = rand(3, 1, 28, 28, seed=4)
    maps = model.features(x)
    assert maps.shape == (3, 8, 7, 7)
    target = torch.tensor([0, 4, 2])
    cam = class_activation_map(maps, model.fc.weight, target)
    scores = model(x).gather(1, target[:, None])[:, 0]
    assert torch.allclose(cam.mean(dim=(1, 2)) + model.fc.bias[target], scores)


def test_layer_gradients_match_autograd_on_the_split_model():
    model = small_cnn(seed=5).eval()
    x = randn(2, 1, 8, 8, seed=6)
    acts, grads = layer_gradients(model, model[3], x, [1, 2])
    a = model[:4](x).detach().requires_grad_(True)
    scores = model[4:](a)
    (expected,) = torch.autograd.grad(scores[0, 1] + scores[1, 2], a)
    assert torch.equal(acts, a.detach())
    assert torch.allclose(grads, expected)
    assert all(p.grad is None for p in model.parameters())


def test_grad_cam_of_a_gap_network_is_its_cam_without_the_negative_part():
    # Selvaraju et al. (2017), section 3.1: with GAP and one linear layer, α_k = w_k^c / (h·w)
    torch.manual_seed(1)
    model = gap_cnn(widths=(4, 6, 8)).double().eval()
    x = rand(2, 1, 28, 28, seed=7)
    acts, grads = layer_gradients(model, model.features, x, 3)
    cam = class_activation_map(acts, model.fc.weight, 3)
    assert torch.allclose(grad_cam(acts, grads), cam.clamp(min=0) / 49)
    assert torch.allclose(grad_cam(acts[1], grads[1]), grad_cam(acts, grads)[1])


def test_grad_cam_by_the_formula():
    acts, grads = randn(3, 2, 2, seed=8).abs(), randn(3, 2, 2, seed=9)
    alpha = [float(grads[k].sum()) / 4 for k in range(3)]
    expected = sum(alpha[k] * acts[k] for k in range(3)).clamp(min=0)
    assert torch.allclose(grad_cam(acts, grads), expected)


def test_fgsm_is_one_signed_step_up_the_loss_then_clipped():
    model = small_cnn(seed=10).eval()
    x, y = rand(4, 1, 8, 8, seed=11), torch.tensor([0, 1, 2, 1])
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(xg), y), xg)
    expected = (x + 0.1 * grad.sign()).clamp(0, 1)
    got = fgsm(model, x, y, 0.1)
    assert torch.equal(got, expected)
    assert (got - x).abs().max() <= 0.1 + 1e-12
    assert F.cross_entropy(model(got), y) > F.cross_entropy(model(x), y)
    assert torch.equal(fgsm(model, x, y, 0.0), x)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "error", "name", "words"),
    [
        (lambda: grad_cam(torch.zeros(2, 3, 3), torch.zeros(2, 3, 4)), ValueError, "grad_cam", []),
        (lambda: grad_cam(torch.zeros(3, 3), torch.zeros(3, 3)), ValueError, "grad_cam", []),
        (lambda: fgsm(small_cnn(), rand(1, 1, 8, 8), [0], -0.1), ValueError, "fgsm", ["eps"]),
        (lambda: fgsm(small_cnn(), rand(2, 1, 8, 8), [0, 5], 0.1), ValueError, "fgsm", ["target"]),
        (lambda: fgsm("net", rand(1, 1, 8, 8), 0, 0.1), TypeError, "fgsm", ["model"]),
        (
            lambda: occlusion_map(small_cnn(), rand(1, 1, 8, 8), 0, size=4),
            ValueError,
            "occlusion_map",
            ["size"],
        ),
        (
            lambda: nearest_neighbours(randn(2, 3), randn(4, 5)),
            ValueError,
            "nearest_neighbours",
            ["same size"],
        ),
        (
            lambda: nearest_neighbours(randn(2, 3), randn(4, 3), k=5),
            ValueError,
            "nearest_neighbours",
            ["k must"],
        ),
        (
            lambda: class_activation_map(randn(1, 3, 2, 2), randn(4, 2), 0),
            ValueError,
            "class_activation_map",
            ["columns"],
        ),
        (
            lambda: layer_gradients(small_cnn(), nn.ReLU(), randn(1, 1, 8, 8), 0),
            ValueError,
            "layer_gradients",
            ["sub-module"],
        ),
        (
            lambda: top_patches(small_cnn()[:2], rand(3, 1, 8, 8), 0, (3, 1, 1), k=1),
            TypeError,
            "top_patches",
            ["ReceptiveField"],
        ),
        (
            lambda: top_patches(
                small_cnn()[:2],
                rand(3, 1, 8, 8),
                9,
                receptive_field(nn.Conv2d(1, 4, 3), (1, 1, 8, 8)),
                k=1,
            ),
            ValueError,
            "top_patches",
            ["channel"],
        ),
    ],
)
def test_bad_input_is_named(call, error, name, words):
    with raises_named(error, name, *words):
        call()
