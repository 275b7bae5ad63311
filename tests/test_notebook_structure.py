"""Every solution notebook follows the course's anatomy (CONTRIBUTING.md)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course.notebook import (
    BEGIN_CODE,
    EXERCISE,
    SLIDE_TYPES,
    is_shown,
    notebooks,
    slide_type,
)

SOLUTIONS = notebooks()


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@pytest.fixture(params=SOLUTIONS, ids=[path.stem for path in SOLUTIONS])
def solution(request) -> tuple[Path, nbformat.NotebookNode]:
    return request.param, _read(request.param)


def test_kernel_and_ids(solution):
    path, nb = solution
    assert nb.metadata["kernelspec"]["name"] == "python3"
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids)), "cell ids must be unique"


def test_every_cell_has_slide_metadata(solution):
    path, nb = solution
    missing = [
        cell.id
        for cell in nb.cells
        if cell.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES
    ]
    assert not missing, f"{path.name}: cells without slideshow.slide_type: {missing}"
    shown = [cell for cell in nb.cells if is_shown(cell)]
    assert slide_type(shown[0]) == "slide", "the deck starts with a slide"


def test_outputs_are_clean(solution):
    path, nb = solution
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None or not cell.source.strip(), (
            f"{path.name}, cell {cell.id} was not executed: run `make execute NB={path.stem}`"
        )
        assert "execution" not in cell.metadata, (
            f"{path.name}, cell {cell.id}: timing metadata (use `make execute`)"
        )
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}, cell {cell.id} raised"
            assert output.get("name") != "stderr", f"{path.name}, cell {cell.id} wrote stderr"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            assert " at 0x" not in text, f"{path.name}, cell {cell.id}: memory address"


def test_executed_top_to_bottom(solution):
    path, nb = solution
    counts = [cell.execution_count for cell in nb.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run it top to bottom"


def test_exercises_are_checked_in_the_next_cell(solution):
    path, nb = solution
    number = int(path.stem[:2])
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    found = 0
    for index, cell in enumerate(code_cells):
        match = EXERCISE.match(cell.source)
        if not match:
            continue
        found += 1
        assert int(match[1]) == number, f"{path.name}: exercise {match[0]} has another number"
        assert BEGIN_CODE in cell.source, f"{path.name}, cell {cell.id}"
        following = code_cells[index + 1].source if index + 1 < len(code_cells) else ""
        assert "check." in following, f"{path.name}, cell {cell.id}: next cell must check it"
        verdict = "".join(output.get("text", "") for output in code_cells[index + 1].outputs)
        assert "passed" in verdict, f"{path.name}: the reference answer must pass its check"
    assert found >= 1, f"{path.name} has no exercise"


def test_key_terms_and_common_mistakes(solution):
    path, nb = solution
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "Key terms" in markdown
    assert re.search(r"[\u4e00-\u9fff]", markdown), "key terms carry their Chinese names"
    if path.stem != "00_welcome":
        assert "Common mistakes" in markdown
        assert "Summary" in markdown or "summary" in markdown
