"""Exercise checkers, one per exercise; each prints a single verdict and never raises.

Usage in a notebook::

    from helpers import check
    check.conv1d_naive(conv1d_naive)      # prints the verdict
    check.conv1d_naive.verdict(fn)        # returns it (a Verdict), for tests
"""

from .backprop import (
    centred_difference,
    conv2d_backward_naive,
    conv3_backward,
    max_pool2d_backward_naive,
)
from .beyond import conv3d_cost, rising_tone_filter, text_cnn_shapes
from .convolution import combined_kernel, conv1d_naive, conv2d_multi, conv2d_single, conv_full
from .core import Verdict
from .matrix import conv_matrix_naive, conv_transpose_zeros, im2col_naive, matrix_4x9
from .normalization import (
    batch_norm_step,
    batch_norm_train,
    fold_bn,
    group_norm_forward,
    ln_in_from_gn,
)
from .padding import (
    bottleneck_costs,
    conv2d_cost,
    conv_output_size,
    predict_shapes,
    same_padding,
    spot_the_mistakes,
)
from .pooling import avg_pool2d_conv, max_pool2d_naive, unchanged_fraction
from .receptive import dense_field_network, receptive_field_size
from .visualize import gradient_ascent, gram_matrix, saliency_map, style_loss
from .welcome import conv_parameters

__all__ = [
    "Verdict",
    # 00 welcome
    "conv_parameters",
    # 01 convolution
    "conv1d_naive",
    "conv2d_single",
    "conv2d_multi",
    "conv_full",
    "combined_kernel",
    # 02 padding, stride, dilation
    "conv_output_size",
    "same_padding",
    "predict_shapes",
    "conv2d_cost",
    "bottleneck_costs",
    "spot_the_mistakes",
    # 03 receptive fields
    "receptive_field_size",
    "dense_field_network",
    # 04 pooling
    "max_pool2d_naive",
    "avg_pool2d_conv",
    "unchanged_fraction",
    # 05 normalization
    "batch_norm_train",
    "batch_norm_step",
    "fold_bn",
    "group_norm_forward",
    "ln_in_from_gn",
    # 06 backpropagation
    "conv3_backward",
    "conv2d_backward_naive",
    "max_pool2d_backward_naive",
    "centred_difference",
    # 07 convolution as a matrix
    "matrix_4x9",
    "conv_matrix_naive",
    "conv_transpose_zeros",
    "im2col_naive",
    # 10 what CNNs learn
    "gradient_ascent",
    "saliency_map",
    "gram_matrix",
    "style_loss",
    # 11 beyond images
    "text_cnn_shapes",
    "rising_tone_filter",
    "conv3d_cost",
]
