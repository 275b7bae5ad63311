"""The nbgrader edition: an nbgrader course folder written from ``solutions/``.

Usage::

    python -m course nbgrader                 # every notebook -> build/nbgrader/
    python -m course nbgrader 01 04           # some (stems, prefixes or files)
    python -m course nbgrader --out DIR       # somewhere else

``make nbgrader`` runs the first. The folder is a complete nbgrader course: its
``nbgrader_config.py`` and ``source/<stem>/<stem>.ipynb`` for each notebook (the assignment
is the notebook's stem). From there nbgrader's own commands take over (INSTRUCTORS.md,
"Grading"): ``nbgrader generate_assignment``, collect, ``nbgrader autograde``,
``nbgrader generate_feedback``.

What a source notebook is, cell by cell (the nbgrader metadata of each):

* an exercise's code cell (it has a ``### BEGIN SOLUTION`` region): a **solution cell**;
  nbgrader replaces the region by ``raise NotImplementedError()`` in the release;
* the exercise's check cell (``check.NAME(answer)``): an autograded **test cell** worth the
  exercise's points (:data:`POINTS`); the student still sees the check's verdict, and a
  ``### BEGIN HIDDEN TESTS`` part runs ``check.NAME.grade(answer)``: hidden cases, the guard
  against library shortcuts, and an ``AssertionError`` that says why
  (:mod:`helpers.check.grading`); with ``partial = true`` each case earns its share;
* a written exercise (a markdown cell with a ``<!-- BEGIN SOLUTION -->`` region): its
  question stays a read-only cell and its answer becomes a **manually graded answer cell**;
* every other cell is **read-only** (locked), so nbgrader notices a student who edits it and
  grades the original;
* speaker notes, the Colab and Binder badges and the Colab set-up cell are left out, and
  every output is cleared.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor

from course.notebook import (
    BADGES_ID,
    BEGIN_CODE,
    BEGIN_MARKDOWN,
    COLAB_SETUP_ID,
    END_MARKDOWN,
    ROOT,
    SOLUTIONS,
    SelectionError,
    is_speaker_notes,
    select,
)
from course.release import ANSWER_PROMPT

POINTS = Path(__file__).with_name("points.toml")
"""The points table: one entry per exercise (the instructor's to change)."""
BUILD = ROOT / "build" / "nbgrader"
COURSE_ID = "cnn-course"
CELL_TIMEOUT = 120
"""Seconds a cell may run when nbgrader autogrades (the slowest cell of the course takes ~20)."""
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SCHEMA_VERSION = 3

CHECK_CALL = re.compile(r"^check\.(?P<name>\w+)\((?P<arguments>.*)\)$")
"""A check cell: exactly one line ``check.NAME(ARGUMENTS)``."""
WRITTEN = re.compile(r"^#+\s*Exercise\s+(?P<number>\d+\.\d+[a-z]?)\s*\(written\)", re.MULTILINE)


class GradingError(ValueError):
    """A points table or a notebook that cannot make an nbgrader edition."""


@dataclass(frozen=True)
class Points:
    """An exercise's points; ``partial``: each test case earns its share."""

    points: float
    partial: bool = False


def load_points(path: Path = POINTS) -> dict[str, Points]:
    """The points table: exercise number (``"1.4b"``) -> :class:`Points`."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))["exercises"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise GradingError(f"{path}: cannot read the [exercises] table: {error}") from error
    points = {}
    for number, entry in table.items():
        if isinstance(entry, dict):
            unknown = set(entry) - {"points", "partial"}
            if unknown or "points" not in entry:
                raise GradingError(
                    f"{path}: exercise {number}: use {{ points = N, partial = true }}"
                )
            value, partial = entry["points"], bool(entry.get("partial", False))
        else:
            value, partial = entry, False
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise GradingError(f"{path}: exercise {number}: points must be a positive number")
        points[number] = Points(float(value), partial)
    return points


# --------------------------------------------------------------------------- cell kinds


def checked_exercise(cell) -> tuple[str, str, str] | None:
    """``(number, checker name, arguments)`` for a check cell, else None."""
    if cell.cell_type != "code":
        return None
    match = CHECK_CALL.match(cell.source.strip())
    if match is None:
        return None
    from helpers import check  # the checker knows its exercise number

    checker = getattr(check, match["name"], None)
    number = getattr(checker, "exercise", None)
    if number is None:
        return None
    return number, match["name"], match["arguments"]


def written_exercise(cell) -> str | None:
    """The number of a written exercise's markdown cell (it has an answer region), else None."""
    if cell.cell_type != "markdown" or BEGIN_MARKDOWN not in cell.source:
        return None
    match = WRITTEN.search(cell.source)
    return match["number"] if match else None


def _nbgrader(cell, grade_id: str, *, grade=False, solution=False, locked=False, points=None):
    metadata = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        metadata["points"] = points
    cell.metadata["nbgrader"] = metadata
    return cell


def _split_written(cell) -> list:
    """The question, the answer (the region's text) and any text after it, as three cells."""
    before, _, rest = cell.source.partition(BEGIN_MARKDOWN)
    answer, _, after = rest.partition(END_MARKDOWN)
    question = nbformat.v4.new_markdown_cell(before.rstrip(), id=cell.id)
    question.metadata = copy.deepcopy(cell.metadata)
    reply = nbformat.v4.new_markdown_cell(answer.strip(), id=f"{cell.id}-answer")
    cells = [question, reply]
    if after.strip():
        cells.append(nbformat.v4.new_markdown_cell(after.strip(), id=f"{cell.id}-after"))
    return cells


def hidden_test(name: str, arguments: str, points: Points) -> str:
    """The hidden part of a test cell: grade the answer (partial credit passes the points)."""
    extra = f", points={points.points:g}" if points.partial else ""
    return f"{BEGIN_HIDDEN}\ncheck.{name}.grade({arguments}{extra})\n{END_HIDDEN}"


# --------------------------------------------------------------------------- the steps


class DropNonGradedCells(Preprocessor):
    """Leave out speaker notes, the badges and the Colab set-up cell."""

    def preprocess(self, nb, resources):
        dropped = {BADGES_ID, COLAB_SETUP_ID}
        nb.cells = [
            cell
            for cell in nb.cells
            if not is_speaker_notes(cell) and cell.get("id") not in dropped
        ]
        return nb, resources


class MarkGradedCells(Preprocessor):
    """Give every cell its nbgrader role (see the module's docstring).

    ``resources["points"]``: the points table; ``resources["graded"]`` collects
    ``(number, points, kind)`` for each graded cell, in order.
    """

    def preprocess(self, nb, resources):
        table: dict[str, Points] = resources["points"]
        graded: list[tuple[str, float, str]] = resources.setdefault("graded", [])
        where = resources["source_name"]
        cells = []
        for cell in nb.cells:
            checked = checked_exercise(cell)
            written = written_exercise(cell)
            if checked is not None:
                number, name, arguments = checked
                points = _points(table, number, where)
                cell.source = f"{cell.source.strip()}\n{hidden_test(name, arguments, points)}"
                cells.append(
                    _nbgrader(cell, cell.id, grade=True, locked=True, points=points.points)
                )
                graded.append((number, points.points, "partial" if points.partial else "checked"))
            elif written is not None:
                points = _points(table, written, where)
                question, answer, *after = _split_written(cell)
                cells.append(_nbgrader(question, question.id, locked=True))
                cells.append(
                    _nbgrader(answer, answer.id, grade=True, solution=True, points=points.points)
                )
                cells += [_nbgrader(extra, extra.id, locked=True) for extra in after]
                graded.append((written, points.points, "written"))
            elif cell.cell_type == "code" and BEGIN_CODE in cell.source:
                cells.append(_nbgrader(cell, cell.id, solution=True))
            else:
                cells.append(_nbgrader(cell, cell.id, locked=True))
        nb.cells = cells
        return nb, resources


def _points(table: dict[str, Points], number: str, where: str) -> Points:
    if number not in table:
        raise GradingError(f"{where}: exercise {number} has no entry in {POINTS.name}")
    return table[number]


def _steps() -> list[Preprocessor]:
    return [
        DropNonGradedCells(),
        ClearOutputPreprocessor(remove_metadata_fields={"execution", "collapsed", "scrolled"}),
        MarkGradedCells(),
    ]


def make_source_notebook(solution, source_name: str, points: dict[str, Points]):
    """The nbgrader source notebook of ``solution``, and its graded cells.

    Returns ``(notebook, [(exercise number, points, kind), ...])`` where kind is "checked",
    "partial" or "written". The input is not changed.
    """
    nb = copy.deepcopy(solution)
    resources = {"source_name": source_name, "points": points}
    for step in _steps():
        nb, resources = step.preprocess(nb, resources)
    nb.metadata.pop("course", None)
    nbformat.validate(nb)
    return nb, resources["graded"]


# --------------------------------------------------------------------------- the folder


def config_text(course_id: str = COURSE_ID) -> str:
    """``nbgrader_config.py`` of the course folder."""
    return f'''"""nbgrader configuration of the course (written by python -m course nbgrader)."""

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = {course_id!r}
# Stubs in the student release: the code stub raises NotImplementedError, which the course's
# checks report as "not attempted yet"; the text stub is the course's answer prompt.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
c.ClearSolutions.text_stub = {ANSWER_PROMPT!r}
# A cell that runs longer than this while autograding is stopped and scores zero; the rest
# of the notebook is still graded.
c.Execute.timeout = {CELL_TIMEOUT}
'''


def build(names: list[str], out: Path = BUILD, points_path: Path = POINTS) -> list[tuple]:
    """Write the course folder ``out`` for the notebooks ``names`` name.

    Returns ``[(stem, [(number, points, kind), ...]), ...]``.
    """
    points = load_points(points_path)
    paths = select(names, SOLUTIONS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(config_text(), encoding="utf-8")
    built = []
    seen: set[str] = set()
    for path in paths:
        solution = nbformat.read(path, as_version=4)
        nb, graded = make_source_notebook(solution, f"solutions/{path.name}", points)
        folder = out / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        (folder / path.name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        built.append((path.stem, graded))
        seen |= {number for number, _, _ in graded}
    if not names:
        stale = sorted(set(points) - seen)
        if stale:
            raise GradingError(f"{points_path}: no exercise in solutions/ has the number {stale}")
    return built


def report(built: list[tuple]) -> str:
    """One line per notebook: its graded exercises and its total; then the course's total."""
    lines = [f"{'notebook':<34} {'auto':>5} {'manual':>6} {'total':>6}"]
    course_total = 0.0
    for stem, graded in built:
        auto = sum(points for _, points, kind in graded if kind != "written")
        manual = sum(points for _, points, kind in graded if kind == "written")
        course_total += auto + manual
        lines.append(f"{stem:<34} {auto:>5g} {manual:>6g} {auto + manual:>6g}")
    lines.append(f"{'total':<34} {'':>5} {'':>6} {course_total:>6g}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the cycle


def run_nbgrader(args: list[str], course: Path, **options) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course folder with this Python's scripts first on the PATH
    (nbgrader runs ``alembic`` from there); raise ``RuntimeError`` with its output on failure."""
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [os.path.join(scripts, "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        **options,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def solved_submission(release: dict, source: dict) -> dict:
    """The released notebook (JSON) with every answer cell as the source notebook has it:
    what a student who knows every answer submits."""
    nb = json.loads(json.dumps(release))
    answers = {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in source["cells"]}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = answers[meta["grade_id"]]["source"]
    return nb


def read_assignment(course: Path, folder: str, stem: str) -> dict:
    """The notebook (JSON) of assignment ``stem`` in ``folder`` ("source", "release", ...)."""
    return json.loads((Path(course) / folder / stem / f"{stem}.ipynb").read_text(encoding="utf-8"))


def submit(course: Path, student: str, stem: str, nb: dict) -> None:
    """Put ``nb`` where ``nbgrader autograde`` looks for ``student``'s submission of ``stem``."""
    folder = Path(course) / "submitted" / student / stem
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-12-01 12:00:00.000000 UTC")


def time_autograde(names: list[str], course: Path) -> list[tuple[str, float]]:
    """Seconds that ``nbgrader autograde`` takes for a full-marks submission of each notebook
    (a fresh course folder ``course``; used by ``python -m course benchmark --grading``)."""
    timings = []
    for stem, _ in build(names, out=course):
        run_nbgrader(["generate_assignment", stem, "--force"], course)
        release, source = (
            read_assignment(course, folder, stem) for folder in ("release", "source")
        )
        submit(course, "solutions", stem, solved_submission(release, source))
        start = time.perf_counter()
        run_nbgrader(["autograde", stem], course)
        timings.append((stem, time.perf_counter() - start))
    return timings


def main(argv: list[str] | None = None, prog: str = "python -m course nbgrader") -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description="Write the nbgrader edition of the course (a course folder)."
    )
    parser.add_argument("names", nargs="*", help="notebooks: stems, prefixes or files")
    parser.add_argument("--out", type=Path, default=BUILD, help="the course folder to write")
    parser.add_argument("--points", type=Path, default=POINTS, help="the points table")
    args = parser.parse_args(argv)
    try:
        built = build(args.names, args.out, args.points)
    except (SelectionError, GradingError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    print(report(built))
    print(f"\nnbgrader course folder: {args.out}")
    print(f"next: cd {args.out} && nbgrader generate_assignment 01_convolution (INSTRUCTORS.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
