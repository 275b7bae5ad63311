"""``python -m course COMMAND [ARGS]``: the instructor's and CI's tools (``--help`` on each)."""

from __future__ import annotations

import sys

from course.cli import dispatch, usage

COMMANDS = {  # name -> (module with a main(argv) -> int, one line of help)
    "release": ("course.release", "regenerate notebooks/ from solutions/ (never overwrites work)"),
    "execute": ("course.execute", "re-run solution notebooks in place, then release them"),
    "slides": ("course.slides", "build the offline reveal.js decks into build/slides/"),
    "audit": (
        "course.deck_audit",
        "measure every slide of the decks at 1280x720 (scroll, type size, figures)",
    ),
    "benchmark": ("course.benchmark", "time every notebook (both editions)"),
    "portable": ("course.portable", "strict nbval with other CPU kernels and thread counts"),
    "doctor": ("course.doctor", "check Python, packages, data files, Jupyter and the kernel"),
    "online": ("course.online", "rewrite the solutions' Colab and Binder cells"),
    "nbgrader": (
        "course.grading",
        "write the nbgrader edition (a course folder) into build/nbgrader/",
    ),
    "progress": ("course.progress", "a table of every exercise: passed, not yet, not attempted"),
    "update": ("course.update", "update the course from its remote, carrying your answers over"),
}
USAGE = usage(
    "python -m course",
    COMMANDS,
    [
        "python -m course COMMAND --help says more. Every command names a notebook by its",
        "stem (04_pooling), a prefix (04) or its path (solutions/04_pooling.ipynb).",
    ],
)


def main(argv: list[str] | None = None) -> int:
    """Run the command named by ``argv[0]``; returns its exit code (2 for an unknown one)."""
    return dispatch("python -m course", COMMANDS, USAGE, argv)


if __name__ == "__main__":
    sys.exit(main())
