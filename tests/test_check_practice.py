"""Checkers of notebook 12: the reference answers pass; typical mistakes get a specific verdict."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from checker_contract import contract_tests, grading_tests

from helpers import check, practice

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ 12.1 kaiming_normal


def kaiming_with(std_of):
    """An answer drawing N(0, std_of(shape)^2) from the rng."""

    def answer(shape, rng):
        return rng.normal(0.0, std_of(tuple(shape)), size=shape)

    return answer


def fans(shape):
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def kaiming_torch(shape, rng):
    """Another right answer: a float32 tensor, through torch's own generator seeded from rng."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    std = math.sqrt(2 / fans(shape)[0])
    return torch.randn(shape, generator=generator) * std


def kaiming_global(shape, rng):
    return np.random.default_rng().standard_normal(shape) * math.sqrt(2 / fans(shape)[0])


def kaiming_uniform(shape, rng):
    bound = math.sqrt(6 / fans(shape)[0])  # the right std, the wrong distribution: accepted
    return rng.uniform(-bound, bound, size=shape)


def kaiming_flat(shape, rng):
    return rng.standard_normal(math.prod(shape)) * math.sqrt(2 / fans(shape)[0])


def kaiming(shape, rng):
    return rng.standard_normal(shape) * math.sqrt(2 / fans(shape)[0])


KAIMING = (
    kaiming,
    {
        "another right answer (torch)": (kaiming_torch, ["passed"]),
        "fan_out": (kaiming_with(lambda s: math.sqrt(2 / fans(s)[1])), ["fan_out"]),
        "variance": (kaiming_with(lambda s: 2 / fans(s)[0]), ["variance", "square root"]),
        "LeCun": (kaiming_with(lambda s: math.sqrt(1 / fans(s)[0])), ["ReLU", "sqrt(2 / fan_in)"]),
        "Xavier": (kaiming_with(lambda s: math.sqrt(2 / sum(fans(s)))), ["Xavier"]),
        "channels only": (kaiming_with(lambda s: math.sqrt(2 / s[1])), ["kernel"]),
        "std 1": (kaiming_with(lambda s: 1.0), ["standard deviation 1"]),
        "not from rng": (kaiming_global, ["same seed", "rng"]),
        "flat": (kaiming_flat, ["shape", "wrong layout"]),
        "offset": (lambda s, r: 0.5 + kaiming(s, r), ["mean"]),
    },
)


def test_a_uniform_kaiming_is_accepted_too():
    assert check.kaiming_normal.verdict(kaiming_uniform).passed


# ------------------------------------------------------------------ 12.2 random_crop


def crop_with(low=0, high_extra=1, mode="constant", same=False, fixed=None, channels_last=False):
    def answer(image, padding, rng):
        _, h, w = image.shape
        padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)), mode=mode)
        if fixed is not None:
            top = left = fixed(padding)
        else:
            top = int(rng.integers(low, 2 * padding + high_extra))
            left = top if same else int(rng.integers(low, 2 * padding + high_extra))
        crop = padded[:, top : top + h, left : left + w]
        return crop.transpose(1, 2, 0) if channels_last else crop

    return answer


def crop_torchvision(image, padding, rng):
    """Another right answer: torchvision's RandomCrop, seeded from rng."""
    from torchvision.transforms import v2

    torch.manual_seed(int(rng.integers(2**31)))
    return v2.RandomCrop(image.shape[1:], padding=padding)(torch.from_numpy(image)).numpy()


def crop_padded(image, padding, rng):
    return np.pad(image, ((0, 0), (padding, padding), (padding, padding)))


def crop_skewed(image, padding, rng):
    """Offsets from -padding..padding clipped to 0..2 padding: the edges come far too often."""
    _, h, w = image.shape
    padded = np.pad(image, ((0, 0), (padding, padding), (padding, padding)))
    top, left = np.clip(rng.integers(-padding, 3 * padding + 1, size=2), 0, 2 * padding)
    return padded[:, top : top + h, left : left + w]


CROP = (
    crop_with(),
    {
        "torchvision": (crop_torchvision, ["passed"]),
        "off by one": (crop_with(high_extra=0), ["never", "2 * padding inclusive"]),
        "always centre": (crop_with(fixed=lambda p: p), ["always at offset"]),
        "diagonal": (crop_with(same=True), ["diagonal"]),
        "edge padding": (crop_with(mode="edge"), ["border", "zeros"]),
        "no crop": (crop_padded, ["padded image"]),
        "channels last": (crop_with(channels_last=True), ["channel axis first"]),
        "not uniform": (crop_skewed, ["not uniform"]),
    },
)


# ------------------------------------------------------------------ 12.3 dropout_forward


def dropout_with(scale="inverted", keep_is_p=False, eval_scale=False, rows=False, drop_eval=False):
    def answer(x, p, training, rng):
        if not training:
            if drop_eval:
                return np.where(rng.random(x.shape) >= p, x, 0.0)
            return x * (1 - p) if eval_scale else x
        u = rng.random(x.shape[:1] + (1,) * (x.ndim - 1)) if rows else rng.random(x.shape)
        keep = (u < p) if keep_is_p else (u >= p)
        kept = {"inverted": x / (1 - p), "none": x, "times": x * (1 - p)}[scale]
        return np.where(keep, kept, 0.0)

    return answer


def dropout_torch(x, p, training, rng):
    """Another right answer: torch's dropout, seeded from rng (a tensor back)."""
    torch.manual_seed(int(rng.integers(2**31)))
    return torch.nn.functional.dropout(torch.from_numpy(x), p, training)


DROPOUT = (
    dropout_with(),
    {
        "torch": (dropout_torch, ["passed"]),
        "no rescale": (dropout_with(scale="none"), ["unchanged", "1 / (1 - p)"]),
        "times (1 - p)": (dropout_with(scale="times"), ["multiplied", "divide"]),
        "keep with p": (dropout_with(keep_is_p=True), ["probability of dropping"]),
        "scaled at test": (dropout_with(eval_scale=True), ["non-inverted"]),
        "dropped at test": (dropout_with(drop_eval=True), ["evaluation mode"]),
        "whole rows": (dropout_with(rows=True), ["whole rows"]),
    },
)


# ---------------------------------------------------------- 12.4 and 12.5 fine-tuning


def freeze(model):
    for p in model.parameters():
        p.requires_grad_(False)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return list(model.head.parameters())


def freeze_all(model):
    for p in model.parameters():
        p.requires_grad_(False)
    return list(model.head.parameters())


def freeze_returns_all(model):
    freeze(model)
    return list(model.parameters())


def freeze_no_return(model):
    freeze(model)


def freeze_only_first_block(model):
    for p in model.block1.parameters():
        p.requires_grad_(False)
    return list(model.head.parameters())


def freeze_copies(model):
    freeze(model)
    return [p.detach().clone() for p in model.head.parameters()]


def freeze_generator(model):
    """Another right answer: a generator of parameters, requires_grad set by name."""
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("head.")
    return model.head.parameters()


FREEZE = (
    freeze,
    {
        "generator": (freeze_generator, ["passed"]),
        "nothing frozen": (lambda model: list(model.head.parameters()), ["nothing is frozen"]),
        "head frozen": (freeze_all, ["head is frozen"]),
        "returns everything": (freeze_returns_all, ["you returned the parameters"]),
        "no return": (freeze_no_return, ["None", "return"]),
        "one block": (freeze_only_first_block, ["still trainable"]),
        "copies": (freeze_copies, ["not a parameter of the model"]),
    },
)


def groups(model, lr, early=("block1", "block2")):
    slow, fast = [], []
    for name, p in model.named_parameters():
        p.requires_grad_(True)
        (slow if name.split(".")[0] in early else fast).append(p)
    return [{"params": slow, "lr": lr / 10}, {"params": fast, "lr": lr}]


def groups_swapped(model, lr):
    found = groups(model, lr)
    return [
        {"params": found[0]["params"], "lr": lr},
        {"params": found[1]["params"], "lr": lr / 10},
    ]


def groups_still_frozen(model, lr):
    early = [p for n, p in model.named_parameters() if n.startswith(("block1", "block2"))]
    late = [p for n, p in model.named_parameters() if not n.startswith(("block1", "block2"))]
    return [{"params": early, "lr": lr / 10}, {"params": late, "lr": lr}]


def groups_no_head(model, lr):
    found = groups(model, lr)
    head = {id(p) for p in model.head.parameters()}
    found[1]["params"] = [p for p in found[1]["params"] if id(p) not in head]
    return found


def groups_twice(model, lr):
    found = groups(model, lr)
    return [found[0], {"params": list(model.parameters()), "lr": lr}]


def groups_without_lr(model, lr):
    found = groups(model, lr)
    del found[1]["lr"]
    return found


def groups_per_block(model, lr):
    """Another right answer: one group per block, the rates as asked."""
    out = []
    for name, child in model.named_children():
        for p in child.parameters():
            p.requires_grad_(True)
        out.append(
            {"params": child.parameters(), "lr": lr / 10 if name in ("block1", "block2") else lr}
        )
    return out


GROUPS = (
    groups,
    {
        "per block": (groups_per_block, ["passed"]),
        "swapped": (groups_swapped, ["swapped"]),
        "still frozen": (groups_still_frozen, ["requires_grad = False"]),
        "block2 fast": (
            lambda model, lr: groups(model, lr, early=("block1",)),
            ["wrong learning rate", "block2"],
        ),
        "no head": (groups_no_head, ["in no group"]),
        "twice": (groups_twice, ["more than one group"]),
        "no lr": (groups_without_lr, ["no 'lr'"]),
        "returns None": (lambda model, lr: None, ["None", "return"]),
    },
)


CASES = {
    check.kaiming_normal: KAIMING,
    check.random_crop: CROP,
    check.dropout_forward: DROPOUT,
    check.freeze_for_probe: FREEZE,
    check.param_groups: GROUPS,
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="12")

# freeze_for_probe's only argument is a network, recorded by its class name alone
globals().update(grading_tests(CASES, unrecorded=(check.freeze_for_probe,)))


def test_grading_freezes_a_network_the_student_never_saw():
    seen, graded = [], []

    def recording(log):
        def answer(model):
            log.append(repr(model))
            return freeze(model)

        return answer

    check.freeze_for_probe.verdict(recording(seen))
    check.freeze_for_probe.grade(recording(graded))
    assert set(graded) - set(seen)


@pytest.mark.parametrize(
    "checker, reference",
    [
        (check.kaiming_normal, practice.kaiming_normal),
        (check.random_crop, practice.random_crop),
        (check.dropout_forward, practice.dropout),
        (check.freeze_for_probe, practice.freeze_for_probe),
        (check.param_groups, practice.param_groups),
    ],
)
def test_the_course_references_pass_in_student_mode(checker, reference):
    assert checker.verdict(reference).passed


def test_the_checkers_are_listed():
    for name in ("kaiming_normal", "random_crop", "dropout_forward", "freeze_for_probe"):
        assert name in check.__all__
    assert "param_groups" in check.__all__
