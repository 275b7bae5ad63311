"""Checkers for notebook 03 (receptive fields), compared with :mod:`helpers.shapes`."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..shapes import receptive_field
from .answers import whole_pair
from .core import Mismatch, call, case_count, checker, numbered_cases
from .grading import generator
from .modules import expect_module

__all__ = ["dense_field_network", "receptive_field_size"]


def _closed_form(layers, *, stride_before=True, dilation=True, own_stride=False):
    """(size, stride) of a stack of (kernel, stride, dilation) layers, or a typical mistake."""
    size, jump = 1, 1
    for k, s, d in layers:
        span = d * (k - 1) + 1 if dilation else k
        if own_stride:
            jump *= s
        size += (span - 1) * (jump if stride_before else 1)
        if not own_stride:
            jump *= s
    return size, jump


def _reference(layers) -> tuple[int, int]:
    """The receptive field measured on a real 1-D network (helpers.shapes), not the formula."""
    model = nn.Sequential(*(nn.Conv1d(1, 1, k, s, dilation=d) for k, s, d in layers))
    if not layers:
        return 1, 1
    field = receptive_field(model, (1, 1, _closed_form(layers)[0] + 4 * _closed_form(layers)[1]))
    return field.size, field.stride


def _as_pair(got, label: str) -> tuple[int, int]:
    return whole_pair(got, case=label, names=("size", "stride"))


_FIELD_TOOLS = tuple(
    f"helpers.{module}.{name}"
    for module in ("shapes", "receptive_field")
    for name in ("receptive_field", "receptive_field_table", "empirical_receptive_field")
)
"""The course's receptive-field tools: they measure the field of a network for the student."""


@checker("3.1", "receptive_field_size", forbid=_FIELD_TOOLS)
def receptive_field_size(student_fn) -> str:
    """Check ``student_fn(layers) -> (size, stride)`` for layers of (kernel, stride, dilation)."""
    cases = [
        ("three 3×3 convolutions", [(3, 1, 1)] * 3),
        ("a single 5×5 convolution", [(5, 1, 1)]),
        ("no layers at all", []),
        ("3×3 convolutions with dilations 1, 2, 4, 8", [(3, 1, 2**i) for i in range(4)]),
        ("four 2×2 poolings with stride 2", [(2, 2, 1)] * 4),
        (
            "a ResNet-like stem: 7×7/2, 3×3/2 pool, two 3×3",
            [(7, 2, 1), (3, 2, 1)] + [(3, 1, 1)] * 2,
        ),
        (
            "AlexNet's features (conv1..pool5)",
            [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)]
            + [(3, 2, 1)],
        ),
        ("stride and dilation mixed", [(3, 2, 2), (5, 1, 3), (1, 2, 1), (3, 1, 2)]),
    ]
    hidden = [
        ("a 1×1 convolution with stride 3, then a 3×3", [(1, 3, 1), (3, 1, 1)]),
        (
            "VGG-16's features (13 3×3 convolutions, 5 2×2 poolings)",
            ([(3, 1, 1)] * 2 + [(2, 2, 1)]) * 2 + ([(3, 1, 1)] * 3 + [(2, 2, 1)]) * 3,
        ),
        ("even and dilated kernels with strides", [(5, 3, 2), (2, 2, 3), (4, 1, 5), (7, 1, 1)]),
    ]
    for heading, (title, layers) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} ({title}: layers={layers})"
        expected = _reference(layers)
        got = _as_pair(call(student_fn, [tuple(layer) for layer in layers], case=label), label)
        if got == expected:
            continue
        hint = (
            "layer l adds d*(k-1) times the product of the strides of the layers *before* it; "
            "the effective stride is the product of all strides."
        )
        if got == expected[::-1]:
            hint = "size and stride are swapped: return (size, stride)."
        elif got[0] == expected[0]:
            hint = "the size is right; the effective stride is the product of all the strides."
        elif got[0] == expected[0] - 1:
            hint = "off by one: with no layer at all, a unit sees 1 pixel; start from r = 1."
        elif got[0] == _closed_form(layers, stride_before=False)[0]:
            hint = (
                "you ignored the strides: after a stride-s layer, one step in the next layer "
                "moves s input pixels, so its (k-1) counts s times (1 + L(K-1) only holds "
                "for stride 1)."
            )
        elif got[0] == _closed_form(layers, own_stride=True)[0]:
            hint = (
                "a layer's growth is multiplied by the strides of the layers *before* it, "
                "not by its own stride."
            )
        elif got[0] == _closed_form(layers, dilation=False)[0]:
            hint = "you ignored the dilation: a dilated kernel spans d*(k-1)+1 pixels."
        elif got[0] == _closed_form([(k * d, s, 1) for k, s, d in layers])[0]:
            hint = "a kernel of size k with dilation d spans d*(k-1)+1 pixels, not d*k."
        raise Mismatch(f"{label}:\ngot (size, stride) = {got}, expected {expected}.\nHint: {hint}")
    count = case_count(cases, hidden)
    return f"{count} stacks match the receptive fields computed by helpers.shapes.receptive_field."


_ACTIVATION_NAMES = (
    "ReLU ReLU6 LeakyReLU PReLU RReLU ELU SELU CELU GELU SiLU Mish Tanh Sigmoid Hardtanh "
    "Hardswish Hardsigmoid Softplus Softsign Tanhshrink Softshrink Hardshrink LogSigmoid "
    "Threshold Identity"
).split()
_ACTIVATIONS = tuple(getattr(nn, name) for name in _ACTIVATION_NAMES if hasattr(nn, name))
_LAYERS_ADVICE = (
    "use only nn.Conv2d layers and elementwise activations such as nn.ReLU or nn.ELU "
    "(in an nn.Sequential, an nn.ModuleList or your own nn.Module)."
)


def _elementwise(module: nn.Module) -> bool:
    """Whether a parameter-free layer acts on each value on its own: it commutes with a
    shuffle of the values (an activation does; a pooling or a normalisation does not)."""
    if any(True for _ in module.parameters()):
        return False
    random = generator(32)
    x = torch.randn(2, 4, 5, 5, generator=random)
    order = torch.randperm(x.numel(), generator=random)
    try:
        with torch.no_grad():
            shuffled_first = module(x.flatten()[order].reshape(x.shape))
            shuffled_after = module(x.clone())
    except Exception:
        return False
    if not isinstance(shuffled_first, torch.Tensor) or not isinstance(shuffled_after, torch.Tensor):
        return False
    if shuffled_first.shape != x.shape or shuffled_after.shape != x.shape:
        return False
    return bool(torch.equal(shuffled_first.flatten(), shuffled_after.flatten()[order]))


def _conv_layers(model: nn.Module, label: str) -> list[nn.Conv2d]:
    """The convolutions of ``model``; a Mismatch for any layer that is neither a
    convolution, an elementwise activation nor a container of layers."""
    convs = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            convs.append(module)
        elif isinstance(module, _ACTIVATIONS) or any(True for _ in module.children()):
            continue  # an activation, or a container (nn.Sequential, nn.ModuleList, yours)
        elif not _elementwise(module):
            where = f" (at {name!r})" if name else ""
            raise Mismatch(
                f"{label}:\nyour network contains a {type(module).__name__}{where}; "
                + _LAYERS_ADVICE
            )
    return convs


def _linear_copy(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` with every layer but the convolutions replaced by the
    identity, weights 1 / fan_in and no biases: its gradient is positive exactly on the
    receptive field (an activation changes values, not which pixels count)."""
    linear = copy.deepcopy(model).double()
    for module in list(linear.modules()):
        for name, child in list(module.named_children()):
            if not isinstance(child, nn.Conv2d) and not any(True for _ in child.children()):
                setattr(module, name, nn.Identity())
    with torch.no_grad():
        for conv in linear.modules():
            if isinstance(conv, nn.Conv2d):
                conv.weight.fill_(1.0 / conv.weight[0].numel())
                if conv.bias is not None:
                    conv.bias.zero_()
    return linear


def _field_support(model: nn.Module, channels: int, size: int, label: str) -> np.ndarray:
    """The input pixels of a (size x size) image that influence the centre output unit
    (a boolean map), found by back-propagation through ``_linear_copy``.

    The inputs are positive and vary, so that every path through the convolutions counts
    (no cancellation, no ReLU at zero), and a max pooling hidden in ``forward`` routes the
    gradient to different pixels in different channels and inputs, which widens the field.
    """
    linear = _linear_copy(model)
    random = generator(33)
    centre = size // 2
    support = np.zeros((size, size), dtype=bool)
    for _ in range(3):
        x = 0.5 + torch.rand(1, channels, size, size, generator=random, dtype=torch.float64)
        x.requires_grad_(True)
        try:
            out = linear(x)
            out[0, :, centre, centre].sum().backward()
        except Exception as error:
            raise Mismatch(
                f"{label}:\nyour network raised {type(error).__name__} on an input of shape "
                f"(1, {channels}, {size}, {size}): {error}"
            ) from error
        support |= (x.grad[0].abs().sum(dim=0) > 0).numpy()
    return support


def fewest_layers(target: int) -> int:
    """Fewest odd square convolutions for a dense field >= target: ceil(log3(target)).

    A dense field of L layers with kernels k_l covers at most prod(k_l) pixels, and any
    kernel k >= 5 can be replaced by ceil(log3(k)) layers of 3×3 that cover at least k
    pixels with fewer weights (9 * ceil(log3(k)) < k * k); so 3×3 layers with dilations
    1, 3, 9, ... (field 3**L) are optimal.
    """
    layers, field = 0, 1
    while field < target:
        layers, field = layers + 1, field * 3
    return layers


def _describe(convs) -> str:
    parts = []
    for conv in convs:
        k = conv.kernel_size[0]
        d = conv.dilation[0]
        parts.append(f"{k}×{k}" + (f" d={d}" if d > 1 else ""))
    return ", ".join(parts) if parts else "no convolutions"


# No library function designs the network: nothing to forbid.
@checker("3.2", "dense_field_network", forbid=())
def dense_field_network(student_fn) -> str:
    """Check ``student_fn(target, channels) -> nn.Module``.

    The network must keep the image size, reach a *dense* receptive field (every pixel
    counts) of at least ``target`` pixels, and use the fewest weights possible.
    """
    targets = [(target, 4) for target in (3, 7, 9, 20, 27, 50)]
    # the smallest target, one just past 3**3 (a fourth layer), other channel counts
    hidden = [(2, 3), (28, 2), (81, 1)]
    count = 0
    for heading, (target, channels) in numbered_cases(targets, hidden=hidden):
        count += 1
        label = f"{heading} (target={target}, channels={channels})"
        model = call(student_fn, target, channels, case=label)
        expect_module(model, case=label, advice="Return nn.Sequential(*layers).")
        convs = _conv_layers(model, label)
        for conv in convs:
            problem = None
            if conv.in_channels != channels or conv.out_channels != channels:
                problem = (
                    f"has {conv.in_channels} -> {conv.out_channels} channels; keep "
                    f"`channels` = {channels} in every layer (we compare layouts, not widths)."
                )
            elif conv.groups != 1:
                problem = "is grouped; use ordinary convolutions (groups=1)."
            elif conv.stride != (1, 1):
                problem = "has a stride; use stride 1 (a stride would shrink the image)."
            elif conv.kernel_size[0] != conv.kernel_size[1] or conv.kernel_size[0] % 2 == 0:
                problem = (
                    f"has a {conv.kernel_size[0]}×{conv.kernel_size[1]} kernel; use square "
                    "kernels of odd size (k x k), so that the padding is the same on both sides."
                )
            elif conv.dilation[0] != conv.dilation[1]:
                problem = "has a different dilation on each axis; use one dilation for both."
            if problem:
                raise Mismatch(f"{label}:\nthe layer {conv} {problem}")
        size = 2 * sum(c.dilation[0] * (c.kernel_size[0] - 1) for c in convs) + 5
        if size > 2 * 3 ** (fewest_layers(target) + 1) + 5:  # and too large an image to test
            raise Mismatch(
                f"{label}:\nthe convolutions of your network ({_describe(convs)}) span "
                f"{size // 2 - 1} pixels, far more than the target {target} needs; choose "
                "each dilation at most the field so far (with 3×3 kernels: 1, 3, 9, ...)."
            )
        out_size = _output_size(model, channels, size, label)
        if out_size != (size, size):
            raise Mismatch(
                f"{label}:\nyour network turns a {size}×{size} image into "
                f"{out_size[0]}×{out_size[1]}; keep the size with padding='same' (or "
                "padding = dilation*(k-1)//2) in every convolution."
            )
        support = _field_support(model, channels, size, label)
        rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
        extents = [int(v[-1] - v[0] + 1) if v.size else 0 for v in (rows, cols)]
        field = max(extents)
        explained = size // 2 - 1  # 1 + sum of d * (k - 1) over the convolutions
        if field > explained:
            raise Mismatch(
                f"{label}:\nthe receptive field of your network is {field} pixels, more than "
                f"its nn.Conv2d layers ({_describe(convs)}) span: {explained}. Something else "
                "widens it: a layer used twice, a pooling, or a convolution in forward that "
                "is not an nn.Conv2d layer. Use each nn.Conv2d once, with elementwise "
                "activations between them."
            )
        if field < target:
            raise Mismatch(
                f"{label}:\nthe receptive field of your network ({_describe(convs)}) is "
                f"{field} pixels, smaller than the target {target}."
            )
        row = support[size // 2]
        reached = np.flatnonzero(row)
        holes = field - int(np.sum(row[reached[0] : reached[-1] + 1])) if reached.size else field
        if holes:
            raise Mismatch(
                f"{label}:\nyour field ({_describe(convs)}) spans {field} pixels, but "
                f"{holes} of them along a row have no influence on the output: the dilations "
                "leave gaps (the 'gridding' effect). Choose each dilation at most the field "
                "so far (with 3×3 kernels: 1, 3, 9, ...)."
            )
        weights = sum(conv.weight.numel() for conv in convs)
        biases = sum(conv.bias.numel() for conv in convs if conv.bias is not None)
        others = sum(p.numel() for p in model.parameters()) - weights - biases
        layers = fewest_layers(target)
        fewest = layers * 9 * channels * channels
        if weights > fewest:
            raise Mismatch(
                f"{label}:\nyour network ({_describe(convs)}) reaches a dense field of "
                f"{field} >= {target} with {weights:,} weights; the fewest possible is "
                f"{fewest:,} ({layers} layer{'s' if layers > 1 else ''} of 3×3).\nHint: "
                "3×3 kernels are the cheapest per pixel of field, and dilations 1, 3, 9, ... "
                "triple the dense field with every layer."
            )
        if biases:
            raise Mismatch(
                f"{label}:\nthe layout is optimal ({_describe(convs)}), but the network also "
                f"has {biases} biases; use bias=False so that only the weights count."
            )
        if others:
            raise Mismatch(
                f"{label}:\nthe layout is optimal ({_describe(convs)}), but the network also "
                f"has {others} parameter{'s' if others != 1 else ''} outside its "
                "convolutions (an activation with parameters, such as nn.PReLU?); use "
                "activations without parameters, so that only the weights count."
            )
    return (
        f"{count} targets: dense fields with the fewest weights (e.g. target 50: "
        f"{fewest_layers(50)} layers of 3×3 with dilations 1, 3, 9, 27)."
    )


def _output_size(model: nn.Module, channels: int, size: int, label: str) -> tuple[int, ...]:
    """The spatial output size of ``model`` on a (1, channels, size, size) input."""
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, channels, size, size))
    except Exception as error:
        raise Mismatch(
            f"{label}:\nyour network raised {type(error).__name__} on an input of shape "
            f"(1, {channels}, {size}, {size}): {error}"
        ) from error
    return tuple(out.shape[2:])
