"""Checkers of notebook 09: the reference answers pass; typical mistakes get a specific hint."""

from __future__ import annotations

import pytest
import torch
from checker_contract import contract_tests, grading_tests
from torch import nn

from helpers import check
from helpers.check import efficient
from helpers.models import BasicBlock as ReferenceBasic
from helpers.models import Bottleneck as ReferenceBottleneck
from helpers.models import InceptionModule
from helpers.shapes import conv_output_size

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------ answers for 9.1 Inception


def conv_relu(c_in, c_out, k, bias=True):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias), nn.ReLU())


class Inception(nn.Module):
    """A student's answer, with switches for the typical mistakes."""

    def __init__(
        self,
        in_channels,
        c1,
        c3_reduce,
        c3,
        c5_reduce,
        c5,
        pool_proj,
        *,
        order=(0, 1, 2, 3),
        pool="max",
        five=5,
        bias=True,
        batch_norm=False,
        reduce_relu=True,
        out_relu=True,
        proj=True,
        dim=1,
    ):
        super().__init__()
        pooling = nn.MaxPool2d(3, 1, 1) if pool == "max" else nn.AvgPool2d(3, 1, 1)
        if pool == "max, stride 3":
            pooling = nn.MaxPool2d(3)

        def unit(c_in, c_out, k, relu=True):
            layers = [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            if relu:
                layers.append(nn.ReLU())
            return layers

        self.branches = nn.ModuleList(
            [
                nn.Sequential(*unit(in_channels, c1, 1, out_relu)),
                nn.Sequential(
                    *unit(in_channels, c3_reduce, 1, reduce_relu), *unit(c3_reduce, c3, 3, out_relu)
                ),
                nn.Sequential(
                    *unit(in_channels, c5_reduce, 1, reduce_relu),
                    *unit(c5_reduce, c5, five, out_relu),
                ),
                nn.Sequential(pooling, *unit(in_channels, pool_proj, 1, out_relu))
                if proj
                else nn.Sequential(pooling),
            ]
        )
        self.order, self.dim = order, dim

    def forward(self, x):
        outs = [branch(x) for branch in self.branches]
        return torch.cat([outs[i] for i in self.order], dim=self.dim)


def inception_variant(**kwargs):
    def make(*args):
        return Inception(*args, **kwargs)

    return make


class LazyInception(nn.Module):
    """Registers the pool branch first and uses lazy layers: still right."""

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.LazyConv2d(pool_proj, 1), nn.ReLU())
        self.b5 = nn.Sequential(conv_relu(in_channels, c5_reduce, 1), conv_relu(c5_reduce, c5, 5))
        self.b3 = nn.Sequential(conv_relu(in_channels, c3_reduce, 1), conv_relu(c3_reduce, c3, 3))
        self.b1 = conv_relu(in_channels, c1, 1)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], 1)


class HalfDone(nn.Module):
    """__init__ written, forward still raises NotImplementedError."""

    def __init__(self, *args):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)

    def forward(self, x):
        raise NotImplementedError("Exercise 9.x")


# ------------------------------------------------------------ answers for 9.2 cost


def inception_cost(in_channels, h, w, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
    weights = in_channels * (c1 + c3_reduce + c5_reduce + pool_proj)
    weights += c3_reduce * c3 * 9 + c5_reduce * c5 * 25
    return {"out_channels": c1 + c3 + c5 + pool_proj, "weights": weights, "macs": weights * h * w}


def cost_variant(change):
    def answer(*args):
        result = inception_cost(*args)
        change(result, *args)
        return result

    return answer


# ------------------------------------------------------------ answers for 9.3 and 9.4


class Block(nn.Module):
    """A student's basic (kind="basic") or bottleneck block, with switches for mistakes."""

    def __init__(
        self,
        in_channels,
        width,
        stride=1,
        *,
        kind="basic",
        shortcut=True,
        relu_first=False,
        final_relu=True,
        stride_on=None,
        bias=False,
        projection_bn=True,
        always_project=False,
        padding=1,
        expansion=4,
    ):
        super().__init__()
        bottleneck = kind == "bottleneck"
        out = expansion * width if bottleneck else width
        if stride_on is None:
            stride_on = 2 if bottleneck else 1
        if bottleneck:
            specs = [(in_channels, width, 1), (width, width, 3), (width, out, 1)]
        else:
            specs = [(in_channels, width, 3), (width, width, 3)]
        layers = []
        for number, (c_in, c_out, k) in enumerate(specs, start=1):
            s = stride if number == stride_on else 1
            pad = padding if k == 3 else 0
            layers += [nn.Conv2d(c_in, c_out, k, s, pad, bias=bias), nn.BatchNorm2d(c_out)]
            if number < len(specs):
                layers.append(nn.ReLU())
        self.body = nn.Sequential(*layers)
        self.projection = None
        if always_project or stride != 1 or in_channels != out:
            proj = [nn.Conv2d(in_channels, out, 1, stride, bias=bias)]
            if projection_bn:
                proj.append(nn.BatchNorm2d(out))
            self.projection = nn.Sequential(*proj)
        self.shortcut, self.relu_first, self.final_relu = shortcut, relu_first, final_relu

    def forward(self, x):
        out = self.body(x)
        if self.relu_first:
            out = torch.relu(out)
        if self.shortcut:
            out = out + (x if self.projection is None else self.projection(x))
        return torch.relu(out) if self.final_relu else out


def block_variant(**kwargs):
    def make(*args):
        return Block(*args, **kwargs)

    return make


class ShortcutFirst(nn.Module):
    """A right BasicBlock whose shortcut is registered first (assignment by shape)."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


# ------------------------------------------------------------ answers for 9.5 separable


def separable_cost(c_in, c_out, k, h, w, stride):
    h_out = conv_output_size(h, k, stride, k // 2)
    w_out = conv_output_size(w, k, stride, k // 2)
    params = c_in * k * k + c_in * c_out
    return params, params * h_out * w_out


def separable_variant(change):
    def answer(c_in, c_out, k, h, w, stride):
        return change(c_in, c_out, k, h, w, stride, *separable_cost(c_in, c_out, k, h, w, stride))

    return answer


# ------------------------------------------------------------ answers for 9.6 channel shuffle


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def shuffle_numpy(x, groups):
    """The same in NumPy, returning an array: another right answer."""
    n, c, h, w = x.shape
    return x.numpy().reshape(n, groups, c // groups, h, w).swapaxes(1, 2).reshape(n, c, h, w)


def shuffle_by_index(x, groups):
    """Gathering with an index instead of reshapes: another right answer."""
    c = x.shape[1]
    return x[:, [(i % groups) * (c // groups) + i // groups for i in range(c)]]


def shuffle_inverse(x, groups):
    n, c, h, w = x.shape
    return x.reshape(n, c // groups, groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def shuffle_spatial(x, groups):
    """Reshapes channels and pixels together: values move between channels."""
    n, c, h, w = x.shape
    return x.reshape(n, groups, -1).transpose(1, 2).reshape(n, c, h, w)


def shuffle_not_flattened(x, groups):
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2)


def shuffle_repeats(x, groups):
    """Copies the first group to every group."""
    n, c, h, w = x.shape
    first = x[:, : c // groups]
    return channel_shuffle(first.repeat(1, groups, 1, 1), groups)


# ------------------------------------------------------------ the table of cases

# checker -> (reference answer, {kind of mistake: (wrong answer, words the verdict must contain)})
CASES = {
    check.inception_module: (
        Inception,
        {
            "pool branch first, lazy layers": (LazyInception, ["passed"]),
            "torchvision's reference class": (InceptionModule, ["passed"]),
            "wrong order": (inception_variant(order=(0, 2, 1, 3)), ["wrong order"]),
            "avg pool": (inception_variant(pool="avg"), ["*max* pool"]),
            "pool stride 3": (inception_variant(pool="max, stride 3"), ["raised", "stride=1"]),
            "3x3 in the 5x5 branch": (inception_variant(five=3), ["5×5 kernel", "quirk"]),
            "no bias": (inception_variant(bias=False), ["bias=True"]),
            "batch norm": (inception_variant(batch_norm=True), ["no BatchNorm"]),
            "no ReLU after reduce": (inception_variant(reduce_relu=False), ["reduce"]),
            "no ReLU at all": (inception_variant(out_relu=False), ["never negative"]),
            "no pool proj": (inception_variant(proj=False), ["pool_proj channels"]),
            "cat on batch": (inception_variant(dim=0), ["dim=1"]),
            "returns a tensor": (lambda *args: torch.zeros(1), ["expected a torch.nn.Module"]),
        },
    ),
    check.inception_cost: (
        inception_cost,
        {
            "with biases": (
                cost_variant(lambda r, i, h, w, *c: r.update(weights=r["weights"] + sum(c))),
                ["without biases"],
            ),
            "reduce channels in the output": (
                cost_variant(lambda r, i, h, w, *c: r.update(out_channels=sum(c))),
                ["reduce layers"],
            ),
            "5x5 as 3x3": (
                cost_variant(
                    lambda r, i, h, w, c1, c3r, c3, c5r, c5, pp: r.update(
                        weights=r["weights"] - 16 * c5r * c5
                    )
                ),
                ["5×5 kernels"],
            ),
            "no reduce layers": (
                cost_variant(
                    lambda r, i, h, w, c1, c3r, c3, c5r, c5, pp: r.update(
                        weights=r["weights"] - i * (c3r + c5r)
                    )
                ),
                ["reduce convolutions"],
            ),
            "MACs per position": (
                cost_variant(lambda r, *a: r.update(macs=r["weights"])),
                ["H * W"],
            ),
            "FLOPs": (cost_variant(lambda r, *a: r.update(macs=2 * r["macs"])), ["FLOPs"]),
            "pool counted": (
                cost_variant(lambda r, i, h, w, *c: r.update(macs=r["macs"] + 9 * i * h * w)),
                ["pooling counts no MACs"],
            ),
            "a tuple": (lambda *args: tuple(inception_cost(*args).values()), ["expected a dict"]),
            "a float": (
                cost_variant(lambda r, *a: r.update(macs=r["macs"] + 0.5)),
                ["whole number"],
            ),
        },
    ),
    check.basic_block: (
        block_variant(kind="basic"),
        {
            "shortcut registered first": (ShortcutFirst, ["passed"]),
            "reference class": (ReferenceBasic, ["passed"]),
            "no shortcut": (block_variant(shortcut=False), ["forgot the shortcut"]),
            "ReLU before the addition": (
                block_variant(relu_first=True),
                ["add the shortcut first"],
            ),
            "no final ReLU": (block_variant(final_relu=False), ["never negative"]),
            "stride on the second conv": (block_variant(stride_on=2), ["first 3×3 conv"]),
            "conv biases": (block_variant(bias=True), ["bias=False"]),
            "projection without BN": (block_variant(projection_bn=False), ["BatchNorm"]),
            "always a projection": (block_variant(always_project=True), ["identity"]),
            "no padding": (block_variant(padding=0), ["padding=1"]),
            "identity shortcut on a shape change": (
                lambda c_in, c_out, stride=1: (
                    ReferenceBasic(c_in, c_out, 1, residual=True)
                    if c_in == c_out and stride == 1
                    else _IdentityShortcut(c_in, c_out, stride)
                ),
                ["raised", "1×1 conv"],
            ),
        },
    ),
    check.bottleneck_block: (
        block_variant(kind="bottleneck"),
        {
            "reference class": (ReferenceBottleneck, ["passed"]),
            "stride on the first 1x1 (v1)": (block_variant(kind="bottleneck", stride_on=1), ["v1"]),
            "no expansion": (block_variant(kind="bottleneck", expansion=1), ["4 * mid_channels"]),
            "no shortcut": (block_variant(kind="bottleneck", shortcut=False), ["shortcut"]),
            "ReLU before the addition": (
                block_variant(kind="bottleneck", relu_first=True),
                ["add the shortcut first"],
            ),
            "no final ReLU": (block_variant(kind="bottleneck", final_relu=False), ["negative"]),
            "conv biases": (block_variant(kind="bottleneck", bias=True), ["bias=False"]),
            "always a projection": (
                block_variant(kind="bottleneck", always_project=True),
                ["identity"],
            ),
        },
    ),
    check.separable_cost: (
        separable_cost,
        {
            "swapped": (separable_variant(lambda *a: (a[-1], a[-2])), ["wrong order"]),
            "with biases": (
                separable_variant(lambda ci, co, k, h, w, s, p, m: (p + ci + co, m)),
                ["no biases"],
            ),
            "full depthwise": (
                separable_variant(lambda ci, co, k, h, w, s, p, m: (ci * ci * k * k + ci * co, m)),
                ["groups=C_in"],
            ),
            "no pointwise": (
                separable_variant(lambda ci, co, k, h, w, s, p, m: (ci * k * k, m)),
                ["pointwise"],
            ),
            "input resolution": (
                separable_variant(lambda ci, co, k, h, w, s, p, m: (p, p * h * w)),
                ["output positions"],
            ),
            "pointwise on the input": (
                separable_variant(
                    lambda ci, co, k, h, w, s, p, m: (
                        p,
                        m - ci * co * (m // p) + ci * co * h * w,
                    )
                ),
                ["depthwise output"],
            ),
            "FLOPs": (separable_variant(lambda *a: (a[-2], 2 * a[-1])), ["FLOPs"]),
            "one number": (separable_variant(lambda *a: a[-1]), ["expected a pair"]),
        },
    ),
    check.channel_shuffle: (
        channel_shuffle,
        {
            "NumPy": (shuffle_numpy, ["passed"]),
            "an index": (shuffle_by_index, ["passed"]),
            "no transpose": (lambda x, groups: x, ["original order", "transpose"]),
            "inverse shuffle": (shuffle_inverse, ["inverse shuffle", "groups first"]),
            "pixels moved": (shuffle_spatial, ["not a permutation", "H and W"]),
            "not flattened": (shuffle_not_flattened, ["flatten", "(N, C, H, W)"]),
            "channels repeated": (shuffle_repeats, ["appear twice"]),
            "reversed": (lambda x, groups: x.flip(1), ["not the shuffle"]),
            "new values": (lambda x, groups: channel_shuffle(x, groups) * 2, ["not a permutation"]),
        },
    ),
}


class _IdentityShortcut(nn.Module):
    """Adds x unchanged even when the shape changes: fails at the addition."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.block = ReferenceBasic(c_in, c_out, stride, residual=False)

    def forward(self, x):
        return self.block(x) + x


(
    test_reference_answer_passes,
    test_not_attempted,
    test_wrong_answers_get_a_specific_verdict,
    test_verdicts_are_deterministic,
) = contract_tests(CASES, chapter="9")

globals().update(grading_tests(CASES))


@pytest.mark.parametrize(
    "checker", [check.basic_block, check.bottleneck_block], ids=lambda c: c.__name__
)
def test_a_half_done_block_is_not_attempted(checker):
    """A block whose forward still raises NotImplementedError is "not attempted", not wrong."""
    verdict = checker.verdict(HalfDone)
    assert verdict.status == "not attempted", str(verdict)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize(
    "kind, reference, functional, args",
    [
        ("basic", ReferenceBasic, efficient._basic_functional, (4, 6)),
        ("basic", ReferenceBasic, efficient._basic_functional, (6, 6)),
        ("bottleneck", ReferenceBottleneck, efficient._bottleneck_functional, (8, 2)),
        ("bottleneck", ReferenceBottleneck, efficient._bottleneck_functional, (6, 2)),
    ],
)
def test_functional_blocks_equal_the_models(kind, reference, functional, args, stride):
    """The checkers' functional variants (for the hints) agree with helpers.models."""
    block = reference(*args, stride)
    efficient._reset(block, seed=0)
    x = torch.randn(3, args[0], 7, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = block.train()(x)
        got = functional(x, efficient._convs(block), stride)
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4)


def test_functional_inception_equals_the_model():
    module = InceptionModule(5, 2, 3, 4, 2, 3, 2)
    efficient._reset(module, seed=0)
    x = torch.randn(2, 5, 6, 7, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = module(x)
        got = torch.cat(efficient._inception_functional(x, efficient._convs(module)), dim=1)
    assert torch.allclose(got, expected, atol=1e-6)


def test_paper_table_rows():
    """The cost reference reproduces GoogLeNet's Table 1 rows (3a): 159K weights (K = 1024)
    and 128M multiply-adds."""
    expected = efficient._inception_reference(192, 28, 28, 64, 96, 128, 16, 32, 32)
    assert expected["out_channels"] == 256
    assert round(expected["weights"] / 1024) == 160 and expected["weights"] == 163_328
    assert round(expected["macs"] / 1e6) == 128


@pytest.mark.parametrize("groups, channels", [(1, 4), (2, 6), (3, 12), (4, 8), (3, 9), (6, 6)])
def test_the_reference_permutation_is_torchs_channel_shuffle(groups, channels):
    x = torch.randn(2, channels, 3, 2)
    expected = nn.ChannelShuffle(groups)(x)
    assert torch.equal(x[:, efficient._permutation(channels, groups)], expected)
    assert torch.equal(channel_shuffle(x, groups), expected)


def test_verdicts_do_not_depend_on_the_global_rng():
    torch.manual_seed(123)
    first = str(check.basic_block.verdict(block_variant(relu_first=True)))
    torch.manual_seed(456)
    assert first == str(check.basic_block.verdict(block_variant(relu_first=True)))
