"""Time every notebook, both editions: the old name of ``python -m course benchmark``.

A thin entry point: the tool is :mod:`course.benchmark` (``--help`` says how to call it).
"""

import sys

from course.benchmark import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
