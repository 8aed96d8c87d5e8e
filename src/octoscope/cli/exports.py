"""``octoscope export influx|csv|parquet`` and ``octoscope grafana-dashboard``, registered on the main app
by :func:`register`. Heavy imports wait until a command runs, so ``octoscope --help`` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from octoscope.cli.shell import echo_json, process_clock, read_settings, require_database, user_errors
from octoscope.domain.validation import MAX_DAYS

if TYPE_CHECKING:
    from octoscope.config import Settings

export_app = typer.Typer(
    help="Write your data elsewhere: InfluxDB (for Grafana), CSV or Parquet.", no_args_is_help=True
)

FromDay = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UK local, inclusive).")]
ToDay = Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (exclusive).")]
Period = Annotated[str | None, typer.Option(help="A month (YYYY-MM) or a year (YYYY).")]
LastDays = Annotated[int | None, typer.Option(help="The N whole days before today (default 30).", min=1, max=MAX_DAYS)]
Fuel = Annotated[str | None, typer.Option(help="Only electricity, gas or export.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (else standard output).")]


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.command("grafana-dashboard")(grafana_dashboard)


def _open(settings: Settings) -> Any:
    from octoscope.wiring import open_account_store  # noqa: PLC0415

    settings.require_account()
    require_database(settings)
    return open_account_store(settings, process_clock())


@export_app.command()
def influx(
    from_: FromDay = None,
    to: ToDay = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Write to InfluxDB what it does not have yet; with --from/--to, write those days again.

    What: consumption, prices and costs per half-hour in octograph's measurements, daily costs, export,
    dispatches, EV sessions and Home Mini readings. Where: the influx section of the config file.

    Example: octoscope export influx --from 2025-01-01
    """
    from octoscope.domain.uktime import parse_date  # noqa: PLC0415
    from octoscope.outputs.influx import export_influx  # noqa: PLC0415

    with user_errors():
        settings = read_settings()
        first = parse_date(from_, "--from") if from_ else None
        end = parse_date(to, "--to") if to else None
        with _open(settings) as store:
            summary = export_influx(settings, store, clock=process_clock(), first=first, end=end)
    if as_json:
        echo_json(summary)
        return
    typer.echo(f"Wrote {summary['total_points']} points to {summary['target']} in {summary['seconds']} s")
    for name, count in summary["points"].items():
        if count:
            typer.echo(f"  {name}: {count}")


def _rows(from_: str | None, to: str | None, period: str | None, days: int | None, fuel: str | None) -> Any:
    from octoscope.domain.uktime import local_date  # noqa: PLC0415
    from octoscope.outputs.files import FileExportError, rows  # noqa: PLC0415
    from octoscope.services.costing import FUELS, resolve_days  # noqa: PLC0415

    if fuel is not None and fuel not in FUELS:
        raise FileExportError(f"--fuel {fuel!r}: write electricity, gas or export")
    settings = read_settings()
    first, end = resolve_days(from_, to, period, days, local_date(process_clock().now()))
    with _open(settings) as store:
        return rows(store, settings, first, end, (fuel,) if fuel else FUELS)


@export_app.command("csv")
def csv_(
    from_: FromDay = None,
    to: ToDay = None,
    period: Period = None,
    days: LastDays = None,
    fuel: Fuel = None,
    output: Output = None,
) -> None:
    """Half-hourly rows as CSV, with the rate applied and the cost, as `octoscope costs` works them out.

    Columns: UTC and UK local time, fuel, meter point, tariff, kWh, rate and cost exc and inc VAT, each
    half-hour's share of the day's standing charge. On export rows the cost is what the export earned.

    Example: octoscope export csv --from 2026-10-01 --to 2026-11-01 --output october.csv
    """
    from octoscope.outputs.files import export_csv  # noqa: PLC0415

    with user_errors():
        found = _rows(from_, to, period, days, fuel)
        count = export_csv(found, output)
    if output is not None:
        typer.echo(f"Wrote {count} half-hours to {output}", err=True)


@export_app.command()
def parquet(
    from_: FromDay = None,
    to: ToDay = None,
    period: Period = None,
    days: LastDays = None,
    fuel: Fuel = None,
    output: Output = None,
) -> None:
    """The same rows as `export csv`, as a Parquet file.

    Timestamps in UTC and Europe/London, the UK day as a date, nulls where no price is stored.

    Example: octoscope export parquet --period 2026 --output 2026.parquet
    """
    from octoscope.outputs.files import export_parquet  # noqa: PLC0415

    with user_errors():
        found = _rows(from_, to, period, days, fuel)
        count = export_parquet(found, output)
    if output is not None:
        typer.echo(f"Wrote {count} half-hours to {output}", err=True)


def grafana_dashboard() -> None:
    """Print a Grafana dashboard (InfluxQL) for what `export influx` writes; import it, or provision it.

    Example: octoscope grafana-dashboard > energy.json
    """
    from octoscope.outputs.grafana import dashboard_text  # noqa: PLC0415

    sys.stdout.write(dashboard_text())
