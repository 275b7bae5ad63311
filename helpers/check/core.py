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

A checker builds on the rest of this package: :mod:`~helpers.check.answers` turns a
returned scalar, pair or shape into numbers (any reasonable type), :mod:`~helpers.check.arrays`
compares arrays and explains the difference, :mod:`~helpers.check.modules` runs an answer that
is an ``nn.Module``, and :mod:`~helpers.check.grading` is grading mode. Here:
:func:`numbered_cases` numbers every checker's cases alike, :func:`call` runs the student's
function, and :func:`forgot_return` is the one message for an answer that is None
(:func:`answer` calls the student's function and raises it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from . import grading

__all__ = [
    "CaseHeading",
    "Mismatch",
    "NotAttempted",
    "Verdict",
    "answer",
    "call",
    "case_count",
    "checker",
    "forgot_return",
    "numbered_cases",
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
