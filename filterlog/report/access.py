"""The access log: who pulled whose data out of the workspace, when, and where it went.

An audit pack copies a person's whole browsing history out of the workspace,
so each one is recorded, as data-protection practice (and a school's own
policy) expects: the actor, the person, the date range, the output and the
number of events. The ``access_log`` table refuses UPDATE and DELETE (SQLite
triggers), so an entry cannot be quietly removed afterwards through filterlog
or any SQLite client that keeps the triggers.
"""

from __future__ import annotations

import getpass
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..errors import WorkspaceError
from ..output import aligned, clean, csv_text, iso, json_text
from ..workspace import Workspace

KEYS = ("entry_id", "at", "actor", "command", "subject", "date_from", "date_to", "output", "events", "detail")
"""Columns of the listing (CSV header and JSON keys), in order."""


@dataclass(frozen=True)
class Entry:
    """One access-log row."""

    entry_id: int
    at: str
    """When (UTC, ISO-8601, seconds)."""
    actor: str
    """Who ran it: ``--by`` if given, else the operating-system account."""
    command: str
    subject: str
    """Whose data: the user name or address as asked for."""
    date_from: str | None
    date_to: str | None
    output: str | None
    events: int | None
    detail: str


def actor(by: str | None = None) -> str:
    """The name to record: the one given, else the OS account running filterlog."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


def record(
    ws: Workspace,
    *,
    actor: str,
    command: str,
    subject: str,
    date_from: date | None,
    date_to: date | None,
    output: str | None,
    events: int | None,
    detail: str = "",
) -> Entry:
    """Append one entry and return it as stored."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    values = (at, actor, command, subject, iso(date_from), iso(date_to), output, events, detail)
    try:
        cur = ws.db.execute(
            "INSERT INTO access_log (at, actor, command, subject, date_from, date_to, output, events, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
    except sqlite3.Error as exc:  # a locked or read-only database must stop the audit, not skip the entry
        raise WorkspaceError(f"{ws.root}: cannot write the access log: {exc}") from exc
    return Entry(int(cur.lastrowid or 0), *values)


def entries(ws: Workspace, subject: str | None = None) -> list[Entry]:
    """Every entry, oldest first; only those about ``subject`` (any case) if given."""
    sql = "SELECT * FROM access_log"
    args: tuple[Any, ...] = ()
    if subject is not None:
        sql += " WHERE lower(subject) = lower(?)"
        args = (subject.strip(),)
    rows = ws.db.execute(sql + " ORDER BY entry_id", args)
    return [Entry(**{k: r[k] for k in KEYS}) for r in rows]


def to_json(items: list[Entry]) -> str:
    """The ``--format json`` array."""
    return json_text([asdict(e) for e in items])


def to_csv(items: list[Entry]) -> str:
    """The ``--format csv`` text (formulas neutralised: subjects come from the command line, actors from anyone)."""
    return csv_text(KEYS, (list(asdict(e).values()) for e in items))


def to_table(items: list[Entry]) -> str:
    """An aligned table for a terminal (control characters shown as ``?``)."""
    if not items:
        return "no audit runs recorded\n"
    heads = ("at", "actor", "command", "subject", "from", "to", "events", "output")
    rows = [
        [e.at, e.actor, e.command, e.subject, e.date_from or "-", e.date_to or "-",
         "-" if e.events is None else f"{e.events:,}", e.output or "-"]
        for e in items
    ]  # fmt: skip
    return aligned(heads, [[clean(c) for c in row] for row in rows])
