"""Rasters that are not north-up (issue 15, item 3): refused with the fix.

A south-up raster (positive row step) or a rotated one (rotation terms in the
geotransform) used to pass ``validate`` and then fail in the zonal sums. The study grid
and every window read on it assume north-up rows and columns, so such a file is
refused, naming the GDAL command that makes it north-up.
"""

from __future__ import annotations

from ..errors import Problem


def geotransform_problems(transform, file: str, key: str) -> list[Problem]:
    """A problem if ``transform`` (an Affine) is rotated, south-up or east-to-west."""
    t = transform
    if t.b != 0 or t.d != 0:
        what = f"the raster is rotated (geotransform rotation terms {t.b:g}, {t.d:g})"
    elif t.e > 0:
        what = "the raster is south-up (its rows run from south to north)"
    elif t.a < 0:
        what = "the raster's columns run from east to west"
    else:
        return []
    return [Problem(what + "; only north-up rasters are read", file, key,
                    f"make it north-up: gdalwarp {file} north_up.tif (and use that file)")]
