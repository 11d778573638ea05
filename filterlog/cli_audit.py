"""``filterlog audit``: the investigator's pack for one person, and the log of who has pulled such packs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .cli_rules import DATE, check_range
from .workspace import Workspace


@click.command()
@click.argument("user", required=False)
@click.option("--from", "date_from", type=DATE, help="First local date (default: the first with events).")
@click.option("--to", "date_to", type=DATE, help="Last local date (default: the last with events).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to put the pack folder in (default: the workspace's reports/audit).",
)
@click.option("--by", metavar="NAME", help="Who is running this audit, for the access log (default: your login).")
@click.option("--log", "show_log", is_flag=True, help="List the access log (every audit run) instead; USER filters it.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
    help="With --log: table for people, csv for spreadsheets, json for programs.",
)  # fmt: skip
@click.pass_obj
def audit(
    ws: Workspace,
    user: str | None,
    date_from: date | None,
    date_to: date | None,
    out: Path | None,
    by: str | None,
    show_log: bool,
    fmt: str,
) -> None:
    """Write USER's audit pack: every event in time order with its raw log line, the findings and their outcomes.

    USER is a user name, or a client IP address for traffic no person is attached
    to. The pack (HTML, CSV, Parquet and a SHA256SUMS file) goes in a folder of
    its own under --out. Every run is recorded in the workspace's access log:
    'filterlog audit --log' lists those entries.
    """
    from .report import access
    from .report.audit import write_pack

    if show_log:
        items = access.entries(ws, user)
        text = {"json": access.to_json, "csv": access.to_csv}.get(fmt, access.to_table)(items)
        click.echo(text, nl=False)
        return
    if not user:
        raise click.UsageError("name a USER to audit, or use --log to list earlier audits")
    check_range(date_from, date_to)
    pack = write_pack(ws, user, date_from, date_to, out, by)
    click.echo(pack.summary())
    click.echo(f"pack: {pack.directory}")
