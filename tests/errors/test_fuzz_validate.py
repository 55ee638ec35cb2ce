"""Fuzz ``carbon-balance validate`` (issue 15, item 5): study files mutated as users
mutate them (path placeholders and format specs, numbers, paths, encodings with a BOM or
in GBK) and rasters mutated (geotransforms, dtypes, nodata) end with exit 0 or 2 and
never a traceback. Generated data."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon_balance.cli import main
from tests.grid.synthetic import ORIGIN, RES, SHAPE, climate, write_raster

from .studies import full_study

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
_names = itertools.count()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    study = full_study(tmp_path_factory.mktemp("fuzz") / "s")
    loop = study.parent / "loop.tif"
    os.symlink(loop, loop)                      # a symbolic link loop
    (study.parent / "a_folder.tif").mkdir()     # a folder where a file is expected
    return study


def _validate(study_path, capsys) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(study_path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return 0 if exit_.value.code is None else exit_.value.code


PLACEHOLDERS = ["{year}", "{year:04d}", "{year:s}", "{year:>8}", "{year!r}", "{year.real}",
                "{year[0]}", "{month}", "{month:02d}", "{month:%m}", "{yr}", "{0}", "{}",
                "{", "}", "{{year}}", "{year", "year}", "{month:02d}{month:02d}"]
PATHS = ["", ".", "..", "/", "/dev/null", "a_folder.tif", "loop.tif", "missing/x.tif",
         "x" * 300 + ".tif", "/" + "y/" * 3000 + "z.tif", "\\u0000.tif", "~/nothing.tif",
         "ndvi/ndvi_2005.tif/extra.tif", "C:\\\\data\\\\ndvi.tif", "ndvi/*.tif"]
NUMBERS = ["0", "-1", "1e308", "-1e308", "nan", "inf", "-inf", "1e-320", '"0.0001"',
           "0.0001", "[]", "true", "99999999999999999999"]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "utf-16", "latin-1"]


def _cases() -> list[tuple[str, str, str]]:
    """(old text, new text, encoding): every listed mutation once."""
    cases = [('"ndvi/ndvi_{year}.tif"', f'"ndvi/ndvi_{ph}.tif"', "utf-8") for ph in PLACEHOLDERS]
    for target in ("ndvi/ndvi_{year}.tif", "units.gpkg", "emissions.csv"):
        cases += [(f'"{target}"', f'"{p}"', "utf-8") for p in PATHS]
    cases += [("scale = 0.0001", f"scale = {v}", "utf-8") for v in NUMBERS]
    cases += [("scale = 0.0001", f"{k} = {v}", "utf-8") for k in ("offset", "nodata")
              for v in ("nan", "-inf", '"0"', "1e308")]
    grid = {"crs": ['"EPSG:32650"', '"EPSG:0"', '"nonsense"'],
            "bounds": ["[1, 1, 1, 1]", "[110.6, 30, 110, 29.6]", "[]"],
            "resolution": ["0", "-1", "1e308", "1e-9"],
            "chunk_size": ["0", "nan", "99999999999999999999"]}
    cases += [("chunk_size = 16", f"{k} = {v}", "utf-8") for k, vs in grid.items() for v in vs]
    cases += [("", "", e) for e in ENCODINGS]
    return cases


@pytest.mark.parametrize("old, new, encoding", _cases())
def test_mutated_study_files_exit_0_or_2(base, capsys, old, new, encoding):
    text = base.read_text().replace('name = "generated test study"', 'name = "长江中游 研究"')
    if old:
        assert old in text
        text = text.replace(old, new)
    path = base.parent / f"fuzz_{next(_names)}.toml"
    path.write_bytes(text.encode(encoding, errors="replace"))
    assert _validate(path, capsys) in (0, 2)


TRANSFORMS = [Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1]),              # north-up
              Affine(RES, 0, ORIGIN[0], 0, RES, ORIGIN[1] - SHAPE[0] * RES),  # south-up
              Affine(RES, 0.002, ORIGIN[0], 0.002, -RES, ORIGIN[1]),      # rotated
              Affine(-RES, 0, ORIGIN[0] + SHAPE[1] * RES, 0, -RES, ORIGIN[1]),  # east-west
              Affine(RES * 7, 0, ORIGIN[0] - 1, 0, -RES * 7, ORIGIN[1] + 1),  # coarse, larger
              Affine(RES, 0, 10.0, 0, -RES, 60.0)]                         # elsewhere
DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "uint32", "float32", "float64"]
NODATA = [None, 0, -3000, 255, 65535, float("nan"), 1e30, -1, 3.5]


@given(transform=st.sampled_from(TRANSFORMS), dtype=st.sampled_from(DTYPES),
       nodata=st.sampled_from(NODATA), name=st.sampled_from(["ndvi", "temperature",
                                                               "vegetation"]))
@SETTINGS
def test_mutated_rasters_exit_0_or_2(base, capsys, transform, dtype, nodata, name):
    f = climate(3)
    data = f[name]
    info = np.iinfo(dtype) if dtype[0] in "ui" else None
    if info is not None:
        data = np.clip(data, info.min, info.max)
        if nodata is not None and not (np.isfinite(nodata) and float(nodata).is_integer()
                                       and info.min <= nodata <= info.max):
            nodata = None
    target = {"ndvi": "ndvi/ndvi_{year}.tif", "temperature": "climate/tmp_{year}.tif",
              "vegetation": "lc/lc_{year}.tif"}[name]
    k = next(_names)
    folder = base.parent / f"mut_{k}"
    write_raster(folder / "x_2005.tif", data, transform=transform, dtype=dtype, nodata=nodata)
    path = base.parent / f"fuzz_{k}.toml"
    path.write_text(base.read_text().replace(f'"{target}"', f'"mut_{k}/x_{{year}}.tif"'))
    assert _validate(path, capsys) in (0, 2)
