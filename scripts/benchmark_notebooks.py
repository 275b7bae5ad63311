"""Time every notebook of the course, both editions, in a fresh kernel each.

Usage: ``make benchmark`` (or ``python scripts/benchmark_notebooks.py [NAME ...]``).
Prints a Markdown table of wall-clock seconds and the total. This is a measurement, not a
test: it fails only if a notebook raises. The course budget is 90 s per notebook.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 90.0


def run_notebook(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in a fresh python3 kernel (cwd = its folder); return seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help="notebook stems, e.g. 01_convolution (default: all)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    stems = args.names or sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPU cores, {platform.machine()}\n")
    print("| notebook | solutions/ (s) | notebooks/ (s) |")
    print("|---|---:|---:|")
    totals = {"solutions": 0.0, "notebooks": 0.0}
    over_budget = []
    for stem in stems:
        row = []
        for edition in totals:
            seconds = run_notebook(ROOT / edition / f"{stem}.ipynb")
            totals[edition] += seconds
            row.append(f"{seconds:.1f}")
            if seconds > BUDGET_S:
                over_budget.append(f"{edition}/{stem}")
        print(f"| {stem} | {row[0]} | {row[1]} |", flush=True)
    print(f"| **total** | **{totals['solutions']:.1f}** | **{totals['notebooks']:.1f}** |")
    if over_budget:
        print(f"\nOver the {BUDGET_S:.0f} s budget: {', '.join(over_budget)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
