"""course/portable.py (make test-portable): its settings really change the kernels.

The matrix itself (strict nbval of solutions/ under each setting) runs in `.ci/run` after
`make test`; these tests make sure it cannot pass vacuously: each setting is honoured by a fresh
IPython (as nbval's kernels are started), a request that is not honoured is reported, and the
notebook names resolve as `make execute` names them.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from course import portable


def _env(setting, tmp_path):
    env = {**os.environ, **setting.env}
    env["IPYTHONDIR"] = str(portable.ipython_dir(setting, tmp_path))
    return env


@pytest.mark.parametrize("setting", portable.SETTINGS, ids=lambda s: s.name)
def test_every_setting_takes_effect_in_a_fresh_ipython(setting, tmp_path):
    assert portable.probe(setting, _env(setting, tmp_path)) is None


def test_settings_differ_from_each_other_in_kernels_and_threads():
    capabilities = {s.torch_capability for s in portable.SETTINGS}
    threads = {s.threads for s in portable.SETTINGS}
    assert len(capabilities) == len(portable.SETTINGS) >= 2
    assert len(threads) == len(portable.SETTINGS)


def test_an_ignored_kernel_request_is_reported(tmp_path):
    setting = portable.SETTINGS[0]
    env = _env(setting, tmp_path)
    del env["ATEN_CPU_CAPABILITY"]  # torch then picks this machine's best kernels
    problem = portable.probe(replace(setting, torch_capability="NO_SUCH_KERNEL"), env)
    assert problem is not None and "NO_SUCH_KERNEL" in problem


def test_an_ignored_thread_count_is_reported(tmp_path):
    setting = portable.SETTINGS[1]
    problem = portable.probe(replace(setting, threads=7), _env(setting, tmp_path))
    assert problem is not None and "7" in problem


def test_notebook_names_resolve_like_make_execute():
    assert portable.resolve(["solutions"]) == ["solutions"]
    (found,) = portable.resolve(["03"])
    assert found.startswith("solutions/03_") and found.endswith(".ipynb")
    with pytest.raises(SystemExit, match="no notebook"):
        portable.resolve(["99_missing"])
