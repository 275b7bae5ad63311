"""helpers.models: shapes, parameter counts against the papers, and torchvision equivalence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchvision
from named_errors import raises_named
from torch import nn

from helpers.models import (
    C3_CONNECTIONS,
    VGG,
    VGG_CONFIGS,
    AlexNet,
    BasicBlock,
    Bottleneck,
    DepthwiseSeparable,
    InceptionModule,
    LeNet5,
    paper_parameter_counts,
    resnet,
    small_resnet,
    vgg,
    vgg_block,
)
from helpers.summary import summary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def on_meta(build, *args, **kwargs) -> nn.Module:
    """Build a (large) model on the meta device: shapes only, no memory, no init time."""
    with torch.device("meta"):
        return build(*args, **kwargs)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def weighted_rows(s):
    """(type, output shape, params, MACs) of the conv and linear rows of a summary."""
    return [
        (r.type, r.output_shape, r.params, r.macs)
        for r in s.rows
        if r.type in ("Conv2d", "Linear", "BatchNorm2d")
    ]


def copy_parameters(source: nn.Module, target: nn.Module) -> None:
    """Copy every parameter and buffer, matched by order (the layouts are the same)."""
    src, dst = list(source.state_dict().values()), target.state_dict()
    assert len(src) == len(dst)
    for (name, value), new in zip(dst.items(), src, strict=True):
        assert value.shape == new.shape, name
        dst[name] = new.clone()
    target.load_state_dict(dst)


# ---------------------------------------------------------------------------- LeNet-5


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("pooling", ["avg", "max"])
def test_lenet5_classic_sizes_and_61706_parameters(activation, pooling):
    model = LeNet5(activation, pooling)
    assert n_params(model) == 61_706
    s = summary(model, (1, 28, 28))
    shapes = {r.name: r.output_shape for r in s.rows}
    assert shapes["features.c1"] == (6, 28, 28)
    assert shapes["features.s2"] == (6, 14, 14)
    assert shapes["features.c3"] == (16, 10, 10)
    assert shapes["features.s4"] == (16, 5, 5)
    assert shapes["classifier.c5"] == (120,)
    assert shapes["classifier.f6"] == (84,)
    assert shapes["classifier.output"] == (10,)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_lenet5_per_layer_parameters_and_defaults():
    model = LeNet5()
    assert isinstance(model.features.act1, nn.Tanh)
    assert isinstance(model.features.s2, nn.AvgPool2d)
    counts = [n_params(m) for m in (model.features.c1, model.features.c3)]
    counts += [n_params(m) for m in (model.classifier.c5, model.classifier.f6)]
    counts.append(n_params(model.classifier.output))
    assert counts == [156, 2_416, 48_120, 10_164, 850]
    modern = LeNet5("relu", "max", num_classes=7, in_channels=3)
    assert modern(torch.zeros(2, 3, 28, 28)).shape == (2, 7)
    assert isinstance(modern.features.s4, nn.MaxPool2d)


def test_lenet5_paper_table_and_60000_parameters():
    table = C3_CONNECTIONS
    assert table.shape == (6, 16) and table.dtype == bool
    assert list(table.sum(axis=0)) == [3] * 6 + [4] * 9 + [6]
    assert list(table.sum(axis=1)) == [10] * 6 and table.sum() == 60
    for j in range(6):  # the first six C3 maps read three contiguous S2 maps
        assert set(np.flatnonzero(table[:, j])) == {j % 6, (j + 1) % 6, (j + 2) % 6}
    for j in range(6, 12):  # the next six read four contiguous maps
        assert set(np.flatnonzero(table[:, j])) == {(j - 6 + i) % 6 for i in range(4)}
    counts = paper_parameter_counts()
    assert counts["C3"] == 1_516  # "C3 has 1,516 trainable parameters" (the paper)
    trainable = sum(v for k, v in counts.items() if "fixed" not in k)
    assert trainable == 60_000
    assert counts["output (RBF, fixed)"] == 840


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(activation="elu"), ValueError, "activation"),
        (dict(pooling="min"), ValueError, "pooling"),
        (dict(num_classes=0), ValueError, "num_classes"),
        (dict(in_channels=1.5), TypeError, "in_channels"),
    ],
)
def test_lenet5_bad_arguments(kwargs, error, words):
    with raises_named(error, "LeNet5", words):
        LeNet5(**kwargs)


def test_lenet5_bad_input_shape():
    with raises_named(ValueError, "LeNet5", "x must have shape (N, 1, 28, 28)"):
        LeNet5()(torch.zeros(2, 1, 32, 32))
    with raises_named(TypeError, "LeNet5", "x must be a torch.Tensor"):
        LeNet5()(np.zeros((2, 1, 28, 28)))


# ---------------------------------------------------------------------------- AlexNet


def test_alexnet_paper_sizes_and_parameters():
    two_gpus, one_gpu = on_meta(AlexNet), on_meta(AlexNet, groups=1)
    assert n_params(two_gpus) == 60_965_224
    assert n_params(one_gpu) == 62_378_344
    assert abs(n_params(two_gpus) / 60e6 - 1) < 0.02  # "60 million parameters"
    s = summary(two_gpus, (3, 227, 227))
    shapes = {r.name.split(".")[-1]: r.output_shape for r in s.rows}
    assert shapes["conv1"] == (96, 55, 55) and shapes["pool1"] == (96, 27, 27)
    assert shapes["conv2"] == (256, 27, 27) and shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == shapes["conv4"] == (384, 13, 13)
    assert shapes["pool5"] == (256, 6, 6) and shapes["fc8"] == (1000,)
    neurons = sum(r.activations for r in s.rows if r.type in ("Conv2d", "Linear"))
    assert neurons == 659_272 and abs(neurons / 650e3 - 1) < 0.02  # "650,000 neurons"
    # the three classic observations
    conv = [r for r in s.rows if r.type == "Conv2d"]
    fc = [r for r in s.rows if r.type == "Linear"]
    assert sum(r.macs for r in conv) / s.total_macs > 0.9
    assert sum(r.params for r in fc) / s.total_params > 0.9
    assert max(s.rows, key=lambda r: r.activations).name == "features.conv1"


def test_alexnet_forward_and_the_224_inconsistency():
    model = AlexNet(num_classes=5, lrn=False).eval()
    assert model(torch.zeros(1, 3, 227, 227)).shape == (1, 5)
    with raises_named(ValueError, "AlexNet", "227", "54.25"):
        model(torch.zeros(1, 3, 224, 224))
    with raises_named(ValueError, "AlexNet", "x must have shape"):
        model(torch.zeros(1, 1, 227, 227))
    with raises_named(ValueError, "AlexNet", "groups"):
        AlexNet(groups=4)
    with raises_named(ValueError, "AlexNet", "dropout"):
        AlexNet(dropout=1.0)


# ---------------------------------------------------------------------------- VGG


PAPER_TABLE_2 = {"A": 133, "B": 133, "C": 134, "D": 138, "E": 144}  # millions
TORCHVISION = {"A": "vgg11", "B": "vgg13", "D": "vgg16", "E": "vgg19"}


@pytest.mark.parametrize("config", "ABCDE")
def test_vgg_configs_match_the_paper_table(config):
    model = on_meta(vgg, config)
    assert round(n_params(model) / 1e6) == PAPER_TABLE_2[config]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 3 == {"A": 11, "B": 13, "C": 16, "D": 16, "E": 19}[config]
    assert sum(isinstance(m, nn.MaxPool2d) for m in model.modules()) == 5


@pytest.mark.parametrize("config", "ABDE")
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_summary_agrees_with_torchvision(config, batch_norm):
    name = TORCHVISION[config] + ("_bn" if batch_norm else "")
    theirs = summary(on_meta(getattr(torchvision.models, name), weights=None), (3, 224, 224))
    ours = summary(on_meta(vgg, config, batch_norm=batch_norm), (3, 224, 224))
    assert ours.total_params == theirs.total_params
    assert ours.total_macs == theirs.total_macs
    assert weighted_rows(ours) == weighted_rows(theirs)


def test_vgg_features_are_torchvision_features_after_copying_weights():
    torch.manual_seed(0)
    for config, batch_norm in [("A", False), ("D", True)]:
        cfg = torchvision.models.vgg.cfgs[config]
        theirs = torchvision.models.vgg.make_layers(cfg, batch_norm=batch_norm).eval()
        ours = VGG(VGG_CONFIGS[config], input_size=32, hidden=8, batch_norm=batch_norm).eval()
        copy_parameters(theirs, ours.features)
        x = torch.randn(1, 3, 32, 32)
        with torch.no_grad():
            torch.testing.assert_close(ours.features(x), theirs(x))


def test_vgg_config_c_has_three_1x1_convolutions():
    kernels = [m.kernel_size for m in on_meta(vgg, "C").modules() if isinstance(m, nn.Conv2d)]
    assert kernels.count((1, 1)) == 3 and kernels.count((3, 3)) == 10


@pytest.mark.parametrize(
    "num_convs, c_in, c_out, size", [(1, 3, 8, 8), (2, 4, 4, 7), (3, 1, 16, 28)]
)
def test_vgg_block_halves_the_size(num_convs, c_in, c_out, size):
    block = vgg_block(num_convs, c_in, c_out)
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    assert len(convs) == num_convs and all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, nn.ReLU) for m in block) == num_convs
    assert isinstance(block[-1], nn.MaxPool2d)
    out = block(torch.randn(2, c_in, size, size))
    assert out.shape == (2, c_out, size // 2, size // 2)
    assert n_params(block) == c_out * (9 * c_in + 1) + (num_convs - 1) * c_out * (9 * c_out + 1)


def test_mini_vgg_for_fashion_mnist():
    model = VGG(((16,), (32,), (64, 64)), in_channels=1, num_classes=10, input_size=28, hidden=128)
    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert model.classifier[1].in_features == 64 * 3 * 3


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: vgg("F"), ValueError, ("vgg", "config")),
        (lambda: vgg_block(0, 3, 8), ValueError, ("vgg_block", "num_convs")),
        (lambda: vgg_block(1, "3", 8), TypeError, ("vgg_block", "in_channels")),
        (lambda: VGG(((8,),) * 6, input_size=32), ValueError, ("VGG", "input_size")),
        (lambda: VGG([]), TypeError, ("VGG", "blocks")),
        (
            lambda: VGG(((4,),), hidden=4)(torch.zeros(1, 3, 32, 32)),
            ValueError,
            ("VGG", "x must have shape (N, 3, 224, 224)"),
        ),
    ],
)
def test_vgg_bad_input(call, error, words):
    with raises_named(error, *words):
        call()


# ---------------------------------------------------------------------------- Inception


@pytest.mark.parametrize(
    "args",
    [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), (8, 1, 2, 3, 4, 5, 6)],
)
def test_inception_module_channels_and_parameters(args):
    c_in, c1, c3r, c3, c5r, c5, pp = args
    module = InceptionModule(*args)
    assert module.out_channels == c1 + c3 + c5 + pp
    assert module(torch.randn(2, c_in, 9, 7)).shape == (2, c1 + c3 + c5 + pp, 9, 7)
    weights = c_in * c1 + c_in * c3r + 9 * c3r * c3 + c_in * c5r + 25 * c5r * c5 + c_in * pp
    biases = c1 + c3r + c3 + c5r + c5 + pp
    assert n_params(module) == weights + biases


def test_inception_3a_macs():
    s = summary(InceptionModule(192, 64, 96, 128, 16, 32, 32), (192, 28, 28))
    per_pixel = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert s.total_macs == 28 * 28 * per_pixel


def test_inception_bad_input():
    with raises_named(ValueError, "InceptionModule", "c5"):
        InceptionModule(16, 1, 2, 3, 4, 0, 6)
    with raises_named(ValueError, "InceptionModule", "x must have shape (N, 16, H, W)"):
        InceptionModule(16, 1, 2, 3, 4, 5, 6)(torch.zeros(1, 8, 5, 5))


# ---------------------------------------------------------------------------- ResNet


@pytest.mark.parametrize("in_c, out_c, stride", [(8, 8, 1), (8, 16, 2), (8, 16, 1), (4, 4, 2)])
def test_basic_block_shapes_and_torchvision_equivalence(in_c, out_c, stride):
    ours = BasicBlock(in_c, out_c, stride).eval()
    projection = stride != 1 or in_c != out_c
    assert isinstance(ours.shortcut, nn.Sequential if projection else nn.Identity)
    downsample = None
    if projection:
        downsample = nn.Sequential(
            nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c)
        )
    theirs = torchvision.models.resnet.BasicBlock(in_c, out_c, stride, downsample).eval()
    assert n_params(ours) == n_params(theirs)
    torch.manual_seed(1)
    for module in theirs.modules():  # non-trivial BatchNorm statistics
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.weight.data.uniform_(0.5, 2)
    copy_parameters(theirs, ours)
    x = torch.randn(2, in_c, 9, 10)
    with torch.no_grad():
        expected = theirs(x)
        torch.testing.assert_close(ours(x), expected)
    assert expected.shape == (2, out_c, (9 - 1) // stride + 1, (10 - 1) // stride + 1)


@pytest.mark.parametrize("in_c, mid_c, stride", [(16, 4, 1), (16, 8, 2), (32, 8, 1), (8, 2, 2)])
def test_bottleneck_shapes_and_torchvision_equivalence(in_c, mid_c, stride):
    ours = Bottleneck(in_c, mid_c, stride).eval()
    assert ours.out_channels == 4 * mid_c == Bottleneck.expansion * mid_c
    projection = stride != 1 or in_c != 4 * mid_c
    downsample = None
    if projection:
        downsample = nn.Sequential(
            nn.Conv2d(in_c, 4 * mid_c, 1, stride, bias=False), nn.BatchNorm2d(4 * mid_c)
        )
    theirs = torchvision.models.resnet.Bottleneck(in_c, mid_c, stride, downsample).eval()
    assert n_params(ours) == n_params(theirs)
    copy_parameters(theirs, ours)
    x = torch.randn(2, in_c, 8, 7)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))
    assert ours(x).shape == (2, 4 * mid_c, (8 - 1) // stride + 1, (7 - 1) // stride + 1)


def test_a_residual_block_with_zero_residual_is_the_identity():
    """Residual learning: with F(x) = 0 (last BN scaled to zero) the block passes x on."""
    for block in (BasicBlock(6, 6), Bottleneck(12, 3)):
        last_bn = block.bn2 if isinstance(block, BasicBlock) else block.bn3
        nn.init.zeros_(last_bn.weight)
        x = torch.rand(2, block.in_channels, 5, 5)  # >= 0, so relu(x) == x
        torch.testing.assert_close(block.eval()(x), x)


def test_plain_blocks_have_no_shortcut():
    for block in (BasicBlock(4, 8, 2, residual=False), Bottleneck(4, 2, 2, residual=False)):
        assert block.shortcut is None
    assert n_params(BasicBlock(4, 8, 2)) - n_params(BasicBlock(4, 8, 2, residual=False)) == (
        4 * 8 + 2 * 8
    )


@pytest.mark.parametrize("depth", [18, 34, 50])
def test_resnet_summary_agrees_with_torchvision(depth):
    theirs = summary(
        on_meta(getattr(torchvision.models, f"resnet{depth}"), weights=None), (3, 224, 224)
    )
    ours = summary(on_meta(resnet, depth), (3, 224, 224))
    assert ours.total_params == theirs.total_params
    assert ours.total_macs == theirs.total_macs
    assert weighted_rows(ours) == weighted_rows(theirs)
    paper_gflops = {18: 1.8, 34: 3.6, 50: 3.8}[depth]  # the paper's Table 1 ("FLOPs" = MACs)
    assert abs(ours.total_macs / 1e9 - paper_gflops) < 0.3


def test_resnet18_is_torchvision_resnet18_after_copying_weights():
    torch.manual_seed(0)
    theirs = torchvision.models.resnet18(weights=None, num_classes=5).eval()
    ours = resnet(18, num_classes=5).eval()
    copy_parameters(theirs, ours)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


@pytest.mark.parametrize("depth, n", [(8, 1), (14, 2), (20, 3)])
@pytest.mark.parametrize("size", [28, 32])
def test_small_resnet(depth, n, size):
    model = small_resnet(depth, width=4, in_channels=3, num_classes=7)
    convs = [m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    main_path = [c for c in convs if c.kernel_size == (3, 3)]
    assert len(main_path) + 1 == depth == 6 * n + 2  # + the final linear layer
    assert model(torch.zeros(2, 3, size, size)).shape == (2, 7)
    plain = small_resnet(depth, width=4, in_channels=3, num_classes=7, residual=False)
    assert all(block.shortcut is None for stage in plain.stages for block in stage)
    assert plain(torch.zeros(2, 3, size, size)).shape == (2, 7)


def test_small_resnet_default_size():
    assert n_params(small_resnet()) == 77_754


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: small_resnet(10), ValueError, ("small_resnet", "depth must be 6n")),
        (lambda: small_resnet(2), ValueError, ("small_resnet", "depth")),
        (lambda: small_resnet(residual=1), TypeError, ("small_resnet", "residual")),
        (lambda: resnet(19), ValueError, ("resnet", "depth")),
        (lambda: BasicBlock(4, 4, 0), ValueError, ("BasicBlock", "stride")),
        (lambda: Bottleneck(4, -1), ValueError, ("Bottleneck", "mid_channels")),
        (lambda: BasicBlock(4, 4)(torch.zeros(1, 3, 5, 5)), ValueError, ("BasicBlock", "x must")),
    ],
)
def test_resnet_bad_input(call, error, words):
    with raises_named(error, *words):
        call()


# ---------------------------------------------------------------------------- MobileNet


@pytest.mark.parametrize("c_in, c_out, stride", [(8, 16, 1), (16, 32, 2), (3, 5, 1)])
def test_depthwise_separable(c_in, c_out, stride):
    block = DepthwiseSeparable(c_in, c_out, stride)
    assert block.depthwise.groups == c_in
    assert n_params(block) == 9 * c_in + c_in * c_out + 2 * (c_in + c_out)  # + BN (gamma, beta)
    out = block(torch.randn(2, c_in, 11, 12))
    assert out.shape == (2, c_out, (11 - 1) // stride + 1, (12 - 1) // stride + 1)
    s = summary(block, (c_in, 12, 12))
    side = (12 - 1) // stride + 1
    assert s.total_macs == side * side * (9 * c_in + c_in * c_out)
    full = 9 * c_in * c_out
    assert math.isclose((9 * c_in + c_in * c_out) / full, 1 / c_out + 1 / 9)


def test_depthwise_separable_bad_input():
    with raises_named(ValueError, "DepthwiseSeparable", "out_channels"):
        DepthwiseSeparable(4, 0)
    with raises_named(ValueError, "DepthwiseSeparable", "x must"):
        DepthwiseSeparable(4, 8)(torch.zeros(1, 8, 5, 5))


def test_every_config_is_listed():
    assert set(VGG_CONFIGS) == set("ABCDE")


def test_models_can_be_traced_for_receptive_fields():
    """helpers.shapes.receptive_field traces models with torch.fx: the input checks allow it."""
    from helpers.shapes import receptive_field

    assert receptive_field(LeNet5().features, (1, 1, 28, 28)).size == 16
    assert receptive_field(InceptionModule(8, 1, 2, 3, 4, 5, 6), (1, 8, 16, 16)).size == 5
    assert receptive_field(BasicBlock(4, 4), (1, 4, 16, 16)).size == 5
    stack = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=1) for _ in range(3)])
    assert receptive_field(stack, (1, 2, 16, 16)).size == 7  # three 3x3 = one 7x7
    assert receptive_field(on_meta(AlexNet).features, (1, 3, 227, 227)).size == 195
