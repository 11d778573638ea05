"""``filterlog review``: the e-safety coordinator's HTML report, a thin wrapper over ``report.review``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ._cli_util import progress as _progress
from .cli_rules import DATE, check_range
from .workspace import Workspace


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date (default: the last date with events).")
@click.option("--to", "date_to", type=DATE, help="Last local date (default: the last date with events).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (default: reports/review-FROM-TO.html in the workspace).",
)
@click.pass_obj
def review(ws: Workspace, date_from: date | None, date_to: date | None, out: Path | None) -> None:
    """Write the coordinator's review: flagged people worst first, findings, evidence and charts, one HTML file.

    The file is self-contained (charts embedded), owner-only, and prints on A4.
    """
    from .report.review import review_file, review_range

    check_range(date_from, date_to)
    _, _, days = review_range(ws, date_from, date_to)
    with _progress(len(days), "review") as bar:
        path, built = review_file(ws, out, date_from, date_to, progress=bar)
    click.echo(built.describe(path))
