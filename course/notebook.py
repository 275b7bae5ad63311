"""The course's notebook format, in one place: where the notebooks are and what their cells mean.

Every tool of :mod:`course` (release, execute, slides, benchmark, portable) and every test that
reads a notebook asks this module:

* the repository root (:data:`ROOT`) and the two editions (:data:`SOLUTIONS`, :data:`NOTEBOOKS`);
* which files are the course's notebooks (:func:`notebooks`: ``NN_name.ipynb``, in course order)
  and how a command line names some of them (:func:`select`: a stem, a prefix such as ``03``, a
  file, or a folder);
* what a cell is: its slide type (:func:`slide_type`), speaker notes (:func:`is_speaker_notes`),
  shown in a deck (:func:`is_shown`), the badges and Colab set-up cells (:data:`BADGES_ID`,
  :data:`COLAB_SETUP_ID`);
* the exercise markers: the ``# Exercise N.M: TITLE`` comment (:data:`EXERCISE`), the heading
  of a written exercise (:data:`WRITTEN_EXERCISE`), the solution regions of code
  (:data:`BEGIN_CODE`, :data:`END_CODE`) and of markdown cells (:data:`BEGIN_MARKDOWN`,
  :data:`END_MARKDOWN`), the student's answer prompt (:data:`ANSWER_PROMPT`), and every exercise
  of a notebook with its check cell (:func:`exercises`);
* whether a student notebook is still as the release made it (:func:`content_hash`,
  :func:`is_unedited`);
* what reveal.js counts as a slide (:func:`count_slides`) and the widget-view output entry
  (:data:`WIDGET_VIEW`).

It imports nothing outside the standard library, so the doctor can use it on a student's machine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder with ``solutions/``, ``notebooks/`` and ``helpers/``)."""
SOLUTIONS = ROOT / "solutions"
"""The instructor's edition: the single source, with stored outputs."""
NOTEBOOKS = ROOT / "notebooks"
"""The student edition, generated from :data:`SOLUTIONS` by ``python -m course release``."""
EDITIONS = ("solutions", "notebooks")
PATTERN = "[0-9][0-9]_*.ipynb"
"""The file names of the course's notebooks: two digits of course order, a stem."""

# --------------------------------------------------------------------------- cells

SLIDE_TYPES = frozenset({"slide", "subslide", "fragment", "-", "skip", "notes"})
HIDDEN = frozenset({"skip", "notes"})
"""Slide types that a deck does not show (speaker notes open with the S key)."""
BADGES_ID = "badges"
"""Id of the first cell of every notebook: the Colab and Binder badges (markdown)."""
COLAB_SETUP_ID = "colab-setup"
"""Id of the second cell: fetches the course on Colab, does nothing elsewhere (code)."""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
"""The output entry of a live ipywidget: a model id that a static notebook cannot show."""
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def drop_widget_views(outputs: list) -> list:
    """Remove the widget-view (and widget-state) entries of display outputs; drop outputs left
    with no data. What stays of a live widget is its static fallback (``image/png``,
    ``text/plain``)."""
    kept = []
    for output in outputs:
        data = output.get("data")
        if data is not None and (WIDGET_VIEW in data or WIDGET_STATE in data):
            data.pop(WIDGET_VIEW, None)
            data.pop(WIDGET_STATE, None)
            if not data:
                continue
        kept.append(output)
    return kept


def strip_widget_state(nb) -> bool:
    """Remove saved widget state (``metadata.widgets``) and widget views from a notebook (a
    dict or NotebookNode, changed in place); return whether anything was removed."""
    changed = nb.get("metadata", {}).pop("widgets", None) is not None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            before = json.dumps(cell.get("outputs", []))
            cell["outputs"] = drop_widget_views(cell.get("outputs", []))
            changed |= json.dumps(cell["outputs"]) != before
    return changed


# --------------------------------------------------------------------------- exercises

EXERCISE = re.compile(r"^\s*#\s*Exercise\s+(\d+)\.(\d+[a-z]?)\s*:\s*(\S.*?)\s*$", re.MULTILINE)
"""The comment above an exercise's solution region: groups (notebook, number, title)."""
BEGIN_CODE, END_CODE = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_MARKDOWN, END_MARKDOWN = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
WRITTEN_EXERCISE = re.compile(
    r"^\s*#+\s*Exercise\s+(\d+)\.(\d+[a-z]?)\s*\(written\)\s*:\s*(\S.*?)\s*$", re.MULTILINE
)
"""The heading of a written exercise (markdown): groups (notebook, number, title)."""
ANSWER_PROMPT = "**Your answer:** _double-click this cell and write your answer here._"
"""What a markdown solution region becomes in the student edition; the student replaces it."""


def slide_type(cell) -> str:
    """``metadata.slideshow.slide_type`` of ``cell``; ``"-"`` (continue) when it has none."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def is_speaker_notes(cell) -> bool:
    """True for a cell that RISE and reveal.js show only in the speaker view."""
    return slide_type(cell) == "notes"


def is_shown(cell) -> bool:
    """True for a cell that a slide deck shows (neither skipped nor speaker notes)."""
    return slide_type(cell) not in HIDDEN


def count_slides(nb) -> int:
    """What reveal.js counts: one per ``slide`` or ``subslide`` cell, and the first shown cell."""
    shown = [slide_type(cell) for cell in nb.cells if is_shown(cell)]
    if not shown:
        return 0
    return 1 + sum(kind in {"slide", "subslide"} for kind in shown[1:])


def exercise_label(match: re.Match) -> str:
    """``"Exercise N.M: TITLE"`` from a match of :data:`EXERCISE`."""
    return f"Exercise {match[1]}.{match[2]}: {match[3]}"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook, where it is, and (for a code exercise) its check cell.

    ``cell`` is the index of the code cell with the ``# Exercise N.M: TITLE`` comment, or of the
    markdown cell with the written exercise's heading; ``check`` is the index of the next code
    cell (the ``check.NAME(answer)`` cell), None for a written exercise or when there is none.
    """

    number: str  # "1.4b"
    title: str
    written: bool
    cell: int
    check: int | None = None


def exercises(nb) -> list[Exercise]:
    """Every exercise of ``nb`` in cell order: code ones (:data:`EXERCISE`) and written ones."""
    cells = nb["cells"]
    found = []
    for index, cell in enumerate(cells):
        source = cell["source"]
        if cell["cell_type"] == "code":
            after = (i for i in range(index + 1, len(cells)) if cells[i]["cell_type"] == "code")
            check = next(after, None)
            found += [
                Exercise(f"{m[1]}.{m[2]}", m[3], False, index, check)
                for m in EXERCISE.finditer(source)
            ]
        elif cell["cell_type"] == "markdown":
            found += [
                Exercise(f"{m[1]}.{m[2]}", m[3], True, index)
                for m in WRITTEN_EXERCISE.finditer(source)
            ]
    return found


def content_hash(nb) -> str:
    """sha256 of what a student can change: cell types, sources, outputs, counts."""
    cells = [
        [cell["cell_type"], cell["source"], cell.get("outputs", []), cell.get("execution_count")]
        for cell in nb["cells"]
    ]
    blob = json.dumps(cells, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def is_unedited(nb) -> bool:
    """True if ``nb`` is a released notebook whose content matches its recorded hash."""
    recorded = nb.get("metadata", {}).get("course", {}).get("content_sha256")
    return recorded is not None and recorded == content_hash(nb)


# --------------------------------------------------------------------------- discovery


class SelectionError(ValueError):
    """A name on the command line that selects no notebook, or more than one."""


def notebooks(folder: Path = SOLUTIONS) -> list[Path]:
    """The course's notebooks in ``folder``, in course order (``00_welcome.ipynb``, ...)."""
    return sorted(Path(folder).glob(PATTERN))


def stems(folder: Path = SOLUTIONS) -> list[str]:
    """The stems of :func:`notebooks` (``"00_welcome"``, ...)."""
    return [path.stem for path in notebooks(folder)]


def select(names: Iterable[str], folder: Path = SOLUTIONS) -> list[Path]:
    """The notebooks that ``names`` name (all of ``folder``'s when there are none).

    One rule for every tool. Each name is

    * a folder (absolute, or relative to the current folder or to :data:`ROOT`): its notebooks;
    * a notebook file that exists there: that file;
    * otherwise a stem or a stem's prefix, with or without ``.ipynb`` and folders
      (``03``, ``03_receptive_fields``, ``solutions/03_receptive_fields.ipynb``): the one
      notebook of ``folder`` it names. None or several is a :class:`SelectionError`.
    """
    names = list(names)
    available = notebooks(folder)
    if not names:
        return available
    chosen: list[Path] = []
    for name in names:
        existing = _existing(name)
        if existing is not None and existing.is_dir():
            chosen += notebooks(existing)
        elif existing is not None and existing.suffix == ".ipynb":
            chosen.append(existing)
        else:
            chosen.append(_by_stem(name, available, Path(folder)))
    return chosen


def _existing(name: str) -> Path | None:
    for candidate in (Path(name), ROOT / name):
        if candidate.exists():
            return candidate.resolve()
    return None


def _by_stem(name: str, available: list[Path], folder: Path) -> Path:
    stem = Path(name).name.removesuffix(".ipynb")
    exact = [path for path in available if path.stem == stem]
    matches = exact or [path for path in available if path.stem.startswith(stem)]
    if len(matches) == 1:
        return matches[0]
    where = _shown(folder)
    if not matches:
        known = ", ".join(path.stem for path in available) or "none"
        raise SelectionError(f"no notebook named {name!r} in {where}/ (available: {known})")
    found = ", ".join(path.stem for path in matches)
    raise SelectionError(f"{name!r} names {len(matches)} notebooks in {where}/, not one: {found}")


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
