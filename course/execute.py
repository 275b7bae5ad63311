"""Re-execute solution notebooks top to bottom in place, then regenerate their student editions.

Usage: ``python -m course execute 01_convolution [04 ...]`` (``make execute NB=...``; names
as :func:`course.notebook.select` reads them: stems, prefixes or files).

Runs each notebook in a fresh `python3` kernel from its folder (as nbval does), merges
consecutive writes to one stream into one output as a reader sees them (nbconvert's
``CoalesceStreamsPreprocessor``, which also drops what a carriage return overwrote), stores
the outputs without per-cell timing metadata (so diffs show only real changes), and calls the
release tool for the same notebooks.

Jupyter widgets (the explorers of `helpers.explore`) are stored as their static fallback only.
nbclient would otherwise save the state of every widget model in `metadata.widgets`, with
random model ids and the PNG bytes of every `ipywidgets.Image` (large, and different on every
run); and a widget output's `application/vnd.jupyter.widget-view+json` entry holds a random
model id that no saved state matches. So widget state is not recorded, `metadata.widgets` is
dropped, and that entry is removed from the outputs: the stored output keeps its `image/png`
(what a static viewer shows) and `text/plain` (what nbval compares); re-running the cell in
JupyterLab brings the live widget back.

Each figure's output metadata records the size of its smallest text (course/figure_text.py),
which the deck audit checks as projected.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

from course import figure_text, release
from course.notebook import ROOT, SOLUTIONS, drop_widget_views, select


def execute(path: Path) -> None:
    """Run the notebook at ``path`` in a fresh ``python3`` kernel and store its outputs there."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        store_widget_state=False,
        extra_arguments=[f"--InteractiveShellApp.exec_lines={figure_text.EXEC_LINE}"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = drop_widget_views(cell.outputs)
    nbformat.write(nb, path)
    print(f"executed {_shown(path)}")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m course execute NAME [NAME ...]``: execute, then release those notebooks."""
    parser = argparse.ArgumentParser(
        prog="python -m course execute",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("names", nargs="+", help="solution notebooks: stems, prefixes or files")
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    paths = select(args.names, SOLUTIONS)
    for path in paths:
        execute(path)
    return release.main([path.stem for path in paths])


if __name__ == "__main__":
    sys.exit(main())
