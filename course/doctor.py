"""``python -m helpers doctor`` (or ``python -m course doctor``): is this computer ready?

The one tool of :mod:`course` that students run: it imports only the course's runtime
dependencies. ``helpers.doctor`` and ``python -m helpers doctor`` are its old names (shims).

Checks, one line each, and for each problem a ``fix:`` line with the command to run:

* Python: the version the course requires (``Requires-Python`` of the installed distribution);
* packages: every pinned requirement of ``cnn-course-helpers`` at exactly its pinned version;
* data: every file of ``data/MANIFEST.json`` present and intact (:func:`helpers.data.data_status`);
* JupyterLab: importable, with its version;
* kernel: the ``python3`` kernelspec exists and its Python imports ``helpers`` and ``torch``;
* widgets and slides: ipywidgets and jupyterlab-rise with their JupyterLab extensions;
* Chromium (a warning only: the slides test needs it, the course does not);
* device: what :func:`helpers.get_device` picks (information);
* course updates (a warning only): the clone is behind its remote as last fetched (no network)
  while ``notebooks/`` has the student's work: ``make update`` carries it into the new edition.

Every check is a function returning a :class:`Check`; :func:`run` prints them and returns the
exit code (0: all is well, 1: something needs fixing). A check that fails unexpectedly is
reported as a problem with its message, never with a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TextIO

from course.notebook import ROOT, is_unedited, notebooks

DISTRIBUTION = "cnn-course-helpers"
COURSE_ROOT = ROOT
KERNEL_NAME = "python3"
KERNEL_TIMEOUT_S = 60
LAB_EXTENSIONS = {  # what the extension is for -> its folder under share/jupyter/labextensions
    "widgets": "@jupyter-widgets/jupyterlab-manager",
    "RISE": "jupyterlab-rise",
}
BROWSERS = ("chromium", "chromium-browser")

OK, PROBLEM, WARNING = "✅", "❌", "⚠️"
SUMMARY = (
    "Checks Python, the pinned packages, the data files, JupyterLab, the python3 kernel, "
    "widgets and RISE,\nChromium, the device and course updates; prints a fix for each problem. "
    "Exit code 0\nwhen all is well, 1 otherwise."
)


@dataclass(frozen=True)
class Check:
    """The result of one check.

    ``ok`` False with ``optional`` True is a warning (⚠️) that does not change the exit code;
    ``fix`` is the command (or the few words) that repairs a problem.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False

    @property
    def symbol(self) -> str:
        if self.ok:
            return OK
        return WARNING if self.optional else PROBLEM


CheckFunction = Callable[[], Check]


def guarded(name: str) -> Callable[[Callable[[], Check]], CheckFunction]:
    """Make a check safe: an exception inside it becomes a ❌ line with the exception's message."""

    def decorate(function: Callable[[], Check]) -> CheckFunction:
        @functools.wraps(function)
        def safe() -> Check:
            try:
                return function()
            except Exception as error:  # noqa: BLE001 (the user must never see a traceback)
                message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                return Check(
                    name,
                    False,
                    f"could not be checked: {type(error).__name__}"
                    + (f": {message}" if message else ""),
                    fix=f"reinstall the course: {_reinstall()}; if this line stays, report it "
                    f"to the course maintainers with the output of `{_this_python()} -m helpers "
                    "doctor`",
                )

        safe.check_name = name  # type: ignore[attr-defined]
        return safe

    return decorate


# --------------------------------------------------------------------------- small helpers


def _python_version() -> str:
    """The running Python's version, e.g. ``"3.11.7"`` (tests replace it)."""
    return platform.python_version()


def _installed_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None (tests replace it)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _uses_conda() -> bool:
    return Path(sys.prefix, "conda-meta").is_dir()


def _shown(path: str | Path) -> str:
    """``path`` relative to the current folder when it lies inside it, else absolute."""
    path = Path(path)
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except (ValueError, OSError):  # elsewhere, or the current folder was deleted
        return str(path)


def _in_course(command: str) -> str:
    """``command`` to run in the course folder, with a ``cd`` when we are elsewhere."""
    try:
        here = Path.cwd().resolve()
    except OSError:
        here = None
    if here == COURSE_ROOT:
        return f"`{command}`"
    return f"`cd {COURSE_ROOT} && {command}`"


def _this_python() -> str:
    return _shown(sys.executable)


def _reinstall() -> str:
    if _uses_conda():
        return _in_course("conda env update -f environment.yml")
    return (
        f"{_in_course(f'{_this_python()} -m pip install -e .')} "
        "(with conda: `conda env update -f environment.yml`)"
    )


def _requirements():
    """The distribution's pinned requirements that apply here, as ``packaging`` objects."""
    from packaging.requirements import Requirement

    found = []
    for text in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            found.append(requirement)
    return found


# --------------------------------------------------------------------------- the checks


@guarded("Python")
def check_python() -> Check:
    """The running Python satisfies the distribution's ``Requires-Python`` (3.11)."""
    from packaging.specifiers import SpecifierSet

    try:
        required = metadata.metadata(DISTRIBUTION)["Requires-Python"]
    except metadata.PackageNotFoundError:
        return Check(
            "Python",
            False,
            f"the course package {DISTRIBUTION} is not installed in this Python ({_this_python()})",
            fix=_reinstall(),
        )
    version = _python_version()
    if required and not SpecifierSet(required).contains(version, prereleases=True):
        if _uses_conda():
            fix = (
                f"{_in_course('conda env create -f environment.yml')} (it installs Python "
                "3.11), then `conda activate cnn-course`"
            )
        else:
            fix = (
                "install Python 3.11, then recreate the environment: "
                f"{_in_course('rm -rf .venv && make setup')} "
                "(or `make setup PYTHON=/path/to/python3.11`)"
            )
        return Check(
            "Python",
            False,
            f"Python {version} runs here, but the course needs Python {_readable(required)}",
            fix=fix,
        )
    return Check("Python", True, f"Python {version} (the course needs {_readable(required)})")


def _readable(specifiers: str) -> str:
    """``"<3.12,>=3.11"`` -> ``">=3.11, <3.12"`` (lower bound first)."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    parts = sorted(SpecifierSet(specifiers), key=lambda s: (Version(s.version), s.operator))
    return ", ".join(str(part) for part in parts)


@guarded("Packages")
def check_packages() -> Check:
    """Every pinned requirement is installed at exactly its pinned version."""
    try:
        requirements = _requirements()
    except metadata.PackageNotFoundError:
        return Check(
            "Packages",
            False,
            f"the course package {DISTRIBUTION} is not installed in this Python ({_this_python()})",
            fix=_reinstall(),
        )
    problems, versions = [], {}
    for requirement in requirements:
        version = _installed_version(requirement.name)
        pinned = str(requirement.specifier).removeprefix("==")
        if version is None:
            problems.append(f"{requirement.name} is not installed (the course pins {pinned})")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} is installed, the course pins {pinned}")
        versions[requirement.name.lower()] = version
    if problems:
        return Check("Packages", False, "; ".join(problems), fix=_reinstall())
    shown = ", ".join(
        f"{name} {versions[name]}" for name in ("torch", "torchvision") if name in versions
    )
    return Check(
        "Packages",
        True,
        f"all {len(requirements)} pinned packages at their pinned versions ({shown}, ...)",
    )


@guarded("Data files")
def check_data() -> Check:
    """Every file of ``data/MANIFEST.json`` is present and has the right sha256."""
    from helpers import data

    folder = data.data_dir()
    override = os.environ.get(data.ENV_VAR)
    try:
        status = data.data_status()
    except data.DataFileError as error:
        fix = (
            f"point {data.ENV_VAR} at a complete copy of the course's data/ folder, or "
            f"`unset {data.ENV_VAR}`"
            if override
            else f"restore it: {_in_course('git checkout -- data/')}"
        )
        problem = str(error).split(";")[0].removeprefix("data_status: ")
        return Check("Data files", False, problem, fix=fix)
    bad = {rel: state for rel, state in status.items() if state != "ok"}
    if not bad:
        where = f" in {folder} ({data.ENV_VAR})" if override else ""
        return Check(
            "Data files",
            True,
            f"all {len(status)} files of data/MANIFEST.json present and intact{where}",
        )
    problems = [
        f"data/{rel} is missing" if state == "missing" else f"data/{rel} is corrupt: it {state}"
        for rel, state in bad.items()
    ]
    if override:
        copies = " && ".join(f"cp {data.DATA_DIR / rel} {folder / rel}" for rel in sorted(bad))
        fix = (
            f"{data.ENV_VAR} points to {folder}: copy the course's files there "
            f"(`{copies}`) or `unset {data.ENV_VAR}`"
        )
        problems[0] = f"in {folder} ({data.ENV_VAR}): {problems[0]}"
    else:
        files = " ".join(f"data/{rel}" for rel in sorted(bad))
        fix = (
            f"restore {'it' if len(bad) == 1 else 'them'} from git: "
            f"{_in_course(f'git checkout -- {files}')}"
        )
    return Check("Data files", False, "; ".join(problems), fix=fix)


@guarded("JupyterLab")
def check_jupyterlab() -> Check:
    """JupyterLab can be imported."""
    try:
        import jupyterlab
    except ImportError as error:
        return Check("JupyterLab", False, f"cannot be imported ({error})", fix=_reinstall())
    return Check("JupyterLab", True, f"JupyterLab {jupyterlab.__version__}")


_PROBE = (
    "import json, sys\n"
    "import helpers, torch\n"
    "print(json.dumps({'prefix': sys.prefix, 'executable': sys.executable, "
    "'torch': torch.__version__}))\n"
)
_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}

# Kernel probes started ahead of time by run(), so that they import torch while the other
# checks run: {kernel Python: the running probe}.
_started_probes: dict[str, subprocess.Popen] = {}


def _kernel_python(argv: list[str]) -> str:
    """The Python a kernelspec's ``argv`` starts; ``python`` means Jupyter's own Python."""
    first = argv[0] if argv else ""
    if first in _PYTHON_NAMES:
        return sys.executable  # what jupyter_client does when it starts the kernel
    return first


def _locate_kernel():
    """``(kernelspec, its Python)``; raises ``NoSuchKernel`` when there is none."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    return spec, _kernel_python(list(spec.argv))


def _start_probe(spec, python: str) -> subprocess.Popen:
    """Start ``python`` importing helpers and torch, as the kernel would (raises OSError)."""
    return subprocess.Popen(
        [python, "-c", _PROBE],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tempfile.gettempdir(),  # as in a notebook folder: no stray helpers/ on the path
        env={**os.environ, **(spec.env or {})},
    )


def _prefetch_kernel_probe() -> None:
    """Start the kernel check's slow part now; check_kernel() collects it (or redoes it)."""
    try:
        spec, python = _locate_kernel()
        _started_probes[python] = _start_probe(spec, python)
    except Exception:  # noqa: BLE001 (check_kernel will meet the same problem and report it)
        pass


def _from_jupyter_path(folder: str) -> bool:
    entries = [entry for entry in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if entry]
    return any(Path(folder).is_relative_to(Path(entry)) for entry in entries)


def _same_prefix(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


@guarded("Kernel")
def check_kernel() -> Check:
    """The ``python3`` kernelspec exists and its Python can import ``helpers`` and ``torch``."""
    from jupyter_client.kernelspec import NoSuchKernel

    install = f"`{_this_python()} -m ipykernel install --user --name {KERNEL_NAME}`"
    fix = f"{install}, or start Jupyter with `make lab`"
    try:
        spec, python = _locate_kernel()
    except NoSuchKernel:
        return Check("Kernel", False, f"no `{KERNEL_NAME}` kernel is registered", fix=install)
    where = f"kernel `{KERNEL_NAME}` ({spec.resource_dir}) runs {python}"
    if _from_jupyter_path(spec.resource_dir):  # JUPYTER_PATH wins over a --user kernelspec
        fix = (
            f"{spec.resource_dir} comes from JUPYTER_PATH, which comes first: `unset "
            f"JUPYTER_PATH`, or point its kernel.json at this Python ({_this_python()})"
        )
    try:
        probe = _started_probes.pop(python, None) or _start_probe(spec, python)
    except FileNotFoundError:
        return Check("Kernel", False, f"{where}, which does not exist", fix=fix)
    except OSError as error:
        return Check("Kernel", False, f"{where}, which cannot be started ({error})", fix=fix)
    try:
        stdout, stderr = probe.communicate(timeout=KERNEL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        return Check(
            "Kernel",
            False,
            f"{where}, which took more than {KERNEL_TIMEOUT_S} s to import helpers and torch",
            fix=fix,
        )
    lines = stdout.strip().splitlines()
    if probe.returncode != 0 or not lines:
        errors = [line for line in stderr.strip().splitlines() if line.strip()]
        reason = errors[-1].strip() if errors else f"exit code {probe.returncode}"
        return Check(
            "Kernel",
            False,
            f"{where}, which cannot import helpers and torch ({reason})",
            fix=fix,
        )
    try:
        found = json.loads(lines[-1])
        prefix, torch_version = found["prefix"], found["torch"]
    except (ValueError, KeyError, TypeError):
        return Check("Kernel", False, f"{where}, which answered {lines[-1]!r}", fix=fix)
    if not _same_prefix(prefix, sys.prefix):
        return Check(
            "Kernel",
            False,
            f"{where}: another Python environment ({prefix}) than this one ({sys.prefix}), "
            "so notebooks would run with other packages",
            fix=fix,
        )
    return Check(
        "Kernel",
        True,
        f"kernel `{KERNEL_NAME}` runs {_shown(python)}, which imports helpers and "
        f"torch {torch_version}",
    )


def _labextension_installed(folder: str) -> bool:
    from jupyter_core.paths import jupyter_path

    return any(
        Path(root, folder, "package.json").is_file() for root in jupyter_path("labextensions")
    )


@guarded("Widgets and RISE")
def check_widgets_and_rise() -> Check:
    """ipywidgets (the explorers) and jupyterlab-rise (slides), with their lab extensions."""
    problems, found = [], []
    for package, module in (("ipywidgets", "ipywidgets"), ("jupyterlab-rise", "jupyterlab_rise")):
        version = _installed_version(package)
        if version is None:
            problems.append(f"{package} is not installed")
            continue
        try:
            __import__(module)
        except ImportError as error:
            problems.append(f"{package} {version} cannot be imported ({error})")
            continue
        found.append(f"{package} {version}")
    if not problems:
        missing = [
            use for use, folder in LAB_EXTENSIONS.items() if not _labextension_installed(folder)
        ]
        problems += [f"the JupyterLab extension for {use} is missing" for use in missing]
    if problems:
        return Check("Widgets and RISE", False, "; ".join(problems), fix=_reinstall())
    return Check(
        "Widgets and RISE",
        True,
        f"{', '.join(found)}; their JupyterLab extensions are installed",
    )


@guarded("Chromium")
def check_chromium() -> Check:
    """A Chromium on PATH (only the slides test needs it, so a warning at most)."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return Check("Chromium", True, f"{path} (for the slides test)", optional=True)
    return Check(
        "Chromium",
        False,
        "not found on PATH; only the slides test needs it, the course does not",
        fix="`sudo apt-get install chromium`",
        optional=True,
    )


@guarded("Device")
def check_device() -> Check:
    """What ``helpers.get_device()`` gives (information only)."""
    import torch

    import helpers

    device = helpers.get_device()
    if device.type == "cuda":
        return Check("Device", True, f"cuda ({torch.cuda.get_device_name(device)})")
    return Check("Device", True, f"{device.type} (every notebook runs on a CPU in minutes)")


def _git(*args: str) -> subprocess.CompletedProcess:
    """``git -C COURSE_ROOT ARGS``, output captured (never the network: no fetch)."""
    return subprocess.run(
        ["git", "-C", str(COURSE_ROOT), *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def _edited_notebooks() -> list[str]:
    """The stems of the student notebooks that are no longer as the release made them."""
    import nbformat  # (sources stored as lists of lines are joined, as the release hashed them)

    edited = []
    for path in notebooks(COURSE_ROOT / "notebooks"):
        try:
            unedited = is_unedited(nbformat.read(path, as_version=4))
        except Exception:  # noqa: BLE001 (unreadable: the student's, not the release's)
            unedited = False
        if not unedited:
            edited.append(path.stem)
    return edited


@guarded("Course updates")
def check_updates() -> Check:
    """Behind the remote (as last fetched) with answers in notebooks/: a warning, `make update`.

    OK when the course folder is not a git clone, follows no remote branch, or is up to date.
    """
    name = "Course updates"
    top = _git("rev-parse", "--show-toplevel") if shutil.which("git") else None
    if (
        top is None
        or top.returncode != 0
        or Path(top.stdout.strip()).resolve() != Path(COURSE_ROOT).resolve()
    ):
        return Check(name, True, "the course folder is not a git clone: nothing to check")
    upstream = _git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    if upstream.returncode != 0:
        return Check(name, True, "this clone follows no remote branch: nothing to check")
    remote = upstream.stdout.strip()
    behind = _git("rev-list", "--count", "HEAD..@{upstream}")
    count = int(behind.stdout.strip()) if behind.returncode == 0 else 0
    if count == 0:
        return Check(name, True, f"up to date with {remote} (as last fetched)")
    new = f"{remote} has {count} commit{'s' if count > 1 else ''} that this clone lacks"
    edited = _edited_notebooks()
    if not edited:
        return Check(name, True, f"{new}: `git pull` (or `make update`) brings them")
    shown = ", ".join(edited[:4]) + (", ..." if len(edited) > 4 else "")
    return Check(
        name,
        False,
        f"{new} (as last fetched), and you have work in notebooks/ ({shown})",
        fix=f"{_in_course('make update')}: it carries your answers into the new edition "
        "(`git pull` would conflict on your notebooks)",
        optional=True,
    )


CHECKS: tuple[CheckFunction, ...] = (
    check_python,
    check_packages,
    check_data,
    check_jupyterlab,
    check_kernel,
    check_widgets_and_rise,
    check_chromium,
    check_device,
    check_updates,
)


# --------------------------------------------------------------------------- running


def run(checks: Iterable[CheckFunction] = CHECKS, stream: TextIO | None = None) -> int:
    """Run ``checks``, print one line each (and a fix for each problem); return the exit code.

    Returns 0 if no check found a problem (warnings do not count), else 1.
    """
    stream = sys.stdout if stream is None else stream
    checks = list(checks)
    if check_kernel in checks:
        _prefetch_kernel_probe()
    print(f"Checking the course environment of {_this_python()}\n", file=stream)
    results = []
    for function in checks:
        result = function()
        results.append(result)
        print(f"{result.symbol} {result.name}: {result.detail}", file=stream)
        if not result.ok and result.fix:
            print(f"   fix: {result.fix}", file=stream)
        stream.flush()
    problems = [result for result in results if not result.ok and not result.optional]
    warnings = [result for result in results if not result.ok and result.optional]
    print(file=stream)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        print(
            f"{PROBLEM} {count} found ({', '.join(r.name for r in problems)}): run the fix "
            f"lines above, then `{_this_python()} -m helpers doctor` again.",
            file=stream,
        )
        return 1
    note = f" ({len(warnings)} warning{'s' if len(warnings) > 1 else ''})" if warnings else ""
    print(f"{OK} All is well{note}: you are ready for the course.", file=stream)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers doctor``: run every check."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: python -m helpers doctor\n\n{SUMMARY}")
        return 0
    if argv:
        print(
            f"python -m helpers doctor: takes no arguments, got {' '.join(argv)}", file=sys.stderr
        )
        return 2
    return run()


if __name__ == "__main__":
    sys.exit(main())
