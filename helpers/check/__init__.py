"""Exercise checkers, one per exercise; each prints a single verdict and never raises.

Usage in a notebook::

    from helpers import check
    check.conv1d_naive(conv1d_naive)      # prints the verdict
    check.conv1d_naive.verdict(fn)        # returns it (a Verdict), for tests
"""

from .convolution import combined_kernel, conv1d_naive, conv2d_multi, conv2d_single, conv_full
from .core import Verdict
from .welcome import conv_parameters

__all__ = [
    "Verdict",
    "combined_kernel",
    "conv1d_naive",
    "conv2d_multi",
    "conv2d_single",
    "conv_full",
    "conv_parameters",
]
