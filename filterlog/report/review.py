"""The e-safety coordinator's review: one self-contained HTML file of who was flagged, why, and what they did.

The coordinator reads this once a day or week and decides what to do about
each finding, so it leads with the whole school (how much happened, what was
blocked, when non-business use peaks), then lists flagged people worst first,
each with the findings in plain English, the policy clause, a few of the
logged requests as evidence, three charts of their day, and what has already
been decided (the incident register). Everything comes from one pass over the
events (``activity``) plus one evidence read per date, so a bad day with many
flagged people still renders in seconds; past ``limit`` people the rest are
listed without full sections.

Default range: the last local date that has events. The daily batch ingests
yesterday's log and reviews it; if that day was clean, the report says so
rather than quietly showing an older day that had findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure

from .. import findings as store
from ..errors import WorkspaceError
from ..rules.model import RULE_IDS
from ..schema import SEVERITIES
from ..workspace import Workspace, within
from . import plots
from .activity import Policy, activity
from .charts import png_data_uri
from .evidence import excerpts
from .files import write_private
from .summary import summarise, who
from .templates import render

LIMIT = 50
"""People with a full section; the rest are listed in a table (a bad day must still render quickly)."""
FINDINGS_PER_PERSON = 40
"""Findings shown in one person's section; ``filterlog findings --user`` lists the rest."""
EXCERPTS = 5
"""Logged requests shown under each finding."""


@dataclass
class Chart:
    """An embedded chart: a PNG data URI and the words a screen reader (or a failed image) shows instead."""

    uri: str
    alt: str


@dataclass
class Item:
    """One finding as the report shows it."""

    finding: dict[str, Any]
    evidence: list[dict[str, Any]]
    outcome: Any | None
    """The latest ``incidents.Incident`` recorded for it, if any."""
    command: str
    """How to record an outcome for it."""


@dataclass
class Person:
    """A flagged person's section: their summary row, findings and charts."""

    anchor: str
    """``person-N``: never built from the user name, which is log data."""
    row: dict[str, Any]
    rules: list[tuple[str, int]]
    items: list[Item]
    more: int
    charts: list[Chart]


@dataclass
class Review:
    """Everything the review template shows, computed (for a notebook, a test or ``render_review``)."""

    site: str
    timezone: str
    date_from: date
    date_to: date
    days: list[date]
    events: int
    people_seen: int
    summary: pa.Table
    findings: pa.Table
    by_severity: dict[str, int]
    people: list[Person]
    unshown: list[dict[str, Any]]
    charts: list[Chart]
    reviewed: int
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def flagged(self) -> int:
        """People with at least one finding."""
        return self.summary.num_rows

    def describe(self, path: Path | None = None) -> str:
        """The count line the CLI and the daily batch print."""
        line = (
            f"review: {self.flagged:,} {'person' if self.flagged == 1 else 'people'} flagged, "
            f"{self.findings.num_rows:,} finding{'' if self.findings.num_rows == 1 else 's'}, "
            f"{self.events:,} events on {len(self.days)} day{'' if len(self.days) == 1 else 's'}"
        )
        return line + (f" -> {path}" if path else "")


def review_range(ws: Workspace, date_from: date | None, date_to: date | None) -> tuple[date, date, list[date]]:
    """The range a review covers and the dates with events in it (default: the last date with events)."""
    dates = ws.event_dates()
    if not dates:
        raise WorkspaceError(f"{ws.root}: no events to review (run 'filterlog ingest' first)")
    if date_from is None and date_to is None:
        date_from = date_to = dates[-1]
    date_from = date_from or dates[0]
    date_to = date_to or max(dates[-1], date_from)
    if date_to < date_from:
        raise WorkspaceError(f"review range is empty: {date_to} is before {date_from}")
    return date_from, date_to, within(dates, date_from, date_to)


def _chart(fig: Figure, alt: str) -> Chart:
    return Chart(png_data_uri(fig), alt)


def _order(found: pa.Table) -> pa.Table:
    """Findings worst first, then in time order (how a person's section lists them)."""
    rank = pc.index_in(pc.cast(found.column("severity"), pa.string()), value_set=pa.array(SEVERITIES))
    return found.append_column("_rank", rank).sort_by([("_rank", "descending"), ("start", "ascending")]).drop(["_rank"])


def _outcomes(ws: Workspace, ids: list[str]) -> dict[str, Any]:
    from .. import incidents  # the register is optional for a review: no table, no outcomes

    return incidents.latest(ws, ids) if ids else {}


def _people(
    ws: Workspace, summary: pa.Table, found: pa.Table, act: pa.Table, policy: Policy, limit: int
) -> tuple[list[Person], list[dict[str, Any]]]:
    """Full sections for the first ``limit`` people of the summary; the other summary rows as they are."""
    rows = summary.to_pylist()
    shown_rows, unshown = rows[:limit], rows[limit:]
    found = _order(found)
    owner = who(found).to_numpy()
    wanted = {r["user"] for r in shown_rows}
    per_person: dict[str, list[int]] = {}
    for i, name in enumerate(owner):  # one pass over the findings (hundreds), grouping row numbers by person
        if name in wanted and len(per_person.setdefault(name, [])) < FINDINGS_PER_PERSON:
            per_person[name].append(i)
    indices = [i for r in shown_rows for i in per_person.get(r["user"], [])]
    shown = found.take(pa.array(indices, pa.int64()))
    evidence = excerpts(ws, shown, EXCERPTS)
    records = shown.drop(["evidence"]).to_pylist()
    outcomes = _outcomes(ws, [r["finding_id"] for r in records])
    hours = ws.config.working_hours
    mine = act.filter(pc.is_in(act.column("who"), value_set=pa.array(sorted(wanted), pa.string())))
    people, at = [], 0
    for n, row in enumerate(shown_rows, start=1):
        count = len(per_person.get(row["user"], []))
        items = [
            Item(
                finding=records[at + k],
                evidence=evidence.get(at + k, []),
                outcome=outcomes.get(records[at + k]["finding_id"]),
                command=f"filterlog incidents record {records[at + k]['finding_id'][:12]} "
                '--by NAME --action ACTION --outcome "..."',
            )
            for k in range(count)
        ]
        at += count
        charts = [
            _chart(plots.person_hours(mine, row["user"], hours), "Requests by hour of day, allowed and blocked"),
            _chart(plots.person_categories(mine, row["user"]), "Requests by category"),
            _chart(plots.person_blocked(mine, row["user"], policy), "Blocked requests per hour"),
        ]
        rules = [(rule, row[rule]) for rule in RULE_IDS if row[rule]]
        people.append(Person(f"person-{n}", row, rules, items, max(0, row["findings"] - count), charts))
    return people, unshown


def build_review(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    limit: int = LIMIT,
) -> Review:
    """The review of the local dates in [date_from, date_to] (default: the last date with events).

    ``progress`` is called with 1 after each date's events are aggregated.
    """
    date_from, date_to, days = review_range(ws, date_from, date_to)
    policy = Policy.from_config(ws.config)
    act = activity(ws, date_from, date_to, progress=progress)
    found = store.read(ws, date_from, date_to)
    summary = summarise(ws, date_from, date_to, act=act)
    people, unshown = _people(ws, summary, found, act, policy, limit)
    severities = [str(s) for s in pc.cast(found.column("severity"), pa.string()).to_pylist()]
    hours = ws.config.working_hours
    school = [
        _chart(plots.school_blocked_categories(act, policy), "Most-blocked categories across the school"),
        _chart(plots.school_nonbusiness_by_hour(act, policy, hours), "Non-business share of traffic by hour"),
        _chart(plots.findings_by_rule(found), "Findings by rule and severity"),
    ]
    ids = [str(i) for i in found.column("finding_id").to_pylist()]
    return Review(
        site=ws.config.site.name,
        timezone=ws.config.site.timezone,
        date_from=date_from,
        date_to=date_to,
        days=days,
        events=int(pc.sum(act.column("requests")).as_py() or 0),
        people_seen=len(pc.unique(act.column("who"))) if act.num_rows else 0,
        summary=summary,
        findings=found,
        by_severity={s: severities.count(s) for s in reversed(SEVERITIES)},
        people=people,
        unshown=unshown,
        charts=school,
        reviewed=len(_outcomes(ws, ids)),
    )


def render_review(review: Review) -> str:
    """The review as one HTML document (every log-borne value escaped by the template environment)."""
    multi_day = len(review.days) > 1 or review.date_from != review.date_to
    return render(
        "review.html.j2",
        r=review,
        tz=review.timezone,
        time_fmt="%Y-%m-%d %H:%M:%S" if multi_day else "%H:%M:%S",
        when_fmt="%Y-%m-%d %H:%M" if multi_day else "%H:%M",
        rule_ids=RULE_IDS,
    )


def default_path(ws: Workspace, date_from: date, date_to: date) -> Path:
    """Where a review goes unless told otherwise: ``reports/review-DATE.html`` (or ``review-FROM-TO.html``)."""
    return ws.reports_dir / f"review-{span(date_from, date_to)}.html"


def span(date_from: date, date_to: date) -> str:
    """A date range for a file name: one date, or FROM-TO."""
    return date_from.isoformat() if date_from == date_to else f"{date_from.isoformat()}-{date_to.isoformat()}"


def review_file(
    ws: Workspace,
    out: str | Path | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
    limit: int = LIMIT,
) -> tuple[Path, Review]:
    """Build, render and write the review (owner-only); the path written and the review (for its counts)."""
    review = build_review(ws, date_from, date_to, progress=progress, limit=limit)
    path = Path(out) if out is not None else default_path(ws, review.date_from, review.date_to)
    return write_private(path, render_review(review)), review


def write_review(
    ws: Workspace,
    out: str | Path | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write the review HTML (default: ``default_path``) and return where it went."""
    return review_file(ws, out, date_from, date_to, progress)[0]
