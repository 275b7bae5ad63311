"""Numerical gradient checking (centred differences) and relative error.

Use float64: with float32 the rounding error of ``f`` swamps the finite difference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validate import as_float_array

__all__ = ["numerical_gradient", "rel_error"]


def rel_error(x, y, eps: float = 1e-8) -> float:
    """Largest elementwise relative error ``|x - y| / max(eps, |x| + |y|)``.

    Args:
        x, y: arrays of the same shape (NumPy arrays, lists or torch tensors).
        eps: floor of the denominator, so that two zeros give 0 and not 0/0.

    Returns:
        A float. About 1e-7 or less means two float64 gradients agree; values near 1 mean
        they are unrelated. Entries near zero in both arrays inflate the ratio: a tiny
        absolute error divided by a tiny magnitude.
    """
    x = as_float_array(x, "x", "rel_error")
    y = as_float_array(y, "y", "rel_error")
    if x.shape != y.shape:
        raise ValueError(
            f"rel_error: x and y must have the same shape, got {x.shape} and {y.shape}"
        )
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(eps, np.abs(x) + np.abs(y))))


def numerical_gradient(
    f: Callable[[np.ndarray], object], x: np.ndarray, dout=None, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``f`` at ``x`` by centred differences, ``(f(x+h) - f(x-h)) / 2h``.

    Args:
        f: a function of one array. If it returns a scalar, the result is ``df/dx``. If it
            returns an array, ``dout`` (same shape as that array) is the upstream gradient
            and the result is ``d(sum(f(x) * dout))/dx``, the quantity a backward pass
            computes.
        x: float array, shape ``(...)``. It is changed in place during the computation
            and restored afterwards, so ``f`` must read ``x`` each time it is called.
        dout: upstream gradient, required when ``f`` returns an array.
        h: step size.

    Returns:
        Array of the same shape as ``x``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("numerical_gradient: x must be a NumPy array of floats (use float64)")
    if h <= 0:
        raise ValueError(f"numerical_gradient: h must be positive, got {h}")

    def scalar(value) -> float:
        value = np.asarray(value, dtype=np.float64)
        if dout is None:
            if value.size != 1:
                raise ValueError(
                    f"numerical_gradient: f returned an array of shape {value.shape}; "
                    "pass dout (the upstream gradient, same shape) to reduce it to a scalar"
                )
            return float(value.reshape(()))
        upstream = as_float_array(dout, "dout", "numerical_gradient")
        if upstream.shape != value.shape:
            raise ValueError(
                f"numerical_gradient: dout has shape {upstream.shape} but f(x) has shape "
                f"{value.shape}"
            )
        return float(np.sum(value * upstream))

    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous so it can be perturbed in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        plus = scalar(f(x))
        flat_x[i] = original - h
        minus = scalar(f(x))
        flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * h)
    return grad
