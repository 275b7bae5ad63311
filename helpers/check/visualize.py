"""Checkers for notebook 10 (what CNNs learn). References come from :mod:`helpers.visualize`
and :mod:`helpers.explain`."""

from __future__ import annotations

import torch
from torch import nn

from .. import explain
from .. import visualize as ref
from .arrays import compare, describe
from .core import Mismatch, call, case_count, checker, numbered_cases
from .grading import generator, seed

__all__ = ["fgsm", "grad_cam", "gradient_ascent", "gram_matrix", "saliency_map", "style_loss"]


def _randn(*shape: int, number: int) -> torch.Tensor:
    """Standard normal float64 values from the checker's seed ``number``."""
    return torch.randn(*shape, generator=generator(number), dtype=torch.float64)


def _tiny_cnn(in_channels: int, number: int) -> nn.Module:
    """A fixed float64 CNN ``(N, in_channels, 8, 8) -> (N, 3)`` for the checks (its weights
    come from the checker's seed ``number``)."""
    torch.manual_seed(seed(number))
    model = nn.Sequential(
        nn.Conv2d(in_channels, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 5, kernel_size=3),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(5 * 2 * 2, 3),
    ).double()
    return model.eval()


def _centred_gram(flat: torch.Tensor) -> torch.Tensor:
    """The mistake of subtracting each map's mean: ``(F − mean) (F − mean)ᵀ``."""
    centred = flat - flat.mean(dim=1, keepdim=True)
    return centred @ centred.T


def _torch_args(*args):
    """Copies of the tensors, so that a student's in-place change cannot leak."""
    return tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args)


@checker("10.3", "gram_matrix", forbid=("helpers.visualize.gram_matrix",))
def gram_matrix(student_fn) -> str:
    """Check ``student_fn(features)``: ``(C, H, W) -> (C, C)``, ``G = F Fᵀ``, F = (C, H·W)."""
    # case 1 has C > 1, so that dividing by H·W and by C·H·W give different results
    shapes = [(3, 4, 5), (1, 2, 2), (5, 3, 3), (8, 6, 2), (2, 7, 7)]
    hidden = [(4, 1, 1), (6, 9, 1)]  # one position; a single column
    for heading, shape in numbered_cases(shapes, hidden=hidden):
        features = _randn(*shape, number=100 + heading.number)
        label = f"{heading} ({describe(features=features.numpy())})"
        c, h, w = shape
        flat = features.reshape(c, h * w)
        got = call(student_fn, *_torch_args(features), case=label)
        compare(
            got,
            ref.gram_matrix(features).numpy(),
            case=label,
            shape_hints=[
                ((h * w, h * w), "that is Fᵀ F (positions × positions); use F Fᵀ (C × C)."),
                ((c, h, w), "reshape the maps to F of shape (C, H·W) before multiplying."),
            ],
            known_mistakes=[
                (
                    (flat @ flat.T / (h * w)).numpy(),
                    "you divided by M = H·W; this course's Gram matrix is not normalised "
                    "(the style loss divides by 4 N² M²).",
                ),
                (
                    (flat @ flat.T / (c * h * w)).numpy(),
                    "you divided by C·H·W; this course's Gram matrix is not normalised.",
                ),
                (
                    _centred_gram(flat).numpy(),
                    "you subtracted the mean of each map; the Gram matrix uses raw features.",
                ),
            ],
        )
    return f"{case_count(shapes, hidden)} cases match F Fᵀ with F = features.reshape(C, H·W)."


@checker("10.4", "style_loss", forbid=("helpers.visualize.style_loss",))
def style_loss(student_fn) -> str:
    """Check ``student_fn(features, target_gram)``: ``1/(4 N² M²) Σ (G − A)²``."""
    shapes = [(1, 2, 3), (3, 4, 5), (4, 3, 6), (6, 5, 5), (2, 1, 8)]
    hidden = [(5, 1, 1), (3, 7, 2)]  # one position; a tall map
    for heading, shape in numbered_cases(shapes, hidden=hidden):
        c, h, w = shape
        features = _randn(*shape, number=200 + heading.number)
        style = _randn(c, h + 2, w + 1, number=300 + heading.number)
        target = ref.gram_matrix(style)
        label = f"{heading} ({describe(features=features.numpy())})"
        got = call(student_fn, *_torch_args(features, target), case=label)
        diff2 = (ref.gram_matrix(features) - target).pow(2).sum()
        m = h * w
        compare(
            got,
            ref.style_loss(features, target).numpy(),
            case=label,
            name="your loss",
            atol=1e-9,
            rtol=1e-7,
            known_mistakes=[
                (diff2.numpy(), "you forgot the factor 1 / (4 N² M²)."),
                (
                    (diff2 / (4 * c**2 * h**2)).numpy(),
                    "M is the number of positions H·W, not the height.",
                ),
                ((diff2 / (c**2 * m**2)).numpy(), "the factor is 1 / (4 N² M²): the 4 is missing."),
                ((diff2 / (4 * c * m)).numpy(), "N and M are squared: 1 / (4 N² M²)."),
                (
                    (diff2.sqrt() / (4 * c**2 * m**2)).numpy(),
                    "sum the squared differences; do not take a square root (a norm).",
                ),
            ],
        )
    return f"{case_count(shapes, hidden)} cases match 1 / (4 N² M²) · Σ (G − A)²."


@checker("10.1", "gradient_ascent", forbid=("helpers.visualize.gradient_ascent",))
def gradient_ascent(student_fn) -> str:
    """Check ``student_fn(objective, x0, steps, lr, l2, tv)`` on a tiny fixed CNN."""
    model = _tiny_cnn(in_channels=1, number=10)
    filter_k = lambda x: model[:2](x)[:, 2].sum()  # noqa: E731 (total activation of filter 2)
    logit_1 = lambda x: model(x)[0, 1]  # noqa: E731 (class score)
    logit_0 = lambda x: model(x)[0, 0]  # noqa: E731
    cases = [
        ("total activation of conv filter 2", filter_k, 1, 0.1, 0.0, 0.0),
        ("total activation of conv filter 2", filter_k, 5, 0.05, 0.0, 0.0),
        ("class score 1", logit_1, 4, 0.1, 0.0, 0.0),
        ("class score 1, with l2=0.5", logit_1, 4, 0.1, 0.5, 0.0),
        ("class score 1, with tv=0.3", logit_1, 3, 0.1, 0.0, 0.3),
        ("class score 1, zero steps", logit_1, 0, 0.1, 0.2, 0.2),
    ]
    hidden = [
        ("class score 0, with l2=0.2 and tv=0.1", logit_0, 7, 0.02, 0.2, 0.1),
        ("total activation of conv filter 2, with tv=0.5", filter_k, 2, 0.3, 0.0, 0.5),
    ]
    for heading, (what, objective, steps, lr, l2, tv) in numbered_cases(cases, hidden=hidden):
        x0 = _randn(1, 1, 8, 8, number=400 + heading.number) * 0.1
        label = (
            f"{heading} ({what}; "
            f"{describe(steps=steps, lr=lr, l2=l2, tv=tv)}, x0.shape=(1, 1, 8, 8))"
        )
        kept = x0.clone()
        got = call(student_fn, objective, x0, steps, lr, l2, tv, case=label)
        if not torch.equal(x0, kept):
            raise Mismatch(f"{label}:\nyour function changed x0 in place; work on a copy.")
        expected = ref.gradient_ascent(objective, x0, steps, lr, l2, tv)
        descent = ref.gradient_ascent(lambda x, f=objective: -f(x), x0, steps, lr, 0.0, 0.0)
        one_more = ref.gradient_ascent(objective, x0, steps + 1, lr, l2, tv)
        mistakes = [
            (
                _plain_ascent(objective, x0, steps, lr, l2, tv).numpy(),
                "normalise the step: x += lr * g / (g.abs().mean() + 1e-8).",
            ),
            (one_more.numpy(), "you took one step too many."),
        ]
        if l2 == 0 and tv == 0:
            mistakes.append((descent.numpy(), "you went downhill: ascent adds the gradient."))
        else:
            mistakes.append(
                (
                    ref.gradient_ascent(objective, x0, steps, lr, 0.0, 0.0).numpy(),
                    "the penalties are missing: maximise objective(x) - l2 * sum(x**2) - "
                    "tv * total_variation(x).",
                )
            )
        if steps > 0:
            mistakes.append(
                (
                    ref.gradient_ascent(objective, x0, steps - 1, lr, l2, tv).numpy(),
                    "you took one step too few.",
                )
            )
        compare(got, expected.numpy(), case=label, atol=1e-8, rtol=1e-6, known_mistakes=mistakes)
    count = case_count(cases, hidden)
    return f"{count} cases match the reference (filter, class score, L2 and TV penalties)."


def _plain_ascent(objective, x0, steps, lr, l2, tv) -> torch.Tensor:
    """The common mistake: an unnormalised step ``x += lr * g``."""
    x = x0.detach().clone()
    for _ in range(steps):
        x.requires_grad_(True)
        score = objective(x) - l2 * x.pow(2).sum() - tv * ref.total_variation(x)
        (grad,) = torch.autograd.grad(score, x)
        x = (x + lr * grad).detach()
    return x


@checker("10.2", "saliency_map", forbid=("helpers.visualize.saliency_map",))
def saliency_map(student_fn) -> str:
    """Check ``student_fn(model, x, target)``: ``(N, C, H, W) -> (N, H, W)``."""
    cases = [(1, 1, 0), (1, 3, 2), (2, 3, 1), (3, 2, 0)]
    hidden = [(2, 2, 2), (5, 1, 1)]
    for heading, (n, c, target) in numbered_cases(cases, hidden=hidden):
        model = _tiny_cnn(in_channels=c, number=20 + heading.number)
        x = _randn(n, c, 8, 8, number=500 + heading.number)
        label = f"{heading} ({describe(x=x.numpy(), target=target)})"
        got = call(student_fn, model, *_torch_args(x), target, case=label)
        xg = x.clone().requires_grad_(True)
        logits = model(xg)
        (grad,) = torch.autograd.grad(logits[:, target].sum(), xg)
        xp = x.clone().requires_grad_(True)
        (grad_p,) = torch.autograd.grad(model(xp).softmax(dim=1)[:, target].sum(), xp)
        compare(
            got,
            ref.saliency_map(model, x, target).numpy(),
            case=label,
            atol=1e-8,
            rtol=1e-6,
            shape_hints=[
                ((n, c, 8, 8), "reduce the channels: take the maximum of |gradient| over C."),
                ((8, 8), "keep the batch axis: one map per image, (N, H, W)."),
            ],
            known_mistakes=[
                (grad.amax(dim=1).numpy(), "take the absolute value before the maximum."),
                (grad.abs().sum(dim=1).numpy(), "take the maximum over channels, not the sum."),
                (grad.abs().mean(dim=1).numpy(), "take the maximum over channels, not the mean."),
                (
                    grad_p.abs().amax(dim=1).numpy(),
                    "differentiate the class score (logit), not the softmax probability.",
                ),
            ],
        )
    return (
        f"{case_count(cases, hidden)} cases (1 to 3 channels, batches) match max_c |∂ score / ∂ x|."
    )


@checker("10.5", "grad_cam", forbid=("helpers.explain.grad_cam",))
def grad_cam(student_fn) -> str:
    """Check ``student_fn(activations, gradients)``: ``(K, h, w) -> (h, w)``,
    ``ReLU(Σ_k α_k A_k)`` with ``α_k`` the mean of ``∂y/∂A_k`` over positions."""
    # every case has h·w > 1 (so that a sum is not a mean) and K > 1 but one
    shapes = [(4, 3, 3), (2, 5, 4), (8, 6, 6), (1, 2, 3), (16, 10, 10)]
    hidden = [(3, 1, 1), (5, 7, 2)]  # one position; a tall map
    for heading, shape in numbered_cases(shapes, hidden=hidden):
        k, h, w = shape
        activations = _randn(*shape, number=600 + heading.number).abs()  # after a ReLU
        gradients = _randn(*shape, number=700 + heading.number)
        label = f"{heading} ({describe(activations=activations.numpy())}, gradients alike)"
        got = call(student_fn, *_torch_args(activations, gradients), case=label)
        alpha = gradients.mean(dim=(1, 2), keepdim=True)
        weighted = alpha * activations
        mistakes = [
            (weighted.sum(dim=0).numpy(), "keep only the positive part: ReLU after the sum."),
            (
                weighted.clamp(min=0).sum(dim=0).numpy(),
                "apply the ReLU once, to the weighted sum, not to each weighted map.",
            ),
            (
                (gradients * activations).sum(dim=0).clamp(min=0).numpy(),
                "α_k is one number per channel: average the gradient over the h·w positions "
                "before you multiply (no pixel-by-pixel product).",
            ),
            (
                weighted.sum(dim=0).abs().numpy(),
                "keep only the positive part (ReLU), not the absolute value.",
            ),
        ]
        if h * w > 1:
            mistakes.append(
                (
                    (h * w * weighted).sum(dim=0).clamp(min=0).numpy(),
                    "average the gradient over the positions; you summed it.",
                )
            )
        if k > 1:
            mistakes.append(
                (
                    weighted.mean(dim=0).clamp(min=0).numpy(),
                    "add up the weighted maps over the channels; you averaged them.",
                )
            )
        compare(
            got,
            explain.grad_cam(activations, gradients).numpy(),
            case=label,
            atol=1e-9,
            rtol=1e-7,
            shape_hints=[
                ((k, h, w), "add the weighted maps up over the channels: one (h, w) map."),
                ((k,), "those are the weights α_k; return the map ReLU(Σ_k α_k A_k)."),
                ((k, 1, 1), "those are the weights α_k; return the map ReLU(Σ_k α_k A_k)."),
            ],
            known_mistakes=mistakes,
        )
    return f"{case_count(shapes, hidden)} cases match ReLU(Σ_k α_k A_k), α_k = mean of ∂y/∂A_k."


@checker("10.6", "fgsm", forbid=("helpers.explain.fgsm",))
def fgsm(student_fn) -> str:
    """Check ``student_fn(model, x, y, eps)``: ``clip(x + ε sign(∇_x CE(model(x), y)), 0, 1)``."""
    # (batch, channels, eps); case 3 has eps = 0: the images come back unchanged
    cases = [(1, 1, 0.1), (4, 1, 0.25), (3, 3, 0.05), (2, 2, 0.0), (5, 1, 0.5)]
    hidden = [(6, 3, 0.3), (1, 2, 1.0)]
    for heading, (n, c, eps) in numbered_cases(cases, hidden=hidden):
        model = _tiny_cnn(in_channels=c, number=30 + heading.number)
        x = torch.rand(n, c, 8, 8, generator=generator(800 + heading.number), dtype=torch.float64)
        y = torch.randint(0, 3, (n,), generator=generator(900 + heading.number))
        label = f"{heading} ({describe(x=x.numpy(), y=y.tolist(), eps=eps)})"
        kept = x.clone()
        got = call(student_fn, model, x, y, eps, case=label)
        if not torch.equal(x, kept):
            raise Mismatch(f"{label}:\nyour function changed x in place; work on a copy.")
        xg = x.clone().requires_grad_(True)
        logits = model(xg)
        (grad,) = torch.autograd.grad(nn.functional.cross_entropy(logits, y), xg)
        xs = x.clone().requires_grad_(True)
        (grad_score,) = torch.autograd.grad(model(xs).gather(1, y[:, None]).sum(), xs)
        mistakes = [
            ((x + eps * grad.sign()).numpy(), "clip the result to the valid range [0, 1]."),
            (
                (x + eps * grad).clamp(0, 1).numpy(),
                "step by ε times the *sign* of the gradient, not the gradient itself.",
            ),
            (
                (x - eps * grad.sign()).clamp(0, 1).numpy(),
                "you went down the loss: the attack adds ε · sign(∇x loss).",
            ),
            (
                (x + eps * grad_score.sign()).clamp(0, 1).numpy(),
                "differentiate the cross-entropy loss of the true labels, not the class score.",
            ),
        ]
        compare(
            got,
            explain.fgsm(model, x, y, eps).numpy(),
            case=label,
            atol=1e-9,
            rtol=1e-7,
            shape_hints=[((c, 8, 8), "keep the batch axis: return (N, C, H, W).")],
            known_mistakes=[m for m in mistakes if eps > 0],
        )
    return f"{case_count(cases, hidden)} cases match clip(x + ε · sign(∇x loss), 0, 1)."
