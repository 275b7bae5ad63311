"""helpers.costs.training_costs: the cost of a training step, counted on the meta device,
equals what PyTorch counts and saves when the same step really runs on the CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.flop_counter import FlopCounterMode

from helpers.costs import TrainingCosts, model_costs, training_costs

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def measured_on_cpu(model: nn.Module, shape: tuple[int, ...], input_grad: bool) -> TrainingCosts:
    """The same counts from a real forward and backward pass on the CPU: the saved tensors
    are told apart by their storage, the parameters by theirs."""
    parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    x = torch.randn(shape, requires_grad=input_grad)
    counter = FlopCounterMode(display=False)
    with counter, saved_tensors_hooks(pack, lambda tensor: tensor):
        out = model(x)
    forward = counter.get_total_flops()
    with counter:
        out.backward(torch.randn_like(out))
    return TrainingCosts(forward, counter.get_total_flops(), sum(saved.values()))


MODELS = {
    "conv": (nn.Conv2d(3, 8, 3, padding=1), (4, 3, 10, 10)),
    "strided grouped conv": (nn.Conv2d(4, 6, 3, stride=2, groups=2), (2, 4, 9, 9)),
    "conv relu conv": (
        nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1)),
        (2, 3, 12, 12),
    ),
    "small cnn": (
        nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 4 * 4, 10),
        ),
        (3, 3, 8, 8),
    ),
}


@pytest.mark.parametrize("input_grad", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
def test_meta_counts_equal_a_real_step(name, input_grad):
    torch.manual_seed(0)
    model, shape = MODELS[name]
    assert training_costs(model, shape, input_grad=input_grad) == measured_on_cpu(
        model, shape, input_grad
    )


def test_a_conv_layer_backward_is_twice_its_forward():
    layer, shape = nn.Conv2d(16, 32, 3, padding=1), (8, 16, 14, 14)
    macs = model_costs(layer, shape[1:]).macs * shape[0]
    inner = training_costs(layer, shape, input_grad=True)
    first = training_costs(layer, shape)
    assert inner.forward_flops == first.forward_flops == 2 * macs
    assert inner.backward_flops == 2 * inner.forward_flops  # input and weight gradients
    assert first.backward_flops == first.forward_flops  # the weight gradient only
    assert inner.saved_bytes == first.saved_bytes == 4 * 8 * 16 * 14 * 14  # the input, float32


def test_one_sample_without_batch_axis_and_frozen_layers():
    layer = nn.Conv2d(3, 4, 3)
    assert training_costs(layer, (3, 8, 8)) == training_costs(layer, (1, 3, 8, 8))
    frozen = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3))
    frozen[0].requires_grad_(False)
    costs = training_costs(frozen, (3, 8, 8))
    # the frozen first layer needs no gradient at all, so the second one needs no input
    # gradient either: its weight gradient is all that is left (2 FLOPs per MAC)
    assert costs.backward_flops == 2 * model_costs(frozen[1], (4, 6, 6)).macs
    assert frozen[0].weight.device.type == "cpu" and frozen[0].weight.requires_grad is False


def test_bad_input_names_training_costs():
    with pytest.raises(TypeError, match="^training_costs: model must be"):
        training_costs("conv", (3, 8, 8))
    with pytest.raises(ValueError, match="^training_costs: the model cannot run"):
        training_costs(nn.Conv2d(3, 4, 3), (2, 5, 8, 8))
