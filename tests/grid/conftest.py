"""Fixtures of the grid engine tests (generated data)."""

import pytest

from .synthetic import write_study


@pytest.fixture
def study_2005(tmp_path):
    return write_study(tmp_path / "study")
