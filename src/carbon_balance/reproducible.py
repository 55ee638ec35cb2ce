"""Byte-identical reruns (issue 15, item 7): the one timestamp GDAL writes into a file.

A GeoPackage records when each layer last changed (``gpkg_contents.last_change``), so
two identical runs gave different ``units.gpkg`` files. :func:`fixed_gpkg_dates` pins
that date, while a GeoPackage is written, to ``$SOURCE_DATE_EPOCH`` (the
reproducible-builds convention) or else 1970-01-01T00:00:00Z; the run's own time is in
``manifest.json``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime, timezone

#: GDAL's configuration option for the date OGR drivers write.
OPTION = "OGR_CURRENT_DATE"


def fixed_date() -> str:
    """The date written into GeoPackages, ISO 8601 with milliseconds, UTC."""
    try:
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    except ValueError:
        epoch = 0
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextlib.contextmanager
def fixed_gpkg_dates() -> Iterator[None]:
    """Within the block, GeoPackages written through pyogrio carry :func:`fixed_date`."""
    import pyogrio

    before = pyogrio.get_gdal_config_option(OPTION)
    pyogrio.set_gdal_config_options({OPTION: fixed_date()})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({OPTION: before})
