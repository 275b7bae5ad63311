"""Answers that are torch modules: check the type, run them, explain every failure.

torch is imported inside the functions, so the NumPy-only checkers never load it.
"""

from __future__ import annotations

from . import grading
from .core import Mismatch, NotAttempted, forgot_return

__all__ = ["expect_module", "run_module"]


def expect_module(value, *, case: str, advice: str = ""):
    """``value`` if it is a ``torch.nn.Module``; otherwise a :class:`Mismatch` saying what it is.

    ``advice``: a sentence appended to the message, e.g. how to pass a class.
    """
    from torch import nn  # here: the NumPy-only checkers do not pay for importing torch

    if value is None:
        raise forgot_return(case)
    if not isinstance(value, nn.Module):
        extra = f" {advice}" if advice else ""
        raise Mismatch(f"{case}:\nexpected a torch.nn.Module, got a {type(value).__name__}.{extra}")
    return value


def run_module(module, x, *, case: str, train: bool = False, hint=None):
    """``module(x)`` without gradients (train or eval mode); explain every way it can fail.

    A ``NotImplementedError`` means "not attempted yet" (a half-done class); any other
    exception, an output that is not a tensor, or NaN/infinity is a :class:`Mismatch` that
    names ``case`` and x's shape. ``hint``: a string, or a function of the exception that
    returns one, added to the message of an exception. ``x`` itself is never modified.
    """
    import torch  # here: the NumPy-only checkers do not pay for importing torch

    module.train(train)
    try:
        with torch.no_grad(), grading.guard(module):
            out = module(x.clone())
    except NotImplementedError as error:
        raise NotAttempted(
            "Replace every line `raise NotImplementedError(...)` (in __init__ and in forward) "
            "with your code, run that cell, then run this check again."
        ) from error
    except Exception as error:
        extra = f"\nHint: {hint(error) if callable(hint) else hint}" if hint else ""
        raise Mismatch(
            f"{case}:\nrunning your module on x of shape {tuple(x.shape)} raised "
            f"{type(error).__name__}: {error}{extra}"
        ) from error
    if not isinstance(out, torch.Tensor):
        raise Mismatch(f"{case}:\nyour module returned a {type(out).__name__}, not a tensor.")
    if not torch.isfinite(out).all():
        raise Mismatch(f"{case}:\nyour output contains NaN or infinity.")
    return out
