"""``python -m course update`` (``make update``): a student's answers survive an update.

A small course in a bare repository on disk plays the remote; a student clone has edited
notebooks (answers, a written answer, cells of their own, outputs); the course then changes
upstream (a corrected prose cell, a renamed exercise, a new one, a removed one, a changed
signature, another notebook, a course file). Every line the student wrote must be in the new
notebook (and all of it in the backup), and the new course text must be there. Refusals and
failures leave everything as it was. Offline, no kernel: a few seconds.
"""

from __future__ import annotations

import copy
import json
import subprocess
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from course import update
from course.notebook import ANSWER_PROMPT, exercises, is_unedited
from course.release import make_student_notebook, serialize

GIT = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.org"]
GIT += ["-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"]

# --------------------------------------------------------------------------- the tiny course


def md(cell_id: str, source: str):
    return nbformat.v4.new_markdown_cell(source, id=cell_id)


def code(cell_id: str, source: str):
    return nbformat.v4.new_code_cell(source, id=cell_id)


def exercise(number: str, title: str, header: str, body: str) -> str:
    region = f"    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"
    return f"# Exercise {number}: {title}\n{header}\n{region}"


def solution_v1():
    return nbformat.v4.new_notebook(
        cells=[
            md("intro", "# Demo\n\nA convolution slides a kernel over a signl."),
            code("setup", "import math"),
            code("ex-add", exercise("1.1", "add", "def add(a, b):", "    return a + b")),
            code("check-add", "assert add(1, 2) == 3\nprint('add: passed')"),
            code("ex-mul", exercise("1.2", "mul", "def mul(a, b):", "    return a * b")),
            code("check-mul", "assert mul(2, 3) == 6\nprint('mul: passed')"),
            code("ex-sub", exercise("1.3", "sub", "def sub(a, b):", "    return a - b")),
            code("check-sub", "assert sub(3, 1) == 2"),
            code("ex-scale", exercise("1.4", "scale", "def scale(x, k):", "    return x * k")),
            code("check-scale", "assert scale(2, 3) == 6"),
            md(
                "written",
                "### Exercise 1.5 (written): why\n\nExplain why addition commutes.\n\n"
                "<!-- BEGIN SOLUTION -->\nBecause counting does not depend on order.\n"
                "<!-- END SOLUTION -->",
            ),
            md("outro", "The end."),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def solution_v2():
    """The course, corrected and extended upstream."""
    nb = solution_v1()
    cells = {cell.id: cell for cell in nb.cells}
    cells["intro"].source = "# Demo\n\nA convolution slides a kernel over a signal."
    cells["ex-mul"].source = exercise("1.2", "multiply", "def mul(a, b):", "    return a * b")
    cells["ex-scale"].source = exercise(
        "1.4", "scale", "def scale(x, k, offset=0):", "    return x * k + offset"
    )
    cells["check-scale"].source = "assert scale(2, 3, 1) == 7"
    new = [
        code("ex-neg", exercise("1.6", "neg", "def neg(a):", "    return -a")),
        code("check-neg", "assert neg(2) == -2"),
    ]
    nb.cells = [cell for cell in nb.cells if cell.id not in ("ex-sub", "check-sub")]
    nb.cells[-1:-1] = new
    return nb


def other_v1():
    return nbformat.v4.new_notebook(cells=[md("o-intro", "# Other\n\nNothing to do here.")])


def other_v2():
    return nbformat.v4.new_notebook(cells=[md("o-intro", "# Other\n\nStill nothing to do.")])


def write_course(folder: Path, demo, other) -> None:
    for name, nb in (("01_demo", demo), ("02_other", other)):
        (folder / "solutions").mkdir(exist_ok=True)
        (folder / "notebooks").mkdir(exist_ok=True)
        (folder / "solutions" / f"{name}.ipynb").write_text(serialize(nb), encoding="utf-8")
        student = make_student_notebook(nb, f"solutions/{name}.ipynb")
        (folder / "notebooks" / f"{name}.ipynb").write_text(serialize(student), encoding="utf-8")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(
        [*GIT, "-C", str(folder), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(folder: Path, message: str) -> None:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch):
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    for key, value in (("NAME", "Course"), ("EMAIL", "course@example.org")):
        monkeypatch.setenv(f"GIT_AUTHOR_{key}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{key}", value)


@pytest.fixture
def course(tmp_path):
    """``(remote, author, student)``: a bare remote, the instructor's clone, a student clone."""
    remote, author, student = tmp_path / "remote.git", tmp_path / "author", tmp_path / "student"
    subprocess.run([*GIT, "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run([*GIT, "clone", "-q", str(remote), str(author)], check=True, capture_output=True)
    (author / "README.md").write_text("# The course\n")
    (author / ".gitignore").write_text("notebooks/.backup/\n")
    write_course(author, solution_v1(), other_v1())
    publish(author, "the course")
    subprocess.run([*GIT, "clone", "-q", str(remote), str(student)], check=True)
    return remote, author, student


@pytest.fixture
def answered(course):
    """``(author, student)``: the course after the student answered (edit_like_a_student)."""
    _, author, student = course
    edit_like_a_student(student)
    return author, student


def publish(author: Path, message: str) -> None:
    """The instructor commits everything and pushes it to the course's remote."""
    commit(author, message)
    git(author, "push", "-q", "origin", "HEAD:main")


def change_upstream(author: Path) -> None:
    write_course(author, solution_v2(), other_v2())
    (author / "README.md").write_text("# The course\n\nNow with more exercises.\n")
    publish(author, "corrections and a new exercise")


def read(path: Path):
    return nbformat.read(path, as_version=4)


STUDENT_ANSWERS = {
    "ex-add": "# Exercise 1.1: add\ndef add(a, b):\n    total = a  # my way\n    return total + b",
    "ex-mul": "# Exercise 1.2: mul\ndef mul(a, b):\n    return sum(a for _ in range(b))",
    "ex-sub": "# Exercise 1.3: sub\ndef sub(a, b):\n    return a + -b  # sub by hand",
    "ex-scale": "# Exercise 1.4: scale\ndef scale(x, k):\n    return k * x  # scaled",
}
WRITTEN = "Because a + b counts the same\nobjects as b + a, in another order."


def edit_like_a_student(student: Path) -> dict:
    """Answers, a written answer, cells of their own, outputs; returns the edited notebook."""
    path = student / "notebooks" / "01_demo.ipynb"
    nb = read(path)
    cells = {cell.id: cell for cell in nb.cells}
    for cell_id, source in STUDENT_ANSWERS.items():
        cells[cell_id].source = source
    cells["written"].source = cells["written"].source.replace(ANSWER_PROMPT, WRITTEN)
    cells["ex-add"].execution_count = 3
    cells["check-add"].outputs = [nbformat.v4.new_output("stream", text="add: passed\n")]
    cells["check-add"].execution_count = 4
    scratch = code("my-scratch", "print(add(20, 22))  # my own experiment")
    scratch.outputs = [nbformat.v4.new_output("stream", text="42\n")]
    scratch.execution_count = 5
    note = md("my-note", "My note: *cross-correlation* is what PyTorch calls convolution.")
    index = [cell.id for cell in nb.cells].index("check-add")
    nb.cells[index + 1 : index + 1] = [scratch]
    nb.cells.insert(1, note)
    path.write_text(serialize(nb), encoding="utf-8")
    assert not is_unedited(nb)
    return nb


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the working tree (not .git, not the backups) with its bytes."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.parts and ".backup" not in path.parts
    }


@contextmanager
def left_as_it_was(folder: Path):
    """Assert that the block changes nothing: the same files, no new backup, in a clone the
    same commit."""
    clone = (folder / ".git").exists()
    head = git(folder, "rev-parse", "HEAD") if clone else None
    before, backups = snapshot(folder), sorted((folder / "notebooks").rglob(".backup/**/*"))
    yield
    assert snapshot(folder) == before
    assert sorted((folder / "notebooks").rglob(".backup/**/*")) == backups
    assert git(folder, "rev-parse", "HEAD") == head if clone else not (folder / ".git").exists()


def student_lines(old, nb) -> list[str]:
    """The lines the student wrote: of every cell that is not as the course made it."""
    made = {cell.id: cell.source for cell in old.cells}
    lines = []
    for cell in nb.cells:
        if made.get(cell.id) != cell.source:
            original = set(made.get(cell.id, "").split("\n"))
            lines += [line for line in cell.source.split("\n") if line not in original]
    return [line for line in lines if line.strip()]


def run_code(nb) -> dict[str, str]:
    """Run the code cells in order (like Run All, errors allowed): ``id -> "ok"`` or the error."""
    namespace: dict = {}
    results = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, cell.id, "exec"), namespace)  # noqa: S102 (our own cells)
            results[cell.id] = "ok"
        except Exception as error:  # noqa: BLE001
            results[cell.id] = type(error).__name__
    return results


# --------------------------------------------------------------------------- the update


def test_every_answer_survives_and_the_new_course_is_there(course, capsys):
    remote, author, student = course
    old = read(student / "notebooks" / "01_demo.ipynb")
    edited = edit_like_a_student(student)
    edited_bytes = (student / "notebooks" / "01_demo.ipynb").read_bytes()
    change_upstream(author)

    assert update.main([], root=student) == 0
    out = capsys.readouterr().out

    # the course moved forward: the branch, a course file, a notebook the student never touched
    assert git(student, "rev-parse", "HEAD") == git(author, "rev-parse", "HEAD")
    assert "Now with more exercises." in (student / "README.md").read_text()
    other = read(student / "notebooks" / "02_other.ipynb")
    assert "Still nothing to do." in other.cells[0].source and is_unedited(other)

    # the backup is the student's notebook, byte for byte
    backups = list((student / "notebooks" / ".backup").glob("01_demo.*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited_bytes

    new = read(student / "notebooks" / "01_demo.ipynb")
    nbformat.validate(new)
    text = "\n".join(cell.source for cell in new.cells)
    for line in student_lines(old, edited):
        assert line in text, f"the student's line {line!r} was lost"
    cells = {cell.id: cell for cell in new.cells}
    order = [cell.id for cell in new.cells]

    # the new course text
    assert cells["intro"].source.endswith("over a signal.")
    assert 'raise NotImplementedError("Exercise 1.6: neg")' in cells["ex-neg"].source
    assert "def scale(x, k, offset=0):" in cells["ex-scale"].source
    assert cells["check-scale"].source == "assert scale(2, 3, 1) == 7"
    assert "Exercise 1.3" not in cells.get("check-sub", cells["outro"]).source

    # answers in their exercise cells; the renamed exercise gets its new label
    assert cells["ex-add"].source == STUDENT_ANSWERS["ex-add"]
    assert cells["ex-mul"].source == STUDENT_ANSWERS["ex-mul"].replace(": mul", ": multiply")
    written = cells["written"].source
    assert WRITTEN in written and ANSWER_PROMPT not in written
    assert written.startswith("### Exercise 1.5 (written): why\n\nExplain why addition commutes.")

    # the student's own cells, after the cell they followed, with their outputs
    assert order.index("my-note") == order.index("intro") + 1
    assert order.index("my-scratch") == order.index("check-add") + 1
    assert cells["my-scratch"].outputs[0]["text"] == "42\n"
    assert cells["check-add"].outputs[0]["text"] == "add: passed\n"  # same code, same output
    assert cells["ex-add"].execution_count == 3

    # the changed signature and the removed exercise: kept in marked pairs, reported
    kept = [cell for cell in new.cells if update.KEPT_TAG in cell.metadata.get("tags", [])]
    assert len(kept) == 4
    scale_note = order.index("check-scale") + 1
    assert "signature changed" in new.cells[scale_note].source
    assert new.cells[scale_note + 1].source == STUDENT_ANSWERS["ex-scale"].replace(
        "# Exercise", "# Before the update: Exercise"
    )
    assert new.cells[-1].source == STUDENT_ANSWERS["ex-sub"].replace(
        "# Exercise", "# Before the update: Exercise"
    )
    # ... where they are not exercises: each exercise once, in the new edition's order
    labels = [f"{found.number} {found.title}" for found in exercises(new)]
    assert labels == ["1.1 add", "1.2 multiply", "1.4 scale", "1.5 why", "1.6 neg"]
    assert "no longer has" in new.cells[-2].source

    # running it: the carried answers pass their checks, the new exercises are still to do
    results = run_code(new)
    assert results["check-add"] == results["check-mul"] == "ok"
    assert results["ex-neg"] == results["ex-scale"] == "ok"  # a def only
    assert results["check-neg"] == "NotImplementedError"

    # the summary
    assert "01_demo: 3 answer(s) carried (1.1 add, 1.2 multiply, 1.5 why (written))" in out
    assert "new: 1.6 neg" in out
    assert "Exercise 1.4: scale: its signature changed" in out
    assert "Exercise 1.3: sub is gone" in out
    assert "Exercise 1.2: mul is now Exercise 1.2: multiply" in out
    assert "now the new edition: 02_other" in out

    # a second run: nothing to do, nothing changed
    with left_as_it_was(student):
        assert update.main([], root=student) == 0
    assert "up to date" in capsys.readouterr().out


def test_dry_run_changes_nothing(answered, capsys):
    author, student = answered
    change_upstream(author)
    with left_as_it_was(student):
        assert update.main(["--dry-run"], root=student) == 0
    out = capsys.readouterr().out
    assert "Would update" in out and "3 answer(s) carried" in out and "Dry run" in out


def test_unedited_and_untouched_notebooks(course, capsys):
    """A notebook the update does not change keeps the student's bytes; others are refreshed."""
    remote, author, student = course
    (author / "README.md").write_text("# The course, again\n")
    publish(author, "a course file only")
    edit_like_a_student(student)
    mine = (student / "notebooks" / "01_demo.ipynb").read_bytes()
    assert update.main([], root=student) == 0
    assert (student / "notebooks" / "01_demo.ipynb").read_bytes() == mine
    assert "unchanged by the update" in capsys.readouterr().out
    assert (student / "README.md").read_text() == "# The course, again\n"


# --------------------------------------------------------------------------- refusals


def assert_refused(student: Path, capsys, *words: str) -> None:
    with left_as_it_was(student):
        assert update.main([], root=student) == 1
    err = capsys.readouterr().err
    assert "nothing was changed" in err
    for word in words:
        assert word in err


def test_refuses_changes_outside_notebooks(answered, capsys):
    author, student = answered
    change_upstream(author)
    (student / "README.md").write_text("# My notes on the course\n")
    assert_refused(student, capsys, "README.md", "git stash")


def test_refuses_a_folder_that_is_not_a_clone(tmp_path, capsys):
    folder = tmp_path / "course"
    folder.mkdir()
    write_course(folder, solution_v1(), other_v1())
    with left_as_it_was(folder):
        assert update.main([], root=folder) == 1
    assert "not a git clone" in capsys.readouterr().err


def test_refuses_a_history_of_its_own(answered, capsys):
    """The student committed their notebooks: no fast-forward; the way out is printed."""
    author, student = answered
    commit(student, "my answers")
    change_upstream(author)
    assert_refused(student, capsys, "commit(s) of its own", "git reset", "make update")


def test_refuses_an_untracked_file_where_the_update_brings_one(course, capsys):
    remote, author, student = course
    (author / "notebooks" / "03_new.ipynb").write_text(serialize(other_v1()), encoding="utf-8")
    publish(author, "a new notebook")
    (student / "notebooks" / "03_new.ipynb").write_text("{}")
    assert_refused(student, capsys, "notebooks/03_new.ipynb")


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("step", ["set_aside", "fast_forward", "write"])
def test_a_failure_midway_restores_everything(answered, capsys, monkeypatch, step):
    author, student = answered
    (student / "notebooks" / "02_other.ipynb").unlink()  # deleted by the student
    (student / "notebooks" / "my_notes.md").write_text("mine, added to git\n")
    git(student, "add", "notebooks/my_notes.md")
    change_upstream(author)
    head, before = git(student, "rev-parse", "HEAD"), snapshot(student)
    original = getattr(update, step)

    def broken(state, *args):
        original(state, *args)  # do the step, then fail (the worst moment)
        raise OSError("disk full")

    monkeypatch.setattr(update, step, broken)
    assert update.main([], root=student) == 1
    assert "disk full" in capsys.readouterr().err
    assert git(student, "rev-parse", "HEAD") == head
    assert snapshot(student) == before
    assert git(student, "diff", "--name-status").split() == [
        *("M", "notebooks/01_demo.ipynb", "D", "notebooks/02_other.ipynb")
    ]
    assert git(student, "diff", "--cached", "--name-only") == "notebooks/my_notes.md"
    assert list((student / "notebooks" / ".backup").glob("01_demo.*.ipynb"))  # backups stay

    monkeypatch.setattr(update, step, original)  # then it works
    assert update.main([], root=student) == 0
    assert git(student, "rev-parse", "HEAD") == git(author, "rev-parse", "HEAD")
    assert (student / "notebooks" / "my_notes.md").read_text() == "mine, added to git\n"


# --------------------------------------------------------------------------- carrying, unit


def test_carry_keeps_an_edit_of_a_course_cell_that_did_not_change():
    old = make_student_notebook(solution_v1(), "solutions/01_demo.ipynb")
    new = make_student_notebook(solution_v2(), "solutions/01_demo.ipynb")
    mine = copy.deepcopy(old)
    cells = {cell.id: cell for cell in mine.cells}
    cells["setup"].source = "import math\nimport random  # I added this"
    cells["intro"].source += "\n\n(my note: a typo above?)"
    merged, report = update.carry(old, new, mine)
    result = {cell.id: cell for cell in merged.cells}
    assert result["setup"].source == cells["setup"].source and report.edits_kept == 1
    # the course corrected the intro that the student had annotated: both are kept
    assert result["intro"].source.endswith("over a signal.")
    order = [cell.id for cell in merged.cells]
    assert "(my note: a typo above?)" in merged.cells[order.index("intro") + 2].source
    assert len(report.attention) == 1 and "cell 1" in report.attention[0]
    assert json.dumps(merged)  # still a notebook


def test_signature_reads_multi_line_headers():
    source = "# Exercise 1.1: f\ndef f(\n    x,\n    y,\n):\n    return x\n"
    assert update.signature(source) == ["def f(x, y, ):"]
    assert update.signature("class A(B):\n    def g(self, x):\n        pass") == [
        "class A(B):",
        "def g(self, x):",
    ]


def test_written_answer_stands_where_the_prompt_was():
    old = f"### Exercise 1.5 (written): why\n\nExplain.\n\n{ANSWER_PROMPT}"
    assert update.written_answer(old, old) is None
    assert update.written_answer(old, old.replace(ANSWER_PROMPT, "Mine.\nTwo lines.")) == [
        "Mine.",
        "Two lines.",
    ]
    assert update.written_answer(old, old.replace(ANSWER_PROMPT, "")) is None
