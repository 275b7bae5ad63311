"""Normalization layers in NumPy: batch, layer, instance and group normalization.

Each layer splits the values of ``x: (N, C, H, W)`` into sets S that share one mean and one
variance, and computes (with the *biased* variance, dividing by ``|S|``)::

    x_hat = (x - mean_S(x)) / sqrt(var_S(x) + eps)
    y[n, c, h, w] = gamma[c] * x_hat[n, c, h, w] + beta[c]

``gamma`` and ``beta`` have one entry per channel, ``(C,)``. The layers differ only in S:

=================  ==========================================  ==============  ============
function           one set S (shares a mean and a variance)    number of sets  PyTorch
=================  ==========================================  ==============  ============
``batch_norm``     channel c: all of (N, H, W)                 C               BatchNorm2d
``layer_norm``     sample n: all of (C, H, W)                  N               GroupNorm(1)
``instance_norm``  sample n, channel c: all of (H, W)          N * C           InstanceNorm
``group_norm``     sample n, group g: (C / G channels, H, W)   N * G           GroupNorm(G)
=================  ==========================================  ==============  ============

So layer norm is group norm with one group and instance norm is group norm with C groups.
``layer_norm`` follows the convolutional convention of the Group Norm paper: per-*channel*
``gamma`` and ``beta``, which is ``torch.nn.GroupNorm(1, C)``. ``torch.nn.LayerNorm((C, H,
W))`` normalizes the same values but has an *elementwise* affine of shape ``(C, H, W)``; the
two agree when that affine is constant over (H, W).

The functions are the training-mode forward passes (statistics of the batch at hand) and
their gradients ``*_backward -> (dx, dgamma, dbeta)``. :class:`BatchNorm` adds the running
statistics used in evaluation mode, and :func:`fold_batch_norm` merges an evaluation-mode
batch norm into the convolution before it. Everything is vectorized: one reshape puts each
set S on its own axes, then means are taken with NumPy.

Besides ``(N, C, H, W)``, every function accepts ``(N, C)`` (fully connected activations),
``(N, C, L)`` and ``(N, C, D, H, W)``; ``instance_norm`` needs at least one spatial axis.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import as_float_array, as_int, check_ndim

__all__ = [
    "BatchNorm",
    "batch_norm",
    "batch_norm_backward",
    "fold_batch_norm",
    "group_norm",
    "group_norm_backward",
    "instance_norm",
    "instance_norm_backward",
    "layer_norm",
    "layer_norm_backward",
]

_LAYOUTS = {
    2: "(N, C)",
    3: "(N, C, L)",
    4: "(N, C, H, W)",
    5: "(N, C, D, H, W)",
}


# --------------------------------------------------------------------------- forward


def batch_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """Batch normalization, training mode: statistics per channel over (N, H, W).

    Like ``torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True)``.

    Args:
        x: ``(N, C, H, W)``, or ``(N, C)`` for a fully connected layer (also ``(N, C, L)``,
            ``(N, C, D, H, W)``).
        gamma, beta: scale and shift, ``(C,)`` (``None``: 1 and 0).
        eps: added to the variance inside the square root, >= 0.

    Returns:
        ``y``, same shape as ``x``.

    Raises:
        ValueError: a channel has a single value (``N * H * W == 1``): its variance is 0
            and the output would be just ``beta``. PyTorch raises here too.
    """
    return _apply("batch_norm", x, gamma, beta, eps, sets="batch")


def layer_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """Layer normalization: statistics per sample over (C, H, W); per-channel gamma, beta.

    Equal to ``torch.nn.functional.group_norm(x, 1, gamma, beta, eps)``, and to
    ``F.layer_norm(x, x.shape[1:], eps=eps)`` followed by the per-channel affine. (PyTorch's
    ``nn.LayerNorm`` instead learns one gamma and beta per *element* of (C, H, W).)

    Args:
        x: ``(N, C, H, W)`` or ``(N, C)`` (also ``(N, C, L)``, ``(N, C, D, H, W)``).
        gamma, beta: ``(C,)`` (``None``: 1 and 0).
        eps: >= 0.

    Returns:
        ``y``, same shape as ``x``. It behaves the same in training and evaluation.
    """
    return _apply("layer_norm", x, gamma, beta, eps, sets="layer")


def instance_norm(x, gamma, beta, eps=1e-5) -> np.ndarray:
    """Instance normalization: statistics per (sample, channel) over (H, W).

    Like ``torch.nn.functional.instance_norm(x, weight=gamma, bias=beta, eps=eps)``, and
    equal to ``group_norm(x, C, gamma, beta, eps)``.

    Args:
        x: ``(N, C, H, W)`` (also ``(N, C, L)``, ``(N, C, D, H, W)``).
        gamma, beta: ``(C,)`` (``None``: 1 and 0).
        eps: >= 0.

    Returns:
        ``y``, same shape as ``x``.

    Raises:
        ValueError: a single spatial position (``H * W == 1``), as in PyTorch.
    """
    return _apply("instance_norm", x, gamma, beta, eps, sets="instance")


def group_norm(x, num_groups, gamma, beta, eps=1e-5) -> np.ndarray:
    """Group normalization: channels split into ``num_groups`` consecutive groups of C / G;
    statistics per (sample, group) over (C / G, H, W).

    Like ``torch.nn.functional.group_norm(x, num_groups, gamma, beta, eps)``.
    ``num_groups=1`` is :func:`layer_norm`, ``num_groups=C`` is :func:`instance_norm`.

    Args:
        x: ``(N, C, H, W)`` or ``(N, C)`` (also ``(N, C, L)``, ``(N, C, D, H, W)``).
        num_groups: G, a positive divisor of C.
        gamma, beta: ``(C,)``, one per channel, not per group (``None``: 1 and 0).
        eps: >= 0.

    Returns:
        ``y``, same shape as ``x``.
    """
    return _apply("group_norm", x, gamma, beta, eps, sets="group", num_groups=num_groups)


# --------------------------------------------------------------------------- backward


def batch_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of :func:`batch_norm` (training mode).

    With ``x_hat`` the normalized input and ``sigma = sqrt(var + eps)`` of x's channel, and
    means taken over the same (N, H, W) values as the statistics::

        dx = gamma / sigma * (dout - mean(dout) - x_hat * mean(dout * x_hat))
        dgamma = sum over (N, H, W) of dout * x_hat,   dbeta = sum over (N, H, W) of dout

    Args:
        dout: upstream gradient, the shape of ``x``.
        x: the forward input, ``(N, C, H, W)`` or ``(N, C)``.
        gamma: ``(C,)`` (``None``: 1).
        eps: as in the forward pass.

    Returns:
        ``(dx, dgamma, dbeta)`` with shapes ``x.shape``, ``(C,)``, ``(C,)``.
    """
    return _apply("batch_norm_backward", x, gamma, None, eps, sets="batch", dout=dout)


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of :func:`layer_norm`: ``(dx, dgamma, dbeta)``, shaped ``x.shape``, ``(C,)``,
    ``(C,)``.

    The formula and the arguments of :func:`batch_norm_backward`, with means over each
    sample's (C, H, W).
    """
    return _apply("layer_norm_backward", x, gamma, None, eps, sets="layer", dout=dout)


def instance_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of :func:`instance_norm`: ``(dx, dgamma, dbeta)``, shaped ``x.shape``,
    ``(C,)``, ``(C,)``.

    The formula and the arguments of :func:`batch_norm_backward`, with means over each
    (sample, channel)'s (H, W); ``x`` needs at least one spatial axis.
    """
    return _apply("instance_norm_backward", x, gamma, None, eps, sets="instance", dout=dout)


def group_norm_backward(dout, x, num_groups, gamma, eps=1e-5):
    """Gradients of :func:`group_norm`: ``(dx, dgamma, dbeta)``, shaped ``x.shape``, ``(C,)``,
    ``(C,)``.

    The formula and the arguments of :func:`batch_norm_backward`, with means over each
    (sample, group)'s (C / G, H, W); ``num_groups`` is G, a positive divisor of C.
    """
    return _apply(
        "group_norm_backward", x, gamma, None, eps, sets="group", num_groups=num_groups, dout=dout
    )


# --------------------------------------------------------------------------- running stats


class BatchNorm:
    """Batch normalization with running statistics, like ``nn.BatchNorm1d`` / ``2d``.

    In training mode (the default) it normalizes with the statistics of the batch and
    updates the running averages with PyTorch's convention (``m = momentum``)::

        running_mean = (1 - m) * running_mean + m * batch_mean
        running_var  = (1 - m) * running_var  + m * batch_var_unbiased

    The batch is normalized with the *biased* variance (divide by N·H·W) but the running
    variance averages the *unbiased* one (divide by N·H·W - 1). ``momentum=None`` gives
    the cumulative average over all batches so far, as in PyTorch. (Keras and some books
    write ``momentum`` for the weight of the *old* value, 0.9 or 0.99: the opposite.)

    In evaluation mode (``.eval()``) it uses the running statistics and changes nothing:
    ``y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta``, an affine map of x.

    Attributes:
        gamma, beta: ``(C,)``, start at 1 and 0.
        running_mean, running_var: ``(C,)``, start at 0 and 1.
        num_batches_tracked: the number of training batches seen.
        training: True in training mode.

    Example::

        bn = BatchNorm(16)
        y = bn(x)              # x: (N, 16, H, W); training mode: updates the running stats
        y = bn.eval()(x_test)  # evaluation mode
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        fname = "BatchNorm"
        self.num_features = as_int(num_features, "num_features", fname, minimum=1)
        self.eps = _as_eps(eps, fname)
        if momentum is not None:
            if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
                raise TypeError(f"{fname}: momentum must be a number or None, got {momentum!r}")
            if not 0 <= momentum <= 1:
                raise ValueError(f"{fname}: momentum must lie in [0, 1], got {momentum}")
            momentum = float(momentum)
        self.momentum = momentum
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0
        self.training = True

    def train(self, mode: bool = True) -> BatchNorm:
        """Switch to training mode (``mode=True``) or evaluation mode; returns ``self``."""
        if not isinstance(mode, bool):
            raise TypeError(f"BatchNorm.train: mode must be True or False, got {mode!r}")
        self.training = mode
        return self

    def eval(self) -> BatchNorm:
        """Switch to evaluation mode (running statistics); returns ``self``."""
        return self.train(False)

    def __call__(self, x) -> np.ndarray:
        return self.forward(x)

    def forward(self, x) -> np.ndarray:
        """Normalize ``x: (N, C, H, W)`` or ``(N, C)``; in training mode also update the
        running statistics."""
        fname = "BatchNorm"
        x, gamma, beta, eps = _prepare(x, self.gamma, self.beta, self.eps, fname)
        if not self.training:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            scale = 1.0 / np.sqrt(self.running_var + eps)
            x_hat = (x - self.running_mean.reshape(shape)) * scale.reshape(shape)
            return _affine(x_hat.astype(x.dtype, copy=False), gamma, beta)
        _need_two_values(x, fname)
        view, axes = _batch_layout(x)
        count = x.size // x.shape[1]
        mean = view.mean(axis=axes).ravel()
        var = ((view - view.mean(axis=axes, keepdims=True)) ** 2).mean(axis=axes).ravel()
        self.num_batches_tracked += 1
        m = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * mean
        self.running_var = (1 - m) * self.running_var + m * var * count / (count - 1)
        x_hat, _ = _normalize(x, view, axes, eps=eps)
        return _affine(x_hat, gamma, beta)

    def __repr__(self) -> str:
        mode = "train" if self.training else "eval"
        return (
            f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"mode={mode!r})"
        )


def fold_batch_norm(conv, bn):
    """Merge an evaluation-mode batch norm into the convolution before it.

    In evaluation mode ``bn`` is the affine map ``y = s * z + t`` per channel, with
    ``s = gamma / sqrt(running_var + eps)`` and ``t = beta - s * running_mean``. Applied to
    ``z = conv(x) = w * x + b``, it gives a single convolution with

        ``w' = s[o] * w[o]`` (every weight of filter o scaled)  and  ``b' = s * (b - mean) +
        beta``.

    Args:
        conv: a ``torch.nn.Conv2d`` (any stride, padding, dilation, groups; with or
            without bias).
        bn: a ``torch.nn.BatchNorm2d`` with running statistics and ``conv.out_channels``
            features. Its running statistics are used whatever its mode.

    Returns:
        A new ``nn.Conv2d`` (with a bias), on the device and with the dtype of ``conv``,
        such that ``fused(x) == bn.eval()(conv(x))`` up to rounding. ``conv`` and ``bn``
        are not modified. The arithmetic is done in float64.
    """
    import torch
    from torch import nn

    fname = "fold_batch_norm"
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"{fname}: conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if not isinstance(bn, nn.BatchNorm2d):
        raise TypeError(f"{fname}: bn must be a torch.nn.BatchNorm2d, got {type(bn).__name__}")
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"{fname}: bn has num_features={bn.num_features}, but conv has "
            f"out_channels={conv.out_channels}; they must be equal"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(
            f"{fname}: bn has no running statistics (track_running_stats=False), so even in "
            "evaluation mode it uses batch statistics and is not a fixed affine map"
        )
    with torch.no_grad():
        f64 = torch.float64
        w = conv.weight.detach().to(f64)
        b = conv.bias.detach().to(f64) if conv.bias is not None else torch.zeros_like(w[:, 0, 0, 0])
        mean, var = bn.running_mean.to(f64), bn.running_var.to(f64)
        gamma = bn.weight.detach().to(f64) if bn.weight is not None else torch.ones_like(mean)
        beta = bn.bias.detach().to(f64) if bn.bias is not None else torch.zeros_like(mean)
        scale = gamma / torch.sqrt(var + bn.eps)
        # built on the "meta" device, so that no random initialization consumes the
        # global random number generator; then given real (uninitialized) storage
        fused = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=True,
            padding_mode=conv.padding_mode,
            device="meta",
            dtype=conv.weight.dtype,
        ).to_empty(device=conv.weight.device)
        fused.weight.copy_(w * scale[:, None, None, None])
        fused.bias.copy_(scale * (b - mean) + beta)
    return fused.train(conv.training)


# --------------------------------------------------------------------------- internals


def _apply(fname, x, gamma, beta, eps, *, sets, num_groups=None, dout=None):
    """The one implementation of the four layers: forward, or backward when ``dout`` is given.

    ``sets`` says which values share a mean and a variance: ``"batch"`` (one set per
    channel), ``"layer"`` (per sample), ``"instance"`` (per sample and channel) or
    ``"group"`` (per sample and group of C / ``num_groups`` channels).
    Returns ``y`` (forward) or ``(dx, dgamma, dbeta)`` (backward).
    """
    min_ndim = 3 if sets == "instance" else 2
    x, gamma, beta, eps = _prepare(x, gamma, beta, eps, fname, min_ndim=min_ndim)
    if dout is not None:
        dout = _check_dout(dout, x, fname)
    if sets in ("batch", "instance"):
        _need_two_values(x, fname, per_instance=sets == "instance")
    if sets == "batch":
        layout = _batch_layout(x)
    elif sets == "layer":
        layout = _group_layout(x, 1)
    elif sets == "instance":
        layout = _group_layout(x, x.shape[1])
    else:
        layout = _group_layout(x, _num_groups(num_groups, x.shape[1], fname))
    if dout is not None:
        return _backward(dout, x, gamma, layout, eps)
    x_hat, _ = _normalize(x, *layout, eps=eps)
    return _affine(x_hat, gamma, beta)


def _prepare(x, gamma, beta, eps, fname, min_ndim=2):
    """Validate the arguments; return x, gamma, beta (None -> 1, 0) as arrays and eps."""
    x = as_float_array(x, "x", fname)
    check_ndim(x, "x", fname, {n: layout for n, layout in _LAYOUTS.items() if n >= min_ndim})
    channels = x.shape[1]
    if x.size == 0:
        raise ValueError(f"{fname}: x is empty, shape {tuple(x.shape)}")
    params = []
    for name, value, default in (("gamma", gamma, 1.0), ("beta", beta, 0.0)):
        if value is None:
            params.append(np.full(channels, default, dtype=x.dtype))
            continue
        value = as_float_array(value, name, fname)
        if value.shape != (channels,):
            raise ValueError(
                f"{fname}: {name} must have shape (C,) = ({channels},), one value per channel "
                f"of x {tuple(x.shape)}; got shape {tuple(value.shape)}"
            )
        params.append(value)
    dtype = np.result_type(x.dtype, *(p.dtype for p in params))
    x = x.astype(dtype, copy=False)
    return x, params[0].astype(dtype), params[1].astype(dtype), _as_eps(eps, fname)


def _as_eps(eps, fname) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{fname}: eps must be a number, got {eps!r}")
    if not eps >= 0:
        raise ValueError(f"{fname}: eps must be >= 0, got {eps}")
    return float(eps)


def _num_groups(num_groups, channels, fname) -> int:
    groups = as_int(num_groups, "num_groups", fname, minimum=1)
    if channels % groups:
        raise ValueError(
            f"{fname}: num_groups={groups} must divide the C={channels} channels of x "
            f"(each group holds C / num_groups channels)"
        )
    return groups


def _check_dout(dout, x, fname) -> np.ndarray:
    dout = as_float_array(dout, "dout", fname)
    if dout.shape != x.shape:
        raise ValueError(
            f"{fname}: dout must have the shape of x, {tuple(x.shape)}; got {tuple(dout.shape)}"
        )
    return dout.astype(np.result_type(dout.dtype, x.dtype), copy=False)


def _need_two_values(x, fname, *, per_instance=False) -> None:
    """Batch and instance statistics of a single value are meaningless: refuse, like torch."""
    if per_instance:
        count, what = math.prod(x.shape[2:]), "spatial position (H * W = 1)"
    else:
        count, what = x.size // x.shape[1], "value per channel (N * H * W = 1)"
    if count == 1:
        raise ValueError(
            f"{fname}: x of shape {tuple(x.shape)} has only one {what}: its variance is 0, "
            "so the output would be beta whatever x is. Use a larger batch, or a norm "
            "that does not need batch statistics (group or layer norm)."
        )


def _batch_layout(x):
    """View x as (N, C, rest): statistics over axes 0 and 2 (one set per channel)."""
    return x.reshape(x.shape[0], x.shape[1], -1), (0, 2)


def _group_layout(x, groups):
    """View x as (N, G, C/G * rest): statistics over axis 2 (one set per sample and group)."""
    return x.reshape(x.shape[0], groups, -1), (2,)


def _normalize(x, view, axes, *, eps):
    """Return ``x_hat`` (the shape of x) and ``1 / sigma`` (broadcastable to ``view``)."""
    mean = view.mean(axis=axes, keepdims=True)
    centred = view - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    return (centred * inv_std).reshape(x.shape), inv_std


def _affine(x_hat, gamma, beta):
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)
    return x_hat * gamma.reshape(shape) + beta.reshape(shape)


def _backward(dout, x, gamma, layout, eps):
    view, axes = layout
    x_hat, inv_std = _normalize(x, view, axes, eps=eps)
    channel_axes = (0, *range(2, x.ndim))
    dgamma = (dout * x_hat).sum(axis=channel_axes)
    dbeta = dout.sum(axis=channel_axes)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    g = (dout * gamma.reshape(shape)).reshape(view.shape)  # gradient w.r.t. x_hat
    h = x_hat.reshape(view.shape)
    dx = inv_std * (
        g - g.mean(axis=axes, keepdims=True) - h * (g * h).mean(axis=axes, keepdims=True)
    )
    return dx.reshape(x.shape), dgamma, dbeta
