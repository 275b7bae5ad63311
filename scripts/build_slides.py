"""Build the offline reveal.js slide decks: the old name of ``python -m course slides``.

A thin entry point: the tool is :mod:`course.slides` (``--help`` says how to call it).
"""

import sys

from course.slides import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
