"""The incident register: what the school decided about each finding, kept in the workspace database.

Findings are recomputed and purged; decisions about them must not be. Each
``record`` appends a row (the history is evidence of how a case was handled, so
nothing is updated in place) and the latest row per finding is its current
state. The row copies the finding's rule, person, address and date, so the
register still reads sensibly after the findings files are gone.

Text is stored as the reviewer typed it and escaped where it is shown: a
neutralised CSV cell, an autoescaped HTML page, a terminal line with control
characters replaced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from . import findings as store
from .errors import FilterlogError
from .output import aligned, clean, csv_text, json_text
from .workspace import Workspace

ACTIONS: tuple[str, ...] = (
    "no-action",  # looked at, nothing to do: legitimate use or too minor to act on
    "false-positive",  # the rule was wrong about this activity (worth telling whoever tunes the rules)
    "advice",  # a conversation with the person about acceptable use
    "warning",  # a formal warning under the acceptable-use policy
    "parents-contacted",  # the pupil's parents or carers were told
    "sanction",  # a sanction under the behaviour policy (detention, loss of access ...)
    "safeguarding-referral",  # passed to the DSL or to children's services as a safeguarding concern
    "disciplinary",  # a staff disciplinary process was started
    "filter-changed",  # the filter or its lists were changed so this cannot recur
    "under-investigation",  # still being looked into: usually recorded with status open
)
"""What was done about a finding: a closed vocabulary, so the governors' report can count outcomes."""

STATUSES: tuple[str, ...] = ("open", "closed")
"""An incident is open while someone still has to act on it, closed once it is decided."""

JSON_KEYS: tuple[str, ...] = (
    "record_id", "finding_id", "rule", "user", "client_ip", "finding_date", "status", "reviewed_by", "action",
    "outcome", "notes", "decided_on", "recorded_at",
)  # fmt: skip
"""The keys of ``filterlog incidents list --format json`` and the CSV header, in order."""

MIN_PREFIX = 6
"""Shortest finding id prefix accepted: long enough to be unique in a term's findings."""

_HEX = re.compile(r"[0-9a-f]+")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (and bidi overrides, which can disguise text) that text may not hold; newline and tab pass."""


class IncidentError(FilterlogError):
    """A record that cannot be made: unknown or ambiguous finding, bad action, status or text."""


@dataclass(frozen=True)
class Incident:
    """One row of the register: a decision about a finding, as recorded."""

    record_id: int
    """Order of recording across the whole register."""
    finding_id: str
    rule: str
    user: str | None
    client_ip: str | None
    finding_date: date
    """Local date of the finding (copied, so the register outlives the findings files)."""
    status: str
    """``open`` or ``closed``."""
    reviewed_by: str
    action: str
    """One of ``ACTIONS``."""
    outcome: str
    notes: str
    decided_on: date
    """When the decision was taken (site-local date), which may be before it was recorded."""
    recorded_at: datetime
    """When the row was written (UTC)."""

    @classmethod
    def from_row(cls, row: Any) -> Incident:
        """An incident from an ``incidents`` table row."""
        d = dict(row)
        d["finding_date"] = date.fromisoformat(d["finding_date"])
        d["decided_on"] = date.fromisoformat(d["decided_on"])
        d["recorded_at"] = datetime.fromisoformat(d["recorded_at"]).astimezone(UTC)
        return cls(**d)


@dataclass(frozen=True)
class Case:
    """One finding as ``incidents show`` presents it: the stored finding (if not purged) and its history."""

    finding_id: str
    finding: dict[str, Any] | None
    history: list[Incident]


# resolving ids ---------------------------------------------------------------
def _stored(ws: Workspace, prefix: str) -> dict[str, dict[str, Any]]:
    """Stored findings whose id starts with ``prefix``, by id (the first row of an id seen twice)."""
    table = store.read(ws)
    table = table.filter(pc.starts_with(table.column("finding_id"), prefix))
    out: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        out.setdefault(row["finding_id"], row)
    return out


def _prefix(finding_id: str) -> str:
    text = finding_id.strip().lower()
    if len(text) < MIN_PREFIX or not _HEX.fullmatch(text):
        raise IncidentError(
            f"{finding_id!r} is not a finding id (at least {MIN_PREFIX} hex digits; see 'filterlog findings')"
        )
    return text


def _resolve(ws: Workspace, finding_id: str) -> tuple[str, dict[str, Any] | None]:
    """The full id a prefix names, among stored findings and the register, and the stored finding if any."""
    prefix = _prefix(finding_id)
    stored = _stored(ws, prefix)
    recorded = {
        r[0] for r in ws.db.execute("SELECT DISTINCT finding_id FROM incidents WHERE substr(finding_id, 1, ?) = ?",
                                    (len(prefix), prefix))
    }  # fmt: skip
    ids = sorted(set(stored) | recorded)
    if not ids:
        raise IncidentError(f"no finding with id {prefix} (see 'filterlog findings' or 'filterlog incidents list')")
    if len(ids) > 1:
        shown = ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")
        raise IncidentError(f"finding id {prefix} is ambiguous: {len(ids)} findings match ({shown}); give more digits")
    return ids[0], stored.get(ids[0])


# recording -------------------------------------------------------------------
def _one_line(name: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise IncidentError(f"{name} must not be empty")
    if _CONTROL.search(text) or "\n" in text or "\t" in text:
        raise IncidentError(f"{name} must be one line of printable text")
    return text


def _text(name: str, value: str, *, required: bool) -> str:
    if required and not value.strip():
        raise IncidentError(f"{name} must not be empty")
    if _CONTROL.search(value):
        raise IncidentError(f"{name} holds control characters (only newlines and tabs are allowed)")
    return value.strip() if required else value


def record(
    ws: Workspace,
    finding_id: str,
    *,
    reviewed_by: str,
    action: str,
    outcome: str,
    notes: str = "",
    decided_on: date | None = None,
    status: str = "closed",
) -> Incident:
    """Append a decision about a finding (``finding_id`` may be a unique prefix) and return the stored record.

    A finding already purged from the findings files can still be recorded
    against if the register knows it: its details are copied from its last record.
    """
    if action not in ACTIONS:
        raise IncidentError(f"unknown action {action!r} (actions are: {', '.join(ACTIONS)})")
    if status not in STATUSES:
        raise IncidentError(f"unknown status {status!r} (open or closed)")
    reviewed_by = _one_line("reviewed by", reviewed_by)
    outcome = _text("outcome", outcome, required=True)
    notes = _text("notes", notes, required=False)
    today = datetime.now(ws.config.site.tz).date()
    decided_on = decided_on or today
    if decided_on > today:
        raise IncidentError(f"decision date {decided_on} is in the future (today is {today})")
    full, finding = _resolve(ws, finding_id)
    if finding is not None:
        about = (finding["rule"], finding["user"], finding["client_ip"], finding["date"].isoformat())
    else:
        last = latest(ws, [full])[full]
        about = (last.rule, last.user, last.client_ip, last.finding_date.isoformat())
    now = datetime.now(UTC).isoformat(timespec="seconds")
    cur = ws.db.execute(
        "INSERT INTO incidents (finding_id, rule, user, client_ip, finding_date, status, reviewed_by, action, "
        "outcome, notes, decided_on, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (full, *about, status, reviewed_by, action, outcome, notes, decided_on.isoformat(), now),
    )
    row = ws.db.execute("SELECT * FROM incidents WHERE record_id = ?", (cur.lastrowid,)).fetchone()
    return Incident.from_row(row)


# reading ---------------------------------------------------------------------
def history(ws: Workspace, finding_id: str) -> list[Incident]:
    """Every record about one finding (prefix allowed), oldest first; empty if it was never reviewed."""
    full, _ = _resolve(ws, finding_id)
    rows = ws.db.execute("SELECT * FROM incidents WHERE finding_id = ? ORDER BY record_id", (full,))
    return [Incident.from_row(r) for r in rows]


def latest(ws: Workspace, finding_ids: Iterable[str] | None = None) -> dict[str, Incident]:
    """The current state (latest record) of each finding in the register, or of just these full ids.

    One query however many ids: reports call this for every finding they show.
    """
    sql = (
        "SELECT * FROM incidents WHERE record_id IN (SELECT max(record_id) FROM incidents {where} GROUP BY finding_id)"
    )
    if finding_ids is None:
        rows = ws.db.execute(sql.format(where=""))
    else:
        ids = json.dumps(sorted({str(i) for i in finding_ids}))
        rows = ws.db.execute(sql.format(where="WHERE finding_id IN (SELECT value FROM json_each(?))"), (ids,))
    return {r["finding_id"]: Incident.from_row(r) for r in rows}


def listing(
    ws: Workspace,
    status: str = "all",
    date_from: date | None = None,
    date_to: date | None = None,
    user: str | None = None,
) -> list[Incident]:
    """The current state of recorded incidents, by finding date, filtered by status, finding date and person.

    ``user`` matches the user name (any case) or the client address, as ``filterlog findings --user`` does.
    """
    if status not in (*STATUSES, "all"):
        raise IncidentError(f"unknown status {status!r} (open, closed or all)")
    found = [
        i for i in latest(ws).values()
        if (status == "all" or i.status == status)
        and (date_from is None or i.finding_date >= date_from)
        and (date_to is None or i.finding_date <= date_to)
        and (user is None or (i.user or "").lower() == user.strip().lower() or i.client_ip == user.strip())
    ]  # fmt: skip
    return sorted(found, key=lambda i: (i.finding_date, i.rule, i.user or i.client_ip or "", i.finding_id))


def unreviewed(
    ws: Workspace, date_from: date | None = None, date_to: date | None = None, user: str | None = None
) -> pa.Table:
    """Stored findings nobody has recorded a decision about yet: the coordinator's queue (``FINDING_SCHEMA``)."""
    table = store.read(ws, date_from, date_to, user=user)
    seen = [r[0] for r in ws.db.execute("SELECT DISTINCT finding_id FROM incidents")]
    if not seen:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("finding_id"), pa.array(seen, pa.string()))))


def case(ws: Workspace, finding_id: str) -> Case:
    """One finding (prefix allowed) with its whole history, for ``incidents show``."""
    full, finding = _resolve(ws, finding_id)
    return Case(full, finding, history(ws, full))


# rendering -------------------------------------------------------------------
def printable(text: str) -> str:
    """One terminal line: newlines and tabs as spaces, other control characters (escapes included) as ``?``."""
    return clean(text.replace("\n", " ").replace("\t", " "))


def records(incidents: Iterable[Incident]) -> list[dict[str, Any]]:
    """Incidents as JSON-ready dicts with ``JSON_KEYS`` (dates ISO, ``recorded_at`` ISO-8601 UTC)."""
    out = []
    for i in incidents:
        d = asdict(i)
        d["finding_date"] = i.finding_date.isoformat()
        d["decided_on"] = i.decided_on.isoformat()
        d["recorded_at"] = i.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append({k: d[k] for k in JSON_KEYS})
    return out


def to_json(incidents: Iterable[Incident]) -> str:
    """The ``--format json`` array."""
    return json_text(records(incidents))


def to_csv(incidents: Iterable[Incident]) -> str:
    """The ``--format csv`` text, every text cell neutralised for spreadsheets."""
    return csv_text(JSON_KEYS, ([rec[k] for k in JSON_KEYS] for rec in records(incidents)))


def to_table(incidents: list[Incident], width: int = 160) -> str:
    """An aligned table for a terminal, the outcome cut to fit ``width``."""
    if not incidents:
        return "no incidents recorded\n"
    heads = ("finding", "date", "rule", "user", "status", "action", "decided", "by", "outcome")
    rows = [
        [i.finding_id, i.finding_date.isoformat(), i.rule, printable(i.user or i.client_ip or "?"), i.status, i.action,
         i.decided_on.isoformat(), printable(i.reviewed_by), printable(i.outcome)]
        for i in incidents
    ]  # fmt: skip
    return aligned(heads, rows, width, room_min=20)


def case_text(found: Case, timezone: str = "UTC") -> str:
    """``incidents show``: the finding's line (or what the register remembers of it) and every record."""
    f = found.finding
    if f is not None:
        when = f["start"].astimezone(ZoneInfo(timezone))
        who = printable(f["user"] or f["client_ip"] or "?")
        lines = [
            f"finding {found.finding_id}: {f['rule']} ({f['severity']}), {who}, {when:%Y-%m-%d %H:%M}",
            f"  {printable(f['detail'])}",
        ]
    else:
        last = found.history[-1]
        who = printable(last.user or last.client_ip or "?")
        lines = [
            f"finding {found.finding_id}: {last.rule}, {who}, {last.finding_date} (no longer in the findings files)"
        ]
    if not found.history:
        lines.append("no outcome recorded yet")
    for i in found.history:
        lines.append(
            f"#{i.record_id} {i.decided_on} {i.status}: {i.action} by {printable(i.reviewed_by)} "
            f"(recorded {i.recorded_at:%Y-%m-%d %H:%M} UTC)"
        )
        lines.append(f"  outcome: {printable(i.outcome)}")
        for note in i.notes.splitlines():
            lines.append(f"  notes: {printable(note)}")
    return "\n".join(lines) + "\n"
