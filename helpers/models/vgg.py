"""VGG networks (Simonyan and Zisserman, 2015): stacks of 3×3 convolutions.

Every convolution is 3×3 with stride 1 and padding 1 (the size is kept), followed by a
ReLU; each block ends with a 2×2 max pool of stride 2 (the size is halved). Five blocks
take a 224×224 image to 7×7, then three fully connected layers (4096, 4096, classes).
The configurations A-E of the paper's Table 1 differ in the convolutions per block:

* A: ``64 | 128 | 256 256 | 512 512 | 512 512`` (11 layers; torchvision ``vgg11``)
* B: ``64 64 | 128 128 | 256 256 | 512 512 | 512 512`` (13 layers; ``vgg13``)
* C: B plus a 1×1 convolution at the end of blocks 3, 4 and 5 (16 layers)
* D: ``64 64 | 128 128 | 256 x3 | 512 x3 | 512 x3`` (16 layers; ``vgg16``)
* E: ``64 64 | 128 128 | 256 x4 | 512 x4 | 512 x4`` (19 layers; ``vgg19``)

(The paper's A-LRN is A with a local response normalisation after the first layer.)
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from .._validate import as_int
from ._common import check_input, positive

__all__ = ["VGG", "VGG_CONFIGS", "vgg", "vgg_block"]

_5 = (512, 512)
VGG_CONFIGS: dict[str, tuple[tuple, ...]] = {
    "A": ((64,), (128,), (256, 256), _5, _5),
    "B": ((64, 64), (128, 128), (256, 256), _5, _5),
    "C": ((64, 64), (128, 128), (256, 256, (256, 1)), (*_5, (512, 1)), (*_5, (512, 1))),
    "D": ((64, 64), (128, 128), (256,) * 3, (512,) * 3, (512,) * 3),
    "E": ((64, 64), (128, 128), (256,) * 4, (512,) * 4, (512,) * 4),
}
"""The paper's configurations: a tuple of blocks, each a tuple of convolutions given as
their output channels (3×3) or ``(channels, kernel_size)``."""


def vgg_block(
    num_convs: int, in_channels: int, out_channels: int, batch_norm: bool = False
) -> nn.Sequential:
    """A VGG block: ``num_convs`` x (3×3 conv, padding 1, [BatchNorm], ReLU), then 2×2 max pool.

    ``x: (N, in_channels, H, W)`` -> ``(N, out_channels, H // 2, W // 2)``.
    """
    fname = "vgg_block"
    num_convs = positive(num_convs, "num_convs", fname)
    return _block(
        [out_channels] * num_convs,
        positive(in_channels, "in_channels", fname),
        batch_norm,
        fname,
    )


def _block(convs: Sequence, in_channels: int, batch_norm: bool, fname: str) -> nn.Sequential:
    layers: list[nn.Module] = []
    for spec in convs:
        out_channels, kernel_size = spec if isinstance(spec, tuple) else (spec, 3)
        out_channels = positive(out_channels, "out_channels", fname)
        kernel_size = positive(kernel_size, "kernel_size", fname)
        layers.append(nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.ReLU(inplace=True))
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG-style network: conv blocks, then ``hidden``-``hidden``-``num_classes`` FC layers.

    Args:
        blocks: a sequence of blocks, each a sequence of convolutions given by their output
            channels (3×3, padding 1) or ``(channels, kernel_size)``; every block ends with
            a 2×2 max pool. ``VGG_CONFIGS["D"]`` is VGG-16; ``((16,), (32,), (64, 64))`` a
            mini-VGG for 28×28 images.
        in_channels: channels of the input image (3 for RGB, 1 for greyscale).
        num_classes: outputs of the last layer.
        input_size: side of the (square) input; the first FC layer has
            ``C_last * (input_size // 2**len(blocks))**2`` inputs.
        hidden: width of the two hidden FC layers (4096 in the paper).
        dropout: dropout probability after each hidden FC layer (0.5 in the paper).
        batch_norm: add a BatchNorm after every convolution (not in the paper).

    ``x: (N, in_channels, input_size, input_size)`` -> logits ``(N, num_classes)``.
    Attributes ``features`` (one ``nn.Sequential`` per block) and ``classifier``.
    """

    def __init__(
        self,
        blocks: Sequence[Sequence],
        in_channels: int = 3,
        num_classes: int = 1000,
        input_size: int = 224,
        hidden: int = 4096,
        dropout: float = 0.5,
        batch_norm: bool = False,
    ):
        super().__init__()
        fname = "VGG"
        if not isinstance(blocks, Sequence) or not blocks or isinstance(blocks, str):
            raise TypeError(
                f"{fname}: blocks must be a non-empty sequence of blocks, got {blocks!r}"
            )
        self.in_channels = positive(in_channels, "in_channels", fname)
        self.input_size = positive(input_size, "input_size", fname)
        side = self.input_size // 2 ** len(blocks)
        if side < 1:
            raise ValueError(
                f"{fname}: input_size={input_size} is too small for {len(blocks)} blocks "
                f"(each halves the size); it must be at least {2 ** len(blocks)}"
            )
        if not isinstance(batch_norm, bool):
            raise TypeError(f"{fname}: batch_norm must be a bool, got {batch_norm!r}")
        channels, stages = self.in_channels, []
        for block in blocks:
            if not isinstance(block, Sequence) or not block or isinstance(block, str):
                raise TypeError(f"{fname}: every block must be a non-empty sequence, got {block!r}")
            stages.append(_block(block, channels, batch_norm, fname))
            last = block[-1]
            channels = last[0] if isinstance(last, tuple) else last
        hidden = positive(hidden, "hidden", fname)
        num_classes = positive(num_classes, "num_classes", fname)
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * side * side, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        """``x: (N, in_channels, input_size, input_size)`` -> logits ``(N, num_classes)``."""
        check_input(x, "VGG", self.in_channels, (self.input_size, self.input_size))
        return self.classifier(self.features(x))


def vgg(config: str = "D", num_classes: int = 1000, batch_norm: bool = False, **kwargs) -> VGG:
    """The VGG network of configuration ``"A"`` .. ``"E"`` (``"D"`` = VGG-16, ``"E"`` = VGG-19).

    Extra keyword arguments (``in_channels``, ``input_size``, ``hidden``, ``dropout``) go to
    :class:`VGG`. ``x: (N, 3, 224, 224)`` -> ``(N, num_classes)``.
    """
    if not isinstance(config, str) or config.upper() not in VGG_CONFIGS:
        raise ValueError(f"vgg: config must be one of 'A'..'E', got {config!r}")
    as_int(num_classes, "num_classes", "vgg", minimum=1)
    return VGG(
        VGG_CONFIGS[config.upper()], num_classes=num_classes, batch_norm=batch_norm, **kwargs
    )
