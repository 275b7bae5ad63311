"""Receptive fields of PyTorch models: computed from the layers, and measured by gradients.

Conventions (Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019). Along one spatial axis, layer ``l`` has kernel size ``k_l``,
stride ``s_l``, padding ``p_l`` and dilation ``d_l``, so its kernel spans
``k_eff = d_l (k_l - 1) + 1`` positions. Output unit ``j`` of a stack of ``L`` layers sees
the input positions ``j*S - P, ..., j*S - P + r - 1`` (negative positions are padding),
with::

    size     r = 1 + sum_l (k_eff_l - 1) * prod_{i<l} s_i
    stride   S = prod_l s_l                    (distance between neighbouring fields)
    padding  P = sum_l p_l * prod_{i<l} s_i     (how far the first field starts left of 0)

Every axis is computed separately. A field is reported as ints when all spatial axes
agree (square kernels, equal strides), else as tuples with one entry per axis.

:func:`receptive_field` traces the model with ``torch.fx``, so it follows branches and
residual connections. Where paths merge (``+``, ``torch.cat``, ...), their effective
strides must agree (Distill's "aligned" networks); the merged field is the box that
covers the fields of all paths: the largest one when they share a centre, as usual.
What each layer does:

* convolutions and max/average pooling (``ceil_mode`` included): kernel, stride,
  padding and dilation as above;
* pass-through (size 1, stride 1): activations, batch/group/instance/layer norm (their
  statistics, which in training mode mix all positions, are ignored), dropout,
  ``Identity``, channel-wise operations;
* adaptive pooling: the identity when it keeps the size, an ordinary pooling when the
  input size is a multiple of the output size, otherwise (e.g. global pooling) the
  field becomes the whole input;
* ``Flatten``, ``Linear``, ``view``/``reshape``, means over spatial axes: from there on
  every output sees the whole input: size = input size, stride = input size,
  padding = 0 (``whole_input`` is True in the table).

Transposed convolutions, upsampling and other layers that are not listed raise a
``ValueError`` naming the layer.

:func:`empirical_receptive_field` measures the field instead: it copies the model, sets
every weight to a positive constant (``1 / fan_in``), biases to zero, normalisation
layers to the identity and replaces max pooling by average pooling with the same
window (max pooling sends the gradient to a single winner, and on a constant input
every value ties), then back-propagates from one output unit to an all-ones input.
Every input pixel that can influence the unit gets a positive gradient; the bounding
box of those pixels is the receptive field. Since all the weights are equal, every
channel carries the same values, so the copy keeps one channel: it is fast even for
ResNet-50, and the model's own weights are neither copied nor changed.

The package keeps one job per module:

* :mod:`.fields`: the results (``ReceptiveField``, ``LayerField``);
* :mod:`.table`: ``ReceptiveFieldTable``, the rows printed as a text or HTML table;
* :mod:`.layers`: what each kind of layer does to a field, and its per-axis geometry;
* :mod:`.tracing`: tracing a model with ``torch.fx`` and recording its shapes;
* :mod:`.analyser`: ``receptive_field`` and ``receptive_field_table``, from the layers;
* :mod:`.measurement`: ``field_gradient`` and ``empirical_receptive_field``, by gradients.

The functions are imported on first use, so importing the package loads neither PyTorch
nor ``torch.fx``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .fields import LayerField, ReceptiveField
from .table import ReceptiveFieldTable

if TYPE_CHECKING:  # imported on first use, by __getattr__ below
    from .analyser import receptive_field, receptive_field_table
    from .measurement import empirical_receptive_field, field_gradient

__all__ = [
    "LayerField",
    "ReceptiveField",
    "ReceptiveFieldTable",
    "empirical_receptive_field",
    "field_gradient",
    "receptive_field",
    "receptive_field_table",
]

_FUNCTIONS = {
    "receptive_field": "analyser",
    "receptive_field_table": "analyser",
    "field_gradient": "measurement",
    "empirical_receptive_field": "measurement",
}


def __getattr__(name: str):
    """Import the analyser or the measurement on first use of one of their functions."""
    if name not in _FUNCTIONS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_FUNCTIONS[name]}", __name__), name)
    globals()[name] = value
    return value
