"""The nbgrader edition, end to end, with nbgrader's own commands (offline).

One course folder from ``python -m course nbgrader``; for every notebook nbgrader releases
the assignment and autogrades submissions:

* every notebook: a student who submits the solutions (full marks on every autograded cell)
  and one who submits the release untouched (zero everywhere, nothing crashes);
* three notebooks (01, 04, 11) also: a typical wrong answer in one exercise (exactly that
  exercise's points lost, its verdict in the feedback), an answer that never returns (the
  per-cell timeout stops it, that exercise scores zero, the others are graded), and a student
  who edited a locked test cell (nbgrader flags it and grades the original).

Every score is read back from nbgrader's gradebook.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

nbgrader_api = pytest.importorskip("nbgrader.api", reason="nbgrader: pip install -e .[grading]")

from course import grading  # noqa: E402
from course.notebook import BEGIN_CODE, END_CODE, EXERCISE, stems  # noqa: E402

HANG_TIMEOUT = 20  # seconds per cell when autograding the three notebooks with a hanging answer
NOTEBOOKS = stems()  # every notebook of the course


def _region_replaced(source: str, body: str) -> str:
    """``source`` with its solution region (markers included) replaced by ``body``."""
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN_CODE)
    end = next(i for i, line in enumerate(lines) if line.strip() == END_CODE)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    new = [indent + line if line else line for line in body.strip("\n").split("\n")]
    return "\n".join(lines[:begin] + new + lines[end + 1 :])


# Typical wrong answers (a function body each), written as a student would
CONV2D_FLIPPED = """
(h, wd), (kh, kw) = x.shape, w.shape
flipped = w[::-1, ::-1]  # a true convolution: the kernel flipped
y = np.zeros((h - kh + 1, wd - kw + 1))
for i in range(h - kh + 1):
    for j in range(wd - kw + 1):
        y[i, j] = np.sum(x[i : i + kh, j : j + kw] * flipped)
return y
"""

MAX_POOL_AVERAGES = """
from numpy.lib.stride_tricks import sliding_window_view

k = kernel_size
windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
return windows.mean(axis=(-2, -1))  # average pooling, not max
"""

CONV3D_COST_NO_BIAS = """
c_in, *sizes = in_shape
k, s, p = ((v,) * 3 if isinstance(v, int) else tuple(v) for v in (kernel_size, stride, padding))
out = [conv_output_size(n, kk, ss, pp) for n, kk, ss, pp in zip(sizes, k, s, p, strict=True)]
per_output = c_in * k[0] * k[1] * k[2]
params = out_channels * per_output  # the biases forgotten
macs = out_channels * out[0] * out[1] * out[2] * per_output
return params, macs
"""

# For three notebooks: a typical wrong answer (exercise cell, body, a word of its verdict), an
# answer that never returns (exercise cell), and a wrong answer whose test cell was edited to
# hide it (exercise cell, its test cell, the wrong body)
WRONG = {
    "01_convolution": ("ex-1-2", CONV2D_FLIPPED, "flipped"),
    "04_pooling": ("ex-4-1", MAX_POOL_AVERAGES, "average"),
    "11_beyond_images": ("ex-11-3", CONV3D_COST_NO_BIAS, "not right yet"),
}
HANGS = {"01_convolution": "ex-1-3", "04_pooling": "ex-4-2", "11_beyond_images": "ex-11-2"}
TAMPERED = {
    "01_convolution": ("ex-1-5", "check-1-5", "return np.zeros((1, 1))"),
    "04_pooling": ("ex-4-3", "check-4-3", "return 0.5"),
    "11_beyond_images": ("ex-11-1", "check-11-1", "return [], 0"),
}
DETAILED = sorted(WRONG)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cells(nb: dict) -> dict[str, dict]:
    return {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in nb["cells"]}


def _replace_answer(nb: dict, cell_id: str, body: str) -> dict:
    nb = json.loads(json.dumps(nb))
    cell = _cells(nb)[cell_id]
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    cell["source"] = _region_replaced(source, body)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build, release, submit, autograde and give feedback; return what a test reads."""
    course = tmp_path_factory.mktemp("nbgrader-course")
    built = grading.build(NOTEBOOKS, out=course)
    logs, sources = {}, {}
    for stem, _ in built:
        grading.run_nbgrader(["generate_assignment", stem, "--force"], course)
        source = grading.read_assignment(course, "source", stem)
        release = grading.read_assignment(course, "release", stem)
        sources[stem] = source
        solved = grading.solved_submission(release, source)
        grading.submit(course, "solutions", stem, solved)
        grading.submit(course, "untouched", stem, release)
        extra = []
        if stem in DETAILED:
            cell_id, body, _ = WRONG[stem]
            grading.submit(course, "wrong", stem, _replace_answer(solved, cell_id, body))
            hangs = _replace_answer(solved, HANGS[stem], "while True:\n    pass")
            grading.submit(course, "hangs", stem, hangs)
            exercise, check_id, wrong_body = TAMPERED[stem]
            tampered = _replace_answer(solved, exercise, wrong_body)
            _cells(tampered)[check_id]["source"] = "print('all tests pass')"
            grading.submit(course, "tamperer", stem, tampered)
            extra = [f"--Execute.timeout={HANG_TIMEOUT}"]
        result = grading.run_nbgrader(["autograde", stem, *extra], course)
        logs[stem] = result.stdout + result.stderr
        grading.run_nbgrader(["generate_feedback", stem], course)
    return course, built, sources, logs


def _grades(course: Path, stem: str, student: str) -> dict[str, tuple[float, float, bool]]:
    """grade_id -> (score, max_score, needs a grade by hand) of every graded cell."""
    with nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(stem, stem, student)
        return {
            grade.name: (grade.score, grade.max_score, grade.needs_manual_grade)
            for grade in notebook.grades
        }


def _autograded(source: dict) -> dict[str, float]:
    """grade_id -> points of the autograded (test) cells of a source notebook."""
    return {
        meta["grade_id"]: meta["points"]
        for meta in (cell["metadata"]["nbgrader"] for cell in source["cells"])
        if meta["grade"] and not meta["solution"]
    }


def _feedback(course: Path, student: str, stem: str) -> str:
    page = course / "feedback" / student / stem / f"{stem}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_every_notebook_is_graded(graded):
    _, built, _, _ = graded
    assert [stem for stem, _ in built] == NOTEBOOKS == stems()


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_the_solutions_earn_full_marks(graded, stem):
    course, _, sources, _ = graded
    grades = _grades(course, stem, "solutions")
    tests = _autograded(sources[stem])
    assert tests, f"{stem} has no autograded cell"
    for grade_id, points in tests.items():
        assert grades[grade_id] == (points, points, False), f"{stem} {grade_id}: {grades[grade_id]}"
    for grade_id, (_, maximum, by_hand) in grades.items():
        if grade_id not in tests:  # a written answer: waits for the instructor
            assert by_hand and maximum > 0, (grade_id, grades[grade_id])


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_the_untouched_release_earns_nothing(graded, stem):
    course, _, _, _ = graded
    grades = _grades(course, stem, "untouched")
    assert grades and all(score == 0 for score, _, _ in grades.values()), grades
    assert not any(by_hand for _, _, by_hand in grades.values())  # blank answers: zero at once


@pytest.mark.parametrize("stem", DETAILED)
def test_a_wrong_answer_loses_exactly_its_points_and_says_why(graded, stem):
    course, _, sources, _ = graded
    exercise_id, _, word = WRONG[stem]
    check_id = _check_of(sources[stem], exercise_id)
    grades = _grades(course, stem, "wrong")
    for grade_id, points in _autograded(sources[stem]).items():
        expected = 0 if grade_id == check_id else points
        assert grades[grade_id][0] == expected, (grade_id, grades[grade_id])
    feedback = _feedback(course, "wrong", stem)
    exercise = EXERCISE.search("".join(_cells(sources[stem])[exercise_id]["source"]))
    assert f"❌ Exercise {exercise[1]}.{exercise[2]} (" in feedback
    assert "not right yet" in feedback and word in feedback


@pytest.mark.parametrize("stem", DETAILED)
def test_an_answer_that_never_returns_is_stopped_and_the_rest_graded(graded, stem):
    course, _, sources, _ = graded
    check_id = _check_of(sources[stem], HANGS[stem])
    grades = _grades(course, stem, "hangs")
    for grade_id, points in _autograded(sources[stem]).items():
        expected = 0 if grade_id == check_id else points
        assert grades[grade_id][0] == expected, (grade_id, grades[grade_id])
    assert "CellTimeoutError" in _feedback(course, "hangs", stem) or "KeyboardInterrupt" in (
        _feedback(course, "hangs", stem)
    )


@pytest.mark.parametrize("stem", DETAILED)
def test_an_edited_test_cell_is_flagged_and_graded_as_released(graded, stem):
    course, _, sources, logs = graded
    exercise_id, check_id, _ = TAMPERED[stem]
    assert re.search(
        rf"Attribute 'checksum' for cell {re.escape(check_id)} has changed", logs[stem]
    )
    grades = _grades(course, stem, "tamperer")
    assert grades[check_id][0] == 0  # the original test ran, and the wrong answer failed it
    autograded = course / "autograded" / "tamperer" / stem / f"{stem}.ipynb"
    cell = _cells(_read(autograded))[check_id]
    assert "all tests pass" not in "".join(cell["source"])


def _check_of(source: dict, exercise_id: str) -> str:
    """The grade id of the test cell that follows the exercise cell ``exercise_id``."""
    ids = [cell["metadata"]["nbgrader"]["grade_id"] for cell in source["cells"]]
    tests = _autograded(source)
    return next(grade_id for grade_id in ids[ids.index(exercise_id) :] if grade_id in tests)
