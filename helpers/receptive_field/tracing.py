"""Trace a model with ``torch.fx`` and record the shape of every node's output."""

from __future__ import annotations

import warnings

import torch
import torch.fx as fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from .._validate import positive_ints
from .layers import AVG_POOL, CONV, MAX_POOL

__all__ = ["prepare"]


def prepare(model, input_shape, fname: str, *, shapes: bool = True):
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
        for table in (CONV, MAX_POOL, AVG_POOL):
            for kind, nd in table.items():
                if type(module) is kind:
                    return nd
    return None
