"""Exercise checkers, one per exercise; each prints a single verdict and never raises.

Usage in a notebook::

    from helpers import check
    check.conv1d_naive(conv1d_naive)      # prints the verdict
    check.conv1d_naive.verdict(fn)        # returns it (a Verdict), for tests

The checkers live in one module per chapter and are loaded on first use (PEP 562), so
``from helpers import check`` is instant and loads torch only when a checker that needs it
is called for: the same deferral that ``check.core`` keeps for its own torch imports.
"""

from __future__ import annotations

import importlib

# chapter module -> the checkers it defines (names separated by spaces)
_CHECKERS = {
    "welcome": "conv_parameters",
    "stacking": "stack_shapes",  # Exercise 1.6
    "padding": "bottleneck_costs conv2d_cost conv_output_size predict_shapes same_padding "
    "spot_the_mistakes",
    "receptive": "dense_field_network receptive_field_size",
    "pooling": "avg_pool2d_conv max_pool2d_naive unchanged_fraction",
    "normalization": "batch_norm_step batch_norm_train fold_bn group_norm_forward ln_in_from_gn",
    "backprop": "centred_difference conv2d_backward_naive conv3_backward max_pool2d_backward_naive",
    "matrix": "conv2d_weight_grad conv_matrix_naive conv_transpose_zeros im2col_naive matrix_4x9",
    "architectures": "layer_table lenet5 linear_to_conv stack_vs_single vgg_block",
    "efficient": "basic_block bottleneck_block channel_shuffle inception_cost inception_module "
    "separable_cost",
    "visualize": "fgsm grad_cam gradient_ascent gram_matrix saliency_map style_loss",
    "beyond": "conv3d_cost rising_tone_filter text_cnn_shapes",
    "convolution": "combined_kernel conv1d_naive conv2d_multi conv2d_single conv_full",
    "practice": "dropout_forward freeze_for_probe kaiming_normal param_groups random_crop",
    "core": "Verdict",
}
_HOME = {name: module for module, names in _CHECKERS.items() for name in names.split()}

__all__ = sorted(name for name in _HOME if name != "stack_shapes")


def __getattr__(name: str):
    """Load the chapter module that defines ``name`` and return it from there."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
