"""The release tool: solution regions replaced, --check, and a student's work protected."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import release as rel

EXERCISE_CELL = """\
# Exercise 2.3: output_size
def output_size(n, k):
    \"\"\"n, k: ints -> int.\"\"\"
    if n < 0:
        raise ValueError("n")
    ### BEGIN SOLUTION
    result = n - k + 1
    return result
    ### END SOLUTION
"""


def _solution() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    question = "**Exercise 2.4 (written).** Why?\n\n<!-- BEGIN SOLUTION -->\nBecause.\n"
    question += "<!-- END SOLUTION -->\n\nThe end."
    nb.cells = [
        new_markdown_cell("# Title", id="title"),
        new_code_cell("x = 1\nprint(x)", id="setup", execution_count=1),
        new_code_cell(EXERCISE_CELL, id="ex-2-3", execution_count=2),
        new_markdown_cell(question, id="written"),
    ]
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells[1].metadata["slideshow"] = {"slide_type": "slide"}
    return nb


@pytest.fixture
def course(tmp_path: Path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nbformat.write(_solution(), solutions / "02_demo.ipynb")
    return solutions, notebooks


def _run(course, *extra: str) -> int:
    solutions, notebooks = course
    return rel.main(["--solutions", str(solutions), "--notebooks", str(notebooks), *extra])


def _student(course) -> nbformat.NotebookNode:
    return nbformat.read(course[1] / "02_demo.ipynb", as_version=4)


def test_code_region_becomes_raise_with_indent_kept(course):
    assert _run(course) == 0
    source = _student(course).cells[2].source
    assert '    raise NotImplementedError("Exercise 2.3: output_size")' in source
    assert "n - k + 1" not in source and "SOLUTION" not in source
    assert 'raise ValueError("n")' in source, "code outside the region is kept"
    compile(source, "cell", "exec")


def test_markdown_region_becomes_prompt(course):
    _run(course)
    source = _student(course).cells[3].source
    assert "Because." not in source and "SOLUTION" not in source
    assert rel.ANSWER_PROMPT in source
    assert source.startswith("**Exercise 2.4 (written).**") and source.endswith("The end.")


def test_outputs_cleared_and_metadata_kept(course):
    _run(course)
    nb = _student(course)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert [cell.id for cell in nb.cells] == ["title", "setup", "ex-2-3", "written"]
    assert nb.cells[1].metadata["slideshow"] == {"slide_type": "slide"}
    assert nb.metadata["course"]["source"] == "solutions/02_demo.ipynb"
    assert rel.is_unedited(nb)


def test_speaker_notes_are_left_out():
    solution = _solution()
    notes = new_markdown_cell("- Ask: why 2.3?", id="notes-2-3")
    notes.metadata["slideshow"] = {"slide_type": "notes"}
    solution.cells.insert(3, notes)
    student = rel.make_student_notebook(solution, "solutions/02_demo.ipynb")
    assert [cell.id for cell in student.cells] == ["title", "setup", "ex-2-3", "written"]
    assert "raise NotImplementedError" in student.cells[2].source, "cells after notes still work"
    assert [cell.id for cell in solution.cells][3] == "notes-2-3", "the solution is unchanged"


def test_release_is_deterministic_and_idempotent(course, capsys):
    _run(course)
    first = (course[1] / "02_demo.ipynb").read_bytes()
    assert _run(course) == 0
    assert "up to date" in capsys.readouterr().out
    assert (course[1] / "02_demo.ipynb").read_bytes() == first
    assert _run(course, "--check") == 0


def test_check_reports_missing_stale_and_orphan(course, capsys):
    solutions, notebooks = course
    assert _run(course, "--check") == 1
    assert "MISSING" in capsys.readouterr().err
    _run(course)
    nb = nbformat.read(solutions / "02_demo.ipynb", as_version=4)
    nb.cells[0].source = "# A better title"
    nbformat.write(nb, solutions / "02_demo.ipynb")
    assert _run(course, "--check") == 1
    assert "STALE" in capsys.readouterr().err
    assert _run(course) == 0, "an unedited student notebook is simply regenerated"
    assert _student(course).cells[0].source == "# A better title"
    (notebooks / "99_old.ipynb").write_text((notebooks / "02_demo.ipynb").read_text())
    assert _run(course, "--check") == 1
    assert "ORPHAN" in capsys.readouterr().err


def test_edited_student_notebook_is_never_overwritten(course, capsys):
    solutions, notebooks = course
    _run(course)
    target = notebooks / "02_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[2].source = nb.cells[2].source.replace("raise NotImplementedError", "return 42 #")
    nbformat.write(nb, target)
    student_work = target.read_bytes()
    sol = nbformat.read(solutions / "02_demo.ipynb", as_version=4)
    sol.cells[0].source = "# New title"
    nbformat.write(sol, solutions / "02_demo.ipynb")

    assert _run(course) == 1
    err = capsys.readouterr().err
    assert "REFUSED" in err and "02_demo.ipynb" in err and "--force" in err
    assert target.read_bytes() == student_work
    assert _run(course, "--check") == 1
    assert "EDITED" in capsys.readouterr().err

    assert _run(course, "--force") == 0
    assert _student(course).cells[0].source == "# New title"
    backups = list((notebooks / rel.BACKUP_DIR).glob("02_demo.*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == student_work


def test_running_a_notebook_counts_as_editing(course):
    _run(course)
    target = course[1] / "02_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, target)
    before = target.read_bytes()
    sol_path = course[0] / "02_demo.ipynb"
    sol = nbformat.read(sol_path, as_version=4)
    sol.cells[0].source = "# Changed"
    nbformat.write(sol, sol_path)
    assert _run(course) == 1
    assert target.read_bytes() == before


def test_notebook_not_made_by_the_tool_is_protected(course):
    course[1].mkdir()
    target = course[1] / "02_demo.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("my notes")]), target)
    before = target.read_bytes()
    assert _run(course) == 1
    assert target.read_bytes() == before


def test_named_release_and_unknown_name(course, capsys):
    assert _run(course, "02_demo") == 0
    assert _run(course, "02_demo.ipynb") == 0
    assert _run(course, "03_missing") == 2
    assert "03_missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "# Exercise"),
        ("# Exercise 1.1: f\ndef f():\n    ### BEGIN SOLUTION\n    return 1", "never closed"),
        ("# Exercise 1.1: f\ndef f():\n    return 1\n    ### END SOLUTION", "without"),
        ("# Exercise 1.1: f\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "inside"),
    ],
)
def test_malformed_regions_are_reported(source, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.strip_code_solutions(source, "solutions/x.ipynb, cell 3")


def test_malformed_solution_notebook_fails_with_its_name(course, capsys):
    nb = _solution()
    nb.cells[2].source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    nbformat.write(nb, course[0] / "02_demo.ipynb")
    assert _run(course) == 1
    err = capsys.readouterr().err
    assert "02_demo.ipynb" in err and "cell 2" in err and "# Exercise" in err


def test_quotes_in_titles_stay_valid_python():
    source = '# Exercise 1.2: the "same" padding\ndef f():\n    ### BEGIN SOLUTION\n'
    source += "    return 0\n    ### END SOLUTION"
    result = rel.strip_code_solutions(source, "cell")
    compile(result, "cell", "exec")
    assert 'NotImplementedError("Exercise 1.2: the \\"same\\" padding")' in result


def test_repository_notebooks_are_up_to_date():
    outcomes = rel.release(check=True)
    problems = [outcome.message for outcome in outcomes if not outcome.ok]
    assert not problems, "run `make release`:\n" + "\n".join(problems)


def test_written_notebooks_are_readable_by_everyone(course):
    _run(course)
    mode = (course[1] / "02_demo.ipynb").stat().st_mode & 0o777
    assert mode == 0o666 & ~_umask(), oct(mode)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
