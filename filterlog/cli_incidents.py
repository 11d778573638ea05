"""``filterlog incidents``: record what was decided about a finding, list the register, show one case."""

from __future__ import annotations

import shutil
import sys
from datetime import date

import click

from ._cli_util import Group, output_format, pseudonymise_option
from .cli_rules import DATE, check_range
from .incidents import ACTIONS
from .workspace import Workspace


@click.group(cls=Group)
def incidents() -> None:
    """Record and list outcomes of flagged incidents (the incident register)."""


@incidents.command()
@click.argument("finding_id")
@click.option("--by", "reviewed_by", required=True, metavar="NAME", help="Who reviewed the finding.")
@click.option("--action", required=True, type=click.Choice(ACTIONS), help="What was done about it.")
@click.option("--outcome", required=True, metavar="TEXT", help="The decision, in a sentence.")
@click.option("--notes", default="", metavar="TEXT", help="Anything else worth keeping (may span lines).")
@click.option("--date", "decided_on", type=DATE, help="When it was decided (default: today).")
@click.option("--open", "keep_open", is_flag=True, help="Keep the incident open (e.g. still under investigation).")
@click.pass_obj
def record(
    ws: Workspace,
    finding_id: str,
    reviewed_by: str,
    action: str,
    outcome: str,
    notes: str,
    decided_on: date | None,
    keep_open: bool,
) -> None:
    """Record the outcome of FINDING_ID (its id or at least 6 leading digits of it); closes it unless --open.

    Each record is kept: recording again adds to the finding's history, the latest record is its state.
    """
    from . import incidents as register

    done = register.record(
        ws,
        finding_id,
        reviewed_by=reviewed_by,
        action=action,
        outcome=outcome,
        notes=notes,
        decided_on=decided_on,
        status="open" if keep_open else "closed",
    )
    who = register.printable(done.user or done.client_ip or "?")
    click.echo(
        f"recorded #{done.record_id}: finding {done.finding_id} ({done.rule}, {who}, {done.finding_date}) "
        f"{done.status}, {done.action}, decided {done.decided_on}"
    )


@incidents.command("list")
@click.option(
    "--status", type=click.Choice(["open", "closed", "unreviewed", "all"]), default="all", show_default=True,
    help="all/open/closed: recorded incidents by current state; unreviewed: findings nobody has recorded yet.",
)  # fmt: skip
@click.option("--from", "date_from", type=DATE, help="First local date of the findings.")
@click.option("--to", "date_to", type=DATE, help="Last local date of the findings.")
@click.option("--user", help="Only this person (user name or client address).")
@output_format("table", "csv", "json")
@pseudonymise_option
@click.pass_obj
def list_(
    ws: Workspace,
    status: str,
    date_from: date | None,
    date_to: date | None,
    user: str | None,
    fmt: str,
    pseudonymise: bool,
) -> None:
    """List the register: each finding's current state, or the queue of unreviewed findings."""
    from . import incidents as register
    from . import output, pseudonym

    check_range(date_from, date_to)
    width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 200
    if status == "unreviewed":
        queue = register.unreviewed(ws, date_from, date_to, user=user)
        if pseudonymise:
            queue = pseudonym.pseudonymise(ws, queue, columns=("user", "client_ip"))
        render = {"json": output.to_json, "csv": output.to_csv}.get(fmt)
        text = render(queue) if render else output.to_table(queue, ws.config.site.timezone, width)
    else:
        found = register.listing(ws, status, date_from, date_to, user=user)
        if pseudonymise:
            found = pseudonym.pseudonymise(ws, found, columns=("user", "client_ip", "reviewed_by"))
        text = {"json": register.to_json, "csv": register.to_csv}.get(fmt, lambda i: register.to_table(i, width))(found)
    click.echo(text, nl=False)


@incidents.command()
@click.argument("finding_id")
@click.pass_obj
def show(ws: Workspace, finding_id: str) -> None:
    """Show FINDING_ID (its id or a unique prefix) and every outcome recorded for it."""
    from . import incidents as register

    click.echo(register.case_text(register.case(ws, finding_id), ws.config.site.timezone), nl=False)
