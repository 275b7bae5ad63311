"""The receptive field computed from the layers: Distill's recurrence along a traced graph.

Every node of the ``torch.fx`` graph gets a state: per spatial axis the field of one unit
of its output (size, effective stride, effective padding), or ``"whole input"``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch.fx as fx
from torch import nn

from .fields import LayerField, ReceptiveField
from .layers import (
    ADAPTIVE,
    AVG_POOL,
    CONV,
    MAX_POOL,
    PADS,
    PASS_MODULES,
    WHOLE_MODULES,
    layer_params,
    pack,
    per_axis,
)
from .table import ReceptiveFieldTable
from .tracing import prepare

__all__ = ["receptive_field", "receptive_field_table"]


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


class _Axis(NamedTuple):
    size: int
    stride: int
    padding: int


_WHOLE = "whole input"

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
    graph, shape = prepare(model, input_shape, fname)
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
            params = layer_params(nd, kernel, stride, padding, dilation)
            return _apply(state, *params), params
    if name.startswith("adaptive_"):
        return _adaptive(node, state, nd)
    if name in ("conv1d", "conv2d", "conv3d"):
        weight = node.args[1] if len(node.args) > 1 else node.kwargs["weight"]
        kernel = tuple(weight.meta["tensor_meta"].shape[2:])
        padding = _argument(node, 4, "padding", 0)
        dilation = _argument(node, 5, "dilation", 1)
        if isinstance(padding, str):
            padding = _string_padding(padding, kernel, per_axis(dilation, nd))
        params = layer_params(nd, kernel, _argument(node, 3, "stride", 1), padding, dilation)
        return _apply(state, *params), params
    if name == "pad":
        return _pad(state, _argument(node, 1, "pad", ()), nd, node, fname)
    return _unsupported(node, f"the operation {name!r}", fname)


def _module_step(module: nn.Module, node, inputs, nd: int, fname: str):
    state = inputs[0] if len(inputs) == 1 else _merge(inputs, node, fname)
    kind = type(module)
    if kind in CONV:
        kernel, dilation = module.kernel_size, module.dilation
        padding = module.padding
        if isinstance(padding, str):
            padding = _string_padding(padding, kernel, dilation)
        params = layer_params(nd, kernel, module.stride, padding, dilation)
        return _apply(state, *params), params
    if kind in MAX_POOL or kind in AVG_POOL:
        dilation = module.dilation if kind in MAX_POOL else 1
        params = layer_params(nd, module.kernel_size, module.stride, module.padding, dilation)
        return _apply(state, *params), params
    if isinstance(module, PASS_MODULES):
        return state, None
    if isinstance(module, (nn.Softmax, nn.LogSoftmax, nn.Softmin)):
        if module.dim is not None and module.dim % (nd + 2) == 1:
            return state, None
        return _WHOLE, None
    if isinstance(module, WHOLE_MODULES):
        return _WHOLE, None
    if isinstance(module, ADAPTIVE):
        return _adaptive(node, state, nd)
    if isinstance(module, PADS):
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


def _string_padding(padding: str, kernel, dilation) -> tuple[int, ...]:
    """PyTorch's ``"same"`` pads ``d*(k-1)//2`` zeros on the left; ``"valid"`` none."""
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True))
    return (0,) * len(kernel)


def _field(state, spatial) -> ReceptiveField:
    if state == _WHOLE:
        return ReceptiveField(pack(spatial), pack(spatial), 0)
    return ReceptiveField(*(pack([getattr(a, f) for a in state]) for f in _Axis._fields))


def _row(graph, node, layer, output_shape, state, spatial) -> LayerField:
    if node.op == "call_module":
        name, kind = str(node.target), type(graph.get_submodule(node.target)).__name__
    else:
        name = node.name
        kind = str(node.target) if node.op == "call_method" else node.target.__name__
    layer = (None,) * 4 if layer is None else tuple(pack(v) for v in layer)
    return LayerField(
        name,
        kind,
        *layer,
        output_shape[1:],
        *_field(state, spatial),
        whole_input=state == _WHOLE,
    )


# ------------------------------------------------------------------------ measurement
