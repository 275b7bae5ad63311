"""``python -m course progress``: the students' table of every exercise.

Fast: tiny notebooks built here, importing nothing, print verdict lines made by
:class:`helpers.check.core.Verdict` (so the report follows the checkers' format); one kernel run
for the whole module, with a 3 s timeout per cell.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import notebook, progress, release
from course.notebook import ANSWER_PROMPT, NOTEBOOKS, ROOT, content_hash
from helpers.check.core import FAILED, NOT_ATTEMPTED, PASSED, Verdict

TIMEOUT_S = 3
FAILURE = "Case 2 of 3 (a=1, b=2):\nyour answer is 3, expected -1.\nHint: subtract."


def verdict(number: str, title: str, status: str, details: str = "") -> str:
    return str(Verdict(number, title, status, details))


def exercise(number: str, title: str, body: str = "    return None") -> nbformat.NotebookNode:
    return new_code_cell(f"# Exercise {number}: {title}\ndef {title}(*args):\n{body}")


def prints(text: str) -> nbformat.NotebookNode:
    """A check cell: prints what a checker prints."""
    return new_code_cell(f"print({text!r})")


def worked_on() -> nbformat.NotebookNode:
    """A notebook a student has edited: every kind of outcome, in this order."""
    stale = prints(verdict("1.4", "div", PASSED))  # what the student's last run saved
    stale.source = "div(1, 0)"
    stale.outputs = [nbformat.v4.new_output("stream", text=verdict("1.4", "div", PASSED))]
    return new_notebook(
        cells=[
            new_code_cell('open("ran.txt", "w").write("the cwd is the notebook\'s folder")'),
            exercise("1.1", "add"),
            prints(verdict("1.1", "add", PASSED, "3 cases match")),
            exercise("1.2", "sub"),
            prints(verdict("1.2", "sub", FAILED, FAILURE)),
            exercise("1.3", "mul"),
            prints(verdict("1.3", "mul", NOT_ATTEMPTED, "Replace the raise with your code.")),
            exercise("1.4", "div", "    return args[0] / args[1]"),
            stale,
            exercise("1.5", "slow", "    import time\n    time.sleep(60)"),
            new_code_cell(f"slow()\nprint({verdict('1.5', 'slow', PASSED)!r})"),
            exercise("1.6", "after"),
            prints(verdict("1.6", "after", PASSED)),
            new_code_cell("# Exercise 1.7: broken\ndef broken(:\n    pass"),
            new_code_cell("broken()"),
            new_markdown_cell("### Exercise 1.8 (written): why\n\nBecause the sum is symmetric."),
            new_markdown_cell(
                f"### Exercise 1.9 (written): why not\n\nSay why.\n\n{ANSWER_PROMPT}"
            ),
        ]
    )


def unopened() -> nbformat.NotebookNode:
    """A notebook as the release made it; running it would fail loudly and leave a file."""
    nb = new_notebook(
        cells=[
            new_code_cell('open("unopened_ran.txt", "w").write("it ran")\nraise SystemExit(3)'),
            exercise("2.1", "ready"),
            prints(verdict("2.1", "ready", PASSED)),
            new_markdown_cell(f"### Exercise 2.2 (written): explain\n\n{ANSWER_PROMPT}"),
        ]
    )
    nb.metadata["course"] = {"edition": "student", "content_sha256": content_hash(nb)}
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A folder with both notebooks, the report's output and the files' bytes before it."""
    folder = tmp_path_factory.mktemp("notebooks")
    for name, nb in (("01_work.ipynb", worked_on()), ("02_fresh.ipynb", unopened())):
        nbformat.write(nb, folder / name)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = progress.main([str(folder), "--timeout", str(TIMEOUT_S)])
    rows = {line.split()[1]: line for line in out.getvalue().splitlines()[1:] if line.strip()}
    return folder, before, code, out.getvalue(), err.getvalue(), rows


def test_the_report_is_one_table_in_course_order(course):
    _, _, code, out, err, _ = course
    assert code == 0
    numbers = [line.split()[1] for line in out.splitlines()[1:] if line.startswith("0")]
    assert numbers == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "2.1", "2.2"]
    assert out.splitlines()[0].split() == ["notebook", "exercise", "title", "result"]
    assert "01_work" in err and "02_fresh" not in err  # only the edited notebook runs


def test_verdicts_are_read_from_the_check_cells(course):
    rows = course[-1]
    assert rows["1.1"].split()[:4] == ["01_work", "1.1", "add", "✅"]
    assert "❌ Case 2 of 3 (a=1, b=2): your answer is 3, expected -1." in rows["1.2"]
    assert "⏳ not attempted yet" in rows["1.3"]
    assert "✅" in rows["1.6"]  # errors and a timeout earlier do not hide later verdicts


def test_a_check_that_raised_or_timed_out_fails_with_the_reason(course):
    rows = course[-1]
    # the saved ✅ output of 1.4 is stale: the fresh run is what counts
    assert "❌ the check cell raised ZeroDivisionError: division by zero" in rows["1.4"]
    assert f"❌ the check timed out after {TIMEOUT_S} s" in rows["1.5"]
    assert "❌ the exercise cell raised SyntaxError" in rows["1.7"]


def test_written_exercises_are_judged_by_the_prompt(course):
    rows = course[-1]
    assert "✍ written (not graded automatically)" in rows["1.8"]
    assert "⏳ not written yet" in rows["1.9"] and "not opened" not in rows["1.9"]


def test_an_unedited_notebook_is_not_run(course):
    folder, *_, rows = course
    assert "⏳ not attempted yet (notebook not opened)" in rows["2.1"]
    assert "⏳ not written yet (notebook not opened)" in rows["2.2"]
    assert not (folder / "unopened_ran.txt").exists()
    assert (folder / "ran.txt").exists()  # the edited one ran, in its own folder


def test_the_totals(course):
    out = course[3]
    assert out.rstrip().splitlines()[-1] == (
        "2 of 8 checked exercises pass; 1 of 3 written answers written (not graded automatically)"
    )


def test_nothing_is_written_back(course):
    folder, before, *_ = course
    for name, data in before.items():
        assert (folder / name).read_bytes() == data, f"{name} changed"
    assert sorted(path.name for path in folder.glob("*.ipynb")) == sorted(before)


# --- the pieces ----------------------------------------------------------------------------


def test_verdict_of_reads_the_checkers_format():
    cell = {"outputs": [{"output_type": "stream", "name": "stdout", "text": ""}]}
    cell["outputs"][0]["text"] = verdict("3.1", "f", FAILED, FAILURE) + "\n"
    assert progress.verdict_of(cell, "3.1") == (
        "❌",
        "Case 2 of 3 (a=1, b=2): your answer is 3, expected -1.",
    )
    cell["outputs"][0]["text"] = verdict("3.2", "g", PASSED, "5 cases match") + "\n"
    assert progress.verdict_of(cell, "3.2") == ("✅", "")
    cell["outputs"][0]["text"] = verdict("3.3", "h", NOT_ATTEMPTED, "Replace the raise.")
    assert progress.verdict_of(cell, "3.3") == ("⏳", "")
    assert progress.verdict_of({"outputs": []}, "3.3") is None


def test_exercises_of_a_notebook():
    found = notebook.exercises(worked_on())
    assert [(e.number, e.written) for e in found][-3:] == [
        ("1.7", False),
        ("1.8", True),
        ("1.9", True),
    ]
    first = found[0]
    assert (first.title, first.cell, first.check) == ("add", 1, 2)


def test_release_keeps_its_names():
    assert release.ANSWER_PROMPT == notebook.ANSWER_PROMPT
    assert release.content_hash is notebook.content_hash
    assert release.is_unedited is notebook.is_unedited
    assert notebook.is_unedited(unopened()) and not notebook.is_unedited(worked_on())


def test_the_course_notebooks_as_released_are_all_not_opened(monkeypatch):
    def never(*args):
        raise AssertionError("an unedited notebook was run")

    monkeypatch.setattr(progress, "execute", never)
    unedited = [
        path
        for path in notebook.notebooks(NOTEBOOKS)
        if notebook.is_unedited(nbformat.read(path, as_version=4))
    ]
    rows = [row for path in unedited for row in progress.report(path, TIMEOUT_S)]
    assert all(row.symbol == "⏳" for row in rows)
    if unedited == notebook.notebooks(NOTEBOOKS):  # a fresh checkout: every exercise listed
        numbers = {row.number for row in rows}
        assert {"0.1", "1.1", "1.4b", "3.3", "11.3"} <= numbers


def test_bad_arguments_exit_2(capsys):
    assert progress.main(["no_such_notebook"]) == 2
    assert "no notebook named 'no_such_notebook'" in capsys.readouterr().err
    assert progress.main(["--timeout", "0"]) == 2
    with pytest.raises(SystemExit) as exit_:
        progress.main(["--frobnicate"])
    assert exit_.value.code == 2


def test_both_entry_points_know_the_command():
    from course.__main__ import COMMANDS
    from helpers.__main__ import COMMANDS as STUDENT_COMMANDS

    assert COMMANDS["progress"][0] == STUDENT_COMMANDS["progress"][0] == "course.progress"


def test_it_runs_without_the_tooling():
    code = (
        "import sys, course.progress; "
        "assert not {'nbconvert', 'course.release'} & set(sys.modules), sorted(sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
