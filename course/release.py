"""Generate the student notebooks in ``notebooks/`` from the instructor's ``solutions/``.

Usage (``python -m helpers.release`` is the same command under its old name)::

    python -m course release                 # regenerate every student notebook
    python -m course release 01_convolution  # only some (stems, prefixes like 01, or files)
    python -m course release --check         # exit 1 if notebooks/ is out of date
    python -m course release --force         # also replace notebooks you have edited
                                             # (a copy goes to notebooks/.backup/ first)

What changes between the editions, one nbconvert ``Preprocessor`` each (:data:`STEPS`, in
that order; the markers are :mod:`course.notebook`'s):

* speaker notes (cells whose ``slideshow.slide_type`` is ``notes``) are left out: they are
  for the instructor presenting ``solutions/`` as slides, and often give answers away
  (:class:`DropSpeakerNotes`);
* in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
  ``raise NotImplementedError("Exercise N.M: TITLE")`` with the same indentation; N.M and
  TITLE come from the nearest ``# Exercise N.M: TITLE`` comment above the region; in a
  markdown cell, ``<!-- BEGIN SOLUTION -->`` ... ``<!-- END SOLUTION -->`` becomes an answer
  prompt (:class:`ClearSolutions`);
* every output and execution count is cleared (nbconvert's ``ClearOutputPreprocessor``);
* the Colab and Binder badges (the ``badges`` cell, :mod:`course.online`) point at the
  student edition (:class:`RewriteBadges`);
* the notebook records a hash of its content in ``metadata.course`` (:class:`StampContentHash`).

A notebook whose content no longer matches that hash has been edited (or run) by a student,
and is never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, Preprocessor

from course import online
from course.files import BACKUP_DIR, backup, write_atomic
from course.notebook import (  # ANSWER_PROMPT, content_hash, is_unedited: also ours by name
    ANSWER_PROMPT,
    BADGES_ID,
    BEGIN_CODE,
    BEGIN_MARKDOWN,
    END_CODE,
    END_MARKDOWN,
    EXERCISE,
    NOTEBOOKS,
    ROOT,
    SOLUTIONS,
    SelectionError,
    content_hash,
    exercise_label,
    is_speaker_notes,
    is_unedited,
    notebooks,
    select,
)

REPO_ROOT = ROOT  # the old name
GENERATED_BY = "python -m helpers.release"  # stamped in every student notebook: keep it


class ReleaseError(ValueError):
    """A solution notebook that cannot be turned into a student notebook."""


# --------------------------------------------------------------------------- regions


def strip_code_solutions(source: str, where: str) -> str:
    """Replace each ``### BEGIN/END SOLUTION`` region of a code cell by a ``raise``.

    The ``raise`` keeps the region's indentation and names the exercise of the nearest
    ``# Exercise N.M: TITLE`` comment above the region (a :class:`ReleaseError` if none).
    """

    def replacement(line: str, number: int, kept: list[str]) -> str:
        labels = [exercise_label(match) for match in map(EXERCISE.match, kept) if match]
        if not labels:
            raise ReleaseError(
                f"{where}, line {number}: a solution region needs a comment "
                "'# Exercise N.M: TITLE' above it in the same cell"
            )
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}raise NotImplementedError({_quoted(labels[-1])})"

    return _replace_regions(source, where, BEGIN_CODE, END_CODE, replacement)


def strip_markdown_solutions(source: str, where: str) -> str:
    """Replace each ``<!-- BEGIN/END SOLUTION -->`` region of a markdown cell by a prompt."""
    return _replace_regions(
        source, where, BEGIN_MARKDOWN, END_MARKDOWN, lambda line, number, kept: ANSWER_PROMPT
    )


def _replace_regions(source: str, where: str, begin: str, end: str, replacement) -> str:
    """Replace the lines from ``begin`` to ``end`` (whole lines, stripped) by one line.

    ``replacement(begin_line, line_number, lines_kept_so_far)`` gives that line. A region
    that opens inside another, closes without opening, or never closes is a
    :class:`ReleaseError` naming ``where`` and the line.
    """
    kept: list[str] = []
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ReleaseError(f"{where}, line {number}: {begin} inside another region")
            inside = True
            kept.append(replacement(line, number, kept))
        elif stripped == end:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {end} without {begin}")
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        raise ReleaseError(f"{where}: {begin} is never closed by {end}")
    return "\n".join(kept)


def _quoted(text: str) -> str:
    """A double-quoted Python string literal (ruff-format style)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- the steps


class DropSpeakerNotes(Preprocessor):
    """Leave out the speaker notes (``notes`` cells): they often give answers away."""

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if not is_speaker_notes(cell)]
        return nb, resources


class ClearSolutions(Preprocessor):
    """Replace the solution regions of code cells by a ``raise``, of markdown by a prompt.

    ``resources["source_name"]`` (e.g. ``"solutions/02_x.ipynb"``) names the notebook in a
    :class:`ReleaseError`.
    """

    def preprocess_cell(self, cell, resources, index):
        where = f"{resources['source_name']}, cell {index} (id {cell.get('id', '?')})"
        if cell.cell_type == "code":
            cell.source = strip_code_solutions(cell.source, where)
        elif cell.cell_type == "markdown":
            cell.source = strip_markdown_solutions(cell.source, where)
        return cell, resources


class RewriteBadges(Preprocessor):
    """Point the ``badges`` cell at the student edition of the same notebook."""

    def preprocess_cell(self, cell, resources, index):
        if cell.get("id") == BADGES_ID:
            stem = Path(resources["source_name"]).stem
            cell.source = online.badges_markdown("notebooks", stem)
        return cell, resources


class StampContentHash(Preprocessor):
    """Record the edition, the source and :func:`content_hash` in ``metadata.course``."""

    def preprocess(self, nb, resources):
        nb.metadata["course"] = {
            "edition": "student",
            "source": resources["source_name"],
            "generated_by": GENERATED_BY,
            "content_sha256": content_hash(nb),
        }
        return nb, resources


def _steps() -> list[Preprocessor]:
    """The release, in order: what the solution loses on its way to the student."""
    return [
        DropSpeakerNotes(),
        ClearSolutions(),
        # per-cell timing metadata goes with the outputs; cell metadata is otherwise kept
        ClearOutputPreprocessor(remove_metadata_fields={"execution"}),
        RewriteBadges(),
        StampContentHash(),  # last: it hashes what the student gets
    ]


STEPS = tuple(type(step) for step in _steps())


def make_student_notebook(solution: nbformat.NotebookNode, source_name: str):
    """Return the student edition of ``solution`` (a new notebook; the input is unchanged)."""
    nb = copy.deepcopy(solution)
    resources = {"source_name": source_name}
    for step in _steps():
        nb, resources = step.preprocess(nb, resources)
    return nb


def serialize(nb: nbformat.NotebookNode) -> str:
    """The exact text written to disk (deterministic: same notebook, same bytes)."""
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4) + "\n"


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
        write_atomic(target, text)
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
        write_atomic(target, text)
        return Outcome(target, "updated", f"{shown} updated")
    if not force:
        return Outcome(
            target,
            "refused",
            f"{shown} NOT overwritten: it has been edited or run since it was generated, "
            "and your work is in it. Rename it to keep it, or run again with --force "
            f"(a copy then goes to {_display(notebooks_dir / BACKUP_DIR)}/).",
        )
    saved = backup(target)
    write_atomic(target, text)
    return Outcome(target, "replaced", f"{shown} replaced; your version is in {_display(saved)}")


def select_solutions(solutions_dir: Path, names: list[str]) -> list[Path]:
    """The solution notebooks to release: all, or those ``names`` name (:func:`select`)."""
    try:
        chosen = select(names, solutions_dir)
    except SelectionError as error:
        raise ReleaseError(str(error).replace("no notebook", "no solution notebook")) from None
    sources = [Path(solutions_dir) / path.name for path in chosen]
    for source in sources:  # a notebook named by its path in another folder
        if not source.exists():
            raise ReleaseError(f"no solution notebook {source.name} in {_display(source.parent)}/")
    return sources


def release(
    names: list[str] | None = None,
    *,
    solutions_dir: Path = SOLUTIONS,
    notebooks_dir: Path = NOTEBOOKS,
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
        for path in notebooks(Path(notebooks_dir)):
            if path.stem not in stems:
                message = f"{_display(path)} has no source in {_display(Path(solutions_dir))}/"
                outcomes.append(Outcome(path, "orphan", message))
    return outcomes


def main(argv: list[str] | None = None, prog: str = "python -m course release") -> int:
    """The command line; returns the exit code (0 done, 1 a notebook not released, 2 usage)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Generate the student notebooks in notebooks/ from solutions/.",
    )
    parser.add_argument(
        "names", nargs="*", help="notebooks to release: stems, prefixes or files (default: all)"
    )
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    parser.add_argument(
        "--force", action="store_true", help="replace edited notebooks (backed up first)"
    )
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS)
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS)
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
