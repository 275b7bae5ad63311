"""The checker framework itself: how cases are numbered, and what importing it loads."""

from __future__ import annotations

import subprocess
import sys

from helpers.check.core import CaseHeading, numbered_cases


def test_numbered_cases_name_every_case_case_i_of_n():
    got = list(numbered_cases(zip("ab", [1, 2], strict=True)))
    assert got == [("Case 1 of 2", ("a", 1)), ("Case 2 of 2", ("b", 2))]
    assert [heading.number for heading, _ in got] == [1, 2]
    assert isinstance(got[0][0], CaseHeading) and f"{got[0][0]}: x" == "Case 1 of 2: x"


def test_importing_the_checkers_loads_no_torch_until_a_checker_is_used():
    code = (
        "import sys\n"
        "from helpers import check\n"
        "assert 'torch' not in sys.modules, 'torch loaded by the import'\n"
        "assert check.conv1d_naive.exercise == '1.1'\n"
        "assert 'conv1d_naive' in dir(check) and 'stack_shapes' in dir(check)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
