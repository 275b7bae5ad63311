"""The nbgrader edition's builder (course/grading.py) and its points table, without nbgrader."""

from __future__ import annotations

import re

import nbformat
import pytest

from course import grading
from course.notebook import (
    BADGES_ID,
    BEGIN_CODE,
    BEGIN_MARKDOWN,
    COLAB_SETUP_ID,
    EXERCISE,
    SOLUTIONS,
    is_speaker_notes,
    notebooks,
)


@pytest.fixture(scope="module")
def built():
    """``{stem: (solution, source notebook, graded)}`` for every notebook."""
    points = grading.load_points()
    result = {}
    for path in notebooks(SOLUTIONS):
        solution = nbformat.read(path, as_version=4)
        nb, graded = grading.make_source_notebook(solution, f"solutions/{path.name}", points)
        result[path.stem] = (solution, nb, graded)
    return result


def _exercises(solution) -> set[str]:
    """Every exercise number of a solution notebook: code exercises and written ones."""
    numbers = set()
    for cell in solution.cells:
        if cell.cell_type == "code":
            numbers |= {f"{m[1]}.{m[2]}" for m in EXERCISE.finditer(cell.source)}
        elif (written := grading.written_exercise(cell)) is not None:
            numbers.add(written)
    return numbers


def test_the_points_table_has_one_entry_per_exercise(built):
    course = set().union(*(_exercises(solution) for solution, _, _ in built.values()))
    assert set(grading.load_points()) == course


def test_every_exercise_is_graded_once_with_its_points(built):
    table = grading.load_points()
    for stem, (solution, _, graded) in built.items():
        numbers = [number for number, _, _ in graded]
        assert sorted(numbers) == sorted(_exercises(solution)), stem
        for number, points, kind in graded:
            assert points == table[number].points
            assert (kind == "partial") == table[number].partial or kind == "written"


def _meta(cell) -> dict:
    return cell.metadata["nbgrader"]


def test_cells_get_their_nbgrader_roles(built):
    for stem, (_, nb, _) in built.items():
        ids = [_meta(cell)["grade_id"] for cell in nb.cells]
        assert len(ids) == len(set(ids)), f"{stem}: grade ids repeat"
        for cell in nb.cells:
            meta = _meta(cell)
            assert meta["schema_version"] == 3 and not meta["task"]
            assert not is_speaker_notes(cell) and cell.id not in (BADGES_ID, COLAB_SETUP_ID)
            assert not cell.get("outputs") and cell.get("execution_count") is None
            if cell.cell_type == "code" and BEGIN_CODE in cell.source:  # an answer
                assert meta["solution"] and not meta["grade"] and not meta["locked"]
            elif meta["grade"] and meta["solution"]:  # a written answer, graded by hand
                assert cell.cell_type == "markdown" and meta["points"] > 0
                assert cell.id.endswith("-answer") and BEGIN_MARKDOWN not in cell.source
            elif meta["grade"]:  # a test cell
                assert meta["locked"] and meta["points"] > 0
            else:
                assert meta["locked"], f"{stem} {cell.id} is neither graded nor locked"


def test_test_cells_keep_the_visible_check_and_add_the_hidden_grade(built):
    table = grading.load_points()
    for stem, (_, nb, _) in built.items():
        for cell in nb.cells:
            if not _meta(cell)["grade"] or _meta(cell)["solution"]:
                continue
            visible, hidden = cell.source.split(f"\n{grading.BEGIN_HIDDEN}\n")
            name, arguments = grading.CHECK_CALL.match(visible).group("name", "arguments")
            from helpers import check

            number = getattr(check, name).exercise
            call = f"check.{name}.grade({arguments}"
            if table[number].partial:
                call += f", points={table[number].points:g}"
            assert hidden == f"{call})\n{grading.END_HIDDEN}", f"{stem} {cell.id}"


def test_a_written_exercise_splits_into_question_and_answer(built):
    _, nb, _ = built["01_convolution"]
    cells = {cell.id: cell for cell in nb.cells}
    question, answer = cells["ex-1-4b"], cells["ex-1-4b-answer"]
    assert question.source.startswith("### Exercise 1.4b (written)")
    assert BEGIN_MARKDOWN not in question.source and "**Answer.**" in answer.source
    assert _meta(question)["locked"] and not _meta(question)["grade"]


def test_the_solution_notebooks_are_not_changed(built):
    for stem, (solution, _, _) in built.items():
        assert solution == nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[other]\n", "cannot read the \\[exercises\\] table"),
        ('[exercises]\n"1.1" = 0\n', "positive number"),
        ('[exercises]\n"1.1" = true\n', "positive number"),
        ('[exercises]\n"1.1" = { points = 2, parital = true }\n', "partial = true"),
        ("[exercises\n", "cannot read"),
    ],
)
def test_a_bad_points_table_is_refused_clearly(tmp_path, text, message):
    path = tmp_path / "points.toml"
    path.write_text(text)
    with pytest.raises(grading.GradingError, match=message):
        grading.load_points(path)


def test_an_exercise_missing_from_the_table_is_named(tmp_path):
    path = tmp_path / "points.toml"
    path.write_text('[exercises]\n"0.1" = 1\n')
    with pytest.raises(grading.GradingError, match="exercise 1.1 has no entry"):
        grading.build(["01"], out=tmp_path / "course", points_path=path)


def test_a_stale_entry_in_the_table_is_named(tmp_path):
    path = tmp_path / "points.toml"
    path.write_text(grading.POINTS.read_text() + '"99.1" = 2\n')
    with pytest.raises(grading.GradingError, match="99.1"):
        grading.build([], out=tmp_path / "course", points_path=path)


def test_the_command_writes_a_course_folder_and_prints_the_points(tmp_path, capsys):
    assert grading.main(["01", "03", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    table = grading.load_points()
    first = sum(p.points for n, p in table.items() if n.startswith("1."))
    third = sum(p.points for n, p in table.items() if n.startswith("3."))
    assert re.search(rf"01_convolution\s+\d+\s+3\s+{first:g}\n", printed)
    assert re.search(rf"total\s+{first + third:g}\n", printed)
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout = 120" in config and "NotImplementedError" in config
    compile(config, "nbgrader_config.py", "exec")
    assert (tmp_path / "source" / "01_convolution" / "01_convolution.ipynb").is_file()
    assert not (tmp_path / "source" / "02_padding_stride_dilation").exists()


def test_the_command_refuses_an_unknown_notebook(tmp_path, capsys):
    assert grading.main(["99", "--out", str(tmp_path)]) == 2
    assert "99" in capsys.readouterr().err
