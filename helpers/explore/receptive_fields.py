"""The receptive field explorer of notebook 03: a stack of layers, one unit's field."""

from __future__ import annotations

import html
import numbers
from collections.abc import Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .. import shapes
from .._validate import as_int
from .explorer import HINT, PAD, RED, Explorer, check_range, dim, ipywidgets_or_none

__all__ = ["FIELD_PRESETS", "FIELD_RANGES", "FieldLayer", "receptive_field_explorer"]


class FieldLayer(NamedTuple):
    """One layer of :func:`receptive_field_explorer`, in ``nn.Conv2d``'s argument order.

    ``kind`` is ``"conv"`` (``nn.Conv2d``) or ``"max pool"`` (``nn.MaxPool2d``, whose
    ``stride`` is given explicitly); square kernels, the same numbers on both axes.
    """

    kind: str
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def module(self):
        """The PyTorch layer (one channel; only its geometry matters here)."""
        from torch import nn

        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        if self.kind == "conv":
            return nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
        return nn.MaxPool2d(k, stride=s, padding=p, dilation=d)

    def label(self) -> str:
        """Short name, e.g. ``"conv 3×3 s2 p1"``."""
        name = f"{self.kind} {self.kernel_size}×{self.kernel_size}"
        for letter, value, default in (
            ("s", self.stride, 1),
            ("p", self.padding, 0),
            ("d", self.dilation, 1),
        ):
            if value != default:
                name += f" {letter}{value}"
        return name


FIELD_PRESETS = {
    "small network of section 3": (
        FieldLayer("conv", 3, 1, 1),
        FieldLayer("conv", 3, 2, 1),
        FieldLayer("conv", 3, 1, 2, 2),
        FieldLayer("max pool", 2, 2),
    ),
    "three 3×3 convolutions": (
        FieldLayer("conv", 3, 1, 1),
        FieldLayer("conv", 3, 1, 1),
        FieldLayer("conv", 3, 1, 1),
    ),
    "conv, pool, conv, pool": (
        FieldLayer("conv", 3, 1, 1),
        FieldLayer("max pool", 2, 2),
        FieldLayer("conv", 3, 1, 1),
        FieldLayer("max pool", 2, 2),
    ),
    "four stride-2 convolutions": tuple(FieldLayer("conv", 3, 2, 1) for _ in range(4)),
    "dilations 1, 2, 4": (
        FieldLayer("conv", 3, 1, 1, 1),
        FieldLayer("conv", 3, 1, 2, 2),
        FieldLayer("conv", 3, 1, 4, 4),
    ),
    "dilations 2, 4, 8 (gaps)": (
        FieldLayer("conv", 3, 1, 2, 2),
        FieldLayer("conv", 3, 1, 4, 4),
        FieldLayer("conv", 3, 1, 8, 8),
    ),
    "AlexNet's first layers": (
        FieldLayer("conv", 11, 4, 2),
        FieldLayer("max pool", 3, 2),
        FieldLayer("conv", 5, 1, 2),
        FieldLayer("max pool", 3, 2),
    ),
}
"""Preset stacks of :func:`receptive_field_explorer` (name -> tuple of :class:`FieldLayer`)."""

FIELD_RANGES = {"kernel_size": (1, 11), "stride": (1, 4), "padding": (0, 8), "dilation": (1, 8)}
_KINDS = ("off", "conv", "max pool")
_MAX_LAYERS = 4
_CUSTOM = "(your own)"
_FIELD_COLOURS = ("#d62728", "#ff7f0e")  # the unit's field, its right neighbour's


def _layer_keys(i: int) -> list[str]:
    return [f"kind{i}", *(f"{key}{i}" for key in FIELD_RANGES)]


def _stack_values(layers: Sequence[FieldLayer]) -> dict:
    values = {}
    for i in range(_MAX_LAYERS):
        layer = layers[i] if i < len(layers) else FieldLayer("off", 1)
        for key, value in zip(_layer_keys(i), layer, strict=True):
            values[key] = value
    return values


def _stack(values: dict) -> list[FieldLayer]:
    layers = []
    for i in range(_MAX_LAYERS):
        layer = FieldLayer(*(values[key] for key in _layer_keys(i)))
        if layer.kind != "off":
            layers.append(layer)
    return layers


def _check_layer(layer, index: int, fname: str) -> FieldLayer:
    name = f"stack[{index}]"
    if isinstance(layer, FieldLayer):
        layer = tuple(layer)
    if not isinstance(layer, (tuple, list)) or not 2 <= len(layer) <= 5:
        raise TypeError(
            f"{fname}: {name} must be a tuple (kind, kernel_size, stride, padding, dilation) "
            f"such as ('conv', 3, 1, 1, 1), got {layer!r}"
        )
    kind = layer[0]
    if kind not in ("conv", "max pool"):
        raise ValueError(f"{fname}: {name}[0] (kind) must be 'conv' or 'max pool', got {kind!r}")
    numbers_ = list(layer[1:]) + [1, 0, 1][len(layer) - 2 :]
    checked = [
        check_range(value, f"{name} {key}", fname, *FIELD_RANGES[key])
        for key, value in zip(FIELD_RANGES, numbers_, strict=True)
    ]
    return FieldLayer(kind, *checked)


def _field_describe(values: dict):
    from torch import nn

    from ..receptive_field import receptive_field_table

    layers = _stack(values)
    n = values["input_size"]
    names = " → ".join(layer.label() for layer in layers) or "no layers"
    plain_names = names.replace("→", ">")
    prefix = f"receptive field explorer: {plain_names} on {n}×{n}"
    if not layers:
        message = "No layers: switch at least one layer on."
        return (
            {},
            f"{prefix} -> no layers ({HINT})",
            f"<b style='color:{RED}'>{message}</b>",
            message,
        )
    size = n
    for index, layer in enumerate(layers, start=1):
        k, s, p, d = layer[1:]
        try:
            if layer.kind == "conv":
                size = shapes.conv_output_size(size, k, s, p, d)
            else:
                size = shapes.pool_output_size(size, k, s, p, d)
        except ValueError as error:
            reason = str(error).split(": ", 1)[-1]
            message = f"Layer {index} ({layer.label()}), input {size}×{size}: {reason}"
            text = f"{prefix} -> layer {index} has no valid output ({HINT})"
            return {}, text, f"<b style='color:{RED}'>{html.escape(message)}</b>", message
    model = nn.Sequential(*(layer.module() for layer in layers))
    table = receptive_field_table(model, (1, 1, n, n))
    last = table[-1]
    r, jump, pad = last.size, last.effective_stride, last.effective_padding
    out = last.output_shape[-1]
    assert out == size, "the shapes module and PyTorch disagree"
    row, col = values["row"], values["col"]
    row = out // 2 if row is None else min(row, out - 1)
    col = out // 2 if col is None else min(col, out - 1)
    values["row"], values["col"] = row, col
    top, left = row * jump - pad, col * jump - pad
    rows, cols = (top, top + r - 1), (left, left + r - 1)
    inside = [max(0, min(hi, n - 1) - max(lo, 0) + 1) for lo, hi in (rows, cols)]
    in_padding = r * r - inside[0] * inside[1]
    state = {
        "layers": layers,
        "output_size": out,
        "size": r,
        "jump": jump,
        "padding": pad,
        "unit": (row, col),
        "rows": rows,
        "cols": cols,
        "in_padding": in_padding,
        "table": table,
        "names": names,
    }
    text = (
        f"{prefix} -> output {out}×{out}; unit ({row}, {col}) sees rows {rows[0]}..{rows[1]}, "
        f"columns {cols[0]}..{cols[1]}: size r={r}, jump S={jump}, start = unit*S - P "
        f"with P={pad}; {in_padding} of {r * r} pixels in the padding ({HINT})"
    )
    label = (
        f"<b>receptive field r = {r}, jump S = {jump}, padding P = {pad}</b>: output unit "
        f"({row}, {col}) of the {out}×{out} output sees input rows {rows[0]} to {rows[1]} and "
        f"columns {cols[0]} to {cols[1]} (start = unit·S − P; negative = zero padding), "
        f"{in_padding} of its {r * r} pixels in the padding.<br>"
        + dim("The table is helpers.shapes.receptive_field_table of this stack:")
        + table._repr_html_()
    )
    return state, text, label, None


def _field_draw(values: dict, state: dict):
    from ..data import load_image

    n = values["input_size"]
    image = load_image(values["image"], grey=True, size=n)
    r, jump, pad, out = state["size"], state["jump"], state["padding"], state["output_size"]
    row, col = state["unit"]
    # the canvas: the image plus the padding that any unit's field reaches
    margin = max(pad, (out - 1) * jump - pad + r - n, 0)
    fig, (ax, ax_out) = plt.subplots(
        1, 2, figsize=(10, 5.4), width_ratios=[1.7, 1], layout="constrained"
    )
    ax.set_facecolor(PAD)
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, extent=(-0.5, n - 0.5, n - 0.5, -0.5))
    ax.add_patch(Rectangle((-0.5, -0.5), n, n, fill=False, edgecolor="#555555", lw=0.8))
    boxes = [((row, col), _FIELD_COLOURS[0], "-", f"unit ({row}, {col}): r = {r}")]
    if col + 1 < out:
        boxes.append(
            (
                (row, col + 1),
                _FIELD_COLOURS[1],
                "--",
                f"unit ({row}, {col + 1}): S = {jump} px right",
            )
        )
    for index, ((i, j), colour, style, label) in enumerate(boxes):
        top, left = i * jump - pad, j * jump - pad
        ax.add_patch(
            Rectangle(
                (left - 0.5, top - 0.5),
                r,
                r,
                fill=index == 0,
                facecolor=(*_rgb(colour), 0.18) if index == 0 else "none",
                edgecolor=colour,
                linewidth=2.5 if index == 0 else 1.6,
                linestyle=style,
                label=label,
                gid="receptive-field" if index == 0 else "neighbour-field",
            )
        )
    ax.set_xlim(-margin - 0.5, n + margin - 0.5)
    ax.set_ylim(n + margin - 0.5, -margin - 0.5)
    ax.set_xlabel("input column")
    ax.set_ylabel("input row")
    title = f"input {n}×{n}" + (f" (grey: zero padding, {margin} px shown)" if margin else "")
    ax.set_title(title, fontsize=11)

    grid = np.zeros((out, out))
    ax_out.imshow(grid, cmap="Blues", vmin=0, vmax=1, extent=(-0.5, out - 0.5, out - 0.5, -0.5))
    if out <= 32:
        for t in np.arange(-0.5, out, 1.0):
            ax_out.axhline(t, color="#bbbbbb", lw=0.5)
            ax_out.axvline(t, color="#bbbbbb", lw=0.5)
    ax_out.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, color=_FIELD_COLOURS[0]))
    if col + 1 < out:
        ax_out.add_patch(
            Rectangle((col + 0.5, row - 0.5), 1, 1, fill=False, ec=_FIELD_COLOURS[1], lw=1.6)
        )
    ax_out.set_xlim(-0.5, out - 0.5)
    ax_out.set_ylim(out - 0.5, -0.5)
    ax_out.set_title(f"output {out}×{out}: unit ({row}, {col})", fontsize=11)
    ax_out.set_xlabel("output column")
    ax_out.set_ylabel("output row")
    for axis in (ax_out.xaxis, ax_out.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(loc="outside lower center", ncol=2, fontsize=10, frameon=False)
    rows, cols = state["rows"], state["cols"]
    fig.suptitle(
        f"{state['names']}\nfield r = {r}, jump S = {jump}, padding P = {pad}: "
        f"rows {rows[0]} to {rows[1]}, columns {cols[0]} to {cols[1]}"
        f" ({state['in_padding']} of {r * r} pixels in the padding)",
        fontsize=11,
    )
    return fig


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def _field_adjust(explorer: Explorer) -> None:
    controls = explorer.controls
    for i in range(_MAX_LAYERS):
        for key in _layer_keys(i):
            controls[key].value = explorer._values[key]  # a preset chosen: its layers
    controls["preset"].value = explorer._values["preset"]
    out = explorer.state.get("output_size")
    if out is not None:
        for key in ("row", "col"):
            controls[key].max = out - 1
            controls[key].value = explorer._values[key]


def _field_expand(explorer: Explorer, changed: dict) -> dict:
    """A preset fills in its layers and centres the unit; editing a layer makes it custom."""
    fname = "receptive_field_explorer"
    for key, value in changed.items():
        if key.startswith("kind") and value not in _KINDS:
            raise ValueError(f"{fname}: {key} must be one of {_KINDS}, got {value!r}")
        if key[:-1] in FIELD_RANGES:
            check_range(value, key, fname, *FIELD_RANGES[key[:-1]])
        if key in ("row", "col") and value is not None:
            as_int(value, key, fname, minimum=0)
        if key in ("image", "input_size"):
            raise ValueError(f"{fname}: {key} is fixed; make a new explorer to change it")
    changed = dict(changed)
    preset = changed.get("preset")
    if preset is not None and preset != _CUSTOM:
        if preset not in FIELD_PRESETS:
            raise ValueError(
                f"receptive_field_explorer: unknown preset {preset!r}; "
                f"choose one of {', '.join(map(repr, FIELD_PRESETS))}"
            )
        changed = {**_stack_values(FIELD_PRESETS[preset]), "row": None, "col": None, **changed}
    elif any(key[:-1] in ("kind", *FIELD_RANGES) for key in changed):
        changed = {**_centre_kept(explorer.state), **changed, "preset": _CUSTOM}
    return changed


def _centre_kept(state: dict) -> dict:
    """A unit row or column at the centre of the output stays at the centre when the stack
    changes the output's size (None = the centre), instead of being clamped to its edge."""
    out, unit = state.get("output_size"), state.get("unit")
    if not out or unit is None:
        return {}
    return {key: None for key, at in zip(("row", "col"), unit, strict=True) if at == out // 2}


def _field_layout(explorer: Explorer):
    widgets = ipywidgets_or_none()
    if widgets is None:
        return None
    small = widgets.Layout(width="72px")
    controls = {}
    preset = widgets.Dropdown(
        options=[*FIELD_PRESETS, _CUSTOM],
        value=explorer._values["preset"],
        description="stack",
        layout=widgets.Layout(width="330px"),
        style={"description_width": "50px"},
    )
    cells = [
        widgets.HTML(f"<b>{title}</b>")
        for title in ("layer", "type", "kernel", "stride", "padding", "dilation")
    ]
    for i in range(_MAX_LAYERS):
        keys = _layer_keys(i)
        controls[keys[0]] = widgets.Dropdown(
            options=_KINDS, value=explorer._values[keys[0]], layout=widgets.Layout(width="100px")
        )
        for key, (low, high) in zip(keys[1:], FIELD_RANGES.values(), strict=True):
            controls[key] = widgets.BoundedIntText(
                value=explorer._values[key], min=low, max=high, layout=small
            )
        cells += [widgets.HTML(str(i + 1)), *(controls[key] for key in keys)]
    grid = widgets.GridBox(
        cells,
        layout=widgets.Layout(grid_template_columns="50px 100px repeat(4, 76px)"),
    )
    out = explorer.state.get("output_size") or 1
    for key, description in (("row", "unit row"), ("col", "unit column")):
        controls[key] = widgets.IntSlider(
            value=explorer._values[key] or 0,
            min=0,
            max=out - 1,
            description=description,
            continuous_update=False,
            style={"description_width": "80px"},
            layout=widgets.Layout(width="330px"),
        )
    for control in controls.values():
        control.observe(explorer._on_control, names="value")

    preset.observe(explorer._on_control, names="value")
    controls["preset"] = preset
    label = widgets.HTML()
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    units = widgets.VBox([preset, controls["row"], controls["col"]])
    box = widgets.VBox([widgets.HBox([units, grid]), image, label])
    return box, controls, image, label


def receptive_field_explorer(
    stack="small network of section 3",
    unit=None,
    image: str = "camera",
    input_size: int = 64,
) -> Explorer:
    """Build a stack of up to four layers and see one output unit's receptive field.

    Controls: a menu of preset stacks (:data:`FIELD_PRESETS`), and for each of four layers
    its type (off, conv, max pool), kernel size, stride, padding and dilation; sliders for
    the output unit's row and column. The drawing shows the photograph (grey, resized to
    ``input_size``) framed by the zero padding that the fields reach, the unit's field
    (red) and its right neighbour's (dashed, ``S`` pixels further), and the output map
    with the unit. Size ``r``, jump ``S`` and padding ``P`` come from
    :func:`helpers.shapes.receptive_field_table`; unit ``(i, j)`` sees rows
    ``i*S - P`` to ``i*S - P + r - 1`` (columns likewise).

    Args:
        stack: a preset name, or a sequence of up to four layers, each a tuple
            ``(kind, kernel_size, stride=1, padding=0, dilation=1)`` with ``kind`` ``"conv"``
            or ``"max pool"`` (or a :class:`FieldLayer`), numbers in :data:`FIELD_RANGES`.
        unit: ``(row, col)`` of the output unit, or None for the centre.
        image: a photograph of :func:`helpers.data.list_images`.
        input_size: side of the (square) input, 16 to 128.

    Returns:
        An :class:`Explorer` (see :func:`conv_arithmetic_explorer`). Its ``state`` holds
        ``size``, ``jump``, ``padding``, ``unit``, ``rows`` and ``cols`` (first and last
        input row and column of the field). A stack whose output would be empty, or a
        pooling with more padding than half its kernel, shows a message instead.

    Raises:
        TypeError, ValueError: a bad argument, named in the message; a ``unit`` outside
            the output.
    """
    fname = "receptive_field_explorer"
    if isinstance(stack, str):
        if stack not in FIELD_PRESETS:
            raise ValueError(
                f"{fname}: stack must be one of the presets {', '.join(map(repr, FIELD_PRESETS))} "
                f"or a list of layers; got {stack!r}"
            )
        preset, layers = stack, FIELD_PRESETS[stack]
    elif isinstance(stack, (list, tuple)):
        if not 1 <= len(stack) <= _MAX_LAYERS:
            raise ValueError(
                f"{fname}: stack must have 1 to {_MAX_LAYERS} layers, got {len(stack)}"
            )
        layers = tuple(_check_layer(layer, i, fname) for i, layer in enumerate(stack))
        preset = next((name for name, p in FIELD_PRESETS.items() if p == layers), _CUSTOM)
    else:
        raise TypeError(
            f"{fname}: stack must be a preset name (str) or a list of layers, got "
            f"{type(stack).__name__}"
        )
    from ..data import list_images

    if not isinstance(image, str) or image not in list_images():
        raise ValueError(f"{fname}: image must be one of {', '.join(list_images())}; got {image!r}")
    input_size = check_range(input_size, "input_size", fname, 16, 128)
    row = col = None
    if unit is not None:
        if (
            not isinstance(unit, (tuple, list))
            or len(unit) != 2
            or any(isinstance(u, bool) or not isinstance(u, numbers.Integral) for u in unit)
        ):
            raise TypeError(
                f"{fname}: unit must be a pair of ints (row, col) or None, got {unit!r}"
            )
        row, col = (as_int(u, "unit", fname, minimum=0) for u in unit)
    values = {
        "preset": preset,
        **_stack_values(layers),
        "row": row,
        "col": col,
        "input_size": input_size,
        "image": image,
    }
    probe = dict(values)
    state = _field_describe(probe)[0]
    out = state.get("output_size")
    if unit is not None and out is not None and max(row, col) >= out:
        raise ValueError(
            f"{fname}: unit {tuple(unit)} is outside the {out}×{out} output of this stack"
        )
    return Explorer(
        fname, values, _field_describe, _field_draw, _field_layout, _field_adjust, _field_expand
    )
