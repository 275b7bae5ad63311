"""Compare a returned array with the reference and say exactly what differs.

:func:`compare` takes arrays, tensors and nested lists, float64 or float32, with
tolerances chosen by the answer's dtype (:func:`tolerances`); a failed comparison names the
case, the worst entry, a recognised mistake (``known_mistakes``) or a wrong shape.
:func:`to_numpy` converts any returned array-like (or explains why it cannot), and
:func:`describe` names a test case's arguments by their shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .core import Mismatch, forgot_return

__all__ = ["compare", "describe", "show_pair", "to_numpy", "tolerances"]

_FLOAT32_RTOL = 1e-5
_FLOAT32_ATOL = 1e-5  # relative to the largest expected magnitude


def to_numpy(value, *, case: str, name: str = "your output") -> np.ndarray:
    """Convert a returned value to a NumPy array, or explain why it cannot be one."""
    if value is None:
        raise forgot_return(case, f"{name} is None")
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
        if not value.is_floating_point() or value.element_size() >= 4:
            value = value.numpy()
        else:  # float16 and bfloat16 have no NumPy twin (bfloat16) or lose digits
            value = value.float().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise Mismatch(
            f"{case}:\n{name} is a {type(value).__name__}, which is not an array of numbers."
        ) from error
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise Mismatch(
            f"{case}:\n{name} is a {type(value).__name__} that is not an array of numbers "
            f"(dtype {array.dtype})."
        )
    return array


def describe(**arguments) -> str:
    """Describe a test case: arrays by their shape, everything else by its repr."""
    parts = []
    for name, value in arguments.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{name}.shape={tuple(value.shape)}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def tolerances(got: np.ndarray, expected, *, atol: float, rtol: float) -> tuple[float, float]:
    """``(atol, rtol)`` for comparing ``got`` with ``expected``, chosen by ``got``'s dtype.

    The given tolerances suit float64 answers. An answer in float32 (or float16) carries
    about 7 significant digits, so its tolerances are widened to at least ``rtol = 1e-5``
    and ``atol = 1e-5 * max |expected|``: rounding errors pass, typical mistakes
    (factors, wrong axes, a missing term) still do not.
    """
    got = np.asarray(got)
    if np.issubdtype(got.dtype, np.floating) and got.dtype.itemsize < 8:
        expected = np.asarray(expected, dtype=np.float64)
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        return max(atol, _FLOAT32_ATOL * scale), max(rtol, _FLOAT32_RTOL)
    return atol, rtol


def compare(
    got,
    expected: np.ndarray,
    *,
    case: str,
    name: str = "your output",
    atol: float = 1e-6,
    rtol: float = 1e-5,
    shape_hints: Sequence[tuple[tuple[int, ...], str]] = (),
    known_mistakes: Sequence[tuple[np.ndarray, str]] = (),
    float32_tolerance: bool = True,
) -> None:
    """Raise :class:`Mismatch` unless ``got`` equals ``expected`` (same shape, close values).

    Args:
        got: what the student's function returned: a NumPy array, a torch tensor, nested
            lists, or a number; float64 or float32.
        expected: the reference result.
        case: a one-line description of the test case, shown in the verdict.
        name: how to call ``got`` in messages.
        atol, rtol: tolerances of ``np.allclose`` for a float64 answer; a float32 answer
            gets wider ones (:func:`tolerances`) unless ``float32_tolerance`` is False.
        shape_hints: ``(shape, hint)`` pairs: if ``got`` has that (wrong) shape, show the hint.
        known_mistakes: ``(array, hint)`` pairs: if ``got`` equals that array (the result
            of a typical mistake), show the hint. Checked before the shape hints, so that
            a mistake recognised by its values is named even when the shape is wrong.
    """
    got = to_numpy(got, case=case, name=name)
    expected = np.asarray(expected)
    if float32_tolerance:
        atol, rtol = tolerances(got, expected, atol=atol, rtol=rtol)
    if got.shape != expected.shape:
        message = f"{case}:\n{name} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}."
        for mistake, hint in known_mistakes:
            if np.shape(mistake) == got.shape and _close(got, mistake, atol=atol, rtol=rtol):
                raise Mismatch(f"{message}\nHint: {hint}")
        for shape, hint in shape_hints:
            if tuple(got.shape) == tuple(shape):
                message += f"\nHint: {hint}"
                break
        else:
            if got.ndim == 2 and got.shape == expected.shape[::-1]:
                message += "\nHint: it looks transposed (rows and columns swapped)."
            elif got.size == expected.size:
                message += "\nHint: the right number of values in the wrong layout; check reshapes."
        raise Mismatch(message)
    if not np.all(np.isfinite(got)):
        raise Mismatch(f"{case}:\n{name} contains NaN or infinity.")
    if np.allclose(got, expected, atol=atol, rtol=rtol):
        return
    square = got.ndim == 2 and got.shape[0] == got.shape[1]
    if square and np.allclose(got.T, expected, atol=atol, rtol=rtol):
        known_mistakes = [
            *known_mistakes,
            (expected.T, "it looks transposed (rows and columns swapped)."),
        ]
    for mistake, hint in known_mistakes:
        if np.shape(mistake) == got.shape and _close(got, mistake, atol=atol, rtol=rtol):
            raise Mismatch(f"{case}:\nthe values are wrong. Hint: {hint}")
    error = np.abs(got.astype(np.float64) - expected)
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    wrong = int(np.sum(~np.isclose(got, expected, atol=atol, rtol=rtol)))
    shown_got, shown_expected = show_pair(got[worst], expected[worst])
    message = (
        f"{case}:\n{wrong} of {expected.size} values are wrong. The largest error is at index "
        f"{tuple(int(i) for i in worst)}: got {shown_got}, expected {shown_expected}."
    )
    if expected.size <= 16:
        shown_got, shown_expected = _fmt_arrays(got, expected)
        message += f"\ngot:\n{shown_got}\nexpected:\n{shown_expected}"
    raise Mismatch(message)


def _close(got: np.ndarray, other, *, atol: float, rtol: float) -> bool:
    other = np.asarray(other)
    if other.dtype == object or not np.all(np.isfinite(other)):
        return False
    return bool(np.allclose(got, other, atol=atol, rtol=rtol))


def show_pair(got, expected) -> tuple[str, str]:
    """Two numbers with 6 significant digits, or as many more as it takes to tell them apart."""
    got, expected = float(got), float(expected)
    for digits in range(6, 18):
        shown = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if shown[0] != shown[1]:
            break
    return shown


def _fmt_array(array: np.ndarray, precision: int = 4) -> str:
    return np.array2string(
        np.asarray(array, dtype=np.float64), precision=precision, suppress_small=True
    )


def _fmt_arrays(got: np.ndarray, expected: np.ndarray) -> tuple[str, str]:
    """Both arrays with 4 decimals, or as many more as it takes to tell them apart."""
    for precision in range(4, 18):
        shown = _fmt_array(got, precision), _fmt_array(expected, precision)
        if shown[0] != shown[1]:
            break
    return shown
