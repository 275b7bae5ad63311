"""The interactive explorers: right numbers, right pictures, live controls, static fallback."""

from __future__ import annotations

import base64
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from named_errors import raises_named
from torch import nn  # noqa: E402

from helpers import shapes  # noqa: E402
from helpers.explore import (  # noqa: E402
    CONV_RANGES,
    FIELD_PRESETS,
    FIELD_RANGES,
    FieldLayer,
    conv_arithmetic,
    conv_arithmetic_explorer,
    receptive_field_explorer,
    receptive_fields,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
WIDGET = "application/vnd.jupyter.widget-view+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_figures_left():
    """Every drawing is rendered to PNG and closed: the inline backend shows nothing twice."""
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "an explorer left a matplotlib figure open"


def _random_configs(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    keys = list(CONV_RANGES)
    low = [CONV_RANGES[key][0] for key in keys]
    high = [CONV_RANGES[key][1] + 1 for key in keys]
    for row in rng.integers(low, high, size=(count, len(keys))).tolist():
        yield dict(zip(keys, row, strict=True))


def _torch_size(n, k, s, p, d):
    x = torch.zeros(1, 1, n, n)
    w = torch.zeros(1, 1, k, k)
    out = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    assert out.shape[-1] == out.shape[-2]
    return out.shape[-1]


# ------------------------------------------------------------------------ conv arithmetic


def test_conv_output_sizes_agree_with_shapes_and_torch():
    valid = invalid = 0
    for config in _random_configs(400):
        values = {**config, "window": None}
        state, text, label, message = conv_arithmetic._conv_describe(values)
        n, k, s, p, d = config.values()
        if n + 2 * p < d * (k - 1) + 1:  # the dilated kernel does not fit
            invalid += 1
            assert message is not None and "no output" in text
            with pytest.raises(ValueError):
                shapes.conv_output_size(n, k, s, p, d)
            with pytest.raises(RuntimeError):
                _torch_size(n, k, s, p, d)
            continue
        valid += 1
        out = state["output_size"]
        assert message is None
        assert out == shapes.conv_output_size(n, k, s, p, d) == _torch_size(n, k, s, p, d)
        assert f"-> output {out}×{out}" in text
        assert f"= {out}</b>" in label, "the formula is filled in with the result"
        assert values["window"] == out * out - 1, "the last window by default"
    assert valid > 250 and invalid > 10, (valid, invalid)


@pytest.mark.parametrize(
    "config", list(_random_configs(4, seed=1)), ids=lambda c: "-".join(map(str, c.values()))
)
def test_conv_picture_shows_the_output_size(config):
    explorer = conv_arithmetic_explorer(**config)
    if explorer.message is not None:
        assert explorer.png.startswith(PNG_SIGNATURE)
        return
    out = explorer.state["output_size"]
    fig = explorer.figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert f"output {out}×{out}" in titles
    assert f"= {out}" in fig._suptitle.get_text().splitlines()[0]
    plt.close(fig)


def test_conv_text_is_deterministic_and_matches_the_brief():
    first = conv_arithmetic_explorer()
    second = conv_arithmetic_explorer()
    assert first.text == second.text == repr(first)
    assert first.text == (
        "conv arithmetic explorer: n=7, k=3, s=1, p=0, d=1 -> output 5×5 "
        "(move the sliders in JupyterLab)"
    )


def test_conv_mime_bundle_has_widget_png_and_text():
    explorer = conv_arithmetic_explorer(input_size=5, padding=1)
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png", WIDGET}
    assert bundle[WIDGET]["model_id"] == explorer.widget.model_id
    assert base64.b64decode(bundle["image/png"]) == explorer.png
    assert explorer.png.startswith(PNG_SIGNATURE)
    assert bundle["text/plain"].startswith("conv arithmetic explorer: n=5, k=3, s=1, p=1, d=1")


def test_conv_moving_a_slider_redraws():
    explorer = conv_arithmetic_explorer()
    png, text, image = explorer.png, explorer.text, explorer._image.value
    assert image == png
    explorer.controls["stride"].value = 2
    assert explorer.values["stride"] == 2
    assert explorer.text != text and "s=2" in explorer.text and "output 3×3" in explorer.text
    assert explorer.png != png and explorer._image.value == explorer.png
    assert explorer.controls["window"].max == 8 and explorer.controls["window"].value == 8
    explorer.controls["window"].value = 0
    assert explorer.state["position"] == (0, 0)
    explorer.controls["padding"].value = 1  # not the last window: it stays where it is
    assert explorer.values["window"] == 0 and explorer.state["output_size"] == 4
    explorer.controls["window"].value = 15
    explorer.controls["padding"].value = 2  # the last window: it follows the output
    assert explorer.values["window"] == 24 and explorer.controls["window"].max == 24


def test_conv_impossible_combination_shows_a_message():
    explorer = conv_arithmetic_explorer(input_size=3, kernel_size=5, dilation=2)
    assert explorer.message is not None and "spans" in explorer.message
    assert "no output" in explorer.text
    assert explorer._image.layout.display == "none"
    assert "<b style" in explorer._label.value
    explorer.controls["padding"].value = 3  # 3 + 6 = 9 = the span: a 1x1 output
    assert explorer.message is None and explorer.state["output_size"] == 1
    assert explorer._image.layout.display is None
    explorer.controls["input_size"].value = 1
    assert explorer.message is not None  # a 7-long padded input, a 9-long kernel


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"input_size": 11}, ValueError, "input_size must be between 1 and 10"),
        ({"kernel_size": 0}, ValueError, "kernel_size must be positive"),
        ({"stride": 2.0}, TypeError, "stride must be an int"),
        ({"padding": -1}, ValueError, "padding must be >= 0"),
        ({"dilation": True}, TypeError, "dilation must be an int"),
        ({"padding": "same"}, TypeError, "padding must be an int"),
        ({"window": -1}, ValueError, "window must be >= 0"),
    ],
)
def test_conv_bad_arguments(kwargs, error, match):
    with raises_named(error, "conv_arithmetic_explorer", match):
        conv_arithmetic_explorer(**kwargs)


def test_conv_set_checks_its_values():
    explorer = conv_arithmetic_explorer()
    with raises_named(ValueError, "conv_arithmetic_explorer.set", "unknown setting"):
        explorer.set(kernel=3)
    with raises_named(ValueError, "conv_arithmetic_explorer", "stride must be between 1 and 3"):
        explorer.set(stride=4)
    explorer.set(stride=2, padding=1)
    assert explorer.controls["stride"].value == 2 and "s=2, p=1" in explorer.text


# ------------------------------------------------------------------------ receptive fields


def _model(layers):
    modules = []
    for kind, k, s, p, d in layers:
        if kind == "conv":
            modules.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
        else:
            modules.append(nn.MaxPool2d(k, stride=s, padding=p, dilation=d))
    return nn.Sequential(*modules)


def _support(grad: np.ndarray):
    rows = np.flatnonzero(np.any(grad != 0, axis=1))
    cols = np.flatnonzero(np.any(grad != 0, axis=0))
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))


def _field_patch(fig):
    patches = [p for ax in fig.axes for p in ax.patches if p.get_gid() == "receptive-field"]
    assert len(patches) == 1
    return patches[0]


@pytest.mark.parametrize("preset", list(FIELD_PRESETS))
def test_presets_agree_with_receptive_field_and_the_picture(preset):
    layers = FIELD_PRESETS[preset]
    explorer = receptive_field_explorer(preset, input_size=48)
    field = shapes.receptive_field(_model(layers), (1, 1, 48, 48))
    state = explorer.state
    assert (state["size"], state["jump"], state["padding"]) == tuple(field)
    row, col = state["unit"]
    top, left = row * field.stride - field.padding, col * field.stride - field.padding
    assert state["rows"] == (top, top + field.size - 1)
    assert state["cols"] == (left, left + field.size - 1)
    fig = explorer.figure()
    patch = _field_patch(fig)
    assert patch.get_xy() == (left - 0.5, top - 0.5)
    assert patch.get_width() == patch.get_height() == field.size
    plt.close(fig)
    assert f"size r={field.size}, jump S={field.stride}" in explorer.text


@pytest.mark.parametrize(
    ("preset", "dense"),
    [
        ("small network of section 3", True),
        ("conv, pool, conv, pool", True),
        ("four stride-2 convolutions", True),
        ("AlexNet's first layers", True),
        ("dilations 2, 4, 8 (gaps)", False),
    ],
)
def test_drawn_fields_agree_with_gradients(preset, dense):
    """The box drawn, cut to the image, is the support of the unit's input gradient."""
    n = 40
    layers = FIELD_PRESETS[preset]
    explorer = receptive_field_explorer(preset, input_size=n)
    out = explorer.state["output_size"]
    units = [(out // 2, out // 2)] + ([(0, 0), (out - 1, 0), (out // 3, out - 1)] if dense else [])
    model = _model(layers)
    for unit in units:  # the explorer's arithmetic for each unit (the drawing: test above)
        state = receptive_fields._field_describe(
            {**explorer.values, "row": unit[0], "col": unit[1]}
        )[0]
        assert state["unit"] == unit
        grad = shapes.field_gradient(model, (1, 1, n, n), unit=unit)
        expected = [(max(lo, 0), min(hi, n - 1)) for lo, hi in (state["rows"], state["cols"])]
        assert list(_support(grad)) == expected, (preset, unit)
        in_padding = state["size"] ** 2 - int(np.prod([hi - lo + 1 for lo, hi in expected]))
        assert state["in_padding"] == in_padding


def test_random_stacks_agree_with_receptive_field_and_torch_shapes():
    rng = np.random.default_rng(0)
    checked = refused = 0
    for _ in range(60):
        layers = []
        for _ in range(int(rng.integers(1, 5))):
            kind = "conv" if rng.random() < 0.7 else "max pool"
            k = int(rng.integers(1, 6))
            p = int(rng.integers(0, k // 2 + 1))
            layers.append((kind, k, int(rng.integers(1, 3)), p, int(rng.integers(1, 3))))
        values = {
            **receptive_fields._stack_values([FieldLayer(*layer) for layer in layers]),
            "row": None,
            "col": None,
            "input_size": 32,
            "image": "camera",
        }
        state, text, _, message = receptive_fields._field_describe(values)
        model = _model(layers)
        try:
            out_shape = model(torch.zeros(1, 1, 32, 32)).shape
        except RuntimeError:
            refused += 1
            assert message is not None and "no valid output" in text
            continue
        checked += 1
        assert message is None
        assert state["output_size"] == out_shape[-1]
        assert (state["size"], state["jump"], state["padding"]) == tuple(
            shapes.receptive_field(model, (1, 1, 32, 32))
        )
    assert checked > 30, (checked, refused)


def test_field_mime_bundle_and_deterministic_text():
    explorer = receptive_field_explorer()
    bundle = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png", WIDGET}
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)
    assert bundle["text/plain"] == receptive_field_explorer().text
    assert bundle["text/plain"] == (
        "receptive field explorer: conv 3×3 p1 > conv 3×3 s2 p1 > conv 3×3 p2 d2 > "
        "max pool 2×2 s2 on 64×64 -> output 16×16; unit (8, 8) sees rows 26..40, columns "
        "26..40: size r=15, jump S=4, start = unit*S - P with P=6; 0 of 225 pixels in the "
        "padding (move the sliders in JupyterLab)"
    )


def test_field_controls_redraw():
    explorer = receptive_field_explorer(input_size=32)
    controls = explorer.controls
    png, text = explorer.png, explorer.text
    controls["row"].value = 0
    assert explorer.state["unit"] == (0, 4) and explorer.state["rows"] == (-6, 8)
    assert explorer.png != png and explorer._image.value == explorer.png
    assert explorer.text != text and "unit (0, 4)" in explorer.text
    controls["preset"].value = "four stride-2 convolutions"
    assert [controls[f"stride{i}"].value for i in range(4)] == [2, 2, 2, 2]
    assert explorer.state["unit"] == (1, 1), "a new stack starts at the centre unit"
    assert controls["row"].max == 1 and explorer.state["size"] == 31
    controls["kind3"].value = "off"
    assert controls["preset"].value == "(your own)" and explorer.state["size"] == 15
    assert controls["row"].max == 3
    explorer.set(preset="three 3×3 convolutions", row=2)
    assert explorer.state["unit"] == (2, 16) and controls["kind3"].value == "off"


def test_field_centre_unit_stays_at_the_centre():
    """A stride change resizes the output: the centre unit moves to the new centre, a unit
    chosen elsewhere keeps its coordinate (clamped to the output)."""
    explorer = receptive_field_explorer(input_size=64)
    out = explorer.state["output_size"]
    assert explorer.state["unit"] == (out // 2, out // 2)
    explorer.controls["stride0"].value = 2
    new = explorer.state["output_size"]
    assert new != out and explorer.state["unit"] == (new // 2, new // 2)
    assert (explorer.controls["row"].value, explorer.controls["col"].value) == (new // 2, new // 2)
    explorer.controls["row"].value = 0
    explorer.controls["stride0"].value = 1
    assert explorer.state["unit"] == (0, explorer.state["output_size"] // 2)


def test_field_table_has_column_spacing():
    assert "border-spacing" in receptive_field_explorer(input_size=32).state["table"]._repr_html_()


def test_field_impossible_stack_shows_a_message():
    explorer = receptive_field_explorer(input_size=16)
    explorer.controls["kernel_size3"].value = 11  # max pool 11x11 on the 8x8 map
    assert explorer.message.startswith(
        "Layer 4 (max pool 11×11 s2), input 8×8: the output would be empty"
    )
    assert "layer 4 has no valid output" in explorer.text
    assert explorer._image.layout.display == "none"
    explorer.controls["padding3"].value = 6  # more than half the kernel: PyTorch refuses
    assert "half the kernel" in explorer.message
    explorer.controls["kernel_size3"].value = 2
    assert explorer.message.startswith("Layer 4 (max pool 2×2 s2 p6)")
    explorer.controls["padding3"].value = 0
    assert explorer.message is None and explorer._image.layout.display is None
    for i in range(4):
        explorer.controls[f"kind{i}"].value = "off"
    assert explorer.message.startswith("No layers")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"stack": "vgg"}, ValueError, "stack must be one of the presets"),
        ({"stack": 3}, TypeError, "stack must be a preset name"),
        ({"stack": [("conv", 3)] * 5}, ValueError, "stack must have 1 to 4 layers"),
        ({"stack": [("avg pool", 3)]}, ValueError, "stack[0][0] (kind)"),
        ({"stack": [("conv", 3), ("conv", 13)]}, ValueError, "stack[1] kernel_size"),
        ({"stack": [("conv", 3, 0)]}, ValueError, "stack[0] stride must be positive"),
        ({"stack": ["conv"]}, TypeError, "stack[0] must be a tuple"),
        ({"unit": (1, 2, 3)}, TypeError, "unit must be a pair"),
        ({"unit": (16, 0)}, ValueError, "unit (16, 0) is outside the 16×16 output"),
        ({"unit": (-1, 0)}, ValueError, "unit must be >= 0"),
        ({"image": "lena"}, ValueError, "image must be one of"),
        ({"input_size": 8}, ValueError, "input_size must be >= 16"),
        ({"input_size": 200}, ValueError, "input_size must be between 16 and 128"),
    ],
)
def test_field_bad_arguments(kwargs, error, match):
    with raises_named(error, "receptive_field_explorer", match):
        receptive_field_explorer(**kwargs)


def test_field_custom_stack_and_set_errors():
    explorer = receptive_field_explorer([("conv", 5, 1, 2), FieldLayer("max pool", 2, 2)])
    assert explorer.values["preset"] == "(your own)"
    assert explorer.state["size"] == 6 and explorer.state["jump"] == 2
    with raises_named(ValueError, "receptive_field_explorer", "kind0 must be one of"):
        explorer.set(kind0="pool")
    with raises_named(ValueError, "receptive_field_explorer", "input_size is fixed"):
        explorer.set(input_size=32)
    with raises_named(ValueError, "receptive_field_explorer", "unknown preset"):
        explorer.set(preset="resnet")


# ------------------------------------------------------------------------ without ipywidgets


def test_without_ipywidgets_the_bundle_is_static(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets fails
    for explorer in (conv_arithmetic_explorer(stride=2), receptive_field_explorer(input_size=32)):
        assert explorer.widget is None and explorer.controls == {}
        bundle = explorer._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "image/png"}
    explorer = conv_arithmetic_explorer()
    png = explorer.png
    explorer.set(dilation=2)
    assert explorer.png != png and "d=2 -> output 3×3" in explorer.text


def test_ranges_are_documented():
    assert CONV_RANGES["input_size"] == (1, 10)
    assert set(FIELD_RANGES) == {"kernel_size", "stride", "padding", "dilation"}
