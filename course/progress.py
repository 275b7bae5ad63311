"""``python -m course progress [NAMES...]``: where am I? One table of every exercise.

A student's command (``make progress``; ``!python -m course progress`` in a notebook cell works
too). It runs the student's SAVED notebooks, each in a fresh ``python3`` kernel in the notebook's
folder, and reads the verdicts that the check cells print (``✅ Exercise N.M (title): passed``,
``⏳ ... not attempted yet``, ``❌ ... not right yet``, :class:`helpers.check.core.Verdict`):

* a notebook still exactly as the release made it (:func:`course.notebook.is_unedited`) is not
  run: all its exercises are ⏳ (not opened), so the report stays fast early in the course;
* errors do not stop a notebook (``allow_errors``): a check cell that raised, never ran or timed
  out (``--timeout`` seconds per cell, default 120; the kernel is then interrupted) is ❌ with
  the reason;
* written exercises are ✍ when the answer prompt (:data:`course.notebook.ANSWER_PROMPT`) has been
  replaced, ⏳ otherwise: they are not graded automatically.

Nothing is ever written back to a notebook: the kernel works on the copy read into memory.
Exit code 0 (it is a report), 2 for bad arguments. Runs on a student's machine: it imports only
the runtime dependencies (nbformat, nbclient) and :mod:`course.notebook`.
"""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course.notebook import (
    ANSWER_PROMPT,
    NOTEBOOKS,
    Exercise,
    SelectionError,
    exercises,
    is_unedited,
    select,
)

PROG = "python -m course progress"
DEFAULT_TIMEOUT_S = 120
KERNEL_NAME = "python3"
PASSED, NOT_ATTEMPTED, FAILED, WRITTEN = "✅", "⏳", "❌", "✍"
VERDICT = re.compile(
    r"^(✅|⏳|❌) Exercise (\S+) \((.*)\): (passed|not attempted yet|not right yet)\s*$",
    re.MULTILINE,
)
"""The first line of a check's verdict (``str(helpers.check.core.Verdict(...))``)."""
REASON_WIDTH = 110
TIMEOUT_NAME = "CourseProgressTimeout"  # the error nbclient reports for a cell that timed out


@dataclass(frozen=True)
class Row:
    """One line of the table: an exercise and what the student's notebook says of it."""

    notebook: str
    number: str
    title: str
    symbol: str  # PASSED, NOT_ATTEMPTED, FAILED or WRITTEN
    text: str  # "passed", "REASON", "not written", ...
    written: bool = False


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """What running one notebook left: the executed copy, timed-out cells, and how it ended."""

    nb: nbformat.NotebookNode
    started: set[int]
    ran: set[int]
    timed_out: set[int]
    stopped: str = ""  # why execution stopped early ("" when every cell ran)


def execute(path: Path, timeout: int) -> Run:
    """Run a copy of the notebook at ``path`` in a fresh kernel; the file is never written."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # what the student saved must not pass for what this run printed
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    run = Run(nb, set(), set(), set())
    streak = [0]  # consecutive timed-out cells: 2 means the kernel no longer answers

    def started(cell, cell_index):
        run.started.add(cell_index)

    def executed(cell, cell_index, execute_reply):
        run.ran.add(cell_index)
        content = (execute_reply or {}).get("content", {})
        if content.get("ename") == TIMEOUT_NAME:
            run.timed_out.add(cell_index)
            streak[0] += 1
            if streak[0] >= 2:
                raise _Unresponsive(f"the kernel stopped answering after a {timeout} s timeout")
        else:
            streak[0] = 0

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_NAME, "evalue": f"{timeout} s", "traceback": []},
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=started,
        on_cell_executed=executed,
        log=_QUIET,
    )
    try:
        # the kernel's own stderr is its log (TCP warnings...): what cells print comes by messages
        client.execute(stderr=subprocess.DEVNULL)
    except _Unresponsive as error:
        run.stopped = str(error)
    except DeadKernelError:
        run.stopped = "the kernel died"
    except Exception as error:  # no kernel, ...: report what ran
        run.stopped = _one_line(f"{type(error).__name__}: {error}") or type(error).__name__
    return run


_QUIET = logging.getLogger("course.progress.nbclient")  # nbclient's timeout messages: ours instead
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class _Unresponsive(Exception):
    """Raised by the cell hook to stop a notebook whose kernel ignores interrupts."""


# --------------------------------------------------------------------------- reading


def verdict_of(cell, number: str) -> tuple[str, str] | None:
    """``(symbol, reason)`` of the verdict that ``cell``'s outputs print for exercise ``number``.

    The verdict for ``number`` if there is one, else the first verdict; None when there is none.
    The reason is the verdict's next two lines, the case and what is wrong (empty unless ❌).
    """
    text = _text(cell)
    found = list(VERDICT.finditer(text))
    if not found:
        return None
    match = next((m for m in found if m[2] == number), found[0])
    if match[1] != FAILED:
        return match[1], ""
    lines = text[match.end() :].lstrip("\n").split("\n")[:2]
    details = [line.strip() for line in lines if line.startswith(" ") and line.strip()]
    return FAILED, " ".join(details)  # which case, and what is wrong with it


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        if parts and not parts[-1].endswith("\n"):
            parts.append("\n")
    return "".join(parts)


def _error(cell) -> str:
    """``"NAME: value"`` of the first error that ``cell`` raised; "" when it raised none."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = _one_line(output.get("evalue", ""))
            return f"{output.get('ename', 'Error')}: {value}" if value else output.get("ename", "")
    return ""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def judge(run: Run, exercise: Exercise, timeout: int) -> tuple[str, str]:
    """``(symbol, text)`` for one code exercise of an executed notebook."""
    cells = run.nb.cells
    if exercise.check is None:
        return FAILED, "no check cell follows the exercise"
    check = cells[exercise.check]
    found = verdict_of(check, exercise.number)
    if found is not None:
        symbol, reason = found
        text = {PASSED: "passed", NOT_ATTEMPTED: "not attempted yet"}.get(symbol, "not right yet")
        return symbol, reason or text  # a ❌ shows why: the case and what is wrong
    if exercise.check in run.timed_out:
        return FAILED, f"the check timed out after {timeout} s"
    if exercise.check not in run.ran:
        why = run.stopped or "the notebook stopped before it"
        if exercise.check in run.started:
            return FAILED, f"the check cell did not finish ({why})"
        return FAILED, f"the check cell never ran ({why})"
    raised = _error(check)
    if raised.startswith("KeyboardInterrupt"):
        return FAILED, f"the check timed out after {timeout} s"
    if exercise.cell in run.timed_out:
        return FAILED, f"the exercise cell timed out after {timeout} s"
    cause = _error(cells[exercise.cell])
    if raised and cause:
        return FAILED, f"the exercise cell raised {cause}"
    if raised:
        return FAILED, f"the check cell raised {raised}"
    return FAILED, "the check cell printed no verdict"


def written(nb, exercise: Exercise) -> tuple[str, str]:
    """``(symbol, text)`` for a written exercise: has the student replaced the prompt?"""
    if ANSWER_PROMPT in nb.cells[exercise.cell].source:
        return NOT_ATTEMPTED, "not written yet"
    return WRITTEN, "written (not graded automatically)"


def report(path: Path, timeout: int, log=None) -> list[Row]:
    """The rows of one notebook: read it, run it unless it is unedited, judge every exercise.

    ``log`` (default: stderr) hears which notebook runs and how long it took.
    """
    log = sys.stderr if log is None else log
    stem = path.stem
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook
        return [Row(stem, "-", "-", FAILED, f"could not read the notebook: {_one_line(error)}")]
    found = exercises(nb)
    if is_unedited(nb):
        return [Row(stem, e.number, e.title, *_unopened(e), written=e.written) for e in found]
    run = None
    if any(not e.written for e in found):
        print(f"running {_shown(path)} ...", end="", file=log, flush=True)
        start = time.monotonic()
        run = execute(path, timeout)
        print(f" {time.monotonic() - start:.0f} s", file=log, flush=True)
    rows = []
    for exercise in found:
        if exercise.written:
            symbol, text = written(nb, exercise)
        else:
            symbol, text = judge(run, exercise, timeout)
        rows.append(Row(stem, exercise.number, exercise.title, symbol, text, exercise.written))
    return rows


def _unopened(exercise: Exercise) -> tuple[str, str]:
    what = "not written yet" if exercise.written else "not attempted yet"
    return NOT_ATTEMPTED, f"{what} (notebook not opened)"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the table


def table(rows: list[Row]) -> str:
    """The report: a header, one line per exercise, and the totals."""
    headers = ("notebook", "exercise", "title")
    widths = [
        max([len(headers[0])] + [len(row.notebook) for row in rows]),
        max([len(headers[1])] + [len(row.number) for row in rows]),
        min(30, max([len(headers[2])] + [len(row.title) for row in rows])),
    ]
    lines = ["  ".join(f"{h:<{w}}" for h, w in zip(headers, widths, strict=True)) + "  result"]
    for row in rows:
        cells = (row.notebook, row.number, _truncate(row.title, widths[2]))
        line = "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))
        lines.append(f"{line}  {row.symbol} {_truncate(row.text, REASON_WIDTH)}")
    lines += ["", totals(rows)]
    return "\n".join(lines)


def totals(rows: list[Row]) -> str:
    """``N of M checked exercises pass; K of W written answers written``."""
    checked = [row for row in rows if not row.written and row.number != "-"]
    answers = [row for row in rows if row.written]
    line = (
        f"{sum(row.symbol == PASSED for row in checked)} of {len(checked)} checked exercises pass"
    )
    if answers:
        done = sum(row.symbol == WRITTEN for row in answers)
        line += f"; {done} of {len(answers)} written answers written (not graded automatically)"
    return line


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """The command line; returns 0 (a report) or 2 (bad arguments)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run your saved notebooks (a copy: nothing is written back) and print one "
        "table of every exercise: passed, not attempted or not right yet, and your written "
        "answers. Notebooks you have not opened are not run.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        help="notebooks: stems, prefixes like 03, files or folders (default: all of notebooks/)",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds a cell may run before it is interrupted (default {DEFAULT_TIMEOUT_S})",
    )
    args = parser.parse_args(argv)  # --help exits 0, a bad option 2 (SystemExit)
    if args.timeout <= 0:
        print(f"{PROG}: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        paths = select(args.names, NOTEBOOKS)
    except SelectionError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    if paths:
        print(table([row for path in paths for row in report(path, args.timeout)]))
    else:
        print(f"{PROG}: no notebooks to report on in {_shown(NOTEBOOKS)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
