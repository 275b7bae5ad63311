"""Checkers of notebook 06: the reference answers pass; typical mistakes get a specific verdict."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_contract import contract_tests, grading_tests, returns_none

from helpers import check
from helpers.conv import conv1d_backward, conv2d_backward
from helpers.gradcheck import numerical_gradient
from helpers.pool import max_pool2d_backward

# The checkers run many tiny torch ops: a second thread only adds synchronisation cost.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------- references


def conv3_reference(dz, x, w):
    dx, dw, _ = conv1d_backward(dz[None, None], x[None, None], w[None, None], padding=1)
    return dx[0, 0], dw[0, 0]


def conv3_loops(dz, x, w):
    """The notebook's answer: the chain rule written out term by term."""
    length = len(x)
    dx, dw = np.zeros(length), np.zeros(3)
    for i in range(length):
        for u in range(3):  # z_i uses x_{i - 1 + u} with weight w[u]
            if 0 <= i - 1 + u < length:
                dx[i - 1 + u] += dz[i] * w[u]
                dw[u] += dz[i] * x[i - 1 + u]
    return dx, dw


def conv2d_loops(dout, x, w, stride, padding):
    """The notebook's answer: scatter every output's gradient back into its window."""
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows = slice(i * stride, i * stride + kh)
            cols = slice(j * stride, j * stride + kw)
            for o in range(c_out):
                g = dout[:, o, i, j][:, None, None, None]  # (N, 1, 1, 1)
                dw[o] += np.sum(g * x_pad[:, :, rows, cols], axis=0)
                dx_pad[:, :, rows, cols] += g * w[o]
    db = dout.sum(axis=(0, 2, 3))
    return dx_pad[:, :, padding : padding + h, padding : padding + wd], dw, db


def _route_to_max(dout, x, kernel_size, stride, *, accumulate: bool):
    """Send each output's gradient to the first maximum of its window, added or assigned."""
    dx = np.zeros_like(x)
    k, s = kernel_size, stride
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i * s : i * s + k, j * s : j * s + k]
        u, v = np.unravel_index(np.argmax(window), window.shape)
        if accumulate:
            dx[n, c, i * s + u, j * s + v] += dout[n, c, i, j]
        else:
            dx[n, c, i * s + u, j * s + v] = dout[n, c, i, j]
    return dx


def max_pool_loops(dout, x, kernel_size, stride):
    return _route_to_max(dout, x, kernel_size, stride, accumulate=True)


def centred_loops(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


# --------------------------------------------------------------------- wrong answers


def flipped_conv3(dz, x, w):
    dx, dw = conv3_reference(dz, x, w[::-1])
    return dx, dw[::-1]


def forward_difference(f, x, h=1e-5):
    """A student's one-sided difference in another style: perturb a copy along a basis vector."""
    base, flat = f(x), np.zeros(x.size)
    grad = np.empty(x.size)
    for i in range(x.size):
        flat[i] = h
        grad[i] = (f(x + flat.reshape(x.shape)) - base) / h
        flat[i] = 0.0
    return grad.reshape(x.shape)


def not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = f(x)
        x[index] -= 2 * h
        grad[index] = (plus - f(x)) / (2 * h)
    return grad


def assign_instead_of_add(dout, x, kernel_size, stride):
    return _route_to_max(dout, x, kernel_size, stride, accumulate=False)


def every_tie(dout, x, kernel_size, stride):
    dx = np.zeros_like(x)
    k, s = kernel_size, stride
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s : i * s + k, j * s : j * s + k]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s : i * s + k, j * s : j * s + k] += mask * dout[:, :, i, j, None, None]
    return dx


def spread_evenly(dout, x, kernel_size, stride):
    dx = np.zeros_like(x)
    k, s = kernel_size, stride
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * s : i * s + k, j * s : j * s + k] += dout[:, :, i, j, None, None] / k**2
    return dx


# checker -> (reference answers, {kind of mistake: (wrong answer, words the verdict must contain)})
CASES = {
    check.conv3_backward: (
        [conv3_reference, conv3_loops],
        {
            "flipped dx": (
                lambda dz, x, w: (flipped_conv3(dz, x, w)[0], conv3_reference(dz, x, w)[1]),
                ["your dx", "w1 dz_{i+1}", "flipped"],
            ),
            "seed formula": (
                lambda dz, x, w: (dz * w.sum(), conv3_reference(dz, x, w)[1]),
                ["three outputs"],
            ),
            "reversed dw": (
                lambda dz, x, w: (conv3_reference(dz, x, w)[0], conv3_reference(dz, x, w)[1][::-1]),
                ["your dw", "reversed"],
            ),
            "averaged dw": (
                lambda dz, x, w: (conv3_reference(dz, x, w)[0], conv3_reference(dz, x, w)[1] / 4),
                ["do not average"],
            ),
            "swapped order": (lambda dz, x, w: conv3_reference(dz, x, w)[::-1], ["order (dx, dw)"]),
            "only dx": (lambda dz, x, w: conv3_reference(dz, x, w)[0], ["expected a tuple"]),
            "off by one": (
                lambda dz, x, w: (conv3_reference(dz, x, w)[0][1:], conv3_reference(dz, x, w)[1]),
                ["your dx has shape"],
            ),
            "returns None": (returns_none, ["None", "return dx, dw"]),
        },
    ),
    check.conv2d_backward_naive: (
        [conv2d_backward, conv2d_loops],
        {
            "db per image": (
                lambda *a: (*conv2d_backward(*a)[:2], a[0].sum(axis=(2, 3))),
                ["your db", "over the batch too"],
            ),
            "db mean": (
                lambda *a: (*conv2d_backward(*a)[:2], a[0].mean(axis=(0, 2, 3))),
                ["not a mean"],
            ),
            "dw mean": (
                lambda *a: (
                    conv2d_backward(*a)[0],
                    conv2d_backward(*a)[1] / a[1].shape[0],
                    conv2d_backward(*a)[2],
                ),
                ["your dw", "not a mean"],
            ),
            "dw rotated": (
                lambda *a: (
                    conv2d_backward(*a)[0],
                    conv2d_backward(*a)[1][:, :, ::-1, ::-1],
                    conv2d_backward(*a)[2],
                ),
                ["rotated by 180"],
            ),
            "dx with rotated kernel": (
                lambda dout, x, w, s, p: (
                    conv2d_backward(dout, x, w[:, :, ::-1, ::-1], s, p)[0],
                    *conv2d_backward(dout, x, w, s, p)[1:],
                ),
                ["your dx", "no 180° rotation"],
            ),
            "dx not cropped": (
                lambda dout, x, w, s, p: (
                    conv2d_backward(dout, np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), w, s)[0],
                    *conv2d_backward(dout, x, w, s, p)[1:],
                ),
                ["padded shape", "crop"],
            ),
            "dx transposed": (
                lambda *a: (conv2d_backward(*a)[0].swapaxes(2, 3), *conv2d_backward(*a)[1:]),
                ["checking dx", "values are wrong"],
            ),
            "swapped order": (
                lambda *a: (conv2d_backward(*a)[1], conv2d_backward(*a)[0], conv2d_backward(*a)[2]),
                ["order (dx, dw, db)"],
            ),
            "returns None": (returns_none, ["None", "return dx, dw, db"]),
        },
    ),
    check.max_pool2d_backward_naive: (
        [max_pool_loops, max_pool2d_backward],
        {
            "average pooling": (spread_evenly, ["average-pooling gradient"]),
            "copied to the window": (
                lambda *a: spread_evenly(*a) * a[2] ** 2,
                ["copies dout to every position"],
            ),
            "assignment": (assign_instead_of_add, ["+=", "overlap"]),
            "every tie": (every_tie, ["tie", "first one only"]),
            "shape of dout": (lambda dout, *a: dout, ["shape of the input x"]),
            "transposed": (lambda *a: max_pool_loops(*a).swapaxes(2, 3) * 2, ["values are wrong"]),
            "returns None": (returns_none, ["None", "return"]),
        },
    ),
    check.centred_difference: (
        [centred_loops, numerical_gradient],
        {
            "forward difference": (forward_difference, ["one-sided", "O(h**2)"]),
            "divides by h": (lambda f, x: 2 * centred_loops(f, x), ["divide by 2h"]),
            "x not restored": (not_restored, ["changed", "Put x[i] back"]),
            "flattened": (lambda f, x: centred_loops(f, x).ravel(), ["shape of x"]),
            "float32": (
                lambda f, x: centred_loops(f, x.astype(np.float32)).astype(np.float64),
                ["values are wrong"],
            ),
            "never calls f": (lambda f, x: np.zeros_like(x), ["never called f"]),
            "returns None": (lambda f, x: [centred_loops(f, x), None][1], ["None", "return"]),
        },
    ),
}

(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="6")

# Grading mode forbids the course's backward passes and numerical gradient: the references
# graded are the ones written by hand.
HAND_WRITTEN = {
    check.conv3_backward: conv3_loops,
    check.conv2d_backward_naive: conv2d_loops,
    check.max_pool2d_backward_naive: max_pool_loops,
    check.centred_difference: centred_loops,
}
GRADED = {checker: (HAND_WRITTEN[checker], listed) for checker, (_, listed) in CASES.items()}

globals().update(grading_tests(GRADED))


def autograd_conv3(dz, x, w):
    """A shortcut: PyTorch's autograd does the backward pass."""
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv1d(xt[None, None], wt[None, None], padding=1)[0, 0].backward(torch.from_numpy(dz))
    return xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize(
    "checker, shortcut",
    [
        (check.conv3_backward, lambda *a: conv3_reference(*a)),
        (check.conv3_backward, autograd_conv3),
        (check.conv2d_backward_naive, lambda *a: conv2d_backward(*a)),
        (check.max_pool2d_backward_naive, lambda *a: max_pool2d_backward(*a)),
        (check.centred_difference, lambda f, x: numerical_gradient(f, x)),
    ],
)
def test_grading_refuses_the_library_gradients(checker, shortcut):
    assert checker.verdict(shortcut).passed  # the student's own check cannot tell
    with pytest.raises(AssertionError, match="is not allowed in this exercise"):
        checker.grade(shortcut)


def test_exercise_numbers():
    assert [c.exercise for c in CASES] == ["6.1", "6.2", "6.3", "6.4"]
