"""Strict nbval of the solution notebooks with CPU kernels and thread counts unlike this machine's.

Usage: python -m course portable [--setting NAME ...] [NOTEBOOK | FOLDER | STEM ...]
(``make test-portable``; ``make test-portable NB=10`` for one notebook.)

A stored output must reproduce on every machine that runs the pinned packages, not only on
the one that stored it. PyTorch, MKL, oneDNN and NumPy choose their kernels by CPU (and
their reduction order by thread count); these environment variables make them choose others
on this machine, so one machine can stand in for several:

* ``ATEN_CPU_CAPABILITY``: PyTorch's own vectorised kernels (default = no SIMD, avx2, avx512);
* ``ONEDNN_MAX_CPU_ISA``: oneDNN's convolutions;
* ``MKL_ENABLE_INSTRUCTIONS``: MKL's matrix products (PyTorch's GEMM on x86);
* ``NPY_DISABLE_CPU_FEATURES``: NumPy's dispatched SIMD loops;
* the thread count: ``OMP_NUM_THREADS`` for NumPy's BLAS and MKL, and an IPython start-up
  file that calls ``torch.set_num_threads`` in every kernel (PyTorch caps ``OMP_NUM_THREADS``
  at the number of cores; notebooks that call ``torch.set_num_threads(1)`` themselves keep
  their one thread).

Each setting first asks a fresh Python which kernels it really got, and fails if the request
was ignored (a test that cannot fail is worse than none). Then it runs the same strict nbval
as ``make test`` (``--nbval``, never ``--nbval-lax``). Exit status 0 only if every setting
passes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course.notebook import ROOT, SOLUTIONS, SelectionError, select


@dataclass(frozen=True)
class Setting:
    name: str
    stands_for: str
    env: dict[str, str]
    torch_capability: str  # what torch.backends.cpu.get_cpu_capability() must report
    threads: int  # torch's intra-op threads in every kernel


SETTINGS = (
    Setting(
        "no-simd-1-thread",
        "an old x86 CPU, or a CPU without x86 SIMD (arm64 runs other kernels again)",
        {
            "ATEN_CPU_CAPABILITY": "default",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
            "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
            "OMP_NUM_THREADS": "1",
        },
        "DEFAULT",
        1,
    ),
    Setting(
        "avx2-3-threads",
        "a typical laptop: AVX2, no AVX-512, an odd number of threads",
        {
            "ATEN_CPU_CAPABILITY": "avx2",
            "ONEDNN_MAX_CPU_ISA": "AVX2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
            "OMP_NUM_THREADS": "3",
        },
        "AVX2",
        3,
    ),
)

NBVAL = [
    "--nbval",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    str(ROOT / "tests" / "nbval_sanitize.cfg"),
]

_PROBE = """
import os, torch
from numpy._core._multiarray_umath import __cpu_features__ as npy
print(torch.backends.cpu.get_cpu_capability())
print(torch.get_num_threads())
disabled = os.environ.get('NPY_DISABLE_CPU_FEATURES', '').split()
print(' '.join(sorted(k for k in disabled if npy.get(k))))
"""


def ipython_dir(setting: Setting, parent: Path) -> Path:
    """An IPYTHONDIR whose start-up file sets torch's thread count in every kernel."""
    startup = parent / setting.name / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-threads.py").write_text(
        f"import torch\n\ntorch.set_num_threads({setting.threads})\n"
    )
    return parent / setting.name


def probe(setting: Setting, env: dict[str, str]) -> str | None:
    """Return None if the setting took effect in a fresh IPython, else what went wrong."""
    out = subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return f"probe failed: {out.stderr.strip()}"
    capability, threads, still_on = (out.stdout.splitlines() + ["", "", ""])[:3]
    if capability != setting.torch_capability:
        return f"torch runs {capability} kernels, not {setting.torch_capability}"
    if threads != str(setting.threads):
        return f"torch runs {threads} threads, not {setting.threads}"
    if still_on:
        return f"NumPy still dispatches to {still_on}"
    return None


def resolve(names: list[str]) -> list[str]:
    """What pytest is given for ``names``: a folder or file as given (nbval collects a folder's
    notebooks itself); a stem or prefix of ``solutions/`` as the path of the notebook it names
    (:func:`course.notebook.select`)."""
    paths = []
    for name in names:
        if Path(name).exists() or (ROOT / name).exists():
            paths.append(name)
            continue
        try:
            (path,) = select([name], SOLUTIONS)
        except SelectionError as error:
            raise SystemExit(str(error)) from None
        paths.append(str(path.relative_to(ROOT)))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course portable", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths", nargs="*", default=["solutions"], help="notebooks, folders or notebook stems"
    )
    parser.add_argument(
        "--setting",
        action="append",
        choices=[s.name for s in SETTINGS],
        help="run only these settings (default: all)",
    )
    args = parser.parse_args(argv)
    chosen = [s for s in SETTINGS if not args.setting or s.name in args.setting]
    paths = resolve(args.paths)
    results = []
    scratch = Path(tempfile.mkdtemp(prefix="test-portable-"))
    for setting in chosen:
        env = {**os.environ, **setting.env, "TQDM_DISABLE": "1", "PYTHONHASHSEED": "0"}
        env["IPYTHONDIR"] = str(ipython_dir(setting, scratch))
        flags = " ".join(f"{k}={v}" for k, v in setting.env.items())
        print(f"\n== {setting.name} ({setting.stands_for})", flush=True)
        print(f"   {flags}, torch.set_num_threads({setting.threads})", flush=True)
        problem = probe(setting, env)
        if problem:
            print(f"   the setting did not take effect: {problem}")
            results.append((setting.name, "not applied", 0.0))
            continue
        start = time.perf_counter()
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *NBVAL]
        status = subprocess.run([*command, *paths], env=env, cwd=ROOT, check=False)
        seconds = time.perf_counter() - start
        results.append((setting.name, "passed" if status.returncode == 0 else "FAILED", seconds))
    shutil.rmtree(scratch, ignore_errors=True)
    print("\nsetting               result        seconds")
    for name, result, seconds in results:
        print(f"{name:21s} {result:13s} {seconds:7.0f}")
    return 0 if all(result == "passed" for _, result, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
