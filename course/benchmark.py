"""Time every notebook of the course, both editions, in a fresh kernel each.

Usage: ``make benchmark`` (or ``python -m course benchmark [NAME ...]``: stems, prefixes, files).
Prints a Markdown table of wall-clock seconds per notebook and edition, the CPU seconds the
kernel used (a figure that depends less on what else the machine is doing), and the totals.
This is a measurement, not a test: it fails only if a notebook raises. The course budget is
90 s per notebook.

``--grading`` adds a second table: how long ``nbgrader autograde`` takes for a full-marks
submission of each notebook (the nbgrader edition, :mod:`course.grading`, in a temporary
course folder) next to the notebook's own run time; the aim is at most twice as long.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course.notebook import EDITIONS, ROOT, SOLUTIONS, select

BUDGET_S = 90.0


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebook(path: Path, timeout: int = 600) -> tuple[float, float]:
    """Execute ``path`` in a fresh python3 kernel (cwd = its folder).

    Returns (wall-clock seconds, CPU seconds of the kernel process).
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    cpu_before, start = _children_cpu_seconds(), time.perf_counter()
    client.execute()  # starts the kernel, runs every cell, shuts the kernel down (reaped)
    return time.perf_counter() - start, _children_cpu_seconds() - cpu_before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course benchmark", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "names", nargs="*", help="notebooks: stems, prefixes or files (default: all)"
    )
    parser.add_argument(
        "--grading", action="store_true", help="also time nbgrader autograde of each notebook"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    stems = [path.stem for path in select(args.names, SOLUTIONS)]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPU cores, {platform.machine()}")
    print(f"load average before: {load}\n")
    print("| notebook | solutions/ wall (s) | CPU (s) | notebooks/ wall (s) | CPU (s) |")
    print("|---|---:|---:|---:|---:|")
    totals = dict.fromkeys(EDITIONS, 0.0)
    cpu_totals = dict.fromkeys(EDITIONS, 0.0)
    over_budget = []
    solution_seconds = {}
    for stem in stems:
        row = []
        for edition in totals:
            seconds, cpu = run_notebook(ROOT / edition / f"{stem}.ipynb")
            totals[edition] += seconds
            cpu_totals[edition] += cpu
            row += [f"{seconds:.1f}", f"{cpu:.1f}"]
            if edition == "solutions":
                solution_seconds[stem] = seconds
            if seconds > BUDGET_S:
                over_budget.append(f"{edition}/{stem}")
        print(f"| {stem} | {' | '.join(row)} |", flush=True)
    cells = [f"**{t[e]:.1f}**" for e in totals for t in (totals, cpu_totals)]
    print(f"| **total** | {' | '.join(cells)} |")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average after: {load}")
    if over_budget:
        print(f"\nOver the {BUDGET_S:.0f} s budget: {', '.join(over_budget)}")
    if args.grading:
        print_grading_table(stems, solution_seconds)
    return 0


def print_grading_table(stems: list[str], solution_seconds: dict[str, float]) -> None:
    """nbgrader autograde of a full-marks submission against the notebook's own run time."""
    from course import grading  # needs nbgrader: pip install -e ".[grading]"

    print("\n| notebook | run (s) | nbgrader autograde (s) | ratio |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="nbgrader-benchmark-") as course:
        for stem, seconds in grading.time_autograde(stems, Path(course)):
            ratio = seconds / solution_seconds[stem]
            print(f"| {stem} | {solution_seconds[stem]:.1f} | {seconds:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
