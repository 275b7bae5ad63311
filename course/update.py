"""``python -m course update`` (``make update``): bring the course up to date, keep every answer.

A student's command. A plain ``git pull`` either refuses ("your local changes would be
overwritten") or leaves a JSON conflict inside an ``.ipynb``; this command instead:

1. refuses, with the way out, when the folder is not a clone of the course, has uncommitted
   changes outside ``notebooks/``, or has commits of its own (a fast-forward is impossible);
   nothing is changed then;
2. saves a timestamped copy of every notebook the student changed into ``notebooks/.backup/``
   (the tool never deletes one);
3. runs ``git fetch`` and fast-forwards to the upstream branch, with the student's notebooks set
   aside (restored to their generated form) so that git never conflicts on them;
4. writes, for each notebook the student had changed, the new edition with the student's work
   carried over (:func:`carry`): each exercise cell (found by its label, e.g.
   ``Exercise 1.1: conv1d_naive``) and each written answer gets the student's text; the
   student's own cells stay after the cell they followed; an exercise that no longer exists, or
   whose signature (its ``def`` lines) changed, is reported and the old text is kept in a
   clearly marked pair of cells, never dropped;
5. prints a summary per notebook: answers carried, new exercises, what needs attention.

Whatever fails after step 2, the clone goes back to where it was and the notebooks are restored
byte for byte. ``--dry-run`` fetches and reports what would happen, changing nothing else.

The old generated edition of a notebook is ``git show HEAD:notebooks/X.ipynb`` before the
update: the student's cells whose ids are not in it are the student's own. Runs on a student's
machine: it imports only the standard library, nbformat and :mod:`course.notebook`, and calls
plain ``git``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.files import BACKUP_DIR, backup, write_atomic
from course.notebook import (
    ANSWER_PROMPT,
    EXERCISE,
    PATTERN,
    ROOT,
    WRITTEN_EXERCISE,
    exercise_label,
)

PROG = "python -m course update"
FOLDER = "notebooks"
KEPT_TAG = "kept-by-update"
"""Tag of the marked cells that hold a student's text that found no place in the new edition."""
GIT_TIMEOUT_S = 600


class Refused(Exception):
    """The update cannot start; nothing has been changed. The message says why and what to do."""


class GitError(RuntimeError):
    """A git command failed."""


# --------------------------------------------------------------------------- git


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``git -C root ARGS`` (text output captured); a :class:`GitError` if it fails."""
    env = {**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    result = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
        timeout=GIT_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        message = (result.stderr or result.stdout).strip()
        raise GitError(f"git {' '.join(args)} failed: {message}")
    return result


def _git_bytes(root: Path, *args: str) -> bytes | None:
    """The raw stdout of a git command, None if it fails (e.g. a path not in that commit)."""
    result = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        timeout=GIT_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return result.stdout if result.returncode == 0 else None


def _out(root: Path, *args: str) -> str:
    return git(root, *args).stdout.strip()


def _is_course_notebook(relpath: str) -> bool:
    """``notebooks/NN_name.ipynb`` (not in a subfolder such as ``.backup/``)."""
    path = Path(relpath)
    return path.parent == Path(FOLDER) and path.match(PATTERN)


def _dirty(root: Path) -> list[tuple[str, str]]:
    """Uncommitted changes of tracked files: ``(status XY, path)``, renames as both paths."""
    text = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=no").stdout
    fields = text.split("\0")
    found = []
    index = 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        found.append((status, path))
        if status[0] in "RC":  # the next field is the origin of a rename or copy
            found.append((status, fields[index]))
            index += 1
    return found


# --------------------------------------------------------------------------- the state


@dataclass
class State:
    """Where the clone stands before the update."""

    root: Path
    branch: str
    upstream: str  # "origin/main"
    head: str = ""  # commit ids
    target: str = ""
    saved: dict[str, bytes | None] = field(default_factory=dict)
    """Every course notebook with uncommitted changes: its bytes (None: deleted by the student)."""
    index: bytes | None = None
    """git's index (the staging area) before the update, put back if the update fails."""
    others: set[str] = field(default_factory=set)
    """Other files in notebooks/ with uncommitted changes: git keeps them, unless the update
    changes them too (then it refuses)."""


def inspect(root: Path) -> State:
    """Check that ``root`` is a clean enough clone of the course; a :class:`Refused` if not."""
    root = Path(root)
    if shutil.which("git") is None:
        raise Refused("git is not installed: install it (https://git-scm.com), then run again.")
    top = git(root, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
        raise Refused(
            f"{root} is not a git clone of the course, so it cannot be updated with git. "
            "Get the course with `git clone URL`, then copy your notebooks into its notebooks/."
        )
    tracked = git(root, "ls-files", "-z", "--", f"{FOLDER}/").stdout.split("\0")
    if not any(_is_course_notebook(path) for path in tracked):
        raise Refused(f"{root} is a git clone, but not of the course: it has no {FOLDER}/NN_*.")
    if git(root, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False).returncode == 0:
        raise Refused("a git merge is in progress: finish it or `git merge --abort`, then again.")
    for folder in ("rebase-merge", "rebase-apply"):
        if (root / _out(root, "rev-parse", "--git-path", folder)).exists():
            raise Refused("a git rebase is in progress: `git rebase --abort` it, then again.")
    branch = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.strip()
    if not branch:
        raise Refused(
            "this clone is not on a branch (a detached HEAD): `git switch main` "
            "(or the branch you cloned), then run again."
        )
    upstream = git(
        root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", check=False
    ).stdout.strip()
    if not upstream:
        raise Refused(
            f"the branch {branch} follows no remote branch, so there is nothing to update from: "
            f"`git branch --set-upstream-to origin/{branch}` if the course came from origin."
        )
    state = State(root, branch, upstream)
    committed = set(git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD").stdout.split("\0"))
    outside, unmerged = [], []
    for status, path in _dirty(root):
        if "U" in status or status in ("AA", "DD"):
            unmerged.append(path)
        elif _is_course_notebook(path) and path in committed:
            state.saved[path] = None
        elif path.startswith(f"{FOLDER}/"):
            state.others.add(path)  # the student's own files in notebooks/, added to git
        else:
            outside.append(path)
    if unmerged:
        raise Refused(f"unresolved merge conflicts in {', '.join(unmerged)}: resolve them first.")
    if outside:
        shown = ", ".join(sorted(set(outside))[:8]) + (" ..." if len(set(outside)) > 8 else "")
        raise Refused(
            f"you have uncommitted changes outside {FOLDER}/ ({shown}); the update changes only "
            "the course's files, and would overwrite yours. Keep them with `git stash` (and "
            "`git stash pop` after the update), or undo them with `git checkout -- FILE`, "
            "then run again."
        )
    for path in state.saved:
        file = root / path
        state.saved[path] = file.read_bytes() if file.exists() else None
    return state


def fetch(state: State) -> None:
    """``git fetch`` the upstream's remote; set ``head`` and ``target`` (the upstream commit)."""
    remote = git(state.root, "config", f"branch.{state.branch}.remote", check=False).stdout.strip()
    try:
        git(state.root, "fetch", "--quiet", remote or "origin")
    except GitError as error:
        raise Refused(f"could not fetch the course ({error}). Are you online?") from None
    state.head = _out(state.root, "rev-parse", "HEAD")
    state.target = _out(state.root, "rev-parse", "@{upstream}")


def check_fast_forward(state: State) -> bool:
    """True when there is something to update; a :class:`Refused` when history diverged."""
    root = state.root
    if state.head == state.target or _is_ancestor(root, state.target, state.head):
        return False
    if not _is_ancestor(root, state.head, state.target):
        found = git(root, "merge-base", state.head, state.target, check=False)
        base = found.stdout.strip()
        if found.returncode != 0 or not base:
            raise Refused(
                f"your branch {state.branch} has no history in common with {state.upstream}: "
                "is it a clone of the course? Clone the course again and copy your notebooks in."
            )
        mine = _out(root, "rev-list", "--count", f"{state.target}..{state.head}")
        raise Refused(
            f"your branch {state.branch} has {mine} commit(s) of its own that {state.upstream} "
            "does not have (did you commit your notebooks?), so the course cannot simply move "
            "forward. To let the update carry your work, undo those "
            "commits while keeping every file exactly as it is:\n"
            f"    git branch my-work-before-update      # the commits stay there, just in case\n"
            f"    git reset {base[:12]}                  # your files do not change\n"
            "then run `make update` again. (Changes you committed outside notebooks/ then show "
            "as uncommitted changes: `git stash` them first.)"
        )
    return True


def _is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    args = ("merge-base", "--is-ancestor", ancestor, descendant)
    return git(root, *args, check=False).returncode == 0


def check_untracked(state: State) -> None:
    """Refuse when the update brings a file where the student has an untracked file."""
    added = git(
        state.root,
        "diff",
        "--no-renames",
        "--name-only",
        "-z",
        "--diff-filter=A",
        state.head,
        state.target,
    ).stdout.split("\0")
    clashes = [path for path in added if path and os.path.lexists(state.root / path)]
    changed = git(
        state.root, "diff", "--no-renames", "--name-only", "-z", state.head, state.target
    ).stdout.split("\0")
    clashes += sorted(state.others & set(changed) - set(clashes))
    if clashes:
        raise Refused(
            f"the update brings {', '.join(clashes)}, and you have a file of your own there "
            "(not in git). Rename or move it, then run again."
        )


# --------------------------------------------------------------------------- carrying


@dataclass
class Report:
    """What happened to one notebook, for the summary."""

    name: str
    carried: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    extra_cells: int = 0
    edits_kept: int = 0
    note: str = ""  # "unchanged by the update", "no longer part of the course", ...
    backup: Path | None = None

    def lines(self) -> list[str]:
        head = f"{self.name}: "
        parts = []
        if self.note:
            parts.append(self.note)
        if self.carried:
            parts.append(f"{len(self.carried)} answer(s) carried ({', '.join(self.carried)})")
        if self.extra_cells:
            parts.append(f"{self.extra_cells} cell(s) of your own kept")
        if self.edits_kept:
            parts.append(f"{self.edits_kept} edit(s) of course cells kept")
        if self.new:
            parts.append(f"new: {', '.join(self.new)}")
        lines = [head + ("; ".join(parts) if parts else "nothing of yours to carry")]
        lines += [f"    ⚠️ {text}" for text in self.attention]
        if self.backup is not None:
            lines.append(f"    your notebook as it was: {_display(self.backup, self.backup)}")
        return lines


def _answer_keys(nb) -> dict[str, str]:
    """``cell id -> label`` of every cell that holds an answer in a generated edition.

    A code cell with ``# Exercise N.M: TITLE``; a markdown cell with the answer prompt (labelled
    by the written exercise's heading in it or in the nearest markdown cell above).
    """
    keys = {}
    heading = None
    for cell in nb.cells:
        source = cell.source
        if cell.cell_type == "code":
            match = EXERCISE.search(source)
            if match:
                keys[cell.id] = exercise_label(match)
        elif cell.cell_type == "markdown":
            match = WRITTEN_EXERCISE.search(source)
            if match:
                heading = exercise_label(match) + " (written)"
            if ANSWER_PROMPT in source:
                keys[cell.id] = heading or f"the written answer of cell {cell.id}"
    return keys


def _title(label: str) -> str:
    return label.split(": ", 1)[-1]


def match_exercises(old, new) -> dict[str, str]:
    """``old cell id -> new cell id`` for the answer cells: by label, by id, then by title."""
    old_keys, new_keys = _answer_keys(old), _answer_keys(new)
    free = dict(new_keys)  # new answer cells not matched yet
    matched: dict[str, str] = {}

    def take(old_id: str, new_id: str) -> None:
        matched[old_id] = new_id
        del free[new_id]

    def kind(label: str) -> bool:
        return label.endswith("(written)")

    for old_id, label in old_keys.items():
        same = [new_id for new_id, other in free.items() if other == label]
        if len(same) == 1:
            take(old_id, same[0])
    for old_id, label in old_keys.items():
        if old_id not in matched and old_id in free and kind(free[old_id]) == kind(label):
            take(old_id, old_id)
    for old_id, label in old_keys.items():
        if old_id in matched:
            continue
        same = [new_id for new_id, other in free.items() if _title(other) == _title(label)]
        others = [o for o, text in old_keys.items() if _title(text) == _title(label)]
        if len(same) == 1 and len(others) == 1 and kind(free[same[0]]) == kind(label):
            take(old_id, same[0])
    return matched


SIGNATURE = re.compile(r"^\s*(?:async\s+def|def|class)\s+\w+")


def signature(source: str) -> list[str]:
    """The ``def``/``class`` lines of a cell, a multi-line header joined, spaces normalised."""
    found = []
    lines = source.split("\n")
    index = 0
    while index < len(lines):
        if SIGNATURE.match(lines[index]):
            header = [lines[index].strip()]
            while not header[-1].rstrip().endswith(":") and index + 1 < len(lines):
                index += 1
                header.append(lines[index].strip())
            found.append(re.sub(r"\s+", " ", " ".join(header)).replace("( ", "("))
        index += 1
    return found


def written_answer(old_source: str, student_source: str) -> list[str] | None:
    """The lines that stand where the answer prompt was; None when the prompt is still there."""
    old, mine = old_source.split("\n"), student_source.split("\n")
    prompt = next(i for i, line in enumerate(old) if ANSWER_PROMPT in line)
    before, after = old[:prompt], old[prompt + 1 :]
    start = 0
    while start < len(before) and start < len(mine) and mine[start] == before[start]:
        start += 1
    end = 0
    while (
        end < len(after)
        and start + end < len(mine)
        and mine[len(mine) - 1 - end] == after[len(after) - 1 - end]
    ):
        end += 1
    answer = mine[start : len(mine) - end]
    if [line.strip() for line in answer] == [old[prompt].strip()]:
        return None
    if not "".join(answer).strip():
        return None
    return answer


def _new_id(source: str, taken: set[str]) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    number = 0
    while True:
        candidate = f"kept-{digest[:12]}" + (f"-{number}" if number else "")
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        number += 1


def _kept_pair(cell, note: str, taken: set[str]) -> list:
    """A marked markdown note and a copy of ``cell`` (source, attachments; no outputs)."""
    heading = nbformat.v4.new_markdown_cell(
        f"**⚠️ Kept by `make update`:** {note} Copy what you need from the next cell, "
        "then delete both cells.",
        id=_new_id("note" + note + cell.source, taken),
        metadata={"tags": [KEPT_TAG]},
    )
    source = _unlabelled(cell.source)
    if cell.cell_type == "code":
        body = nbformat.v4.new_code_cell(source, id=_new_id(cell.source, taken))
    else:
        body = nbformat.v4.new_markdown_cell(source, id=_new_id(cell.source, taken))
        if cell.get("attachments"):
            body["attachments"] = copy.deepcopy(cell["attachments"])
    body.metadata["tags"] = [KEPT_TAG]
    return [heading, body]


def _unlabelled(source: str) -> str:
    """``source`` with its exercise labels reworded, so that a kept copy is not an exercise."""
    lines = source.split("\n")
    for index, line in enumerate(lines):
        for pattern in (EXERCISE, WRITTEN_EXERCISE):
            match = pattern.match(line)
            if match:
                lines[index] = f"# Before the update: {exercise_label(match)}"
                if pattern is WRITTEN_EXERCISE:
                    lines[index] = f"**Before the update: {exercise_label(match)} (written)**"
    return "\n".join(lines)


def carry(old, new, student, name: str = "notebook"):
    """The new edition ``new`` with the student's work from ``student`` carried over.

    ``old`` is the generated edition the student started from. Returns ``(notebook, Report)``;
    the inputs are not changed. Every line the student wrote ends up in the notebook: in its
    exercise cell, after the cell it followed, or in a marked pair of cells (:func:`_kept_pair`).
    """
    report = Report(name)
    merged = copy.deepcopy(new)
    old_by_id = {cell.id: cell for cell in old.cells}
    new_by_id = {cell.id: cell for cell in merged.cells}
    new_index = {cell.id: index for index, cell in enumerate(merged.cells)}
    taken = set(new_by_id) | {cell.get("id") for cell in student.cells}
    old_keys, new_keys = _answer_keys(old), _answer_keys(new)
    matched = match_exercises(old, new)

    # where a student cell that has no place of its own goes: after the nearest course cell
    # above it that the new edition still has (None: at the top)
    survivor: dict[str, str | None] = {}
    last = None
    for cell in old.cells:
        if cell.id in new_by_id:
            last = cell.id
        survivor[cell.id] = last
    after: dict[str | None, list] = {}
    at_end: list = []
    sources: dict[str, str] = {}  # new id -> the student's text that replaces its source
    attachments: dict[str, dict] = {}

    def check_cell(new_id: str) -> str:
        """The cell after which a kept pair of an exercise goes: its check cell."""
        index = new_index[new_id]
        if merged.cells[index].cell_type == "code":
            for later in merged.cells[index + 1 :]:
                if later.cell_type == "code":
                    return later.id
        return new_id

    anchor = None
    for cell in student.cells:
        cell_id = cell.get("id")
        original = old_by_id.get(cell_id)
        if original is None or original.cell_type != cell.cell_type:
            if cell.source.strip() or cell.get("outputs"):
                mine = copy.deepcopy(cell)
                if not mine.get("id") or mine.get("id") in new_by_id:  # not one of the course's
                    mine["id"] = _new_id(cell.source, taken)
                after.setdefault(anchor, []).append(mine)
                report.extra_cells += 1
            continue
        anchor = survivor[cell_id]
        if cell.source == original.source:
            continue  # as the course made it: the new edition's cell stands
        if cell_id in old_keys:
            label = old_keys[cell_id]
            target = matched.get(cell_id)
            if original.cell_type == "markdown":
                answer = written_answer(original.source, cell.source)
                if answer is None:
                    continue
                new_cell = new_by_id.get(target) if target else None
                if new_cell is not None and ANSWER_PROMPT in new_cell.source:
                    lines = new_cell.source.split("\n")
                    at = next(i for i, line in enumerate(lines) if ANSWER_PROMPT in line)
                    sources[target] = "\n".join(lines[:at] + answer + lines[at + 1 :])
                    if cell.get("attachments"):
                        attachments[target] = copy.deepcopy(cell["attachments"])
                    report.carried.append(_short(label))
                    continue
                reason = f"your answer to {label}, which this notebook no longer has."
                at_end += _kept_pair(cell, reason, taken)
                report.attention.append(f"{label} is gone: your answer is kept at the end")
                continue
            if target is None:
                reason = f"your code for {label}, an exercise this notebook no longer has."
                at_end += _kept_pair(cell, reason, taken)
                report.attention.append(f"{label} is gone: your code is kept at the end")
                continue
            new_label = new_keys[target]
            before, now = signature(original.source), signature(new_by_id[target].source)
            if before != now:
                was, became = "; ".join(before) or "none", "; ".join(now) or "none"
                reason = (
                    f"your code for {label} from before the update. The exercise"
                    + (f" is now {new_label}, and its" if new_label != label else "'s")
                    + f" signature changed (was `{was}`, now `{became}`), so the exercise cell "
                    "above is the new one."
                )
                after.setdefault(check_cell(target), []).extend(_kept_pair(cell, reason, taken))
                report.attention.append(
                    f"{new_label}: its signature changed; your old code is in the marked cells "
                    "after its check"
                )
                continue
            source = cell.source
            if new_label != label:
                source = _relabel(source, label, new_label)
                report.attention.append(f"{label} is now {new_label}: your code carried")
            sources[target] = source
            report.carried.append(_short(new_label))
            continue
        # a course cell that the student edited
        current = new_by_id.get(cell_id)
        if current is not None and current.source == original.source:
            sources[cell_id] = cell.source  # the course did not change it: the edit stays
            report.edits_kept += 1
        elif current is not None:
            reason = "your version of the cell above, which the update changed."
            after.setdefault(cell_id, []).extend(_kept_pair(cell, reason, taken))
            report.attention.append(
                f"cell {new_index[cell_id] + 1}: you had edited it and the update changed it; "
                "your version is in the marked cells after it"
            )
        else:
            reason = "your version of a course cell that the update removed."
            after.setdefault(anchor, []).extend(_kept_pair(cell, reason, taken))
            report.attention.append("a cell you had edited was removed; your version is kept")

    matched_new = set(matched.values())
    report.new = [_short(label) for new_id, label in new_keys.items() if new_id not in matched_new]
    student_by_id = {cell.get("id"): cell for cell in student.cells}
    cells = list(after.get(None, []))
    for cell in merged.cells:
        if cell.id in sources:
            cell.source = sources[cell.id]
        if cell.id in attachments:
            cell["attachments"] = attachments[cell.id]
        mine = student_by_id.get(cell.id)
        if (
            cell.cell_type == "code"
            and mine is not None
            and mine.cell_type == "code"
            and mine.source == cell.source
        ):  # what the student ran is still this cell: keep what it printed
            cell.outputs = copy.deepcopy(mine.get("outputs", []))
            cell.execution_count = mine.get("execution_count")
        cells.append(cell)
        cells += after.get(cell.id, [])
    merged.cells = cells + at_end
    for key, value in student.metadata.items():
        merged.metadata.setdefault(key, copy.deepcopy(value))
    return merged, report


def _short(label: str) -> str:
    """``"Exercise 1.1: conv1d_naive"`` -> ``"1.1 conv1d_naive"``."""
    return label.removeprefix("Exercise ").replace(": ", " ", 1)


def _relabel(source: str, old_label: str, new_label: str) -> str:
    """Replace the ``# Exercise N.M: TITLE`` comment of ``old_label`` by ``new_label``'s."""
    lines = source.split("\n")
    for index, line in enumerate(lines):
        match = EXERCISE.match(line)
        if match and exercise_label(match) == old_label:
            indent = line[: len(line) - len(line.lstrip())]
            lines[index] = f"{indent}# {new_label}"
    return "\n".join(lines)


# --------------------------------------------------------------------------- the update


@dataclass
class Plan:
    """What to write for one set-aside notebook after the fast-forward (None: git's version)."""

    path: str  # "notebooks/01_convolution.ipynb"
    text: bytes | None
    report: Report


def serialize(nb) -> bytes:
    """The notebook as the release writes it (nbformat 4, one-space indent, final newline)."""
    nbformat.validate(nb)
    return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")


def plan(state: State) -> list[Plan]:
    """What each notebook with uncommitted changes becomes; computed before anything changes."""
    return [plan_one(state, path, saved) for path, saved in sorted(state.saved.items())]


def plan_one(state: State, path: str, saved: bytes | None) -> Plan:
    """What one set-aside notebook becomes (``saved``: the student's bytes, None if deleted)."""
    report = Report(Path(path).stem)
    old_bytes = _git_bytes(state.root, "show", f"{state.head}:{path}")
    new_bytes = _git_bytes(state.root, "show", f"{state.target}:{path}")
    if saved is None:
        report.note = "you had deleted it; it is back, as the new edition"
        return Plan(path, None, report)
    if new_bytes is None:
        report.note = "no longer part of the course"
        report.attention.append(
            f"{path} stays here as it was, but git no longer tracks it (the course removed "
            "or renamed it)"
        )
        return Plan(path, saved, report)
    if new_bytes == old_bytes:
        report.note = "unchanged by the update, your notebook stays as it was"
        return Plan(path, saved, report)
    try:
        student = nbformat.reads(saved.decode("utf-8"), as_version=4)
    except Exception as error:  # noqa: BLE001 (a broken file must not stop the others)
        report.note = "the new edition is in place"
        report.attention.append(
            f"your {path} could not be read ({type(error).__name__}): nothing could be "
            "carried; it is in the backup"
        )
        return Plan(path, None, report)
    old = nbformat.reads(old_bytes.decode("utf-8"), as_version=4)
    new = nbformat.reads(new_bytes.decode("utf-8"), as_version=4)
    merged, report = carry(old, new, student, report.name)
    return Plan(path, serialize(merged), report)


def _index_file(state: State) -> Path:
    return state.root / _out(state.root, "rev-parse", "--git-path", "index")


def set_aside(state: State) -> None:
    """Put the student's notebooks back to their generated form (their bytes are in memory)."""
    index = _index_file(state)
    state.index = index.read_bytes() if index.exists() else None
    if state.saved:
        git(state.root, "checkout", "-q", state.head, "--", *sorted(state.saved))


def fast_forward(state: State) -> None:
    """Move the branch and the course's files to the upstream commit (never a merge commit)."""
    git(state.root, "merge", "--ff-only", "-q", state.target)


def write(state: State, plans: list[Plan]) -> None:
    """Write each planned notebook."""
    for item in plans:
        if item.text is not None:
            write_atomic(state.root / item.path, item.text)


def restore(state: State) -> None:
    """Back to where the clone was: its commit, and the student's notebooks byte for byte.

    The set-aside notebooks (their bytes are in memory) are first put back as git has them, so
    that ``git reset --keep`` moves the branch back without touching anything else.
    """
    root = state.root
    if _out(root, "rev-parse", "HEAD") != state.head:
        committed = set(git(root, "ls-tree", "-r", "-z", "--name-only", "HEAD").stdout.split("\0"))
        paths = sorted(state.saved)
        if ours := [path for path in paths if path in committed]:
            git(root, "checkout", "-q", "-f", "HEAD", "--", *ours)
        for path in paths:
            if path not in committed:
                (root / path).unlink(missing_ok=True)
        git(root, "reset", "-q", "--keep", state.head)
    for path, saved in state.saved.items():
        if saved is None:
            (state.root / path).unlink(missing_ok=True)
        else:
            write_atomic(state.root / path, saved)
    if state.index is not None:  # what was staged is staged again
        write_atomic(_index_file(state), state.index)


def update(root: Path, dry_run: bool = False, out=None) -> int:
    """The whole update of the clone at ``root``; prints to ``out``; returns the exit code."""
    out = sys.stdout if out is None else out
    root = Path(root)

    def say(text: str = "") -> None:
        print(text, file=out)

    try:
        state = inspect(root)
        fetch(state)
        if not check_fast_forward(state):
            say(f"The course is up to date with {state.upstream}: nothing to do.")
            return 0
        check_untracked(state)
    except Refused as error:
        print(f"{PROG}: nothing was changed: {error}", file=sys.stderr)
        return 1
    count = _out(root, "rev-list", "--count", f"{state.head}..{state.target}")
    say(
        f"{'Would update' if dry_run else 'Updating'} the course from {state.head[:9]} to "
        f"{state.target[:9]} ({state.upstream}, {count} new commit(s))."
    )
    try:
        plans = plan(state)
    except Exception as error:  # noqa: BLE001 (nothing has changed yet: say so, no traceback)
        print(
            f"{PROG}: nothing was changed: your work could not be carried into the new edition "
            f"({type(error).__name__}: {error}). Please report this to the course maintainers.",
            file=sys.stderr,
        )
        return 1
    changed = git(
        root,
        "diff",
        "--no-renames",
        "--name-status",
        "-z",
        state.head,
        state.target,
        "--",
        f"{FOLDER}/",
    ).stdout.split("\0")
    pairs = list(zip(changed[0::2], changed[1::2], strict=False))
    added = [Path(p).stem for s, p in pairs if s == "A" and _is_course_notebook(p)]
    refreshed = [
        Path(p).stem
        for s, p in pairs
        if s == "M" and _is_course_notebook(p) and p not in state.saved
    ]
    if dry_run:
        for item in plans:
            for line in item.report.lines():
                say(line)
        _tail(say, added, refreshed)
        say("Dry run: nothing was changed (run without --dry-run to update).")
        return 0
    try:
        for item in plans:
            if state.saved[item.path] is not None:
                item.report.backup = backup(root / item.path)
    except OSError as error:
        print(f"{PROG}: nothing was changed: no copy of your notebooks ({error}).", file=sys.stderr)
        return 1
    try:
        set_aside(state)
        fast_forward(state)
        write(state, plans)
    except BaseException as error:
        try:
            restore(state)
        except BaseException as second:  # noqa: BLE001
            print(
                f"{PROG}: the update failed ({error}) and so did putting things back "
                f"({second}). Your notebooks are in {FOLDER}/{BACKUP_DIR}/.",
                file=sys.stderr,
            )
            raise
        if not isinstance(error, Exception):
            raise
        print(
            f"{PROG}: the update failed: {error}\nEverything is as it was before (your "
            f"notebooks too; copies are in {FOLDER}/{BACKUP_DIR}/).",
            file=sys.stderr,
        )
        return 1
    for item in plans:
        for line in item.report.lines():
            say(line)
    _tail(say, added, refreshed)
    say(
        "Done. If JupyterLab has one of these notebooks open, reload it (File > Reload "
        "Notebook from Disk) before you save it again."
    )
    return 0


def _tail(say, added: list[str], refreshed: list[str]) -> None:
    if refreshed:
        say(f"Notebooks you had not changed, now the new edition: {', '.join(refreshed)}.")
    if added:
        say(f"New notebooks: {', '.join(added)}.")


def _display(path: Path, fallback) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(fallback)


def main(argv: list[str] | None = None, root: Path | None = None) -> int:
    """The command line; returns the exit code (0 done or up to date, 1 refused or failed)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Update the course (git fetch + fast-forward) and carry your answers into the new "
            f"edition of each notebook; your notebooks are first copied to {FOLDER}/{BACKUP_DIR}/."
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="fetch and report what would happen; change nothing"
    )
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return update(args.root or root or ROOT, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
