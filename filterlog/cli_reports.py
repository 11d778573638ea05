"""``filterlog summary`` and ``filterlog run``: the per-person summary and the admin's daily batch."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._cli_util import dask_client, output_format, pseudonymise_option, say_file
from ._cli_util import interactive as _interactive
from ._cli_util import progress as _progress
from .cli_rules import DATE, check_range
from .workspace import Workspace, within

if TYPE_CHECKING:
    from .ingest.pipeline import FileResult


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date (default: the first with events).")
@click.option("--to", "date_to", type=DATE, help="Last local date (default: the last with events).")
@output_format("table", "csv", "json", "parquet")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (owner-only) instead of the terminal; needed for parquet.",
)
@pseudonymise_option
@click.pass_obj
def summary(
    ws: Workspace, date_from: date | None, date_to: date | None, fmt: str, out: Path | None, pseudonymise: bool
) -> None:
    """One row per person with findings: counts per rule, worst severity, blocked attempts, non-business traffic."""
    from . import pseudonym
    from .report import summary as report
    from .report.files import write_private

    check_range(date_from, date_to)
    if fmt == "parquet" and out is None:
        raise click.UsageError("--format parquet writes a file: give --out FILE")
    days = within(ws.event_dates(), date_from, date_to)
    with _progress(len(days), "summary") as bar:
        table = report.summarise(ws, date_from, date_to, progress=bar)
    if pseudonymise:
        table = pseudonym.pseudonymise(ws, table, columns=("user",))
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


@click.command()
@click.argument("logs", nargs=-1, required=True)
@click.option("--format", "fmt", default="auto", show_default=True, help="Log format name, or auto to recognise it.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the review (default: reports/)."
)
@click.pass_obj
def run(ws: Workspace, logs: tuple[str, ...], fmt: str, out: Path | None) -> None:
    """The daily batch: ingest LOGS, detect on the dates they cover, write the summary and the review.

    Safe to repeat (nothing is ingested twice; findings and reports come out
    the same). Quiet off a terminal, for cron: one count line and the report
    path, errors on stderr, exit 1 if any file failed.
    """
    from .batch import run_batch
    from .ingest.source import expand

    files, _ = expand(logs)
    talk = _interactive()
    with dask_client() as client, _progress(sum(f.stat().st_size for f in files if f.exists()), "ingest") as bar:
        result = run_batch(
            ws, logs, fmt, out=out, progress=bar, on_file=say_file if talk else _say_failure, client=client
        )  # fmt: skip
    click.echo(result.summary())
    if result.review_path is not None:
        click.echo(f"review: {result.review_path}")
        click.echo(f"summary: {result.summary_path}")
    if result.failed:
        sys.exit(1)


def _say_failure(result: FileResult) -> None:
    """Off a terminal only failures are worth a line (on stderr, where cron mails it)."""
    if result.status == "failed":
        click.echo("error: " + result.message, err=True)
