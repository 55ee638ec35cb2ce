"""Tables are read strictly (issue 15, item 2): each case is what a user's table looks
like, through ``carbon-balance validate`` (exit 2 and one clear message) or, when the
study says how its numbers are written, the number read. All data here are generated."""

from __future__ import annotations

import pandas as pd
import pytest

from carbon_balance.accounting.emissions import load_emissions
from carbon_balance.accounting.gdp import load_gdp
from carbon_balance.study import load_study
from tests.grid.synthetic import ORIGIN  # noqa: F401  (the grid the units lie on)

from .studies import TABLE_YEARS, UNITS, full_study
from .test_cases import refused, run_cli


@pytest.fixture(autouse=True)
def _no_arima_disk_cache(monkeypatch):
    monkeypatch.setenv("CARBON_BALANCE_ARIMA_CACHE", "0")


@pytest.fixture
def study(tmp_path):
    return full_study(tmp_path / "s")


def _wide(study, name: str, rows: list[list], years=TABLE_YEARS) -> None:
    """Write table ``name`` (emissions or gdp) as a wide CSV: code, one column a year."""
    lines = ["code," + ",".join(map(str, years))]
    lines += [",".join(str(c) for c in r) for r in rows]
    (study.parent / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _set(study, section: str, text: str) -> None:
    """Add ``text`` (key = value lines) to ``[section]`` of the study file."""
    study.write_text(study.read_text().replace(f"[{section}]\n", f"[{section}]\n{text}\n"))


def _row(code, first, n=len(TABLE_YEARS), step=0.1):
    return [code] + [f"{first + step * k:.2f}" for k in range(n)]


# ---------------------------------------------------------------- duplicates

def test_unit_listed_twice_in_a_wide_table(study, capsys):
    """Before: the two rows were added up (emissions doubled), exit 0."""
    _wide(study, "emissions", [_row("A1", 2.0), _row("B2", 4.0), _row("A1", 2.0)])
    refused(capsys, study, "emissions.csv", "unit id listed more than once: A1 on rows 2, 4")


def test_unit_year_repeated_in_a_long_table(study, capsys):
    rows = ["code,year,co2"] + [f"{u},{y},{v}" for u, v in (("A1", 2.0), ("B2", 4.0))
                                for y in TABLE_YEARS] + ["A1,2005,2.0"]
    (study.parent / "emissions.csv").write_text("\n".join(rows) + "\n")
    _set(study, "emissions", 'format = "long"\nvalue = "co2"')
    n = len(TABLE_YEARS)
    refused(capsys, study, "(unit id, year) listed more than once: A1, 2005 on rows "
            f"{2 + TABLE_YEARS.index(2005)}, {2 + 2 * n}")


# ---------------------------------------------------------------- numbers

def test_decimal_comma_is_an_error_naming_the_cell(study, capsys):
    """Before: "55,05" became NaN and was then forecast as if missing."""
    row = _row("A1", 2.0)
    row[1 + TABLE_YEARS.index(2005)] = '"2,75"'
    _wide(study, "emissions", [row, _row("B2", 4.0)])
    refused(capsys, study, "emissions.csv", "row 2 column '2005': '2,75'",
            "looks like a decimal comma", 'decimal = ","')


def test_decimal_comma_table_read_with_the_decimal_option(study):
    rows = [[c] + [f"{v + 0.25 * k:.2f}".replace(".", ",") for k in range(len(TABLE_YEARS))]
            for c, v in (("A1", 2.0), ("B2", 4.0))]
    text = "code;" + ";".join(map(str, TABLE_YEARS)) + "\n"
    text += "\n".join(";".join(r) for r in rows) + "\n"   # a European spreadsheet's CSV
    (study.parent / "emissions.csv").write_text(text)
    _set(study, "emissions", 'decimal = ","')
    wide = load_emissions(load_study(study))
    # A1 2005: 2.00 + 0.25 * 7 = 3.75 Mt CO2 = 3.75e6 t CO2
    assert wide.loc["A1", 2005] == pytest.approx(3.75e6)
    assert wide.loc["B2", 1998] == pytest.approx(4.0e6)


def test_thousands_separators_read_with_the_thousands_option(study, capsys):
    rows = [["A1"] + ['"1,234.5"'] * len(TABLE_YEARS), ["B2"] + ['"2,000"'] * len(TABLE_YEARS)]
    _wide(study, "gdp", rows)
    refused(capsys, study, "gdp.csv", "'1,234.5'", "thousands separators")
    _set(study, "gdp", 'thousands = ","')
    wide = load_gdp(load_study(study))
    assert wide.loc["A1", 2005] == pytest.approx(1234.5e8)   # 1e8 yuan
    assert wide.loc["B2", 2005] == pytest.approx(2000e8)


def test_text_in_a_number_cell_is_named(study, capsys):
    row = _row("B2", 4.0)
    row[1 + TABLE_YEARS.index(2003)] = "n.a.?"
    _wide(study, "emissions", [_row("A1", 2.0), row])
    refused(capsys, study, "emissions.csv", "1 cell(s) are not numbers: row 3 column '2003'")


# ---------------------------------------------------------------- ids

def test_ids_with_leading_zeros_are_kept(tmp_path, capsys):
    """Before: 0101 was read as the number 101 and reported missing."""
    study = full_study(tmp_path / "s", units={"0101": UNITS["A1"], "0202": UNITS["B2"]})
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err
    assert list(load_emissions(load_study(study)).index) == ["0101", "0202"]


def test_ids_with_leading_zeros_are_kept_in_excel_tables(tmp_path, capsys):
    """A workbook's text cell '0101' stays '0101' (read_excel alone makes it 101)."""
    import pandas as pd

    study = full_study(tmp_path / "s", units={"0101": UNITS["A1"], "0202": UNITS["B2"]})
    root = study.parent
    pd.read_csv(root / "gdp.csv", dtype={"code": str}).to_excel(root / "gdp.xlsx", index=False)
    study.write_text(study.read_text().replace('"gdp.csv"', '"gdp.xlsx"'))
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err


def test_ids_that_differ_only_in_leading_zeros_get_a_hint(tmp_path, capsys):
    study = full_study(tmp_path / "s", units={"0101": UNITS["A1"], "0202": UNITS["B2"]})
    _wide(study, "emissions", [_row("101", 2.0), _row("202", 4.0)])
    refused(capsys, study, "units missing from the table: 0101, 0202",
            "differ in leading zeros, e.g. '0101' in the units and '101' in the table")


# ---------------------------------------------------------------- magnitudes

@pytest.mark.parametrize("value, needle", [
    ("-40", "emissions <= 0 for A1 2005 (-40 Mt CO2)"),
    ("0", "emissions <= 0 for A1 2005 (0 Mt CO2)"),
    ("1e30", "above the plausible range"),
])
def test_impossible_emissions(study, capsys, value, needle):
    """Before: -40, 0 and 1e30 Mt were zoned, exit 0."""
    row = _row("A1", 2.0)
    row[1 + TABLE_YEARS.index(2005)] = value
    _wide(study, "emissions", [row, _row("B2", 4.0)])
    refused(capsys, study, "emissions.csv", needle)


def test_emissions_in_t_declared_as_mt(study, capsys):
    """Before: CB and CBI a million times too large, zones unchanged, exit 0."""
    _wide(study, "emissions", [_row("A1", 2.0e6, step=1e5), _row("B2", 4.0e6, step=1e5)])
    err = refused(capsys, study, "emissions.csv", "[emissions.units]", "above the plausible range",
                  'the values look like t CO2: set emissions.units = "t CO2"')
    assert err.count("error:") == 1


def test_emissions_in_mt_declared_as_t_is_a_warning(study, capsys):
    study.write_text(study.read_text().replace('units = "Mt CO2"', 'units = "t CO2"'))
    # A1 is ~650 km²: 2 "t CO2" is 0.003 t km-2, below any inhabited unit
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err
    assert "warning:" in err and "below the plausible range" in err
    assert 'the values look like Mt CO2: set emissions.units = "Mt CO2"' in err


def test_gdp_in_yuan_declared_as_1e8_yuan(study, capsys):
    _wide(study, "gdp", [_row("A1", 3.0e10, step=1e9), _row("B2", 6.0e10, step=1e9)])
    refused(capsys, study, "gdp.csv", "gdp per km² of the unit above the plausible range",
            'the values look like yuan: set gdp.units = "yuan"')


# ---------------------------------------------------------------- the study file

def test_study_file_with_a_byte_order_mark(study, capsys):
    """Before: 'TOML syntax error at line 1' (Notepad saves UTF-8 with a BOM)."""
    study.write_bytes(b"\xef\xbb\xbf" + study.read_bytes())
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err


def test_tables_with_a_byte_order_mark(study, capsys):
    path = study.parent / "emissions.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())   # Excel's "CSV UTF-8"
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err
    assert pd.read_csv(path, encoding="utf-8-sig").columns[0] == "code"


# ---------------------------------------------------------------- units (item 3)

def test_overlapping_units_and_units_half_outside_the_grid_are_warned(tmp_path, capsys):
    """Before: accepted without a word (carbon counted twice, or only in part)."""
    from shapely.geometry import box

    units = {**UNITS,
             "C3": box(110.5, 29.7, 110.7, 29.9),     # the grid ends at 110.6 E: half outside
             "D4": box(110.2, 29.65, 110.3, 29.95)}   # half of it inside A1
    study = full_study(tmp_path / "s", units=units)
    code, err = run_cli(capsys, "validate", study)
    assert code == 0, err
    assert "warning:" in err
    assert "units overlap: A1 and D4 (50.0 % of the smaller)" in err
    assert "units partly outside the study grid: C3 (50.0 % outside)" in err


def test_rows_longer_than_the_header_are_refused(tmp_path):
    """Found by the fuzz test: pandas shifts the columns under their names when every row
    has one cell more than the header; refused, not read shifted."""
    from carbon_balance.accounting.table_readers import read_table
    from carbon_balance.errors import InputError

    path = tmp_path / "t.csv"
    path.write_bytes(b"unit_id,2005\r\n0,0,0\r\n")
    with pytest.raises(InputError, match="more cells than the header"):
        read_table(path, key="emissions.path")
