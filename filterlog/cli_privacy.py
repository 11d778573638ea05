"""``filterlog purge``: the retention command, a thin wrapper over ``purge.purge``."""

from __future__ import annotations

import click

from .workspace import Workspace


@click.command()
@click.option(
    "--older-than", "days", required=True, type=click.IntRange(min=1), metavar="DAYS",
    help="Remove data dated more than DAYS days before today (site clock), and reports last written before that.",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting (for cron).")
@click.pass_obj
def purge(ws: Workspace, days: int, dry_run: bool, yes: bool) -> None:
    """Retention: delete events, findings, quarantine and reports older than DAYS days.

    The incident register, the access log and the ingest manifest are kept
    (so a purged log is not ingested again). Without --yes it lists what
    would go and asks first.
    """
    from .purge import purge as run

    if not (dry_run or yes):
        plan = run(ws, days, dry_run=True)
        for line in plan.describe():
            click.echo(line)
        if plan.empty:
            return
        click.confirm("Delete this for good?", abort=True)
    for line in run(ws, days, dry_run=dry_run).describe():
        click.echo(line)
