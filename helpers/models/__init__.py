"""Classic convolutional networks and their building blocks, in PyTorch.

* :mod:`~helpers.models.lenet`: :class:`LeNet5` (1998), the paper's sparse C3 table;
* :mod:`~helpers.models.alexnet`: :class:`AlexNet` (2012), the paper's layers;
* :mod:`~helpers.models.vgg`: :func:`vgg_block`, :class:`VGG`, :func:`vgg` (configs A-E);
* :mod:`~helpers.models.inception`: :class:`InceptionModule` (GoogLeNet, 2015);
* :mod:`~helpers.models.resnet`: :class:`BasicBlock`, :class:`Bottleneck`, :func:`resnet`
  (ResNet-18 .. 152), :func:`small_resnet` (CIFAR-style, with a plain-network switch);
* :mod:`~helpers.models.mobilenet`: :class:`DepthwiseSeparable` (MobileNet, 2017).

Every model checks its input: a tensor of the wrong shape gets a ``ValueError`` that says
which shape was expected.
"""

from .alexnet import AlexNet
from .inception import InceptionModule
from .lenet import C3_CONNECTIONS, LeNet5, paper_parameter_counts
from .mobilenet import DepthwiseSeparable
from .resnet import BasicBlock, Bottleneck, ResNet, resnet, small_resnet
from .vgg import VGG, VGG_CONFIGS, vgg, vgg_block

__all__ = [
    "C3_CONNECTIONS",
    "VGG",
    "VGG_CONFIGS",
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "DepthwiseSeparable",
    "InceptionModule",
    "LeNet5",
    "ResNet",
    "paper_parameter_counts",
    "resnet",
    "small_resnet",
    "vgg",
    "vgg_block",
]
