"""Exercise checkers, one per exercise; each prints a single verdict and never raises.

Usage in a notebook::

    from helpers import check
    check.conv1d_naive(conv1d_naive)      # prints the verdict
    check.conv1d_naive.verdict(fn)        # returns it (a Verdict), for tests
"""

from .architectures import layer_table, lenet5, stack_vs_single, vgg_block
from .backprop import (
    centred_difference,
    conv2d_backward_naive,
    conv3_backward,
    max_pool2d_backward_naive,
)
from .beyond import conv3d_cost, rising_tone_filter, text_cnn_shapes
from .convolution import combined_kernel, conv1d_naive, conv2d_multi, conv2d_single, conv_full
from .core import Verdict
from .efficient import (
    basic_block,
    bottleneck_block,
    inception_cost,
    inception_module,
    separable_cost,
)
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
from .stacking import stack_shapes  # noqa: F401  (Exercise 1.6)
from .visualize import gradient_ascent, gram_matrix, saliency_map, style_loss
from .welcome import conv_parameters

__all__ = [
    "Verdict",
    "basic_block",
    "conv3d_cost",
    "rising_tone_filter",
    "text_cnn_shapes",
    "bottleneck_block",
    "inception_cost",
    "inception_module",
    "separable_cost",
    "layer_table",
    "lenet5",
    "stack_vs_single",
    "vgg_block",
    "bottleneck_costs",
    "conv2d_cost",
    "conv_output_size",
    "predict_shapes",
    "same_padding",
    "spot_the_mistakes",
    "centred_difference",
    "conv2d_backward_naive",
    "conv3_backward",
    "max_pool2d_backward_naive",
    "combined_kernel",
    "conv1d_naive",
    "conv2d_multi",
    "conv2d_single",
    "conv_full",
    "conv_parameters",
    "batch_norm_step",
    "batch_norm_train",
    "fold_bn",
    "group_norm_forward",
    "ln_in_from_gn",
    "avg_pool2d_conv",
    "max_pool2d_naive",
    "unchanged_fraction",
    "dense_field_network",
    "receptive_field_size",
    "conv_matrix_naive",
    "conv_transpose_zeros",
    "im2col_naive",
    "matrix_4x9",
    "gradient_ascent",
    "gram_matrix",
    "saliency_map",
    "style_loss",
]
