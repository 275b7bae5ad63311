"""The checker framework: run a student's answer on test cases and print one verdict.

A checker never raises. It prints exactly one deterministic verdict:

* ``passed``: every case matches the reference;
* ``not attempted yet``: the function still raises ``NotImplementedError``;
* ``not right yet``: which case failed, what was expected and what came back, and a hint.

Checkers are written as plain functions that raise :class:`Mismatch` (through the helpers
below) and are wrapped with :func:`checker`::

    @checker("1.1", "conv1d_naive")
    def conv1d_naive(student_fn):
        for case in cases:
            got = call(student_fn, case.args, case=case.label)
            compare(got, expected, case=case.label)
        return "5 cases match torch.nn.functional.conv1d"

``conv1d_naive(fn)`` prints the verdict; ``conv1d_naive.verdict(fn)`` returns it.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "expect_module",
    "whole_number",
    "whole_pair",
    "run_module",
    "Mismatch",
    "NotAttempted",
    "Verdict",
    "call",
    "checker",
    "compare",
    "describe",
    "to_numpy",
]

PASSED, NOT_ATTEMPTED, FAILED = "passed", "not attempted", "failed"
_SYMBOLS = {PASSED: "✅", NOT_ATTEMPTED: "⏳", FAILED: "❌"}


class Mismatch(Exception):
    """Raised inside a checker when the answer is wrong; the message is shown as is."""


class NotAttempted(Exception):
    """Raised inside a checker when the exercise still raises NotImplementedError."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``status`` is "passed", "not attempted" or "failed"."""

    exercise: str
    title: str
    status: str
    details: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def __str__(self) -> str:
        head = f"{_SYMBOLS[self.status]} Exercise {self.exercise} ({self.title}): "
        if self.status == PASSED:
            head += "passed"
        elif self.status == NOT_ATTEMPTED:
            head += "not attempted yet"
        else:
            head += "not right yet"
        if not self.details:
            return head
        body = "\n".join("   " + line if line else "" for line in self.details.splitlines())
        return f"{head}\n{body}"


def checker(exercise: str, title: str):
    """Decorate ``evaluate(answer, ...) -> str`` into a checker that prints a Verdict.

    ``evaluate`` returns a short success note, or raises :class:`Mismatch` /
    :class:`NotAttempted`. Any other exception inside ``evaluate`` is reported as a
    failed check, never propagated.
    """

    def decorate(evaluate: Callable[..., str]):
        def verdict(*args, **kwargs) -> Verdict:
            try:
                note = evaluate(*args, **kwargs)
            except NotAttempted as error:
                return Verdict(exercise, title, NOT_ATTEMPTED, str(error))
            except Mismatch as error:
                return Verdict(exercise, title, FAILED, str(error))
            except Exception as error:  # a bug in the answer that escaped `call`
                return Verdict(
                    exercise,
                    title,
                    FAILED,
                    f"Checking your answer raised {type(error).__name__}: {error}",
                )
            return Verdict(exercise, title, PASSED, note or "")

        @functools.wraps(evaluate)
        def run(*args, **kwargs) -> None:
            print(verdict(*args, **kwargs))

        run.verdict = verdict
        run.exercise = exercise
        return run

    return decorate


def call(fn, *args, case: str):
    """Call the student's ``fn(*args)``; turn its exceptions into a verdict.

    Arguments are copied first, so a function that modifies its input in place does not
    corrupt the next case.
    """
    if not callable(fn):
        raise Mismatch(
            f"Expected a function, got {type(fn).__name__}. Pass the function itself, "
            "without calling it: check.name(my_function), not check.name(my_function())."
        )
    args = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
    try:
        return fn(*args)
    except NotImplementedError as error:
        raise NotAttempted(
            "Replace the line `raise NotImplementedError(...)` with your code, run that "
            "cell, then run this check again."
        ) from error
    except Exception as error:
        raise Mismatch(f"{case}:\nyour function raised {type(error).__name__}: {error}") from error


def whole_number(value, *, case: str, name: str | None = None) -> int:
    """``value`` as an int (NumPy and torch scalars too), or a :class:`Mismatch` saying why not.

    ``name``: what the value is ("params"); ``None`` for the function's whole result.
    """
    subject = f"your function returned {value!r}" if name is None else f"{name} is {value!r}"
    if value is None:
        raise Mismatch(f"{case}:\n{subject}. Did you forget the `return` statement?")
    if hasattr(value, "item"):
        try:
            value = value.item()  # a NumPy or torch scalar (or one-element array)
        except (ValueError, RuntimeError):
            pass  # several elements: refused below
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise Mismatch(f"{case}:\n{subject}; expected a whole number (an int).")
    if value != int(value):
        raise Mismatch(
            f"{case}:\n{subject}, which is not a whole number. Sizes and counts are "
            "integers: use floor division // where the formula divides."
        )
    return int(value)


def whole_pair(got, *, case: str, names: tuple[str, str]) -> tuple[int, int]:
    """A returned pair of whole numbers, e.g. ``(params, macs)``, or a :class:`Mismatch`."""
    if got is None:
        raise Mismatch(f"{case}:\nyou returned None. Did you forget the `return` statement?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(f"{case}:\nexpected a pair ({names[0]}, {names[1]}), got {got!r}.")
    first, second = (whole_number(v, case=case, name=n) for v, n in zip(got, names, strict=True))
    return first, second


def expect_module(value, *, case: str, advice: str = ""):
    """``value`` if it is a ``torch.nn.Module``; otherwise a :class:`Mismatch` saying what it is.

    ``advice``: a sentence appended to the message, e.g. how to pass a class.
    """
    from torch import nn  # here: the NumPy-only checkers do not pay for importing torch

    if value is None:
        raise Mismatch(f"{case}:\nyou returned None. Did you forget the `return` statement?")
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
        with torch.no_grad():
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


def to_numpy(value, *, case: str, name: str = "your output") -> np.ndarray:
    """Convert a returned value to a NumPy array, or explain why it cannot be one."""
    if value is None:
        raise Mismatch(f"{case}:\n{name} is None. Did you forget the `return` statement?")
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
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
) -> None:
    """Raise :class:`Mismatch` unless ``got`` equals ``expected`` (same shape, close values).

    Args:
        got: what the student's function returned.
        expected: the reference result.
        case: a one-line description of the test case, shown in the verdict.
        name: how to call ``got`` in messages.
        atol, rtol: tolerances of ``np.allclose``.
        shape_hints: ``(shape, hint)`` pairs: if ``got`` has that (wrong) shape, show the hint.
        known_mistakes: ``(array, hint)`` pairs: if ``got`` equals that array (the result
            of a typical mistake), show the hint.
    """
    got = to_numpy(got, case=case, name=name)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        message = f"{case}:\n{name} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}."
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
        if np.shape(mistake) == got.shape and np.allclose(got, mistake, atol=atol, rtol=rtol):
            raise Mismatch(f"{case}:\nthe values are wrong. Hint: {hint}")
    error = np.abs(got.astype(np.float64) - expected)
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    wrong = int(np.sum(~np.isclose(got, expected, atol=atol, rtol=rtol)))
    message = (
        f"{case}:\n{wrong} of {expected.size} values are wrong. The largest error is at index "
        f"{tuple(int(i) for i in worst)}: got {_fmt(got[worst])}, expected {_fmt(expected[worst])}."
    )
    if expected.size <= 16:
        message += f"\ngot:\n{_fmt_array(got)}\nexpected:\n{_fmt_array(expected)}"
    raise Mismatch(message)


def _fmt(value) -> str:
    return f"{float(value):.6g}"


def _fmt_array(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array, dtype=np.float64), precision=4, suppress_small=True)
