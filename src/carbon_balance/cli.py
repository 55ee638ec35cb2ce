"""The ``carbon-balance`` command line: a thin layer over the Python API.

Each command parses its arguments, calls one API function and maps
:class:`~carbon_balance.errors.CarbonBalanceError` to one clear message and exit status 2
(with the traceback only under ``--debug``). Heavy imports happen inside the commands so
that ``--help`` is instant.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from . import __version__
from .environment_errors import explain as explain_environment
from .errors import CarbonBalanceError, InputError
from .interrupt import INTERRUPTED, ctrl_c_received, watch_for_ctrl_c
from .outputs import remove_unfinished

app = typer.Typer(
    name="carbon-balance",
    help="CASA NEP, carbon budgets, carbon balance indicators and zones for cities and regions "
    "(method of Fan et al. 2024, Land 13:297).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
emissions_app = typer.Typer(help="Emission inventories: backtest the gap-filling methods.",
                            no_args_is_help=True)
app.add_typer(emissions_app, name="emissions")

err_console = Console(stderr=True, soft_wrap=True)  # paths in messages stay whole
console = Console()
_state = {"debug": False, "progress": "lines"}

STUDY = typer.Argument(..., help="The study file (TOML).", show_default=False)
OUT = typer.Option(..., "--out", "-o", help="Output folder (written atomically).")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing output folder.")


class GridFormat(str, enum.Enum):
    """Formats of the annual grids: COGs always (the tables are summed from them)."""
    geotiff = "geotiff"
    netcdf = "netcdf"


def _version(value: bool) -> None:
    if value:
        console.print(f"carbon-balance {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors; "
                               "no progress display."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also the messages of the "
                                 "libraries (dask.distributed, rasterio, ...) below WARNING."),
) -> None:
    from .logs import configure

    _state["debug"] = debug
    _state["progress"] = ("off" if quiet else "live" if err_console.is_terminal else "lines")
    configure(err_console, quiet=quiet, verbose=verbose)


def _progress(name: str, *stages: str):
    """The progress display of one command (carbon_balance.progress)."""
    from .progress import command

    return command(name, mode=_state.get("progress", "lines"), console=err_console,
                   stages=stages)


@app.command()
def validate(study: Path = STUDY) -> None:
    """Check everything a run would need, without computing; list every problem at once."""
    from .validate import print_problems, summary, validate_study

    problems = validate_study(study)
    print_problems(problems, err_console)
    fatal = any(p.fatal for p in problems)
    if not fatal:
        console.print(f"[green]OK[/green] {study}: no fatal problems")
    if (text := summary(study)) is not None:   # the paragraph says what the study is
        console.print(text, highlight=False, markup=False)
    if fatal:
        raise typer.Exit(2)


@app.command()
def nep(
    study: Path = STUDY,
    out: Path = OUT,
    monthly: bool = typer.Option(False, "--monthly", help="Also write monthly NPP, Rh and NEP."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Start a local dask.distributed "
                                          "cluster with N workers."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of an existing "
                                            "dask.distributed scheduler."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Grid-scale NPP, Rh and NEP (g C m-2 yr-1) for every study year, as Cloud Optimized GeoTIFFs."""
    from .grid.nep import run_nep

    with _progress("nep"):
        run_nep(study, out, monthly=monthly, workers=workers, scheduler=scheduler,
                overwrite=overwrite)
    console.print(f"[green]done[/green]: {out}")


@app.command()
def run(
    study: Path = STUDY,
    out: Path = OUT,
    workers: Optional[int] = typer.Option(None, "--workers", help="Local dask cluster size."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Existing scheduler address."),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write figures and report.html."),
    draws: Optional[int] = typer.Option(None, "--draws", min=1,
                                        help="Also run the uncertainty analysis with N draws."),
    grid_format: GridFormat = typer.Option(
        GridFormat.geotiff, "--format", help="geotiff: the grids as Cloud Optimized GeoTIFFs; "
        "netcdf: also one CF-1.8 cube of NPP, Rh and NEP by year, grids/carbon.nc."),
    overwrite: bool = OVERWRITE,
) -> None:
    """The whole study: grids, carbon sequestration, emissions, indicators, zones, report."""
    from .pipeline import run_study

    with _progress("run"):
        run_study(study, out, workers=workers, scheduler=scheduler, report=report,
                  overwrite=overwrite, uncertainty_draws=draws,
                  netcdf=grid_format is GridFormat.netcdf)
    console.print(f"[green]done[/green]: {out}")


@app.command()
def attribute(
    study: Path = STUDY,
    out: Path = OUT,
    year_from: int = typer.Option(..., "--from", help="The first year (a study year)."),
    year_to: int = typer.Option(..., "--to", help="The second year (a study year)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local dask cluster size."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Existing scheduler address."),
    overwrite: bool = OVERWRITE,
) -> None:
    """What drove the change of CS between two years: NDVI, temperature, precipitation,
    radiation, land cover (per pixel and per unit), and the CB change."""
    from .attribute import run_attribution

    with _progress("attribute"):
        run_attribution(study, out, year_from=year_from, year_to=year_to, workers=workers,
                        scheduler=scheduler, overwrite=overwrite)
    console.print(f"[green]done[/green]: {out}")


@app.command()
def zoning(
    table: Path = typer.Argument(..., help="CSV with unit_id, year, ce, cs, gdp "
                                 "[, area_km2, group] (ce and cs in the same carbon units)."),
    out: Path = OUT,
    ecc_threshold: float = typer.Option(1.0, help="ECC threshold ('high' is strictly greater)."),
    esc_threshold: float = typer.Option(1.0, help="ESC threshold ('high' is strictly greater)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Zone a table you already have: adds cb, cbi, ecc, esc, budget_state and zone."""
    from .balance import zone_table_file

    zone_table_file(table, out, ecc_threshold=ecc_threshold, esc_threshold=esc_threshold,
                    overwrite=overwrite)
    console.print(f"[green]done[/green]: {out}")


@emissions_app.command("backtest")
def emissions_backtest(
    study: Path = STUDY,
    holdout: int = typer.Option(3, "--holdout", min=1, help="Years held out at the end."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the table (CSV)."),
) -> None:
    """Error of each gap-filling method when forecasting the last HOLDOUT years that exist."""
    from .accounting.emissions import backtest_study

    table = backtest_study(study, holdout=holdout, out=out)
    console.print(table.to_string(index=False))


@app.command()
def report(folder: Path = typer.Argument(..., help="An output folder of `run` or `demo`.")) -> None:
    """Rebuild the figures and report.html of an output folder."""
    from .report import build_report

    with _progress("report", "figures", "report"):
        path = build_report(folder)
    console.print(f"[green]report[/green]: {path}")


@app.command()
def demo(
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Output folder."),
    overwrite: bool = typer.Option(True, "--overwrite/--no-overwrite",
                                   help="Replace an earlier demo output."),
    years: Optional[str] = typer.Option(None, "--years", help="Study years, any of "
                                        "2000-2021: a range 2001-2020 or a list "
                                        "2005,2010 (default: the study's 2005,2010,2015,2020)."),
) -> None:
    """Run the whole method on the built-in MRYRUA demo (31 cities, 2005-2020), offline."""
    from .demo import demo_years, run_demo

    chosen = demo_years(years)   # a bad --years is refused before anything starts
    with _progress("demo"):
        path = run_demo(out, overwrite=overwrite, years=chosen)
    console.print(f"[green]demo done[/green]: open {path / 'report.html'}")


@app.command()
def uncertainty(
    study: Path = STUDY,
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Output folder (written atomically)."),
    into: Optional[Path] = typer.Option(None, "--into", help="Add the results to this "
                                        "existing run folder and rebuild its report."),
    draws: Optional[int] = typer.Option(None, "--draws", help="Monte Carlo draws (default: study file)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (default: study file)."),
    overwrite: bool = OVERWRITE,
) -> None:
    """How sure is each zone? Monte Carlo over the uncertain parameters, and sensitivity."""
    from .pipeline import run_uncertainty

    if (out is None) == (into is None):
        raise InputError("give either --out DIR (a new folder) or --into DIR (a run folder)",
                         key="--out/--into", fix="carbon-balance uncertainty STUDY.toml "
                         "--into results")
    if into is not None:
        import tempfile

        from .report.into import add_uncertainty

        if not (into / "tables" / "units.csv").exists():  # before minutes of draws
            raise InputError("not the output folder of a run (no tables/units.csv)",
                             file=into, fix="give the folder written by `carbon-balance run`")
        with tempfile.TemporaryDirectory(dir=into.resolve().parent,
                                         prefix=f".{into.name}.uncertainty-") as tmp:
            with _progress("uncertainty", "uncertainty", "figures", "report"):
                run_uncertainty(study, Path(tmp) / "u", draws=draws, seed=seed)
                add_uncertainty(into, Path(tmp) / "u")
        console.print(f"[green]done[/green]: {into} (report rebuilt)")
        return
    with _progress("uncertainty"):
        run_uncertainty(study, out, draws=draws, seed=seed, overwrite=overwrite)
    console.print(f"[green]done[/green]: {out}")


from .sources.cli import HELP as _FETCH_HELP, fetch_command  # noqa: E402  (typer only)

app.command("fetch", help=_FETCH_HELP)(fetch_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning input errors into exit status 2 without a traceback."""
    try:
        _run_app(argv)
    finally:
        remove_unfinished()   # an interrupted run leaves no temporary folder behind


def console_main() -> None:
    """The ``carbon-balance`` executable: :func:`main`, with Ctrl-C recorded from the
    start (:func:`~carbon_balance.interrupt.watch_for_ctrl_c`)."""
    watch_for_ctrl_c()
    try:
        main()
    except KeyboardInterrupt:   # a Ctrl-C before main's own handlers were in place
        print(INTERRUPTED, file=sys.stderr)
        sys.exit(130)


def _interrupted() -> None:
    err_console.print(INTERRUPTED, markup=False)
    sys.exit(130)


def _run_app(argv: list[str] | None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:
        # click's form of Ctrl-C, or a Ctrl-C that a library reported as its own error
        # (see interrupt.py)
        if type(exc).__name__ == "Abort" or (ctrl_c_received() and not _state["debug"]):
            _interrupted()
        if isinstance(exc, CarbonBalanceError):
            if _state["debug"]:
                raise
            err_console.print(f"error: {exc}", highlight=False, markup=False)
            sys.exit(exc.exit_code)
        explained = explain_environment(exc)   # disk full, permission denied, ...
        if explained is not None and not _state["debug"]:
            err_console.print(f"error: {explained}", highlight=False, markup=False)
            sys.exit(explained.exit_code)
        # Usage errors (click's, vendored by typer) carry their own message and exit code.
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if code == 130:   # typer turns Ctrl-C inside a command into Exit(130)
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    console_main()
