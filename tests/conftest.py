"""Shared test setup: the checker contract's asserts are rewritten; Hypothesis keeps its
cache outside the repository; a one-thread fixture."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before any test module imports it, so that its failing asserts show their values.
pytest.register_assert_rewrite("checker_contract", "named_errors")

# The property tests remember no examples (``database=None`` in tests/strategies.py), but
# Hypothesis still caches the constants it reads from the source, by default in
# ``.hypothesis/`` of the working directory: keep that out of the repository.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "hypothesis-course")
)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Many tiny torch ops: a second thread only adds synchronisation cost.

    Use it in a module with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch  # here, so that tests without torch do not pay for importing it

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
