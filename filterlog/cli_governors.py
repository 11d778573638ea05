"""``filterlog governors``: the anonymised termly report for the governing body."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from .cli_rules import DATE, check_range
from .workspace import Workspace


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date (default: 13 weeks before --to).")
@click.option("--to", "date_to", type=DATE, help="Last local date (default: the last date with findings or events).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: reports/governors-FROM-TO.html in the workspace).",
)
@click.pass_obj
def governors(ws: Workspace, date_from: date | None, date_to: date | None, out: Path | None) -> None:
    """Write the anonymised termly report: incidents by rule, severity, group and week, small counts hidden."""
    from .report.governors import make_governors

    check_range(date_from, date_to)
    path, report = make_governors(ws, out, date_from, date_to)
    click.echo(str(path))
    click.echo(report.count_line())
