"""Training CNNs in practice (notebook 12): initialization, augmentation, regularization,
learning-rate schedules and transfer learning, as small functions the notebook calls.

::

    from helpers import practice
    std = practice.kaiming_std((16, 8, 3, 3))                # sqrt(2 / fan_in)
    stds = practice.activation_stds(practice.plain_cnn(20), x, "kaiming")
    crop = practice.random_crop(image, padding=4, rng=rng)  # image: (C, H, W)
    y = practice.dropout(x, p=0.5, training=True, rng=rng)   # inverted dropout
    losses = practice.train_steps(model, x, y, steps=200, lr=1e-3)
    lrs, losses = practice.lr_range_test(model, x, y)

NumPy references of the notebook's exercises (:func:`kaiming_normal`, :func:`random_crop`,
:func:`dropout`, :func:`freeze_for_probe`, :func:`param_groups`) follow PyTorch's conventions
(fan-in from a weight ``(C_out, C_in / groups, *kernel)``; dropout scaled by ``1 / (1 - p)``
while training). Training runs on the CPU, from a seed, one batch order per seed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import numpy as np

from ._validate import as_int

__all__ = [
    "INITS",
    "activation_stds",
    "augment_batch",
    "augmentation_grid",
    "dropout",
    "fan_in_and_out",
    "freeze_for_probe",
    "init_std",
    "kaiming_normal",
    "kaiming_std",
    "linear_probe",
    "lr_multiplier",
    "lr_range_test",
    "param_groups",
    "per_class",
    "plain_cnn",
    "random_crop",
    "train_steps",
]

INITS = ("naive", "xavier", "kaiming", "pytorch")
"""Initialization schemes of :func:`init_std`: std 0.01; Glorot; He; PyTorch's default."""

_SCHEDULES = ("constant", "cosine", "step")


# --------------------------------------------------------------------- initialization


def _shape(shape, fname: str) -> tuple[int, ...]:
    if hasattr(shape, "shape") and not isinstance(shape, tuple):
        shape = tuple(shape.shape)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{fname}: shape must be a tuple of ints, got {shape!r}") from None
    if len(dims) < 2:
        raise ValueError(
            f"{fname}: shape must have at least 2 dimensions (C_out, C_in / groups, *kernel), "
            f"got {dims}"
        )
    return tuple(as_int(d, "every entry of shape", fname, minimum=1) for d in dims)


def fan_in_and_out(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` ``(C_out, C_in / groups, *kernel)``.

    ``fan_in = (C_in / groups) * prod(kernel)``: the inputs one output value sums over;
    ``fan_out = C_out * prod(kernel)``, as ``torch.nn.init._calculate_fan_in_and_fan_out``.
    A Linear weight ``(out, in)`` has no kernel: ``(in, out)``.
    """
    dims = _shape(shape, "fan_in_and_out")
    field = math.prod(dims[2:])
    return dims[1] * field, dims[0] * field


def kaiming_std(shape, gain: float = math.sqrt(2.0)) -> float:
    """He et al. (2015): ``gain / sqrt(fan_in)``; ``gain = sqrt(2)`` for ReLU."""
    return float(gain) / math.sqrt(fan_in_and_out(shape)[0])


def init_std(shape, scheme: str) -> float:
    """The standard deviation of a weight of ``shape`` under ``scheme`` (one of :data:`INITS`).

    * ``"naive"``: 0.01 whatever the layer (a common choice for small networks);
    * ``"xavier"``: Glorot & Bengio (2010), ``sqrt(2 / (fan_in + fan_out))``;
    * ``"kaiming"``: He et al. (2015), ``sqrt(2 / fan_in)``;
    * ``"pytorch"``: the default of ``nn.Conv2d`` and ``nn.Linear``,
      ``kaiming_uniform_(a=sqrt(5))``: uniform on ``±1/sqrt(fan_in)``, std ``1/sqrt(3 fan_in)``.
    """
    if scheme not in INITS:
        raise ValueError(f"init_std: scheme must be one of {INITS}, got {scheme!r}")
    fan_in, fan_out = fan_in_and_out(shape)
    return {
        "naive": 0.01,
        "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
        "kaiming": math.sqrt(2.0 / fan_in),
        "pytorch": 1.0 / math.sqrt(3.0 * fan_in),
    }[scheme]


def kaiming_normal(shape, rng: np.random.Generator) -> np.ndarray:
    """A weight of ``shape`` drawn from ``N(0, 2 / fan_in)`` with ``rng`` (float64).

    The reference answer of Exercise 12.1.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"kaiming_normal: rng must be a numpy Generator, got {rng!r}")
    return rng.standard_normal(_shape(shape, "kaiming_normal")) * kaiming_std(shape)


def plain_cnn(depth: int = 20, width: int = 32, in_channels: int = 1):
    """``depth`` blocks ``Conv2d(3×3, padding 1, no bias) -> ReLU``: no pooling, no norm.

    The first conv maps ``in_channels`` to ``width`` channels, the others keep ``width``.
    Input ``(N, in_channels, H, W)``, output ``(N, width, H, W)``.
    """
    from torch import nn

    depth = as_int(depth, "depth", "plain_cnn", minimum=1)
    width = as_int(width, "width", "plain_cnn", minimum=1)
    in_channels = as_int(in_channels, "in_channels", "plain_cnn", minimum=1)
    layers = []
    for i in range(depth):
        layers += [nn.Conv2d(in_channels if i == 0 else width, width, 3, padding=1, bias=False)]
        layers += [nn.ReLU()]
    return nn.Sequential(*layers)


def activation_stds(model, x, scheme: str, seed: int = 0) -> np.ndarray:
    """Initialise every conv of ``model`` by ``scheme`` and return the std after each ReLU.

    Args:
        model: an ``nn.Sequential`` of convs and ReLUs, e.g. :func:`plain_cnn` (changed in
            place: its weights are redrawn).
        x: the input batch ``(N, C, H, W)`` (a tensor).
        scheme: one of :data:`INITS`; the weights are normal with :func:`init_std`, except
            ``"pytorch"``, which calls each layer's own ``reset_parameters()``.
        seed: seeds the weights.

    Returns:
        ``(number of ReLUs,)`` float64: the standard deviation of every ReLU's output.
    """
    import torch
    from torch import nn

    if scheme not in INITS:
        raise ValueError(f"activation_stds: scheme must be one of {INITS}, got {scheme!r}")
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError("activation_stds: x must be a tensor of shape (N, C, H, W)")
    torch.manual_seed(seed)
    stds = []
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Conv2d):
                if scheme == "pytorch":
                    layer.reset_parameters()
                else:
                    layer.weight.normal_(0.0, init_std(layer.weight.shape, scheme))
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                stds.append(x.std().item())
    return np.array(stds)


# ---------------------------------------------------------------------- augmentation


def random_crop(image, padding: int, rng: np.random.Generator) -> np.ndarray:
    """Pad ``image`` ``(C, H, W)`` with ``padding`` zeros on every side and cut out a random
    ``(C, H, W)`` window: its top-left corner is uniform on ``{0, ..., 2 padding}²``.

    The reference answer of Exercise 12.2 (``torchvision.transforms.v2.RandomCrop(size,
    padding)`` for one image).
    """
    fname = "random_crop"
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"{fname}: image must have shape (C, H, W), got shape {image.shape}")
    padding = as_int(padding, "padding", fname, minimum=0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fname}: rng must be a numpy Generator, got {rng!r}")
    _, h, w = image.shape
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    top, left = rng.integers(0, 2 * padding + 1, size=2)
    return padded[:, top : top + h, left : left + w]


def augment_batch(x, generator, padding: int = 2, flip: bool = True):
    """Random crops with ``padding`` (and horizontal flips) of a batch, one draw per image.

    ``x: (N, C, H, W)`` tensor; ``generator``: a ``torch.Generator``. Returns a new tensor.
    """
    import torch
    import torch.nn.functional as F

    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).tolist()
    out = torch.stack([padded[i, :, t : t + h, s : s + w] for i, (t, s) in enumerate(offsets)])
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(-1), out)
    return out


def augmentation_grid(images, transforms: dict, seed: int = 0, titles: Sequence[str] = ()):
    """A figure: one row per image, the original then one column per transform.

    Args:
        images: ``(N, H, W)`` grey images in [0, 1] (NumPy or tensor).
        transforms: ``{column title: transform}``; a transform maps a ``(1, H, W)`` tensor
            to one (e.g. ``torchvision.transforms.v2.RandomCrop(28, padding=4)``).
        seed: ``torch.manual_seed(seed)`` before the first transform.
        titles: a label per row (e.g. the class names).

    Returns:
        The matplotlib Figure.
    """
    import matplotlib.pyplot as plt
    import torch

    from .plot import IMAGE_CMAP

    images = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if images.ndim != 3:
        raise ValueError("augmentation_grid: images must have shape (N, H, W)")
    torch.manual_seed(seed)
    columns = ["original", *transforms]
    rows, cols = len(images), len(columns)
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.25 * cols, 1.3 * rows), squeeze=False, layout="constrained"
    )
    for r, image in enumerate(images):
        shown = [image[None]] + [t(image[None]) for t in transforms.values()]
        for c, picture in enumerate(shown):
            ax = axes[r, c]
            ax.imshow(picture[0].numpy(), cmap=IMAGE_CMAP, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=11)
            if c == 0 and r < len(titles):
                ax.set_ylabel(titles[r], fontsize=11)
    return fig


# -------------------------------------------------------------------- regularization


def dropout(x, p: float, training: bool, rng: np.random.Generator) -> np.ndarray:
    """Inverted dropout: while training, zero each value with probability ``p`` and scale
    the others by ``1 / (1 - p)``; in evaluation mode return ``x`` unchanged.

    The reference answer of Exercise 12.3 (``torch.nn.functional.dropout``'s convention).
    ``x``: any shape; ``0 <= p < 1``; the mask is ``rng.random(x.shape) >= p``.
    """
    fname = "dropout"
    x = np.asarray(x)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{fname}: p must be a number in [0, 1), got {p!r}")
    if not training:
        return x
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fname}: rng must be a numpy Generator, got {rng!r}")
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0)


# --------------------------------------------------------------------------- training


def lr_multiplier(schedule: str, steps: int, warmup: int = 0) -> Callable[[int], float]:
    """The factor of the peak learning rate at each step ``0 .. steps - 1``.

    * ``"constant"``: 1 (after the warm-up);
    * ``"cosine"``: half a cosine from 1 at the end of the warm-up to 0 after the last step;
    * ``"step"``: 1, then 0.1 from half-way, 0.01 from three quarters.

    ``warmup``: the first ``warmup`` steps rise linearly, ``(k + 1) / warmup``.
    Use it with ``torch.optim.lr_scheduler.LambdaLR``.
    """
    fname = "lr_multiplier"
    if schedule not in _SCHEDULES:
        raise ValueError(f"{fname}: schedule must be one of {_SCHEDULES}, got {schedule!r}")
    steps = as_int(steps, "steps", fname, minimum=1)
    warmup = as_int(warmup, "warmup", fname, minimum=0)
    if warmup >= steps:
        raise ValueError(f"{fname}: warmup ({warmup}) must be smaller than steps ({steps})")

    def factor(k: int) -> float:
        if k < warmup:
            return (k + 1) / warmup
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * (k - warmup) / (steps - warmup)))
        if schedule == "step":
            return 1.0 if k < steps // 2 else 0.1 if k < 3 * steps // 4 else 0.01
        return 1.0

    return factor


def _batches(n: int, batch_size: int, generator):
    """Endless mini-batch indices: a new permutation of ``range(n)`` every epoch."""
    import torch

    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def _as_images(x, y, fname: str):
    import torch

    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError(f"{fname}: x must be a float tensor of shape (N, C, H, W) or (N, D)")
    if not isinstance(y, torch.Tensor) or y.shape != (len(x),):
        raise ValueError(f"{fname}: y must be a tensor of {len(x)} labels, shape (N,)")
    return x, y


def train_steps(
    model,
    x,
    y,
    *,
    steps: int,
    lr: float,
    batch_size: int = 64,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    schedule: str = "constant",
    warmup: int = 0,
    augment: Callable | None = None,
    groups: list | None = None,
    seed: int = 0,
    callback: Callable | None = None,
) -> list[float]:
    """Train ``model`` in place for ``steps`` mini-batches of cross-entropy; return the losses.

    Args:
        model: a classifier ``(N, C, H, W) -> (N, classes)``; left in eval mode.
        x, y: the training images ``(N, C, H, W)`` (or features ``(N, D)``) float32 and
            labels ``(N,)`` int64 (tensors).
        steps: optimizer steps; a new shuffle of the data every epoch.
        lr: the peak learning rate (the rate of a group without its own ``"lr"``).
        optimizer: ``"adam"`` or ``"sgd"`` (momentum 0.9); ``"adamw"`` for decoupled decay.
        weight_decay: the optimizer's weight decay.
        schedule, warmup: :func:`lr_multiplier`.
        augment: ``augment(batch, generator) -> batch``, e.g. :func:`augment_batch`.
        groups: parameter groups for the optimizer (default: every parameter that requires
            a gradient), e.g. from :func:`param_groups`; each group's lr follows the schedule.
        seed: seeds the batch order and the augmentation (seed the model before building it).
        callback: ``callback(k, model)`` after step ``k`` (0 .. steps - 1), e.g. to record the
            weights during training.

    Returns:
        The training loss of every step (Python floats).
    """
    import torch
    import torch.nn.functional as F

    fname = "train_steps"
    x, y = _as_images(x, y, fname)
    steps = as_int(steps, "steps", fname, minimum=1)
    batch_size = as_int(batch_size, "batch_size", fname, minimum=1)
    if groups is None:
        groups = [{"params": [p for p in model.parameters() if p.requires_grad]}]
    options = {"lr": lr, "weight_decay": weight_decay}
    if optimizer == "adam":
        opt = torch.optim.Adam(groups, **options)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(groups, **options)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(groups, momentum=0.9, **options)
    else:
        raise ValueError(f"{fname}: optimizer must be 'adam', 'adamw' or 'sgd', got {optimizer!r}")
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lr_multiplier(schedule, steps, warmup))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout masks
    batches = _batches(len(x), batch_size, generator)
    losses = []
    model.train()
    for _ in range(steps):
        index = next(batches)
        xb = x[index] if augment is None else augment(x[index], generator)
        loss = F.cross_entropy(model(xb), y[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        scheduler.step()
        losses.append(loss.item())
        if callback is not None:
            callback(len(losses) - 1, model)
    model.eval()
    return losses


def lr_range_test(
    model,
    x,
    y,
    *,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    steps: int = 100,
    batch_size: int = 64,
    optimizer: str = "sgd",
    seed: int = 0,
):
    """Smith's learning-rate range test: one short run whose rate grows geometrically.

    Trains a copy of ``model`` (the model itself is untouched) for ``steps`` mini-batches,
    the rate rising from ``lr_min`` to ``lr_max``, and stops early once the loss exceeds
    four times its best value (or is not finite).

    Returns:
        ``(lrs, losses)``: NumPy arrays of the rate and the training loss of each step taken.
    """
    import torch
    import torch.nn.functional as F

    fname = "lr_range_test"
    x, y = _as_images(x, y, fname)
    if not 0 < lr_min < lr_max:
        raise ValueError(f"{fname}: need 0 < lr_min < lr_max, got {lr_min} and {lr_max}")
    steps = as_int(steps, "steps", fname, minimum=2)
    model = copy.deepcopy(model)
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr_min, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr_min)
    generator = torch.Generator().manual_seed(seed)
    batches = _batches(len(x), batch_size, generator)
    losses: list[float] = []
    model.train()
    for lr in lrs:
        for group in opt.param_groups:
            group["lr"] = float(lr)
        index = next(batches)
        loss = F.cross_entropy(model(x[index]), y[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return lrs[: len(losses)], np.array(losses)


# -------------------------------------------------------------------- transfer learning


def per_class(y, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` random examples of each class of ``y`` (sorted), drawn with ``seed``."""
    y = np.asarray(y)
    n = as_int(n, "n", "per_class", minimum=1)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) < n:
            raise ValueError(f"per_class: class {label} has {len(members)} examples, asked {n}")
        chosen.append(rng.choice(members, size=n, replace=False))
    return np.sort(np.concatenate(chosen))


def freeze_for_probe(model) -> list:
    """Freeze every parameter of ``model`` except its ``head``; return the head's parameters.

    The reference answer of Exercise 12.4 (a linear probe trains only the classifier).
    """
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    head = list(model.head.parameters())
    for parameter in head:
        parameter.requires_grad_(True)
    return head


def param_groups(model, lr: float, early: Sequence[str] = ("block1", "block2"), factor=0.1):
    """Parameter groups for fine-tuning with discriminative learning rates.

    Every parameter is made trainable again; the children named in ``early`` get
    ``lr * factor``, all the others ``lr``. The reference answer of Exercise 12.5.

    Returns:
        ``[{"params": [...], "lr": lr * factor}, {"params": [...], "lr": lr}]``.
    """
    slow, fast = [], []
    for name, child in model.named_children():
        for parameter in child.parameters():
            parameter.requires_grad_(True)
            (slow if name in early else fast).append(parameter)
    return [{"params": slow, "lr": lr * factor}, {"params": fast, "lr": lr}]


def linear_probe(model, x, y, x_test, y_test, *, steps: int = 300, lr: float = 0.01, seed=0):
    """Train a new linear classifier on the frozen features of ``model``; test accuracy.

    The features (``model.features(x)``, e.g. of :class:`helpers.models.small.SmallCNN`) are
    computed once, since a frozen body gives the same features every epoch; then a copy of
    ``model.head``, re-initialised from ``seed``, is trained with Adam on them.

    Returns:
        ``(head, accuracy)``: the trained ``nn.Linear`` and its accuracy on ``x_test``.
    """
    import torch

    model.eval()
    with torch.no_grad():
        features, test_features = model.features(x), model.features(x_test)
    head = copy.deepcopy(model.head)
    torch.manual_seed(seed)
    head.reset_parameters()
    train_steps(head, features, y, steps=steps, lr=lr, seed=seed)
    with torch.no_grad():
        accuracy = (head(test_features).argmax(1) == y_test).float().mean().item()
    return head, accuracy
