"""``fetch --stac-url file://...`` against a static catalog (generated data, real structure):
the folder validates as it is, `run` completes once the tables are added, and every
failure of the network path ends in one message, exit status 2, nothing complete left."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from carbon_balance.cli import main
from carbon_balance.validate import validate_study

from .catalog import BBOX, build_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return build_catalog(tmp_path_factory.mktemp("stac"))


def _fetch(out, catalog, *extra):
    args = ["-q", "fetch", "--out", str(out), "--years", "2005", "--resolution", "0.01",
            "--stac-url", f"file://{catalog}", *extra]
    if "--units" not in extra:
        args += ["--bbox", *map(str, BBOX)]
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code


@pytest.fixture(scope="module")
def fetched(catalog, tmp_path_factory):
    root = tmp_path_factory.mktemp("fetched")
    w, s, e, n = BBOX
    units = gpd.GeoDataFrame({"code": ["420100", "420200"], "name": ["West", "East"]},
                             geometry=[box(w, s, (w + e) / 2, n), box((w + e) / 2, s, e, n)],
                             crs="EPSG:4326")
    units.to_file(root / "units.gpkg", driver="GPKG")
    out = root / "study"
    assert _fetch(out, catalog, "--units", str(root / "units.gpkg"), "--units-id", "code",
                  "--units-name", "name") == 0
    return out


def test_fetched_folder_has_the_study_layout_and_sources(fetched):
    names = {p.relative_to(fetched).as_posix() for p in fetched.rglob("*") if p.is_file()}
    assert {"study.toml", "sources.json", "ndvi/ndvi_2005.tif", "climate/temperature_2005.tif",
            "climate/precipitation_2005.tif", "climate/radiation_2005.tif",
            "landcover/landcover_2005.tif", "landcover/esa-cci-lc.csv",
            "reference/npp_2005.tif"} <= names
    src = json.loads((fetched / "sources.json").read_text())
    ids = {i["item"] for r in src["rasters"] for i in r["items"]}
    assert "MOD13A1.A2005001.h27v06.061" in ids and "MOD13A1.A2005001.h28v06.061" in ids
    assert src["quality_masks"]["modis-13a1-061"]["kept_values"] == [0, 1]
    assert all(i["licence"] and i["citation"] for r in src["rasters"] for i in r["items"])


def test_fetched_values_are_composited_and_converted(fetched):
    with rasterio.open(fetched / "ndvi/ndvi_2005.tif") as d:
        ndvi = d.read()
    assert ndvi.shape == (12, 24, 24)   # BBOX of the units + 2 cells of margin each side
    # generated raw NDVI: 4500 + 2500 sin((doy-80)/365 2pi) + a 0..1000 ramp, x 0.0001:
    # every monthly maximum lies in [0.2, 0.8], the peak in summer
    assert np.nanmin(ndvi) >= 0.2 - 1e-6 and np.nanmax(ndvi) <= 0.8 + 1e-6
    assert np.nanargmax(np.nanmean(ndvi, axis=(1, 2))) in (5, 6)
    assert not np.isnan(ndvi).any()
    with rasterio.open(fetched / "climate/temperature_2005.tif") as d:
        t = d.read()
    # (tmax + tmin) / 2 = 17 + 10 sin((m-3)/12 2pi): January (m=0) 17 - 10 sin(pi/2) = 7 degC
    np.testing.assert_allclose(t[0], 7.0, atol=0.02)
    with rasterio.open(fetched / "masks/ndvi_composites_2005.tif") as d:
        counts = d.read()
    # Composites start on DOY 1, 17, ..., 353 (23 in 2005); by their midpoints (start +
    # 7.5 days) every month holds two except May (DOY 129, mid 16 May; DOY 145 has its
    # midpoint on 1 June). May's composite is cloudy on the whole h28 tile: its cells keep
    # none, and their May NDVI is the mean of April's and June's; h27's keep it.
    assert counts.shape == (12, 24, 24)
    assert all((counts[m] == 2).all() for m in range(12) if m != 4)
    may = counts[4]
    assert set(np.unique(may)) == {0, 1}
    assert may[0, 0] == 1 and may[-1, -1] == 0             # NW corner h27, SE corner h28
    filled = may == 0
    np.testing.assert_allclose(ndvi[4][filled], (ndvi[3][filled] + ndvi[5][filled]) / 2, rtol=1e-6)
    assert not np.allclose(ndvi[4][~filled], (ndvi[3][~filled] + ndvi[5][~filled]) / 2)
    with rasterio.open(fetched / "reference/npp_2005.tif") as d:
        npp = d.read(1)
    # raw 800 / 900 x 0.0001 kg C m-2 -> 80 / 90 g C m-2 in h27 / h28. The tile boundary
    # (x = 10 tile widths east of lon 0) runs from ~114.34 E at 29.0 N to ~114.55 E at 29.2 N:
    # the NW corner is in h27, the SE corner in h28.
    assert set(np.unique(np.round(npp[np.isfinite(npp)]))) <= {80.0, 85.0, 90.0}
    assert npp[0, 0] == pytest.approx(80) and npp[-1, -1] == pytest.approx(90)


def test_fetched_study_validates_and_runs_once_the_tables_are_added(fetched, tmp_path):
    problems = validate_study(fetched / "study.toml")
    assert not [p for p in problems if p.fatal], problems
    notes = " ".join(p.message for p in problems)
    assert "[emissions]" in notes and "[gdp]" in notes
    pd.DataFrame({"unit_id": ["420100", "420200"], "2005": [30.0, 40.0]}).to_csv(
        fetched / "emissions.csv", index=False)
    pd.DataFrame({"unit_id": ["420100", "420200"], "2005": [2000.0, 3000.0]}).to_csv(
        fetched / "gdp.csv", index=False)
    text = (fetched / "study.toml").read_text() + (
        '\n[emissions]\npath = "emissions.csv"\nformat = "wide"\nunits = "Mt CO2"\nfill = "none"\n'
        '\n[gdp]\npath = "gdp.csv"\nformat = "wide"\nunits = "1e8 yuan"\n')
    (fetched / "study.toml").write_text(text)
    out = tmp_path / "results"
    with pytest.raises(SystemExit) as exc:
        main(["-q", "run", str(fetched / "study.toml"), "--out", str(out), "--no-report"])
    assert exc.value.code == 0
    units = pd.read_csv(out / "tables/units.csv", dtype={"unit_id": str})
    assert len(units) == 2 and units["npp_mean_g_c_m2"].gt(0).all()

    # run itself compared the fetched MOD17 reference with its NPP
    for name in ("reference_comparison.csv", "reference_stats.csv", "reference_pixels.csv"):
        assert (out / "tables" / name).is_file(), name
    table = pd.read_csv(out / "tables/reference_comparison.csv", dtype={"unit_id": str})
    # a reader can recompute the difference from the two means
    np.testing.assert_allclose(table.difference_percent, 100 * (
        table.npp_mean_g_c_m2 - table.reference_npp_mean_g_c_m2) / table.reference_npp_mean_g_c_m2)
    assert table.reference_npp_mean_g_c_m2.between(80, 90).all()

    from carbon_balance.figures.reference import reference_figures

    figures = reference_figures(out)
    assert [p.name for p in figures] == ["reference_scatter.png", "reference_difference_2005.png"]

    # and the report shows the comparison: its section, the scatter and the statistics
    from carbon_balance.report import build_report

    html = build_report(out).read_text(encoding="utf-8")
    assert 'id="reference"' in html and "reference_scatter" in html
    assert (out / "figures/reference_scatter.png").is_file()


def test_plan_lists_without_writing(catalog, tmp_path, capsys):
    assert _fetch(tmp_path / "planned", catalog, "--plan") == 0
    assert not (tmp_path / "planned").exists() and not list(tmp_path.glob(".planned*"))
    assert "nothing fetched (--plan)" in capsys.readouterr().out
    from carbon_balance.sources.fetch import fetch_study

    rows = {r["raster"]: r for r in fetch_study(tmp_path / "p", years=[2005], bbox=BBOX,
                                                 resolution=0.01, stac_url=f"file://{catalog}",
                                                 plan=True)}
    # 23 composites of 2005 on each of the two tiles; 12 bands x 20 x 20 float32 cells
    assert rows["ndvi/ndvi_2005.tif"]["items"] == 46
    assert rows["ndvi/ndvi_2005.tif"]["output_bytes_max"] == 12 * 20 * 20 * 4


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/stac", "file:///nonexistent/catalog.json"])
def test_unreachable_catalog_is_one_message_and_exit_2(url, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-q", "fetch", "--out", str(tmp_path / "s"), "--years", "2005", "--bbox",
              *map(str, BBOX), "--stac-url", url])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err and "fix:" in err
    assert not (tmp_path / "s").exists()


def test_empty_search_names_the_source_and_leaves_nothing_complete(catalog, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["-q", "fetch", "--out", str(tmp_path / "s"), "--years", "2005", "--bbox",
              "10", "40", "10.2", "40.2", "--stac-url", f"file://{catalog}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no items of" in err and "--years" in err
    assert not (tmp_path / "s").exists()


def test_a_rerun_fetches_only_what_is_missing(catalog, tmp_path, monkeypatch):
    out = tmp_path / "s"
    import carbon_balance.sources.fetch as fetch_mod

    real = fetch_mod.compute_job

    def failing(cat, job, grid, records):
        if job.output == "radiation":
            raise fetch_mod.NetworkError("simulated timeout", file=cat.url, fix="rerun")
        return real(cat, job, grid, records)

    monkeypatch.setattr(fetch_mod, "compute_job", failing)
    assert _fetch(out, catalog, "--no-reference", "--workers", "1") == 2
    staging = tmp_path / ".s.fetching"
    assert not out.exists() and (staging / "ndvi/ndvi_2005.tif").is_file()
    done = []
    monkeypatch.setattr(fetch_mod, "compute_job",
                        lambda cat, job, grid, records: done.append(job.output) or real(cat, job, grid, records))
    assert _fetch(out, catalog, "--no-reference", "--workers", "1") == 0
    assert "radiation" in done and "ndvi" not in done
    assert (out / "study.toml").is_file() and not staging.exists()


def test_a_staging_folder_of_another_request_is_not_reused(catalog, tmp_path):
    out = tmp_path / "s"
    staging = tmp_path / ".s.fetching"
    (staging / ".records").mkdir(parents=True)
    (staging / ".records" / "request.json").write_text('{"bbox": [0, 0, 1, 1]}')
    (staging / "ndvi").mkdir()
    (staging / "ndvi/ndvi_2005.tif").write_text("not the region's NDVI")
    (staging / ".records" / "ndvi__ndvi_2005.tif.json").write_text("{}")
    assert _fetch(out, catalog, "--no-reference") == 0
    with rasterio.open(out / "ndvi/ndvi_2005.tif") as d:
        assert d.count == 12


def test_a_land_cover_year_after_the_last_map_takes_the_latest_earlier_one(catalog):
    from carbon_balance.sources.fetch import _search
    from carbon_balance.sources.registry import registry
    from carbon_balance.sources.stac import Catalog

    cat = Catalog(f"file://{catalog}")
    items, used = _search(cat, registry()["esa-cci-lc"], BBOX, 2007)   # the fixture maps 2005
    assert used == 2005 and [it.id for it in items] == ["C3S-LC-L4-LCCS-Map-300m-P1Y-2005-N30E110"]
    assert _search(cat, registry()["esa-cci-lc"], BBOX, 2011) == ([], 2011)   # > 5 years
    assert _search(cat, registry()["modis-13a1-061"], BBOX, 2006)[0] == []    # NDVI: no lookback
