"""``python -m helpers COMMAND``: the students' commands (``doctor``, ``progress``), a thin shim.

The course's tools live in :mod:`course` (``python -m course --help``); this entry point keeps
the name that the README and students use for the doctor.
"""

from __future__ import annotations

import sys

from course.cli import dispatch, usage

COMMANDS = {  # name -> (module with a main(argv) -> int, one line of help)
    "doctor": ("course.doctor", "check Python, packages, data files, Jupyter and the kernel"),
    "progress": ("course.progress", "a table of every exercise: passed, not yet, not attempted"),
}
USAGE = usage(
    "python -m helpers",
    COMMANDS,
    ["also: python -m helpers.release   regenerate notebooks/ from solutions/"],
)


def main(argv: list[str] | None = None) -> int:
    """Run the command named by ``argv[0]``; returns its exit code (2 for an unknown one)."""
    return dispatch("python -m helpers", COMMANDS, USAGE, argv)


if __name__ == "__main__":
    sys.exit(main())
