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

::

    >>> model_costs(nn.Conv2d(3, 10, 5, padding=2), (3, 32, 32))
    Costs(params=760, macs=768000)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

__all__ = ["Costs", "count_params", "layer_macs", "model_costs", "parameter_owners"]

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
