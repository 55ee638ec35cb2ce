import importlib.util
import shutil
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "cb_test_outfolder", Path(__file__).parents[1] / "figures" / "outfolder.py")
outfolder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(outfolder)


@pytest.fixture(scope="session")
def report_folder(tmp_path_factory) -> Path:
    """A fabricated output folder (generated inputs) with its report built once."""
    from carbon_balance.report import build_report

    folder = outfolder.write_output_folder(tmp_path_factory.mktemp("rep") / "results")
    build_report(folder)
    return folder


@pytest.fixture()
def copy_folder(report_folder, tmp_path):
    """A private copy of the built folder, for tests that change it."""
    def make() -> Path:
        dest = tmp_path / "copy"
        shutil.copytree(report_folder, dest)
        return dest
    return make


@pytest.fixture(scope="session")
def make_output_folder():
    """``make_output_folder(path, generated=True, optional=True)`` writes a fabricated folder."""
    return outfolder.write_output_folder
