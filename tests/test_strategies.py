"""The shared strategies draw only valid problems, every option included, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    PROPERTY,
    conv_problems,
    conv_transpose_problems,
    pool_problems,
    unfold_problems,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _tensor(array):
    return None if array is None else torch.from_numpy(array)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("nd", [1, 2, 3])
@PROPERTY
@given(data=st.data())
def test_conv_problems_are_accepted_by_torch(nd, data):
    problem = data.draw(conv_problems(nd=nd, same=True))
    x, w = problem["x"], problem["w"]
    assert x.ndim == nd + 2 and w.shape[1] * problem["groups"] == x.shape[1]
    out = CONV[nd](
        _tensor(x), _tensor(w), _tensor(problem["b"]), problem["stride"], problem["padding"],
        problem["dilation"], problem["groups"],
    )  # fmt: skip
    assert out.numel() > 0


@PROPERTY
@given(problem=conv_problems(nd=2, groups=False, bias=False, batch=False, dtype=np.float32))
def test_conv_problem_options(problem):
    assert problem["x"].ndim == 3 and problem["x"].dtype == np.float32
    assert set(problem) == {"x", "w", "stride", "padding", "dilation"}  # no groups, no b


@PROPERTY
@given(problem=conv_transpose_problems())
def test_conv_transpose_problems_are_accepted_by_torch(problem):
    out = F.conv_transpose2d(
        _tensor(problem["x"]), _tensor(problem["w"]), _tensor(problem["b"]), problem["stride"],
        problem["padding"], problem["output_padding"], problem["groups"], problem["dilation"],
    )  # fmt: skip
    assert out.numel() > 0


@PROPERTY
@given(problem=pool_problems(ties=True))
def test_pool_problems_are_accepted_by_torch(problem):
    x = _tensor(problem["x"])
    out = F.max_pool2d(x, problem["kernel_size"], problem["stride"], problem["padding"])
    assert out.numel() > 0 and np.array_equal(problem["x"], np.round(problem["x"]))


@PROPERTY
@given(problem=unfold_problems())
def test_unfold_problems_are_accepted_by_torch(problem):
    kwargs = {k: problem[k] for k in ("kernel_size", "stride", "padding", "dilation")}
    assert F.unfold(_tensor(problem["x"]), **kwargs).shape[-1] > 0


def test_the_examples_are_the_same_on_every_run():
    drawn = []

    @PROPERTY
    @given(problem=conv_problems(nd=2))
    def record(problem):
        drawn.append((problem["x"].shape, problem["stride"], problem["x"].sum()))

    record()
    first, drawn[:] = list(drawn), []
    record()
    assert drawn == first and len(first) == PROPERTY.max_examples
