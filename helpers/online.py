"""``python -m helpers.online``: the old name of ``python -m course online`` (a thin shim).

The Colab and Binder badges and the Colab set-up cell, and their writer, are
:mod:`course.online`; notebooks import nothing from here (their Colab cell is plain code).
"""

from __future__ import annotations

import sys

from course.online import *  # noqa: F403 (the old module's names)
from course.online import main

if __name__ == "__main__":
    sys.exit(main())
