"""The receptive field measured: back-propagate from one output unit of a positive copy.

The copy has one channel, float64, and every weight ``1 / fan_in`` (see the package
docstring); the input is all ones, so every input pixel that can influence the unit gets
a positive gradient.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from .fields import ReceptiveField
from .layers import CONV, MAX_POOL, WHOLE_MODULES, layer_params, pack, per_axis
from .tracing import prepare

__all__ = ["empirical_receptive_field", "field_gradient"]


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
    graph, shape = prepare(model, input_shape, fname, shapes=False)
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
    graph, shape = prepare(model, input_shape, fname, shapes=False)
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
    return ReceptiveField(pack(sizes), pack(strides), pack(paddings))


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
            totals = [d * (k - 1) for k, d in zip(kernel, per_axis(dilation, nd), strict=True)]
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
    kernel, stride, padding, dilation = layer_params(
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
            if kind in CONV:
                replacement = _UnitConv(module)
            elif kind in MAX_POOL:
                replacement = _averaging(module, MAX_POOL[kind])
            elif isinstance(module, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)) or isinstance(
                module, nn.AdaptiveMaxPool3d
            ):
                adaptive = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
                replacement = adaptive[nd - 1](module.output_size)
            elif isinstance(module, WHOLE_MODULES) and not isinstance(module, nn.Flatten):
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
