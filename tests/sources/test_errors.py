"""Every failure of the network path is one NetworkError naming the source and a fix."""

import pytest
import requests

from carbon_balance.cli import main
from carbon_balance.errors import CarbonBalanceError
from carbon_balance.sources.stac import NetworkError, network_errors


def _http_error(code):
    response = requests.Response()
    response.status_code = code
    return requests.HTTPError(f"{code} Client Error", response=response)


@pytest.mark.parametrize("exc, words", [
    (_http_error(403), ["HTTP 403", "refused"]),
    (_http_error(503), ["HTTP 503", "rerun"]),
    (requests.Timeout("read timed out"), ["timed out", "rerun"]),
    (requests.ConnectionError("no route"), ["cannot connect", "static catalog"]),
    (KeyError("500m_16_days_NDVI"), ["no asset", "registry.csv"]),
    (FileNotFoundError("/x/item.json"), ["FileNotFoundError", "--stac-url"]),
])
def test_network_failures_become_one_error_with_a_fix(exc, words):
    with pytest.raises(NetworkError) as caught:
        with network_errors("searching modis-13A1-061", "https://example.org/stac"):
            raise exc
    text = str(caught.value)
    assert "searching modis-13A1-061" in text and "https://example.org/stac" in text
    assert all(w in text for w in words), text


def test_a_bug_is_not_disguised_as_a_network_error():
    with pytest.raises(ZeroDivisionError):
        with network_errors("reading", "file:///x"):
            1 / 0


def test_units_without_an_id_column_is_a_clear_error(tmp_path, capsys):
    import geopandas as gpd
    from shapely.geometry import box

    gpd.GeoDataFrame({"code": ["1"], "name": ["A"]}, geometry=[box(0, 0, 1, 1)],
                     crs="EPSG:4326").to_file(tmp_path / "u.gpkg")
    with pytest.raises(SystemExit) as exc:
        main(["fetch", "--out", str(tmp_path / "s"), "--years", "2005", "--units",
              str(tmp_path / "u.gpkg"), "--units-id", "adcode", "--units-name", "name"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--units-id 'adcode'" in err and "code, name" in err


def test_years_and_sources_parse_or_explain():
    from carbon_balance.sources.cli import parse_choices, parse_years

    assert parse_years(["2005,2010", "2015-2017"]) == [2005, 2010, 2015, 2016, 2017]
    with pytest.raises(CarbonBalanceError, match="not a year"):
        parse_years(["20o5"])
    assert parse_choices(["ndvi=modis-13q1-061"]) == {"ndvi": "modis-13q1-061"}
    from carbon_balance.sources.registry import select_sources

    with pytest.raises(CarbonBalanceError, match="registered sources for ndvi"):
        select_sources({"ndvi": "sentinel-2"})


def test_a_wrapped_connection_failure_is_reported_as_one():
    """pystac-client raises its APIError from the requests error."""
    from pystac_client.exceptions import APIError

    with pytest.raises(NetworkError, match="cannot connect"):
        with network_errors("opening the STAC catalog", "https://example.org/stac"):
            try:
                raise requests.ConnectionError("Max retries exceeded")
            except requests.ConnectionError as exc:
                raise APIError(str(exc)) from exc
