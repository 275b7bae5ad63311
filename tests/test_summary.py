"""helpers.summary: totals against torch (parameters, FlopCounterMode) on many models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.models as tvm
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from helpers.summary import LayerRow, ModelSummary, summary

# torchvision's model table (the weights' metadata, available offline): "GFLOPS", which are
# really GMACs, and the number of parameters
TORCHVISION = {
    "alexnet": (lambda: tvm.alexnet(weights=None), tvm.AlexNet_Weights),
    "vgg16": (lambda: tvm.vgg16(weights=None), tvm.VGG16_Weights),
    "googlenet": (
        lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=False),
        tvm.GoogLeNet_Weights,
    ),
    "resnet18": (lambda: tvm.resnet18(weights=None), tvm.ResNet18_Weights),
    "resnet50": (lambda: tvm.resnet50(weights=None), tvm.ResNet50_Weights),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(weights=None), tvm.MobileNet_V2_Weights),
}


def flops(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass as counted by PyTorch (convolutions and matmuls only)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(x)
    return counter.get_total_flops()


@pytest.fixture(scope="module", params=list(TORCHVISION))
def torchvision_model(request):
    build, weights = TORCHVISION[request.param]
    with torch.device("meta"):  # no memory, no weight initialisation: instant even for VGG
        model = build()
    return request.param, model, weights.IMAGENET1K_V1.meta


def test_torchvision_totals(torchvision_model):
    name, model, table = torchvision_model
    s = summary(model, (3, 224, 224), receptive_fields=False)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert 2 * s.total_macs == flops(model, torch.zeros(1, 3, 224, 224, device="meta"))
    assert round(s.total_macs / 1e9, 3) == table["_ops"], name
    if name != "googlenet":  # the table counts GoogLeNet's auxiliary classifiers too
        assert s.total_params == table["num_params"], name
    assert s.total_activations == sum(row.activations for row in s.rows) > 0


def test_resnet_known_values_on_a_real_model():
    model = tvm.resnet18(weights=None)
    s = summary(model, (3, 224, 224), receptive_fields=False)
    assert (s.total_params, s.total_macs) == (11_689_512, 1_814_073_344)
    first, last = s.rows[0], s.rows[-1]
    assert first == LayerRow("conv1", "Conv2d", (64, 112, 112), 9408, 118_013_952, 802_816)
    assert last == LayerRow("fc", "Linear", (1000,), 513_000, 512_000, 1000)
    # one ReLU module called twice per block: two rows, no parameters double-counted
    names = [row.name for row in s.rows]
    assert names.count("layer1.0.relu (call 2)") == 1
    assert s.rows[names.index("layer1.0.relu (call 2)")].params == 0


def test_receptive_fields_of_resnet():
    with torch.device("meta"):
        model = tvm.resnet18(weights=None)
    fields = {row.name: row.receptive_field for row in summary(model, (3, 224, 224)).rows}
    # 7x7 stem with stride 2, then a 3x3 max pool with stride 2, then 3x3 convolutions
    assert (fields["conv1"], fields["maxpool"], fields["layer1.0.conv1"]) == (7, 11, 19)
    assert fields["layer1.0.relu (call 2)"] == fields["layer1.0.bn2"] == 27


def random_stack(seed: int) -> tuple[nn.Module, tuple[int, ...]]:
    """A random valid stack of conv (1-D, 2-D or 3-D, possibly transposed) and linear layers."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    conv = [nn.Conv1d, nn.Conv2d, nn.Conv3d][nd - 1]
    transpose = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][nd - 1]
    channels = int(rng.integers(1, 5))
    size = [int(rng.integers(6, 13)) for _ in range(nd)]
    sample = (channels, *size)
    layers = []
    for _ in range(int(rng.integers(1, 5))):
        groups = int(rng.choice([1, 1, 2]))
        c_in = channels
        if c_in % groups:
            groups = 1
        c_out = groups * int(rng.integers(1, 4))
        k = int(rng.integers(1, 4))
        if rng.random() < 0.25:
            layer = transpose(c_in, c_out, k, stride=int(rng.integers(1, 3)), groups=groups)
        else:
            d = int(rng.integers(1, 3))
            p = int(rng.integers(0, 2))
            s = int(rng.integers(1, 3))
            if any(n + 2 * p < d * (k - 1) + 1 for n in size):
                continue
            layer = conv(c_in, c_out, k, stride=s, padding=p, dilation=d, groups=groups)
            layer.bias = None if rng.random() < 0.3 else layer.bias
        layers.append(layer)
        layers.append(nn.ReLU())
        with torch.no_grad():
            size = list(nn.Sequential(*layers)(torch.zeros(1, *sample)).shape[2:])
        channels = c_out
    layers += [nn.Flatten(), nn.Linear(channels * int(np.prod(size)), int(rng.integers(1, 9)))]
    if not isinstance(layers[0], (conv, transpose)):  # make sure the input layout is known
        layers.insert(0, conv(sample[0], sample[0], 1))
    return nn.Sequential(*layers).double(), sample


@pytest.mark.parametrize("seed", range(30))
def test_random_stacks_match_torch(seed):
    model, sample = random_stack(seed)
    batch = 1 + seed % 3
    s = summary(model, (batch, *sample) if seed % 2 else sample, receptive_fields=seed < 3)
    x = torch.zeros(batch, *sample, dtype=torch.float64)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert 2 * s.total_macs * batch == flops(model, x)
    outputs, h = [], x
    with torch.no_grad():
        for layer in model:
            h = layer(h)
            outputs.append(tuple(h.shape[1:]))
    assert [row.output_shape for row in s.rows] == outputs
    assert s.total_activations == sum(int(np.prod(shape)) for shape in outputs)
    assert [row.params for row in s.rows] == [
        sum(p.numel() for p in layer.parameters()) for layer in model
    ]


def test_batch_dimension_gives_per_sample_counts():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2))
    one, many = summary(model, (3, 20, 24)), summary(model, (5, 3, 20, 24))
    assert one.rows == many.rows
    assert one.input_shape == many.input_shape == (3, 20, 24)
    assert one.total_macs == 20 * 24 * 8 * 27 + 9 * 11 * 4 * 72


def test_mlp_shape_is_one_sample():
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    s = summary(model, (784,))
    assert s.total_macs == 784 * 100 + 100 * 10
    assert s.total_params == 784 * 100 + 100 + 100 * 10 + 10
    assert summary(model, 784).rows == s.rows


class Tied(nn.Module):
    """A shared module called twice, tied weights, and a parameterised unused layer."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.other = nn.Conv2d(4, 4, 3, padding=1)
        self.other.weight = self.conv.weight  # tied: counted once
        self.unused = nn.Linear(3, 2)
        self.scale = nn.Parameter(torch.ones(1))  # a parameter of a non-leaf module

    def forward(self, x):
        return self.other(self.conv(self.conv(x))) * self.scale


def test_shared_tied_and_unused_parameters():
    model = Tied()
    s = summary(model, (4, 8, 8))
    assert [row.name for row in s.rows] == ["conv", "conv (call 2)", "other", "Tied", "unused"]
    assert [row.params for row in s.rows] == [148, 0, 4, 1, 8]  # other.weight is conv.weight
    assert s.total_params == sum(p.numel() for p in model.parameters())
    assert s.total_macs == 3 * 64 * 4 * 36
    assert s.total_activations == 3 * 256  # the container's own output is not counted again
    assert [row.receptive_field for row in s.rows][:3] == [3, 5, 7]
    assert s.rows[-1] == LayerRow("unused", "Linear", None, 8, 0, 0, None)


def test_model_is_left_unchanged():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(), nn.Flatten())
    model.train()
    model[1].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    summary(model, (1, 6, 6))
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks for m in model.modules())


class DataDependent(nn.Module):
    """Looks at values: runs on real tensors, not on the meta device (nor through torch.fx)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)

    def forward(self, x):
        y = self.conv(x)
        return y if float(y.sum()) > 1e9 else y[:, :, :-1]


def test_value_dependent_model():
    s = summary(DataDependent(), (3, 10, 10))
    # torch.fx cannot trace it: no receptive-field column
    assert s.rows == [LayerRow("conv", "Conv2d", (6, 8, 8), 168, 6 * 64 * 27, 384, None)]
    with pytest.raises(ValueError, match="summary: the model cannot run on input_shape"):
        summary(DataDependent().to("meta"), (3, 10, 10))


def test_float64_and_meta_models():
    model = nn.Sequential(nn.Conv1d(2, 3, 5), nn.Flatten(), nn.Linear(3 * 12, 4)).double()
    assert summary(model, (2, 16)).total_macs == 3 * 12 * 10 + 36 * 4
    assert summary(model.to("meta"), (2, 16)).total_macs == 3 * 12 * 10 + 36 * 4


def test_rendering():
    model = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3))
    s = summary(model, (3, 32, 32))
    assert isinstance(s, ModelSummary)
    text = str(s)
    lines = text.splitlines()
    assert lines[1].split() == [
        "Layer", "Type", "Output", "shape", "Params", "MACs", "Activations", "RF"
    ]  # fmt: skip
    assert "(64, 32, 32)" in text and "1,792" in text and "1,769,472" in text
    total = next(line for line in lines if line.startswith("Total"))
    assert f"{s.total_params:,}" in total and f"{s.total_macs:,}" in total
    assert [line.split()[-1] for line in lines[3:6]] == ["3", "3", "5"]  # receptive fields
    assert "RF" not in str(summary(model, (3, 32, 32), receptive_fields=False))
    assert repr(s) == text
    page = s._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert page.count("<tr>") == len(s.rows) + 2 and "38,720" in page


def test_names_are_escaped_in_html():
    class Weird(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("a<b>", nn.Conv2d(1, 1, 1))

        def forward(self, x):
            return getattr(self, "a<b>")(x)

    assert "a&lt;b&gt;" in summary(Weird(), (1, 4, 4))._repr_html_()


@pytest.mark.parametrize(
    ("model", "shape", "error", "words"),
    [
        ("not a model", (3, 8, 8), TypeError, ["summary: model", "nn.Module"]),
        (nn.Conv2d(3, 4, 3), "3x8x8", TypeError, ["summary: input_shape"]),
        (nn.Conv2d(3, 4, 3), (3, 8.0, 8), TypeError, ["summary: input_shape", "ints"]),
        (nn.Conv2d(3, 4, 3), (3, 0, 8), ValueError, ["summary: ", "input_shape", "positive"]),
        (nn.Conv2d(3, 4, 3), (), ValueError, ["summary: input_shape", "empty"]),
        (nn.Conv2d(3, 4, 3), (8, 8), ValueError, ["summary: input_shape", "(C, H, W)"]),
        (nn.Conv2d(3, 4, 3), (1, 1, 3, 8, 8), ValueError, ["input_shape", "Conv2d"]),
        (nn.Conv2d(3, 4, 3), (4, 8, 8), ValueError, ["summary: ", "input_shape=(1, 4, 8, 8)"]),
        (nn.Conv2d(3, 4, 5), (3, 4, 4), ValueError, ["summary: ", "cannot run"]),
    ],
)
def test_bad_input(model, shape, error, words):
    with pytest.raises(error) as info:
        summary(model, shape)
    for word in words:
        assert word in str(info.value)
