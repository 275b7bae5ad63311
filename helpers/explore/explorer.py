"""The widget framework of the explorers: one object, a live widget, a PNG and a line.

An :class:`Explorer` is built from five functions (describe, draw, layout, adjust,
expand; see ``__init__``) and shows as a mime bundle: the ipywidgets view in JupyterLab,
the PNG of the current drawing in a static viewer, a deterministic ``text/plain`` line
for nbval. The small helpers below are shared by both explorers.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable

import matplotlib.pyplot as plt

from .._validate import as_int

__all__ = ["HINT", "PAD", "RED", "Explorer", "check_range", "dim", "ipywidgets_or_none"]

HINT = "move the sliders in JupyterLab"
RED = "#d62728"
PAD = "#e8e8e8"
_MAX_PNG_WIDTH = 1200  # pixels: wide pictures are rendered at a lower dpi


# ------------------------------------------------------------------------ the shared object


class Explorer:
    """A drawing with controls: the live widget in JupyterLab, a PNG and a line elsewhere.

    Attributes:
        values: the current settings, a dict (read only: change them with :meth:`set` or
            by moving a control).
        controls: ``{name: ipywidgets control}``; empty without ipywidgets.
        widget: the ``ipywidgets.VBox`` shown in JupyterLab, or None without ipywidgets.
        text: the one-line summary of the current settings (``text/plain``).
        message: why there is no picture (an impossible combination), or None.
        png: the current drawing as PNG bytes.
    """

    def __init__(
        self,
        name: str,
        values: dict,
        describe: Callable,
        draw: Callable,
        layout: Callable,
        adjust: Callable | None = None,
        expand: Callable | None = None,
    ):
        self._name = name
        self._values = dict(values)
        self._describe = describe  # values -> (state, text, html, message)
        self._draw = draw  # (values, state) -> matplotlib Figure
        self._layout = layout  # (explorer) -> (widget, controls, image, label) or None
        self._adjust = adjust  # (explorer) -> None: match dependent controls to the state
        self._expand = expand  # (explorer, changed values) -> values to apply
        self.state: dict = {}
        self.text = ""
        self.message: str | None = None
        self.png = b""
        self._html = ""
        self._busy = False
        self.widget = None
        self.controls: dict = {}
        self._image = self._label = None
        self._update()
        built = layout(self)
        if built is not None:
            self.widget, self.controls, self._image, self._label = built
            self._show()

    @property
    def values(self) -> dict:
        return dict(self._values)

    def set(self, **values) -> None:
        """Change settings, e.g. ``explorer.set(stride=2)``; the controls follow."""
        unknown = sorted(set(values) - set(self._values))
        if unknown:
            raise ValueError(
                f"{self._name}.set: unknown setting(s) {', '.join(unknown)}; "
                f"the settings are {', '.join(self._values)}"
            )
        if self._expand is not None:
            values = self._expand(self, values)
        self._busy = True
        try:
            for key, value in values.items():
                if key in self.controls and value is not None:
                    self.controls[key].value = value
        finally:
            self._busy = False
        self._values.update(values)
        self._changed()

    def figure(self):
        """A new matplotlib Figure of the current drawing (close it when done)."""
        if self.message is not None:
            return _message_figure(self.message)
        return self._draw(self._values, self.state)

    # ------------------------------------------------------------------ internals

    def _on_control(self, change) -> None:
        """An ipywidgets observer: a control moved."""
        if self._busy:
            return
        changed = {key: control.value for key, control in self.controls.items()}
        changed = {k: v for k, v in changed.items() if v != self._values.get(k)}
        if self._expand is not None:
            changed = self._expand(self, changed)
        self._values.update(changed)
        self._changed()

    def _changed(self) -> None:
        self._update()
        self._sync_controls()
        self._show()

    def _sync_controls(self) -> None:
        """Let the explorer adjust dependent controls (ranges of the window or unit)."""
        if self._adjust is None or not self.controls:
            return
        self._busy = True
        try:
            self._adjust(self)
        finally:
            self._busy = False

    def _update(self) -> None:
        self.state, self.text, self._html, self.message = self._describe(self._values)
        fig = self.figure()
        self.png = _png(fig)

    def _show(self) -> None:
        if self._image is None:
            return
        self._label.value = self._html
        self._image.value = self.png
        self._image.layout.display = "none" if self.message is not None else None

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {
            "text/plain": self.text,
            "image/png": base64.b64encode(self.png).decode("ascii"),
        }
        if self.widget is not None:
            bundle = self.widget._repr_mimebundle_()
            key = "application/vnd.jupyter.widget-view+json"
            if bundle and key in bundle:
                data[key] = bundle[key]
        return data

    def __repr__(self) -> str:
        return self.text


def _png(fig) -> bytes:
    """Render ``fig`` to PNG bytes (at most ``_MAX_PNG_WIDTH`` pixels wide) and close it."""
    width = fig.get_figwidth()
    dpi = min(100.0, _MAX_PNG_WIDTH / width)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _message_figure(message: str):
    fig = plt.figure(figsize=(7.5, 1.6))
    fig.text(
        0.02,
        0.5,
        "\n".join(textwrap.wrap(message, 95)),
        ha="left",
        va="center",
        fontsize=10,
        color=RED,
    )
    return fig


def ipywidgets_or_none():
    """The ipywidgets module, or None when it is not installed."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def check_range(value, name: str, fname: str, low: int, high: int) -> int:
    value = as_int(value, name, fname, minimum=low)
    if value > high:
        raise ValueError(
            f"{fname}: {name} must be between {low} and {high} (the range of its control), "
            f"got {value}"
        )
    return value


def dim(text: str) -> str:
    return f"<span style='color:#666'>{text}</span>"
