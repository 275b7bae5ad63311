"""What a PyTorch layer costs: parameters and multiply-accumulates (MACs), one oracle.

:func:`helpers.summary.summary` and the exercise checkers all count with these functions.
The conventions (those of torchvision's model table and of the ResNet paper):

* **MACs** count only convolution and fully connected layers, for the whole batch a
  call sees:

  - ``nn.Conv{1,2,3}d``: output elements x ``C_in / groups`` x ``prod(kernel_size)``;
  - ``nn.ConvTranspose{1,2,3}d``: input elements x ``C_out / groups`` x ``prod(kernel_size)``;
  - ``nn.Linear``: output elements x ``in_features``.

  Biases, normalisation, activations, pooling and additions count nothing. FLOPs are
  2 x MACs, what ``torch.utils.flop_counter.FlopCounterMode`` reports
  (``tests/test_costs.py`` checks the two agree).
* **Parameters** are counted once each, even when a module or tensor is shared.
* **Training** (:func:`training_costs`) is counted by PyTorch itself, for a whole batch: the
  FLOPs of the forward and of the backward pass (``FlopCounterMode``: a convolution's
  backward is one product for the input gradient and one for the weight gradient, so twice
  its forward) and the bytes of the tensors autograd saves for the backward pass
  (saved-tensor hooks; parameters not included, a tensor saved twice counted once).

::

    >>> model_costs(nn.Conv2d(3, 10, 5, padding=2), (3, 32, 32))
    Costs(params=760, macs=768000)
    >>> training_costs(nn.Conv2d(3, 10, 5, padding=2), (8, 3, 32, 32), input_grad=True)
    TrainingCosts(forward_flops=12288000, backward_flops=24576000, saved_bytes=98304)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.flop_counter import FlopCounterMode

__all__ = [
    "Costs",
    "TrainingCosts",
    "count_params",
    "layer_macs",
    "model_costs",
    "parameter_owners",
    "training_costs",
]

CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONV_TRANSPOSE = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


class Costs(NamedTuple):
    """Parameters and MACs of one forward pass of one sample."""

    params: int
    macs: int


def tensors_in(value) -> list[torch.Tensor]:
    """Every tensor in a module's inputs or output (a tensor, or a tuple/list/dict of them)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in tensors_in(item)]
    return []


def layer_macs(module: nn.Module, inputs, output) -> int:
    """Multiply-accumulates of one call of ``module`` (whole batch); 0 unless conv/linear.

    ``inputs`` and ``output`` are what a forward hook receives.
    """
    if isinstance(module, CONV):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return tensors_in(output)[0].numel() * per_output
    if isinstance(module, CONV_TRANSPOSE):
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return tensors_in(inputs)[0].numel() * per_input
    if isinstance(module, nn.Linear):
        return tensors_in(output)[0].numel() * module.in_features
    return 0


def parameter_owners(model: nn.Module) -> dict[int, int]:
    """``id(module) -> number of parameters it owns directly``; a shared tensor counts once,
    for the first module that holds it; modules owning none are left out."""
    seen, owners = set(), {}
    for module in model.modules():
        count = 0
        for p in module.parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                count += p.numel()
        if count:
            owners[id(module)] = count
    return owners


def count_params(model: nn.Module) -> int:
    """Number of parameters of ``model``, each (shared) tensor counted once."""
    return sum(parameter_owners(model).values())


def model_costs(model: nn.Module, input_shape) -> Costs:
    """Parameters and MACs of ``model`` on one input of ``input_shape`` (no batch axis).

    Runs :func:`helpers.profiler.profile` on PyTorch's ``meta`` device: shapes only, no
    arithmetic and no memory for activations, whatever the size; ``model`` is unchanged.
    """
    from .profiler import profile

    rows, _ = profile(model, input_shape, fname="model_costs", on_meta=True)
    return Costs(sum(row.params for row in rows), sum(row.macs for row in rows))


class TrainingCosts(NamedTuple):
    """One forward and one backward pass of a whole batch, as PyTorch counts them."""

    forward_flops: int
    backward_flops: int
    saved_bytes: int


def training_costs(model: nn.Module, input_shape, *, input_grad: bool = False) -> TrainingCosts:
    """FLOPs of the forward and the backward pass, and the bytes saved for the backward pass.

    Args:
        model: any ``torch.nn.Module``; it is unchanged (a ``meta`` copy runs: shapes only,
            no arithmetic and no memory, whatever the size).
        input_shape: the input with its batch axis, ``(N, C, H, W)``; without it (one sample,
            as for :func:`model_costs`) ``N = 1``.
        input_grad: whether the backward pass also computes the gradient of the input, as it
            does for every layer but the first inside a network. The weight gradients are
            those of the parameters that require a gradient (frozen ones cost nothing).

    Returns:
        :class:`TrainingCosts` for the whole batch: ``forward_flops`` and ``backward_flops``
        from ``torch.utils.flop_counter.FlopCounterMode`` (2 FLOPs per MAC; the backward
        pass starts from an upstream gradient shaped like the output), and ``saved_bytes``,
        the tensors autograd keeps from the forward pass for the backward pass (what
        ``torch.no_grad()`` would not keep), parameters not included.
    """
    from .profiler import _as_shape, _meta_copy, _split_batch

    fname = "training_costs"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _as_shape(input_shape, fname)
    sample_shape, batch = _split_batch(model, shape, fname)
    meta = _meta_copy(model)  # its parameters keep their requires_grad
    parameters = {id(p) for p in meta.parameters()}
    saved: dict[int, torch.Tensor] = {}  # one entry per saved tensor (a view: its base)

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        root = tensor if tensor._base is None else tensor._base
        if id(root) not in parameters:
            saved[id(root)] = root
        return tensor

    x = torch.empty(batch, *sample_shape, device="meta", requires_grad=input_grad)
    counter = FlopCounterMode(display=False)
    try:
        with counter, saved_tensors_hooks(pack, lambda tensor: tensor):
            out = tensors_in(meta(x))[0]
        forward = counter.get_total_flops()
        with counter:
            out.backward(torch.empty_like(out))
    except Exception as error:
        raise ValueError(
            f"{fname}: the model cannot run on input_shape={(batch, *sample_shape)!r} "
            f"(batch included): {type(error).__name__}: {error}"
        ) from error
    saved_bytes = sum(t.numel() * t.element_size() for t in saved.values())
    return TrainingCosts(forward, counter.get_total_flops(), saved_bytes)
