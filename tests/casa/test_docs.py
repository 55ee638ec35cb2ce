"""The docstring examples of carbon_balance.casa run and give what they show, and
docs/api.md is the page scripts/api_docs.py renders from them (it cannot go stale)."""

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("arrays", "fpar", "model", "parameters", "percentiles", "reference", "respiration",
           "tables", "temperature", "water")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"carbon_balance.casa.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_api_page_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_docs.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
