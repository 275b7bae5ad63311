"""Network in Network (Lin, Chen and Yan, ICLR 2014): mlpconv layers and a global average
pooling classifier.

An **mlpconv** layer slides a small multilayer perceptron over the input instead of a linear
filter: a ``k x k`` convolution followed by fully connected layers applied to the channels
of each pixel, i.e. ``1 x 1`` convolutions, each followed by a ReLU (the paper's Section 3.1
and its Eq. 2: the "cascaded cross channel parametric pooling" is a 1×1 convolution).
The **global average pooling** classifier (Section 3.2) lets the last mlpconv layer output
one map per class and averages each map: no fully connected layer at all.

* :class:`MLPConv`: ``k x k`` conv -> ReLU -> (1×1 conv -> ReLU) for each further width;
* :class:`NiN`: a small NiN for 28×28 or 32×32 images: mlpconv blocks with max pooling in
  between, the last one ending with ``num_classes`` maps, then global average pooling.
"""

from __future__ import annotations

from torch import nn

from ._common import check_input, positive

__all__ = ["MLPConv", "NiN"]


class MLPConv(nn.Module):
    """``k x k`` conv (stride, padding) -> ReLU, then a 1×1 conv -> ReLU per further width.

    ``widths``: the output channels of the ``k x k`` convolution, then of each 1×1
    convolution, e.g. ``(96, 96, 96)``. ``x: (N, in_channels, H, W)`` ->
    ``(N, widths[-1], H', W')``. ``final_relu=False`` leaves out the last ReLU (for a
    layer whose maps are the class scores). Attribute ``layers`` (an ``nn.Sequential``).
    """

    def __init__(
        self,
        in_channels: int,
        widths,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        final_relu: bool = True,
    ):
        super().__init__()
        fname = "MLPConv"
        self.in_channels = positive(in_channels, "in_channels", fname)
        widths = [positive(w, "widths", fname) for w in widths]
        if not widths:
            raise ValueError(f"{fname}: widths must hold at least one number of channels")
        layers, channels = [], in_channels
        for number, width in enumerate(widths):
            k, s, p = (kernel_size, stride, padding) if number == 0 else (1, 1, 0)
            layers += [nn.Conv2d(channels, width, k, s, p), nn.ReLU()]
            channels = width
        if not final_relu:
            layers.pop()
        self.out_channels = channels
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, widths[-1], H', W')``."""
        check_input(x, "MLPConv", self.in_channels)
        return self.layers(x)


class NiN(nn.Module):
    """Three mlpconv blocks (5×5, 5×5, 3×3, each with two 1×1 layers), 3×3/2 max pools in
    between, the last block ending with ``num_classes`` maps, then global average pooling.

    ``x: (N, in_channels, H, W)`` -> class scores ``(N, num_classes)``. ``width``: the
    channels of the first two blocks. Attributes ``features`` (the mlpconv blocks and
    pools) and ``gap`` (``AdaptiveAvgPool2d(1)`` and ``Flatten``): no ``nn.Linear``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32):
        super().__init__()
        fname = "NiN"
        self.in_channels = positive(in_channels, "in_channels", fname)
        num_classes = positive(num_classes, "num_classes", fname)
        width = positive(width, "width", fname)
        self.features = nn.Sequential(
            MLPConv(in_channels, (width, width, width), 5, padding=2),
            nn.MaxPool2d(3, 2, padding=1),
            MLPConv(width, (width, width, width), 5, padding=2),
            nn.MaxPool2d(3, 2, padding=1),
            MLPConv(width, (width, width, num_classes), 3, padding=1, final_relu=False),
        )
        self.gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        """``x: (N, in_channels, H, W)`` -> ``(N, num_classes)``."""
        check_input(x, "NiN", self.in_channels)
        return self.gap(self.features(x))
