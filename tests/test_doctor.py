"""``python -m helpers doctor``: passes here, and names each problem with its fix. No network."""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys

import nbformat
import pytest

from course import doctor
from course.notebook import content_hash
from helpers import data

ROOT = doctor.COURSE_ROOT
needs_sh = pytest.mark.skipif(os.name == "nt", reason="fake Pythons are /bin/sh scripts")


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != data.ENV_VAR}
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        **kwargs,
    )


def _report(*checks) -> tuple[int, str]:
    stream = io.StringIO()
    code = doctor.run(checks, stream=stream)
    return code, stream.getvalue()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/, selected with CNN_COURSE_DATA."""
    copy = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, copy)
    monkeypatch.setenv(data.ENV_VAR, str(copy))
    return copy


@pytest.fixture
def kernelspec(tmp_path, monkeypatch):
    """Register a user-level ``python3`` kernel that runs a given Python, and prefer it.

    As ``ipykernel install --user`` would (in a private user folder), or, with
    ``jupyter_path=True``, in a folder of ``JUPYTER_PATH``.
    """

    def register(python, jupyter_path: bool = False) -> None:
        folder = tmp_path / "jupyter" / "kernels" / "python3"
        folder.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        (folder / "kernel.json").write_text(json.dumps(spec))
        if jupyter_path:
            monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
        else:
            monkeypatch.delenv("JUPYTER_PATH", raising=False)
            monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
            monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # user folder first

    return register


def _fake_python(path, body: str):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


# --- the healthy environment -------------------------------------------------------------


def test_this_environment_is_healthy():
    result = _run("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert doctor.PROBLEM not in result.stdout and "Traceback" not in result.stdout
    for function in doctor.CHECKS:
        assert f" {function.check_name}: " in result.stdout
    assert "All is well" in result.stdout.splitlines()[-1]


def test_data_status_of_the_real_data(monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    status = data.data_status()
    assert set(status.values()) == {"ok"}
    manifest = json.loads((data.DATA_DIR / "MANIFEST.json").read_text())
    assert list(status) == sorted(manifest["files"])


# --- each problem gets a ❌ and its fix --------------------------------------------------


def test_a_package_at_another_version(monkeypatch):
    real = doctor._installed_version
    monkeypatch.setattr(
        doctor, "_installed_version", lambda name: "2.13.0" if name == "torch" else real(name)
    )
    result = doctor.check_packages()
    assert not result.ok
    assert "torch 2.13.0 is installed, the course pins 2.14.1" in result.detail
    wanted = "conda env update -f environment.yml" if doctor._uses_conda() else "pip install -e ."
    assert wanted in result.fix
    code, text = _report(doctor.check_packages)
    assert code == 1
    assert f"{doctor.PROBLEM} Packages: torch 2.13.0" in text
    assert "   fix: " in text and "1 problem found (Packages)" in text


def test_a_missing_package(monkeypatch):
    real = doctor._installed_version
    monkeypatch.setattr(
        doctor, "_installed_version", lambda name: None if name == "ipywidgets" else real(name)
    )
    result = doctor.check_packages()
    assert not result.ok and "ipywidgets is not installed (the course pins 8.1.9)" in result.detail
    assert not doctor.check_widgets_and_rise().ok


def test_a_corrupt_data_file(data_copy):
    path = data_copy / "mnist_small.npz"
    content = bytearray(path.read_bytes())
    content[1000] ^= 0xFF
    path.write_bytes(bytes(content))
    result = doctor.check_data()
    assert not result.ok
    assert "data/mnist_small.npz is corrupt: it has sha256" in result.detail
    assert str(data_copy) in result.detail
    assert f"cp {data.DATA_DIR / 'mnist_small.npz'} {path}" in result.fix
    assert f"unset {data.ENV_VAR}" in result.fix
    code, text = _report(doctor.check_data)
    assert code == 1 and f"{doctor.PROBLEM} Data files:" in text


def test_a_missing_data_file(data_copy):
    (data_copy / "images" / "camera.png").unlink()
    result = doctor.check_data()
    assert not result.ok
    assert "data/images/camera.png is missing" in result.detail
    assert "mnist_small" not in result.detail  # only what is wrong
    assert f"cp {data.DATA_DIR / 'images' / 'camera.png'}" in result.fix


def test_missing_trained_weights(data_copy):
    """The doctor checks the shipped weights like every other file of the manifest."""
    assert "weights/lenet5_mnist.pt" in data.data_status()
    (data_copy / "weights" / "lenet5_mnist.pt").unlink()
    result = doctor.check_data()
    assert not result.ok
    assert result.detail.endswith("data/weights/lenet5_mnist.pt is missing")
    assert f"cp {data.DATA_DIR / 'weights' / 'lenet5_mnist.pt'}" in result.fix


def test_corrupt_trained_weights(data_copy):
    path = data_copy / "weights" / "lenet5_mnist.pt"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    result = doctor.check_data()
    assert not result.ok
    assert "data/weights/lenet5_mnist.pt is corrupt: it has sha256" in result.detail


def test_a_missing_data_file_in_the_course_folder(monkeypatch):
    """Without the override, the fix restores the files from git."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(
        data, "data_status", lambda: {"images/camera.png": "missing", "mnist_small.npz": "ok"}
    )
    result = doctor.check_data()
    assert not result.ok and result.detail == "data/images/camera.png is missing"
    assert "git checkout -- data/images/camera.png" in result.fix


def test_no_manifest(data_copy):
    (data_copy / "MANIFEST.json").unlink()
    result = doctor.check_data()
    assert not result.ok
    assert result.detail.startswith("data/MANIFEST.json") and result.detail.endswith("is missing")
    assert f"unset {data.ENV_VAR}" in result.fix


def test_another_python_version(monkeypatch):
    monkeypatch.setattr(doctor, "_python_version", lambda: "3.12.1")
    result = doctor.check_python()
    assert not result.ok
    assert result.detail == "Python 3.12.1 runs here, but the course needs Python >=3.11, <3.12"
    assert "3.11" in result.fix
    wanted = "conda env create -f environment.yml" if doctor._uses_conda() else "make setup"
    assert wanted in result.fix
    code, text = _report(doctor.check_python)
    assert code == 1 and f"{doctor.PROBLEM} Python: Python 3.12.1" in text


@needs_sh
def test_a_kernel_whose_python_has_no_torch(tmp_path, kernelspec):
    # this Python without its site-packages: it can import neither helpers nor torch
    python = _fake_python(
        tmp_path / "python-bare", f'exec {shlex.quote(sys.executable)} -I -S "$@"'
    )
    kernelspec(python)
    result = doctor.check_kernel()
    assert not result.ok
    assert f"runs {python}, which cannot import helpers and torch" in result.detail
    assert "ModuleNotFoundError" in result.detail
    assert "-m ipykernel install --user --name python3" in result.fix
    assert "make lab" in result.fix
    code, text = _report(doctor.check_kernel)
    assert code == 1 and f"{doctor.PROBLEM} Kernel:" in text


@needs_sh
def test_a_kernel_in_another_environment(tmp_path, kernelspec):
    answer = json.dumps({"prefix": "/opt/other", "executable": "/opt/other/python", "torch": "2"})
    kernelspec(_fake_python(tmp_path / "python-other", f"echo '{answer}'"))
    result = doctor.check_kernel()
    assert not result.ok
    assert "another Python environment (/opt/other)" in result.detail
    assert "ipykernel install --user --name python3" in result.fix


@needs_sh
def test_a_kernel_from_jupyter_path(tmp_path, kernelspec):
    bare = _fake_python(tmp_path / "python-bare", f'exec {shlex.quote(sys.executable)} -I -S "$@"')
    kernelspec(bare, jupyter_path=True)
    result = doctor.check_kernel()
    assert not result.ok and "cannot import helpers and torch" in result.detail
    assert "comes from JUPYTER_PATH" in result.fix and "`unset JUPYTER_PATH`" in result.fix


def test_a_kernel_that_does_not_exist(tmp_path, kernelspec):
    kernelspec(tmp_path / "no-such-python")
    result = doctor.check_kernel()
    assert not result.ok and result.detail.endswith("which does not exist")


def test_kernel_python_resolves_like_jupyter_client():
    assert doctor._kernel_python(["python", "-m", "ipykernel_launcher"]) == sys.executable
    assert doctor._kernel_python(["python3"]) == sys.executable
    assert doctor._kernel_python(["/opt/py/bin/python"]) == "/opt/py/bin/python"


def test_no_chromium_is_only_a_warning(monkeypatch):
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    result = doctor.check_chromium()
    assert not result.ok and result.optional
    assert result.fix == "`sudo apt-get install chromium`"
    code, text = _report(doctor.check_chromium)
    assert code == 0
    assert f"{doctor.WARNING} Chromium: not found on PATH" in text
    assert "All is well (1 warning)" in text


def test_a_check_that_crashes_is_a_problem_without_traceback():
    @doctor.guarded("Boom")
    def boom():
        raise RuntimeError("kaput\nsecond line")

    result = boom()
    assert not result.ok and result.detail == "could not be checked: RuntimeError: kaput"
    assert "pip install -e ." in result.fix or "conda env update" in result.fix
    code, text = _report(boom)
    assert code == 1 and "Traceback" not in text


def test_each_problem_has_a_fix_line():
    def failing():
        return doctor.Check("One", False, "broken", fix="`do this`")

    def passing():
        return doctor.Check("Two", True, "fine", fix="never shown")

    code, text = _report(failing, passing)
    assert code == 1
    lines = text.splitlines()
    assert "❌ One: broken" in lines and "   fix: `do this`" in lines
    assert "✅ Two: fine" in lines and "never shown" not in text


# --- the command line --------------------------------------------------------------------


def test_usage_without_arguments():
    result = _run()
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m helpers COMMAND")
    assert "doctor" in result.stdout


def test_help():
    from helpers.__main__ import USAGE, main

    assert main(["--help"]) == 0
    assert "doctor" in USAGE


def test_unknown_command_exits_2():
    result = _run("frobnicate")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown command 'frobnicate'" in result.stderr
    assert "usage: python -m helpers COMMAND" in result.stderr


def test_doctor_help(capsys):
    assert doctor.main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: python -m helpers doctor")


def test_doctor_rejects_arguments(capsys):
    assert doctor.main(["--verbose"]) == 2
    assert "takes no arguments" in capsys.readouterr().err


# --- course updates: behind the remote with answers (git on disk, no network) ---------------

GIT = ["git", "-c", "user.name=Course", "-c", "user.email=course@example.org"]
GIT += ["-c", "init.defaultBranch=main"]


def _git(folder, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def clone(tmp_path, monkeypatch):
    """A clone of a tiny course (one released notebook) that is the doctor's course folder."""
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    subprocess.run([*GIT, "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run([*GIT, "clone", "-q", str(remote), str(clone)], check=True, capture_output=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Demo", id="intro")])
    nb.metadata["course"] = {"content_sha256": content_hash(nb)}
    (clone / "notebooks").mkdir()
    nbformat.write(nb, clone / "notebooks" / "01_demo.ipynb")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "the course")
    _git(clone, "push", "-q", "-u", "origin", "HEAD:main")
    monkeypatch.setattr(doctor, "COURSE_ROOT", clone.resolve())
    return clone


def _fall_behind(clone) -> None:
    """The course gets a new commit upstream, and the clone fetches it (only fetches)."""
    author = clone.parent / "author"
    subprocess.run([*GIT, "clone", "-q", str(clone.parent / "remote.git"), str(author)], check=True)
    (author / "README.md").write_text("news\n")
    _git(author, "add", "-A")
    _git(author, "commit", "-q", "-m", "news")
    _git(author, "push", "-q", "origin", "HEAD:main")
    _git(clone, "fetch", "-q")


def test_course_updates_when_not_a_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "COURSE_ROOT", tmp_path)
    result = doctor.check_updates()
    assert result.ok and "not a git clone" in result.detail


def test_course_updates_without_a_remote_branch(clone):
    _git(clone, "branch", "--unset-upstream")
    result = doctor.check_updates()
    assert result.ok and "follows no remote branch" in result.detail


def test_course_updates_up_to_date(clone):
    result = doctor.check_updates()
    assert result.ok and result.detail == "up to date with origin/main (as last fetched)"


def test_course_updates_behind_without_answers(clone):
    _fall_behind(clone)
    result = doctor.check_updates()
    assert result.ok and "origin/main has 1 commit that this clone lacks" in result.detail


def test_course_updates_behind_with_answers_is_a_warning(clone):
    _fall_behind(clone)
    path = clone / "notebooks" / "01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('my answer')", id="mine"))
    nbformat.write(nb, path)
    result = doctor.check_updates()
    assert not result.ok and result.optional
    assert "you have work in notebooks/ (01_demo)" in result.detail
    assert "make update" in result.fix
    code, text = _report(doctor.check_updates)
    assert code == 0 and "All is well (1 warning)" in text
    assert f"{doctor.WARNING} Course updates: origin/main has 1 commit" in text
