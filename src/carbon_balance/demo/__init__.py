"""The built-in MRYRUA demo: the whole method on the study's own region, offline.

:func:`run_demo` builds the demo study once (real boundaries, land cover, emissions and
GDP from package data; GENERATED monthly NDVI, temperature, precipitation and radiation,
see :mod:`carbon_balance.demo.generate` and ``docs/demo.md``) into a cache folder, then
runs the full pipeline and the report on it.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from .. import __version__, progress
from ..user_cache import user_cache_dir
from .generate import (DEFAULT_RESOLUTION, DEFAULT_SEED, STUDY_YEARS,  # noqa: F401
                       demo_years, generator_key, make_demo_inputs)

__all__ = ["demo_cache_dir", "demo_inputs", "demo_years", "make_demo_inputs", "run_demo"]

log = logging.getLogger(__name__)

#: Written last into a cache folder, so a half-written one is never reused.
_COMPLETE = ".complete"


def demo_cache_dir(*, resolution: float = DEFAULT_RESOLUTION, seed: int = DEFAULT_SEED,
                   years=STUDY_YEARS) -> Path:
    """Cache folder of the demo inputs: ``$XDG_CACHE_HOME`` (or ``~/.cache``)
    ``/carbon-balance/demo-<version>-<hash of the generator, its data and the years>``."""
    key = generator_key(resolution, seed, demo_years(years))
    return user_cache_dir(f"demo-{__version__}-{key}")


def demo_inputs(folder: str | Path | None = None, *, resolution: float = DEFAULT_RESOLUTION,
                seed: int = DEFAULT_SEED, years=STUDY_YEARS) -> Path:
    """The demo's ``study.toml`` for ``years`` (default the study's four; see
    :func:`demo_years`), generating the inputs into ``folder`` (default: the cache folder
    of those years) unless a complete earlier generation is there."""
    years = demo_years(years)
    folder = Path(folder) if folder is not None else demo_cache_dir(resolution=resolution,
                                                                    seed=seed, years=years)
    study = folder / "study.toml"
    if (folder / _COMPLETE).exists() and study.exists():
        log.info("demo inputs: reusing %s", folder)
        return study
    log.info("demo inputs: generating into %s", folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        make_demo_inputs(tmp, resolution=resolution, seed=seed, years=years)
        (tmp / _COMPLETE).write_text(f"carbon-balance {__version__}\n", encoding="utf-8")
        if folder.exists() and not (folder / _COMPLETE).exists():  # an interrupted attempt
            shutil.rmtree(folder)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first: use its folder
            if not (folder / _COMPLETE).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return study


#: Monte Carlo draws of the demo's uncertainty section (issue 7's target size).
DEMO_DRAWS = 1000


def run_demo(out: str | Path = "results", *, overwrite: bool = True,
             inputs: str | Path | None = None, years=None) -> Path:
    """Run the full pipeline and report on the MRYRUA demo; return the output folder.

    ``inputs``: folder for the generated demo study (default: the cache folder, generated
    once and reused). ``years``: the study years (default the study's four, 2005, 2010,
    2015, 2020; any of 2000-2021 as a list or a range text such as ``"2001-2020"``; the
    inputs of each year are generated). The output folder follows the contract of
    ``carbon-balance run``.
    """
    years = demo_years(years)
    from ..analysis.trend_outputs import has_trends
    from ..pipeline import run_study  # the pipeline is heavy; import only when running

    progress.plan("demo inputs", *progress.run_stages(report=True, uncertainty=True, netcdf=False,
                                                      trends=has_trends(years),
                                                      attribution=len(years) > 1))
    with progress.stage("demo inputs"):
        study = demo_inputs(inputs, years=years)
    run_study(study, out, report=True, overwrite=overwrite,
              uncertainty_draws=DEMO_DRAWS)
    return Path(out)
