"""Classic convolutional networks and their building blocks, in PyTorch.

* :mod:`~helpers.models.lenet`: :class:`LeNet5` (1998), the paper's sparse C3 table;
* :mod:`~helpers.models.alexnet`: :class:`AlexNet` (2012), the paper's layers;
* :mod:`~helpers.models.vgg`: :func:`vgg_block`, :class:`VGG`, :func:`vgg` (configs A-E);
* :mod:`~helpers.models.inception`: :class:`InceptionModule` (GoogLeNet, 2015);
* :mod:`~helpers.models.resnet`: :class:`BasicBlock`, :class:`Bottleneck`, :func:`resnet`
  (ResNet-18 .. 152), :func:`small_resnet` (CIFAR-style, with a plain-network switch);
* :mod:`~helpers.models.mobilenet`: :class:`DepthwiseSeparable`, :func:`mobilenet_v1`
  (MobileNet, 2017, with its width multiplier);
* :mod:`~helpers.models.nin`: :class:`MLPConv`, :class:`NiN` (Network in Network, 2014);
* :mod:`~helpers.models.preact`: :class:`PreActBlock` (pre-activation ResNet, 2016) and
  :func:`block_input_gradients`;
* :mod:`~helpers.models.shufflenet`: :func:`channel_shuffle` (ShuffleNet, 2018);
* :mod:`~helpers.models.scaling`: :func:`compound_multipliers`, :func:`scaled_resnet`
  (EfficientNet's compound scaling, 2019);
* :mod:`~helpers.models.fully_convolutional`: :func:`linear_to_conv`, :func:`convolutionalize`
  (fully connected layers as convolutions);
* :mod:`~helpers.models.small`: :class:`SmallCNN` (notebook 12's pretrained network).

Every model checks its input: a tensor of the wrong shape gets a ``ValueError`` that says
which shape was expected.
"""

from .alexnet import AlexNet
from .fully_convolutional import convolutionalize, linear_to_conv
from .inception import InceptionModule
from .lenet import C3_CONNECTIONS, LeNet5, paper_parameter_counts
from .mobilenet import MOBILENET_V1_BLOCKS, DepthwiseSeparable, mobilenet_v1
from .nin import MLPConv, NiN
from .preact import PreActBlock, block_input_gradients
from .resnet import BasicBlock, Bottleneck, ResNet, resnet, small_resnet
from .scaling import EFFICIENTNET_COEFFICIENTS, compound_multipliers, scaled_resnet
from .shufflenet import channel_shuffle, group_connectivity, shuffle_permutation
from .small import SmallCNN
from .vgg import VGG, VGG_CONFIGS, vgg, vgg_block

__all__ = [
    "C3_CONNECTIONS",
    "EFFICIENTNET_COEFFICIENTS",
    "MOBILENET_V1_BLOCKS",
    "VGG",
    "VGG_CONFIGS",
    "AlexNet",
    "BasicBlock",
    "Bottleneck",
    "DepthwiseSeparable",
    "InceptionModule",
    "LeNet5",
    "MLPConv",
    "NiN",
    "PreActBlock",
    "ResNet",
    "SmallCNN",
    "block_input_gradients",
    "convolutionalize",
    "channel_shuffle",
    "compound_multipliers",
    "group_connectivity",
    "linear_to_conv",
    "mobilenet_v1",
    "paper_parameter_counts",
    "resnet",
    "scaled_resnet",
    "shuffle_permutation",
    "small_resnet",
    "vgg",
    "vgg_block",
]
