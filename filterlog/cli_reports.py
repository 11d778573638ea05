"""``filterlog summary`` and ``filterlog run``: the per-person summary and the admin's daily batch."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from ._cli_util import progress as _progress
from .cli_rules import DATE, _range
from .workspace import Workspace, within


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date (default: the first with events).")
@click.option("--to", "date_to", type=DATE, help="Last local date (default: the last with events).")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json", "parquet"]), default="table", show_default=True,
    help="table for people, csv for spreadsheets (formulas neutralised), json for programs, parquet for analysis.",
)  # fmt: skip
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (owner-only) instead of the terminal; needed for parquet.",
)
@click.pass_obj
def summary(ws: Workspace, date_from: date | None, date_to: date | None, fmt: str, out: Path | None) -> None:
    """One row per person with findings: counts per rule, worst severity, blocked attempts, non-business traffic."""
    from .report import summary as report
    from .report.files import write_private

    _range(date_from, date_to)
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet writes a file: give --out FILE")
    days = within(ws.event_dates(), date_from, date_to)
    with _progress(len(days), "summary") as bar:
        table = report.summarise(ws, date_from, date_to, progress=bar)
    if fmt == "parquet":
        data: str | bytes = report.to_parquet(table)
    elif fmt == "csv":
        data = report.to_csv(table)
    elif fmt == "json":
        data = report.to_json(table)
    else:
        data = report.to_text(table, ws.config.site.timezone)
    if out is None:
        click.echo(data, nl=False)
        return
    write_private(out, data)
    click.echo(f"summary: {table.num_rows} people with findings -> {out}", err=not sys.stdout.isatty())
