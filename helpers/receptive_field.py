"""Receptive fields of PyTorch models: computed from the layers, and measured by gradients.

Conventions (Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019). Along one spatial axis, layer ``l`` has kernel size ``k_l``,
stride ``s_l``, padding ``p_l`` and dilation ``d_l``, so its kernel spans
``k_eff = d_l (k_l - 1) + 1`` positions. Output unit ``j`` of a stack of ``L`` layers sees
the input positions ``j*S - P, ..., j*S - P + r - 1`` (negative positions are padding),
with::

    size     r = 1 + sum_l (k_eff_l - 1) * prod_{i<l} s_i
    stride   S = prod_l s_l                    (distance between neighbouring fields)
    padding  P = sum_l p_l * prod_{i<l} s_i     (how far the first field starts left of 0)

Every axis is computed separately. A field is reported as ints when all spatial axes
agree (square kernels, equal strides), else as tuples with one entry per axis.

:func:`receptive_field` traces the model with ``torch.fx``, so it follows branches and
residual connections. Where paths merge (``+``, ``torch.cat``, ...), their effective
strides must agree (Distill's "aligned" networks); the merged field is the box that
covers the fields of all paths: the largest one when they share a centre, as usual.
What each layer does:

* convolutions and max/average pooling (``ceil_mode`` included): kernel, stride,
  padding and dilation as above;
* pass-through (size 1, stride 1): activations, batch/group/instance/layer norm (their
  statistics, which in training mode mix all positions, are ignored), dropout,
  ``Identity``, channel-wise operations;
* adaptive pooling: the identity when it keeps the size, an ordinary pooling when the
  input size is a multiple of the output size, otherwise (e.g. global pooling) the
  field becomes the whole input;
* ``Flatten``, ``Linear``, ``view``/``reshape``, means over spatial axes: from there on
  every output sees the whole input: size = input size, stride = input size,
  padding = 0 (``whole_input`` is True in the table).

Transposed convolutions, upsampling and other layers that are not listed raise a
``ValueError`` naming the layer.

:func:`empirical_receptive_field` measures the field instead: it copies the model, sets
every weight to a positive constant (``1 / fan_in``), biases to zero, normalisation
layers to the identity and replaces max pooling by average pooling with the same
window (max pooling sends the gradient to a single winner, and on a constant input
every value ties), then back-propagates from one output unit to an all-ones input.
Every input pixel that can influence the unit gets a positive gradient; the bounding
box of those pixels is the receptive field. Since all the weights are equal, every
channel carries the same values, so the copy keeps one channel: it is fast even for
ResNet-50, and the model's own weights are neither copied nor changed.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import NamedTuple

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from ._validate import positive_ints

__all__ = [
    "LayerField",
    "ReceptiveField",
    "ReceptiveFieldTable",
    "empirical_receptive_field",
    "field_gradient",
    "receptive_field",
    "receptive_field_table",
]


class ReceptiveField(NamedTuple):
    """Receptive field of a unit: ``size`` r, effective ``stride`` S, effective ``padding`` P.

    Output unit ``j`` sees input positions ``j*S - P`` to ``j*S - P + r - 1``. Each entry
    is an int, or a tuple with one int per spatial axis where the axes differ.
    """

    size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    padding: int | tuple[int, ...]


class LayerField(NamedTuple):
    """One row of :func:`receptive_field_table`: a layer and the field after it.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are the layer's own (``None``
    for layers that do not move the field: activations, merges, ...); ``size``,
    ``effective_stride`` and ``effective_padding`` describe the field of one unit of its
    output, in input pixels. ``whole_input`` is True once every unit sees the whole input.
    """

    name: str
    type: str
    kernel_size: int | tuple[int, ...] | None
    stride: int | tuple[int, ...] | None
    padding: int | tuple[int, ...] | None
    dilation: int | tuple[int, ...] | None
    output_shape: tuple[int, ...]
    size: int | tuple[int, ...]
    effective_stride: int | tuple[int, ...]
    effective_padding: int | tuple[int, ...]
    whole_input: bool = False

    @property
    def field(self) -> ReceptiveField:
        return ReceptiveField(self.size, self.effective_stride, self.effective_padding)


_COLUMNS = (
    ("layer", "name"),
    ("type", "type"),
    ("kernel", "kernel_size"),
    ("stride", "stride"),
    ("pad", "padding"),
    ("dil", "dilation"),
    ("output", "output_shape"),
    ("field r", "size"),
    ("eff. stride S", "effective_stride"),
    ("eff. pad P", "effective_padding"),
)


class ReceptiveFieldTable(tuple):
    """The rows of :func:`receptive_field_table` (a tuple of :class:`LayerField`).

    Prints as a text table and shows as an HTML table in a notebook.
    """

    def _cells(self) -> list[list[str]]:
        def text(row: LayerField, attribute: str) -> str:
            value = getattr(row, attribute)
            if row.whole_input and attribute in ("size", "effective_stride"):
                return "whole input"
            if value is None:
                return ""
            if isinstance(value, tuple):
                return "×".join(str(v) for v in value)
            return str(value)

        return [[text(row, attribute) for _, attribute in _COLUMNS] for row in self]

    def __str__(self) -> str:
        header = [title for title, _ in _COLUMNS]
        body = self._cells()
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
        lines[0] = lines[0].rstrip()
        lines.append("  ".join("-" * width for width in widths))
        for line in body:
            lines.append(
                "  ".join(
                    cell.ljust(width) if i < 2 else cell.rjust(width)
                    for i, (cell, width) in enumerate(zip(line, widths, strict=True))
                )
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"

        header = row([title for title, _ in _COLUMNS], "th")
        body = "".join(row(cells, "td") for cells in self._cells())
        return (
            '<table style="font-family:monospace;font-size:12px">'
            f"<thead>{header}</thead><tbody>{body}</tbody></table>"
        )


# ------------------------------------------------------------------------ public API


def receptive_field(model: nn.Module, input_shape) -> ReceptiveField:
    """Receptive field of one unit of ``model``'s output, computed from its layers.

    Args:
        model: any ``nn.Module`` that ``torch.fx.symbolic_trace`` can trace (plain Python
            control flow that depends on the input's values cannot be traced). It is run
            once, in eval mode and without gradients, to learn the shapes; its weights,
            buffers and train/eval flags are left unchanged.
        input_shape: ``(N, C, *spatial)``, e.g. ``(1, 3, 224, 224)``, or ``(C, *spatial)``
            (told apart by the dimensions of the model's first convolution or pooling;
            without one, a shape of three or more entries is taken to include ``N``).

    Returns:
        ``ReceptiveField(size, stride, padding)`` in input pixels, following Distill's
        conventions (module docstring); ints, or tuples per spatial axis where the axes
        differ.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``, or ``input_shape`` is not a tuple.
        ValueError: a bad ``input_shape``, a model that cannot be traced or run on it, a
            layer whose receptive field is not defined here, or branches with different
            effective strides.
    """
    table = _analyse(model, input_shape, "receptive_field")
    return table[-1].field


def receptive_field_table(model: nn.Module, input_shape) -> ReceptiveFieldTable:
    """Like :func:`receptive_field`, with one row per traced operation.

    Returns:
        A :class:`ReceptiveFieldTable`: a tuple of :class:`LayerField` rows in execution
        order (one per module call or tensor operation; shape queries are skipped), the
        last being the model's output. ``name`` is the module's path in the model
        (``"features.0"``) or the operation's name (``"add_3"``).
    """
    return _analyse(model, input_shape, "receptive_field_table")


def field_gradient(model: nn.Module, input_shape, unit=None) -> np.ndarray:
    """Gradient of one output unit with respect to the input, with positive constant weights.

    The model is copied and changed as described in the module docstring (weights
    ``1 / fan_in``, zero biases, identity normalisation, max pooling replaced by average
    pooling), so that every input pixel that can influence the unit gets a positive value.

    Args:
        model: as in :func:`receptive_field` (left unchanged).
        input_shape: ``(N, C, *spatial)`` or ``(C, *spatial)``; ``N`` is ignored.
        unit: index of the output unit along each spatial axis (a tuple, or an int for
            every axis); default: the centre, ``out // 2``.

    Returns:
        ``(*spatial)`` float64 array: the gradient summed over input channels.
    """
    fname = "field_gradient"
    graph, shape = _prepare(model, input_shape, fname, shapes=False)
    gradients, _ = _gradients(graph, shape, unit, fname, with_neighbour=False)
    return gradients[0]


def empirical_receptive_field(model: nn.Module, input_shape, unit=None) -> ReceptiveField:
    """Receptive field measured by back-propagating from one output unit to the input.

    See the module docstring for how the model is prepared. Two units are measured: the
    one at ``unit`` (default: the centre of the output) and its diagonal neighbour, so
    that the effective stride is the shift between their fields.

    Args:
        model: as in :func:`receptive_field` (left unchanged).
        input_shape: ``(N, C, *spatial)`` or ``(C, *spatial)``; ``N`` is ignored.
        unit: index of the measured output unit, as in :func:`field_gradient`.

    Returns:
        ``ReceptiveField(size, stride, padding)``: the bounding box of the pixels with a
        nonzero gradient. Only pixels inside the input are measured: where the field
        reaches into the padding, the measured size is smaller than the one computed by
        :func:`receptive_field`; use an input larger than the field, and the centre unit.
        Along an axis where the output has a single position, the stride is reported as
        the input size.
    """
    fname = "empirical_receptive_field"
    graph, shape = _prepare(model, input_shape, fname, shapes=False)
    gradients, units = _gradients(graph, shape, unit, fname, with_neighbour=True)
    spatial = shape[2:]
    sizes, strides, paddings = [], [], []
    for axis, n in enumerate(spatial):
        other = tuple(a + 1 for a in range(len(spatial)) if a != axis)
        touched = np.any(gradients != 0, axis=other) if other else gradients != 0
        if not touched[0].any():
            raise ValueError(
                f"{fname}: the output unit does not depend on the input (all gradients are 0)"
            )
        (lo0, lo1), (hi0, hi1) = (
            [int(np.flatnonzero(t)[0]) for t in touched],
            [int(np.flatnonzero(t)[-1]) for t in touched],
        )
        u0, u1 = units[axis]
        sizes.append(hi0 - lo0 + 1)
        if u1 == u0:
            strides.append(n)  # a single output position: no neighbour to compare with
        elif hi1 < n - 1:  # measure the shift at an end that the input border did not cut
            strides.append((hi1 - hi0) // (u1 - u0))
        else:
            strides.append((lo1 - lo0) // (u1 - u0))
        paddings.append(u0 * strides[-1] - lo0)
    return ReceptiveField(_pack(sizes), _pack(strides), _pack(paddings))


# ------------------------------------------------------------------------ analysis


class _Axis(NamedTuple):
    size: int
    stride: int
    padding: int


_WHOLE = "whole input"

_PASS_MODULES = (
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.BatchNorm3d,
    nn.SyncBatchNorm,
    nn.GroupNorm,
    nn.InstanceNorm1d,
    nn.InstanceNorm2d,
    nn.InstanceNorm3d,
    nn.LayerNorm,
    nn.LocalResponseNorm,
    nn.Identity,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
    nn.FeatureAlphaDropout,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardtanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Softplus,
    nn.Softsign,
    nn.Tanhshrink,
    nn.Threshold,
    nn.ChannelShuffle,
)
_WHOLE_MODULES = (nn.Flatten, nn.Linear, nn.Bilinear, nn.LazyLinear)
_CONV = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
_MAX_POOL = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
_AVG_POOL = {nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}
_ADAPTIVE = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)
_PADS = (
    nn.ZeroPad1d,
    nn.ZeroPad2d,
    nn.ZeroPad3d,
    nn.ConstantPad1d,
    nn.ConstantPad2d,
    nn.ConstantPad3d,
    nn.ReflectionPad1d,
    nn.ReflectionPad2d,
    nn.ReflectionPad3d,
    nn.ReplicationPad1d,
    nn.ReplicationPad2d,
    nn.ReplicationPad3d,
    nn.CircularPad1d,
    nn.CircularPad2d,
    nn.CircularPad3d,
)

# element-wise functions and methods: the field of every input, merged
_POINTWISE = {
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu",
    "gelu", "silu", "mish", "sigmoid", "tanh", "hardtanh", "hardswish", "hardsigmoid",
    "softplus", "softsign", "prelu", "rrelu", "threshold", "logsigmoid",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "add", "add_", "iadd", "sub", "sub_", "isub", "mul", "mul_", "imul", "truediv",
    "div", "div_", "itruediv", "neg", "pos", "abs", "exp", "log", "sqrt", "rsqrt", "pow",
    "square", "clamp", "clamp_", "clip", "maximum", "minimum", "where",
    "contiguous", "clone", "detach", "float", "double", "half", "to", "type_as",
    "cat", "concat", "concatenate", "stack", "channel_shuffle", "batch_norm",
    "instance_norm", "group_norm", "layer_norm", "local_response_norm",
}  # fmt: skip
_WHOLE_FUNCTIONS = {"flatten", "view", "reshape", "linear", "flatten_", "squeeze"}
_REDUCTIONS = {"mean", "sum", "amax", "amin", "max", "min", "std", "var", "norm", "prod"}
_IGNORED = {"size", "dim", "getattr", "numel"}


def _analyse(model, input_shape, fname: str) -> ReceptiveFieldTable:
    graph, shape = _prepare(model, input_shape, fname)
    nd = len(shape) - 2
    spatial = shape[2:]
    states: dict[fx.Node, object] = {}
    rows: list[LayerField] = []
    output_state = None
    for node in graph.graph.nodes:
        if node.op == "placeholder":
            states[node] = tuple(_Axis(1, 1, 0) for _ in range(nd))
            continue
        if node.op == "get_attr":
            states[node] = None
            continue
        if node.op == "output":
            output_state = _merge(_node_states(node.args, states), node, fname)
            break
        state, layer = _step(graph, node, states, nd, spatial, fname)
        states[node] = state
        meta = node.meta.get("tensor_meta")
        if state is None or not hasattr(meta, "shape"):
            continue
        rows.append(_row(graph, node, layer, tuple(meta.shape), state, spatial))
    if output_state is None:
        raise ValueError(f"{fname}: the model's output does not depend on its input")
    if not rows or rows[-1].field != _field(output_state, spatial):
        rows.append(
            LayerField(
                "output",
                "output",
                None,
                None,
                None,
                None,
                (),
                *_field(output_state, spatial),
                whole_input=output_state == _WHOLE,
            )
        )
    return ReceptiveFieldTable(rows)


def _prepare(model, input_shape, fname: str, *, shapes: bool = True):
    """Trace ``model``; with ``shapes``, record every node's output shape (``tensor_meta``).

    The shapes come from one run on PyTorch's ``meta`` device (no computation), with the
    model's parameters and buffers swapped for meta tensors by ``functional_call``: the
    model itself is neither copied nor changed.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _full_shape(model, input_shape, fname)
    try:
        graph = fx.symbolic_trace(model)
    except Exception as error:
        raise ValueError(
            f"{fname}: torch.fx could not trace the model ({type(error).__name__}: {error}). "
            "Control flow that depends on the input's values cannot be traced."
        ) from error
    if not shapes:
        return graph, shape
    runner = _ShapeRunner(graph)
    tensors = {
        name: torch.empty_like(value, device="meta")
        for name, value in [*runner.named_parameters(), *runner.named_buffers()]
    }
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None and parameter.is_floating_point() else None
    example = torch.zeros(shape, dtype=dtype or torch.float32, device="meta")
    flags = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. padding="same" with an even kernel
            torch.func.functional_call(runner, tensors, (example,))
    except Exception as error:
        raise ValueError(
            f"{fname}: the model cannot run on an input of shape {shape}: "
            f"{type(error).__name__}: {error}"
        ) from error
    finally:
        for module, training in flags:
            module.training = training
    return graph, shape


class _ShapeRunner(nn.Module):
    """Runs ``torch.fx``'s ShapeProp on a traced graph (a module, for ``functional_call``)."""

    def __init__(self, graph: fx.GraphModule):
        super().__init__()
        self.graph_module = graph

    def forward(self, x):
        return ShapeProp(self.graph_module).propagate(x)


def _full_shape(model: nn.Module, input_shape, fname: str) -> tuple[int, ...]:
    """``input_shape`` as ``(1, C, *spatial)``; a missing batch axis is added."""
    if isinstance(input_shape, torch.Size):
        input_shape = tuple(input_shape)
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(
            f"{fname}: input_shape must be a tuple such as (1, 3, 224, 224), "
            f"got {type(input_shape).__name__}"
        )
    shape = positive_ints(input_shape, "input_shape", fname)
    nd = _model_dims(model)
    if nd is not None and len(shape) == nd + 1:
        shape = (1, *shape)
    elif nd is None and len(shape) == 2:  # no layer tells the dimensions: (C, L)
        shape = (1, *shape)
    if len(shape) < 3 or (nd is not None and len(shape) != nd + 2):
        expected = "(N, C, *spatial)" if nd is None else f"{nd + 2} entries (N, C, *spatial)"
        raise ValueError(
            f"{fname}: input_shape must have {expected} or one fewer without N; "
            f"got {tuple(input_shape)!r}"
        )
    return (1, *shape[1:])


def _model_dims(model: nn.Module) -> int | None:
    """Spatial dimensions of the model's first convolution or pooling, if any."""
    for module in model.modules():
        for table in (_CONV, _MAX_POOL, _AVG_POOL):
            for kind, nd in table.items():
                if type(module) is kind:
                    return nd
    return None


def _node_states(args, states) -> list:
    """The states of every fx node inside ``args`` (nested tuples, lists and dicts)."""
    found = []
    fx.node.map_arg(args, lambda n: found.append(states.get(n)) or n)
    return found


def _merge(inputs: list, node, fname: str):
    """Merge the fields of several inputs of an element-wise operation or concatenation."""
    fields = [state for state in inputs if state is not None]
    if not fields:
        return None
    if any(state == _WHOLE for state in fields):
        return _WHOLE
    merged = []
    for axis in zip(*fields, strict=True):
        strides = {a.stride for a in axis}
        if len(strides) > 1:
            raise ValueError(
                f"{fname}: the inputs of {node.name!r} have different effective strides "
                f"{sorted(strides)}: their receptive fields are not aligned (Distill's "
                "convention needs one stride per tensor)"
            )
        padding = max(a.padding for a in axis)
        end = max(a.size - a.padding for a in axis)  # one past the last position of unit 0
        merged.append(_Axis(end + padding, axis[0].stride, padding))
    return tuple(merged)


def _apply(state, kernel, stride, padding, dilation):
    """The field after a layer with these per-axis parameters (Distill's recurrence)."""
    if state == _WHOLE:
        return _WHOLE
    return tuple(
        _Axis(a.size + d * (k - 1) * a.stride, a.stride * s, a.padding + p * a.stride)
        for a, k, s, p, d in zip(state, kernel, stride, padding, dilation, strict=True)
    )


def _step(graph: fx.GraphModule, node: fx.Node, states: dict, nd: int, spatial, fname: str):
    """Return (state after ``node``, the layer's (kernel, stride, padding, dilation) or None)."""
    inputs = _node_states((node.args, node.kwargs), states)
    if all(state is None for state in inputs):
        return None, None  # a constant or a shape query
    meta = node.meta.get("tensor_meta")
    if node.op == "call_module":
        module = graph.get_submodule(node.target)
        return _module_step(module, node, inputs, nd, fname)
    name = getattr(node.target, "__name__", str(node.target)).strip("_")
    if node.op == "call_method":
        name = str(node.target)
    if name in _IGNORED or not hasattr(meta, "shape") and not isinstance(meta, (tuple, list)):
        return None, None  # x.size(), x.shape, ... (not a tensor)
    if name == "getitem":
        source = node.args[0]
        if isinstance(source, fx.Node) and not hasattr(source.meta.get("tensor_meta"), "shape"):
            return states.get(source), None  # an item of a tuple (chunk, split)
        return _unsupported(node, "indexing a tensor", fname)
    state = inputs[0] if len(inputs) == 1 else _merge(inputs, node, fname)
    if name in _POINTWISE or name in ("chunk", "split", "unbind"):
        if name in ("cat", "concat", "concatenate", "stack", "chunk", "split", "unbind"):
            dim = _argument(node, 1, "dim", 0)
            rank = nd + 2
            if name != "stack" and dim % rank >= 2:
                return _unsupported(node, f"{name} along a spatial axis", fname)
        return _merge(inputs, node, fname), None
    if name in _WHOLE_FUNCTIONS:
        return _WHOLE, None
    if name in _REDUCTIONS:
        dims = _argument(node, 1, "dim", None)
        dims = () if dims is None else (dims if isinstance(dims, (tuple, list)) else (dims,))
        if not dims or any(d % (nd + 2) >= 2 for d in dims):
            return _WHOLE, None
        return state, None
    for kind in ("max_pool", "avg_pool", "lp_pool"):
        if name.startswith(kind):
            kernel = _argument(node, 1, "kernel_size", None)
            stride = _argument(node, 2, "stride", None) or kernel
            padding = _argument(node, 3, "padding", 0)
            dilation = _argument(node, 4, "dilation", 1) if kind == "max_pool" else 1
            params = _params(nd, kernel, stride, padding, dilation)
            return _apply(state, *params), params
    if name.startswith("adaptive_"):
        return _adaptive(node, state, nd)
    if name in ("conv1d", "conv2d", "conv3d"):
        weight = node.args[1] if len(node.args) > 1 else node.kwargs["weight"]
        kernel = tuple(weight.meta["tensor_meta"].shape[2:])
        padding = _argument(node, 4, "padding", 0)
        dilation = _argument(node, 5, "dilation", 1)
        if isinstance(padding, str):
            padding = _string_padding(padding, kernel, _tuple(dilation, nd))
        params = _params(nd, kernel, _argument(node, 3, "stride", 1), padding, dilation)
        return _apply(state, *params), params
    if name == "pad":
        return _pad(state, _argument(node, 1, "pad", ()), nd, node, fname)
    return _unsupported(node, f"the operation {name!r}", fname)


def _module_step(module: nn.Module, node, inputs, nd: int, fname: str):
    state = inputs[0] if len(inputs) == 1 else _merge(inputs, node, fname)
    kind = type(module)
    if kind in _CONV:
        kernel, dilation = module.kernel_size, module.dilation
        padding = module.padding
        if isinstance(padding, str):
            padding = _string_padding(padding, kernel, dilation)
        params = _params(nd, kernel, module.stride, padding, dilation)
        return _apply(state, *params), params
    if kind in _MAX_POOL or kind in _AVG_POOL:
        dilation = module.dilation if kind in _MAX_POOL else 1
        params = _params(nd, module.kernel_size, module.stride, module.padding, dilation)
        return _apply(state, *params), params
    if isinstance(module, _PASS_MODULES):
        return state, None
    if isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Softmin)):
        if module.dim is not None and module.dim % (nd + 2) == 1:
            return state, None
        return _WHOLE, None
    if isinstance(module, _WHOLE_MODULES):
        return _WHOLE, None
    if isinstance(module, _ADAPTIVE):
        return _adaptive(node, state, nd)
    if isinstance(module, _PADS):
        return _pad(state, module.padding, nd, node, fname)
    return _unsupported(node, f"the layer {type(module).__name__}", fname)


def _adaptive(node, state, nd):
    """Adaptive pooling: identity, an ordinary pooling, or global (the whole input)."""
    source = node.args[0]
    size_in = tuple(source.meta["tensor_meta"].shape[-nd:])
    size_out = tuple(node.meta["tensor_meta"].shape[-nd:])
    if size_in == size_out:
        return state, None
    if all(o > 1 and i % o == 0 for i, o in zip(size_in, size_out, strict=True)):
        kernel = tuple(i // o for i, o in zip(size_in, size_out, strict=True))
        params = (kernel, kernel, (0,) * nd, (1,) * nd)
        return _apply(state, *params), params
    return _WHOLE, None


def _pad(state, pad, nd: int, node, fname: str):
    """A padding layer: ``pad`` lists (left, right) pairs from the last axis backwards."""
    pad = (pad,) * (2 * nd) if isinstance(pad, int) else tuple(pad)
    if len(pad) % 2 or len(pad) > 2 * nd:
        return _unsupported(node, f"padding {pad}", fname)
    left = [0] * nd
    for i in range(len(pad) // 2):
        left[nd - 1 - i] = pad[2 * i]
    if any(p < 0 for p in left):
        return _unsupported(node, "negative padding (cropping)", fname)
    params = ((1,) * nd, (1,) * nd, tuple(left), (1,) * nd)
    return _apply(state, *params), params


def _unsupported(node, what: str, fname: str):
    raise ValueError(
        f"{fname}: cannot compute the receptive field through {what} at node {node.name!r} "
        f"({node.format_node()}). Supported: convolutions, max/average/adaptive pooling, "
        "padding, element-wise layers and activations, normalisation, dropout, "
        "add/mul/cat, flatten and linear layers."
    )


def _argument(node: fx.Node, position: int, name: str, default):
    """An argument of a call node, given by position (after the input) or by keyword."""
    if name in node.kwargs:
        return node.kwargs[name]
    if len(node.args) > position:
        return node.args[position]
    return default


def _tuple(value, nd: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value) if len(value) == nd else (int(value[0]),) * nd
    return (int(value),) * nd


def _string_padding(padding: str, kernel, dilation) -> tuple[int, ...]:
    """PyTorch's ``"same"`` pads ``d*(k-1)//2`` zeros on the left; ``"valid"`` none."""
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
    return (0,) * len(kernel)


def _params(nd, kernel, stride, padding, dilation):
    return tuple(_tuple(v, nd) for v in (kernel, stride, padding, dilation))


def _pack(values) -> int | tuple[int, ...]:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else tuple(values)


def _field(state, spatial) -> ReceptiveField:
    if state == _WHOLE:
        return ReceptiveField(_pack(spatial), _pack(spatial), 0)
    return ReceptiveField(*(_pack([getattr(a, f) for a in state]) for f in _Axis._fields))


def _row(graph, node, layer, output_shape, state, spatial) -> LayerField:
    if node.op == "call_module":
        name, kind = str(node.target), type(graph.get_submodule(node.target)).__name__
    else:
        name = node.name
        kind = str(node.target) if node.op == "call_method" else node.target.__name__
    layer = (None,) * 4 if layer is None else tuple(_pack(v) for v in layer)
    return LayerField(
        name,
        kind,
        *layer,
        output_shape[1:],
        *_field(state, spatial),
        whole_input=state == _WHOLE,
    )


# ------------------------------------------------------------------------ measurement


def _unit_conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The positive copy of a convolution: average the channels, then the window.

    With every weight equal to ``1 / fan_in`` and equal input channels, each output
    channel of a convolution is the mean of its window over all channels: a one-channel
    convolution with weights ``1 / prod(kernel)``.
    """
    kernel = tuple(weight.shape[2:])
    nd = len(kernel)
    conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    ones = x.new_full((1, 1, *kernel), 1 / math.prod(kernel))
    x = x.mean(dim=1, keepdim=True)
    if isinstance(padding, str):  # "same" pads d*(k-1) in total, the odd one on the right
        totals = [0] * nd
        if padding == "same":
            totals = [d * (k - 1) for k, d in zip(kernel, _tuple(dilation, nd), strict=True)]
        x = F.pad(x, [v for t in reversed(totals) for v in (t // 2, t - t // 2)])
        padding = 0
    return conv(x, ones, None, stride, padding, dilation)


class _UnitConv(nn.Module):
    """:func:`_unit_conv` as a module, with the geometry of a convolution layer."""

    def __init__(self, conv: nn.Module):
        super().__init__()
        self.kernel = tuple(conv.kernel_size)
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation

    def forward(self, x):
        weight = x.new_empty((1, 1, *self.kernel))
        return _unit_conv(x, weight, None, self.stride, self.padding, self.dilation)


class _DilatedAveragePool(nn.Module):
    """Average pooling over a dilated window: a depthwise convolution with equal weights.

    With ``ceil_mode``, zeros are added on the right so that the convolution produces as
    many outputs as the max pooling would (PyTorch's rule: the last window must start
    inside the input or the left padding).
    """

    def __init__(self, nd: int, kernel, stride, padding, dilation, ceil_mode):
        super().__init__()
        self.nd, self.kernel, self.ceil_mode = nd, kernel, ceil_mode
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x):
        pads = []
        for n, k, s, p, d in zip(
            x.shape[2:], self.kernel, self.stride, self.padding, self.dilation, strict=True
        ):
            span = d * (k - 1) + 1
            out = (n + 2 * p - span + (s - 1 if self.ceil_mode else 0)) // s + 1
            if self.ceil_mode and (out - 1) * s >= n + p:
                out -= 1
            pads.append((p, max(p, (out - 1) * s + span - n - p)))
        x = F.pad(x, [v for pair in reversed(pads) for v in pair])
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.nd - 1]
        channels = x.shape[1]
        weight = x.new_full((channels, 1, *self.kernel), 1 / math.prod(self.kernel))
        return conv(x, weight, None, self.stride, 0, self.dilation, channels)


class _MeanLast(nn.Module):
    """The positive copy of a linear layer: the mean of the features (every one counts)."""

    def forward(self, x, *args):
        return x.mean(dim=-1, keepdim=True)


def _identity(x, *args, **kwargs):
    return x


def _mean_last(x, *args, **kwargs):
    return x.mean(dim=-1, keepdim=True)


def _averaging(module: nn.Module, nd: int) -> nn.Module:
    """An average pooling with the same window as the max pooling ``module``."""
    kernel, stride, padding, dilation = _params(
        nd, module.kernel_size, module.stride or module.kernel_size, module.padding,
        module.dilation,
    )  # fmt: skip
    if all(d == 1 for d in dilation):
        avg = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[nd - 1]
        return avg(kernel, stride, padding, ceil_mode=module.ceil_mode)
    return _DilatedAveragePool(nd, kernel, stride, padding, dilation, module.ceil_mode)


_IDENTITY_MODULES = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.GroupNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.LayerNorm,
    nn.LocalResponseNorm, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
    nn.AlphaDropout, nn.FeatureAlphaDropout, nn.PReLU, nn.RReLU, nn.ChannelShuffle,
)  # fmt: skip
_IDENTITY_FUNCTIONS = {
    "batch_norm", "instance_norm", "group_norm", "layer_norm", "local_response_norm",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "prelu", "rrelu", "channel_shuffle",
}  # fmt: skip


def _positive_copy(graph: fx.GraphModule, nd: int) -> fx.GraphModule:
    """A one-channel float64 stand-in for ``graph`` with positive constant weights.

    Since every weight of the positive model is ``1 / fan_in`` and the input is all ones,
    all channels carry the same values; so the copy keeps one channel: convolutions
    average their window (:func:`_unit_conv`), linear layers average their features,
    normalisation and dropout are the identity, max pooling becomes average pooling.
    The model's weights are not copied.
    """
    new_graph = copy.deepcopy(graph.graph)
    modules: dict[str, object] = {}
    for node in new_graph.nodes:
        if node.op == "call_module":
            module = graph.get_submodule(node.target)
            kind = type(module)
            if kind in _CONV:
                replacement = _UnitConv(module)
            elif kind in _MAX_POOL:
                replacement = _averaging(module, _MAX_POOL[kind])
            elif isinstance(module, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)) or isinstance(
                module, nn.AdaptiveMaxPool3d
            ):
                adaptive = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
                replacement = adaptive[nd - 1](module.output_size)
            elif isinstance(module, _WHOLE_MODULES) and not isinstance(module, nn.Flatten):
                replacement = _MeanLast()
            elif isinstance(module, _IDENTITY_MODULES) or (
                isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Softmin))
                and module.dim is not None
                and module.dim % (nd + 2) == 1
            ):  # (a softmax over the channels of one channel would be constant)
                replacement = nn.Identity()
            else:
                replacement = copy.deepcopy(module)
            name = f"m{len(modules)}"
            modules[name] = replacement
            node.target = name
        elif node.op == "get_attr":
            name = f"a{len(modules)}"
            modules[name] = _fetch(graph, node.target)
            node.target = name
        elif node.op == "call_function":
            name = getattr(node.target, "__name__", "").strip("_")
            if name in ("conv1d", "conv2d", "conv3d"):
                node.target = _unit_conv
            elif name == "linear":
                node.target = _mean_last
            elif name in _IDENTITY_FUNCTIONS:
                node.target = _identity
            elif name.startswith("max_pool") and name[-2:] in ("1d", "2d", "3d"):
                kwargs = dict(node.kwargs)
                dilation = kwargs.pop("dilation", node.args[4] if len(node.args) > 4 else 1)
                if dilation not in (1, (1,) * nd, [1] * nd):
                    raise ValueError(
                        "empirical_receptive_field: functional max pooling with dilation is "
                        "not supported; use nn.MaxPool"
                    )
                kwargs.pop("return_indices", None)
                node.target = getattr(F, "avg_pool" + name[-2:])
                node.args, node.kwargs = node.args[:4] + node.args[5:6], kwargs
            elif name.startswith("adaptive_max_pool"):
                node.target = getattr(F, "adaptive_avg_pool" + name[-2:])
                kwargs = {k: v for k, v in node.kwargs.items() if k != "return_indices"}
                node.args, node.kwargs = node.args[:2], kwargs
        elif node.op == "call_method" and node.target in _IDENTITY_FUNCTIONS:
            node.op, node.target = "call_function", _identity
    positive = fx.GraphModule(modules, new_graph)
    return positive.double().eval()


def _fetch(graph: fx.GraphModule, target: str):
    value = graph
    for part in target.split("."):
        value = getattr(value, part)
    return value.detach() if isinstance(value, torch.Tensor) else value


def _gradients(graph, shape, unit, fname: str, *, with_neighbour: bool):
    """Input gradients of the unit (and its diagonal neighbour), summed over channels.

    Returns the gradients, ``(B, *spatial)``, and per axis the pair (unit, neighbour).
    """
    nd = len(shape) - 2
    positive = _positive_copy(graph, nd)
    count = 2 if with_neighbour else 1
    x = torch.ones((count, 1, *shape[2:]), dtype=torch.float64, requires_grad=True)
    try:
        out = positive(x)
    except Exception as error:
        raise ValueError(
            f"{fname}: the positive one-channel copy of the model cannot run on an input of "
            f"shape {shape}: {type(error).__name__}: {error}"
        ) from error
    if not isinstance(out, torch.Tensor):
        raise ValueError(f"{fname}: the model must return a single tensor")
    if not torch.all(torch.isfinite(out)):
        raise ValueError(f"{fname}: the output overflowed; the model is too deep to measure")
    spatial_out = tuple(out.shape[2:]) if out.ndim == nd + 2 else (1,) * nd
    if unit is None:
        unit = tuple(n // 2 for n in spatial_out)
    elif isinstance(unit, numbers.Integral) and not isinstance(unit, bool):
        unit = (int(unit),) * nd
    if (
        not isinstance(unit, (tuple, list))
        or len(unit) != nd
        or any(
            isinstance(u, bool) or not isinstance(u, numbers.Integral) or not 0 <= u < n
            for u, n in zip(unit, spatial_out, strict=True)
        )
    ):
        raise ValueError(
            f"{fname}: unit must be an index along each of the {nd} spatial axes of the "
            f"output, whose size is {spatial_out}; got {unit!r}"
        )
    unit = tuple(int(u) for u in unit)
    neighbour = tuple(min(u + 1, n - 1) for u, n in zip(unit, spatial_out, strict=True))
    units = [unit, neighbour][:count]
    total = 0
    for sample, position in enumerate(units):
        if out.ndim == nd + 2:
            total = total + out[(sample, slice(None), *position)].sum()
        else:
            total = total + out[sample].sum()
    total.backward()
    gradients = x.grad.detach()[:, 0].numpy()
    return gradients, [tuple(pair) for pair in zip(*[unit, neighbour], strict=True)]
