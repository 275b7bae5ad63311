"""Explaining a trained CNN with data: patches, neighbours, occlusion, CAM, Grad-CAM, FGSM.

The reference implementations of the second half of notebook 10 (``10_what_cnns_learn``)
and of its Exercises 10.5 and 10.6. Everything works on torch tensors ``(N, C, H, W)``:

* :func:`top_patches`: the input patches (one unit's receptive field) that excite a channel
  most, searched over a set of real images (Zeiler and Fergus, 2014);
* :func:`nearest_neighbours`: the closest rows of a matrix in Euclidean distance (in pixel
  space or in a hidden layer's feature space);
* :func:`occlusion_map`: how much the class probability drops when a square of the image is
  hidden, at every position (Zeiler and Fergus, 2014, section 4.2);
* :func:`gap_cnn`, :func:`class_activation_map`: a CNN whose classifier is global average
  pooling and one linear layer, and its class activation map ``Σ_k w_k^c A_k`` (Zhou et al.,
  2016);
* :func:`layer_gradients`, :func:`grad_cam`: a layer's maps and the gradient of a class score
  with respect to them, and Grad-CAM ``ReLU(Σ_k α_k A_k)`` with ``α_k`` the spatial mean of
  the gradient (Selvaraju et al., 2017);
* :func:`fgsm`: the fast gradient sign method ``x + ε sign(∇_x loss)``, clipped to the valid
  pixel range (Goodfellow et al., 2015).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .receptive_field.fields import ReceptiveField
from .visualize import _number, _picked, _targets, _tensor

__all__ = [
    "Patches",
    "class_activation_map",
    "fgsm",
    "gap_cnn",
    "grad_cam",
    "image_grid",
    "layer_gradients",
    "nearest_neighbours",
    "occlusion_map",
    "top_patches",
    "upsample_map",
]


def _module(model, fname: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


class Patches(NamedTuple):
    """What :func:`top_patches` found, best first.

    Attributes:
        patches: ``(k, C, r, r)``: the input squares that the best units see (``r`` the
            receptive-field size; outside the image, the padding value 0).
        values: ``(k,)``: the channel's activation at those units.
        index: ``(k,)``: which image each patch comes from.
        row, col: ``(k,)``: the unit's position in the channel's map.
    """

    patches: torch.Tensor
    values: torch.Tensor
    index: torch.Tensor
    row: torch.Tensor
    col: torch.Tensor


def top_patches(
    layer: nn.Module, images: torch.Tensor, channel: int, field: ReceptiveField, k: int = 9
) -> Patches:
    """The ``k`` image patches that excite one channel of a layer most, one per image.

    Each image's strongest unit of ``channel`` is found; the ``k`` images whose strongest
    unit is highest are kept, and from each the square the unit sees (its receptive field,
    ``field`` as returned by :func:`helpers.shapes.receptive_field` for ``layer``) is cut out.

    Args:
        layer: maps ``images`` to maps ``(N, K, h, w)``, e.g. ``model.features[:5]``.
        images: ``(N, C, H, W)``.
        channel: which of the ``K`` maps, ``0 <= channel < K``.
        field: the receptive field of one unit of ``layer``'s output (square: int entries).
        k: how many patches, ``1 <= k <= N``.
    """
    fname = "top_patches"
    layer = _module(layer, fname)
    images = _tensor(images, "images", fname, {4: "(N, C, H, W)"})
    if not isinstance(field, ReceptiveField) or not all(isinstance(v, int) for v in field):
        raise TypeError(f"{fname}: field must be a square ReceptiveField, got {field!r}")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(images):
        raise ValueError(f"{fname}: k must be an int from 1 to {len(images)}, got {k!r}")
    with torch.no_grad():
        maps = layer(images)
    if maps.dim() != 4 or not (isinstance(channel, int) and 0 <= channel < maps.shape[1]):
        raise ValueError(
            f"{fname}: channel must be an int in [0, {maps.shape[1]}), got {channel!r}"
        )
    width = maps.shape[-1]
    best, where = maps[:, channel].flatten(start_dim=1).max(dim=1)  # (N,): each image's best
    values, index = best.topk(k)
    row, col = where[index] // width, where[index] % width
    size, stride, pad = field
    # pad generously, so that every unit's square lies inside the padded image
    extra = max(pad, size)
    padded = F.pad(images[index], (extra, extra, extra, extra))
    top = row * stride - pad + extra
    left = col * stride - pad + extra
    patches = torch.stack(
        [
            padded[n, :, t : t + size, s : s + size]
            for n, (t, s) in enumerate(zip(top, left, strict=True))
        ]
    )
    return Patches(patches, values, index, row, col)


def nearest_neighbours(queries: torch.Tensor, keys: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Indices ``(Q, k)`` of the ``k`` rows of ``keys`` closest to each query, nearest first.

    Euclidean distance, computed in float64 (squared norms minus twice the dot products, so
    that 10 000 keys take one matrix product). ``queries: (Q, ...)`` and ``keys: (K, ...)``
    are flattened to vectors (an image of pixels, or the activations of a hidden layer).
    """
    fname = "nearest_neighbours"
    queries = _tensor(queries, "queries", fname, {d: "(Q, ...)" for d in range(2, 5)})
    keys = _tensor(keys, "keys", fname, {d: "(K, ...)" for d in range(2, 5)})
    q, c = queries.flatten(start_dim=1).double(), keys.flatten(start_dim=1).double()
    if q.shape[1] != c.shape[1]:
        raise ValueError(
            f"{fname}: queries and keys must have the same size per item, got "
            f"{q.shape[1]} and {c.shape[1]}"
        )
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(c):
        raise ValueError(f"{fname}: k must be an int from 1 to {len(c)}, got {k!r}")
    distance2 = q.pow(2).sum(1, keepdim=True) - 2 * q @ c.T + c.pow(2).sum(1)
    return distance2.topk(k, dim=1, largest=False).indices


def occlusion_map(
    model: nn.Module, x: torch.Tensor, target, size: int = 7, fill: float = 0.0
) -> torch.Tensor:
    """Occlusion sensitivity: the drop of ``p(target)`` when a square hides each position.

    For every pixel ``(i, j)`` the ``size × size`` square centred on it (cut at the borders)
    is set to ``fill`` and the image is classified again; the map holds
    ``p(target | x) − p(target | x occluded at (i, j))``: large where hiding the image hurts
    the class most.

    Args:
        model: a classifier ``(N, C, H, W) -> (N, classes)`` (logits), in eval mode.
        x: images ``(N, C, H, W)``.
        target: the class to explain, one int or ``N`` ints.
        size: the side of the square, odd, ``>= 1``.
        fill: the value of the hidden pixels (0: background paper for MNIST).

    Returns:
        ``(N, H, W)``.
    """
    fname = "occlusion_map"
    model = _module(model, fname)
    x = _tensor(x, "x", fname, {4: "(N, C, H, W)"})
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"{fname}: size must be an odd int >= 1, got {size!r}")
    fill = _number(fill, "fill", fname, minimum=float("-inf"))
    n, _, h, w = x.shape
    target = _targets(target, n, fname)
    half = size // 2
    rows = torch.arange(h)
    cols = torch.arange(w)
    # masks[p] hides the square centred on position p = i * w + j: (H·W, 1, H, W)
    near_row = (rows[:, None] - rows[None, :]).abs() <= half  # (i, y)
    near_col = (cols[:, None] - cols[None, :]).abs() <= half  # (j, x)
    masks = (near_row[:, None, :, None] & near_col[None, :, None, :]).reshape(h * w, 1, h, w)
    maps = []
    with torch.no_grad():
        base = _picked(model(x).softmax(dim=1), target, fname)
        for image, c, p in zip(x, target, base, strict=True):
            hidden = torch.where(masks, torch.as_tensor(fill, dtype=x.dtype), image)
            probs = model(hidden).softmax(dim=1)[:, c]
            maps.append((p - probs).reshape(h, w))
    return torch.stack(maps)


def gap_cnn(widths: tuple[int, int, int] = (16, 32, 32), classes: int = 10) -> nn.Sequential:
    """A small CNN for ``(N, 1, 28, 28)`` digits that ends in global average pooling.

    Three stages of 3×3 conv (padding 1), batch norm and ReLU, with 2×2 max pooling after
    the first two: ``features`` maps 28×28 to ``widths[2]`` maps of 7×7; ``gap`` averages
    each map to one number and ``fc`` (one linear layer) turns them into class scores. This is
    the architecture class activation maps need (Zhou et al., 2016).
    """
    a, b, c = widths

    def stage(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    features = nn.Sequential(
        *stage(1, a), nn.MaxPool2d(2), *stage(a, b), nn.MaxPool2d(2), *stage(b, c)
    )
    return nn.Sequential(
        OrderedDict(
            features=features,
            gap=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            fc=nn.Linear(c, classes),
        )
    )


def class_activation_map(maps: torch.Tensor, weight: torch.Tensor, target) -> torch.Tensor:
    """Class activation map ``M_c = Σ_k w_k^c A_k`` (Zhou et al., 2016, section 2).

    Args:
        maps: ``A``, the last conv layer's maps ``(N, K, h, w)``, the input of global
            average pooling.
        weight: the linear layer after the pooling, ``(classes, K)``.
        target: the class ``c`` to map, one int or ``N`` ints.

    Returns:
        ``(N, h, w)``: the class score is the spatial mean of the map plus the bias, so the
        map says where the evidence for class ``c`` lies.
    """
    fname = "class_activation_map"
    maps = _tensor(maps, "maps", fname, {4: "(N, K, h, w)"})
    weight = _tensor(weight, "weight", fname, {2: "(classes, K)"})
    if weight.shape[1] != maps.shape[1]:
        raise ValueError(
            f"{fname}: weight must have {maps.shape[1]} columns (one per map), got "
            f"{tuple(weight.shape)}"
        )
    target = _targets(target, len(maps), fname)
    if not bool(((target >= 0) & (target < len(weight))).all()):
        raise ValueError(f"{fname}: target must lie in [0, {len(weight)}), got {target.tolist()}")
    return torch.einsum("nk,nkhw->nhw", weight[target], maps)


def layer_gradients(
    model: nn.Module, layer: nn.Module, x: torch.Tensor, target
) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's output ``A`` and the gradient ``∂ y_c / ∂ A`` of the class score.

    Args:
        model: a classifier ``(N, C, H, W) -> (N, classes)`` (logits), in eval mode.
        layer: a sub-module of ``model`` whose output is ``(N, K, h, w)``.
        x: images ``(N, C, H, W)``.
        target: the class ``c``, one int or ``N`` ints.

    Returns:
        ``(activations, gradients)``, both ``(N, K, h, w)`` and detached. The model's
        parameters and their gradients are left untouched.
    """
    fname = "layer_gradients"
    model, layer = _module(model, fname), _module(layer, fname)
    x = _tensor(x, "x", fname, {4: "(N, C, H, W)"})
    if not any(m is layer for m in model.modules()):
        raise ValueError(f"{fname}: layer must be a sub-module of model")
    target = _targets(target, len(x), fname)
    seen: list[torch.Tensor] = []
    handle = layer.register_forward_hook(lambda module, args, out: seen.append(out))
    try:
        with torch.enable_grad():
            scores = _picked(model(x.detach().clone().requires_grad_(True)), target, fname)
            (grad,) = torch.autograd.grad(scores.sum(), seen[-1])
    finally:
        handle.remove()
    return seen[-1].detach(), grad.detach()


def grad_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM ``ReLU(Σ_k α_k A_k)`` with ``α_k`` the spatial mean of ``∂ y_c / ∂ A_k``.

    Selvaraju et al. (2017), equations 1 and 2: the weight of map ``k`` is its gradient
    averaged over the ``h·w`` positions (global average pooling of the gradient); the map is
    the weighted sum of the maps, keeping only the positive part.

    Args:
        activations: ``A``, ``(N, K, h, w)`` or ``(K, h, w)``, as from
            :func:`layer_gradients`.
        gradients: ``∂ y_c / ∂ A``, the same shape.

    Returns:
        ``(N, h, w)`` or ``(h, w)``.
    """
    fname = "grad_cam"
    layouts = {3: "(K, h, w)", 4: "(N, K, h, w)"}
    activations = _tensor(activations, "activations", fname, layouts)
    gradients = _tensor(gradients, "gradients", fname, layouts)
    if activations.shape != gradients.shape:
        raise ValueError(
            f"{fname}: gradients must have the shape of activations "
            f"{tuple(activations.shape)}, got {tuple(gradients.shape)}"
        )
    alpha = gradients.mean(dim=(-2, -1), keepdim=True)  # (..., K, 1, 1)
    return (alpha * activations).sum(dim=-3).clamp(min=0)


def fgsm(model: nn.Module, x: torch.Tensor, y, eps: float, low=0.0, high=1.0) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al., 2015): ``clip(x + ε sign(∇_x L))``.

    ``L`` is the cross-entropy of ``model(x)`` with the true labels ``y``: one step that
    increases the loss as much as possible for a change of at most ``ε`` per pixel (the
    L∞ ball), then clipped to the valid pixel range ``[low, high]``.

    Args:
        model: a classifier ``(N, C, H, W) -> (N, classes)`` (logits), in eval mode.
        x: images ``(N, C, H, W)`` in ``[low, high]``.
        y: their labels, one int or ``N`` ints.
        eps: the largest change of a pixel, ``>= 0``.

    Returns:
        The adversarial images, detached, shaped like ``x``.
    """
    fname = "fgsm"
    model = _module(model, fname)
    x = _tensor(x, "x", fname, {4: "(N, C, H, W)"})
    eps = _number(eps, "eps", fname)
    low = _number(low, "low", fname, minimum=float("-inf"))
    high = _number(high, "high", fname, minimum=low)
    y = _targets(y, len(x), fname)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        _picked(logits, y, fname)  # checks the labels
        (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x)
    return (x.detach() + eps * grad.sign()).clamp(low, high)


def upsample_map(maps: torch.Tensor, field: ReceptiveField, size: int) -> torch.Tensor:
    """Maps of units ``(N, h, w)`` as ``(N, size, size)`` images, each value at its field's centre.

    Bilinear upsampling by the field's stride, shifted so that unit ``(i, j)`` lands on the
    centre of the square it sees (``field`` from :func:`helpers.shapes.receptive_field`);
    border strips farther out than every unit's centre are 0.
    """
    fname = "upsample_map"
    maps = _tensor(maps, "maps", fname, {3: "(N, h, w)"})
    if not isinstance(field, ReceptiveField) or not all(isinstance(v, int) for v in field):
        raise TypeError(f"{fname}: field must be a square ReceptiveField, got {field!r}")
    size_rf, stride, pad = field
    shift = (size_rf - 1) / 2 - pad - (stride - 1) / 2
    if shift != int(shift):
        raise ValueError(f"{fname}: the field's centres are not on the pixel grid: {field!r}")
    scaled = F.interpolate(maps[:, None], scale_factor=stride, mode="bilinear", align_corners=False)
    shift = int(shift)
    bottom = size - shift - scaled.shape[-1]
    return F.pad(scaled, (shift, bottom, shift, bottom))[:, 0]


def image_grid(
    rows,
    row_labels=(),
    titles=None,
    cmaps=None,
    size: float = 1.3,
    suptitle=None,
    colorbar: bool = True,
):
    """Draw rows of small 2-D images (digits, patches, heat maps) with labels; returns the figure.

    Args:
        rows: a list of rows, each a list of 2-D arrays or tensors ``(H, W)``.
        row_labels: one label per row, written left of it.
        titles: optional titles, a list of rows of strings like ``rows``.
        cmaps: one colour map per row (default :data:`helpers.plot.IMAGE_CMAP`; use
            :data:`helpers.plot.FEATURE_CMAP` for heat maps). Heat maps are scaled from 0 to
            their own maximum; grey images from 0 (black) to 1.
        size: the side of one image in inches.
        colorbar: with heat-map rows, draw one colour bar for them, from 0 to "max" (each
            map's own maximum).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .plot import IMAGE_CMAP

    ncols = max(len(row) for row in rows)
    cmaps = list(cmaps) if cmaps else [IMAGE_CMAP] * len(rows)
    heat = [r for r, cmap in enumerate(cmaps) if cmap != IMAGE_CMAP]
    fig, axes = plt.subplots(
        len(rows),
        ncols,
        figsize=(
            size * ncols + 0.6 + 0.8 * (colorbar and bool(heat)),
            size * len(rows) + 0.3 * (titles is not None),
        ),
        squeeze=False,
        layout="constrained",
    )
    shown = None
    for r, row in enumerate(rows):
        cmap = cmaps[r]
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(row):
                ax.axis("off")
                continue
            image = np.asarray(row[c].detach() if isinstance(row[c], torch.Tensor) else row[c])
            if cmap == IMAGE_CMAP:  # pixels: black 0, white 1, as the network sees them
                low, high = min(image.min(), 0.0), max(image.max(), 1.0)
            else:
                low, high = 0.0, max(image.max(), 1e-12)
            drawn = ax.imshow(image, cmap=cmap, vmin=low, vmax=high)
            if cmap != IMAGE_CMAP:
                shown = drawn
            if titles is not None and titles[r][c]:
                ax.set_title(titles[r][c], fontsize=11)
        if r < len(row_labels):
            axes[r, 0].set_ylabel(row_labels[r], fontsize=11)
    if colorbar and shown is not None:
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        scale = ScalarMappable(Normalize(0, 1), cmap=shown.get_cmap())  # 0 .. 1 of each maximum
        bar = fig.colorbar(scale, ax=axes[heat, :].ravel().tolist(), shrink=0.9, pad=0.02)
        bar.set_ticks([0, 0.5, 1], labels=["0", "max / 2", "max"])
        bar.set_label("each map from 0 to its own max")
    if suptitle:
        fig.suptitle(suptitle)
    return fig
