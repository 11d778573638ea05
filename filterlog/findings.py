"""The findings store: ``findings/date=YYYY-MM-DD/findings.parquet`` in the workspace, one file per local date.

A date's file is replaced whole, through a temporary file and a rename, so a
reader sees the old findings or the new ones and never half of each.
Re-detecting only some rules keeps the other rules' findings of that date.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import WorkspaceError
from .parts import COMPRESSION
from .schema import FINDING_SCHEMA
from .workspace import Workspace, _partition_dates, within

FILE = "findings.parquet"


def findings_dir(ws: Workspace) -> Path:
    """Where findings live in a workspace."""
    return ws.root / "findings"


def finding_dates(ws: Workspace) -> list[date]:
    """Local dates that have a findings file, in order."""
    return _partition_dates(findings_dir(ws))


def _path(ws: Workspace, day: date) -> Path:
    return findings_dir(ws) / f"date={day.isoformat()}" / FILE


def read_day(ws: Workspace, day: date) -> pa.Table:
    """One date's findings (empty if none)."""
    path = _path(ws, day)
    if not path.exists():
        return FINDING_SCHEMA.empty_table()
    try:
        return pq.read_table(path, schema=FINDING_SCHEMA)
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{path}: cannot read findings: {exc}") from exc


def write_day(ws: Workspace, day: date, findings: pa.Table, rules: Iterable[str] | None = None) -> None:
    """Store ``findings`` as the date's findings for ``rules`` (all rules if None), atomically.

    Findings of other rules already stored for the date are kept. A date left
    with no findings has its file removed, so stale findings cannot outlive
    the events they came from.
    """
    if rules is not None:
        old = read_day(ws, day)
        keep = pc.invert(pc.is_in(pc.cast(old.column("rule"), pa.string()), pa.array(list(rules), pa.string())))
        findings = pa.concat_tables([old.filter(keep), findings.cast(FINDING_SCHEMA)]).combine_chunks()
    findings = _ordered(findings)
    path = _path(ws, day)
    if findings.num_rows == 0:
        path.unlink(missing_ok=True)
        if path.parent.exists() and not any(path.parent.iterdir()):
            path.parent.rmdir()
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    pq.write_table(findings, tmp, compression=COMPRESSION)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    user: str | None = None,
    rules: Iterable[str] | None = None,
) -> pa.Table:
    """Stored findings in a local date range, optionally of one person (user name or address) and some rules."""
    days = within(finding_dates(ws), date_from, date_to)
    tables = [read_day(ws, d) for d in days]
    table = pa.concat_tables(tables) if tables else FINDING_SCHEMA.empty_table()
    return _ordered(select(table, user, rules))


def select(table: pa.Table, user: str | None = None, rules: Iterable[str] | None = None) -> pa.Table:
    """The findings of one person (user name in any case, or client address) and of some rules."""
    if user is not None:
        who = user.strip().lower()
        named = pc.fill_null(pc.equal(pc.utf8_lower(pc.cast(table.column("user"), pa.string())), who), False)
        address = pc.fill_null(pc.equal(pc.cast(table.column("client_ip"), pa.string()), user.strip()), False)
        table = table.filter(pc.or_(named, address))
    if rules is not None:
        table = table.filter(pc.is_in(pc.cast(table.column("rule"), pa.string()), pa.array(list(rules), pa.string())))
    return table


def _ordered(table: pa.Table) -> pa.Table:
    """Findings by start time, then rule, then id: a stable order for files, tables and diffs."""
    keys = pa.table({"start": table.column("start"), "rule": pc.cast(table.column("rule"), pa.string()),
                     "id": table.column("finding_id")})  # fmt: skip
    order = pc.sort_indices(keys, sort_keys=[("start", "ascending"), ("rule", "ascending"), ("id", "ascending")])
    return table.take(order)
