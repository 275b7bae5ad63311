"""Checkers of notebook 10: the reference passes; typical wrong answers get specific verdicts."""

from __future__ import annotations

import pytest
import torch
from checker_contract import grading_tests

from helpers import check, explain
from helpers import visualize as ref


def not_implemented(*args):
    raise NotImplementedError("Exercise 10.x")


def crashes(*args):
    return [0][5]


def returns_none(*args):
    return None


def gram_normalised(features):
    c = features.shape[0]
    flat = features.reshape(c, -1)
    return flat @ flat.T / flat.shape[1]


def gram_positions(features):
    flat = features.reshape(features.shape[0], -1)
    return flat.T @ flat


def gram_centred(features):
    flat = features.reshape(features.shape[0], -1)
    flat = flat - flat.mean(dim=1, keepdim=True)
    return flat @ flat.T


def style_no_factor(features, target):
    return (ref.gram_matrix(features) - target).pow(2).sum()


def style_m_is_height(features, target):
    n, h, _ = features.shape
    return (ref.gram_matrix(features) - target).pow(2).sum() / (4 * n**2 * h**2)


def style_no_four(features, target):
    n, h, w = features.shape
    return (ref.gram_matrix(features) - target).pow(2).sum() / (n**2 * (h * w) ** 2)


def ascent_unnormalised(objective, x0, steps, lr, l2=0.0, tv=0.0):
    """A student's loop in another style: backward() and an in-place step on a leaf."""
    x = x0.detach().clone().requires_grad_(True)
    for _ in range(steps):
        penalty = l2 * (x**2).sum() + tv * ref.total_variation(x)
        (objective(x) - penalty).backward()
        with torch.no_grad():
            x += lr * x.grad
        x.grad = None
    return x.detach()


def ascent_descends(objective, x0, steps, lr, l2=0.0, tv=0.0):
    return ref.gradient_ascent(lambda x: -objective(x), x0, steps, lr, l2, tv)


def ascent_no_penalties(objective, x0, steps, lr, l2=0.0, tv=0.0):
    return ref.gradient_ascent(objective, x0, steps, lr)


def ascent_extra_step(objective, x0, steps, lr, l2=0.0, tv=0.0):
    return ref.gradient_ascent(objective, x0, steps + 1, lr, l2, tv)


def ascent_in_place(objective, x0, steps, lr, l2=0.0, tv=0.0):
    result = ref.gradient_ascent(objective, x0, steps, lr, l2, tv)
    x0.add_(1.0)
    return result


def _grad(model, x, target, prob=False):
    x = x.detach().clone().requires_grad_(True)
    out = model(x)
    if prob:
        out = out.softmax(dim=1)
    (g,) = torch.autograd.grad(out[:, target].sum(), x)
    return g


def saliency_no_abs(model, x, target):
    return _grad(model, x, target).amax(dim=1)


def saliency_sum(model, x, target):
    return _grad(model, x, target).abs().sum(dim=1)


def saliency_probability(model, x, target):
    return _grad(model, x, target, prob=True).abs().amax(dim=1)


def saliency_keeps_channels(model, x, target):
    return _grad(model, x, target).abs()


def cam_no_relu(activations, gradients):
    return (gradients.mean(dim=(1, 2), keepdim=True) * activations).sum(dim=0)


def cam_relu_each_map(activations, gradients):
    return (gradients.mean(dim=(1, 2), keepdim=True) * activations).clamp(min=0).sum(dim=0)


def cam_pixelwise(activations, gradients):
    """A student's version in another style: NumPy, and no pooling of the gradient."""
    product = (gradients.numpy() * activations.numpy()).sum(axis=0)
    return product * (product > 0)


def cam_summed_gradient(activations, gradients):
    return (gradients.sum(dim=(1, 2), keepdim=True) * activations).sum(dim=0).relu()


def cam_channel_mean(activations, gradients):
    return (gradients.mean(dim=(1, 2), keepdim=True) * activations).mean(dim=0).relu()


def _loss_gradient(model, x, y):
    x = x.detach().clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model(x), torch.as_tensor(y), reduction="mean")
    loss.backward()
    return x.grad


def fgsm_no_clip(model, x, y, eps):
    return x + eps * _loss_gradient(model, x, y).sign()


def fgsm_raw_gradient(model, x, y, eps):
    return (x + eps * _loss_gradient(model, x, y)).clamp(0, 1)


def fgsm_descends(model, x, y, eps):
    return (x - eps * _loss_gradient(model, x, y).sign()).clamp(0, 1)


def fgsm_score(model, x, y, eps):
    xg = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(xg)[range(len(y)), y].sum(), xg)
    return (x + eps * g.sign()).clamp(0, 1)


def fgsm_in_place(model, x, y, eps):
    g = _loss_gradient(model, x, y)
    with torch.no_grad():
        x += eps * g.sign()
        x.clamp_(0, 1)
    return x


CASES = {
    check.gram_matrix: (
        ref.gram_matrix,
        {
            "normalised": (gram_normalised, ["divided by M"]),
            "positions": (gram_positions, ["shape", "Fᵀ F"]),
            "centred": (gram_centred, ["subtracted the mean"]),
            "plus one": (lambda f: ref.gram_matrix(f) + 1, ["values are wrong"]),
            "numpy": (lambda f: ref.gram_matrix(f).numpy() * 2, ["values are wrong"]),
        },
    ),
    check.style_loss: (
        ref.style_loss,
        {
            "no factor": (style_no_factor, ["1 / (4 N² M²)"]),
            "M is H": (style_m_is_height, ["H·W"]),
            "no 4": (style_no_four, ["4 is missing"]),
            "wrong value": (lambda f, a: ref.style_loss(f, a) * 3, ["values are wrong"]),
            "vector": (lambda f, a: torch.zeros(3), ["shape"]),
        },
    ),
    check.gradient_ascent: (
        ref.gradient_ascent,
        {
            "unnormalised": (ascent_unnormalised, ["normalise the step"]),
            "descends": (ascent_descends, ["downhill"]),
            "no penalties": (ascent_no_penalties, ["penalties are missing"]),
            "extra step": (ascent_extra_step, ["one step too many"]),
            "in place": (ascent_in_place, ["in place"]),
            "returns x0": (lambda f, x0, *rest: x0.clone(), ["values are wrong"]),
        },
    ),
    check.saliency_map: (
        ref.saliency_map,
        {
            "no abs": (saliency_no_abs, ["absolute value"]),
            "sum over channels": (saliency_sum, ["not the sum"]),
            "probability": (saliency_probability, ["softmax probability"]),
            "keeps channels": (saliency_keeps_channels, ["shape", "maximum of |gradient|"]),
            "no batch": (lambda m, x, t: ref.saliency_map(m, x, t)[0], ["shape"]),
        },
    ),
    check.grad_cam: (
        explain.grad_cam,
        {
            "no relu": (cam_no_relu, ["ReLU after the sum"]),
            "relu per map": (cam_relu_each_map, ["ReLU once"]),
            "abs": (lambda a, g: cam_no_relu(a, g).abs(), ["not the absolute value"]),
            "pixelwise": (cam_pixelwise, ["one number per channel"]),
            "summed gradient": (cam_summed_gradient, ["you summed it"]),
            "channel mean": (cam_channel_mean, ["you averaged them"]),
            "weights only": (lambda a, g: g.mean(dim=(1, 2)), ["shape", "weights α_k"]),
            "keeps channels": (lambda a, g: g.mean(dim=(1, 2), keepdim=True) * a, ["shape"]),
        },
    ),
    check.fgsm: (
        explain.fgsm,
        {
            "no clip": (fgsm_no_clip, ["clip"]),
            "raw gradient": (fgsm_raw_gradient, ["*sign*"]),
            "descends": (fgsm_descends, ["went down the loss"]),
            "score": (fgsm_score, ["cross-entropy"]),
            "in place": (fgsm_in_place, ["in place"]),
            "first image": (lambda m, x, y, eps: explain.fgsm(m, x, y, eps)[0], ["shape"]),
            "unchanged": (lambda m, x, y, eps: x.clone(), ["values are wrong"]),
        },
    ),
}

# Answers written as a student would: grading mode forbids the references of helpers.visualize.


def gram_by_hand(features):
    flat = features.reshape(features.shape[0], -1)
    return flat @ flat.T


def style_by_hand(features, target):
    n, h, w = features.shape
    return (gram_by_hand(features) - target).pow(2).sum() / (4 * n**2 * (h * w) ** 2)


def ascent_by_hand(objective, x0, steps, lr, l2=0.0, tv=0.0):
    x = x0.detach().clone()
    for _ in range(steps):
        x.requires_grad_(True)
        score = objective(x) - l2 * x.pow(2).sum() - tv * ref.total_variation(x)
        (g,) = torch.autograd.grad(score, x)
        x = (x + lr * g / (g.abs().mean() + 1e-8)).detach()
    return x


def saliency_by_hand(model, x, target):
    return _grad(model, x, target).abs().amax(dim=1)


def grad_cam_by_hand(activations, gradients):
    k = activations.shape[0]
    alpha = gradients.reshape(k, -1).mean(dim=1)
    return torch.relu(torch.tensordot(alpha, activations, dims=1))


def fgsm_by_hand(model, x, y, eps):
    step = eps * _loss_gradient(model, x, y).sign()
    return torch.clamp(x.detach() + step, 0.0, 1.0)


GRADED = {
    check.gram_matrix: (gram_by_hand, CASES[check.gram_matrix][1]),
    check.style_loss: (style_by_hand, CASES[check.style_loss][1]),
    check.gradient_ascent: (ascent_by_hand, CASES[check.gradient_ascent][1]),
    check.saliency_map: (saliency_by_hand, CASES[check.saliency_map][1]),
    check.grad_cam: (grad_cam_by_hand, CASES[check.grad_cam][1]),
    check.fgsm: (fgsm_by_hand, CASES[check.fgsm][1]),
}

globals().update(grading_tests(GRADED))

PAIRS = [(c, kind) for c, (_, mistakes) in CASES.items() for kind in mistakes]


@pytest.mark.parametrize("checker", list(CASES), ids=lambda c: c.__name__)
def test_reference_passes(checker):
    verdict = checker.verdict(CASES[checker][0])
    assert verdict.passed, str(verdict)
    assert verdict.exercise.startswith("10.")


@pytest.mark.parametrize(("checker", "kind"), PAIRS, ids=[f"{c.__name__}-{k}" for c, k in PAIRS])
def test_mistakes_are_explained(checker, kind):
    wrong, words = CASES[checker][1][kind]
    verdict = checker.verdict(wrong)
    assert verdict.status == "failed", str(verdict)
    for word in words:
        assert word in str(verdict), f"{word!r} not in:\n{verdict}"


@pytest.mark.parametrize("checker", list(CASES), ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (not_implemented, "not attempted", ["not attempted yet"]),
        (crashes, "failed", ["IndexError"]),
        (returns_none, "failed", ["None", "return"]),
        ("a string", "failed", ["Expected a function"]),
    ],
)
def test_generic_answers(checker, answer, status, words, capsys):
    verdict = checker.verdict(answer)
    assert verdict.status == status, str(verdict)
    for word in words:
        assert word in str(verdict)
    checker(answer)  # prints, never raises
    assert capsys.readouterr().out.count("Exercise 10.") == 1
