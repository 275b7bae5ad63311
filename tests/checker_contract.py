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

import pytest

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


def contract_tests(cases, *, chapter: str | None = None, says_where: bool = True):
    """The four contract tests for ``cases``, to be bound to ``test_...`` names in a module.

    ``chapter``: where given, every checker's exercise number must start with it.
    ``says_where``: the verdict of a wrong answer names the "Case" or the "function" at
    fault (False for modules with checkers that have no cases, or number "Step"s).
    """

    def all_references():
        for checker in cases:
            answers = references(cases, checker)
            for number, answer in enumerate(answers):
                label = name(checker) if len(answers) == 1 else f"{name(checker)}-{number}"
                yield pytest.param(checker, arguments(answer), id=label)

    def all_mistakes():
        for checker in cases:
            for kind, (answer, words) in mistakes(cases, checker).items():
                yield pytest.param(checker, arguments(answer), words, id=f"{name(checker)}-{kind}")

    @pytest.mark.parametrize("checker, answers", list(all_references()))
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

    @pytest.mark.parametrize("checker, answers, words", list(all_mistakes()))
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
