"""helpers.models additions of notebook 09: Network in Network, the pre-activation block and
its gradients, ShuffleNet's channel shuffle, MobileNet's width multiplier and EfficientNet's
compound scaling, against torch and against the papers' tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from named_errors import raises_named
from torch import nn

from helpers.costs import count_params, model_costs
from helpers.models import (
    EFFICIENTNET_COEFFICIENTS,
    MLPConv,
    NiN,
    PreActBlock,
    block_input_gradients,
    channel_shuffle,
    compound_multipliers,
    group_connectivity,
    mobilenet_v1,
    resnet,
    scaled_resnet,
    shuffle_permutation,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ Network in Network


def test_mlpconv_1x1_layers_are_a_per_pixel_mlp():
    torch.manual_seed(0)
    layer = MLPConv(3, (5, 4, 2), kernel_size=3, padding=1)
    x = torch.randn(2, 3, 6, 7)
    first, _, second, _, third, _ = layer.layers
    hidden = torch.relu(first(x)).permute(0, 2, 3, 1)  # (N, H, W, C): an MLP on every pixel
    for conv in (second, third):
        linear = nn.Linear(conv.in_channels, conv.out_channels)
        linear.weight.data = conv.weight.data[:, :, 0, 0]
        linear.bias.data = conv.bias.data
        hidden = torch.relu(linear(hidden))
    assert torch.allclose(layer(x), hidden.permute(0, 3, 1, 2), atol=1e-6)


def test_nin_has_no_linear_layer_and_classifies_by_global_average_pooling():
    net = NiN(in_channels=1, num_classes=10, width=16)
    assert not any(isinstance(m, nn.Linear) for m in net.modules())
    x = torch.randn(3, 1, 28, 28)
    maps = net.features(x)
    assert maps.shape == (3, 10, 7, 7)
    assert torch.allclose(net(x), maps.mean(dim=(2, 3)), atol=1e-6)
    assert MLPConv(4, (8,), 1, final_relu=False).out_channels == 8


def test_nin_bad_arguments():
    with raises_named(ValueError, "MLPConv", "widths"):
        MLPConv(3, (), 3)
    with raises_named(ValueError, "NiN", "x must have shape"):
        NiN(in_channels=3)(torch.zeros(1, 1, 28, 28))


# ------------------------------------------------------------------ pre-activation


def _preact_functional(block: PreActBlock, x: torch.Tensor) -> torch.Tensor:
    """The paper's Figure 4e written out with torch.nn.functional (train-mode BatchNorm)."""

    def bn(t, layer):
        return torch.nn.functional.batch_norm(
            t, None, None, layer.weight, layer.bias, training=True, eps=layer.eps
        )

    pre = torch.relu(bn(x, block.bn1))
    out = torch.nn.functional.conv2d(pre, block.conv1.weight, stride=block.conv1.stride, padding=1)
    out = torch.nn.functional.conv2d(torch.relu(bn(out, block.bn2)), block.conv2.weight, padding=1)
    if isinstance(block.shortcut, nn.Identity):
        return out + x
    if isinstance(block.shortcut, nn.Conv2d):
        return out + torch.nn.functional.conv2d(
            pre, block.shortcut.weight, stride=block.conv1.stride
        )
    return out


@pytest.mark.parametrize(
    "c_in, c_out, stride, residual",
    [(4, 4, 1, True), (4, 6, 2, True), (4, 4, 1, False), (5, 5, 2, True)],
)
def test_preact_block_is_figure_4e(c_in, c_out, stride, residual):
    torch.manual_seed(1)
    block = PreActBlock(c_in, c_out, stride, residual=residual)
    for bn in (block.bn1, block.bn2):
        nn.init.uniform_(bn.weight, 0.5, 1.5)
        nn.init.uniform_(bn.bias, -0.5, 0.5)
    x = torch.randn(3, c_in, 7, 6)
    out = block(x)
    assert out.shape == (3, c_out, (7 - 1) // stride + 1, (6 - 1) // stride + 1)
    assert torch.allclose(out, _preact_functional(block, x), atol=1e-5)
    if residual and stride == 1 and c_in == c_out:
        with torch.no_grad():
            block.conv2.weight.zero_()
        assert torch.equal(block(x), x)  # F = 0: the block is the identity, negatives too


def test_block_input_gradients_match_autograd():
    torch.manual_seed(2)
    blocks = [PreActBlock(3, 3) for _ in range(4)]
    x = torch.randn(2, 3, 5, 5)
    norms = block_input_gradients(blocks, x, seed=7)
    assert len(norms) == 5
    xs = x.clone().requires_grad_(True)
    out = nn.Sequential(*blocks)(xs)
    v = torch.randn(out.shape, generator=torch.Generator().manual_seed(7))
    (grad,) = torch.autograd.grad((out * v).sum(), xs)
    assert np.isclose(norms[0], float(grad.norm()), rtol=1e-5)
    assert np.isclose(norms[-1], float(v.norm()), rtol=1e-6)


def test_identity_paths_keep_the_gradient_of_a_deep_stack():
    """x_L = x_l + sum F: with the shortcuts the gradient at the first block stays within a
    small factor of the output's; without them (BatchNorm in eval mode at init) it vanishes."""
    torch.manual_seed(0)
    x = torch.randn(4, 8, 6, 6)
    plain = [PreActBlock(8, 8, residual=False).eval() for _ in range(20)]
    residual = [PreActBlock(8, 8).eval() for _ in range(20)]
    g_plain, g_res = block_input_gradients(plain, x), block_input_gradients(residual, x)
    assert g_plain[0] / g_plain[-1] < 1e-6
    assert 1 <= g_res[0] / g_res[-1] < 10


def test_preact_and_gradient_bad_input():
    with raises_named(ValueError, "PreActBlock", "x must have shape"):
        PreActBlock(3, 3)(torch.zeros(1, 4, 5, 5))
    with raises_named(ValueError, "block_input_gradients", "at least one"):
        block_input_gradients([], torch.zeros(1, 1, 2, 2))
    with raises_named(ValueError, "block_input_gradients", "(N, C, H, W)"):
        block_input_gradients([nn.Identity()], torch.zeros(3))


# ------------------------------------------------------------------ ShuffleNet


@pytest.mark.parametrize("channels, groups", [(6, 2), (12, 3), (8, 8), (9, 3), (5, 1)])
def test_channel_shuffle_is_torchs(channels, groups):
    x = torch.randn(2, channels, 3, 4)
    expected = nn.ChannelShuffle(groups)(x)
    assert torch.equal(channel_shuffle(x, groups), expected)
    assert torch.equal(x[:, shuffle_permutation(channels, groups)], expected)
    assert sorted(shuffle_permutation(channels, groups)) == list(range(channels))


def test_group_connectivity_is_where_a_grouped_conv_has_weights():
    conv = nn.Conv2d(12, 6, 1, groups=3, bias=False)
    x = torch.zeros(1, 12, 1, 1, requires_grad=True)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    jacobian = torch.stack(
        [torch.autograd.grad(conv(x)[0, o, 0, 0], x)[0][0, :, 0, 0] for o in range(6)]
    )
    assert np.array_equal(group_connectivity(12, 6, 3), jacobian.numpy() != 0)


def test_shuffle_lets_every_group_see_every_group():
    """Two grouped 1x1 layers: without the shuffle an output sees 1 group of inputs, with it
    all of them (ShuffleNet, Figure 1)."""
    c, g = 12, 3
    layer = group_connectivity(c, c, g).astype(int)
    shuffle = np.eye(c, dtype=int)[shuffle_permutation(c, g)]
    without = layer @ layer
    with_shuffle = layer @ shuffle @ layer
    assert (without > 0).sum(axis=1).tolist() == [c // g] * c
    assert (with_shuffle > 0).all()


def test_shuffle_bad_arguments():
    with raises_named(ValueError, "channel_shuffle", "split into groups=4"):
        channel_shuffle(torch.zeros(1, 6, 2, 2), 4)
    with raises_named(ValueError, "channel_shuffle", "(N, C, H, W)"):
        channel_shuffle(torch.zeros(6, 2, 2), 2)
    with raises_named(ValueError, "group_connectivity", "split into groups=2"):
        group_connectivity(4, 3, 2)


# ------------------------------------------------------------------ MobileNet


# alpha -> (parameters in M, mult-adds in M) of the paper's Table 6; resolution -> mult-adds
# of Table 7
TABLE_6 = {1.0: (4.2, 569), 0.75: (2.6, 325), 0.5: (1.3, 149), 0.25: (0.5, 41)}
TABLE_7 = {224: 569, 192: 418, 160: 290, 128: 186}


@pytest.mark.parametrize("alpha", list(TABLE_6))
def test_mobilenet_width_multiplier_matches_table_6(alpha):
    params, macs = model_costs(mobilenet_v1(alpha), (3, 224, 224))
    assert round(params / 1e6, 1) == TABLE_6[alpha][0]
    assert abs(macs / 1e6 - TABLE_6[alpha][1]) < 1  # the paper rounds, or truncates


@pytest.mark.parametrize("size", list(TABLE_7))
def test_mobilenet_resolution_matches_table_7(size):
    assert abs(model_costs(mobilenet_v1(), (3, size, size)).macs / 1e6 - TABLE_7[size]) < 1


def test_mobilenet_forward_and_bad_alpha():
    assert mobilenet_v1(0.25, num_classes=7)(torch.randn(2, 3, 64, 64)).shape == (2, 7)
    for alpha in (0, 1.5, True, "1"):
        with raises_named(ValueError, "mobilenet_v1", "alpha"):
            mobilenet_v1(alpha)


# ------------------------------------------------------------------ compound scaling


def test_compound_multipliers_double_the_cost_per_phi():
    alpha, beta, gamma = EFFICIENTNET_COEFFICIENTS
    assert (alpha, beta, gamma) == (1.2, 1.1, 1.15)
    d, w, r = compound_multipliers(2)
    assert np.allclose((d, w, r), (1.44, 1.21, 1.3225))
    assert abs(alpha * beta**2 * gamma**2 - 2) < 0.1
    with raises_named(ValueError, "compound_multipliers", "phi"):
        compound_multipliers(-1)


def test_scaled_resnet_is_resnet_34_and_scales_as_d_w2_r2():
    base_net = scaled_resnet()
    assert count_params(base_net) == count_params(resnet(34))
    with torch.device("meta"):
        tv = torchvision.models.resnet34(weights=None)
    assert count_params(base_net) == count_params(tv)
    base = model_costs(base_net, (3, 224, 224)).macs
    deeper = model_costs(scaled_resnet(2, 1), (3, 224, 224)).macs
    wider = model_costs(scaled_resnet(1, 2), (3, 224, 224)).macs
    larger = model_costs(base_net, (3, 448, 448)).macs
    assert 1.95 < deeper / base < 2.05  # the stem and the linear layer do not deepen
    assert 3.9 < wider / base < 4.0  # the stem's 3 input channels do not widen
    assert larger / base == pytest.approx(4, rel=1e-3)
    with raises_named(ValueError, "scaled_resnet", "base"):
        scaled_resnet(base=50)
