"""The README's course map links every notebook, and every link works in both editions."""

import re

from course.notebook import NOTEBOOKS, ROOT, stems


def test_course_map_matches_the_notebooks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\(notebooks/(\d\d_\w+)\.ipynb\)", readme)
    solutions = stems()
    students = stems(NOTEBOOKS)
    assert linked == solutions, "README's course map and solutions/ disagree"
    assert students == solutions, "notebooks/ and solutions/ hold different notebooks"


def test_quick_start_is_the_two_make_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", quick_start, flags=re.MULTILINE)
    assert commands == ["lab", "test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
