"""helpers.shapes receptive fields: the analytic value equals the one measured by gradients."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from named_errors import assert_named_error, raises_named
from torch import nn

from helpers.shapes import (
    LayerField,
    ReceptiveField,
    ReceptiveFieldTable,
    conv_output_size,
    empirical_receptive_field,
    field_gradient,
    pool_output_size,
    receptive_field,
    receptive_field_table,
)

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
MAX = {1: nn.MaxPool1d, 2: nn.MaxPool2d}
AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d}
BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}


def distill(layers):
    """Closed form for one axis: layers of (kernel, stride, padding, dilation) -> (r, S, P)."""
    r, jump, start = 1, 1, 0
    for k, s, p, d in layers:
        r += d * (k - 1) * jump
        start += p * jump
        jump *= s
    return r, jump, start


def per_axis(*fields) -> ReceptiveField:
    """A ReceptiveField from one (r, S, P) per axis; ints where the axes agree."""
    values = zip(*fields, strict=True)
    return ReceptiveField(*(v[0] if len(set(v)) == 1 else tuple(v) for v in values))


def meta(constructor, **kwargs):
    """A torchvision model on PyTorch's meta device: the layers without any weights."""
    with torch.device("meta"):
        return constructor(weights=None, **kwargs)


def random_layer(rng, nd: int, channels: int):
    """A random layer and its (kernel, stride, padding, dilation), or None for pass-through."""
    kind = rng.choice(["conv", "conv", "conv", "max", "avg", "relu", "bn", "drop", "id"])
    if kind == "conv":
        k, s, d = int(rng.integers(1, 6)), int(rng.choice([1, 1, 1, 2, 3])), int(rng.integers(1, 4))
        p = int(rng.integers(0, d * (k - 1) // 2 + 2))
        layer = CONV[nd](channels, channels, k, stride=s, padding=p, dilation=d)
        return layer, (k, s, p, d)
    if kind in ("max", "avg"):
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        p, ceil = int(rng.integers(0, k // 2 + 1)), bool(rng.random() < 0.3)
        if kind == "max":
            d = int(rng.choice([1, 1, 2]))
            return MAX[nd](k, s, p, dilation=d, ceil_mode=ceil), (k, s, p, d)
        return AVG[nd](k, s, p, ceil_mode=ceil), (k, s, p, 1)
    other = {
        "relu": nn.ReLU(),
        "bn": BN[nd](channels),
        "drop": nn.Dropout(0.5),
        "id": nn.Identity(),
    }
    return other[kind], None


def random_sequential(seed: int, nd: int):
    rng = np.random.default_rng(seed)
    channels = int(rng.integers(1, 4))
    layers, params = [CONV[nd](1, channels, 3, padding=1)], [(3, 1, 1, 1)]
    for _ in range(int(rng.integers(1, 7))):
        layer, param = random_layer(rng, nd, channels)
        layers.append(layer)
        if param is not None:
            params.append(param)
    return nn.Sequential(*layers), params


def unclipped_size(r: int, stride: int, padding: int, layers) -> int:
    """An input size where the centre unit's field lies inside the input, with a neighbour."""
    n = r + 2 * padding + 2 * stride
    while True:
        try:
            out = n
            for k, s, p, d in layers:
                out = conv_output_size(out, k, s, p, d)  # pooling with ceil_mode may add one
        except ValueError:
            n += stride
            continue
        unit = out // 2
        if out >= 2 and unit * stride - padding >= 0 and unit * stride - padding + r <= n:
            return n
        n += stride


@pytest.mark.parametrize("seed", range(40))
def test_sequential_analytic_equals_empirical_1d(seed):
    model, params = random_sequential(seed, nd=1)
    expected = ReceptiveField(*distill(params))
    n = unclipped_size(*expected, params)
    assert receptive_field(model, (2, 1, n)) == expected
    assert empirical_receptive_field(model, (1, 1, n)) == expected


@pytest.mark.parametrize("seed", range(25))
def test_sequential_analytic_equals_empirical_2d(seed):
    model, params = random_sequential(1000 + seed, nd=2)
    expected = ReceptiveField(*distill(params))
    n = unclipped_size(*expected, params)
    assert receptive_field(model, (1, 1, n, n + 3)) == expected
    assert empirical_receptive_field(model, (1, 1, n, n + 3)) == expected


def test_non_square_layers_give_one_value_per_axis():
    model = nn.Sequential(
        nn.Conv2d(1, 2, (3, 5), stride=(1, 2), padding=(1, 0)),
        nn.MaxPool2d((2, 3), stride=(2, 1)),
    )
    rows = distill([(3, 1, 1, 1), (2, 2, 0, 1)]), distill([(5, 2, 0, 1), (3, 1, 0, 1)])
    assert rows == ((4, 2, 1), (9, 2, 0))
    expected = ReceptiveField((4, 9), 2, (1, 0))  # an int where both axes agree
    assert per_axis(*rows) == expected
    assert receptive_field(model, (1, 1, 40, 50)) == expected
    assert empirical_receptive_field(model, (1, 1, 40, 50)) == expected


class Residual(nn.Module):
    """conv-relu-conv + shortcut (identity, or a strided 1x1 projection), in three styles."""

    def __init__(self, channels, k, stride, dilation, style):
        super().__init__()
        pad = dilation * (k - 1) // 2
        self.conv1 = nn.Conv2d(channels, channels, k, stride, pad, dilation)
        self.conv2 = nn.Conv2d(channels, channels, k, 1, pad, dilation)
        self.bn = nn.BatchNorm2d(channels)
        self.shortcut = nn.Conv2d(channels, channels, 1, stride) if stride > 1 else nn.Identity()
        self.style = style

    def forward(self, x):
        out = self.conv2(F.relu(self.bn(self.conv1(x))))
        if self.style == "operator":
            return operator.add(out, self.shortcut(x))
        if self.style == "torch":
            return torch.relu(torch.add(out, self.shortcut(x)))
        out += self.shortcut(x)
        return out


class Inception(nn.Module):
    """Branches of different odd kernels concatenated along the channels."""

    def __init__(self, channels, kernels):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(channels, channels, k, padding=k // 2) for k in kernels
        )
        self.pool = nn.MaxPool2d(3, 1, 1)
        self.merge = nn.Conv2d(channels * (len(kernels) + 1), channels, 1)

    def forward(self, x):
        return self.merge(torch.cat([b(x) for b in self.branches] + [self.pool(x)], dim=1))


def random_branchy(seed: int):
    rng = np.random.default_rng(seed)
    c = 2
    blocks, params = [nn.Conv2d(1, c, 3, padding=1)], [(3, 1, 1, 1)]
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.6:
            k, s, d = int(rng.choice([1, 3, 5])), int(rng.choice([1, 2])), int(rng.integers(1, 3))
            style = str(rng.choice(["operator", "torch", "inplace"]))
            blocks.append(Residual(c, k, s, d, style))
            pad = d * (k - 1) // 2
            params += [(k, s, pad, d), (k, 1, pad, d)]  # the longest path
        else:
            kernels = sorted({int(k) for k in rng.choice([1, 3, 5, 7], size=2)})
            blocks.append(Inception(c, kernels))
            k = max(max(kernels), 3)
            params += [(k, 1, k // 2, 1), (1, 1, 0, 1)]
    return nn.Sequential(*blocks), params


@pytest.mark.parametrize("seed", range(25))
def test_residual_and_branching_networks(seed):
    model, params = random_branchy(seed)
    expected = ReceptiveField(*distill(params))
    n = unclipped_size(*expected, params)
    assert receptive_field(model, (1, 1, n, n)) == expected
    assert empirical_receptive_field(model, (1, n, n)) == expected


def test_vgg16_alexnet_and_resnet_trunks():
    vgg = meta(torchvision.models.vgg16).features
    alexnet = meta(torchvision.models.alexnet).features
    resnet = meta(torchvision.models.resnet50)
    trunk = nn.Sequential(*list(resnet.children())[:-2])
    # conv5_3 (features[:30]) sees 196 pixels, pool5 (the whole trunk) 212 (Distill's table)
    assert receptive_field(vgg[:30], (1, 3, 224, 224)) == (196, 16, 90)
    assert receptive_field(vgg, (1, 3, 224, 224)) == (212, 32, 90)
    # AlexNet: conv5 (+ReLU, features[:12]) 163, pool5 195
    assert receptive_field(alexnet[:12], (1, 3, 224, 224)) == (163, 16, 66)
    assert receptive_field(alexnet, (1, 3, 224, 224)) == (195, 32, 66)
    # torchvision's ResNet-50 (stride in the 3x3 conv of each bottleneck)
    assert receptive_field(trunk, (1, 3, 224, 224)) == (427, 32, 213)
    assert empirical_receptive_field(vgg, (1, 3, 224, 224)) == (212, 32, 90)
    assert empirical_receptive_field(alexnet, (1, 3, 259, 259)) == (195, 32, 66)
    assert empirical_receptive_field(trunk, (1, 3, 448, 448)) == (427, 32, 213)


def test_full_classifiers_see_the_whole_input():
    for model in (meta(torchvision.models.alexnet), meta(torchvision.models.resnet18)):
        assert receptive_field(model, (3, 224, 224)) == (224, 224, 0)
        assert empirical_receptive_field(model, (3, 224, 224)) == (224, 224, 0)
        table = receptive_field_table(model, (3, 224, 224))
        assert table[-1].whole_input and "whole input" in str(table)


def test_table_rows_names_and_shapes():
    vgg = meta(torchvision.models.vgg16).features
    table = receptive_field_table(vgg, (3, 224, 224))  # no batch axis: accepted too
    assert isinstance(table, ReceptiveFieldTable) and len(table) == len(vgg)
    assert all(isinstance(row, LayerField) for row in table)
    assert [row.name for row in table] == [str(i) for i in range(len(vgg))]
    first, pool5 = table[0], table[-1]
    assert (first.type, first.kernel_size, first.stride, first.padding) == ("Conv2d", 3, 1, 1)
    assert first.output_shape == (64, 224, 224) and first.size == 3
    assert pool5.output_shape == (512, 7, 7) and pool5.field == (212, 32, 90)
    relu = table[1]
    assert relu.kernel_size is None and relu.size == 3
    assert "eff. stride S" in str(table) and "<table" in table._repr_html_()


def test_functional_operations_are_followed():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(3, 1, 5, 5))

        def forward(self, x):
            x = F.pad(x, (2, 2, 1, 1))
            x = F.conv2d(x, self.weight, stride=2, dilation=1)
            x = F.max_pool2d(x, 3, stride=2, padding=1)
            x = x.relu() * 2
            x = F.avg_pool2d(x, kernel_size=2)
            x = torch.cat([x, torch.sigmoid(x)], dim=1)
            return x.mean(dim=1, keepdim=True)

    layers_h = [(1, 1, 1, 1), (5, 2, 0, 1), (3, 2, 1, 1), (2, 2, 0, 1)]
    layers_w = [(1, 1, 2, 1), (5, 2, 0, 1), (3, 2, 1, 1), (2, 2, 0, 1)]
    expected = per_axis(distill(layers_h), distill(layers_w))
    assert receptive_field(Functional(), (1, 1, 64, 64)) == expected
    assert empirical_receptive_field(Functional(), (1, 1, 64, 64)) == expected


def test_same_padding_even_kernels_3d_and_adaptive_pooling():
    model = nn.Sequential(nn.Conv2d(1, 1, 4, padding="same"), nn.Conv2d(1, 1, 3, padding="same"))
    assert receptive_field(model, (1, 1, 30, 30)) == empirical_receptive_field(model, (1, 30, 30))
    assert receptive_field(model, (1, 1, 30, 30)) == (6, 1, 2)
    volume = nn.Sequential(nn.Conv3d(1, 2, 3, stride=2, padding=1), nn.MaxPool3d(2))
    assert receptive_field(volume, (1, 1, 20, 20, 20)) == (5, 4, 1)
    assert empirical_receptive_field(volume, (1, 1, 20, 20, 20)) == (5, 4, 1)
    keep = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(8))
    assert receptive_field(keep, (1, 1, 10, 10)) == (3, 1, 0)  # 8 -> 8: the identity
    halve = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveMaxPool2d(4))
    assert receptive_field(halve, (1, 1, 10, 10)) == (4, 2, 0)  # 8 -> 4: a 2x2 pooling
    assert empirical_receptive_field(halve, (1, 1, 10, 10)) == (4, 2, 0)
    whole = nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1))
    assert receptive_field(whole, (1, 1, 10, 12)) == ((10, 12), (10, 12), 0)


def test_channel_softmax_passes_and_spatial_softmax_sees_everything():
    over_channels = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Softmax(dim=1))
    assert receptive_field(over_channels, (1, 1, 9, 9)) == (3, 1, 0)
    assert empirical_receptive_field(over_channels, (1, 1, 9, 9)) == (3, 1, 0)
    over_width = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Softmax(dim=-1))
    assert receptive_field(over_width, (1, 1, 9, 9)) == (9, 9, 0)


def test_gradient_map_and_unit_choice():
    model = nn.Sequential(nn.Conv1d(1, 1, 3), nn.Conv1d(1, 1, 3, stride=2))
    gradient = field_gradient(model, (1, 1, 11), unit=0)
    assert gradient.shape == (11,)
    np.testing.assert_array_equal(np.flatnonzero(gradient), np.arange(5))
    assert np.all(gradient[:5] > 0) and gradient[2] == gradient.max()  # peaked in the centre
    assert empirical_receptive_field(model, (1, 1, 11), unit=1) == (5, 2, 0)
    with raises_named(ValueError, "empirical_receptive_field", "unit must be"):
        empirical_receptive_field(model, (1, 1, 11), unit=4)


def test_model_is_left_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    receptive_field(model, (1, 3, 16, 16))
    receptive_field_table(model, (1, 3, 16, 16))
    empirical_receptive_field(model, (1, 3, 16, 16))
    assert model.training and all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_pool_output_size_is_consistent_with_the_table():
    model = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(3, 2, ceil_mode=True))
    table = receptive_field_table(model, (1, 1, 10, 10))
    assert table[-1].output_shape[-1] == pool_output_size(10, 3, 2, ceil_mode=True) == 5


class Cropping(nn.Module):
    def forward(self, x):
        return x[..., ::2, ::2]


@pytest.mark.parametrize(
    "model, shape, error, words",
    [
        (nn.Conv2d(1, 1, 3), 5, TypeError, ["input_shape must be a tuple"]),
        (nn.Conv2d(1, 1, 3), (1, 1, 0, 5), ValueError, ["must be positive"]),
        (nn.Conv2d(1, 1, 3), (1, 1, 5, 5, 5), ValueError, ["4 entries"]),
        (nn.Conv2d(1, 1, 3), (1, 1, 5.0, 5), TypeError, ["must contain ints"]),
        (nn.Conv2d(1, 1, 3), (1, 2, 5, 5), ValueError, ["cannot run on an input"]),
        ("conv", (1, 1, 5, 5), TypeError, ["torch.nn.Module"]),
        (
            nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 3)),
            (1, 1, 9, 9),
            ValueError,
            ["ConvTranspose2d", "cannot compute the receptive field"],
        ),
        (Cropping(), (1, 1, 8, 8), ValueError, ["indexing a tensor"]),
    ],
)
def test_bad_input_is_named(model, shape, error, words):
    for fn in (receptive_field, receptive_field_table):
        assert_named_error(fn, error, words, model, shape)


def test_untraceable_models_and_misaligned_branches_are_refused():
    class Untraceable(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    class TwoStrides(nn.Module):  # same output shape, effective strides 2 and 1
        def __init__(self):
            super().__init__()
            self.a = nn.Conv1d(1, 1, 3, stride=2, padding=1)  # 10 -> 5
            self.b = nn.Conv1d(1, 1, 6)  # 10 -> 5

        def forward(self, x):
            return self.a(x) + self.b(x)

    with raises_named(ValueError, "receptive_field", "torch.fx could not trace"):
        receptive_field(Untraceable(), (1, 1, 8, 8))
    with raises_named(ValueError, "receptive_field", "different effective strides"):
        receptive_field(TwoStrides(), (1, 1, 10))


def test_importing_the_package_loads_neither_torch_nor_fx():
    """The result types import alone; the analyser and the measurement on first use."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import helpers.receptive_field as rf\n"
        "assert 'torch' not in sys.modules, 'torch loaded by the import'\n"
        "assert rf.ReceptiveField(3, 1, 1).size == 3\n"
        "assert rf.receptive_field.__module__ == 'helpers.receptive_field.analyser'\n"
        "assert 'torch.fx' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
