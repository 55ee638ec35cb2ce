"""Vegetation class tables and crosswalks."""

import numpy as np
import pytest

from carbon_balance import casa
from carbon_balance.errors import InputError


def test_canonical_table_matches_method():
    t = casa.vegetation_types().set_index("code")
    assert list(t.index) == list(range(12))
    # eps_max, Zhu et al. 2006 (METHOD.md)
    assert t.loc[4, "eps_max"] == 0.985 and t.loc[2, "eps_max"] == 0.389
    assert t.loc[6, "eps_max"] == 0.768 and t.loc[7, "eps_max"] == 0.429
    assert t.loc[0, "eps_max"] == 0 and not t.loc[0, "vegetated"]
    assert (t.loc[9:11, "eps_max"] == 0.542).all()
    # sparse woodland is not in Zhu's list: METHOD.md gives it the unlisted-vegetation 0.542
    assert t.loc[8, "eps_max"] == 0.542
    # table NDVI bounds, Zhu et al. 2007
    assert (t.loc[1:, "ndvi_min"] == 0.023).all()
    assert t.loc[1, "ndvi_max"] == 0.738 and t.loc[3, "ndvi_max"] == 0.747
    assert (t.loc[[9, 10, 11], "ndvi_max"] == 0.634).all()


@pytest.mark.parametrize("name, code, expected", [
    ("cas-lucc", 11, 10), ("cas-lucc", 21, 6), ("cas-lucc", 22, 7), ("cas-lucc", 23, 8),
    ("cas-lucc", 31, 9), ("cas-lucc", 42, 0), ("cas-lucc", 51, 0), ("cas-lucc", 64, 11),
    ("cas-lucc", 2, 6), ("modis-igbp", 2, 4), ("modis-igbp", 1, 2), ("modis-igbp", 12, 10),
    ("modis-igbp", 0, 0), ("modis-igbp", 17, 0), ("esa-worldcover", 40, 10),
    ("esa-worldcover", 80, 0), ("esa-worldcover", 95, 4), ("clcd", 2, 6), ("clcd", 9, 11),
    ("casa", 5, 5),
    # the decisions argued in docs/method.md (crosswalk table)
    ("cas-lucc", 24, 8), ("cas-lucc", 46, 11), ("cas-lucc", 45, 0), ("cas-lucc", 63, 0),
    ("modis-igbp", 5, 5), ("modis-igbp", 8, 8), ("modis-igbp", 9, 8), ("modis-igbp", 14, 10),
    ("modis-igbp", 16, 0), ("esa-worldcover", 10, 5), ("esa-worldcover", 60, 0),
    ("esa-worldcover", 100, 11), ("clcd", 7, 0), ("clcd", 3, 7)])
def test_crosswalks(name, code, expected):
    assert casa.to_casa_codes(np.array([code]), name)[0] == expected


def test_nodata_codes_and_nan():
    out = casa.to_casa_codes(np.array([255, 12, 5]), "modis-igbp")
    assert out.tolist() == [-1, 10, 5]
    out = casa.to_casa_codes(np.array([np.nan, 21.0]), "cas-lucc")
    assert out.tolist() == [-1, 6]


def test_missing_codes_are_listed():
    with pytest.raises(InputError) as err:
        casa.to_casa_codes(np.array([[11, 77], [78, 77]]), "cas-lucc")
    msg = str(err.value)
    assert "77, 78" in msg and "cas-lucc" in msg and "add rows" in msg


def test_user_csv(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("# my table\ncode,name,casa_code\n1,oak,3\n2,lake,0\n9,cloud,\n")
    out = casa.to_casa_codes(np.array([1, 2, 9], dtype=np.uint8), path)
    assert out.tolist() == [3, 0, -1]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,type\n1,oak,3\n")
    with pytest.raises(InputError, match="casa_code"):
        casa.load_class_table(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("code,name,casa_code\n1,oak,3\n1,ash,3\n")
    with pytest.raises(InputError, match="twice"):
        casa.load_class_table(dup)
    with pytest.raises(InputError, match="not found"):
        casa.load_class_table(tmp_path / "nope.csv")


def test_every_shipped_table_cites_a_source():
    for name in ("cas-lucc", "modis-igbp", "esa-worldcover", "clcd"):
        table = casa.load_class_table(name)
        assert table["source"].notna().all(), name


def test_table_bounds_follow_reachable_types():
    b = casa.table_bounds("casa")
    assert set(b) == set(range(1, 12)) and b[2] == (0.023, 0.647)
    assert set(casa.table_bounds("clcd")) == {6, 7, 9, 10, 11}


def test_modis_landcover_file_crosswalks_without_missing_codes():
    from pathlib import Path
    path = (Path(__file__).parents[2].parent / "shared" / "data" / "landcover"
            / "MCD12C1_2019_IGBP_0p05deg_108-121E_24-35N.tif")
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(path) as src:
        codes = src.read(1)
    casa_codes = casa.to_casa_codes(codes, "modis-igbp")
    # Subtropical central China: forests, croplands and savannas dominate; all mapped.
    assert (casa_codes >= 0).mean() > 0.99
    assert np.isin(casa_codes[casa_codes >= 0], range(12)).all()
