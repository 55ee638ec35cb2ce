import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("cb_test_outfolder",
                                               Path(__file__).with_name("outfolder.py"))
outfolder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(outfolder)


@pytest.fixture(scope="session")
def output_folder(tmp_path_factory) -> Path:
    """A complete fabricated output folder with generated inputs (do not modify it)."""
    return outfolder.write_output_folder(tmp_path_factory.mktemp("fab") / "results")


@pytest.fixture(scope="session")
def units_geo(output_folder):
    """The long GeoDataFrame (units.gpkg layers joined to units.csv) of the folder."""
    from carbon_balance.figures import load_results

    return load_results(output_folder).units_geo


@pytest.fixture(scope="session")
def make_output_folder():
    """``make_output_folder(path, generated=True, optional=True)`` writes a fabricated folder."""
    return outfolder.write_output_folder
