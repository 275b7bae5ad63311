"""Checkers of notebook 05: the reference answers pass; typical mistakes get a specific verdict."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_contract import (
    contract_tests,
    crashes,
    grading_tests,
    returns_none,
    together,
    transposed,
)

from helpers import check
from helpers.norm import batch_norm, group_norm


def bcast(v, ndim=4):
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def normalize(x, axes, eps, ddof=0):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True, ddof=ddof) + eps)


# ------------------------------------------------------------------ 5.1 batch_norm_train


def bn_train(x, gamma, beta, eps=1e-5):
    return batch_norm(x, gamma, beta, eps)


def bn_with(axes=(0, 2, 3), ddof=0, eps_outside=False):
    def answer(x, gamma, beta, eps=1e-5):
        mean = x.mean(axis=axes, keepdims=True)
        std = x.std(axis=axes, keepdims=True, ddof=ddof)
        x_hat = (x - mean) / (std + eps) if eps_outside else (x - mean) / np.sqrt(std**2 + eps)
        return bcast(gamma) * x_hat + bcast(beta)

    return answer


# ------------------------------------------------------------------ 5.2 batch_norm_step


def bn_step(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if training:
        m = x.size // x.shape[1]
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        out = batch_norm(x, gamma, beta, eps)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
        return out, running_mean, running_var
    x_hat = (x - bcast(running_mean)) / np.sqrt(bcast(running_var) + eps)
    return bcast(gamma) * x_hat + bcast(beta), running_mean, running_var


def bn_step_inverted(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    return bn_step(x, gamma, beta, rm, rv, training, 1 - momentum, eps)


def bn_step_biased(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    out, mean, _ = bn_step(x, gamma, beta, rm, rv, training, momentum, eps)
    if training:
        rv = (1 - momentum) * rv + momentum * x.var(axis=(0, 2, 3))
    return out, mean, rv


def bn_step_eval_uses_batch(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    out, mean, var = bn_step(x, gamma, beta, rm, rv, training, momentum, eps)
    if not training:
        out = batch_norm(x, gamma, beta, eps)
    return out, mean, var


def bn_step_eval_updates(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    out, _, _ = bn_step(x, gamma, beta, rm, rv, training, momentum, eps)
    _, mean, var = bn_step(x, gamma, beta, rm, rv, True, momentum, eps)
    return out, mean, var


def bn_step_train_uses_running(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    _, mean, var = bn_step(x, gamma, beta, rm, rv, training, momentum, eps)
    out, _, _ = bn_step(x, gamma, beta, rm, rv, False, momentum, eps)
    return out, mean, var


def bn_step_no_update(x, gamma, beta, rm, rv, training, momentum=0.1, eps=1e-5):
    return bn_step(x, gamma, beta, rm, rv, training, momentum, eps)[0], rm, rv


# ------------------------------------------------------------------ 5.3 fold_bn


def fold(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    b = np.zeros(len(w)) if b is None else b
    return w * scale[:, None, None, None], scale * (b - running_mean) + beta


def fold_variant(w_scale=None, bias=None):
    def answer(w, b, gamma, beta, mean, var, eps=1e-5):
        right_w, right_b = fold(w, b, gamma, beta, mean, var, eps)
        scale = gamma / np.sqrt(var + eps)
        b0 = np.zeros(len(w)) if b is None else b
        new_w = right_w if w_scale is None else w * w_scale(gamma, var, eps)[:, None, None, None]
        new_b = right_b if bias is None else bias(b0, scale, gamma, beta, mean)
        return new_w, new_b

    return answer


def fold_needs_bias(w, b, gamma, beta, mean, var, eps=1e-5):
    scale = gamma / np.sqrt(var + eps)
    return w * scale[:, None, None, None], scale * (b - mean) + beta  # TypeError when b is None


# ------------------------------------------------------------------ 5.4 group_norm_forward


def gn(x, num_groups, gamma, beta, eps=1e-5):
    return group_norm(x, num_groups, gamma, beta, eps)


def gn_by_hand(x, num_groups, gamma, beta, eps=1e-5):
    """The notebook's answer: one row of the (N, G, -1) view per group."""
    v = x.reshape(x.shape[0], num_groups, -1)
    x_hat = normalize(v, (2,), eps).reshape(x.shape)
    return bcast(gamma, x.ndim) * x_hat + bcast(beta, x.ndim)


def gn_strided(x, num_groups, gamma, beta, eps=1e-5):
    n, c = x.shape[:2]
    v = x.reshape(n, c // num_groups, num_groups, -1)
    return bcast(gamma, x.ndim) * normalize(v, (1, 3), eps).reshape(x.shape) + bcast(beta, x.ndim)


def gn_over_batch(x, num_groups, gamma, beta, eps=1e-5):
    v = x.reshape(x.shape[0], num_groups, -1)
    return bcast(gamma, x.ndim) * normalize(v, (0, 2), eps).reshape(x.shape) + bcast(beta, x.ndim)


def gn_no_reshape_back(x, num_groups, gamma, beta, eps=1e-5):
    return gn(x, num_groups, gamma, beta, eps).reshape(x.shape[0], num_groups, -1)


def gn_unbiased(x, num_groups, gamma, beta, eps=1e-5):
    v = x.reshape(x.shape[0], num_groups, -1)
    x_hat = normalize(v, (2,), eps, ddof=1).reshape(x.shape)
    return bcast(gamma, x.ndim) * x_hat + bcast(beta, x.ndim)


# ------------------------------------------------------------------ 5.5 ln_in_from_gn


def ln(x, gamma, beta):
    return group_norm(x, 1, gamma, beta)


def inorm(x, gamma, beta):
    return group_norm(x, x.shape[1], gamma, beta)


# checker -> (reference answer, {mistake: (wrong answer, words the verdict must contain)})
# check.ln_in_from_gn takes two functions: its answers are together(...), and it lists its own
# generic mistakes (COMMON is for checkers of one function).
CASES = {
    check.batch_norm_train: (
        bn_train,
        {
            "per position (FC rule)": (bn_with(axes=(0,)), ["wrong axes", "axis=(0, 2, 3)"]),
            "layer norm": (bn_with(axes=(1, 2, 3)), ["layer norm"]),
            "instance norm": (bn_with(axes=(2, 3)), ["instance norm"]),
            "whole tensor": (bn_with(axes=(0, 1, 2, 3)), ["whole tensor"]),
            "unbiased": (bn_with(ddof=1), ["unbiased", "biased"]),
            "eps outside": (bn_with(eps_outside=True), ["inside the square root"]),
            "no eps": (lambda x, g, b, eps=1e-5: bn_train(x, g, b, 0.0), ["forgot eps"]),
            "no affine": (lambda x, g, b, eps=1e-5: batch_norm(x, None, None, eps), ["gamma"]),
            "swapped": (lambda x, g, b, eps=1e-5: bn_train(x, b, g, eps), ["swapped"]),
            "returns the means": (
                lambda x, g, b, eps=1e-5: x.mean(axis=(0, 2, 3)),
                ["not the means"],
            ),
            "channels last": (
                lambda x, g, b, eps=1e-5: bn_train(x, g, b, eps).transpose(0, 2, 3, 1),
                ["has shape", "wrong layout"],
            ),
            "off by a constant": (
                lambda x, g, b, eps=1e-5: bn_train(x, g, b, eps) + 0.01,
                ["values are wrong", "expected"],
            ),
        },
    ),
    check.batch_norm_step: (
        bn_step,
        {
            "inverted momentum": (bn_step_inverted, ["*new* batch statistic"]),
            "biased running var": (bn_step_biased, ["*unbiased*"]),
            "eval uses batch stats": (bn_step_eval_uses_batch, ["evaluation mode normalize"]),
            "eval updates running stats": (bn_step_eval_updates, ["must not change"]),
            "train uses running stats": (bn_step_train_uses_running, ["training mode normalize"]),
            "no update": (bn_step_no_update, ["must be updated"]),
            "only out": (lambda *args: bn_step(*args)[0], ["expected a tuple", "ndarray"]),
            "two items": (lambda *args: bn_step(*args)[:2], ["tuple of 2 items"]),
            "transposed out": (
                lambda *args: (bn_step(*args)[0].transpose(1, 0, 2, 3), *bn_step(*args)[1:]),
                ["out has shape"],
            ),
        },
    ),
    check.fold_bn: (
        fold,
        {
            "variance not std": (
                fold_variant(w_scale=lambda g, v, e: g / (v + e)),
                ["not the variance"],
            ),
            "no eps": (fold_variant(w_scale=lambda g, v, e: g / np.sqrt(v)), ["forgot eps"]),
            "only gamma": (fold_variant(w_scale=lambda g, v, e: g), ["divided by sqrt"]),
            "forgot beta": (fold_variant(bias=lambda b, s, g, beta, m: s * (b - m)), ["beta"]),
            "forgot the mean": (
                fold_variant(bias=lambda b, s, g, beta, m: s * b + beta),
                ["subtract the running mean"],
            ),
            "forgot conv bias": (
                fold_variant(bias=lambda b, s, g, beta, m: beta - s * m),
                ["forgot the conv bias"],
            ),
            "unscaled conv bias": (
                fold_variant(bias=lambda b, s, g, beta, m: b - s * m + beta),
                ["scaled"],
            ),
            "b=None not handled": (fold_needs_bias, ["b=None", "raised TypeError"]),
            "input axis": (
                lambda w, b, g, beta, m, v, eps=1e-5: (
                    w * (g / np.sqrt(v + eps))[None, :, None, None],
                    fold(w, b, g, beta, m, v, eps)[1],
                ),
                ["axis 0", "scale[:, None, None, None]"],
            ),
            "returns the scale": (
                lambda w, b, g, beta, m, v, eps=1e-5: (g / np.sqrt(v + eps), beta),
                ["not the scale"],
            ),
            "one array": (lambda *args: fold(*args)[0], ["expected a tuple"]),
            "returns None": (returns_none, ["None"]),  # its verdict does not say `return`
        },
    ),
    check.group_norm_forward: (
        gn,
        {
            "strided groups": (gn_strided, ["*consecutive*"]),
            "over the batch": (gn_over_batch, ["averaged over the batch"]),
            "instance norm": (
                lambda x, G, g, b, eps=1e-5: group_norm(x, x.shape[1], g, b, eps),
                ["instance norm"],
            ),
            "layer norm": (
                lambda x, G, g, b, eps=1e-5: group_norm(x, 1, g, b, eps),
                ["layer norm"],
            ),
            "unbiased": (gn_unbiased, ["unbiased"]),
            "no affine": (
                lambda x, G, g, b, eps=1e-5: group_norm(x, G, None, None, eps),
                ["gamma"],
            ),
            "not reshaped back": (gn_no_reshape_back, ["reshape", "back"]),
            "no eps": (lambda x, G, g, b, eps=1e-5: gn(x, G, g, b, 0.0), ["forgot eps"]),
        },
    ),
    check.ln_in_from_gn: (
        together(ln, inorm),
        {
            "swapped": (together(inorm, ln), ["ONE group"]),
            "instance swapped only": (together(ln, ln), ["instance_norm_fn", "C groups"]),
            "batch norm": (together(lambda x, g, b: batch_norm(x, g, b), inorm), ["batch norm"]),
            "transposed": (
                together(transposed(ln, 0, 1, 3, 2), inorm),
                ["shape"],
            ),
            "returns None": (together(returns_none, inorm), ["None"]),
            "raises": (together(ln, crashes), ["instance_norm_fn", "raised IndexError"]),
            "not a function": (together(ln, 42), ["Expected a function"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="5", says_where=False)  # batch_norm_step has "Step"s

# Grading mode forbids helpers.norm.batch_norm in 5.1 and helpers.norm.group_norm in 5.4:
# there the references that call them give way to answers written by hand.
GRADED = {
    **CASES,
    check.batch_norm_train: (bn_with(), CASES[check.batch_norm_train][1]),
    check.group_norm_forward: (gn_by_hand, CASES[check.group_norm_forward][1]),
}

globals().update(grading_tests(GRADED))


def test_hand_written_references_pass_in_student_mode_too():
    assert check.batch_norm_train.verdict(bn_with()).passed
    assert check.group_norm_forward.verdict(gn_by_hand).passed


@pytest.mark.parametrize(
    "checker, shortcut",
    [
        (check.batch_norm_train, lambda x, g, b, eps=1e-5: batch_norm(x, g, b, eps)),
        (check.group_norm_forward, lambda x, G, g, b, eps=1e-5: group_norm(x, G, g, b, eps)),
        (
            check.batch_norm_step,
            lambda x, g, b, rm, rv, training, momentum=0.1, eps=1e-5: (
                F.batch_norm(
                    *(torch.from_numpy(a) for a in (x, rm, rv, g, b)), training, momentum, eps
                ).numpy(),
                rm,
                rv,
            ),
        ),
    ],
)
def test_grading_refuses_the_library_norms(checker, shortcut):
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        checker.grade(shortcut)


def test_answers_that_modify_their_input_in_place_still_pass():
    def in_place(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        out, mean, var = bn_step(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        running_mean[...] = mean  # the style of a layer that owns its buffers
        running_var[...] = var
        x[...] = 0
        return out, running_mean, running_var

    assert check.batch_norm_step.verdict(in_place).passed


def test_torch_tensors_are_accepted():
    import torch

    def torch_fold(w, b, gamma, beta, mean, var, eps=1e-5):
        w_f, b_f = fold(w, b, gamma, beta, mean, var, eps)
        return torch.from_numpy(w_f), torch.from_numpy(b_f)

    assert check.fold_bn.verdict(torch_fold).passed
