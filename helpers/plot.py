"""Figures used by the notebooks. Every function returns the matplotlib Figure.

In a notebook, end the cell with ``plt.show()`` so that no object repr is printed.
Arrays follow PyTorch's layout: images ``(H, W)`` or ``(H, W, 3)``; filters
``(C_out, C_in, kH, kW)``; feature maps ``(C, H, W)``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ._validate import as_float_array, as_int, as_tuple, check_ndim

__all__ = [
    "FEATURE_CMAP",
    "IMAGE_CMAP",
    "MASK_CMAP",
    "SIGNED_CMAP",
    "show_connectivity",
    "show_feature_maps",
    "show_filters",
    "show_images",
    "sliding_window",
]

# One colour map per kind of map, in every notebook:
IMAGE_CMAP = "gray"  # input images, 0 (black) to 1 (white)
FEATURE_CMAP = "magma"  # values >= 0: activations after ReLU, heat maps, saliency, spectrograms
SIGNED_CMAP = "RdBu_r"  # values of both signs (weights, gradients, differences), centred at 0
MASK_CMAP = "Blues"  # which pixels / entries are used: 0 (white) or more (blue)

_WINDOW = "#d62728"  # the current window / output cell
_PAD = "#e8e8e8"  # zero padding
_SEEN = "#c6dbef"  # outputs already computed


def _grid(count: int, ncols: int | None, size: float, extra_height: float = 0.0):
    ncols = min(count, ncols or count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows + extra_height),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[count:]:
        ax.axis("off")
    return fig, axes.flat[:count]


def show_images(
    images,
    titles=None,
    ncols: int | None = None,
    cmap: str = "gray",
    size: float = 2.2,
    suptitle: str | None = None,
):
    """Show images side by side.

    Args:
        images: a sequence of arrays, or one array ``(N, H, W)`` / ``(N, H, W, 3)``;
            values in [0, 1] are shown as they are, anything else is rescaled per image.
        titles: optional list of N strings.
        ncols: images per row (default: all in one row).
    """
    images = [as_float_array(image, "images[i]", "show_images") for image in images]
    if not images:
        raise ValueError("show_images: images is empty")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"show_images: got {len(titles)} titles for {len(images)} images")
    fig, axes = _grid(len(images), ncols, size)
    for index, (ax, image) in enumerate(zip(axes, images, strict=True)):
        if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
            image = np.moveaxis(image, 0, -1)  # (C, H, W) -> (H, W, C)
        image = image.squeeze()
        if image.ndim not in (2, 3):
            raise ValueError(f"show_images: images[{index}] has shape {image.shape}")
        if image.min() < 0 or image.max() > 1:
            image = (image - image.min()) / max(image.max() - image.min(), 1e-12)
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize=11)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_filters(
    w,
    titles=None,
    ncols: int | None = 8,
    annotate: bool | None = None,
    size: float = 1.6,
    suptitle: str | None = None,
):
    """Show convolution filters ``w: (C_out, C_in, kH, kW)``.

    Filters with 3 input channels are drawn as colour images (each rescaled to [0, 1]);
    otherwise each filter's first input channel is drawn with a diverging colour map,
    blue negative, red positive, white zero. ``annotate`` writes the weights in the
    cells (default: when kernels are at most 5×5).
    """
    w = as_float_array(w, "w", "show_filters")
    if w.ndim == 2:
        w = w[None, None]
    check_ndim(w, "w", "show_filters", {4: "(C_out, C_in, kH, kW)"})
    c_out, c_in, kh, kw = w.shape
    if titles is not None and len(titles) != c_out:
        raise ValueError(f"show_filters: got {len(titles)} titles for {c_out} filters")
    annotate = (kh <= 5 and kw <= 5) if annotate is None else annotate
    fig, axes = _grid(c_out, ncols, size)
    image = None
    for o, ax in enumerate(axes):
        if c_in == 3:
            rgb = np.moveaxis(w[o], 0, -1)
            ax.imshow((rgb - rgb.min()) / max(rgb.max() - rgb.min(), 1e-12))
        else:
            kernel = w[o, 0]
            limit = max(float(np.abs(w[:, 0]).max()), 1e-12)
            image = ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
            if annotate:
                for (i, j), value in np.ndenumerate(kernel):
                    ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[o], fontsize=11)
    if image is not None and not annotate:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="weight")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def show_connectivity(n_in: int = 7, kernel_size: int = 3):
    """Compare a fully connected, a locally connected and a convolutional layer in 1-D.

    Draws ``n_in`` inputs (bottom) and ``n_in - kernel_size + 1`` outputs (top) three
    times. Fully connected: every output sees every input, each line its own weight (grey).
    Locally connected: each output sees ``kernel_size`` neighbours, each line its own weight
    (its own colour). Convolution: the same ``kernel_size`` weights at every position
    (one colour per weight). The titles give the number of weights (biases left out).
    """
    n_in = as_int(n_in, "n_in", "show_connectivity", minimum=2)
    k = as_int(kernel_size, "kernel_size", "show_connectivity", minimum=1)
    if k > n_in:
        raise ValueError(f"show_connectivity: kernel_size={k} is larger than n_in={n_in}")
    n_out = n_in - k + 1
    x_in = np.arange(n_in, dtype=float)
    x_out = np.arange(n_out) + (k - 1) / 2
    local_colours = plt.get_cmap("tab20")(np.linspace(0, 1, n_out * k))
    shared_colours = plt.get_cmap("Set1")(np.arange(k) % 9)
    panels = [
        ("fully connected", f"{n_out} × {n_in} = {n_out * n_in} weights"),
        ("locally connected", f"{n_out} × {k} = {n_out * k} weights"),
        ("convolution (shared weights)", f"{k} weights"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3), layout="constrained")
    for panel, (ax, (name, count)) in enumerate(zip(axes, panels, strict=True)):
        for t in range(n_out):
            sources = range(n_in) if panel == 0 else range(t, t + k)
            for s in sources:
                if panel == 0:
                    colour, width = "#888888", 0.8
                elif panel == 1:
                    colour, width = local_colours[t * k + s - t], 1.8
                else:
                    colour, width = shared_colours[s - t], 1.8
                ax.plot([x_in[s], x_out[t]], [0, 1], color=colour, linewidth=width, zorder=1)
        ax.scatter(x_in, np.zeros(n_in), s=260, color="white", edgecolor="#333333", zorder=2)
        ax.scatter(x_out, np.ones(n_out), s=260, color="#c6dbef", edgecolor="#333333", zorder=2)
        for s in range(n_in):
            ax.text(x_in[s], 0, f"x{s + 1}", ha="center", va="center", fontsize=11, zorder=3)
        for t in range(n_out):
            ax.text(x_out[t], 1, f"y{t + 1}", ha="center", va="center", fontsize=11, zorder=3)
        ax.set_title(f"{name}\n{count}", fontsize=11)
        ax.set_xlim(-0.7, n_in - 0.3)
        ax.set_ylim(-0.35, 1.35)
        ax.axis("off")
    handles = [
        plt.Line2D([], [], color=shared_colours[u], linewidth=2, label=f"w{u + 1}")
        for u in range(k)
    ]
    axes[2].legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=k,
        frameon=False,
        fontsize=11,
    )
    return fig


def show_feature_maps(
    maps,
    titles=None,
    ncols: int | None = 8,
    cmap: str | None = None,
    size: float = 1.8,
    suptitle: str | None = None,
    colorbar: bool = True,
    shared_scale: bool = True,
):
    """Show feature maps ``maps: (C, H, W)`` (a leading batch axis of 1 is dropped).

    With ``shared_scale`` all maps share one colour scale and, with ``colorbar``, one colour
    bar, so brightness can be compared across channels (maps of one layer). Without it each
    map gets its own scale and its own colour bar (outputs of unlike filters, such as a blur
    and an edge detector). The colour map is :data:`SIGNED_CMAP` centred at 0 when some
    value is negative, else :data:`FEATURE_CMAP` from 0 (unless ``cmap`` is given).
    """
    maps = as_float_array(maps, "maps", "show_feature_maps")
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    check_ndim(maps, "maps", "show_feature_maps", {3: "(C, H, W)"})
    if titles is not None and len(titles) != len(maps):
        raise ValueError(f"show_feature_maps: got {len(titles)} titles for {len(maps)} maps")

    def scale(values):
        signed = bool((values < 0).any())
        top = float(np.abs(values).max()) or 1.0
        return (-top if signed else 0.0), top, cmap or (SIGNED_CMAP if signed else FEATURE_CMAP)

    fig, axes = _grid(len(maps), ncols, size)
    for c, ax in enumerate(axes):
        low, top, colours = scale(maps if shared_scale else maps[c])
        image = ax.imshow(maps[c], cmap=colours, vmin=low, vmax=top)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(titles[c] if titles is not None else f"channel {c}", fontsize=11)
        if colorbar and not shared_scale:
            fig.colorbar(image, ax=ax, shrink=0.8, pad=0.03)
    if colorbar and shared_scale:
        fig.colorbar(image, ax=list(axes), shrink=0.8, pad=0.02)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def sliding_window(
    x, w, position=(0, 0), stride=1, padding=0, dilation=1, title: str | None = None
):
    """Draw one step of a 2-D convolution (cross-correlation): input, kernel, output.

    Args:
        x: input ``(H, W)``, small (values are written in the cells).
        w: kernel ``(kH, kW)``.
        position: ``(i, j)``, the output cell being computed. Cells before it (row-major)
            are filled in, as if the kernel had already visited them.
        stride, padding, dilation: int or pair, as in :func:`helpers.conv.conv2d`.

    Shows the padded input (padding in grey) with the window in red, the kernel, and the
    output with the current cell in red; the title spells out the dot product.
    """
    from .conv import conv2d

    x = as_float_array(x, "x", "sliding_window")
    w = as_float_array(w, "w", "sliding_window")
    check_ndim(x, "x", "sliding_window", {2: "(H, W)"})
    check_ndim(w, "w", "sliding_window", {2: "(kH, kW)"})
    stride = as_tuple(stride, "stride", "sliding_window", 2, minimum=1)
    pad = as_tuple(padding, "padding", "sliding_window", 2, minimum=0)
    dilation = as_tuple(dilation, "dilation", "sliding_window", 2, minimum=1)
    out = conv2d(x[None, None], w[None, None], stride=stride, padding=pad, dilation=dilation)[0, 0]
    i, j = position
    if not (0 <= i < out.shape[0] and 0 <= j < out.shape[1]):
        raise ValueError(
            f"sliding_window: position {position} is outside the "
            f"{out.shape[0]}×{out.shape[1]} output"
        )
    x_pad = np.pad(x, ((pad[0], pad[0]), (pad[1], pad[1])))
    top, left = i * stride[0], j * stride[1]
    taps = [
        (top + u * dilation[0], left + v * dilation[1], u, v)
        for u in range(w.shape[0])
        for v in range(w.shape[1])
    ]

    widths = [x_pad.shape[1], w.shape[1], out.shape[1]]
    fig, axes = plt.subplots(
        1,
        3,
        figsize=(0.55 * sum(widths) + 2.5, 0.55 * max(x_pad.shape[0], 3) + 1.3),
        gridspec_kw={"width_ratios": widths},
        layout="constrained",
    )
    _cells(
        axes[0],
        x_pad,
        shade=lambda r, c: (
            _PAD
            if (r < pad[0] or r >= pad[0] + x.shape[0] or c < pad[1] or c >= pad[1] + x.shape[1])
            else "white"
        ),
    )
    for r, c, _, _ in taps:
        axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=True, color=_WINDOW, alpha=0.25))
    if dilation == (1, 1):
        axes[0].add_patch(
            Rectangle(
                (left - 0.5, top - 0.5),
                w.shape[1],
                w.shape[0],
                fill=False,
                edgecolor=_WINDOW,
                linewidth=2.5,
            )
        )
    axes[0].set_title(
        f"input {x.shape[0]}×{x.shape[1]}" + (f", padding {padding}" if any(pad) else "")
    )
    _cells(axes[1], w, shade=lambda r, c: "#fdd0a2")
    axes[1].set_title(f"kernel {w.shape[0]}×{w.shape[1]}")
    flat = i * out.shape[1] + j
    _cells(
        axes[2],
        out,
        shade=lambda r, c: _SEEN if r * out.shape[1] + c < flat else "white",
        hide=lambda r, c: r * out.shape[1] + c > flat,
    )
    axes[2].add_patch(
        Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=_WINDOW, linewidth=2.5)
    )
    axes[2].set_title(f"output {out.shape[0]}×{out.shape[1]}")
    terms = " + ".join(f"{_num(x_pad[r, c])}·{_num(w[u, v])}" for r, c, u, v in taps)
    if len(taps) > 9:
        terms = " + ".join(f"{_num(x_pad[r, c])}·{_num(w[u, v])}" for r, c, u, v in taps[:4])
        terms += " + …"
    summary = f"out[{i}, {j}] = {terms} = {_num(out[i, j])}"
    settings = f"stride {stride[0] if stride[0] == stride[1] else stride}"
    if dilation != (1, 1):
        settings += f", dilation {dilation[0] if dilation[0] == dilation[1] else dilation}"
    fig.suptitle(f"{title}\n{summary}" if title else f"{settings}:  {summary}", fontsize=11)
    return fig


def _cells(ax, values: np.ndarray, shade, hide=lambda r, c: False) -> None:
    """Draw a small matrix as a grid of labelled cells."""
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(
                Rectangle(
                    (c - 0.5, r - 0.5),
                    1,
                    1,
                    facecolor=shade(r, c),
                    edgecolor="#555555",
                    linewidth=0.8,
                )
            )
            if not hide(r, c):
                ax.text(c, r, _num(values[r, c]), ha="center", va="center", fontsize=11)
    ax.set_xlim(-0.6, cols - 0.4)
    ax.set_ylim(rows - 0.4, -0.6)
    ax.set_aspect("equal")
    ax.axis("off")


def _num(value: float) -> str:
    value = float(value)
    return str(int(round(value))) if abs(value - round(value)) < 1e-9 else f"{value:.2f}"
