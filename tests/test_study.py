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


# --- issue 16: any number of years, written as a list or as ranges --------------------
@pytest.mark.parametrize("text, years", [
    ('"2001-2020"', list(range(2001, 2021))),
    ('"2001-2005, 2010"', [2001, 2002, 2003, 2004, 2005, 2010]),
    ('" 2005 "', [2005]),
    ('"2005,2010-2011,2015"', [2005, 2010, 2011, 2015]),
    ('"2019\u20132021"', [2019, 2020, 2021]),          # an en dash, as editors type it
    ("[2001, 2002, 2003]", [2001, 2002, 2003]),
])
def test_years_as_a_list_or_a_range_text(text, years):
    study = parse_study(MINIMAL.replace("[2005, 2010]", text))
    assert study.study.years == years
    assert len(study.input_paths("ndvi", years[-1])) == 1


@pytest.mark.parametrize("text, says", [
    ('"20O1-2020"', "'20O1-2020' is neither a four-digit year"),
    ('"2020-2001"', "ends before it starts; write the earlier year first (2001-2020)"),
    ('"2001-2005, 2003"', "'2003' in '2001-2005, 2003' repeats or comes before 2005"),
    ('"2001-2005,,2010"', "empty piece between commas"),
    ('""', "the years text is empty"),
    ('"01-20"', "neither a four-digit year"),
    ('"2001-2003-2005"', "neither a four-digit year nor a range of two"),
    ('"1890-1901"', "between 1900 and 2100"),
    ("2005", "years must be a list of years or a text of years and ranges, not 2005"),
])
def test_malformed_years_name_the_key_and_the_fix(text, says):
    with pytest.raises(ProblemsError) as info:
        parse_study(MINIMAL.replace("[2005, 2010]", text))
    (problem,) = info.value.problems
    assert problem.key == "study.years"
    assert says in problem.message
    assert 'years = "2001-2020"' in problem.fix and "[2001, 2002, 2003]" in problem.fix
    assert "study.years" in str(info.value) and "fix:" in str(info.value)


def test_a_twenty_year_range_reaches_every_input_path(tmp_path):
    study = parse_study(MINIMAL.replace("[2005, 2010]", '"2001-2020"'), root=tmp_path)
    ndvi = [p.name for p in study.raster_files() if p.name.startswith("ndvi_")]
    assert ndvi == [f"ndvi_{y}.tif" for y in range(2001, 2021)]
    # the manifest's parameters carry the years as a list, whatever the file wrote
    assert study.model_dump(mode="json")["study"]["years"] == list(range(2001, 2021))
