"""Re-execute solution notebooks top to bottom in place, then regenerate their student editions.

Usage: python scripts/execute_solution.py 01_convolution [02_padding_stride_dilation ...]

Runs each notebook in a fresh `python3` kernel from the `solutions/` folder (as nbval does),
stores the outputs without per-cell timing metadata (so diffs show only real changes), and
calls the release tool for the same notebooks.

Jupyter widgets (the explorers of `helpers.explore`) are stored as their static fallback only.
nbclient would otherwise save the state of every widget model in `metadata.widgets`, with
random model ids and the PNG bytes of every `ipywidgets.Image` (large, and different on every
run); and a widget output's `application/vnd.jupyter.widget-view+json` entry holds a random
model id that no saved state matches. So widget state is not recorded, `metadata.widgets` is
dropped, and that entry is removed from the outputs: the stored output keeps its `image/png`
(what a static viewer shows) and `text/plain` (what nbval compares); re-running the cell in
JupyterLab brings the live widget back.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers import release

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def _coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks into one output, as a reader sees them."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _drop_widget_views(outputs: list) -> list:
    """Remove the widget-view entry of display outputs; drop outputs left with no data."""
    kept = []
    for output in outputs:
        data = output.get("data")
        if data is not None and WIDGET_VIEW in data:
            del data[WIDGET_VIEW]
            if not data:
                continue
        kept.append(output)
    return kept


def execute(stem: str) -> None:
    path = SOLUTIONS / f"{stem.removesuffix('.ipynb')}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(SOLUTIONS)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _drop_widget_views(_coalesce_streams(cell.outputs))
    nbformat.write(nb, path)
    print(f"executed {path.relative_to(SOLUTIONS.parent)}")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for stem in argv:
        execute(stem)
    return release.main([stem.removesuffix(".ipynb") for stem in argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
