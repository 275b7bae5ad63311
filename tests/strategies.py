"""Random, valid layer problems for property tests: one shared set of Hypothesis strategies.

Every property test of a layer draws its problem here, so that "a valid convolution" means
the same thing everywhere and a failure shrinks to a small example. The geometry (kernel,
stride, padding, dilation, sizes, channels) is drawn by Hypothesis and shrinks; the array
values come from a NumPy generator seeded by a drawn seed, which is as fast as the former
hand-written ``random_config(seed)`` and just as reproducible. A problem is a dict of the
layer's own keyword arguments, so ``conv2d(**problem)``, ``im2col(**problem)``,
``max_pool2d(**problem)`` and ``conv_transpose2d(**problem)`` work as they are; a test that
needs more randomness (an upstream gradient) draws a seed of its own from :data:`SEEDS`.
:func:`conv_layers` draws ``torch.nn`` convolution layers instead, for the cost counters.

Use them with :data:`PROPERTY`, the settings that keep the suite's run time and make CI
deterministic (the same examples on every run)::

    from hypothesis import given
    from strategies import PROPERTY, conv_problems

    @PROPERTY
    @given(problem=conv_problems(nd=2))
    def test_conv2d_matches_torch(problem):
        x, w, b = problem["x"], problem["w"], problem["b"]
        ...

    @pytest.mark.parametrize("nd", [1, 2, 3])
    @PROPERTY
    @given(data=st.data())
    def test_conv_matches_torch(nd, data):
        problem = data.draw(conv_problems(nd=nd))

Shapes: ``x`` is ``(N, C_in, *spatial)`` (``(C_in, *spatial)`` with ``batch=False``), ``w``
is ``(C_out, C_in // groups, *kernel)`` for a convolution and ``(C_in, C_out // groups,
*kernel)`` for a transposed one, ``b`` is ``(C_out,)`` or None; hyper-parameters are
tuples with one int per spatial axis.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from torch import nn

__all__ = [
    "PROPERTY",
    "SEEDS",
    "conv_layers",
    "conv_problems",
    "conv_transpose_problems",
    "geometry",
    "pool_problems",
    "unfold_problems",
]

PROPERTY = settings(
    max_examples=100,  # as many problems as the former range(100) of seeds
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,  # nothing remembered between runs, for the same reason
    deadline=None,  # a first call may pay for imports and caches
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""The settings of every property test (apply as a decorator, above ``@given``)."""

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
"""Seeds for NumPy generators: the values of a problem's arrays, or of an upstream gradient."""


def _per_axis(nd: int, low: int, high: int):
    """A tuple of ``nd`` ints in ``[low, high]``."""
    return st.tuples(*[st.integers(low, high)] * nd)


@st.composite
def geometry(draw, nd: int = 2, *, kernel=4, stride=3, padding=2, dilation=2) -> dict:
    """``kernel_size``, ``stride``, ``padding``, ``dilation``: tuples of ``nd`` ints.

    The keywords are the largest values drawn (kernel and stride from 1, padding from 0,
    dilation from 1).
    """
    return {
        "kernel_size": draw(_per_axis(nd, 1, kernel)),
        "stride": draw(_per_axis(nd, 1, stride)),
        "padding": draw(_per_axis(nd, 0, padding)),
        "dilation": draw(_per_axis(nd, 1, dilation)),
    }


def _fitting_sizes(draw, kernel, dilation, padding, extra: int) -> tuple[int, ...]:
    """Input sizes in which the dilated kernel fits the padded input, up to ``extra`` more."""
    sizes = []
    for k, d, p in zip(kernel, dilation, padding, strict=True):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        sizes.append(draw(st.integers(smallest, smallest + extra)))
    return tuple(sizes)


def _layer_arrays(draw, x_shape, w_shape, c_out: int, *, bias: bool, dtype) -> dict:
    """``x``, ``w`` and, with ``bias``, ``b`` (an array or None), of standard-normal values."""
    rng = np.random.default_rng(draw(SEEDS))
    arrays = {
        "x": rng.standard_normal(x_shape).astype(dtype),
        "w": rng.standard_normal(w_shape).astype(dtype),
    }
    if bias:
        arrays["b"] = rng.standard_normal(c_out).astype(dtype) if draw(st.booleans()) else None
    return arrays


@st.composite
def conv_problems(
    draw,
    nd: int = 2,
    *,
    groups: bool = True,
    bias: bool = True,
    same: bool = False,
    batch: bool = True,
    dtype=np.float64,
    extra: int = 7,
) -> dict:
    """A valid convolution: ``x``, ``w``, ``b``, ``stride``, ``padding``, ``dilation`` and
    ``groups``.

    ``groups``: draw 1 (most often), 2 or 3 groups; False: no ``groups`` key (one group).
    ``bias``: ``b`` is an array or None; False: no ``b`` key. ``same``: ``padding="same"``
    (with stride 1) may be drawn. ``batch``: ``x`` has the batch axis. ``extra``: how much
    larger than the smallest valid size the input may be, per axis.
    """
    shape = draw(geometry(nd))
    kernel, dilation = shape["kernel_size"], shape["dilation"]
    stride, padding = shape["stride"], shape["padding"]
    if same and draw(st.booleans()):
        stride, padding = (1,) * nd, "same"
    pads = (0,) * nd if padding == "same" else padding
    size = _fitting_sizes(draw, kernel, dilation, pads, extra)
    g = draw(st.sampled_from([1, 1, 2, 3])) if groups else 1
    c_in = g * draw(st.integers(1, 3))
    c_out = g * draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    x_shape = (n, c_in, *size) if batch else (c_in, *size)
    arrays = _layer_arrays(
        draw, x_shape, (c_out, c_in // g, *kernel), c_out, bias=bias, dtype=dtype
    )
    hyper = {"stride": stride, "padding": padding, "dilation": dilation}
    return {**arrays, **hyper, **({"groups": g} if groups else {})}


@st.composite
def conv_transpose_problems(draw, nd: int = 2, *, dtype=np.float64) -> dict:
    """A valid transposed convolution: ``x``, ``w``, ``b``, ``stride``, ``padding``,
    ``output_padding``, ``dilation`` and ``groups``.

    ``output_padding`` is below ``max(stride, dilation)`` (PyTorch's rule); ``padding``
    crops at most what the output has, minus one position.
    """
    shape = draw(geometry(nd, padding=0))
    kernel, stride, dilation = shape["kernel_size"], shape["stride"], shape["dilation"]
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    size = draw(_per_axis(nd, 1, 6))
    padding = tuple(
        draw(st.integers(0, max(0, min(2, ((n - 1) * s + d * (k - 1) + op) // 2))))
        for n, s, d, k, op in zip(size, stride, dilation, kernel, output_padding, strict=True)
    )
    g = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3))
    x_shape = (draw(st.integers(1, 3)), c_in, *size)
    arrays = _layer_arrays(
        draw, x_shape, (c_in, c_out // g, *kernel), c_out, bias=True, dtype=dtype
    )
    hyper = {"stride": stride, "padding": padding, "output_padding": output_padding}
    return {**arrays, **hyper, "dilation": dilation, "groups": g}


@st.composite
def pool_problems(
    draw, nd: int = 2, *, ties: bool = False, default_stride: bool = True, dtype=np.float64
) -> dict:
    """A valid pooling: ``x``, ``kernel_size``, ``stride`` and ``padding``.

    ``padding`` is at most half the kernel (PyTorch's rule). ``default_stride``: ``stride``
    may be None (the kernel size). ``ties``: ``x`` is rounded to a few integers, so that
    most windows have several maxima.
    """
    kernel = draw(_per_axis(nd, 1, 4))
    stride = draw(_per_axis(nd, 1, 3))
    if default_stride and draw(st.booleans()):
        stride = None
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = _fitting_sizes(draw, kernel, (1,) * nd, padding, extra=8)
    rng = np.random.default_rng(draw(SEEDS))
    x = rng.standard_normal((draw(st.integers(1, 3)), draw(st.integers(1, 3)), *size))
    if ties:
        x = np.round(x)
    return {
        "x": x.astype(dtype),
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
    }


@st.composite
def unfold_problems(draw, nd: int = 2) -> dict:
    """A valid unfold (im2col): ``x`` and ``kernel_size``, ``stride``, ``padding``,
    ``dilation`` (tuples)."""
    shape = draw(geometry(nd))
    size = _fitting_sizes(draw, shape["kernel_size"], shape["dilation"], shape["padding"], 6)
    rng = np.random.default_rng(draw(SEEDS))
    x = rng.standard_normal((draw(st.integers(1, 3)), draw(st.integers(1, 4)), *size))
    return {"x": x, **shape}


@st.composite
def conv_layers(draw):
    """``(layer, (C_in, *spatial))``: a random ``nn.Conv{1,2,3}d`` or ``nn.ConvTranspose{1,2,3}d``
    and the shape of one input sample (no batch axis) that it accepts."""
    nd = draw(st.integers(1, 3))
    transpose = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    bias = draw(st.booleans())
    spans = [dilation * (k - 1) + 1 for k in kernel]
    size = tuple(draw(st.integers(max(1, s - 2 * padding), 12)) for s in spans)
    if transpose:
        padding = min(padding, *((k - 1) * dilation // 2 for k in kernel))
        layer = getattr(nn, f"ConvTranspose{nd}d")(
            c_in, c_out, kernel, stride, padding, groups=groups, bias=bias, dilation=dilation
        )
    else:
        layer = getattr(nn, f"Conv{nd}d")(
            c_in, c_out, kernel, stride, padding, dilation, groups=groups, bias=bias
        )
    return layer, (c_in, *size)
