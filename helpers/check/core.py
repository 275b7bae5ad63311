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

A right answer passes in any reasonable type, and the conversions live here, for every
checker to use: :func:`whole_number` and :func:`real_number` take Python, NumPy and torch
scalars (0-d arrays and tensors too); :func:`whole_pair` and :func:`whole_shape` take
tuples, lists, 1-D arrays and tensors; :func:`compare` takes arrays, tensors and nested
lists, float64 or float32, with tolerances chosen by the answer's dtype
(:func:`tolerances`). :func:`forgot_return` is the one message for an answer that is None
(:func:`answer` calls the student's function and raises it).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import grading
from .grading import generator, rng, seed

__all__ = [
    "answer",
    "as_items",
    "expect_module",
    "forgot_return",
    "plain_number",
    "real_number",
    "show_pair",
    "tolerances",
    "whole_number",
    "whole_pair",
    "whole_shape",
    "run_module",
    "Mismatch",
    "NotAttempted",
    "Verdict",
    "call",
    "CaseHeading",
    "checker",
    "compare",
    "numbered_cases",
    "case_count",
    "generator",
    "rng",
    "seed",
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


def checker(exercise: str, title: str, *, forbid: Sequence[str] = ()):
    """Decorate ``evaluate(answer, ...) -> str`` into a checker that prints a Verdict.

    ``evaluate`` returns a short success note, or raises :class:`Mismatch` /
    :class:`NotAttempted`. Any other exception inside ``evaluate`` is reported as a
    failed check, never propagated.

    The checker ``run(answer)`` prints the verdict; ``run.verdict(answer)`` returns it;
    ``run.grade(answer)`` is grading mode (:mod:`helpers.check.grading`): hidden cases, the
    ``forbid`` list of dotted names (``"torch.nn.functional.conv1d"``) guarded while the
    answer runs, and an ``AssertionError`` whose message is the verdict when the answer is
    wrong.
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

        def grade(*args, points: float | None = None, **kwargs) -> float | None:
            """Grade the answer on the visible and the hidden cases (nbgrader's hidden tests).

            Returns None when every case passes (full marks). A wrong answer raises
            ``AssertionError`` with the verdict as its message (no marks). With ``points``,
            each case earns its share: when some cases pass and some fail, the failed
            verdicts are printed and the points earned are returned (nbgrader reads a
            number that a test cell returns as its partial score).
            """
            with grading.hidden_mode(exercise, forbid):
                if points is None:
                    result = verdict(*args, **kwargs)
                    if not result.passed:
                        raise AssertionError(str(result))
                    print(f"{result} (graded, hidden cases included)")
                    return None
                return _partial_credit(verdict, args, kwargs, float(points))

        run.verdict = verdict
        run.grade = grade
        run.exercise = exercise
        run.forbid = tuple(forbid)
        return run

    return decorate


def _partial_credit(verdict, args, kwargs, points: float) -> float | None:
    """Run the checker once per case; ``points`` times the share of cases that pass."""
    with grading.only_case(1) as count:
        results = [verdict(*args, **kwargs)]
    if count.total <= 1 or results[0].status == NOT_ATTEMPTED:
        if not results[0].passed:
            raise AssertionError(str(results[0]))
        print(f"{results[0]} (graded, hidden cases included)")
        return None
    for number in range(2, count.total + 1):
        with grading.only_case(number):
            results.append(verdict(*args, **kwargs))
    failed = [result for result in results if not result.passed]
    if not failed:
        print(
            f"{results[0].__class__(results[0].exercise, results[0].title, PASSED)}"
            f" ({count.total} cases, hidden ones included)"
        )
        return None
    passed = count.total - len(failed)
    report = "\n".join(str(result) for result in failed)
    if passed == 0:
        raise AssertionError(report)
    earned = round(points * passed / count.total, 2)
    print(f"{report}\n{passed} of {count.total} cases right: {earned:g} of {points:g} points.")
    return earned


class CaseHeading(str):
    """``"Case i of n"``, the name a verdict gives one test case; ``number`` is ``i``.

    A case that only grading mode runs (:mod:`helpers.check.grading`) says so:
    ``"Case 6 of 8 (hidden)"``.
    """

    number: int

    def __new__(cls, number: int, count: int, *, hidden: bool = False) -> CaseHeading:
        text = f"Case {number} of {count}" + (" (hidden)" if hidden else "")
        heading = super().__new__(cls, text)
        heading.number = number
        return heading


def case_count(items: Sequence, hidden: Sequence = ()) -> int:
    """How many cases :func:`numbered_cases` runs for ``items`` and ``hidden`` in this mode
    (for a success note: "5 cases match ..." to a student)."""
    return len(items) + (len(hidden) if grading.is_hidden() else 0)


def numbered_cases(items: Iterable, hidden: Iterable = ()) -> Iterator[tuple[CaseHeading, object]]:
    """Yield ``(CaseHeading(i, n), item)`` for the ``n`` test cases, ``i`` counting from 1.

    The one way checkers number their cases, so every verdict names its case alike::

        for heading, (x, w) in numbered_cases(cases, hidden=extra_cases):
            label = f"{heading} ({describe(x=x, w=w)})"  # "Case 2 of 5 (x: shape (7,), ...)"

    ``hidden``: more cases that only grading mode runs, after the others (the student never
    sees them). ``heading.number`` is ``i``, for checkers that seed each case differently.
    """
    items = list(items)
    shown = len(items)
    if grading.is_hidden():
        items += list(hidden)
    only = grading.select_cases(len(items))
    for number, item in enumerate(items, start=1):
        if only is None or only == number:
            yield CaseHeading(number, len(items), hidden=number > shown), item


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
        with grading.guard(fn):
            return fn(*args)
    except NotImplementedError as error:
        raise NotAttempted(
            "Replace the line `raise NotImplementedError(...)` with your code, run that "
            "cell, then run this check again."
        ) from error
    except Exception as error:
        raise Mismatch(f"{case}:\nyour function raised {type(error).__name__}: {error}") from error


def answer(fn, *args, case: str):
    """:func:`call` the student's ``fn(*args)`` for an answer: ``None`` is :func:`forgot_return`."""
    got = call(fn, *args, case=case)
    if got is None:
        raise forgot_return(case)
    return got


def forgot_return(
    case: str | None,
    subject: str = "you returned None",
    *,
    statement: str = "the `return` statement",
) -> Mismatch:
    """The one message for an answer that is ``None``: most often a forgotten ``return``.

    ``case``: the case label (``None`` for a message without one); ``subject``: what is
    None; ``statement``: what was probably forgotten, e.g. "`return dx, dw`".
    """
    text = f"{subject}. Did you forget {statement}?"
    return Mismatch(text if case is None else f"{case}:\n{text}")


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


_FLOAT32_RTOL = 1e-5
_FLOAT32_ATOL = 1e-5  # relative to the largest expected magnitude


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
