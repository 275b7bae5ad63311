"""Checkers for notebook 05 (normalization). Answers are compared with PyTorch.

Each checker also recognises the typical mistakes (statistics over the wrong axes, the
unbiased variance, eps in the wrong place, the inverted momentum convention, ...) and says
which one it sees.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .arrays import compare, describe, to_numpy
from .core import Mismatch, answer, call, case_count, checker, numbered_cases
from .grading import rng

__all__ = ["batch_norm_step", "batch_norm_train", "fold_bn", "group_norm_forward", "ln_in_from_gn"]

_T = torch.from_numpy


def _bcast(v: np.ndarray, ndim: int) -> np.ndarray:
    """A per-channel vector (C,) shaped to broadcast against (N, C, *spatial)."""
    return np.asarray(v).reshape((1, -1) + (1,) * (ndim - 2))


def _normalized(x, axes, eps, *, ddof=0, eps_outside=False, no_eps=False):
    """Typical ways of normalizing x over ``axes``, right and wrong (the keyword arguments)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    if no_eps:
        return (x - mean) / np.sqrt(var)
    if eps_outside:
        return (x - mean) / (np.sqrt(var) + eps)
    return (x - mean) / np.sqrt(var + eps)


def _norm_mistakes(x, gamma, beta, eps, right_axes, wrong_axes):
    """(array, hint) pairs for the mistakes shared by every normalization exercise."""
    g, b = _bcast(gamma, x.ndim), _bcast(beta, x.ndim)
    mistakes = [
        (
            g * _normalized(x, axes, eps) + b,
            f"you normalized over the wrong axes: that is {name}. {advice}",
        )
        for axes, name, advice in wrong_axes
    ]
    mistakes += [
        (
            g * _normalized(x, right_axes, eps, ddof=1) + b,
            "you used the unbiased variance (divide by M - 1). Normalization uses the "
            "biased one: the mean of the squared deviations (np.var with the default ddof=0).",
        ),
        (
            g * _normalized(x, right_axes, eps, eps_outside=True) + b,
            "eps goes inside the square root: (x - mean) / sqrt(var + eps).",
        ),
        (
            g * _normalized(x, right_axes, eps, no_eps=True) + b,
            "you forgot eps: divide by sqrt(var + eps), not sqrt(var).",
        ),
        (_normalized(x, right_axes, eps), "you forgot the scale gamma and the shift beta."),
        (
            b * _normalized(x, right_axes, eps) + g,
            "gamma and beta are swapped: y = gamma * x_hat + beta.",
        ),
    ]
    return mistakes


_BATCH_NORM = ("torch.nn.functional.batch_norm", "torch.batch_norm")
"""PyTorch's batch norm: it normalizes (and updates running statistics) for the student."""


@checker("5.1", "batch_norm_train", forbid=("helpers.norm.batch_norm", *_BATCH_NORM))
def batch_norm_train(student_fn) -> str:
    """Check ``student_fn(x, gamma, beta, eps)``: training-mode BN of x (N, C, H, W)."""
    random = rng(51)
    shapes = [(4, 3, 5, 5), (2, 5, 3, 4), (8, 2, 1, 1), (1, 4, 6, 3), (3, 6, 4, 7)]
    epsilons = [1e-5, 0.1, 1e-3, 1e-5, 0.5]
    hidden = [((6, 1, 4, 4), 1e-4), ((2, 7, 3, 9), 0.05)]  # one channel; odd sizes
    wrong_axes = [
        (
            (0,),
            "batch norm for fully connected layers, one mean per (c, h, w)",
            "In a conv net a channel is one feature wherever it occurs: average over N, H "
            "and W together (axis=(0, 2, 3)).",
        ),
        (
            (1, 2, 3),
            "layer norm (one mean per sample)",
            "Batch norm averages over the batch: axis=(0, 2, 3).",
        ),
        (
            (2, 3),
            "instance norm (one mean per sample and channel)",
            "Batch norm averages over the batch too: axis=(0, 2, 3).",
        ),
        (
            (0, 1, 2, 3),
            "one mean for the whole tensor",
            "Each channel gets its own statistics: axis=(0, 2, 3).",
        ),
    ]
    count = 0
    for heading, (shape, eps) in numbered_cases(zip(shapes, epsilons, strict=True), hidden):
        count += 1
        c = shape[1]
        x = random.uniform(-3, 3, (1, c, 1, 1)) + random.uniform(0.5, 4, (1, c, 1, 1)) * (
            random.standard_normal(shape)
        )
        gamma, beta = random.standard_normal(c), random.standard_normal(c)
        label = f"{heading} ({describe(x=x, gamma=gamma, beta=beta, eps=eps)})"
        expected = F.batch_norm(
            _T(x), None, None, _T(gamma), _T(beta), training=True, eps=eps
        ).numpy()
        mistakes = _norm_mistakes(x, gamma, beta, eps, (0, 2, 3), wrong_axes)
        compare(
            call(student_fn, x, gamma, beta, eps, case=label),
            expected,
            case=label,
            shape_hints=[
                ((c,), "return the normalized tensor y (the shape of x), not the means."),
                ((1, c, 1, 1), "return the normalized tensor y (the shape of x), not the means."),
            ],
            known_mistakes=mistakes,
        )
    return f"{count} cases match torch.nn.functional.batch_norm(training=True)."


def _as_step_result(got, case: str, c: int):
    """``(out, running_mean, running_var)`` from the triple that :func:`answer` returned."""
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        found = type(got).__name__
        if isinstance(got, (tuple, list)):
            found = f"a {type(got).__name__} of {len(got)} items"
        raise Mismatch(f"{case}:\nexpected a tuple (out, running_mean, running_var), got {found}.")
    out, mean, var = got
    return (
        out,
        to_numpy(mean, case=case, name="the running_mean you returned"),
        to_numpy(var, case=case, name="the running_var you returned"),
    )


# helpers.norm.batch_norm is allowed here (the exercise suggests it); helpers.norm.BatchNorm
# and PyTorch's batch norm would keep the running statistics for the student.
@checker("5.2", "batch_norm_step", forbid=("helpers.norm.BatchNorm", *_BATCH_NORM))
def batch_norm_step(student_fn) -> str:
    """Check ``student_fn(x, gamma, beta, running_mean, running_var, training, momentum, eps)
    -> (out, new_running_mean, new_running_var)`` over a few training steps and then eval."""
    random = rng(52)
    steps = 0
    runs = [(0.1, 1e-5, (4, 3, 5, 5)), (0.3, 1e-2, (2, 2, 3, 4))]
    hidden = [(0.5, 1e-3, (3, 5, 2, 3)), (0.05, 0.1, (1, 1, 4, 2))]  # odd sizes, N = C = 1
    for heading, (momentum, eps, shape) in numbered_cases(runs, hidden=hidden):
        c = shape[1]
        gamma, beta = random.standard_normal(c), random.standard_normal(c)
        running_mean, running_var = np.zeros(c), np.ones(c)
        offset, scale = random.uniform(-3, 3, (1, c, 1, 1)), random.uniform(0.5, 4, (1, c, 1, 1))
        for training in (True, True, True, False, False):
            steps += 1
            x = offset + scale * random.standard_normal(shape)
            mode = ("hidden, " if heading.number > len(runs) else "") + (
                "training" if training else "evaluation"
            )
            label = (
                f"Step {steps} ({mode} mode, momentum={momentum}, eps={eps}, "
                f"{describe(x=x)}, C={c})"
            )
            new_mean, new_var = torch.tensor(running_mean), torch.tensor(running_var)
            expected = F.batch_norm(
                _T(x), new_mean, new_var, _T(gamma), _T(beta), training, momentum, eps
            ).numpy()
            new_mean, new_var = new_mean.numpy(), new_var.numpy()
            got = answer(
                student_fn,
                x,
                gamma,
                beta,
                running_mean,
                running_var,
                training,
                momentum,
                eps,
                case=label,
            )
            out, got_mean, got_var = _as_step_result(got, label, c)
            mean_b = x.mean(axis=(0, 2, 3))
            var_b = x.var(axis=(0, 2, 3))
            var_u = x.var(axis=(0, 2, 3), ddof=1)
            g, b = _bcast(gamma, 4), _bcast(beta, 4)
            with_batch = g * _normalized(x, (0, 2, 3), eps) + b
            with_running = (
                g * (x - _bcast(running_mean, 4)) / np.sqrt(_bcast(running_var, 4) + eps) + b
            )
            if training:
                out_mistakes = [
                    (
                        with_running,
                        "in training mode normalize with the statistics of the batch, not the "
                        "running ones.",
                    )
                ]
            else:
                out_mistakes = [
                    (
                        with_batch,
                        "in evaluation mode normalize with running_mean and running_var, not "
                        "with the statistics of the batch.",
                    )
                ]
            compare(out, expected, case=label, name="out", known_mistakes=out_mistakes)
            if training:
                inverted = (
                    "PyTorch's momentum is the weight of the *new* batch statistic: "
                    "running = (1 - momentum) * running + momentum * batch."
                )
                mean_mistakes = [
                    (momentum * running_mean + (1 - momentum) * mean_b, inverted),
                    (running_mean, "in training mode the running mean must be updated."),
                    (mean_b, "blend the batch mean into the running mean with momentum."),
                ]
                var_mistakes = [
                    (
                        (1 - momentum) * running_var + momentum * var_b,
                        "the running variance averages the *unbiased* batch variance "
                        "(divide by M - 1, M = N * H * W), although x is normalized with the "
                        "biased one.",
                    ),
                    (momentum * running_var + (1 - momentum) * var_u, inverted),
                    (running_var, "in training mode the running variance must be updated."),
                ]
            else:
                frozen = "evaluation mode must not change the running statistics."
                mean_mistakes = [((1 - momentum) * running_mean + momentum * mean_b, frozen)]
                var_mistakes = [((1 - momentum) * running_var + momentum * var_u, frozen)]
            compare(
                got_mean,
                new_mean,
                case=label,
                name="the running_mean you returned",
                known_mistakes=mean_mistakes,
            )
            compare(
                got_var,
                new_var,
                case=label,
                name="the running_var you returned",
                known_mistakes=var_mistakes,
            )
            running_mean, running_var = new_mean, new_var  # continue from the right values
    return (
        f"{steps} steps (training, then evaluation) match torch.nn.functional.batch_norm, "
        "running statistics included."
    )


@checker(
    "5.3",
    "fold_bn",
    forbid=(
        "helpers.norm.fold_batch_norm",
        "torch.nn.utils.fusion.fuse_conv_bn_weights",
        "torch.nn.utils.fuse_conv_bn_weights",
    ),
)
def fold_bn(student_fn) -> str:
    """Check ``student_fn(w, b, gamma, beta, running_mean, running_var, eps) -> (w', b')``:
    ``conv2d(x, w', b') == bn_eval(conv2d(x, w, b))``; ``b`` may be None."""
    random = rng(53)
    configs = [
        (4, 4, 3, True, 1e-5),
        (2, 5, 1, True, 1e-3),
        (3, 2, 3, False, 1e-5),
        (6, 6, 5, True, 0.1),
        (1, 4, 2, False, 0.5),
    ]
    hidden = [(8, 1, 5, True, 1e-2), (5, 5, 3, False, 0.02)]
    count = 0
    for heading, (c_out, c_in, k, has_bias, eps) in numbered_cases(configs, hidden=hidden):
        count += 1
        w = random.standard_normal((c_out, c_in, k, k))
        b = random.standard_normal(c_out) if has_bias else None
        gamma, beta = random.standard_normal(c_out), random.standard_normal(c_out)
        mean, var = random.standard_normal(c_out), random.uniform(0.2, 3, c_out)
        bias_text = f"b.shape=({c_out},)" if has_bias else "b=None (conv without bias)"
        label = f"{heading} ({describe(w=w)}, {bias_text}, eps={eps})"
        got = answer(student_fn, w, b, gamma, beta, mean, var, eps, case=label)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            found = type(got).__name__
            raise Mismatch(f"{label}:\nexpected a tuple (w_folded, b_folded), got {found}.")
        w_got, b_got = got
        bias = np.zeros(c_out) if b is None else b
        scale = gamma / np.sqrt(var + eps)
        w_ref = w * scale[:, None, None, None]
        b_ref = scale * (bias - mean) + beta
        w_mistakes = [
            (
                w * (gamma / (var + eps))[:, None, None, None],
                "scale by gamma / sqrt(running_var + eps): the standard deviation, not the "
                "variance.",
            ),
            (
                w * (gamma / np.sqrt(var))[:, None, None, None],
                "you forgot eps: gamma / sqrt(running_var + eps).",
            ),
            (
                w * gamma[:, None, None, None],
                "the weights must also be divided by sqrt(running_var + eps).",
            ),
        ]
        if c_in == c_out:
            w_mistakes.append(
                (
                    w * scale[None, :, None, None],
                    "the scale belongs to output channel o: multiply filter w[o] (axis 0), "
                    "not input channel o (axis 1). Use scale[:, None, None, None].",
                )
            )
        compare(
            w_got,
            w_ref,
            case=label,
            name="w_folded",
            shape_hints=[
                ((c_out,), "w_folded is the whole weight (C_out, C_in, kH, kW), not the scale.")
            ],
            known_mistakes=w_mistakes,
        )
        b_mistakes = [
            (scale * (bias - mean), "you forgot to add beta."),
            (
                scale * bias + beta,
                "subtract the running mean: b' = scale * (b - running_mean) + beta.",
            ),
        ]
        if b is not None:
            b_mistakes += [
                (
                    beta - scale * mean,
                    "you forgot the conv bias b: b' = scale * (b - running_mean) + beta.",
                ),
                (
                    bias - scale * mean + beta,
                    "the conv bias b passes through the batch norm too, so it is scaled: "
                    "scale * b.",
                ),
            ]
        compare(
            b_got,
            b_ref,
            case=label,
            name="b_folded",
            known_mistakes=b_mistakes,
        )
        x = random.standard_normal((2, c_in, 7, 6))
        conv = F.conv2d(_T(x), _T(w), None if b is None else _T(b))
        bn = F.batch_norm(conv, _T(mean), _T(var), _T(gamma), _T(beta), False, 0.0, eps)
        w_array = to_numpy(w_got, case=label, name="w_folded")
        b_array = to_numpy(b_got, case=label, name="b_folded")
        fused = F.conv2d(_T(x), _T(w_array.astype(np.float64)), _T(b_array.astype(np.float64)))
        # w' and b' passed: this only confirms the folding, allowing float32 rounding
        atol = 1e-5 * max(1.0, float(bn.abs().max()))
        if not torch.allclose(fused, bn, rtol=1e-5, atol=atol):
            raise Mismatch(f"{label}:\nconv2d(x, w_folded, b_folded) != bn(conv2d(x, w, b)).")
    return f"{count} cases: conv2d(x, w', b') equals BatchNorm2d.eval()(conv2d(x, w, b))."


@checker(
    "5.4",
    "group_norm_forward",
    forbid=("helpers.norm.group_norm", "torch.nn.functional.group_norm", "torch.group_norm"),
)
def group_norm_forward(student_fn) -> str:
    """Check ``student_fn(x, num_groups, gamma, beta, eps)`` against F.group_norm."""
    random = rng(54)
    cases = [
        ((2, 6, 4, 4), 3, 1e-5),
        ((3, 8, 3, 5), 2, 1e-3),
        ((1, 4, 5, 2), 4, 1e-5),
        ((2, 6, 3, 3), 1, 0.1),
        ((4, 12, 2, 3), 4, 1e-5),
        ((2, 6, 4), 2, 1e-5),
    ]
    hidden = [((3, 9, 2, 5), 3, 1e-4), ((2, 10, 7), 10, 0.01)]  # odd sizes; one channel a group
    for heading, (shape, groups, eps) in numbered_cases(cases, hidden=hidden):
        n, c = shape[0], shape[1]
        x = random.uniform(-3, 3, (1, c) + (1,) * (len(shape) - 2)) + random.uniform(
            0.5, 4, (1, c) + (1,) * (len(shape) - 2)
        ) * random.standard_normal(shape)
        gamma, beta = random.standard_normal(c), random.standard_normal(c)
        label = (
            f"{heading} ({describe(x=x, num_groups=groups, eps=eps)}, "
            f"{c // groups} channels per group)"
        )
        expected = F.group_norm(_T(x), groups, _T(gamma), _T(beta), eps).numpy()
        g, b = _bcast(gamma, x.ndim), _bcast(beta, x.ndim)
        grouped = x.reshape(n, groups, -1)
        right = (2,)
        # group norm variants built on the (N, G, rest) view, then reshaped back
        mistakes = [
            (
                g * _normalized(grouped, (0, 2), eps).reshape(shape) + b,
                "you also averaged over the batch: group statistics are per sample, "
                "over axis 2 of the (N, G, -1) view only.",
            ),
            (
                g * _normalized(grouped, right, eps, ddof=1).reshape(shape) + b,
                "you used the unbiased variance (ddof=1); normalization uses the biased one.",
            ),
            (
                g * _normalized(grouped, right, eps, eps_outside=True).reshape(shape) + b,
                "eps goes inside the square root: (x - mean) / sqrt(var + eps).",
            ),
            (
                g * _normalized(grouped, right, eps, no_eps=True).reshape(shape) + b,
                "you forgot eps: divide by sqrt(var + eps).",
            ),
            (
                _normalized(grouped, right, eps).reshape(shape),
                "you forgot the per-channel gamma and beta.",
            ),
        ]
        if 1 < groups < c:
            strided = x.reshape(n, c // groups, groups, -1)
            mistakes.append(
                (
                    g * _normalized(strided, (1, 3), eps).reshape(shape) + b,
                    "a group is C / G *consecutive* channels: reshape x to (N, G, C // G, "
                    "...), not (N, C // G, G, ...).",
                )
            )
            spatial = tuple(range(2, x.ndim))
            mistakes.append(
                (
                    g * _normalized(x, spatial, eps) + b,
                    "that is instance norm (one group per channel): use num_groups groups "
                    "of C / num_groups channels.",
                )
            )
        if groups > 1:
            mistakes.append(
                (
                    g * _normalized(x, tuple(range(1, x.ndim)), eps) + b,
                    "that is layer norm (one group): use num_groups groups.",
                )
            )
        compare(
            call(student_fn, x, groups, gamma, beta, eps, case=label),
            expected,
            case=label,
            shape_hints=[
                ((n, groups) + shape[2:], "return y with the shape of x: reshape back."),
                ((n, groups, c // groups) + shape[2:], "reshape y back to the shape of x."),
                ((n, groups, x[0, 0].size * c // groups), "reshape y back to the shape of x."),
            ],
            known_mistakes=mistakes,
        )
    return f"{case_count(cases, hidden)} cases match torch.nn.functional.group_norm."


# helpers.norm.group_norm is allowed here (the exercise suggests it); the layer norms and
# instance norms of the course and of PyTorch are not.
@checker(
    "5.5",
    "ln_in_from_gn",
    forbid=(
        "helpers.norm.layer_norm",
        "helpers.norm.instance_norm",
        "torch.nn.functional.layer_norm",
        "torch.nn.functional.instance_norm",
        "torch.layer_norm",
        "torch.instance_norm",
    ),
)
def ln_in_from_gn(layer_norm_fn, instance_norm_fn) -> str:
    """Check ``layer_norm_fn(x, gamma, beta)`` and ``instance_norm_fn(x, gamma, beta)``
    (eps = 1e-5) against F.layer_norm (+ per-channel affine) and F.instance_norm."""
    random = rng(55)
    shapes = [(2, 4, 3, 3), (3, 6, 2, 5), (1, 3, 4, 4), (4, 2, 5, 1)]
    hidden = [(5, 7, 3, 2), (2, 3, 6, 1)]
    for heading, shape in numbered_cases(shapes, hidden=hidden):
        c = shape[1]
        x = random.uniform(-2, 2, (1, c, 1, 1)) + random.uniform(0.5, 3, (1, c, 1, 1)) * (
            random.standard_normal(shape)
        )
        gamma, beta = random.standard_normal(c), random.standard_normal(c)
        g, b = _bcast(gamma, 4), _bcast(beta, 4)
        ln_ref = g * F.layer_norm(_T(x), shape[1:]).numpy() + b
        in_ref = F.instance_norm(_T(x), weight=_T(gamma), bias=_T(beta)).numpy()
        for name, fn, expected, other, swapped_hint in [
            (
                "layer_norm_fn",
                layer_norm_fn,
                ln_ref,
                in_ref,
                "that is instance norm: layer norm is group norm with ONE group "
                "(all channels of a sample together).",
            ),
            (
                "instance_norm_fn",
                instance_norm_fn,
                in_ref,
                ln_ref,
                "that is layer norm: instance norm is group norm with C groups "
                "(one channel per group).",
            ),
        ]:
            label = f"{name}, {heading.lower()} ({describe(x=x)}, C={c})"
            compare(
                call(fn, x, gamma, beta, case=label),
                expected,
                case=label,
                known_mistakes=[
                    (other, swapped_hint),
                    (
                        g * _normalized(x, (0, 2, 3), 1e-5) + b,
                        "that is batch norm: these norms never mix the samples of a batch.",
                    ),
                ],
            )
    count = case_count(shapes, hidden)
    return (
        f"{count} cases each: group norm with 1 group is layer norm, with C groups instance norm."
    )
