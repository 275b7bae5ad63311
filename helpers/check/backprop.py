"""Checkers for notebook 06 (backpropagation). Every gradient is compared with torch autograd."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..conv import conv2d
from .arrays import compare, describe, to_numpy
from .core import Mismatch, call, case_count, checker, forgot_return, numbered_cases
from .grading import rng

__all__ = [
    "centred_difference",
    "conv2d_backward_naive",
    "conv3_backward",
    "max_pool2d_backward_naive",
]


_AUTOGRAD = ("torch.autograd.backward", "torch.autograd.grad")
"""PyTorch's autograd (``tensor.backward()`` calls ``torch.autograd.backward``): it would
compute the gradients that Exercises 6.1 to 6.3 ask for."""


def _unpack(got, names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...], case: str):
    """Split a returned tuple into arrays, explaining a wrong count or a swapped order."""
    wanted = ", ".join(names)
    if got is None:
        raise forgot_return(case, statement=f"`return {wanted}`")
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        kind = f"a {type(got).__name__}"
        if isinstance(got, (tuple, list)):
            kind += f" of length {len(got)}"
        raise Mismatch(f"{case}:\nexpected a tuple ({wanted}), got {kind}.")
    arrays = [
        to_numpy(value, case=case, name=f"your {name}")
        for value, name in zip(got, names, strict=True)
    ]
    got_shapes = [tuple(a.shape) for a in arrays]
    if got_shapes != list(shapes) and sorted(got_shapes) == sorted(shapes):
        raise Mismatch(
            f"{case}:\nthe shapes {got_shapes} are those of ({wanted}) in another order. "
            f"Return them in the order ({wanted})."
        )
    return arrays


def _autograd(forward, *arrays: np.ndarray, dout: np.ndarray) -> list[np.ndarray]:
    """Gradients of sum(forward(*arrays) * dout) with respect to every array, by autograd."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = forward(*tensors)
    out.backward(torch.from_numpy(dout))
    return [t.grad.numpy() for t in tensors]


# --------------------------------------------------------------------- Exercise 6.1


def _conv3_forward(x, w):
    """z_i = w[0] x_{i-1} + w[1] x_i + w[2] x_{i+1} with zero padding: z has x's length."""
    return F.conv1d(x[None, None], w[None, None], padding=1)[0, 0]


@checker(
    "6.1",
    "conv3_backward",
    forbid=(
        "helpers.conv.conv1d_backward",
        "helpers.conv_backward.conv1d_backward",
        "torch.nn.grad.conv1d_input",
        "torch.nn.grad.conv1d_weight",
        *_AUTOGRAD,
    ),
)
def conv3_backward(student_fn) -> str:
    """Check ``student_fn(dz, x, w) -> (dx, dw)`` for the 3-tap 1-D convolution."""
    random = rng(61)
    cases = [(np.array([1.0, 2.0, -1.0, 3.0]), np.array([1.0, -2.0, 0.5]))]
    cases += [(random.standard_normal(n), random.standard_normal(3)) for n in (7, 2, 10, 5)]
    extra = rng(610)  # the loop below draws dz from `random`: hidden data comes from here
    hidden = [(extra.standard_normal(n), extra.standard_normal(3)) for n in (3, 16)]
    for heading, (x, w) in numbered_cases(cases, hidden=hidden):
        length = len(x)
        dz = random.standard_normal(length) if heading.number > 1 else np.array([1.0, 0, 0, 2])
        label = f"{heading} ({describe(dz=dz, x=x, w=w)})"
        got = call(student_fn, dz, x, w, case=label)
        dx, dw = _unpack(got, ("dx", "dw"), ((length,), (3,)), label)
        expected_dx, expected_dw = _autograd(_conv3_forward, x, w, dout=dz)
        d = np.pad(dz, 1)
        xp = np.pad(x, 1)
        compare(
            dx,
            expected_dx,
            case=f"{label}, checking dx",
            name="your dx",
            known_mistakes=[
                (
                    w[0] * d[:-2] + w[1] * d[1:-1] + w[2] * d[2:],
                    "your dx pairs x_i with the wrong outputs. x_i meets w1 in z_{i+1} "
                    "(not z_{i-1}): dx_i = w1 dz_{i+1} + w2 dz_i + "
                    "w3 dz_{i-1}. The kernel comes out flipped: a true convolution.",
                ),
                (
                    dz * w.sum(),
                    "your dx uses one dz per x_i, but x_i appears in three outputs, z_{i-1}, "
                    "z_i and z_{i+1}, and each brings its own dz: sum dz_j * dz_j/dx_i over "
                    "those three j.",
                ),
            ],
        )
        compare(
            dw,
            expected_dw,
            case=f"{label}, checking dw",
            name="your dw",
            known_mistakes=[
                (
                    expected_dw[::-1],
                    "your dw is reversed: w1 multiplies x_{i-1}, so dw1 = sum_i dz_i x_{i-1}.",
                ),
                (
                    np.array([dz[1:-1] @ xp[u : u + length][1:-1] for u in range(3)]),
                    "your dw: sum over every output i, including the two ends "
                    "(x_{-1} = x_L = 0 there).",
                ),
                (expected_dw / length, "your dw: sum over the positions i; do not average."),
            ],
        )
    return f"{case_count(cases, hidden)} cases match torch autograd (conv1d, padding=1)."


# --------------------------------------------------------------------- Exercise 6.2


@checker(
    "6.2",
    "conv2d_backward_naive",
    forbid=(
        "helpers.conv.conv2d_backward",
        "helpers.conv_backward.conv2d_backward",
        "torch.nn.grad.conv2d_input",
        "torch.nn.grad.conv2d_weight",
        *_AUTOGRAD,
    ),
)
def conv2d_backward_naive(student_fn) -> str:
    """Check ``student_fn(dout, x, w, stride, padding) -> (dx, dw, db)``."""
    random = rng(62)
    # (N, C_in, H, W, C_out, kH, kW, stride, padding)
    shapes = [
        (1, 1, 4, 4, 1, 2, 2, 1, 0),
        (2, 3, 5, 6, 4, 3, 3, 1, 1),
        (3, 2, 7, 5, 3, 3, 2, 2, 0),
        (2, 2, 6, 7, 2, 3, 3, 2, 1),
        (1, 3, 5, 5, 2, 1, 1, 2, 0),
    ]
    hidden = [  # a kernel as large as the padded input; stride 3 with a wide kernel
        (2, 1, 3, 3, 3, 5, 5, 1, 1),
        (1, 2, 8, 6, 3, 2, 4, 3, 1),
    ]
    for heading, (n, c_in, h, wd, c_out, kh, kw, s, p) in numbered_cases(shapes, hidden=hidden):
        x = random.standard_normal((n, c_in, h, wd))
        w = random.standard_normal((c_out, c_in, kh, kw))
        h_out, w_out = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
        dout = random.standard_normal((n, c_out, h_out, w_out))
        label = f"{heading} ({describe(dout=dout, x=x, w=w)}, stride={s}, padding={p})"
        got = call(student_fn, dout, x, w, s, p, case=label)
        dx, dw, db = _unpack(got, ("dx", "dw", "db"), (x.shape, w.shape, (c_out,)), label)

        def forward(xt, wt, bt, s=s, p=p):
            return F.conv2d(xt, wt, bt, stride=s, padding=p)

        expected = _autograd(forward, x, w, np.zeros(c_out), dout=dout)
        flipped = _autograd(
            lambda xt, wt, s=s, p=p: F.conv2d(xt, wt.flip(2, 3), stride=s, padding=p),
            x,
            w,
            dout=dout,
        )
        padded_shape = (n, c_in, h + 2 * p, wd + 2 * p)
        compare(
            db,
            expected[2],
            case=f"{label}, checking db",
            name="your db",
            shape_hints=[
                ((n, c_out), "db sums dout over the batch too: one number per filter."),
                ((c_out, h_out, w_out), "db sums dout over the positions i, j too."),
            ],
            known_mistakes=[
                (expected[2] / (n * h_out * w_out), "your db: a sum over n, i, j, not a mean."),
                (
                    dout[0].sum(axis=(1, 2)),
                    "your db: sum over every image of the batch, not only n=0.",
                ),
            ],
        )
        compare(
            dw,
            expected[1],
            case=f"{label}, checking dw",
            name="your dw",
            known_mistakes=[
                (expected[1] / n, "your dw: a sum over the batch, not a mean."),
                (
                    expected[1][:, :, ::-1, ::-1],
                    "your dw is rotated by 180°: dw[o, c, u, v] pairs dout[n, o, i, j] with "
                    "x_pad[n, c, i*stride + u, j*stride + v].",
                ),
            ],
        )
        compare(
            dx,
            expected[0],
            case=f"{label}, checking dx",
            name="your dx",
            shape_hints=[
                (
                    padded_shape,
                    "that is the padded shape: crop `padding` rows and columns "
                    "from every side of dx_pad.",
                ),
            ],
            known_mistakes=[
                (
                    flipped[0],
                    "your dx used the rotated kernel. Scatter dout[n, o, i, j] * w[o, c, u, v] "
                    "into x_pad[n, c, i*stride + u, j*stride + v] with the kernel as it is; "
                    "no 180° rotation in this view.",
                ),
            ],
        )
    count = case_count(shapes, hidden)
    return f"{count} cases (batches, channels, stride, padding) match torch autograd."


# --------------------------------------------------------------------- Exercise 6.3


def _routed(
    dout, x, k: int, s: int, *, accumulate: bool, first_only: bool, last_only: bool = False
) -> np.ndarray:
    """Loop reference of max-pool backward, with switches that reproduce typical mistakes."""
    dx = np.zeros_like(x)
    n_count, c_count, h_out, w_out = dout.shape
    for n in range(n_count):
        for c in range(c_count):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[n, c, i * s : i * s + k, j * s : j * s + k]
                    if first_only or last_only:
                        mask = np.zeros(window.shape, dtype=bool)
                        flat = window.ravel()
                        index = (
                            np.argmax(flat) if first_only else flat.size - 1 - np.argmax(flat[::-1])
                        )
                        mask[np.unravel_index(index, window.shape)] = True
                    else:
                        mask = window == window.max()
                    target = dx[n, c, i * s : i * s + k, j * s : j * s + k]
                    if accumulate:
                        target += mask * dout[n, c, i, j]
                    else:
                        target[mask] = dout[n, c, i, j]
    return dx


@checker(
    "6.3", "max_pool2d_backward_naive", forbid=("helpers.pool.max_pool2d_backward", *_AUTOGRAD)
)
def max_pool2d_backward_naive(student_fn) -> str:
    """Check ``student_fn(dout, x, kernel_size, stride) -> dx`` for max pooling."""
    random = rng(63)
    example = np.array(
        [[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 6.0, 2.0], [3.0, 2.0, 1.0, 1.0]]
    )
    cases = [
        (example[None, None], 2, 2, "non-overlapping windows"),
        (random.standard_normal((2, 3, 6, 6)), 2, 2, "batch and channels"),
        (random.standard_normal((1, 2, 5, 7)), 3, 2, "overlapping windows (kernel 3, stride 2)"),
        (random.standard_normal((2, 1, 4, 5)), 2, 1, "overlapping windows (kernel 2, stride 1)"),
        (random.integers(0, 3, (1, 2, 6, 6)).astype(float), 2, 2, "ties (small integers)"),
    ]
    extra = rng(630)  # the loop below draws dout from `random`: hidden data comes from here
    hidden = [
        (extra.standard_normal((2, 2, 4, 4)), 4, 1, "a window as large as the input"),
        (extra.standard_normal((1, 3, 8, 7)), 2, 3, "a stride larger than the kernel"),
        (
            extra.integers(0, 2, (2, 1, 5, 6)).astype(float),
            3,
            1,
            "ties in overlapping windows (kernel 3, stride 1)",
        ),
    ]
    for heading, (x, k, s, what) in numbered_cases(cases, hidden=hidden):
        xt = torch.tensor(x, requires_grad=True)
        out = F.max_pool2d(xt, k, s)
        dout = random.standard_normal(tuple(out.shape))
        out.backward(torch.from_numpy(dout))
        expected = xt.grad.numpy()
        label = f"{heading}, {what} ({describe(dout=dout, x=x)}, kernel_size={k}, stride={s})"
        got = call(student_fn, dout, x, k, s, case=label)
        xa = torch.tensor(x, requires_grad=True)
        F.avg_pool2d(xa, k, s).backward(torch.from_numpy(dout))
        average = xa.grad.numpy()
        compare(
            got,
            expected,
            case=label,
            name="your dx",
            shape_hints=[(tuple(dout.shape), "dx has the shape of the input x, not of dout.")],
            known_mistakes=[
                (
                    average,
                    "that is the average-pooling gradient (dout / k**2 over the whole window). "
                    "Max pooling sends each dout[n, c, i, j] only to the arg-max of its window.",
                ),
                (
                    average * k * k,
                    "that copies dout to every position of the window. Max pooling sends each "
                    "dout[n, c, i, j] only to the arg-max of its window.",
                ),
                (
                    _routed(dout, x, k, s, accumulate=True, first_only=False),
                    "when several positions tie for the maximum, PyTorch gives the gradient "
                    "to the first one only (in row-major order, like np.argmax).",
                ),
                (
                    _routed(dout, x, k, s, accumulate=False, first_only=True),
                    "windows overlap here: add (+=) each window's gradient into dx; "
                    "assigning (=) overwrites what an earlier window put there.",
                ),
                (
                    _routed(dout, x, k, s, accumulate=True, first_only=False, last_only=True),
                    "when several positions tie for the maximum, PyTorch gives the gradient "
                    "to the *first* one (in row-major order, like np.argmax); yours goes to "
                    "the last one. A running maximum updated with >= moves to later ties: "
                    "update it only on a strictly larger value (>).",
                ),
                (
                    _routed(dout, x, k, s, accumulate=False, first_only=False, last_only=True),
                    "two mistakes: on ties PyTorch gives the gradient to the *first* maximum "
                    "(like np.argmax; yours goes to the last one, update with > not >=), and "
                    "overlapping windows must add (+=) into dx, not assign (=).",
                ),
            ],
        )
    count = case_count(cases, hidden)
    return f"{count} cases (overlapping windows and ties included) match torch autograd."


# --------------------------------------------------------------------- Exercise 6.4


@checker("6.4", "centred_difference", forbid=("helpers.gradcheck.numerical_gradient",))
def centred_difference(student_fn) -> str:
    """Check ``student_fn(f, x) -> gradient`` of a scalar function by centred differences."""
    random = rng(64)
    c = random.standard_normal((3, 4))
    w = random.standard_normal((3, 2, 3, 3))
    dout = random.standard_normal((1, 3, 3, 3))
    x_conv = random.standard_normal((1, 2, 5, 5))
    (conv_grad,) = _autograd(lambda t: F.conv2d(t, torch.from_numpy(w)), x_conv, dout=dout)

    def conv_loss(v):  # NumPy forward (fast for many small calls); autograd gave the gradient
        return float(np.sum(conv2d(v, w) * dout))

    x_cube = 3 * random.standard_normal(6)
    x_sin = random.standard_normal((3, 4))
    x_square = np.array([1.0, -2.0, 0.5])
    cases = [
        ("f(x) = sum(x**2)", lambda v: float(np.sum(v**2)), x_square, 2 * x_square),
        (
            "f(x) = sum(c * sin(x))",
            lambda v: float(np.sum(c * np.sin(v))),
            x_sin,
            c * np.cos(x_sin),
        ),
        ("f(x) = sum(x**3)", lambda v: float(np.sum(v**3)), x_cube, 3 * x_cube**2),
        ("f(x) = sum(conv2d(x, w) * dout)", conv_loss, x_conv, conv_grad),
    ]
    d, x_exp = random.standard_normal((2, 3, 2)), random.standard_normal((2, 3, 2))
    x_soft = 2 * random.standard_normal(5)
    hidden = [  # a 3-D x; a function of all entries at once (the softmax is the gradient)
        (
            "f(x) = sum(d * exp(x))",
            lambda v: float(np.sum(d * np.exp(v))),
            x_exp,
            d * np.exp(x_exp),
        ),
        (
            "f(x) = log(sum(exp(x)))",
            lambda v: float(np.log(np.sum(np.exp(v)))),
            x_soft,
            np.exp(x_soft) / np.sum(np.exp(x_soft)),
        ),
    ]
    for heading, (formula, f, x, grad) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({formula}, {describe(x=x)})"
        seen = []

        def recording(v, f=f, seen=seen):
            seen.append(v)
            return f(v)

        got = call(student_fn, recording, x, case=label)
        if not seen:
            raise Mismatch(f"{label}:\nyour function never called f.")
        given = seen[0]
        if (
            isinstance(given, np.ndarray)
            and given.shape == x.shape
            and all(v is given for v in seen)
            and not np.allclose(given, x, rtol=0, atol=1e-12)
        ):
            raise Mismatch(
                f"{label}:\nwhen your function returned, the array x it was given had "
                "changed. Put x[i] back after each perturbation (or perturb a copy)."
            )
        try:
            compare(
                got,
                grad,
                case=label,
                name="your gradient",
                atol=1e-8,
                rtol=1e-7,
                float32_tolerance=False,  # centred differences need float64's digits
                shape_hints=[((x.size,), "return the gradient with the shape of x (reshape).")],
                known_mistakes=[
                    (2 * grad, "divide by 2h: the two points x + h and x - h are 2h apart."),
                    (
                        _one_sided(f, x, 1e-5),
                        "that is a one-sided difference (f(x + h) - f(x)) / h, accurate to O(h) "
                        "only. Use the centred difference (f(x + h) - f(x - h)) / (2h): O(h**2).",
                    ),
                ],
            )
        except Mismatch as error:
            array = to_numpy(got, case=label, name="your gradient")
            if np.issubdtype(array.dtype, np.floating) and array.dtype.itemsize < 8:
                raise Mismatch(
                    f"{error}\nHint: your gradient is {array.dtype}, which keeps about 7 "
                    "digits; a centred difference with a small h needs float64 (keep x's dtype)."
                ) from error
            raise
    return (
        f"{case_count(cases, hidden)} functions: your gradients agree with the exact ones to 1e-7."
    )


def _one_sided(f, x: np.ndarray, h: float) -> np.ndarray:
    """Forward differences (the typical mistake of Exercise 6.4)."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    base = f(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        grad[index] = (f(x) - base) / h
        x[index] = old
    return grad
