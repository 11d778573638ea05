"""``filterlog detect``, ``findings`` and ``rules``: thin wrappers over the rules engine and the findings store."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import click

from ._cli_util import dask_client, output_format, pseudonymise_option
from ._cli_util import progress as _progress
from .workspace import Workspace, within


class LocalDate(click.ParamType):
    """A local date: YYYY-MM-DD, ``today`` or ``yesterday`` (on the site's clock)."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date:
        """Parse the text; ``today`` and ``yesterday`` on the workspace's site clock."""
        if isinstance(value, date):
            return value
        text = str(value).strip().lower()
        if text in ("today", "yesterday"):
            ws = ctx.find_object(Workspace) if ctx else None
            zone = ZoneInfo(ws.config.site.timezone) if ws is not None else None
            today = datetime.now(zone).date()
            return today if text == "today" else today - timedelta(days=1)
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD, today or yesterday)", param, ctx)


DATE = LocalDate()


def check_range(date_from: date | None, date_to: date | None) -> None:
    """A usage error (exit 2) when ``--to`` comes before ``--from``."""
    if date_from and date_to and date_to < date_from:
        raise click.UsageError(f"--to {date_to} is before --from {date_from}")


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date to judge (default: the first with events).")
@click.option("--to", "date_to", type=DATE, help="Last local date to judge (default: the last with events).")
@click.option("--rule", "rules", multiple=True, metavar="RULE", help="Only this rule (repeatable; 'filterlog rules').")
@click.pass_obj
def detect(ws: Workspace, date_from: date | None, date_to: date | None, rules: tuple[str, ...]) -> None:
    """(Re)compute findings for the events in the workspace.

    Safe to repeat: a date judged again gets the same findings with the same ids.
    With the global --scheduler, dates (and the person buckets of very large
    dates) are judged on a Dask cluster that sees the workspace at the same path.
    """
    from .rules import detect as run

    check_range(date_from, date_to)
    days = within(ws.event_dates(), date_from, date_to)
    with ws.lock(), dask_client() as client, _progress(len(days), "detect") as bar:
        report = run(ws, date_from, date_to, rules=rules or None, progress=bar, client=client)
    click.echo(report.summary())


@click.command()
@click.option("--from", "date_from", type=DATE, help="First local date.")
@click.option("--to", "date_to", type=DATE, help="Last local date.")
@click.option("--user", help="Only this person (user name or client address).")
@click.option("--rule", "rules", multiple=True, metavar="RULE", help="Only this rule (repeatable).")
@output_format("table", "csv", "json")
@pseudonymise_option
@click.pass_obj
def findings(
    ws: Workspace,
    date_from: date | None,
    date_to: date | None,
    user: str | None,
    rules: tuple[str, ...],
    fmt: str,
    pseudonymise: bool,
) -> None:
    """Show stored findings (run 'filterlog detect' first)."""
    from . import findings as store
    from . import output, pseudonym
    from .rules.model import RULE_IDS

    check_range(date_from, date_to)
    unknown = sorted(set(rules) - set(RULE_IDS))
    if unknown:
        raise click.UsageError(f"unknown rule(s) {', '.join(unknown)} (rules are: {', '.join(RULE_IDS)})")
    table = store.read(ws, date_from, date_to, user=user, rules=rules or None)
    if pseudonymise:
        table = pseudonym.pseudonymise(ws, table, columns=("user", "client_ip"))
    if fmt == "json":
        click.echo(output.to_json(table), nl=False)
    elif fmt == "csv":
        click.echo(output.to_csv(table), nl=False)
    else:
        width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() else 200
        click.echo(output.to_table(table, ws.config.site.timezone, width), nl=False)


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def rules_(ws: Workspace, fmt: str) -> None:
    """The built-in rules: ids, titles, severities, thresholds (with this site's overrides) and policy clauses."""
    from .rules import load_rules

    rules = load_rules(ws.config)
    if fmt == "json":
        data = [
            {"id": r.id, "title": r.title, "severity": r.severity, "enabled": r.enabled, "policy": r.policy,
             "description": r.description, "params": r.params, "overridden": list(r.overridden)}
            for r in rules
        ]  # fmt: skip
        click.echo(json.dumps(data, indent=2))
        return
    for r in rules:
        state = "" if r.enabled else "  [disabled]"
        click.echo(f"{r.id}  ({r.severity}){state}\n  {r.title}")
        click.echo(f"  policy: {r.policy}")
        for name, value in r.params.items():
            mark = "  (set in filterlog.toml)" if name in r.overridden else ""
            click.echo(f"    {name} = {json.dumps(value)}{mark}")
        click.echo("")
