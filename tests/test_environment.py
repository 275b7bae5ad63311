"""environment.yml and pyproject.toml pin the same packages at the same versions; the runtime
dependencies are what the notebooks need, and every imported package is declared."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

from course.notebook import ROOT

CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ
TOOLS = {"pytest", "nbval", "ruff", "playwright", "hypothesis", "nbconvert", "nbgrader"}
"""Test and authoring tools: never runtime dependencies (students do not install them)."""
RUNTIME_CODE = [
    "helpers",
    "course/notebook.py",
    "course/doctor.py",
    "course/progress.py",
    "course/update.py",
    "course/files.py",
    "course/__init__.py",
]
"""What runs on a student's machine (the notebooks import helpers; the doctor, the progress
report and the update are course's)."""


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(extra: bool = True) -> list[str]:
    """The runtime dependencies, and with ``extra`` those of every optional extra too."""
    found = list(project()["dependencies"])
    if extra:
        for group in project().get("optional-dependencies", {}).values():
            found += group
    return found


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def pyproject_pins() -> dict[str, str]:
    pins = {}
    for requirement in requirements():
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([\w.]+)", requirement).groups()
        name = name.lower().replace("_", "-")
        pins[CONDA_NAMES.get(name, name)] = version
    return pins


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_pins() -> dict[str, str]:
    pins = {}
    for entry in environment()["dependencies"]:
        if isinstance(entry, str) and entry not in ("pip",) and not entry.startswith("python="):
            name, version = entry.split("=", 1)
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_dependency_is_pinned_exactly():
    for requirement in requirements():
        assert "==" in requirement, f"{requirement} is not pinned with =="


def test_same_packages_same_versions():
    assert conda_pins() == pyproject_pins()


def test_python_and_editable_install():
    env = environment()
    assert env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
    pip_sections = [e["pip"] for e in env["dependencies"] if isinstance(e, dict)]
    assert pip_sections == [["-e ."]]
    assert "3.11" in project()["requires-python"]


def test_students_install_no_test_or_authoring_tools():
    runtime = {_name(requirement) for requirement in requirements(extra=False)}
    assert not runtime & TOOLS, (
        f"runtime dependencies that only tests or tooling need: {runtime & TOOLS}"
    )
    assert {"torch", "torchvision", "numpy", "jupyterlab", "ipykernel"} <= runtime


def _imported(paths: list[Path]) -> set[str]:
    """Top-level names of the modules that ``paths`` import (at any depth of the code)."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _python_files(*roots: str) -> list[Path]:
    paths = []
    for root in roots:
        path = ROOT / root
        paths += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return paths


def _undeclared(paths: list[Path], declared: set[str]) -> set[str]:
    local = {"helpers", "course"} | {path.stem for path in _python_files("tests", "scripts")}
    distributions = metadata.packages_distributions()
    missing = set()
    for module in _imported(paths) - set(sys.stdlib_module_names) - local:
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not names & declared:
            missing.add(module)
    return missing


def test_what_runs_on_a_students_machine_imports_only_runtime_dependencies():
    declared = {_name(requirement) for requirement in requirements(extra=False)}
    assert not _undeclared(_python_files(*RUNTIME_CODE), declared)


def test_every_imported_package_is_declared():
    declared = {_name(requirement) for requirement in requirements()}
    assert not _undeclared(_python_files("helpers", "course", "tests", "scripts"), declared)
