"""Property tests: random and malformed study files and tables thrown at the loaders and
the ``zoning`` command end in a result or a :class:`CarbonBalanceError`, never another
exception (issue 6, item 4). All inputs here are generated."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_balance.accounting.emissions import load_emissions
from carbon_balance.accounting.gdp import load_gdp
from carbon_balance.accounting.table_readers import read_unit_year_table
from carbon_balance.balance import zone_table, zone_table_file
from carbon_balance.errors import CarbonBalanceError
from carbon_balance.study import EmissionsSection, GdpSection, parse_study

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- study files -----------------------------------------------------------------------

VALID = """\
[study]
name = "fuzz"
years = [2005, 2010]

[units]
path = "u.gpkg"
id = "code"
name = "label"

[emissions]
path = "ce.csv"
fill = "naive"

[gdp]
path = "gdp.csv"
units = "1e8 yuan"

[zoning]
basis = "CO2"
ecc_threshold = 1.0
"""

KEYS = ["study", "name", "years", "inputs", "ndvi", "path", "scale", "units", "fill", "id",
        "format", "zoning", "basis", "grid", "bounds", "resolution", "casa", "root", "source",
        "uncertainty", "draws", "classes", "temperature", "emissions", "gdp", "x"]
toml_scalars = st.one_of(
    st.integers(-10**20, 10**20), st.floats(allow_nan=True), st.booleans(),
    st.text(max_size=12).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"')
                             .replace("\n", "\\n") + '"'),
    st.lists(st.integers(1800, 2200), max_size=4).map(lambda v: str(v)),
    st.sampled_from(['"percentile"', '"C"', '"K"', '"arima"', "[1, 2, 3, 4]", "{}", "[[1]]",
                     "inf", "nan", "1979-05-27", '""']),
)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf") if np.isinf(v) else repr(v)
    return str(v)


@st.composite
def study_texts(draw):
    """A valid study mutated: lines dropped, duplicated or replaced, sections and keys
    added with random values, or plain random text."""
    kind = draw(st.sampled_from(["mutate", "add", "random"]))
    if kind == "random":
        return draw(st.text(max_size=200))
    lines = VALID.splitlines()
    if kind == "mutate":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(lines) - 1))
            op = draw(st.sampled_from(["drop", "dup", "value", "garble"]))
            if op == "drop":
                del lines[i]
            elif op == "dup":
                lines.insert(i, lines[i])
            elif op == "value" and "=" in lines[i]:
                lines[i] = lines[i].split("=")[0] + "= " + _toml_value(draw(toml_scalars))
            else:
                lines[i] = draw(st.text(max_size=20))
            if not lines:
                break
        return "\n".join(lines) + "\n"
    section = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3))
    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in
                     draw(st.lists(st.tuples(st.sampled_from(KEYS), toml_scalars), max_size=4)))
    return VALID + f"\n[{'.'.join(section)}]\n{body}\n"


@SETTINGS
@given(text=study_texts())
def test_study_parser_never_crashes(text):
    try:
        parse_study(text)
    except CarbonBalanceError as exc:
        assert str(exc) and exc.problems and all(p.message for p in exc.problems)


# --- unit x year tables ------------------------------------------------------------------

COLUMNS = ["unit_id", "code", "id", "year", "value", "2005", "2010", "C2005", "C2010",
           "DISTCODE", "gdp", "y2005", "2005.0", "", "name", "Unnamed: 0"]
cells = st.one_of(
    st.integers(-10**6, 10**18).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "nan", "inf", "-", "1e400", "2005", "420100", "420100.0",
                     "320211（2）", "  7 ", "true", "0", "-1"]),
    st.text(max_size=6),
)


@st.composite
def csv_texts(draw):
    if draw(st.integers(0, 9)) == 0:   # not a table at all
        return draw(st.one_of(st.binary(max_size=120), st.text(max_size=120).map(str.encode)))
    header = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=5)),
                           min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 1), max_size=6))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


sections = st.builds(
    lambda sec, fmt, id_, year, value: sec(path="t.csv", format=fmt, id=id_, year=year,
                                           value=value),
    st.sampled_from([EmissionsSection, GdpSection]),
    st.sampled_from(["wide", "long", "ceads-county"]),
    st.sampled_from(["unit_id", "code", "DISTCODE", "2005", "missing"]),
    st.sampled_from(["year", "2005", "value"]),
    st.sampled_from(["value", "gdp", "year"]),
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _check_wide(wide: pd.DataFrame) -> None:
    """A loaded table: text ids, integer years, finite-or-NaN floats."""
    assert all(isinstance(i, str) for i in wide.index)
    assert all(isinstance(c, (int, np.integer)) for c in wide.columns)
    values = wide.to_numpy(dtype=float)
    assert not np.isinf(values).any()


@SETTINGS
@given(data=csv_texts(), section=sections)
def test_unit_year_table_reader_never_crashes(scratch, data, section):
    path = scratch / "t.csv"
    path.write_bytes(data)
    try:
        wide = read_unit_year_table(section, path, key="emissions.path")
    except CarbonBalanceError as exc:
        assert str(path) in str(exc)
    else:
        _check_wide(wide)


class _Study:
    """The parts of a study the table loaders read."""

    def __init__(self, root: Path, emissions, gdp):
        self.root, self.emissions, self.gdp = root, emissions, gdp

    def resolve(self, p):
        return self.root / p


@SETTINGS
@given(data=csv_texts(), section=sections,
       units=st.sampled_from(["Mt CO2", "t CO2", "t C"]),
       gdp_units=st.sampled_from(["yuan", "1e4 yuan", "1e8 yuan"]))
def test_emission_and_gdp_loaders_never_crash(scratch, data, section, units, gdp_units):
    (scratch / "t.csv").write_bytes(data)
    fields = dict(path="t.csv", format=section.format, id=section.id, year=section.year,
                  value=section.value)
    study = _Study(scratch, EmissionsSection(units=units, **fields),
                   GdpSection(units=gdp_units, **fields))
    for loader in (load_emissions, load_gdp):
        try:
            _check_wide(loader(study))
        except CarbonBalanceError as exc:
            assert "t.csv" in str(exc)


# --- the zoning command ------------------------------------------------------------------

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9),
                    st.sampled_from(["", "x", "1,5", None, "1e3"]))


@st.composite
def zoning_frames(draw):
    n = draw(st.integers(0, 6))
    cols = draw(st.lists(st.sampled_from(["unit_id", "year", "ce", "cs", "gdp", "area_km2",
                                          "group", "zone", "cb"]),
                         unique=True, min_size=3, max_size=8))
    data = {}
    for c in cols:
        if c in ("unit_id", "group", "zone"):
            data[c] = draw(st.lists(st.one_of(st.text(max_size=4), st.integers(0, 3)),
                                    min_size=n, max_size=n))
        elif c == "year":
            data[c] = draw(st.lists(st.one_of(st.integers(2000, 2002), st.just("y")),
                                    min_size=n, max_size=n))
        else:
            data[c] = draw(st.lists(numbers, min_size=n, max_size=n))
    return pd.DataFrame(data)


@SETTINGS
@given(frame=zoning_frames())
def test_zone_table_never_crashes(frame):
    try:
        out = zone_table(frame)
    except CarbonBalanceError as exc:
        assert exc.problem.fix
    else:
        assert len(out) == len(frame)
        assert set(out.zone) <= {
            "carbon sink functional zone", "low-carbon economic zone",
            "low-carbon optimization zone", "carbon intensity control zone",
            "high-carbon optimization zone", "unclassified"}


@SETTINGS
@given(data=st.one_of(csv_texts(), zoning_frames().map(
    lambda f: f.to_csv(index=False).encode("utf-8"))))
def test_zoning_command_never_crashes(scratch, data):
    table, out = scratch / "zone_in.csv", scratch / "zone_out.csv"
    table.write_bytes(data)
    out.unlink(missing_ok=True)
    try:
        zone_table_file(table, out)
    except CarbonBalanceError as exc:
        assert "zone_in.csv" in str(exc)
        assert not out.exists()
    else:
        assert pd.read_csv(out).shape[0] >= 0
    assert not list(scratch.glob(".zone_out.csv.partial*"))
