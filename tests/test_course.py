"""The course's tooling (course/): one notebook model, one selection rule, thin old names."""

from __future__ import annotations

import subprocess
import sys

import pytest
from nbformat.v4 import new_notebook

from course import notebook
from course.__main__ import COMMANDS
from course.__main__ import main as course_main
from course.notebook import ROOT, SOLUTIONS, SelectionError, select


def test_root_holds_both_editions_and_the_packages():
    for folder in ("solutions", "notebooks", "helpers", "course"):
        assert (ROOT / folder).is_dir(), folder
    assert notebook.stems(notebook.NOTEBOOKS) == notebook.stems(SOLUTIONS)


def test_notebooks_are_in_course_order():
    stems = notebook.stems()
    assert stems == sorted(stems) and stems[0] == "00_welcome"
    assert all(stem[:2].isdigit() and stem[2] == "_" for stem in stems)


@pytest.mark.parametrize(
    "name",
    ["03", "03_receptive", "03_receptive_fields", "03_receptive_fields.ipynb",
     "solutions/03_receptive_fields.ipynb", str(SOLUTIONS / "03_receptive_fields.ipynb")],
)  # fmt: skip
def test_a_stem_a_prefix_or_a_path_names_one_notebook(name):
    (path,) = select([name])
    assert path.name == "03_receptive_fields.ipynb"


def test_no_names_a_folder_and_several_names():
    assert select([]) == notebook.notebooks()
    assert select(["solutions"]) == notebook.notebooks()
    assert [path.stem[:2] for path in select(["04", "01"])] == ["04", "01"]


def test_a_name_for_no_notebook_or_several_is_an_error():
    with pytest.raises(SelectionError, match="no notebook named '99_missing'"):
        select(["99_missing"])
    with pytest.raises(SelectionError, match="names 10 notebooks"):
        select(["0"])


def test_slide_types_and_speaker_notes():
    notes = {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": "notes"}}}
    plain = {"cell_type": "markdown", "metadata": {}}
    assert notebook.is_speaker_notes(notes) and not notebook.is_shown(notes)
    assert notebook.slide_type(plain) == "-" and notebook.is_shown(plain)
    assert notebook.count_slides(new_notebook()) == 0


def test_exercise_marker():
    match = notebook.EXERCISE.match('# Exercise 2.3b: the "same" padding')
    assert notebook.exercise_label(match) == 'Exercise 2.3b: the "same" padding'
    assert (match[1], match[2]) == ("2", "3b")
    assert notebook.EXERCISE.match("# Exercise: no number") is None


def test_every_command_has_help(capsys):
    assert course_main(["--help"]) == 0
    usage = capsys.readouterr().out
    for name in ("release", "execute", "slides", "benchmark", "doctor", "portable"):
        assert name in COMMANDS and name in usage
    assert course_main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - {"doctor"}))
def test_each_command_prints_its_usage(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        course_main([name, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m course {name}")


def test_old_names_are_thin_shims():
    from course import doctor, online, release
    from helpers import doctor as old_doctor
    from helpers import online as old_online
    from helpers import release as old_release

    assert old_release.make_student_notebook is release.make_student_notebook
    assert old_release.ReleaseError is release.ReleaseError
    assert old_online.badges_markdown is online.badges_markdown
    assert old_doctor.run is doctor.run and old_doctor.main is doctor.main


def test_old_release_command_checks_the_repository():
    result = subprocess.run(
        [sys.executable, "-m", "helpers.release", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


def test_helpers_does_not_import_the_tooling():
    code = "import helpers, sys; print(sorted(m for m in sys.modules if m.startswith('course')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stderr
