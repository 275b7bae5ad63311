"""The contract every checker keeps, as tests that the checker test modules share.

A checker must never raise, must print exactly one deterministic verdict, and must say
*what* is wrong. A test module lists its checkers as

    # checker -> (reference, {kind of mistake: (wrong answer, words the verdict must contain)})
    CASES = {check.max_pool2d_naive: (max_pool_loops, {"average": (avg_pool2d, ["average"])})}

and takes the contract's tests with

    (
        test_reference_answer_passes,
        test_not_attempted,
        test_wrong_answers_get_a_specific_verdict,
        test_verdicts_are_deterministic,
    ) = contract_tests(CASES, chapter="4")

- ``transposed(answer, *axes)``: a right answer whose result has its axes in the wrong
  order (channels last, batch and channel swapped, ...).
- ``reference``: the answer that must pass, or a list of answers that must each pass.
- An answer is what the checker is called with: one function (or a wrong non-function),
  or ``together(f, g)`` for a checker that takes several functions at once.
- The words ``["passed"]`` mark an answer that is no mistake: another right answer, which
  must pass.
- COMMON, the generic wrong answers, is added to the mistakes of every checker that takes
  one function, except where the module lists a mistake of the same name (say a "returns
  None" with more specific words). A checker that takes several functions lists its own.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from helpers.check import grading
from helpers.check.core import Verdict

PASSES = ["passed"]  # the words of an answer that must pass


def not_implemented(*args):
    raise NotImplementedError("Exercise x.y: implement it")


def crashes(*args):
    return [0][5]  # IndexError, whatever the arguments


def returns_none(*args):
    return None


COMMON = {
    "returns None": (returns_none, ["None", "return"]),
    "raises an error": (crashes, ["raised IndexError"]),
    "not a function": (42, ["Expected a function"]),
}


class Together(tuple):
    """The answers a checker takes at once, in order: ``check.ln_in_from_gn(ln, inorm)``."""


def together(*answers) -> Together:
    return Together(answers)


def transposed(answer, *axes):
    """A layout mistake: ``answer`` with the axes of its result permuted to ``axes``."""
    return lambda *args: answer(*args).transpose(*axes)


def arguments(answer) -> tuple:
    """What the checker is called with."""
    return tuple(answer) if isinstance(answer, Together) else (answer,)


def references(cases, checker) -> list:
    reference = cases[checker][0]
    return reference if isinstance(reference, list) else [reference]


def arity(cases, checker) -> int:
    """How many functions the checker takes."""
    return len(arguments(references(cases, checker)[0]))


def mistakes(cases, checker) -> dict:
    listed = cases[checker][1]
    generic = COMMON if arity(cases, checker) == 1 else {}
    return {**listed, **{kind: case for kind, case in generic.items() if kind not in listed}}


def name(checker) -> str:
    return checker.__name__


def fingerprint(value) -> object:
    """A hashable summary of an argument: the bytes of arrays and tensors, else a repr."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, (tuple, list)):
        return tuple(fingerprint(entry) for entry in value)
    if isinstance(value, dict):
        return tuple(sorted((key, fingerprint(entry)) for key, entry in value.items()))
    if callable(value):
        return ("callable", getattr(value, "__name__", type(value).__name__))
    return repr(value)


def recording(answer, log: list):
    """``answer`` that appends the fingerprint of every call (and forward) to ``log``."""
    if isinstance(answer, type):

        class Recorded(answer):
            def __init__(self, *args, **kwargs):
                log.append(fingerprint((args, kwargs)))
                super().__init__(*args, **kwargs)

            def forward(self, *args, **kwargs):
                log.append(fingerprint((args, kwargs)))
                return super().forward(*args, **kwargs)

        Recorded.__name__ = Recorded.__qualname__ = answer.__name__
        Recorded.__module__ = answer.__module__
        return Recorded

    @functools.wraps(answer)
    def recorded(*args, **kwargs):
        log.append(fingerprint((args, kwargs)))
        return answer(*args, **kwargs)

    return recorded


def all_references(cases) -> list:
    """``pytest.param(checker, answers)`` for every reference answer of every checker."""
    params = []
    for checker in cases:
        answers = references(cases, checker)
        for number, answer in enumerate(answers):
            label = name(checker) if len(answers) == 1 else f"{name(checker)}-{number}"
            params.append(pytest.param(checker, arguments(answer), id=label))
    return params


def all_mistakes(cases, *, passes: bool = True) -> list:
    """``pytest.param(checker, answers, words)`` for every listed answer that is no reference
    (``passes=False``: only the wrong ones, not the other right answers)."""
    return [
        pytest.param(checker, arguments(answer), words, id=f"{name(checker)}-{kind}")
        for checker in cases
        for kind, (answer, words) in mistakes(cases, checker).items()
        if passes or words != PASSES
    ]


def contract_tests(cases, *, chapter: str | None = None, says_where: bool = True):
    """The four contract tests for ``cases``, to be bound to ``test_...`` names in a module.

    ``chapter``: where given, every checker's exercise number must start with it.
    ``says_where``: the verdict of a wrong answer names the "Case" or the "function" at
    fault (False for modules with checkers that have no cases, or number "Step"s).
    """

    @pytest.mark.parametrize("checker, answers", all_references(cases))
    def test_reference_answer_passes(checker, answers, capsys):
        verdict = checker.verdict(*answers)
        assert verdict.passed, str(verdict)
        if chapter is not None:
            assert checker.exercise.startswith(f"{chapter}."), checker.exercise
        checker(*answers)  # the printing form: this verdict, nothing else
        printed = capsys.readouterr().out
        assert printed.startswith(f"✅ Exercise {checker.exercise} (") and "passed" in printed
        assert printed == f"{verdict}\n"

    @pytest.mark.parametrize("checker", list(cases), ids=name)
    def test_not_attempted(checker):
        verdict = checker.verdict(*[not_implemented] * arity(cases, checker))
        assert verdict.status == "not attempted", str(verdict)
        assert "not attempted yet" in str(verdict) and "NotImplementedError" in str(verdict)

    @pytest.mark.parametrize("checker, answers, words", all_mistakes(cases))
    def test_wrong_answers_get_a_specific_verdict(checker, answers, words, capsys):
        verdict = checker.verdict(*answers)  # must not raise
        assert isinstance(verdict, Verdict)
        text = str(verdict)
        if words == PASSES:  # another right answer
            assert verdict.passed, text
        else:
            assert verdict.status == "failed", text
            assert "not right yet" in text
            if says_where:
                assert "Case" in text or "function" in text
            for word in words:
                assert word in text, f"{word!r} not in verdict:\n{text}"
        checker(*answers)  # the printing form: one verdict, the same, no exception
        printed = capsys.readouterr().out
        assert printed.count("Exercise") == 1
        assert printed == f"{text}\n"

    @pytest.mark.parametrize("checker", list(cases), ids=name)
    def test_verdicts_are_deterministic(checker):
        wrong = next(a for a, words in cases[checker][1].values() if words != PASSES)
        for answers in [arguments(wrong), [crashes] * arity(cases, checker)]:
            assert str(checker.verdict(*answers)) == str(checker.verdict(*answers))

    return (
        test_reference_answer_passes,
        test_not_attempted,
        test_wrong_answers_get_a_specific_verdict,
        test_verdicts_are_deterministic,
    )


def grading_tests(cases, *, unrecorded=()) -> dict:
    """The contract of grading mode (``checker.grade``): tests by name, for a module to take
    with ``globals().update(grading_tests(CASES))``.

    ``unrecorded``: checkers whose answer takes no arguments, so that no recorder of its calls
    can see the hidden data (the module then tests that data its own way).

    A right answer earns full marks on the hidden cases too, and prints, never raises; every
    wrong answer (and one not attempted) raises ``AssertionError`` with the verdict's words;
    grading runs the answer on data that the student's check never showed it; every name
    the checker forbids exists.
    """

    @pytest.mark.parametrize("checker, answers", all_references(cases))
    def test_reference_answer_earns_full_marks(checker, answers, capsys):
        assert checker.grade(*answers) is None
        printed = capsys.readouterr().out
        assert printed.startswith(f"✅ Exercise {checker.exercise} (") and "graded" in printed

    @pytest.mark.parametrize("checker", list(cases), ids=name)
    def test_not_attempted_earns_nothing(checker):
        with pytest.raises(AssertionError, match="not attempted yet"):
            checker.grade(*[not_implemented] * arity(cases, checker))

    @pytest.mark.parametrize("checker, answers, words", all_mistakes(cases, passes=False))
    def test_wrong_answers_earn_nothing_and_say_why(checker, answers, words):
        with pytest.raises(AssertionError) as raised:
            checker.grade(*answers)
        text = str(raised.value)
        assert text.startswith(f"❌ Exercise {checker.exercise} (") and "not right yet" in text
        if "is not allowed in this exercise" in text:
            return  # this wrong answer calls a library function that the guard stops first
        for word in words:
            assert word in text, f"{word!r} not in the graded verdict:\n{text}"

    recorded = [checker for checker in cases if checker not in unrecorded]

    @pytest.mark.parametrize("checker", recorded, ids=name)
    def test_grading_uses_cases_the_student_never_saw(checker):
        answers = arguments(references(cases, checker)[0])
        seen, graded = [], []
        checker.verdict(*[recording(answer, seen) for answer in answers])
        checker.grade(*[recording(answer, graded) for answer in answers])
        assert seen and graded, "the reference answer was never called"
        assert set(graded) - set(seen), "grading mode calls the answer on no new data"

    @pytest.mark.parametrize("checker", list(cases), ids=name)
    def test_forbidden_names_exist(checker):
        for dotted in checker.forbid:
            assert grading._resolve(dotted) is not None, f"{dotted} cannot be imported"

    tests = (
        test_reference_answer_earns_full_marks,
        test_not_attempted_earns_nothing,
        test_wrong_answers_earn_nothing_and_say_why,
        test_grading_uses_cases_the_student_never_saw,
        test_forbidden_names_exist,
    )
    return {test.__name__: test for test in tests}
