"""What a trained CNN has learned: activations, activation maximisation, saliency, style.

The reference implementations taught in notebook 10 (``10_what_cnns_learn``) and used by
its checkers. Everything works on torch tensors, so that the losses can be differentiated
with respect to the *input image*:

* :func:`record_activations`: the outputs of named layers for one forward pass;
* :func:`gradient_ascent`: change the input to increase an objective (activation
  maximisation, Deep Dream), with optional L2 and total-variation penalties;
* :func:`total_variation`: the smoothness penalty, squared differences of neighbours;
* :func:`saliency_map`: ``max_c |∂ score_target / ∂ x_c|`` (Simonyan et al., 2014);
* :func:`gram_matrix`, :func:`content_loss`, :func:`style_loss`: the losses of neural
  style transfer (Gatys et al., 2016).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = [
    "content_loss",
    "gradient_ascent",
    "gram_matrix",
    "record_activations",
    "saliency_map",
    "style_loss",
    "total_variation",
]


def _tensor(value, name: str, fname: str, ndims: dict[int, str]) -> torch.Tensor:
    """``value`` as a floating torch tensor with one of the allowed numbers of dimensions."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{fname}: {name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{fname}: {name} must be a floating tensor, got dtype {value.dtype}")
    if value.dim() not in ndims:
        layouts = " or ".join(f"{n} dimensions {layout}" for n, layout in ndims.items())
        raise ValueError(f"{fname}: {name} must have {layouts}; got shape {tuple(value.shape)}")
    return value


def _number(value, name: str, fname: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{fname}: {name} must be a number, got {value!r}")
    if not value >= minimum:
        raise ValueError(f"{fname}: {name} must be >= {minimum}, got {value}")
    return float(value)


def _targets(target, n: int, fname: str) -> torch.Tensor:
    """``target`` (one int or ``n`` ints) as a long tensor of ``n`` class indices."""
    target = torch.as_tensor(target, dtype=torch.long).reshape(-1)
    if target.numel() == 1:
        target = target.expand(n)
    if target.numel() != n:
        raise ValueError(
            f"{fname}: target must be one int or {n} ints (one per image), got {target.numel()}"
        )
    return target


def _picked(scores: torch.Tensor, target: torch.Tensor, fname: str) -> torch.Tensor:
    """``scores[n, target[n]]`` for every image ``(N,)``, after checking the class indices."""
    if scores.dim() != 2 or not bool(((target >= 0) & (target < scores.shape[1])).all()):
        raise ValueError(
            f"{fname}: target must lie in [0, {scores.shape[-1]}) (classes of the model), "
            f"got {target.tolist()}"
        )
    return scores.gather(1, target[:, None])[:, 0]


def record_activations(
    model: nn.Module, x: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` once and return the outputs of the named sub-modules.

    Args:
        model: any ``nn.Module``.
        x: its input, e.g. ``(N, C, H, W)``.
        layers: names as in ``model.named_modules()``, e.g. ``["features.c1", "features.s4"]``.

    Returns:
        ``{name: output tensor}`` (still attached to the autograd graph), in the order of
        ``layers``.
    """
    fname = "record_activations"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(layers, str):
        layers = [layers]
    names = dict(model.named_modules())
    for layer in layers:
        if layer not in names or layer == "":
            known = ", ".join(name for name in names if name)
            raise ValueError(f"{fname}: layers has no module named {layer!r}; known: {known}")
    outputs: dict[str, torch.Tensor] = {}
    handles = [
        names[layer].register_forward_hook(
            lambda module, args, out, layer=layer: outputs.__setitem__(layer, out)
        )
        for layer in layers
    ]
    try:
        model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {layer: outputs[layer] for layer in layers}


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Squared total variation of images ``x: (..., H, W)``: a scalar.

    ``Σ (x[..., i+1, j] − x[..., i, j])² + Σ (x[..., i, j+1] − x[..., i, j])²``, summed over
    every leading axis too. Small for smooth images, large for noise.
    """
    x = _tensor(x, "x", "total_variation", {2: "(H, W)", 3: "(C, H, W)", 4: "(N, C, H, W)"})
    down = x[..., 1:, :] - x[..., :-1, :]
    right = x[..., :, 1:] - x[..., :, :-1]
    return down.pow(2).sum() + right.pow(2).sum()


def gradient_ascent(
    objective: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    steps: int,
    lr: float,
    l2: float = 0.0,
    tv: float = 0.0,
) -> torch.Tensor:
    """Maximise ``objective(x) − l2·Σx² − tv·TV(x)`` over the input ``x`` by gradient ascent.

    Each of the ``steps`` steps computes the gradient ``g`` of that score with respect to
    ``x`` and moves uphill by a normalised step, ``x ← x + lr · g / (mean|g| + 1e-8)``, so
    that ``lr`` is the mean change of a pixel per step whatever the scale of the objective
    (the Deep Dream convention).

    Args:
        objective: maps ``x`` to a scalar tensor, e.g. the total activation of one filter.
        x0: the starting input, e.g. ``(1, 1, 28, 28)``; it is not modified.
        steps: number of steps (0 returns a copy of ``x0``).
        lr: step size, > 0.
        l2: weight of the L2 penalty ``Σ x²`` (keeps values small).
        tv: weight of the total-variation penalty (keeps the image smooth).

    Returns:
        The optimised input, detached, with the shape of ``x0``.
    """
    fname = "gradient_ascent"
    if not callable(objective):
        raise TypeError(f"{fname}: objective must be a function of x, got {objective!r}")
    x0 = _tensor(x0, "x0", fname, {2: "(H, W)", 3: "(C, H, W)", 4: "(N, C, H, W)"})
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"{fname}: steps must be an int, got {steps!r}")
    if steps < 0:
        raise ValueError(f"{fname}: steps must be >= 0, got {steps}")
    lr = _number(lr, "lr", fname)
    if lr == 0:
        raise ValueError(f"{fname}: lr must be positive, got {lr}")
    l2, tv = _number(l2, "l2", fname), _number(tv, "tv", fname)
    x = x0.detach().clone()
    for _ in range(steps):
        x.requires_grad_(True)
        score = objective(x)
        if not isinstance(score, torch.Tensor) or score.numel() != 1:
            raise ValueError(f"{fname}: objective must return a scalar tensor")
        score = score.reshape(()) - l2 * x.pow(2).sum() - tv * total_variation(x)
        (grad,) = torch.autograd.grad(score, x)
        x = (x + lr * grad / (grad.abs().mean() + 1e-8)).detach()
    return x


def saliency_map(model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """Vanilla gradient saliency: ``max over channels of |∂ logit_target / ∂ x|``.

    Args:
        model: a classifier ``(N, C, H, W) -> (N, classes)`` of unnormalised scores
            (logits); put it in eval mode first.
        x: images ``(N, C, H, W)``.
        target: the class to explain for each image, an int or ``N`` ints.

    Returns:
        ``(N, H, W)``: how much a small change of each pixel changes the target score.
        The parameters' gradients are left untouched.
    """
    fname = "saliency_map"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    x = _tensor(x, "x", fname, {4: "(N, C, H, W)"})
    target = _targets(target, x.shape[0], fname)
    x = x.detach().clone().requires_grad_(True)
    picked = _picked(model(x), target, fname).sum()
    (grad,) = torch.autograd.grad(picked, x)
    return grad.abs().amax(dim=1)


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps: ``G[i, j] = Σ_k F[i, k] F[j, k]``.

    Args:
        features: ``(C, H, W)`` or ``(N, C, H, W)``; ``F`` is each map flattened to
            ``(C, M)`` with ``M = H·W`` positions.

    Returns:
        ``(C, C)`` or ``(N, C, C)``: un-normalised (Gatys et al.), symmetric; entry
        ``(i, j)`` is large when filters ``i`` and ``j`` fire at the same places.
    """
    features = _tensor(features, "features", "gram_matrix", {3: "(C, H, W)", 4: "(N, C, H, W)"})
    flat = features.flatten(start_dim=-2)  # (..., C, M)
    return flat @ flat.transpose(-1, -2)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``½ Σ (F − P)²``: how far the features of the image are from the content's.

    Args:
        features: ``F``, feature maps of the generated image, e.g. ``(C, H, W)``.
        target: ``P``, the same layer's maps for the content image, same shape.
    """
    fname = "content_loss"
    features = _tensor(features, "features", fname, {3: "(C, H, W)", 4: "(N, C, H, W)"})
    target = _tensor(target, "target", fname, {3: "(C, H, W)", 4: "(N, C, H, W)"})
    if features.shape != target.shape:
        raise ValueError(
            f"{fname}: target must have the shape of features {tuple(features.shape)}, "
            f"got {tuple(target.shape)}"
        )
    return 0.5 * (features - target).pow(2).sum()


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """``1 / (4 N² M²) · Σ (G − A)²`` for one layer (Gatys et al., 2016).

    Args:
        features: feature maps of the generated image ``(C, H, W)``: ``N = C`` filters,
            ``M = H·W`` positions; ``G`` is their :func:`gram_matrix`.
        target_gram: ``A``, the Gram matrix ``(C, C)`` of the style image at this layer
            (the style image may have another size: the Gram matrix does not depend on
            ``M``'s value, only on ``C``).

    Returns:
        A scalar tensor.
    """
    fname = "style_loss"
    features = _tensor(features, "features", fname, {3: "(C, H, W)"})
    target_gram = _tensor(target_gram, "target_gram", fname, {2: "(C, C)"})
    n, h, w = features.shape
    if target_gram.shape != (n, n):
        raise ValueError(
            f"{fname}: target_gram must have shape ({n}, {n}) for features with {n} "
            f"channels, got {tuple(target_gram.shape)}"
        )
    m = h * w
    return (gram_matrix(features) - target_gram).pow(2).sum() / (4 * n**2 * m**2)
