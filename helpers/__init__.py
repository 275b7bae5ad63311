"""Shared code of the course *Convolutional Networks, hands-on*.

Every notebook starts with::

    import helpers
    helpers.set_seed(0)
    device = helpers.get_device()

Submodules: ``conv`` (NumPy convolutions), ``gradcheck``, ``check`` (exercise checkers),
``plot`` (figures), ``data`` (offline datasets), ``release`` (solutions -> notebooks),
``shapes`` (output sizes), ``costs`` and ``summary`` (parameters and MACs). Importing the
package loads NumPy only; PyTorch is imported by the functions and modules that use it.
"""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["get_device", "set_seed"]
__version__ = "0.1.0"


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and ask PyTorch for determinism.

    Call it once in the first code cell, so that every run of a notebook prints the same
    numbers. cuDNN autotuning is turned off; deterministic algorithms are requested with
    ``warn_only=True``, so an operation without a deterministic version still runs.
    """
    import torch

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"set_seed: seed must be an int, got {seed!r}")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (students may use the legacy global RNG)
    torch.manual_seed(seed)  # seeds every CUDA device too
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def get_device(prefer_gpu: bool = True):
    """Return ``torch.device("cuda")`` when a GPU is available (and wanted), else CPU."""
    import torch

    if prefer_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
