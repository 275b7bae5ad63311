"""``helpers.doctor``: the old name of :mod:`course.doctor` (a thin shim).

Students run the doctor as ``python -m helpers doctor`` (README, INSTRUCTORS.md), so that
command and this module's names keep working; the checks themselves are :mod:`course.doctor`.
"""

from __future__ import annotations

import sys

from course.doctor import *  # noqa: F403 (the old module's names)
from course.doctor import main

if __name__ == "__main__":
    sys.exit(main())
