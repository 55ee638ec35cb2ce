"""Finding items through STAC: a STAC API (Planetary Computer by default, with its
anonymous signing) or a static catalog on disk (``file://`` or a path).

Every network failure is turned into :class:`NetworkError` (exit status 2, one message
naming the source and what to try).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from ..errors import CarbonBalanceError

#: The default STAC API: Microsoft Planetary Computer (anonymous, signed asset URLs).
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com/api/stac/v1"
#: Seconds before a STAC request is given up.
TIMEOUT_S = 60


class NetworkError(CarbonBalanceError):
    """A source could not be reached, refused access, timed out or had no items."""


def is_local(url: str) -> bool:
    return url.startswith("file://") or "://" not in url


def _local_path(url: str) -> Path:
    p = Path(urlparse(url).path) if url.startswith("file://") else Path(url)
    return p / "catalog.json" if p.is_dir() else p


@contextlib.contextmanager
def network_errors(what: str, url: str):
    """Turn the errors of a network (or catalog) operation into one :class:`NetworkError`;
    any other exception (a bug) passes unchanged."""
    try:
        yield
    except CarbonBalanceError:
        raise
    except Exception as exc:
        err = _translate(exc, what, url)
        if err is None:
            raise
        raise err from None


#: Fix of a failed connection.
NO_CONNECTION = ("check the network connection or proxy; `fetch` is the only command that "
                 "needs one. Offline, point --stac-url at a static catalog (file://...)")


def _translate(exc: Exception, what: str, url: str) -> NetworkError | None:
    import requests

    # pystac-client reports failed connections and HTTP errors as its own APIError, with
    # the requests error as cause or context: look through the chain
    chain, e = [], exc
    while e is not None and len(chain) < 10:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        if isinstance(e, (requests.Timeout, TimeoutError)):
            return NetworkError(f"{what}: timed out ({e.__class__.__name__})", file=url,
                                fix="rerun later (a rerun fetches only what is missing), or "
                                "use --stac-url with a closer mirror")
        if isinstance(e, (requests.ConnectionError, ConnectionError)):
            return NetworkError(f"{what}: cannot connect ({e.__class__.__name__})", file=url,
                                fix=NO_CONNECTION)
    codes = [getattr(getattr(e, "response", None), "status_code", None)
             or getattr(e, "status_code", None) for e in chain]
    code = next((c for c in codes if c), None)
    if code is not None:
        if code in (401, 403):
            fix = ("the service refused the request or its token (Planetary Computer signs "
                   "anonymously; wait a minute and rerun, or set PC_SDK_SUBSCRIPTION_KEY)")
        else:
            fix = "rerun later; a rerun fetches only what is missing"
        return NetworkError(f"{what}: HTTP {code} ({str(exc)[:200]})", file=url, fix=fix)
    if "Max retries exceeded" in str(exc) or "Failed to resolve" in str(exc):
        return NetworkError(f"{what}: cannot connect (the host did not answer or was not "
                            "found)", file=url, fix=NO_CONNECTION)
    if isinstance(exc, KeyError):
        return NetworkError(f"{what}: the item has no asset {exc}", file=url,
                            fix="the catalog does not use the registry's asset keys; add a "
                            "row for it to registry.csv (docs/inputs.md)")
    if isinstance(exc, _catalog_errors()):
        # pystac-client's APIError, pystac's STACError, GDAL read errors, invalid JSON,
        # missing files: a problem of the catalog or its assets, not of carbon-balance
        return NetworkError(f"{what}: {exc.__class__.__name__}: {str(exc)[:300]}", file=url,
                            fix="check --stac-url and that the catalog lists this "
                            "collection; rerun to resume")
    return None


def _catalog_errors() -> tuple[type[BaseException], ...]:
    import json

    import pystac
    import pystac_client.exceptions
    import rasterio.errors

    return (pystac_client.exceptions.APIError, pystac.STACError, rasterio.errors.RasterioError,
            json.JSONDecodeError, OSError)


class Catalog:
    """A STAC API or a static catalog, searched the same way."""

    def __init__(self, url: str):
        self.url = url
        self.local = is_local(url)
        self.planetary = "planetarycomputer" in url
        with network_errors("opening the STAC catalog", url):
            if self.local:
                import pystac

                path = _local_path(url)
                if not path.is_file():
                    raise NetworkError("no STAC catalog here", file=str(path),
                                       fix="give the folder or catalog.json of a static "
                                       "STAC catalog, or an https:// STAC API")
                self._cat = pystac.Catalog.from_file(str(path))
            else:
                import pystac_client

                modifier = None
                if self.planetary:
                    import planetary_computer

                    modifier = planetary_computer.sign_inplace
                self._cat = pystac_client.Client.open(url, modifier=modifier, timeout=TIMEOUT_S)

    def collection(self, collection_id: str):
        with network_errors(f"collection {collection_id}", self.url):
            col = (self._cat.get_child(collection_id) if self.local
                   else self._cat.get_collection(collection_id))
        if col is None:
            raise NetworkError(f"the catalog has no collection {collection_id!r}", file=self.url,
                               fix="check --stac-url, or register the collection id this "
                               "catalog uses (docs/inputs.md)")
        return col

    def search(self, collection_id: str, bbox, start: datetime, end: datetime) -> list:
        """Items of ``collection_id`` overlapping ``bbox`` (lon/lat) and [start, end]."""
        with network_errors(f"searching {collection_id}", self.url):
            if not self.local:
                found = self._cat.search(collections=[collection_id], bbox=list(bbox),
                                         datetime=[start, end])
                return list(found.item_collection())
            items = self.collection(collection_id).get_items(recursive=True)
            return [it for it in items if _overlaps(it, bbox, start, end)]

    def sign(self, obj):
        """Signed copy of an item or collection (Planetary Computer's SAS tokens)."""
        if not self.planetary:
            return obj
        import planetary_computer

        with network_errors("signing asset URLs", self.url):
            return planetary_computer.sign(obj)


def item_period(item) -> tuple[datetime, datetime]:
    """(start, end) of an item: start/end_datetime, or its datetime twice."""
    p = item.properties
    if p.get("start_datetime") and p.get("end_datetime"):
        from pystac.utils import str_to_datetime

        return str_to_datetime(p["start_datetime"]), str_to_datetime(p["end_datetime"])
    return item.datetime, item.datetime


def _overlaps(item, bbox, start, end) -> bool:
    if item.bbox is not None:
        w, s, e, n = item.bbox
        if w > bbox[2] or e < bbox[0] or s > bbox[3] or n < bbox[1]:
            return False
    a, b = item_period(item)
    return a <= end and b >= start


def year_span(year: int) -> tuple[datetime, datetime]:
    return (datetime(year, 1, 1, tzinfo=timezone.utc),
            datetime(year, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
