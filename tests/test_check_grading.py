"""Grading mode (helpers.check.grading): hidden cases, the guard, partial credit by case."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.check import core, grading
from helpers.check.core import Mismatch, call, checker, numbered_cases


def test_seeds_move_only_in_grading_mode():
    assert grading.seed(11) == 11 and not grading.is_hidden()
    student = grading.rng(11).standard_normal(3)
    np.testing.assert_array_equal(student, np.random.default_rng(11).standard_normal(3))
    with grading.hidden_mode("1.1"):
        assert grading.is_hidden() and grading.seed(11) == 11 + grading.HIDDEN_SEED_SHIFT
        hidden = grading.rng(11).standard_normal(3)
        assert not torch.equal(
            torch.randn(3, generator=grading.generator(5)),
            torch.randn(3, generator=torch.Generator().manual_seed(5)),
        )
    assert not np.allclose(student, hidden)
    assert not grading.is_hidden()  # the mode ends with its block


def test_hidden_cases_run_only_when_graded_and_say_so():
    assert [str(h) for h, _ in numbered_cases("ab", hidden="c")] == ["Case 1 of 2", "Case 2 of 2"]
    with grading.hidden_mode():
        headings = [str(h) for h, _ in numbered_cases("ab", hidden="c")]
    assert headings == ["Case 1 of 3", "Case 2 of 3", "Case 3 of 3 (hidden)"]


def conv1d_by_torch(x, w):
    return F.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None])[0, 0].numpy()


def test_the_guard_stops_forbidden_calls_however_they_are_named_and_restores_them():
    original = F.conv1d
    namespace = {"my_conv": F.conv1d}
    answer = eval("lambda: my_conv", namespace)  # a student's global name bound to it
    with grading.hidden_mode("1.1", forbid=["torch.nn.functional.conv1d"]):
        with grading.guard(answer):
            assert F.conv1d is not original and torch.conv1d is not original
            assert namespace["my_conv"] is not original
            with pytest.raises(grading.NotAllowed, match=r"conv1d is not allowed.*Exercise 1\.1"):
                F.conv1d(torch.ones(1, 1, 3), torch.ones(1, 1, 2))
        with pytest.raises(ZeroDivisionError), grading.guard(answer):
            1 / 0  # noqa: B018 (restored on the way out of an error too)
    assert F.conv1d is original and torch.conv1d is original and namespace["my_conv"] is original


def test_the_guard_does_nothing_for_students():
    with grading.guard(conv1d_by_torch):
        assert F.conv1d(torch.ones(1, 1, 3), torch.ones(1, 1, 2)).shape == (1, 1, 2)


def test_an_answer_that_is_the_forbidden_function_is_refused():
    with grading.hidden_mode("1.1", forbid=["torch.nn.functional.conv1d"]):
        with pytest.raises(Mismatch, match=r"is \(or extends\) torch.nn.functional.conv1d"):
            call(F.conv1d, torch.ones(1, 1, 3), torch.ones(1, 1, 2), case="Case 1")


def test_a_missing_optional_library_is_skipped():
    with grading.hidden_mode(forbid=["no_such_library.function"]), grading.guard(len):
        assert len("abc") == 3


@checker("0.0", "half of the cases", forbid=["torch.nn.functional.conv1d"])
def _halves(student_fn) -> str:
    for heading, value in numbered_cases([1, 2, 3, 4], hidden=[5, 6]):
        got = call(student_fn, value, case=str(heading))
        if got != 2 * value:
            raise Mismatch(f"{heading}:\nexpected {2 * value}, got {got}.")
    return "doubled."


def test_grade_raises_the_verdict_and_prints_a_pass():
    assert _halves.grade(lambda v: 2 * v) is None
    with pytest.raises(AssertionError, match=r"❌ Exercise 0\.0 .*\n.*Case 5 of 6 \(hidden\)"):
        _halves.grade(lambda v: 2 * v if v < 5 else 0)
    with pytest.raises(AssertionError, match="not attempted yet"):
        _halves.grade(lambda v: (_ for _ in ()).throw(NotImplementedError))
    assert _halves.verdict(lambda v: 2 * v if v < 5 else 0).passed  # students see 4 cases


def test_partial_credit_gives_each_case_its_share(capsys):
    assert _halves.grade(lambda v: 2 * v, points=3) is None
    earned = _halves.grade(lambda v: 2 * v if v % 2 else 0, points=3)  # cases 1, 3, 5 pass
    assert earned == 1.5
    printed = capsys.readouterr().out
    assert "Case 2 of 6" in printed and "Case 6 of 6 (hidden)" in printed
    assert "3 of 6 cases right: 1.5 of 3 points." in printed
    with pytest.raises(AssertionError, match="Case 1 of 6"):
        _halves.grade(lambda v: -1, points=3)  # nothing right: no marks, and why


def test_checkers_know_their_forbidden_names():
    from helpers import check

    assert "torch.nn.functional.conv1d" in check.conv1d_naive.forbid
    assert core.checker  # the decorator is the one place that builds .grade


def test_a_subclass_or_instance_of_a_forbidden_class_is_refused():
    from helpers.models import LeNet5

    class Mine(LeNet5):
        pass

    with grading.hidden_mode("8.1", forbid=["helpers.models.LeNet5"]):
        for answer in (LeNet5, Mine, Mine()):
            with pytest.raises(grading.NotAllowed, match="extends"), grading.guard(answer):
                pass
        with grading.guard(torch.nn.Conv2d):  # an unrelated class is fine
            pass
