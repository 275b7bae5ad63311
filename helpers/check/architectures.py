"""Checkers for notebook 08 (classic architectures: LeNet-5, AlexNet, VGG, FC as conv).

References come from PyTorch: the student's networks are compared, weight for weight, with
:mod:`helpers.models`; layer tables with ``nn`` layers run on the ``meta`` device (shapes
only), parameters and MACs counted by :mod:`helpers.costs` (whose test checks them
against ``torch.utils.flop_counter.FlopCounterMode``, FLOPs / 2).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..costs import count_params, model_costs
from .answers import as_items, whole_number, whole_pair, whole_shape
from .core import Mismatch, answer, call, case_count, checker, numbered_cases
from .grading import COST_COUNTERS, generator
from .modules import expect_module, run_module

__all__ = [
    "ALEXNET_LAYERS",
    "layer_table",
    "lenet5",
    "linear_to_conv",
    "stack_vs_single",
    "vgg_block",
]

ALEXNET_LAYERS = [
    ("conv", 96, 11, 4, 0),
    ("pool", 3, 2),
    ("conv", 256, 5, 1, 2),
    ("pool", 3, 2),
    ("conv", 384, 3, 1, 1),
    ("conv", 384, 3, 1, 1),
    ("conv", 256, 3, 1, 1),
    ("pool", 3, 2),
    ("fc", 4096),
    ("fc", 4096),
    ("fc", 1000),
]
"""The weighted and pooling layers of AlexNet on one GPU (input (3, 227, 227)) as specs:
``("conv", C_out, K, stride, padding)``, ``("pool", K, stride)``, ``("fc", out_features)``."""


# The counters that fill in a layer table from nn layers: 8.2 and 8.3 ask for the formulas.
_COUNTERS = COST_COUNTERS
# The course's LeNet-5 (also behind helpers.models.trained.lenet5_mnist) and VGG block.
_LENET = (
    "helpers.models.trained.lenet5_mnist",
    "helpers.models.LeNet5",
    "helpers.models.lenet.LeNet5",
)
_VGG = ("helpers.models.vgg_block", "helpers.models.vgg.vgg_block")


def _module(model, label: str) -> nn.Module:
    return expect_module(model, case=label, advice="Return the layers in an nn.Sequential.")


def _forward(model: nn.Module, x: torch.Tensor, label: str) -> torch.Tensor:
    return run_module(model, x, case=label, train=False)


def _reference_forward(reference: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The course's module on ``x`` (eval mode), outside the guard of grading mode: it may be
    one of the forbidden classes."""
    with torch.no_grad():
        return reference.eval()(x.clone())


def _load_by_size(student: nn.Module, reference: nn.Module) -> None:
    """Copy the student's parameters into ``reference``, matched by their number of elements
    (every parameter of LeNet-5 has a different size), reshaped to the reference's shape."""
    by_size = {p.numel(): p for p in student.parameters()}
    with torch.no_grad():
        for p in reference.parameters():
            p.copy_(by_size[p.numel()].detach().reshape(p.shape))


def _load_in_order(student: nn.Module, reference: nn.Module, label: str) -> None:
    mine, theirs = list(student.parameters()), list(reference.parameters())
    shapes = [tuple(p.shape) for p in mine]
    expected = [tuple(p.shape) for p in theirs]
    if shapes != expected:
        raise Mismatch(
            f"{label}:\nyour parameters have shapes {shapes}; expected (in order) {expected}."
        )
    with torch.no_grad():
        for p, q in zip(theirs, mine, strict=True):
            p.copy_(q.detach())


# --------------------------------------------------------------------------- 8.1 LeNet-5

_LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,)]
_LENET_SHAPES += [(84, 120), (84,), (10, 84), (10,)]


@checker("8.1", "lenet5", forbid=_LENET)
def lenet5(student_fn) -> str:
    """Check ``student_fn() -> nn.Module``: LeNet-5 with ReLU and max pooling, 28×28 input."""
    from ..models import LeNet5

    label = "Your function lenet5()"
    model = _module(call(student_fn, case=label), label)
    random = generator(81)
    x = torch.rand(4, 1, 28, 28, generator=random)
    out = _forward(model, x, label)  # also materialises lazy layers
    if tuple(out.shape) != (4, 10):
        hint = "the last layer maps the 84 units of F6 to 10 class scores."
        if out.ndim == 4:
            hint = "flatten the (16, 5, 5) maps before the fully connected layers."
        raise Mismatch(
            f"{label}:\nfor x of shape (4, 1, 28, 28) your model returns shape "
            f"{tuple(out.shape)}, expected (4, 10).\nHint: {hint}"
        )
    count = count_params(model)
    if count != 61_706:
        hint = "C1 6@5×5 pad 2, C3 16@5×5, then 400 -> 120 -> 84 -> 10, every layer with biases."
        if count == 44_426:
            hint = (
                "C1 needs padding=2: a 28×28 digit must give 28×28 maps (the paper's 32×32 "
                "input), so that S4 is 16 x 5 x 5 = 400 values."
            )
        elif count == 61_706 - (6 + 16 + 120 + 84 + 10):
            hint = "every layer has biases (bias=True is the default)."
        raise Mismatch(
            f"{label}:\nyour model has {count:,} parameters, expected 61,706.\nHint: {hint}"
        )
    sizes = sorted(p.numel() for p in model.parameters())
    if sizes != sorted(math.prod(s) for s in _LENET_SHAPES):
        raise Mismatch(
            f"{label}:\nthe right number of parameters, but not LeNet-5's layers: expected "
            f"weights and biases of shapes {_LENET_SHAPES}."
        )
    variants = {
        ("relu", "max"): None,
        (
            "tanh",
            "avg",
        ): "that is the 1998 network (tanh, average pooling); use ReLU and max pooling.",
        ("relu", "avg"): "use max pooling (nn.MaxPool2d(2)), not average pooling.",
        ("tanh", "max"): "use ReLU activations, not tanh.",
        ("sigmoid", "max"): "use ReLU activations, not sigmoid.",
    }
    for (activation, pooling), hint in variants.items():
        reference = LeNet5(activation, pooling)
        _load_by_size(model, reference)
        expected = _reference_forward(reference, x)
        if torch.allclose(out, expected, atol=1e-5, rtol=1e-4):
            if hint is None:
                _other_batches(model, reference, random, label)
                return "61,706 parameters; same outputs as helpers.models.LeNet5('relu', 'max')."
            raise Mismatch(f"{label}:\nthe layers are right, the outputs are not.\nHint: {hint}")
        if activation == "relu" and pooling == "max":
            if torch.allclose(out, torch.relu(expected), atol=1e-5, rtol=1e-4):
                raise Mismatch(
                    f"{label}:\nyour outputs are never negative.\nHint: no ReLU after the "
                    "last layer: it returns logits (class scores), not activations."
                )
    raise Mismatch(
        f"{label}:\nthe layers have the right sizes but the outputs differ from LeNet-5's.\n"
        "Hint: the order is conv -> ReLU -> max pool (twice), flatten, then "
        "linear -> ReLU (twice) and a last linear layer without activation."
    )


def _other_batches(model: nn.Module, reference: nn.Module, random, label: str) -> None:
    """Grading mode only: a single digit and an odd batch give the reference's outputs too
    (a network that hard-codes the batch size or flattens it away fails here)."""
    for heading, n in numbered_cases([], hidden=[1, 7]):
        x = torch.rand(n, 1, 28, 28, generator=random)
        case = f"{label}, {heading} (x of shape {tuple(x.shape)})"
        out = _forward(model, x, case)
        expected = _reference_forward(reference, x)
        if out.shape != expected.shape or not torch.allclose(out, expected, atol=1e-5, rtol=1e-4):
            raise Mismatch(
                f"{case}:\nyour model returns shape {tuple(out.shape)}, expected "
                f"{tuple(expected.shape)} with LeNet-5's values.\nHint: flatten with "
                "nn.Flatten() (it keeps the batch axis); never hard-code the batch size."
            )


# --------------------------------------------------------------------- 8.2 layer table


def _spec_module(spec, shape: tuple[int, ...]) -> nn.Module:
    kind = spec[0]
    if kind == "conv":
        _, c_out, k, s, p = spec
        return nn.Conv2d(shape[0], c_out, k, s, p, device="meta")
    if kind == "pool":
        _, k, s = spec
        return nn.MaxPool2d(k, s)
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(shape), spec[1], device="meta"))


def _reference_table(layers, input_shape) -> list[tuple[tuple[int, ...], int, int]]:
    rows, shape = [], tuple(input_shape)
    for spec in layers:
        module = _spec_module(spec, shape)
        params, macs = model_costs(module, shape)
        with torch.no_grad():
            out = module(torch.empty(1, *shape, device="meta"))
        shape = tuple(out.shape[1:])
        rows.append((shape, params, macs))
    return rows


_TABLE_CASES = [
    ("AlexNet, one GPU", ALEXNET_LAYERS, (3, 227, 227)),
    (
        "LeNet-5",
        [("conv", 6, 5, 1, 2), ("pool", 2, 2), ("conv", 16, 5, 1, 0), ("pool", 2, 2)]
        + [("fc", 120), ("fc", 84), ("fc", 10)],
        (1, 28, 28),
    ),
    (
        "torchvision's AlexNet (features)",
        [("conv", 64, 11, 4, 2), ("pool", 3, 2), ("conv", 192, 5, 1, 2), ("pool", 3, 2)]
        + [("conv", 384, 3, 1, 1), ("conv", 256, 3, 1, 1), ("conv", 256, 3, 1, 1)]
        + [("pool", 3, 2)],
        (3, 224, 224),
    ),
    (
        "a small net on a non-square image",
        [("conv", 8, 3, 2, 1), ("pool", 2, 2), ("conv", 4, 1, 1, 0), ("fc", 5)],
        (2, 20, 34),
    ),
]
_HIDDEN_TABLES = [
    ("a kernel as large as the input", [("conv", 3, 7, 1, 0), ("fc", 4)], (5, 7, 7)),
    (
        "odd sizes and strides",
        [("conv", 5, 3, 3, 2), ("pool", 2, 1), ("conv", 6, 2, 2, 0), ("pool", 3, 3)]
        + [("fc", 7), ("fc", 2)],
        (3, 31, 17),
    ),
    ("a fully connected layer on the image", [("fc", 10), ("fc", 3)], (1, 28, 28)),
]


def _as_row(row, label: str, index: int):
    if row is None or not isinstance(row, (tuple, list)) or len(row) != 3:
        raise Mismatch(
            f"{label}:\nrow {index} is {row!r}; each row must be a tuple "
            "(output_shape, params, macs)."
        )
    shape, params, macs = row
    items = as_items(shape)
    if items is None or len(items) == 0:
        raise Mismatch(
            f"{label}:\nrow {index}: the output shape {shape!r} must be a tuple of ints."
        )
    shape = whole_shape(shape, case=label, name=f"row {index}: the output shape")
    params = whole_number(params, case=label, name=f"row {index}: params")
    macs = whole_number(macs, case=label, name=f"row {index}: macs")
    return shape, params, macs


def _table_hint(spec, got, expected, in_shape) -> str:
    (shape, params, macs), (e_shape, e_params, e_macs) = got, expected
    kind = spec[0]
    if shape != e_shape:
        if sorted(shape) == sorted(e_shape):
            return "the order is (channels, height, width)."
        if kind == "pool":
            return "a pool of size K and stride S gives floor((n - K) / S) + 1."
        if kind == "conv":
            return "a conv gives floor((n + 2P - K) / S) + 1 on each side."
        return "a fully connected layer outputs (out_features,)."
    if params != e_params:
        if kind == "pool":
            return "pooling has no parameters."
        c_out = e_shape[0]
        if params == e_params - c_out:
            return "you forgot the biases: one per output channel (or unit)."
        if kind == "fc":
            return "a fully connected layer has in_features x out_features weights + biases."
        return "a conv has C_out x C_in x K x K weights + C_out biases."
    if kind == "pool":
        return "pooling layers count 0 MACs (no multiplications)."
    if macs == e_macs + math.prod(e_shape):
        return "a MAC is one multiply-add of a weight; biases are not counted."
    if kind == "conv" and macs == params * math.prod(e_shape[1:]):
        return "count only the weights per output element (no bias): C_in x K x K each."
    if kind == "conv" and macs == e_macs // math.prod(e_shape[1:]) * math.prod(in_shape[1:]):
        return "use the number of *output* positions (H_out x W_out), not the input's."
    return "MACs = (output elements) x (weights that each output element uses)."


@checker("8.2", "layer_table", forbid=_COUNTERS)
def layer_table(student_fn) -> str:
    """Check ``student_fn(layers, input_shape) -> [(output_shape, params, macs), ...]``."""
    count = 0
    for heading, (name, layers, input_shape) in numbered_cases(_TABLE_CASES, hidden=_HIDDEN_TABLES):
        count += 1
        label = f"{heading} ({name}, input_shape={input_shape})"
        got = answer(student_fn, [tuple(s) for s in layers], tuple(input_shape), case=label)
        if not isinstance(got, (list, tuple)):
            raise Mismatch(f"{label}:\nexpected a list of rows, got {type(got).__name__}.")
        expected = _reference_table(layers, input_shape)
        if len(got) != len(expected):
            raise Mismatch(
                f"{label}:\ngot {len(got)} rows for {len(layers)} layers; return one row per "
                "layer, in order."
            )
        in_shape = tuple(input_shape)
        for index, (spec, row, reference) in enumerate(zip(layers, got, expected, strict=True)):
            row = _as_row(row, label, index)
            if row != reference:
                raise Mismatch(
                    f"{label}:\nrow {index} {spec}: got (shape, params, MACs) = {row}, "
                    f"expected {reference}.\nHint: {_table_hint(spec, row, reference, in_shape)}"
                )
            in_shape = reference[0]
    return f"{count} networks: every shape, parameter count and MAC count matches."


# ------------------------------------------------------------------------ 8.4 VGG block


@checker("8.4", "vgg_block", forbid=_VGG)
def vgg_block(student_fn) -> str:
    """Check ``student_fn(num_convs, in_channels, out_channels) -> nn.Module``."""
    from ..models import vgg_block as reference_block

    cases = [(1, 3, 8, 10, 12), (2, 4, 6, 9, 9), (3, 2, 5, 8, 6)]
    hidden = [(4, 1, 3, 7, 5), (2, 5, 1, 2, 3)]  # odd sizes; a 2x3 input pools to 1x1
    random = generator(83)
    for heading, (num_convs, c_in, c_out, h, w) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} (num_convs={num_convs}, in_channels={c_in}, out_channels={c_out})"
        block = _module(call(student_fn, num_convs, c_in, c_out, case=label), label)
        x = torch.randn(2, c_in, h, w, generator=random)
        out = _forward(block, x, label)
        expected_shape = (2, c_out, h // 2, w // 2)
        if tuple(out.shape) != expected_shape:
            hint = "each 3×3 conv keeps the size (padding=1); the 2×2 max pool halves it."
            if tuple(out.shape[2:]) == (h, w):
                hint = "end the block with nn.MaxPool2d(kernel_size=2, stride=2)."
            elif tuple(out.shape[2:]) == ((h - 2 * num_convs) // 2, (w - 2 * num_convs) // 2):
                hint = "use padding=1 so that every 3×3 conv keeps the size."
            elif out.shape[1] != c_out:
                hint = "the block outputs out_channels channels."
            raise Mismatch(
                f"{label}:\nfor x of shape {tuple(x.shape)} your block returns "
                f"{tuple(out.shape)}, expected {expected_shape}.\nHint: {hint}"
            )
        reference = reference_block(num_convs, c_in, c_out)
        if count_params(block) != count_params(reference):
            raise Mismatch(
                f"{label}:\nyour block has {count_params(block):,} parameters, expected "
                f"{count_params(reference):,}.\nHint: the first conv maps in_channels to "
                "out_channels, the others out_channels to out_channels; all 3×3 with biases."
            )
        _load_in_order(block, reference, label)
        expected = _reference_forward(reference, x)
        if not torch.allclose(out, expected, atol=1e-5, rtol=1e-4):
            hint = "the layers are conv -> ReLU, repeated num_convs times, then a 2×2 max pool."
            pooled = nn.functional.avg_pool2d(nn.functional.relu(reference[:-1](x)), 2)
            if torch.allclose(out, pooled, atol=1e-5, rtol=1e-4):
                hint = "use max pooling (nn.MaxPool2d), not average pooling."
            raise Mismatch(f"{label}:\nthe output values differ from a VGG block's.\nHint: {hint}")
    count = case_count(cases, hidden)
    return f"{count} blocks: same shapes, parameters and outputs as helpers.models.vgg_block."


# -------------------------------------------------------------- 8.3 3x3 stack vs one conv


@checker("8.3", "stack_vs_single", forbid=_COUNTERS)
def stack_vs_single(student_fn) -> str:
    """Check ``student_fn(channels, num_layers, kernel_size) -> (stack, single)`` (weights)."""
    cases = [(64, 2, 3), (512, 3, 3), (1, 1, 3), (16, 4, 5), (7, 3, 3), (32, 2, 1)]
    hidden = [(3, 5, 3), (10, 1, 7), (2, 3, 4)]  # five layers; one 7x7; an even kernel
    count = 0
    for heading, (c, layers, k) in numbered_cases(cases, hidden=hidden):
        count += 1
        label = f"{heading} (channels={c}, num_layers={layers}, kernel_size={k})"
        got = call(student_fn, c, layers, k, case=label)
        stack, single = whole_pair(got, case=label, names=("stack_weights", "single_weights"))
        field = 1 + layers * (k - 1)
        stack_ref = sum(
            nn.Conv2d(c, c, k, bias=False, device="meta").weight.numel() for _ in range(layers)
        )
        single_ref = nn.Conv2d(c, c, field, bias=False, device="meta").weight.numel()
        if (stack, single) == (stack_ref, single_ref):
            continue
        hint = "a KxK conv from C to C channels has K*K*C*C weights."
        if (stack, single) == (single_ref, stack_ref):
            hint = "the pair is in the wrong order: (stack, single)."
        elif (stack, single) == (stack_ref + layers * c, single_ref + c):
            hint = "count weights only, no biases (the paper's 27C² vs 49C²)."
        elif stack == stack_ref and single == (layers * k) ** 2 * c * c:
            hint = (
                f"{layers} stacked {k}×{k} convs see {field}×{field} pixels, not "
                f"{layers * k}×{layers * k}: each layer adds K - 1 = {k - 1}."
            )
        elif stack == stack_ref // layers:
            hint = "the stack has num_layers convolutions."
        elif stack == layers * k * k * c:
            hint = "each conv maps C channels to C channels: K*K*C*C weights."
        raise Mismatch(
            f"{label}:\ngot (stack, single) = ({stack}, {single}), expected "
            f"({stack_ref}, {single_ref}).\nHint: {hint}"
        )
    return f"{count} cases: e.g. three 3×3 layers = 27C² weights, one 7×7 = 49C²."


# ------------------------------------------------------- 8.6 a linear layer as a convolution

_FC_TO_CONV = (
    "helpers.models.fully_convolutional.linear_to_conv",
    "helpers.models.fully_convolutional.convolutionalize",
    "helpers.models.linear_to_conv",
    "helpers.models.convolutionalize",
)


def _fc_values(conv: nn.Module, x: torch.Tensor, label: str) -> torch.Tensor:
    out = _forward(conv, x, label)
    n, c, h, w = x.shape
    if out.ndim != 4 or tuple(out.shape[2:]) != (1, 1):
        hint = "return an nn.Conv2d whose kernel covers the whole (H, W) map."
        if out.ndim == 2:
            hint = (
                "return a convolution, not a linear layer: its output keeps two spatial axes "
                "of size 1, (N, out_features, 1, 1), so that a larger input gives a map."
            )
        raise Mismatch(
            f"{label}:\nfor x of shape {tuple(x.shape)} your layer returns shape "
            f"{tuple(out.shape)}, expected (N, out_features, 1, 1).\nHint: {hint}"
        )
    return out.flatten(1)


@checker("8.6", "linear_to_conv", forbid=_FC_TO_CONV)
def linear_to_conv(student_fn) -> str:
    """Check ``student_fn(linear, in_shape) -> nn.Conv2d`` equal to ``linear`` on (C, H, W) maps."""
    cases = [(4, 3, 3, 5, True), (2, 5, 7, 3, True), (16, 1, 1, 10, True), (3, 2, 4, 6, True)]
    hidden = [(1, 6, 6, 2, True), (8, 3, 2, 1, True), (2, 3, 3, 4, False)]
    random = generator(86)
    for heading, (c, h, w, out_features, bias) in numbered_cases(cases, hidden=hidden):
        label = f"{heading} (nn.Linear({c * h * w}, {out_features}), in_shape=({c}, {h}, {w}))"
        linear = nn.Linear(c * h * w, out_features, bias=bias)
        with torch.no_grad():
            linear.weight.copy_(torch.randn(linear.weight.shape, generator=random))
            if bias:
                linear.bias.copy_(torch.randn(out_features, generator=random))
        x = torch.randn(2, c, h, w, generator=random)
        big = torch.randn(1, c, h + 2, w + 1, generator=random)
        with torch.no_grad():
            expected = linear(x.flatten(1))
            corner = linear(big[:, :, :h, :w].flatten(1))
            last = linear(big[:, :, 2:, 1:].flatten(1))
            weight, b = linear.weight.clone(), None if linear.bias is None else linear.bias.clone()
        conv = _module(call(student_fn, linear, (c, h, w), case=label), label)
        got = _fc_values(conv, x, label)
        if got.shape != expected.shape or not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            hint = "the weights of the convolution are the linear weights reshaped."
            reordered = weight.reshape(out_features, h, w, c).permute(0, 3, 1, 2)
            channels_last = nn.functional.conv2d(x, reordered, b)
            if got.shape != expected.shape:
                hint = "the convolution has out_features output channels."
            elif torch.allclose(got, channels_last.flatten(1), atol=1e-4, rtol=1e-4):
                hint = (
                    "reshape the weights to (out_features, C, H, W): nn.Flatten reads the map "
                    "channel by channel, then row by row, not (H, W, C)."
                )
            elif b is not None and torch.allclose(got, expected - b, atol=1e-4, rtol=1e-4):
                hint = "copy the bias of the linear layer too."
            raise Mismatch(
                f"{label}:\nyour convolution's outputs differ from the linear layer's on the "
                f"same (C, H, W) maps.\nHint: {hint}"
            )
        out = _forward(conv, big, label)
        if tuple(out.shape) != (1, out_features, 3, 2) or not (
            torch.allclose(out[..., 0, 0], corner, atol=1e-4, rtol=1e-4)
            and torch.allclose(out[..., -1, -1], last, atol=1e-4, rtol=1e-4)
        ):
            raise Mismatch(
                f"{label}:\non a larger map of shape {tuple(big.shape)} your layer returns "
                f"{tuple(out.shape)}, expected a (1, {out_features}, 3, 2) map whose corners "
                "are the linear layer on the corner windows.\nHint: stride 1, no padding, "
                "kernel (H, W)."
            )
    count = case_count(cases, hidden)
    return (
        f"{count} layers: the same outputs as nn.Linear on (C, H, W) maps, and a map of "
        "outputs on larger inputs."
    )
