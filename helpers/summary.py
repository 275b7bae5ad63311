"""A layer-by-layer table of a model: output shapes, parameters, MACs and activations.

::

    >>> from helpers.summary import summary
    >>> s = summary(torchvision.models.resnet18(weights=None), (3, 224, 224))
    >>> s.total_params, s.total_macs        # 11,689,512 and 1,814,073,344 (1.81 GMACs)
    >>> print(s)                            # a text table; in a notebook, `s` shows HTML

Conventions (those of torchvision's model table and of the ResNet paper):

* **Counts are per sample.** ``input_shape`` is the shape of one input without the batch
  dimension, e.g. ``(3, 224, 224)``; a shape with a leading batch dimension,
  ``(N, 3, 224, 224)``, is accepted too and gives the same (per-sample) numbers.
* **MACs** (multiply-accumulates) count only convolution and fully connected layers:

  - ``nn.Conv{1,2,3}d``: output elements x ``C_in / groups`` x ``prod(kernel_size)``;
  - ``nn.ConvTranspose{1,2,3}d``: input elements x ``C_out / groups`` x ``prod(kernel_size)``;
  - ``nn.Linear``: output elements x ``in_features``.

  Biases, normalisation, activations, pooling and additions count nothing: they are cheap
  next to the products. FLOPs are about 2 x MACs (one multiply and one add each), which is
  what ``torch.utils.flop_counter.FlopCounterMode`` reports; torchvision's "GFLOPS"
  column is in fact GMACs.
* **Activations** are the number of elements each leaf layer outputs (one sample), a proxy
  for the memory a forward pass keeps for the backward pass.
* **Parameters** are counted once each: a module called twice (torchvision's ResNet blocks
  reuse one ``ReLU``) gets a row per call, and the parameters appear in the first.

The model is run once, in eval mode and without gradients, on a zero input on the
device of its parameters; its parameters, buffers and train/eval flags are left unchanged.
To summarise a large model without allocating its weights or doing any arithmetic, build
it on PyTorch's ``meta`` device, which tracks shapes only::

    with torch.device("meta"):
        model = torchvision.models.vgg16(weights=None)
    summary(model, (3, 224, 224))    # fast; no memory for weights or activations
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
from dataclasses import dataclass

import torch
from torch import nn

from ._validate import positive_ints

__all__ = ["LayerRow", "ModelSummary", "summary"]

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_TRANSPOSE = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


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


class ModelSummary:
    """The result of :func:`summary`: ``rows`` and the totals, printable as a table.

    ``str(s)`` (and ``print(s)``) gives a fixed-width text table with thousands separators
    and a totals line; in a notebook ``s`` is displayed as an HTML table.
    """

    def __init__(self, rows: list[LayerRow], input_shape: tuple[int, ...], model_name: str):
        self.rows = list(rows)
        self.input_shape = tuple(input_shape)
        self.model_name = model_name

    @property
    def total_params(self) -> int:
        """Number of parameters of the model (shared parameters counted once)."""
        return sum(row.params for row in self.rows)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of one forward pass of one sample (conv and linear)."""
        return sum(row.macs for row in self.rows)

    @property
    def total_activations(self) -> int:
        """Output elements of all rows, for one sample."""
        return sum(row.activations for row in self.rows)

    # ------------------------------------------------------------------ rendering

    def _has_rf(self) -> bool:
        return any(row.receptive_field is not None for row in self.rows)

    def _table(self) -> tuple[list[str], list[list[str]], list[str]]:
        """Header, body cells and totals cells, all as strings."""
        header = ["Layer", "Type", "Output shape", "Params", "MACs", "Activations"]
        if self._has_rf():
            header.append("RF")
        body = []
        for row in self.rows:
            cells = [
                row.name,
                row.type,
                _shape(row.output_shape),
                f"{row.params:,}",
                f"{row.macs:,}",
                f"{row.activations:,}",
            ]
            if self._has_rf():
                cells.append(_field(row.receptive_field))
            body.append(cells)
        totals = [
            "Total",
            "",
            f"input {_shape(self.input_shape)}",
            f"{self.total_params:,}",
            f"{self.total_macs:,}",
            f"{self.total_activations:,}",
        ]
        if self._has_rf():
            totals.append("")
        return header, body, totals

    def __str__(self) -> str:
        header, body, totals = self._table()
        widths = [max(len(r[i]) for r in [header, *body, totals]) for i in range(len(header))]
        numeric = [False, False, False, True, True, True, True]

        def line(cells: list[str]) -> str:
            parts = [
                cell.rjust(width) if numeric[i] else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * len(line([("x" * w) for w in widths]))
        lines = [f"{self.model_name} (counts per sample)", line(header), rule]
        lines += [line(cells) for cells in body]
        lines += [rule.replace("-", "="), line(totals)]
        lines += self._notes()
        return "\n".join(lines)

    def _notes(self) -> list[str]:
        flops = _si(2 * self.total_macs)
        notes = [f"MACs count conv and linear layers; FLOPs ≈ 2 × MACs = {flops}."]
        if self._has_rf():
            notes.append("RF: receptive field of one output unit, in input pixels.")
        return notes

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        header, body, totals = self._table()
        right = 'style="text-align:right"'
        left = 'style="text-align:left"'

        def row(cells: list[str], tag: str) -> str:
            out = []
            for i, cell in enumerate(cells):
                align = right if i >= 3 else left
                out.append(f"<{tag} {align}>{html.escape(cell)}</{tag}>")
            return "<tr>" + "".join(out) + "</tr>"

        caption = html.escape(f"{self.model_name}, counts per sample. {' '.join(self._notes())}")
        return (
            '<table style="font-family:monospace;font-size:12px;border-collapse:collapse">'
            f'<caption style="caption-side:top;text-align:left">{caption}</caption>'
            f"<thead>{row(header, 'th')}</thead>"
            f"<tbody>{''.join(row(cells, 'td') for cells in body)}</tbody>"
            f'<tfoot style="font-weight:bold;border-top:2px solid">{row(totals, "td")}</tfoot>'
            "</table>"
        )


def summary(model: nn.Module, input_shape, *, receptive_fields: bool = True) -> ModelSummary:
    """Run ``model`` once on zeros and tabulate every leaf layer.

    Args:
        model: any ``torch.nn.Module`` (left unchanged).
        input_shape: the shape of one input without the batch dimension, e.g.
            ``(3, 224, 224)`` for ``x: (N, 3, 224, 224)``. A shape that includes the batch
            dimension, ``(N, C, H, W)``, is accepted too: it is recognised as such when it
            has two more entries than the spatial dimensions of the model's first
            convolution. Counts are per sample either way.
        receptive_fields: add a receptive-field column (the field of one output unit of
            each layer, in input pixels) where :func:`helpers.shapes.receptive_field_table`
            can compute it.

    Returns:
        A :class:`ModelSummary` with ``.rows`` (one :class:`LayerRow` per call of a leaf
        module, in execution order) and ``.total_params``, ``.total_macs`` and
        ``.total_activations``.

    Raises:
        TypeError: ``model`` is not an ``nn.Module`` or ``input_shape`` is not a tuple of
            ints.
        ValueError: ``input_shape`` has a non-positive entry, the wrong number of
            dimensions, or the model cannot run on an input of that shape.
    """
    fname = "summary"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _as_shape(input_shape, fname)
    sample_shape, batch = _split_batch(model, shape, fname)
    full_shape = (batch, *sample_shape)
    try:
        rows = _collect(model, full_shape, batch)
    except Exception as error:
        raise ValueError(
            f"{fname}: the model cannot run on input_shape={full_shape!r} (batch included): "
            f"{type(error).__name__}: {error}"
        ) from error
    if receptive_fields:
        rows = _add_receptive_fields(model, sample_shape, rows)
    return ModelSummary(rows, sample_shape, type(model).__name__)


# ---------------------------------------------------------------------- internals


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
    first_conv = next((m for m in model.modules() if isinstance(m, _CONV + _CONV_TRANSPOSE)), None)
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
    owners = _parameter_owners(model)
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
        tensors = _tensors(output)
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
                macs=_macs(module, inputs, output) // batch,
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


def _parameter_owners(model: nn.Module) -> dict[int, int]:
    """Number of parameters each module owns directly; a shared tensor counts once."""
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


def _tensors(output) -> list[torch.Tensor]:
    """Every tensor in a module's output (a tensor, or a tuple/list/dict of them)."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors(item)]
    return []


def _macs(module: nn.Module, inputs, output) -> int:
    """Multiply-accumulates of one call (whole batch); 0 for non conv/linear modules."""
    if isinstance(module, _CONV):
        out = _tensors(output)[0]
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        return out.numel() * per_output
    if isinstance(module, _CONV_TRANSPOSE):
        x = _tensors(inputs)[0]
        per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
        return x.numel() * per_input
    if isinstance(module, nn.Linear):
        return _tensors(output)[0].numel() * module.in_features
    return 0


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


def _shape(shape) -> str:
    if shape is None:
        return "(not called)"
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _field(size) -> str:
    if size is None:
        return ""
    if isinstance(size, tuple):
        return "×".join(str(s) for s in size)
    return str(size)


def _si(value: float) -> str:
    for factor, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value:g}"
