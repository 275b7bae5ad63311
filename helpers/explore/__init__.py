"""Interactive explorers: move sliders, watch the arithmetic of convolution change.

Two explorers, each returned as an :class:`Explorer` object:

* :func:`conv_arithmetic_explorer` (notebook 02): input size, kernel, stride, padding and
  dilation as sliders; redraws :func:`helpers.plot.sliding_window` and the output-size
  formula filled in with the numbers, computed by :func:`helpers.shapes.conv_output_size`.
* :func:`receptive_field_explorer` (notebook 03): a stack of up to four convolution or
  max-pooling layers and one output unit; draws the unit's receptive field on a
  photograph, the part that falls in the zero padding included, from
  :func:`helpers.shapes.receptive_field_table` (Distill's closed form).

Displaying an explorer gives a mime bundle with three entries: the live widget
(``application/vnd.jupyter.widget-view+json``), a PNG of the current drawing and a
one-line ``text/plain`` summary. JupyterLab ranks the widget renderer first (rank -10,
against 90 for ``image/png``), so with a kernel the sliders appear; a static viewer
(GitHub, nbviewer, a notebook opened untrusted) shows the PNG; nbval compares the text,
which is deterministic. Without ipywidgets the bundle has the PNG and the text only.

The drawings are rendered with matplotlib to PNG bytes and shown in an ``ipywidgets.Image``
(no ``Output`` widget, whose capture of figures depends on the front end); every figure
is closed after rendering, so that the inline backend never shows it a second time.
An impossible combination (a dilated kernel larger than the padded input, a pooling
with more padding than half its kernel) shows a message instead of a picture.

The package keeps one job per module: :mod:`.explorer` is the widget framework (the
:class:`Explorer` object, its mime bundle, PNG rendering and the shared checks);
:mod:`.conv_arithmetic` and :mod:`.receptive_fields` are the two explorers built on it.
"""

from __future__ import annotations

from .conv_arithmetic import CONV_RANGES, conv_arithmetic_explorer
from .explorer import Explorer
from .receptive_fields import FIELD_PRESETS, FIELD_RANGES, FieldLayer, receptive_field_explorer

__all__ = [
    "CONV_RANGES",
    "FIELD_PRESETS",
    "FIELD_RANGES",
    "Explorer",
    "FieldLayer",
    "conv_arithmetic_explorer",
    "receptive_field_explorer",
]
