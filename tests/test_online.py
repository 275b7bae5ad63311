"""Each notebook opens online in its own edition; the Colab cell does nothing elsewhere."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from urllib.parse import unquote

import nbformat
import pytest

from course import online
from course.notebook import ROOT, stems
from course.release import make_student_notebook

STEMS = stems()
LINK = re.compile(r"\]\((https://[^)\s]+)\)")


def first_cells(edition: str, stem: str):
    nb = nbformat.read(ROOT / edition / f"{stem}.ipynb", as_version=4)
    return nb.cells[0], nb.cells[1]


@pytest.mark.parametrize("edition", online.EDITIONS)
@pytest.mark.parametrize("stem", STEMS)
def test_badges_open_this_notebook_in_its_edition(edition, stem):
    badges, _ = first_cells(edition, stem)
    assert badges.id == online.BADGES_ID and badges.cell_type == "markdown"
    assert badges.source == online.badges_markdown(edition, stem), (
        f"{edition}/{stem}.ipynb: stale badges; run `python -m course online` and `make release`"
    )
    links = [url for url in LINK.findall(badges.source) if "badge" not in url.rsplit("/", 1)[-1]]
    assert len(links) == 2, links
    colab, binder = links
    target = f"{edition}/{stem}.ipynb"
    assert colab.endswith(f"/blob/{online.BRANCH}/{target}")
    assert unquote(binder).endswith(f"?labpath={target}")
    assert (ROOT / target).exists()


@pytest.mark.parametrize("edition", online.EDITIONS)
@pytest.mark.parametrize("stem", STEMS)
def test_colab_cell_comes_second_and_is_hidden_from_slides(edition, stem):
    badges, setup = first_cells(edition, stem)
    assert setup.id == online.COLAB_SETUP_ID and setup.cell_type == "code"
    assert setup.source == online.COLAB_SETUP
    assert setup.outputs == []  # it prints nothing outside Colab
    for cell in (badges, setup):
        assert cell.metadata["slideshow"]["slide_type"] == "skip"


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    assert "google.colab" not in sys.modules
    path_before, cwd_before = list(sys.path), os.getcwd()
    exec(compile(online.COLAB_SETUP, "colab-setup", "exec"), {})
    assert sys.path == path_before and os.getcwd() == cwd_before


def test_release_points_the_student_badges_at_the_student_edition():
    solution = nbformat.read(ROOT / "solutions" / f"{STEMS[0]}.ipynb", as_version=4)
    student = make_student_notebook(solution, f"solutions/{STEMS[0]}.ipynb")
    assert student.cells[0].source == online.badges_markdown("notebooks", STEMS[0])
    assert solution.cells[0].source == online.badges_markdown("solutions", STEMS[0])


def test_repository_is_the_one_in_pyproject():
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == f"https://github.com/{online.REPOSITORY}"


def test_bad_edition_is_a_clear_error():
    with pytest.raises(ValueError, match="edition must be one of"):
        online.colab_url("slides", STEMS[0])
