"""What each kind of layer does to a receptive field, and a layer's per-axis geometry.

The tables sort ``torch.nn`` layers by their effect on a field: convolutions and poolings
move it (kernel, stride, padding, dilation), pass-through layers keep it, and the
``WHOLE_MODULES`` make every output see the whole input. Shared by the analyser, which
applies Distill's recurrence, and by the measurement, which builds a positive copy.
"""

from __future__ import annotations

from torch import nn

PASS_MODULES = (
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
WHOLE_MODULES = (nn.Flatten, nn.Linear, nn.Bilinear, nn.LazyLinear)
CONV = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
MAX_POOL = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3}
AVG_POOL = {nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}
ADAPTIVE = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
)
PADS = (
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


def per_axis(value, nd: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value) if len(value) == nd else (int(value[0]),) * nd
    return (int(value),) * nd


def layer_params(nd, kernel, stride, padding, dilation):
    """(kernel, stride, padding, dilation), each a tuple with one int per spatial axis."""
    return tuple(per_axis(v, nd) for v in (kernel, stride, padding, dilation))


def pack(values) -> int | tuple[int, ...]:
    """One int when every axis agrees, else a tuple with one int per axis."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else tuple(values)
