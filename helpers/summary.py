"""A layer-by-layer table of a model: output shapes, parameters, MACs and activations.

::

    >>> from helpers.summary import summary
    >>> s = summary(torchvision.models.resnet18(weights=None), (3, 224, 224))
    >>> s.total_params, s.total_macs        # 11,689,512 and 1,814,073,344 (1.81 GMACs)
    >>> print(s)                            # a text table; in a notebook, `s` shows HTML

The rows come from :func:`helpers.profiler.profile` (forward hooks), counted by
:mod:`helpers.costs`; this module turns them into a table. Conventions (those of
torchvision's model table and of the ResNet paper):

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

import html

from torch import nn

from .profiler import LayerRow, profile

__all__ = ["LayerRow", "ModelSummary", "summary"]


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
    rows, sample_shape = profile(
        model, input_shape, fname="summary", receptive_fields=receptive_fields
    )
    return ModelSummary(rows, sample_shape, type(model).__name__)


# ---------------------------------------------------------------------- rendering


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
