"""Checkers for notebook 12 (training CNNs in practice).

Random answers are checked by their *distribution*: a Kaiming weight by the mean and the
standard deviation of many draws, a random crop by where its window lands over many calls
(every offset, each about equally often), dropout by the values it keeps, how they are
scaled and the fraction it zeroes. The tolerances are several standard errors wide, so a
right answer passes whatever its random numbers, and each typical mistake (fan-out, the
variance for the standard deviation, an off-by-one range of offsets, no rescaling, ...)
is named. The fine-tuning exercises are checked on ``SmallCNN`` networks: which parameters
require a gradient, and which learning rate each parameter gets.
"""

from __future__ import annotations

import math

import numpy as np

from .answers import as_items, plain_number
from .arrays import describe, to_numpy
from .core import Mismatch, answer, call, checker, numbered_cases
from .grading import rng, seed

__all__ = ["dropout_forward", "freeze_for_probe", "kaiming_normal", "param_groups", "random_crop"]

_SAMPLES = 40_000  # values drawn per case for the statistics of 12.1 and 12.3


# ------------------------------------------------------------------ 12.1 Kaiming normal


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


@checker(
    "12.1",
    "kaiming_normal",
    forbid=(
        "torch.nn.init.kaiming_normal_",
        "torch.nn.init.kaiming_uniform_",
        "helpers.practice.kaiming_normal",
        "helpers.practice.kaiming_std",
        "helpers.practice.init_std",
    ),
)
def kaiming_normal(student_fn) -> str:
    """Check ``student_fn(shape, rng) -> array of shape`` drawn from ``N(0, 2 / fan_in)``."""
    shapes = [(64, 16, 3, 3), (32, 1, 3, 3), (10, 128), (24, 6, 5, 5), (16, 4, 7)]
    hidden = [(48, 12, 1, 1), (8, 3, 3, 5, 5)]  # a 1x1 conv; a 3-D conv
    count = 0
    for heading, shape in numbered_cases(shapes, hidden):
        count += 1
        fan_in, fan_out = _fans(shape)
        label = f"{heading} (shape={shape}, fan_in={fan_in})"
        draws, total, number = [], 0, 0
        while total < _SAMPLES:
            number += 1
            got = to_numpy(answer(student_fn, shape, rng(1200 + 50 * count + number), case=label),
                           case=label)  # fmt: skip
            if got.shape != shape:
                hint = ""
                if got.size == math.prod(shape):
                    hint = "\nHint: the right number of values in the wrong layout."
                raise Mismatch(
                    f"{label}:\nyour weight has shape {got.shape}, expected {shape}: "
                    f"draw exactly `shape` values.{hint}"
                )
            draws.append(got.ravel().astype(np.float64))
            total += got.size
        again = to_numpy(answer(student_fn, shape, rng(1200 + 50 * count + 1), case=label),
                         case=label)  # fmt: skip
        if not np.array_equal(again.ravel(), draws[0]):
            raise Mismatch(
                f"{label}:\ntwo calls with generators of the same seed gave different weights. "
                "Draw every number from the `rng` argument (rng.standard_normal or rng.normal), "
                "not from np.random or torch, so that a seed reproduces the network."
            )
        values = np.concatenate(draws)
        expected = math.sqrt(2 / fan_in)
        mean, std = values.mean(), values.std()
        if abs(mean) > 6 * std / math.sqrt(values.size) + 1e-12:
            raise Mismatch(
                f"{label}:\nthe mean of your weights is {mean:.4g}; it should be 0 "
                "(a normal distribution centred on zero)."
            )
        ratio = std / expected
        if abs(ratio - 1) < 0.03:
            continue
        mistakes = [
            (math.sqrt(2 / fan_out), "you divided by fan_out = C_out * kH * kW; He "
             "initialization keeps the forward pass stable with fan_in = (C_in / groups) * kH * kW "
             "= shape[1] * prod(shape[2:])."),
            (2 / fan_in, "that is the variance 2 / fan_in; the standard deviation is its "
             "square root."),
            (math.sqrt(1 / fan_in), "std sqrt(1 / fan_in) is LeCun's (or Xavier's for equal "
             "fans); ReLU zeroes half of its input, so He doubles the variance: sqrt(2 / fan_in)."),
            (math.sqrt(2 / (fan_in + fan_out)), "that is Xavier/Glorot, sqrt(2 / (fan_in + "
             "fan_out)); He initialization uses sqrt(2 / fan_in)."),
            (math.sqrt(2 / shape[1]), "fan_in also counts the kernel: (C_in / groups) * kH * kW, "
             "not just the input channels."),
            (1.0, "the weights have standard deviation 1: multiply by sqrt(2 / fan_in)."),
        ]  # fmt: skip
        for value, hint in mistakes:
            if abs(std / value - 1) < 0.03:
                raise Mismatch(
                    f"{label}:\nyour weights have standard deviation {std:.4g}, expected "
                    f"sqrt(2 / {fan_in}) = {expected:.4g}.\nHint: {hint}"
                )
        raise Mismatch(
            f"{label}:\nyour weights have standard deviation {std:.4g}, expected "
            f"sqrt(2 / fan_in) = sqrt(2 / {fan_in}) = {expected:.4g} (measured on "
            f"{values.size} values)."
        )
    return (
        f"{count} shapes: mean 0 and standard deviation sqrt(2 / fan_in) within 3%, "
        "reproducible from the rng."
    )


# ------------------------------------------------------------------ 12.2 random crop


def _offset(crop: np.ndarray, padded: np.ndarray, h: int, w: int, padding: int):
    """The (top, left) of the window of ``padded`` equal to ``crop``, or None.

    The image's values are distinct and nonzero: a value of the crop found once in
    ``padded`` locates the window (the crop's centre lies inside the image).
    """
    centre = [(h // 2, w // 2)]
    for i, j in centre + [tuple(ij) for ij in np.argwhere(crop[0] != 0)[:20]]:
        found = np.argwhere(padded[0] == crop[0, i, j])
        if crop[0, i, j] == 0 or len(found) != 1:
            continue
        top, left = int(found[0][0] - i), int(found[0][1] - j)
        if not (0 <= top <= 2 * padding and 0 <= left <= 2 * padding):
            return None
        if np.array_equal(crop, padded[:, top : top + h, left : left + w]):
            return top, left
        return None
    return None


@checker(
    "12.2",
    "random_crop",
    forbid=(
        "helpers.practice.random_crop",
        "helpers.practice.augment_batch",
        "torchvision.transforms.v2.RandomCrop",
        "torchvision.transforms.RandomCrop",
    ),
)
def random_crop(student_fn) -> str:
    """Check ``student_fn(image, padding, rng) -> crop`` over many calls per case."""
    cases = [((1, 8, 8), 2), ((3, 6, 9), 1), ((2, 5, 7), 3), ((1, 10, 10), 0)]
    hidden = [((4, 3, 12), 2), ((1, 9, 6), 4)]
    count = 0
    for heading, (shape, padding) in numbered_cases(cases, hidden):
        count += 1
        data = rng(1300 + count)
        image = data.uniform(0.1, 1.0, shape)  # no zeros: the padding is recognisable
        c, h, w = shape
        padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
        label = f"{heading} (image.shape={shape}, padding={padding})"
        side = 2 * padding + 1
        calls = 50 * side * side
        counts = np.zeros((side, side), dtype=int)
        generator = rng(1350 + count)
        for _ in range(calls):
            got = to_numpy(answer(student_fn, image, padding, generator, case=label), case=label)
            if got.shape != shape:
                hint = ""
                if got.shape == padded.shape:
                    hint = "\nHint: that is the padded image; cut a window of the original size."
                elif got.shape == (h, w) or got.shape == (h, w, c):
                    hint = "\nHint: keep the channel axis first: (C, H, W)."
                raise Mismatch(
                    f"{label}:\nyour crop has shape {got.shape}, expected {shape}.{hint}"
                )
            where = _offset(got, padded, h, w, padding)
            if where is None:
                edge = np.pad(image, ((0, 0), (padding, padding), (padding, padding)), mode="edge")
                if _offset(got, edge, h, w, padding) is not None:
                    raise Mismatch(
                        f"{label}:\nyour crop repeats the border pixels; pad with zeros "
                        "(np.pad's default mode='constant'), as RandomCrop(padding=...) does."
                    )
                raise Mismatch(
                    f"{label}:\nyour crop is not a window of the image padded with {padding} "
                    "zeros on every side. Pad H and W (not the channels), then take "
                    "padded[:, top:top + H, left:left + W]."
                )
            counts[where] += 1
        seen = counts > 0
        if padding and seen.sum() == 1:
            raise Mismatch(
                f"{label}:\nin {calls} calls your crop was always at offset "
                f"{tuple(int(i) for i in np.argwhere(seen)[0])}: draw top and left at random "
                "from the rng argument."
            )
        if padding and np.all(seen == np.eye(side, dtype=bool)):
            raise Mismatch(
                f"{label}:\nyour crops only move along the diagonal (top == left): draw top and "
                "left independently."
            )
        if not seen.all():
            never = [tuple(int(i) for i in ij) for ij in np.argwhere(~seen)]
            hint = ""
            if not seen[-1, :].any() or not seen[:, -1].any():
                hint = (
                    "\nHint: the offsets go from 0 to 2 * padding inclusive: "
                    "rng.integers(0, 2 * padding + 1) (the upper bound is excluded)."
                )
            raise Mismatch(
                f"{label}:\nin {calls} calls your crop never took the offsets (top, left) = "
                f"{never[:4]}{' ...' if len(never) > 4 else ''}; every one of the "
                f"{side}×{side} windows must be possible.{hint}"
            )
        expected = calls / side**2  # 50; a binomial count stays within 6 sd of it
        if side > 1 and np.abs(counts - expected).max() > 6 * math.sqrt(expected):
            raise Mismatch(
                f"{label}:\nthe offsets are not uniform: over {calls} calls each of the "
                f"{side * side} windows should come about {expected:.0f} times; yours came "
                f"between {counts.min()} and {counts.max()} times."
            )
    return f"{count} cases: every crop a window of the zero-padded image, offsets uniform."


# ------------------------------------------------------------------ 12.3 dropout


@checker(
    "12.3",
    "dropout_forward",
    forbid=(
        "torch.nn.functional.dropout",
        "torch.dropout",
        "torch.nn.Dropout",
        "helpers.practice.dropout",
    ),
)
def dropout_forward(student_fn) -> str:
    """Check ``student_fn(x, p, training, rng)``: inverted dropout, identity in eval mode."""
    cases = [((200, 200), 0.5), ((8, 16, 20, 20), 0.2), ((50000,), 0.8), ((100, 300), 0.0)]
    hidden = [((4, 3, 60, 60), 0.35), ((30000,), 0.05)]
    count = 0
    for heading, (shape, p) in numbered_cases(cases, hidden):
        count += 1
        x = rng(1400 + count).uniform(0.5, 2.0, shape) * rng(1450 + count).choice([-1, 1], shape)
        label = f"{heading} ({describe(x=x, p=p)})"
        # evaluation mode: the identity
        got = to_numpy(answer(student_fn, x, p, False, rng(1500 + count), case=label + ", eval"),
                       case=label)  # fmt: skip
        if got.shape != x.shape:
            raise Mismatch(f"{label}, training=False:\nyour output has shape {got.shape}, "
                           f"expected {x.shape}.")  # fmt: skip
        if not np.allclose(got, x):
            hint = "inverted dropout does nothing at test time: return x unchanged."
            if p and np.allclose(got, x * (1 - p)):
                hint = (
                    "you scaled by (1 - p) at test time: that is the original, non-inverted "
                    "dropout. Inverted dropout scales by 1 / (1 - p) while training and "
                    "returns x unchanged in evaluation mode."
                )
            elif p and np.mean(got == 0) > p / 2:
                hint = "you dropped values in evaluation mode: " + hint
            raise Mismatch(f"{label}, training=False:\nHint: {hint}")
        # training mode
        got = to_numpy(answer(student_fn, x, p, True, rng(1550 + count), case=label), case=label)
        if got.shape != x.shape:
            raise Mismatch(f"{label}, training=True:\nyour output has shape {got.shape}, "
                           f"expected {x.shape}.")  # fmt: skip
        zero = got == 0
        kept = ~zero
        frac = zero.mean()
        tolerance = 5 * math.sqrt(max(p * (1 - p), 1e-12) / x.size) + 1e-9
        if p and np.allclose(got[kept], x[kept]) and kept.any():
            raise Mismatch(
                f"{label}, training=True:\nthe values you kept are unchanged. Inverted dropout "
                f"scales them by 1 / (1 - p) = {1 / (1 - p):.4g}, so that the expected output "
                "equals x and nothing has to change at test time."
            )
        if p and np.allclose(got[kept], x[kept] * (1 - p)):
            raise Mismatch(
                f"{label}, training=True:\nyou multiplied the kept values by (1 - p); divide "
                "by (1 - p) instead: inverted dropout scales them up."
            )
        if not np.allclose(got[kept], x[kept] / (1 - p)):
            raise Mismatch(
                f"{label}, training=True:\nevery output must be 0 or x / (1 - p) = "
                f"x * {1 / (1 - p):.4g}; some of yours are neither."
            )
        if p and x.ndim > 1:
            rows = zero.reshape(x.shape[0], -1)
            if np.all(rows.all(axis=1) | (~rows).all(axis=1)):
                raise Mismatch(
                    f"{label}, training=True:\nyou drop whole rows: draw one mask value per "
                    "entry of x (rng.random(x.shape)), not one per example."
                )
        if p and abs(frac - (1 - p)) < tolerance and abs(p - 0.5) > 0.01:
            raise Mismatch(
                f"{label}, training=True:\nyou zeroed {frac:.3f} of the values, about 1 - p: "
                "p is the probability of dropping a value, not of keeping it."
            )
        if abs(frac - p) > tolerance:
            raise Mismatch(
                f"{label}, training=True:\nyou zeroed a fraction {frac:.4f} of the values; "
                f"expected about p = {p} (each value independently, with probability p)."
            )
    return f"{count} cases: identity in evaluation mode; while training, a fraction p zeroed " \
        "and the rest scaled by 1 / (1 - p)."  # fmt: skip


# ------------------------------------------------------------ 12.4 and 12.5 fine-tuning


def _networks(case_seeds: list[tuple[int, int]]):
    """Fresh ``SmallCNN(classes, in_channels)`` networks, seeded."""
    import torch

    from ..models.small import SmallCNN

    for classes, channels in case_seeds:
        torch.manual_seed(seed(1600 + classes))
        yield (classes, channels), SmallCNN(classes, channels)


def _names(model) -> dict[int, str]:
    return {id(p): name for name, p in model.named_parameters()}


def _param_list(value, model, label: str, what: str) -> list:
    """``value`` as a list of parameters of ``model``, or a Mismatch."""
    import torch

    items = as_items(value) if not isinstance(value, torch.Tensor) else None
    if items is None and hasattr(value, "__iter__") and not isinstance(value, (str, dict)):
        items = list(value)
    if items is None:
        raise Mismatch(f"{label}:\n{what} should be a list of parameters, got "
                       f"{type(value).__name__}.")  # fmt: skip
    names = _names(model)
    for item in items:
        if not isinstance(item, torch.nn.Parameter) or id(item) not in names:
            raise Mismatch(
                f"{label}:\n{what} holds a {type(item).__name__} that is not a parameter of "
                "the model: return the model's own parameters (e.g. model.head.parameters()), "
                "not copies or tensors."
            )
    return items


@checker("12.4", "freeze_for_probe", forbid=("helpers.practice.freeze_for_probe",))
def freeze_for_probe(student_fn) -> str:
    """Check ``student_fn(model)``: freeze all but ``model.head``; return the head's params."""
    cases = [(10, 1), (5, 3)]
    hidden = [(7, 2)]
    count = 0
    for heading, ((classes, channels), model) in numbered_cases(
        _networks(cases), hidden=list(_networks(hidden))
    ):
        count += 1
        label = f"{heading} (SmallCNN(classes={classes}, in_channels={channels}))"
        if count > 1:  # a model where some parameters were frozen before
            model.head.weight.requires_grad_(False)
        got = call(student_fn, model, case=label)
        trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
        head = ["head.bias", "head.weight"]
        if trainable != head:
            extra = [n for n in trainable if n not in head]
            missing = [n for n in head if n not in trainable]
            if extra and len(extra) == len(list(model.parameters())) - 2:
                hint = "nothing is frozen: set requires_grad = False on block1, block2 and block3."
            elif missing and not extra:
                hint = ("the head is frozen too: the linear probe trains the head, so it keeps "
                        "requires_grad = True (set it back to True if it was off).")  # fmt: skip
            else:
                hint = f"still trainable: {extra}; frozen by mistake: {missing}."
            if got is None:
                hint += " And you returned None: did you forget the `return` statement?"
            raise Mismatch(
                f"{label}:\nafter your function the trainable parameters are {trainable}; "
                f"expected only {head}.\nHint: {hint}"
            )
        if got is None:
            raise Mismatch(
                f"{label}:\nthe freezing is right, but you returned None. Did you forget "
                "`return list(model.head.parameters())`? (The optimizer needs them.)"
            )
        params = _param_list(got, model, label, "what you returned")
        names = sorted(_names(model)[id(p)] for p in params)
        if names != head:
            raise Mismatch(
                f"{label}:\nyou returned the parameters {names}; expected the head's, {head}: "
                "the optimizer of a linear probe gets only what is trained."
            )
    return f"{count} networks: only head.weight and head.bias train, and they are returned."


def _as_groups(got, model, label: str) -> list[tuple[float, list]]:
    if got is None:
        raise Mismatch(f"{label}:\nyou returned None. Did you forget `return groups`?")
    if isinstance(got, dict):
        got = [got]
    if not isinstance(got, (list, tuple)) or not got:
        raise Mismatch(f"{label}:\nexpected a list of dicts {{'params': [...], 'lr': ...}}, got "
                       f"{type(got).__name__}.")  # fmt: skip
    groups = []
    for number, group in enumerate(got, start=1):
        if not isinstance(group, dict) or "params" not in group:
            raise Mismatch(
                f"{label}:\ngroup {number} is a {type(group).__name__}; each group is a dict "
                "with the keys 'params' (a list of parameters) and 'lr'."
            )
        if "lr" not in group:
            raise Mismatch(
                f"{label}:\ngroup {number} has no 'lr': give every group its learning rate."
            )
        lr = plain_number(group["lr"])
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            raise Mismatch(
                f"{label}:\nthe 'lr' of group {number} is {group['lr']!r}, not a number."
            )
        params = _param_list(group["params"], model, label, f"the 'params' of group {number}")
        groups.append((float(lr), params))
    return groups


@checker("12.5", "param_groups", forbid=("helpers.practice.param_groups",))
def param_groups(student_fn) -> str:
    """Check ``student_fn(model, lr)``: block1, block2 at lr / 10; block3, head at lr; all
    parameters trainable, each in exactly one group."""
    import torch

    cases = [((10, 1), 1e-3), ((5, 3), 0.02)]
    hidden = [((7, 2), 3e-4)]
    lrs = dict(cases + hidden)
    count = 0
    for heading, ((classes, channels), model) in numbered_cases(
        _networks([c for c, _ in cases]), hidden=list(_networks([c for c, _ in hidden]))
    ):
        count += 1
        lr = lrs[(classes, channels)]
        label = f"{heading} (SmallCNN(classes={classes}, in_channels={channels}), lr={lr})"
        for name, parameter in model.named_parameters():  # as after a linear probe
            parameter.requires_grad_(name.startswith("head"))
        groups = _as_groups(call(student_fn, model, lr, case=label), model, label)
        names = _names(model)
        given: dict[str, list[float]] = {}
        for group_lr, params in groups:
            for p in params:
                given.setdefault(names[id(p)], []).append(group_lr)
        twice = sorted(n for n, v in given.items() if len(v) > 1)
        if twice:
            raise Mismatch(f"{label}:\n{twice[:3]} appear in more than one group; torch.optim "
                           "refuses that: put each parameter in exactly one group.")  # fmt: skip
        missing = sorted(set(names.values()) - set(given))
        if missing:
            raise Mismatch(
                f"{label}:\nthe parameters {missing[:4]}{' ...' if len(missing) > 4 else ''} "
                "are in no group, so the optimizer would never update them."
            )
        frozen = sorted(n for n, p in model.named_parameters() if not p.requires_grad)
        if frozen:
            raise Mismatch(
                f"{label}:\n{frozen[:3]}{' ...' if len(frozen) > 3 else ''} still have "
                "requires_grad = False (the model comes from a linear probe): fine-tuning "
                "trains every layer, so set requires_grad = True on all parameters."
            )
        expected = {
            n: lr / 10 if n.startswith(("block1.", "block2.")) else lr for n in names.values()
        }
        wrong = sorted(n for n in expected if not math.isclose(given[n][0], expected[n]))
        if wrong:
            early = [given[n][0] for n in expected if n.startswith("block1.")]
            hint = "block1 and block2 (the early, generic layers) get lr / 10; block3 and the "
            hint += "head get lr."
            if (
                early
                and math.isclose(early[0], lr)
                and math.isclose(given["head.weight"][0], lr / 10)
            ):
                hint = "the rates are swapped: " + hint
            raise Mismatch(
                f"{label}:\n{len(wrong)} parameters get the wrong learning rate, e.g. "
                f"{wrong[0]}: {given[wrong[0]][0]:g}, expected {expected[wrong[0]]:g}.\n"
                f"Hint: {hint}"
            )
        torch.optim.SGD([{"params": p, "lr": g} for g, p in groups], lr=lr)  # valid groups
    return (
        f"{count} networks: every parameter trainable, in one group; block1 and block2 at "
        "lr / 10, block3 and the head at lr."
    )
