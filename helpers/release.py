"""``python -m helpers.release``: the old name of ``python -m course release`` (a thin shim).

Instructors' notes, the Makefile's history and every student notebook's
``metadata.course.generated_by`` name this command, so it keeps working; the release tool
itself is :mod:`course.release`.
"""

from __future__ import annotations

import sys

from course.release import *  # noqa: F403 (the old module's names)
from course.release import main as _main


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.release [NAME ...] [--check] [--force]``."""
    return _main(argv, prog="python -m helpers.release")


if __name__ == "__main__":
    sys.exit(main())
