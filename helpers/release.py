"""Generate the student notebooks in ``notebooks/`` from the instructor's ``solutions/``.

Usage::

    python -m helpers.release                 # regenerate every student notebook
    python -m helpers.release 01_convolution  # only some (stems or file names)
    python -m helpers.release --check         # exit 1 if notebooks/ is out of date
    python -m helpers.release --force         # also replace notebooks you have edited
                                              # (a copy goes to notebooks/.backup/ first)

What changes between the editions:

* in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
  ``raise NotImplementedError("Exercise N.M: TITLE")`` with the same indentation; N.M and
  TITLE come from the nearest ``# Exercise N.M: TITLE`` comment above the region;
* in a markdown cell, ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` becomes
  an answer prompt;
* every output and execution count is cleared;
* speaker notes (cells whose ``slideshow.slide_type`` is ``notes``) are left out: they are
  for the instructor presenting ``solutions/`` as slides, and often give answers away;
* the Colab and Binder badges (the ``badges`` cell, :mod:`helpers.online`) point at the
  student edition.

Each generated notebook records a hash of its content in ``metadata.course``. A notebook
whose content no longer matches that hash has been edited (or run) by a student, and is
never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from helpers import online

REPO_ROOT = Path(__file__).resolve().parent.parent
BEGIN_CODE, END_CODE = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_MARKDOWN, END_MARKDOWN = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
ANSWER_PROMPT = "**Your answer:** _double-click this cell and write your answer here._"
EXERCISE_COMMENT = re.compile(r"^\s*#\s*Exercise\s+(\d+\.\d+[a-z]?)\s*:\s*(\S.*?)\s*$")
BACKUP_DIR = ".backup"


class ReleaseError(ValueError):
    """A solution notebook that cannot be turned into a student notebook."""


# --------------------------------------------------------------------------- regions


def strip_code_solutions(source: str, where: str) -> str:
    """Replace each ``### BEGIN/END SOLUTION`` region of a code cell by a ``raise``."""
    lines = source.split("\n")
    out: list[str] = []
    label = None
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        match = EXERCISE_COMMENT.match(line)
        if match and not inside:
            label = f"Exercise {match[1]}: {match[2]}"
        if stripped == BEGIN_CODE:
            if inside:
                raise ReleaseError(f"{where}, line {number}: {BEGIN_CODE} inside another region")
            if label is None:
                raise ReleaseError(
                    f"{where}, line {number}: a solution region needs a comment "
                    "'# Exercise N.M: TITLE' above it in the same cell"
                )
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({_quoted(label)})")
        elif stripped == END_CODE:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {END_CODE} without {BEGIN_CODE}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {BEGIN_CODE} is never closed by {END_CODE}")
    return "\n".join(out)


def strip_markdown_solutions(source: str, where: str) -> str:
    """Replace each ``<!-- BEGIN/END SOLUTION -->`` region of a markdown cell by a prompt."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN_MARKDOWN:
            if inside:
                raise ReleaseError(f"{where}, line {number}: {BEGIN_MARKDOWN} inside a region")
            inside = True
            out.append(ANSWER_PROMPT)
        elif stripped == END_MARKDOWN:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {END_MARKDOWN} without a start")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {BEGIN_MARKDOWN} is never closed by {END_MARKDOWN}")
    return "\n".join(out)


def _quoted(text: str) -> str:
    """A double-quoted Python string literal (ruff-format style)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- notebooks


def content_hash(nb: nbformat.NotebookNode) -> str:
    """sha256 of what a student can change: cell types, sources, outputs, counts."""
    cells = [
        [cell.cell_type, cell.source, cell.get("outputs", []), cell.get("execution_count")]
        for cell in nb.cells
    ]
    blob = json.dumps(cells, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def is_speaker_notes(cell) -> bool:
    """True for a cell that RISE and reveal.js show only in the speaker view."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"


def make_student_notebook(solution: nbformat.NotebookNode, source_name: str):
    """Return the student edition of ``solution`` (a new notebook; the input is unchanged)."""
    nb = copy.deepcopy(solution)
    nb.cells = [cell for cell in nb.cells if not is_speaker_notes(cell)]
    for index, cell in enumerate(nb.cells):
        where = f"{source_name}, cell {index} (id {cell.get('id', '?')})"
        if cell.cell_type == "code":
            cell.source = strip_code_solutions(cell.source, where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown_solutions(cell.source, where)
        if cell.get("id") == online.BADGES_ID:
            cell.source = online.badges_markdown("notebooks", Path(source_name).stem)
    nb.metadata["course"] = {
        "edition": "student",
        "source": source_name,
        "generated_by": "python -m helpers.release",
        "content_sha256": content_hash(nb),
    }
    return nb


def serialize(nb: nbformat.NotebookNode) -> str:
    """The exact text written to disk (deterministic: same notebook, same bytes)."""
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4) + "\n"


def is_unedited(nb: nbformat.NotebookNode) -> bool:
    """True if ``nb`` is a generated notebook whose content matches its recorded hash."""
    recorded = nb.metadata.get("course", {}).get("content_sha256")
    return recorded is not None and recorded == content_hash(nb)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASKED_MODE = 0o666 & ~_current_umask()  # what open() would give a new file


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, _UMASKED_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- release


@dataclass(frozen=True)
class Outcome:
    """What happened to one student notebook: ``status`` and a sentence for the user."""

    path: Path
    status: str  # "written", "updated", "up to date", "refused", "replaced", "missing",
    # "stale", "edited", "orphan", "error"
    message: str

    @property
    def ok(self) -> bool:
        return self.status in {"written", "updated", "up to date", "replaced"}


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def release_one(
    solution_path: Path, notebooks_dir: Path, *, force: bool = False, check: bool = False
) -> Outcome:
    """Generate (or, with ``check``, only compare) the student edition of one solution."""
    target = notebooks_dir / solution_path.name
    shown = _display(target)
    try:
        source_name = f"solutions/{solution_path.name}"
        text = serialize(make_student_notebook(_read(solution_path), source_name))
    except (ReleaseError, nbformat.ValidationError, json.JSONDecodeError) as error:
        return Outcome(target, "error", f"{_display(solution_path)}: {error}")

    if not target.exists():
        if check:
            return Outcome(target, "missing", f"{shown} is missing")
        _write_atomic(target, text)
        return Outcome(target, "written", f"{shown} written")

    existing_text = target.read_text(encoding="utf-8")
    if existing_text == text:
        return Outcome(target, "up to date", f"{shown} is up to date")
    try:
        unedited = is_unedited(nbformat.reads(existing_text, as_version=4))
    except (nbformat.reader.NotJSONError, json.JSONDecodeError, ValueError):
        unedited = False
    if check:
        if unedited:
            return Outcome(target, "stale", f"{shown} is out of date with {source_name}")
        return Outcome(target, "edited", f"{shown} differs from what the release tool made")
    if unedited:
        _write_atomic(target, text)
        return Outcome(target, "updated", f"{shown} updated")
    if not force:
        return Outcome(
            target,
            "refused",
            f"{shown} NOT overwritten: it has been edited or run since it was generated, "
            "and your work is in it. Rename it to keep it, or run again with --force "
            f"(a copy then goes to {_display(notebooks_dir / BACKUP_DIR)}/).",
        )
    backup = _backup(target)
    _write_atomic(target, text)
    return Outcome(target, "replaced", f"{shown} replaced; your version is in {_display(backup)}")


def _backup(path: Path) -> Path:
    """Copy ``path`` into ``.backup/`` beside it with a timestamp; never overwrite a backup."""
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = folder / f"{path.stem}.{stamp}{path.suffix}"
    number = 1
    while backup.exists():
        number += 1
        backup = folder / f"{path.stem}.{stamp}-{number}{path.suffix}"
    shutil.copy2(path, backup)
    return backup


def select_solutions(solutions_dir: Path, names: list[str]) -> list[Path]:
    """The solution notebooks to release: all of them, or those named by stem or file name."""
    available = sorted(solutions_dir.glob("*.ipynb"))
    if not names:
        return available
    by_stem = {path.stem: path for path in available}
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        if stem not in by_stem:
            known = ", ".join(by_stem) or "none"
            raise ReleaseError(f"no solution notebook named {name!r} (available: {known})")
        chosen.append(by_stem[stem])
    return chosen


def release(
    names: list[str] | None = None,
    *,
    solutions_dir: Path = REPO_ROOT / "solutions",
    notebooks_dir: Path = REPO_ROOT / "notebooks",
    force: bool = False,
    check: bool = False,
) -> list[Outcome]:
    """Release (or check) the named solution notebooks; also report orphans when checking."""
    solutions = select_solutions(Path(solutions_dir), list(names or []))
    outcomes = [
        release_one(path, Path(notebooks_dir), force=force, check=check) for path in solutions
    ]
    if check and not names:
        stems = {path.stem for path in solutions}
        for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
            if path.stem not in stems:
                message = f"{_display(path)} has no source in {_display(Path(solutions_dir))}/"
                outcomes.append(Outcome(path, "orphan", message))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.release",
        description="Generate the student notebooks in notebooks/ from solutions/.",
    )
    parser.add_argument("names", nargs="*", help="notebooks to release (default: all)")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    parser.add_argument(
        "--force", action="store_true", help="replace edited notebooks (backed up first)"
    )
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions")
    parser.add_argument("--notebooks", type=Path, default=REPO_ROOT / "notebooks")
    args = parser.parse_args(argv)
    if args.check and args.force:
        parser.error("--check and --force cannot be combined")
    try:
        outcomes = release(
            args.names,
            solutions_dir=args.solutions,
            notebooks_dir=args.notebooks,
            force=args.force,
            check=args.check,
        )
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    if not outcomes:
        print(f"release: no solution notebooks in {_display(args.solutions)}/")
        return 0
    problems = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in outcomes:
        if outcome.ok:
            print(outcome.message)
        else:
            print(f"{outcome.status.upper()}: {outcome.message}", file=sys.stderr)
    if problems and args.check:
        print("release --check: notebooks/ is out of date; run `make release`", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
