"""helpers.gradcheck: numerical gradients agree with autograd; rel_error behaves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from named_errors import raises_named

from helpers.conv import conv2d
from helpers.gradcheck import numerical_gradient, rel_error


def test_rel_error_basics():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)
    with raises_named(ValueError, "rel_error", "same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_scalar_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    assert rel_error(grad, 3 * x**2) < 1e-8
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_numerical_gradient_matches_autograd_for_conv():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    dout = rng.standard_normal((2, 3, 3, 3))  # H_out = (5 + 2 - 3) // 2 + 1 = 3
    num_dw = numerical_gradient(lambda v: conv2d(x, v, stride=2, padding=1), w, dout)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w).requires_grad_()
    torch.nn.functional.conv2d(xt, wt, stride=2, padding=1).backward(torch.from_numpy(dout))
    assert rel_error(num_dw, wt.grad.numpy()) < 1e-7


def test_numerical_gradient_bad_input():
    with raises_named(TypeError, "numerical_gradient", "x must be a NumPy array of floats"):
        numerical_gradient(np.sum, np.array([1, 2]))
    with raises_named(ValueError, "numerical_gradient", "pass dout"):
        numerical_gradient(lambda v: v * 2, np.ones(3))
    with raises_named(ValueError, "numerical_gradient", "h must be positive"):
        numerical_gradient(np.sum, np.ones(3), h=0)
