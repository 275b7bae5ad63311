"""The profiler behind :func:`helpers.summary.summary`: run a model once on zeros with a
forward hook on every leaf module, and record one :class:`LayerRow` per call (output
shape, parameters, MACs, activations, receptive field). The counting conventions are those
of :mod:`helpers.costs`; the table that shows the rows is :class:`helpers.summary.ModelSummary`.
"""

from __future__ import annotations

import copy
import dataclasses
import numbers
from dataclasses import dataclass

import torch
from torch import nn

from ._validate import positive_ints
from .costs import CONV, CONV_TRANSPOSE, layer_macs, parameter_owners, tensors_in

__all__ = ["LayerRow", "profile"]


@dataclass(frozen=True)
class LayerRow:
    """One row of a :class:`ModelSummary`: one call of a leaf module (or of a container
    that owns parameters itself).

    Attributes:
        name: the module's qualified name (``"features.0"``); a second call of the same
            module is ``"layer1.0.relu (call 2)"``.
        type: the class name (``"Conv2d"``).
        output_shape: shape of the output for one sample, without the batch dimension;
            ``None`` for a module that the forward pass never called.
        params: parameters owned by this module, counted at its first call only.
        macs: multiply-accumulates for one sample (conv and linear layers only).
        activations: elements of the output for one sample (0 for a container, whose
            output is already counted in its children's rows).
        receptive_field: size of the receptive field of one output unit, in input pixels
            (a tuple when the axes differ), when known, else ``None``.
    """

    name: str
    type: str
    output_shape: tuple[int, ...] | None
    params: int
    macs: int
    activations: int
    receptive_field: int | tuple[int, ...] | None = None


def profile(
    model: nn.Module,
    input_shape,
    *,
    fname: str = "profile",
    receptive_fields: bool = False,
    on_meta: bool = False,
) -> tuple[list[LayerRow], tuple[int, ...]]:
    """Run ``model`` once and return its rows and the shape of one sample.

    Args:
        model: any ``torch.nn.Module``; its parameters, buffers and train/eval flags are
            left unchanged.
        input_shape: one sample, ``(C, H, W)``, or with a leading batch size (see
            :func:`helpers.summary.summary`); counts are per sample either way.
        fname: the function named in error messages.
        receptive_fields: fill :attr:`LayerRow.receptive_field` where it can be computed.
        on_meta: run on PyTorch's ``meta`` device (shapes only: no arithmetic, no memory),
            with meta copies of the parameters; otherwise on the parameters' device.

    Returns:
        ``(rows, sample_shape)``: one :class:`LayerRow` per call of a leaf module, in
        execution order (then modules never called that own parameters).

    Raises:
        TypeError, ValueError: as listed in :func:`helpers.summary.summary`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _as_shape(input_shape, fname)
    sample_shape, batch = _split_batch(model, shape, fname)
    full_shape = (batch, *sample_shape)
    try:
        rows = _collect(_meta_copy(model) if on_meta else model, full_shape, batch)
    except Exception as error:
        raise ValueError(
            f"{fname}: the model cannot run on input_shape={full_shape!r} (batch included): "
            f"{type(error).__name__}: {error}"
        ) from error
    if receptive_fields:
        rows = _add_receptive_fields(model, sample_shape, rows)
    return rows, sample_shape


def _meta_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose parameters and buffers live on the ``meta`` device (shapes
    only, nothing copied); tensors shared in ``model`` stay shared in the copy."""
    memo = {}
    for p in model.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device="meta"), p.requires_grad)
    for b in model.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(model, memo)


def _as_shape(input_shape, fname: str) -> tuple[int, ...]:
    if isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(
            f"{fname}: input_shape must be a tuple of ints such as (3, 224, 224), "
            f"got {type(input_shape).__name__}"
        )
    if not input_shape:
        raise ValueError(f"{fname}: input_shape must not be empty")
    return positive_ints(input_shape, "input_shape", fname)


def _split_batch(model: nn.Module, shape: tuple[int, ...], fname: str):
    """Return (shape of one sample, batch size), deciding whether ``shape`` includes N."""
    first_conv = next((m for m in model.modules() if isinstance(m, CONV + CONV_TRANSPOSE)), None)
    if first_conv is None:
        return shape, 1  # no convolution: the shape is one sample (e.g. (784,) for an MLP)
    nd = len(first_conv.kernel_size)
    if len(shape) == nd + 1:
        return shape, 1
    if len(shape) == nd + 2:
        return shape[1:], shape[0]
    layout = ", ".join(["C", "L"] if nd == 1 else ["C", *"DHW"[3 - nd :]])
    raise ValueError(
        f"{fname}: input_shape must be ({layout}) for this model, whose first convolution is "
        f"{type(first_conv).__name__} (optionally with a leading batch size N); "
        f"got {shape!r} ({len(shape)} entries)"
    )


def _collect(model: nn.Module, full_shape: tuple[int, ...], batch: int) -> list[LayerRow]:
    """Forward zeros through ``model`` with hooks on its leaf modules; one row per call."""
    owners = parameter_owners(model)
    names = {id(m): name for name, m in model.named_modules()}
    watched = [m for m in model.modules() if not list(m.children()) or owners.get(id(m), 0)]
    records: list[tuple[nn.Module, object, object]] = []

    def hook(module, inputs, output):
        records.append((module, inputs, output))

    tensors = [*model.parameters(), *model.buffers()]
    floats = [t for t in tensors if t.is_floating_point()]
    dtype = floats[0].dtype if floats else torch.get_default_dtype()
    device = tensors[0].device if tensors else torch.device("cpu")
    flags = [(m, m.training) for m in model.modules()]
    handles = [m.register_forward_hook(hook) for m in watched]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(full_shape, dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for m, training in flags:
            m.training = training

    rows, calls, counted = [], {}, set()
    for module, inputs, output in records:
        calls[id(module)] = calls.get(id(module), 0) + 1
        name = names.get(id(module), "") or type(module).__name__
        leaf = not list(module.children())
        if calls[id(module)] > 1:
            name += f" (call {calls[id(module)]})"
        params = 0
        if id(module) not in counted:
            counted.add(id(module))
            params = owners.get(id(module), 0)
        tensors = tensors_in(output)
        out_shape = None
        if tensors:
            first = tensors[0]
            out_shape = (
                tuple(first.shape[1:]) if first.shape[:1] == (batch,) else tuple(first.shape)
            )
        rows.append(
            LayerRow(
                name=name,
                type=type(module).__name__,
                output_shape=out_shape,
                params=params,
                macs=layer_macs(module, inputs, output) // batch,
                # a container's own output is already counted in its children's rows
                activations=sum(t.numel() for t in tensors) // batch if leaf else 0,
            )
        )
    for module in watched:  # never called, but its parameters belong to the model
        if id(module) not in counted and owners.get(id(module), 0):
            counted.add(id(module))
            rows.append(
                LayerRow(names[id(module)], type(module).__name__, None, owners[id(module)], 0, 0)
            )
    return rows


def _add_receptive_fields(model, sample_shape, rows: list[LayerRow]) -> list[LayerRow]:
    """Fill ``receptive_field`` from :func:`helpers.shapes.receptive_field_table`, if it can.

    The table has one entry per module call, named like the module; the k-th call of a
    module gets the k-th entry of that name.
    """
    try:
        from .shapes import receptive_field_table

        table = receptive_field_table(model, sample_shape)
    except Exception:  # optional column: not every model can be traced by torch.fx
        return rows
    sizes: dict[str, list] = {}
    for entry in table:
        size = getattr(entry, "size", None)
        if isinstance(size, (tuple, list)):
            size = size[0] if len(set(size)) == 1 else tuple(size)
        sizes.setdefault(entry.name, []).append(size)
    out = []
    for row in rows:
        name, _, call = row.name.partition(" (call ")
        index = int(call.rstrip(")")) - 1 if call else 0
        found = sizes.get(name, [])
        field = found[index] if index < len(found) else None
        out.append(dataclasses.replace(row, receptive_field=field))
    return out
