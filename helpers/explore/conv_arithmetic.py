"""The conv arithmetic explorer of notebook 02: sliders for the output-size formula."""

from __future__ import annotations

import html

import numpy as np

from .. import shapes
from .._validate import as_int
from .explorer import HINT, RED, Explorer, check_range, dim, ipywidgets_or_none

__all__ = ["CONV_RANGES", "conv_arithmetic_explorer"]

CONV_RANGES = {
    "input_size": (1, 10),
    "kernel_size": (1, 5),
    "stride": (1, 3),
    "padding": (0, 3),
    "dilation": (1, 3),
}
"""Slider ranges of :func:`conv_arithmetic_explorer`: ``{name: (low, high)}``."""

_CONV_LABELS = {
    "input_size": "input n",
    "kernel_size": "kernel k",
    "stride": "stride s",
    "padding": "padding p",
    "dilation": "dilation d",
}
# a fixed 0/1 pattern: a smaller input is its top-left corner, so values stay put
_PATTERN = np.random.default_rng(0).integers(0, 2, size=(10, 10)).astype(float)


def _x_kernel(k: int) -> np.ndarray:
    """The "X" kernel of notebook 02 (ones on both diagonals), k×k."""
    w = np.zeros((k, k))
    idx = np.arange(k)
    w[idx, idx] = w[idx, k - 1 - idx] = 1
    return w


def _conv_describe(values: dict):
    n, k, s, p, d = (values[key] for key in CONV_RANGES)
    settings = f"n={n}, k={k}, s={s}, p={p}, d={d}"
    filled = f"({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}"
    formula = f"n_out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊{filled}⌋ + 1"
    try:
        out = shapes.conv_output_size(n, k, s, p, d)
    except ValueError as error:
        reason = str(error).split(": ", 1)[-1]
        message = f"No output: {reason}"
        text = (
            f"conv arithmetic explorer: {settings} -> no output, the kernel does not fit ({HINT})"
        )
        label = f"<b style='color:{RED}'>{html.escape(message)}</b>"
        return {"output_size": None}, text, label, message
    window = values["window"]
    last = out * out - 1
    window = last if window is None else min(window, last)
    values["window"] = window
    span = d * (k - 1) + 1
    state = {"output_size": out, "span": span, "position": divmod(window, out)}
    text = f"conv arithmetic explorer: {settings} -> output {out}×{out} ({HINT})"
    label = (
        f"<b>{html.escape(formula)} = {out}</b> on each axis: a <b>{out}×{out}</b> output. "
        + dim(
            f"The dilated kernel spans d(k − 1) + 1 = {span} positions of the padded input "
            f"({n} + 2·{p} = {n + 2 * p}); window {window + 1} of {out * out} is drawn."
        )
    )
    return state, text, label, None


def _conv_draw(values: dict, state: dict):
    from ..plot import sliding_window

    n, k, s, p, d = (values[key] for key in CONV_RANGES)
    out = state["output_size"]
    title = (
        f"n_out = ⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {out}"
        f"   (n = {n}, k = {k}, stride {s}, padding {p}, dilation {d})"
    )
    return sliding_window(
        _PATTERN[:n, :n],
        _x_kernel(k),
        position=state["position"],
        stride=s,
        padding=p,
        dilation=d,
        title=title,
    )


def _conv_adjust(explorer: Explorer) -> None:
    out = explorer.state.get("output_size")
    if out is not None:
        explorer.controls["window"].max = out * out - 1
        explorer.controls["window"].value = explorer._values["window"]


def _conv_expand(explorer: Explorer, changed: dict) -> dict:
    """Check the new values; while the last window is drawn, keep drawing the last one."""
    fname = "conv_arithmetic_explorer"
    for key, value in changed.items():
        if key in CONV_RANGES:
            check_range(value, key, fname, *CONV_RANGES[key])
        elif value is not None:
            as_int(value, key, fname, minimum=0)
    out = explorer.state.get("output_size")
    at_last = out is None or explorer._values["window"] == out * out - 1
    if "window" not in changed and at_last and set(changed) & set(CONV_RANGES):
        changed = {**changed, "window": None}
    return changed


def _conv_layout(explorer: Explorer):
    widgets = ipywidgets_or_none()
    if widgets is None:
        return None
    style = {"description_width": "72px"}
    layout = widgets.Layout(width="300px")
    controls = {}
    for key, (low, high) in CONV_RANGES.items():
        controls[key] = widgets.IntSlider(
            value=explorer._values[key],
            min=low,
            max=high,
            description=_CONV_LABELS[key],
            style=style,
            layout=layout,
            continuous_update=False,
        )
    out = explorer.state.get("output_size") or 1
    controls["window"] = widgets.IntSlider(
        value=explorer._values["window"] or 0,
        min=0,
        max=out * out - 1,
        description="window",
        style=style,
        layout=layout,
        continuous_update=False,
    )
    for control in controls.values():
        control.observe(explorer._on_control, names="value")
    names = list(controls)
    columns = widgets.HBox(
        [
            widgets.VBox([controls[key] for key in names[:3]]),
            widgets.VBox([controls[key] for key in names[3:]]),
        ]
    )
    label = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    box = widgets.VBox([columns, label, image])
    return box, controls, image, label


def conv_arithmetic_explorer(
    input_size: int = 7,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    window: int | None = None,
) -> Explorer:
    """Sliders for the output-size formula, with the sliding-window picture of notebook 02.

    Draws :func:`helpers.plot.sliding_window` on a square 0/1 input of size ``input_size``
    with the k×k "X" kernel (ones on both diagonals), and fills in
    ``floor((n + 2p - d(k-1) - 1) / s) + 1`` with the numbers; the output size comes from
    :func:`helpers.shapes.conv_output_size`. A sixth slider, ``window``, picks the output
    cell being computed (row by row; by default the last, so the whole output is filled).

    Args:
        input_size, kernel_size, stride, padding, dilation: the starting values, ints in
            the ranges of :data:`CONV_RANGES` (the same on both axes).
        window: index of the drawn window, ``0 <= window < n_out**2`` (clamped to the last
            one when the output is smaller); None: the last.

    Returns:
        An :class:`Explorer`: the live widget in JupyterLab, a PNG and the one-line text
        ``"conv arithmetic explorer: n=7, k=3, s=1, p=0, d=1 -> output 5×5 (...)"``
        elsewhere. A kernel that does not fit shows a message instead of a picture.

    Raises:
        TypeError: an argument that is not an int.
        ValueError: an argument outside its slider's range.
    """
    fname = "conv_arithmetic_explorer"
    given = {
        "input_size": input_size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    values = {
        key: check_range(value, key, fname, *CONV_RANGES[key]) for key, value in given.items()
    }
    values["window"] = None if window is None else as_int(window, "window", fname, minimum=0)
    return Explorer(
        fname, values, _conv_describe, _conv_draw, _conv_layout, _conv_adjust, _conv_expand
    )
