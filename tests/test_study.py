"""The study file: parsing, defaults and messages a user can act on."""

import pytest

from carbon_balance.errors import ProblemsError, StudyError
from carbon_balance.study import load_study, parse_study

MINIMAL = """
[study]
name = "T"
years = [2005, 2010]

[inputs.ndvi]
path = "ndvi_{year}.tif"
scale = 0.0001
[inputs.temperature]
path = "tmp/{year}/t_{month:02d}.tif"
units = "0.1 degC"
[inputs.precipitation]
path = "pre_{year}.tif"
[inputs.radiation]
path = "sol_{year}.tif"
units = "W/m2"
[inputs.vegetation]
path = "lc.tif"
classes = "modis-igbp"
"""


def test_minimal_study_defaults_and_paths(tmp_path):
    study = parse_study(MINIMAL, root=tmp_path)
    assert study.study.years == [2005, 2010]
    assert study.casa.ndvi_bounds == "percentile"
    assert study.casa.rn_coefficient == 0.598
    assert study.zoning.basis == "CO2"
    # issue 11: bounds pooled over the study years, exact zonal sums unless asked otherwise
    assert study.casa.ndvi_bounds_pool == "study" and study.accounting.method == "exact"
    assert study.input_paths("ndvi", 2005) == [(tmp_path / "ndvi_2005.tif").resolve()]
    months = study.input_paths("temperature", 2010)
    assert len(months) == 12 and months[0].name == "t_01.tif" and months[11].name == "t_12.tif"
    assert months[0].parent.name == "2010"


def test_unknown_key_suggests_closest():
    text = MINIMAL.replace('[inputs.ndvi]\npath', '[inputs.ndvi]\nscael = 2\npath')
    with pytest.raises(ProblemsError) as info:
        parse_study(text)
    (problem,) = info.value.problems
    assert problem.key == "inputs.ndvi.scael"
    assert "scale" in problem.fix


def test_unknown_section_suggests_closest():
    with pytest.raises(ProblemsError) as info:
        parse_study(MINIMAL + "\n[zonning]\nbasis = 'C'\n")
    assert "zoning" in info.value.problems[0].fix


def test_toml_syntax_error_names_the_line(tmp_path):
    bad = tmp_path / "study.toml"
    bad.write_text('[study]\nname = "x"\nyears = [2005\n', encoding="utf-8")
    with pytest.raises(StudyError) as info:
        load_study(bad)
    assert "line" in str(info.value) and str(bad) in str(info.value)


def test_bad_units_and_years_are_all_reported():
    text = MINIMAL.replace('units = "0.1 degC"', 'units = "F"').replace("[2005, 2010]", "[2010, 2005]")
    with pytest.raises(ProblemsError) as info:
        parse_study(text)
    keys = {p.key for p in info.value.problems}
    assert "study.years" in keys and "inputs" in keys


def test_missing_file(tmp_path):
    with pytest.raises(StudyError, match="not found"):
        load_study(tmp_path / "nope.toml")


def test_bounds_pool_zhu_mode_and_centres_method_parse_and_bad_values_name_the_key():
    study = parse_study(MINIMAL + '\n[casa]\nndvi_bounds = "zhu"\nndvi_bounds_pool = "year"\n'
                        '\n[accounting]\nmethod = "centres"\n')
    assert (study.casa.ndvi_bounds, study.casa.ndvi_bounds_pool) == ("zhu", "year")
    assert study.accounting.method == "centres"
    with pytest.raises(ProblemsError) as info:
        parse_study(MINIMAL + '\n[accounting]\nmethod = "centers"\n')
    assert info.value.problems[0].key == "accounting.method"
