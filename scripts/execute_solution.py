"""Re-run solution notebooks, then release them: the old name of ``python -m course execute``.

A thin entry point: the tool is :mod:`course.execute` (``--help`` says how to call it).
"""

import sys

from course.execute import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
