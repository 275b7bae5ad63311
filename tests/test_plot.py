"""Smoke tests of the figure helpers: they draw what they promise and reject bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from named_errors import raises_named

from helpers import plot  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_show_images_grid_and_titles():
    fig = plot.show_images(RNG.random((5, 8, 8)), titles=list("abcde"), ncols=3)
    axes = _image_axes(fig)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == list("abcde")


def test_show_filters_colour_and_grey():
    fig = plot.show_filters(RNG.standard_normal((4, 1, 3, 3)))
    assert len(_image_axes(fig)) == 4
    assert len(fig.axes[0].texts) == 9, "3x3 weights are written in the cells"
    fig = plot.show_filters(RNG.standard_normal((6, 3, 7, 7)), annotate=False)
    assert len(_image_axes(fig)) == 6


def test_show_feature_maps_drops_batch_of_one():
    fig = plot.show_feature_maps(RNG.random((1, 3, 6, 6)))
    assert len(_image_axes(fig)) == 3
    with raises_named(ValueError, "show_feature_maps"):
        plot.show_feature_maps(RNG.random((2, 3, 6, 6)))


def test_sliding_window_title_spells_the_dot_product():
    x = np.arange(16.0).reshape(4, 4)
    w = np.ones((3, 3))
    fig = plot.sliding_window(x, w, position=(1, 1), padding=1, stride=1)
    text = fig._suptitle.get_text() if fig._suptitle else " ".join(a.get_title() for a in fig.axes)
    expected = x[0:3, 0:3].sum()  # output (1, 1) with padding 1 sees x[0:3, 0:3]
    assert str(int(expected)) in text


def test_show_connectivity_counts_weights():
    fig = plot.show_connectivity(n_in=7, kernel_size=3)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "35 weights" in titles, "5 outputs x 7 inputs"
    assert "15 weights" in titles, "5 outputs x 3 local inputs"
    assert "\n3 weights" in titles, "one shared kernel of 3"


def test_bad_input_names_the_argument():
    with raises_named((TypeError, ValueError), "show_filters"):
        plot.show_filters(np.zeros((2, 2, 2, 2, 2)))
    # sliding_window leaves the checking of the geometry to helpers.conv.conv2d, named so
    with raises_named(ValueError, "conv2d", "kernel is larger than the padded input"):
        plot.sliding_window(np.zeros((3, 3)), np.zeros((5, 5)))


def test_show_feature_maps_share_one_scale_and_colour_bar():
    maps = RNG.random((3, 5, 5))
    maps[1] *= 4
    fig = plot.show_feature_maps(maps, ncols=3)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3 and {im.get_clim() for im in images} == {(0.0, maps.max())}
    assert images[0].get_cmap().name == plot.FEATURE_CMAP
    assert len(fig.axes) == 4, "three maps and one colour bar"
    signed = plot.show_feature_maps(maps - 0.5, colorbar=False)
    clim = signed.axes[0].images[0].get_clim()
    assert clim[0] == -clim[1] and signed.axes[0].images[0].get_cmap().name == plot.SIGNED_CMAP
    assert len(signed.axes) == 3
    each = plot.show_feature_maps(np.stack([maps[0] * 4, maps[1] - 2]), shared_scale=False)
    images = [ax.images[0] for ax in each.axes if ax.images]
    assert images[0].get_clim() == (0.0, 4 * maps[0].max())
    assert images[1].get_clim()[0] == -images[1].get_clim()[1] == -np.abs(maps[1] - 2).max()
    assert [im.get_cmap().name for im in images] == [plot.FEATURE_CMAP, plot.SIGNED_CMAP]
    assert len(each.axes) == 4, "two maps, a colour bar each"
    plt.close("all")
