"""The results of the receptive-field tools: one field, and one row of a table."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["LayerField", "ReceptiveField"]


class ReceptiveField(NamedTuple):
    """Receptive field of a unit: ``size`` r, effective ``stride`` S, effective ``padding`` P.

    Output unit ``j`` sees input positions ``j*S - P`` to ``j*S - P + r - 1``. Each entry
    is an int, or a tuple with one int per spatial axis where the axes differ.
    """

    size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    padding: int | tuple[int, ...]


class LayerField(NamedTuple):
    """One row of :func:`receptive_field_table`: a layer and the field after it.

    ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are the layer's own (``None``
    for layers that do not move the field: activations, merges, ...); ``size``,
    ``effective_stride`` and ``effective_padding`` describe the field of one unit of its
    output, in input pixels. ``whole_input`` is True once every unit sees the whole input.
    """

    name: str
    type: str
    kernel_size: int | tuple[int, ...] | None
    stride: int | tuple[int, ...] | None
    padding: int | tuple[int, ...] | None
    dilation: int | tuple[int, ...] | None
    output_shape: tuple[int, ...]
    size: int | tuple[int, ...]
    effective_stride: int | tuple[int, ...]
    effective_padding: int | tuple[int, ...]
    whole_input: bool = False

    @property
    def field(self) -> ReceptiveField:
        return ReceptiveField(self.size, self.effective_stride, self.effective_padding)
