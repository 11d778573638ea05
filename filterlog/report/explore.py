"""Notebook helpers: one call to load a range, then plain filters and tables the coordinator can read.

The coordinator's notebook (``notebooks/review.ipynb``) must not compute
anything itself, or it would drift from the review report. So the notebook
calls ``load`` (the same activity pass, findings and summary the review uses),
narrows findings with ``filter_findings`` and shows the frames made here:
times in the site's zone, the evidence list left out (``evidence_frame`` looks
the requests up instead), a finding id short enough to paste into
``filterlog incidents record``. Charts come from ``plots`` unchanged.

Frames are pandas because notebooks render them as HTML tables, and pandas
escapes the cell text when it does: log-borne strings stay text there too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import findings as store
from ..config import WorkingHours
from ..errors import FilterlogError
from ..rules.model import RULE_IDS, load_rules
from ..schema import SEVERITIES
from ..workspace import Workspace
from .activity import Policy, activity
from .evidence import excerpts
from .review import review_range
from .summary import summarise_tables, who

_ADDRESS = re.compile(r"[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")

ID_CHARS = 12
"""Finding id digits shown: unique in practice, and what ``filterlog incidents record`` accepts as a prefix."""

FINDING_COLUMNS = [
    "finding_id", "severity", "rule", "who", "group", "start", "end", "count", "bytes", "domain", "category",
    "detail", "evidence_total",
]  # fmt: skip
"""What ``findings_frame`` shows, in order (title and policy clause are per rule: ``rules_frame`` has them)."""


class ExploreError(FilterlogError):
    """A filter the notebook cannot apply: an unknown rule or severity."""


@dataclass(frozen=True)
class View:
    """Everything the notebook shows about one range of local dates, read once."""

    ws: Workspace
    date_from: date
    date_to: date
    days: list[date]
    """Dates in the range that have events."""
    findings: pa.Table
    """Stored findings of the range (``FINDING_SCHEMA``)."""
    activity: pa.Table
    """The hourly aggregate (``activity.ACTIVITY_SCHEMA``) the charts draw from."""
    summary: pa.Table
    """One row per flagged person, worst first (``summary.SUMMARY_SCHEMA``)."""
    policy: Policy
    hours: WorkingHours
    timezone: str

    @property
    def people(self) -> list[str]:
        """Flagged people, worst first (as the summary and the review order them)."""
        return [str(u) for u in self.summary.column("user").to_pylist()]


def day(value: date | str | None) -> date | None:
    """A notebook parameter as a date: a ``date``, an ISO ``"YYYY-MM-DD"`` string, or None."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ExploreError(f"{value!r} is not a date (write YYYY-MM-DD)") from None


def load(ws: Workspace, date_from: date | str | None = None, date_to: date | str | None = None) -> View:
    """Read a range as the review does (default: the last date with events) and keep the pieces for the notebook."""
    date_from, date_to, days = review_range(ws, day(date_from), day(date_to))
    config = ws.config
    policy = Policy.from_config(config)
    act = activity(ws, date_from, date_to)
    found = store.read(ws, date_from, date_to)
    return View(
        ws=ws,
        date_from=date_from,
        date_to=date_to,
        days=days,
        findings=found,
        activity=act,
        summary=summarise_tables(found, act, policy),
        policy=policy,
        hours=config.working_hours,
        timezone=config.site.timezone,
    )


def person(view: View, user: str | None = None) -> str | None:
    """Whom a notebook's ``USER`` means, as the activity names them; None picks the most serious flagged person.

    A user name is matched in any case; a client address becomes the person
    its findings name (the user mapped to it), so the charts find their requests.
    None if nobody was flagged and no user was given.
    """
    if user is None:
        return view.people[0] if view.people else None
    text = user.strip()
    flagged = {p.lower(): p for p in view.people}
    if text.lower() in flagged:
        return flagged[text.lower()]
    theirs = filter_findings(view.findings, user=text)
    if theirs.num_rows:
        return str(who(theirs).iloc[0])
    return text.lower() if not _ADDRESS.fullmatch(text) else text


def _rules(rule: str | Iterable[str]) -> list[str]:
    wanted = [rule] if isinstance(rule, str) else list(rule)
    unknown = [r for r in wanted if r not in RULE_IDS]
    if unknown:
        raise ExploreError(f"unknown rule {unknown[0]!r} (rules are: {', '.join(RULE_IDS)})")
    return wanted


def filter_findings(
    findings: pa.Table,
    user: str | None = None,
    rule: str | Iterable[str] | None = None,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    severity: str | None = None,
) -> pa.Table:
    """The findings of one person (user name in any case, or client address), rule(s), local dates, at least a severity.

    Every filter left as None lets everything through, so the notebook's
    parameters can be filled in one at a time.
    """
    findings = store.select(findings, user, None if rule is None else _rules(rule))
    keep = pa.array([True] * findings.num_rows, pa.bool_())
    first, last = day(date_from), day(date_to)
    if first is not None:
        keep = pc.and_(keep, pc.fill_null(pc.greater_equal(findings.column("date"), pa.scalar(first)), False))
    if last is not None:
        keep = pc.and_(keep, pc.fill_null(pc.less_equal(findings.column("date"), pa.scalar(last)), False))
    if severity is not None:
        if severity not in SEVERITIES:
            raise ExploreError(f"unknown severity {severity!r} (severities are: {', '.join(SEVERITIES)})")
        serious = pa.array(SEVERITIES[SEVERITIES.index(severity) :], pa.string())
        keep = pc.and_(keep, pc.is_in(pc.cast(findings.column("severity"), pa.string()), value_set=serious))
    return findings.filter(keep)


def _local(series: pd.Series, timezone: str) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_convert(timezone)


def findings_frame(findings: pa.Table, timezone: str = "UTC") -> pd.DataFrame:
    """Findings as a table to read: short id, the person, local start and end, the reason; no evidence list."""
    frame = findings.drop(["evidence"]).to_pandas()
    frame["who"] = who(findings).to_numpy()
    frame["finding_id"] = frame["finding_id"].str[:ID_CHARS]
    for column in ("start", "end"):
        frame[column] = _local(frame[column], timezone)
    for column in ("rule", "severity", "group", "domain", "category"):
        frame[column] = frame[column].astype(object)
    return frame[FINDING_COLUMNS].reset_index(drop=True)


def by_rule(findings: pa.Table) -> pd.DataFrame:
    """Findings counted by rule (every rule, in the stable order) and severity, with totals."""
    frame = findings.select(["rule", "severity"]).to_pandas().astype(str)
    table = pd.crosstab(frame["rule"], frame["severity"]).reindex(
        index=list(RULE_IDS), columns=list(SEVERITIES), fill_value=0
    )
    table = table.rename_axis(index="rule", columns=None)
    table["total"] = table.sum(axis=1)
    table.loc["all rules"] = table.sum()
    return table.astype("int64")


def summary_frame(summary: pa.Table, timezone: str = "UTC") -> pd.DataFrame:
    """The summary with first and last seen in the site's zone, and only the rule columns that have findings."""
    frame = summary.to_pandas()
    for column in ("first_seen", "last_seen"):
        frame[column] = _local(frame[column], timezone)
    quiet = [rule for rule in RULE_IDS if not frame[rule].any()]
    return frame.drop(columns=quiet)


def rules_frame(ws: Workspace, rules: Iterable[str] | None = None) -> pd.DataFrame:
    """The rules (site overrides applied) with their title, severity and the policy clause each enforces."""
    chosen = set(_rules(rules)) if rules is not None else set(RULE_IDS)
    rows = [
        {"rule": r.id, "title": r.title, "severity": r.severity, "enabled": r.enabled, "policy": r.policy}
        for r in load_rules(ws.config)
        if r.id in chosen
    ]
    return pd.DataFrame(rows, columns=["rule", "title", "severity", "enabled", "policy"]).set_index("rule")


def evidence_frame(ws: Workspace, findings: pa.Table, per_finding: int = 5, timezone: str = "UTC") -> pd.DataFrame:
    """The first ``per_finding`` logged requests behind each finding, with the source line that proves each."""
    columns = ["finding_id", "time", "method", "url", "action", "status", "bytes_in", "source_line"]
    found = excerpts(ws, findings, per_finding)
    ids = findings.column("finding_id").to_pylist()
    rows = [{"finding_id": ids[n][:ID_CHARS], **row} for n, requests in sorted(found.items()) for row in requests]
    frame = pd.DataFrame(rows, columns=columns)
    frame["time"] = _local(frame["time"], timezone)
    return frame


def queue(
    ws: Workspace, date_from: date | str | None = None, date_to: date | str | None = None, user: str | None = None
) -> pa.Table:
    """Findings of the range nobody has recorded an outcome for yet (the incident register's queue)."""
    from .. import incidents  # imported here: loading a range never needs the register

    return incidents.unreviewed(ws, day(date_from), day(date_to), user=user)
