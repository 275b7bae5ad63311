"""Turn a returned answer into numbers: scalars, pairs and shapes in any reasonable type.

A right answer passes in any reasonable type, and the conversions live here, for every
checker to use: :func:`whole_number` and :func:`real_number` take Python, NumPy and torch
scalars (0-d arrays and tensors too); :func:`whole_pair` and :func:`whole_shape` take
tuples, lists, 1-D arrays and tensors. Each raises :class:`~helpers.check.core.Mismatch`
with the case's label when the value cannot be what was asked for. Arrays are
:mod:`helpers.check.arrays`' job.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .core import Mismatch, forgot_return

__all__ = ["as_items", "plain_number", "real_number", "whole_number", "whole_pair", "whole_shape"]


def plain_number(value):
    """A Python number for a NumPy scalar, a one-element array or tensor; else ``value``."""
    if isinstance(value, (bool, numbers.Number)) and not isinstance(value, np.generic):
        return value
    shape = getattr(value, "shape", None)
    if hasattr(value, "item") and shape is not None and math.prod(shape) == 1:
        try:
            return value.item()  # a NumPy or torch scalar, or a one-element array or tensor
        except (ValueError, RuntimeError, TypeError):
            return value
    return value


def _is_number(value) -> bool:
    value = plain_number(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_items(value) -> list | None:
    """The entries of a returned sequence: a tuple, list, ``torch.Size``, or a 1-D NumPy
    array or tensor (as Python numbers); ``None`` for anything else."""
    if isinstance(value, (tuple, list)):
        return list(value)
    if getattr(value, "ndim", None) == 1 and hasattr(value, "tolist"):
        if hasattr(value, "detach"):
            value = value.detach().cpu()
        return list(value.tolist())
    return None


def whole_number(value, *, case: str, name: str | None = None) -> int:
    """``value`` as an int, or a :class:`Mismatch` saying why not.

    Accepted: a Python int, a float with a whole value, a NumPy scalar, a 0-d (or
    one-element) NumPy array or torch tensor. ``name``: what the value is ("params");
    ``None`` for the function's whole result.
    """
    subject = f"your function returned {value!r}" if name is None else f"{name} is {value!r}"
    if value is None:
        if name is None:
            raise forgot_return(case, "your function returned None")
        raise Mismatch(f"{case}:\n{subject}; expected a whole number (an int).")
    value = plain_number(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise Mismatch(f"{case}:\n{subject}; expected a whole number (an int).")
    if not math.isfinite(value) or value != int(value):
        raise Mismatch(
            f"{case}:\n{subject}, which is not a whole number. Sizes and counts are "
            "whole numbers: use floor division // where the formula divides."
        )
    return int(value)


def real_number(value, *, case: str) -> float:
    """A returned number as a float (NumPy and torch scalars too), or a :class:`Mismatch`."""
    if value is None:
        raise forgot_return(case)
    number = plain_number(value)
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise Mismatch(f"{case}:\nexpected one number (a float), got {type(value).__name__}.")
    return float(number)


def whole_pair(got, *, case: str, names: tuple[str, str]) -> tuple[int, int]:
    """A returned pair of whole numbers, e.g. ``(params, macs)``, or a :class:`Mismatch`.

    The pair may be a tuple, a list, or a 1-D NumPy array or tensor of two entries.
    """
    pair = f"({names[0]}, {names[1]})"
    if got is None:
        raise forgot_return(case)
    items = as_items(got)
    if items is None:
        if _is_number(got):
            raise Mismatch(f"{case}:\nyou returned one number ({got!r}); expected a pair {pair}.")
        raise Mismatch(f"{case}:\nexpected a pair {pair}, got {got!r}.")
    if len(items) != 2:
        raise Mismatch(f"{case}:\nexpected a pair {pair}, got {len(items)} values: {got!r}.")
    first, second = (whole_number(v, case=case, name=n) for v, n in zip(items, names, strict=True))
    return first, second


def whole_shape(value, *, case: str, name: str) -> tuple[int, ...]:
    """A shape, a tuple of whole numbers (from a tuple, list, torch.Size, 1-D array or
    tensor), or a :class:`Mismatch` naming ``name``."""
    if value is None:
        raise Mismatch(f"{case}:\n{name} is None; expected a shape, a tuple of ints.")
    items = as_items(value)
    if items is None:
        raise Mismatch(f"{case}:\n{name} is {value!r}; expected a shape, a tuple of ints.")
    return tuple(whole_number(entry, case=case, name=f"an entry of {name}") for entry in items)
