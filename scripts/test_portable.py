"""Strict nbval with other CPU kernels, thread counts: old name of ``python -m course portable``.

A thin entry point: the tool is :mod:`course.portable` (``--help`` says how to call it).
"""

import sys

from course.portable import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
