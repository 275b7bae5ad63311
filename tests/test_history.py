"""helpers.history (the ILSVRC table of notebook 08) and helpers.models.fully_convolutional."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from helpers.history import HUMAN_TOP5, ILSVRC_RESULTS, ilsvrc_table, plot_ilsvrc
from helpers.models import VGG
from helpers.models.fully_convolutional import convolutionalize, linear_to_conv


def test_results_are_ordered_and_sourced():
    years = [r.year for r in ILSVRC_RESULTS]
    assert years == sorted(years)
    for r in (*ILSVRC_RESULTS, HUMAN_TOP5):
        assert 0 < r.top5 < 30 and r.source and r.evaluation
        if r.single is not None:  # one model on the validation set
            assert 0 < r.single[1] < 30
    winners = [r.top5 for r in ILSVRC_RESULTS if "winner" in r.evaluation]
    assert winners == sorted(winners, reverse=True)
    first_cnn = next(r for r in ILSVRC_RESULTS if r.cnn)
    assert first_cnn.year == 2012 and first_cnn.name == "AlexNet"


def test_table_and_plot():
    text = ilsvrc_table()
    assert len(text.splitlines()) == len(ILSVRC_RESULTS) + 2
    assert "AlexNet" in text and "40.7 / 18.2" in text and "5.1" in text
    fig = plot_ilsvrc()
    ax = fig.axes[0]
    assert len(ax.patches) == len(ILSVRC_RESULTS)
    assert [p.get_height() for p in ax.patches] == [r.top5 for r in ILSVRC_RESULTS]
    plt.close(fig)


@pytest.mark.parametrize("shape", [(4, 3, 3), (2, 5, 7), (6, 1, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_to_conv_equals_linear(shape, bias):
    torch.manual_seed(0)
    c, h, w = shape
    linear = nn.Linear(c * h * w, 5, bias=bias)
    conv = linear_to_conv(linear, shape)
    x = torch.randn(3, c, h, w)
    torch.testing.assert_close(conv(x).flatten(1), linear(x.flatten(1)))
    big = torch.randn(1, c, h + 3, w + 2)
    out = conv(big)
    assert out.shape == (1, 5, 4, 3)
    torch.testing.assert_close(out[..., 2, 1], linear(big[:, :, 2 : 2 + h, 1 : 1 + w].flatten(1)))


def test_linear_to_conv_checks_its_arguments():
    with pytest.raises(ValueError, match="reads 12"):
        linear_to_conv(nn.Linear(12, 2), (3, 2, 3))
    with pytest.raises(TypeError, match="nn.Linear"):
        linear_to_conv(nn.Conv2d(1, 1, 1), (1, 1, 1))


def test_convolutionalize_a_vgg():
    torch.manual_seed(0)
    net = VGG(((4,), (8,)), num_classes=3, input_size=16, hidden=6).eval()
    fcn = convolutionalize(net.features, net.classifier, (8, 4, 4)).eval()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(fcn(x).flatten(1), net(x))
    assert fcn(torch.randn(1, 3, 24, 20)).shape == (1, 3, 3, 2)


def test_convolutionalize_without_padding_equals_every_crop():
    """Unpadded convolutions: every entry of the score map is the network on its crop."""
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 5, 3))
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(5 * 5 * 5, 6), nn.ReLU(), nn.Linear(6, 2))
    net = nn.Sequential(features, classifier).eval()  # 16x16 -> 14 -> 7 -> 5
    fcn = convolutionalize(features, classifier, (5, 5, 5)).eval()
    big = torch.randn(1, 3, 22, 20)
    scores = fcn(big)
    assert scores.shape == (1, 2, 4, 3)  # windows every 2 pixels
    for i in range(4):
        for j in range(3):
            crop = big[:, :, 2 * i : 2 * i + 16, 2 * j : 2 * j + 16]
            torch.testing.assert_close(scores[..., i, j], net(crop))
