"""Argument checking shared by the NumPy reference layers.

Every public function in ``helpers`` validates its input with these helpers, so that a
mistake gives a ``TypeError`` or ``ValueError`` that names the argument and says what was
expected, instead of a NumPy broadcasting error from deep inside.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(value, name: str, fname: str) -> np.ndarray:
    """Return ``value`` as a NumPy array of a floating dtype.

    Accepts NumPy arrays, nested lists and (detached, CPU) ``torch.Tensor`` objects.
    Integer and boolean input is converted to float64; float16/32/64 are kept.
    """
    if value is None:
        raise TypeError(f"{fname}: {name} must be an array, got None")
    is_tensor = hasattr(value, "detach") and hasattr(value, "cpu")
    try:
        array = np.asarray(value.detach().cpu() if is_tensor else value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{fname}: {name} must be array-like, got {type(value).__name__}"
        ) from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"{fname}: {name} must hold numbers, got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{fname}: {name} must be real, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def check_ndim(array: np.ndarray, name: str, fname: str, allowed: dict[int, str]) -> None:
    """Raise ``ValueError`` unless ``array.ndim`` is a key of ``allowed``.

    ``allowed`` maps a number of dimensions to its layout, e.g. ``{4: "(N, C_in, H, W)"}``.
    """
    if array.ndim not in allowed:
        layouts = " or ".join(f"{n} dimensions {layout}" for n, layout in allowed.items())
        raise ValueError(
            f"{fname}: {name} must have {layouts}; got {array.ndim} dimensions, "
            f"shape {tuple(array.shape)}"
        )


def as_int(value, name: str, fname: str, minimum: int) -> int:
    """Return ``value`` as an ``int`` >= ``minimum`` (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fname}: {name} must be an int, got {value!r}")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{fname}: {name} must be {bound}, got {value}")
    return int(value)


def as_tuple(value, name: str, fname: str, length: int, minimum: int) -> tuple[int, ...]:
    """Return an int or a sequence of ``length`` ints as a tuple of ``length`` ints.

    Each entry must be >= ``minimum``: ``minimum=1`` for stride, kernel size and
    dilation, ``minimum=0`` for padding.
    """
    if isinstance(value, (tuple, list)):
        if len(value) != length:
            raise ValueError(
                f"{fname}: {name} must be an int or a tuple of {length} ints, got {value!r}"
            )
        kind = "positive" if minimum == 1 else f">= {minimum}"
        for entry in value:
            if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
                raise TypeError(f"{fname}: {name} must contain ints, got {value!r}")
            if entry < minimum:
                raise ValueError(f"{fname}: every entry of {name} must be {kind}, got {value!r}")
        return tuple(int(entry) for entry in value)
    return (as_int(value, name, fname, minimum),) * length


def positive_ints(values, name: str, fname: str) -> tuple[int, ...]:
    """A sequence of positive ints (e.g. a shape) as a tuple; clear errors otherwise."""
    for entry in values:
        if isinstance(entry, bool) or not isinstance(entry, numbers.Integral):
            raise TypeError(f"{fname}: {name} must contain ints, got {tuple(values)!r}")
        if entry < 1:
            raise ValueError(
                f"{fname}: every entry of {name} must be positive, got {tuple(values)!r}"
            )
    return tuple(int(entry) for entry in values)
