"""helpers.costs, the one parameter/MAC oracle: MACs == FLOPs / 2 of PyTorch's
FlopCounterMode, and parameters == what the module holds, on many random layers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import PROPERTY, conv_layers
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from helpers.costs import Costs, count_params, layer_macs, model_costs

SETTINGS = settings(PROPERTY, max_examples=60)


def torch_macs(module: nn.Module, shape: tuple[int, ...]) -> int:
    """FLOPs / 2 of one forward pass of one sample, on the meta device."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module.to("meta").eval()(torch.empty(1, *shape, device="meta"))
    return counter.get_total_flops() // 2


@SETTINGS
@given(conv_layers())
def test_conv_macs_are_half_the_flops(case):
    layer, shape = case
    params = sum(p.numel() for p in layer.parameters())
    assert model_costs(layer, shape) == Costs(params, torch_macs(layer, shape))


@SETTINGS
@given(st.integers(1, 64), st.integers(1, 64), st.booleans(), st.integers(0, 2))
def test_linear_macs_are_half_the_flops(n_in, n_out, bias, extra_axes):
    layer = nn.Linear(n_in, n_out, bias=bias)
    shape = (3,) * extra_axes + (n_in,)
    expected = Costs(n_out * n_in + n_out * bias, torch_macs(layer, shape))
    assert model_costs(layer, shape) == expected


@pytest.mark.parametrize(
    "model, shape",
    [
        (
            nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1),
                nn.BatchNorm2d(8),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, groups=2),
                nn.AdaptiveAvgPool2d(1),
                nn.Flatten(),
                nn.Linear(16, 10),
            ),
            (3, 32, 32),
        ),
        (nn.Sequential(nn.Conv1d(4, 6, 5, stride=2), nn.ConvTranspose1d(6, 4, 4, 2)), (4, 40)),
    ],
)
def test_models_sum_their_layers(model, shape):
    assert model_costs(model, shape).macs == torch_macs(model, shape)


def test_shared_parameters_count_once_and_the_model_is_unchanged():
    conv = nn.Conv2d(4, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), conv)
    before = conv.weight.detach().clone()
    assert count_params(model) == 4 * 4 * 9 + 4
    costs = model_costs(model, (4, 8, 8))
    assert costs == Costs(4 * 4 * 9 + 4, 2 * 4 * 8 * 8 * 4 * 9)
    assert conv.weight.device.type == "cpu" and torch.equal(conv.weight, before)


def test_layer_macs_of_other_layers_is_zero():
    x = torch.zeros(1, 3, 4, 4)
    assert layer_macs(nn.ReLU(), (x,), x) == 0
    assert layer_macs(nn.Conv2d(3, 2, 1), (x,), torch.zeros(1, 2, 4, 4)) == 2 * 16 * 3


def test_bad_input_names_model_costs():
    with pytest.raises(TypeError, match="^model_costs: model must be"):
        model_costs("conv", (3, 8, 8))
    with pytest.raises(ValueError, match="^model_costs: the model cannot run"):
        model_costs(nn.Conv2d(3, 4, 3), (5, 8, 8))
