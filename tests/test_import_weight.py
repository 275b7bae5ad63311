"""Importing the package and the integer formulas stays light: no torch.fx, no tooling."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch.fx", "nbformat", "nbconvert", "playwright", "pytest")


@pytest.mark.parametrize(
    "statement", ["import helpers", "from helpers.shapes import conv_output_size"]
)
def test_light_imports(statement):
    probe = f"{statement}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == [], f"{statement!r} imports {result.stdout.strip()}"


def test_the_receptive_field_tools_still_come_with_shapes():
    from helpers import receptive_field, shapes

    assert shapes.receptive_field is receptive_field.receptive_field
    assert shapes.LayerField is receptive_field.LayerField
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        shapes.nothing  # noqa: B018
