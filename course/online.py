"""Running the course online: the Colab and Binder badges and the Colab set-up cell.

Every notebook starts with two cells, both skipped in slide decks:

* ``badges`` (markdown): "Open in Colab" and "Launch Binder" links to *this* notebook in *its*
  edition (``solutions/`` for the instructor's, ``notebooks/`` for the student's);
* ``colab-setup`` (code): on Colab it fetches the course (code and data) and puts ``helpers``
  on the import path; anywhere else it does nothing and prints nothing.

``python -m course release`` writes the student edition's badges (:func:`badges_markdown`),
and ``tests/test_online.py`` checks both editions. To publish the course somewhere else, change
:data:`REPOSITORY` (and :data:`BRANCH`), run ``python -m course online`` (or its old name
``python -m helpers.online``) to rewrite the solutions' cells, then ``make release``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import quote

from course.notebook import BADGES_ID, COLAB_SETUP_ID, EDITIONS, ROOT, SOLUTIONS, notebooks

REPOSITORY = "cnn-course/convolutional-networks-hands-on"
"""``owner/name`` of the course's public GitHub repository."""
BRANCH = "main"

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def _check_edition(edition: str) -> None:
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")


def colab_url(edition: str, stem: str) -> str:
    """The notebook ``<edition>/<stem>.ipynb`` opened in Google Colab."""
    _check_edition(edition)
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{edition}/{stem}.ipynb"


def binder_url(edition: str, stem: str) -> str:
    """The notebook ``<edition>/<stem>.ipynb`` opened in JupyterLab on mybinder.org."""
    _check_edition(edition)
    return (
        f"https://mybinder.org/v2/gh/{REPOSITORY}/{BRANCH}"
        f"?labpath={quote(f'{edition}/{stem}.ipynb', safe='')}"
    )


def badges_markdown(edition: str, stem: str) -> str:
    """The source of the ``badges`` cell of ``<edition>/<stem>.ipynb``."""
    return (
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(edition, stem)}) "
        f"[![Launch Binder]({BINDER_BADGE})]({binder_url(edition, stem)})"
    )


COLAB_SETUP = f"""\
# On Google Colab: fetch the course (code and data) once and import helpers from it.
# Anywhere else (your computer, Binder, CI) this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    from google.colab import output

    course = "https://github.com/{REPOSITORY}"
    if not os.path.isdir("/content/course"):
        subprocess.run(["git", "clone", "--depth", "1", course, "/content/course"], check=True)
    sys.path.insert(0, "/content/course")  # Colab already has torch, numpy and matplotlib
    os.chdir("/content/course")
    output.enable_custom_widget_manager()  # for the ipywidgets explorers"""
"""The source of the ``colab-setup`` cell (the same in both editions)."""


def write_solution_cells(solutions_dir: Path = SOLUTIONS) -> list[Path]:
    """Rewrite the badges and Colab cells of every solution notebook; return the changed files.

    Only those two cells' sources change; outputs and execution counts are kept (the Colab
    cell prints nothing), so the notebooks need no re-execution.
    """
    import nbformat

    changed = []
    for path in notebooks(solutions_dir):
        nb = nbformat.read(path, as_version=4)
        wanted = {
            BADGES_ID: badges_markdown("solutions", path.stem),
            COLAB_SETUP_ID: COLAB_SETUP,
        }
        cells = {cell.get("id"): cell for cell in nb.cells[:2]}
        if set(cells) != set(wanted):
            raise ValueError(f"{path}: the first two cells must have the ids {sorted(wanted)}")
        if any(cells[key].source != source for key, source in wanted.items()):
            for key, source in wanted.items():
                cells[key].source = source
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m course online``: rewrite the solutions' badges and Colab cells."""
    parser = argparse.ArgumentParser(
        prog="python -m course online",
        description="Rewrite the badges and Colab set-up cells of every solution notebook "
        f"for {REPOSITORY} (branch {BRANCH}).",
    )
    parser.parse_args(argv)
    changed = write_solution_cells(SOLUTIONS)
    for path in changed:
        print(f"rewrote the badges of {path.relative_to(ROOT)}")
    print(f"{len(changed)} solution notebooks changed; now run `make release`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
