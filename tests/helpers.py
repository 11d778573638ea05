"""Shared helpers for the test-suite (imported by tests; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from filterlog.schema import EVENT_NAMES, EVENT_SCHEMA, QUARANTINE_SCHEMA
from filterlog.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SAMPLE_LOGS = sorted(SAMPLES.glob("*.log"))
COMPARED = [n for n in EVENT_NAMES if n != "source_id"]
"""Every canonical column except source_id (a hash of the file, not of the event)."""


def iso_ms(value: Any) -> Any:
    """Render a timestamp as ISO-8601 UTC with milliseconds, like the expected JSONL files."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def events_table(ws: Workspace) -> pa.Table:
    """All events of a workspace as one table (the ``date`` partition column dropped)."""
    if not ws.events_dir.exists() or not any(ws.events_dir.rglob("*.parquet")):
        return EVENT_SCHEMA.empty_table()
    dataset = ds.dataset(ws.events_dir, format="parquet", partitioning="hive")
    table = dataset.to_table()
    return table.select(list(EVENT_NAMES))


def event_rows(ws: Workspace) -> list[dict[str, Any]]:
    """Events as plain dicts (time as ISO text), sorted by source file and line."""
    rows = events_table(ws).to_pylist()
    for r in rows:
        r["time"] = iso_ms(r["time"])
    return sorted(rows, key=lambda r: (r["source_id"], r["source_line"]))


def quarantine_rows(ws: Workspace) -> list[dict[str, Any]]:
    """Quarantined lines of a workspace, sorted by path and line."""
    files = sorted(ws.quarantine_dir.glob("*.parquet"))
    if not files:
        return []
    table = pa.concat_tables([pq.read_table(f, schema=QUARANTINE_SCHEMA) for f in files])
    return sorted(table.to_pylist(), key=lambda r: (r["path"], r["source_line"]))


def load_expected(log: Path) -> list[dict[str, Any]]:
    """The hand-written expectations next to a sample log."""
    path = log.with_name(log.stem + ".expected.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def diff_rows(got: list[dict[str, Any]], want: list[dict[str, Any]], skip: set[tuple[int, str]] = frozenset()) -> str:
    """A readable report of every differing cell (empty when equal), keyed by source_line."""
    out = []
    if len(got) != len(want):
        out.append(f"row count: got {len(got)}, expected {len(want)}")
        got_lines = [r["source_line"] for r in got]
        want_lines = [r["source_line"] for r in want]
        out.append(f"  source_line got {got_lines}\n  source_line expected {want_lines}")
    by_line = {r["source_line"]: r for r in got}
    for w in want:
        g = by_line.get(w["source_line"])
        if g is None:
            out.append(f"line {w['source_line']}: missing from events")
            continue
        for name in COMPARED:
            if (w["source_line"], name) in skip:
                continue
            if g.get(name) != w.get(name):
                out.append(f"line {w['source_line']} {name}: got {g.get(name)!r}, expected {w.get(name)!r}")
    return "\n".join(out)


def assert_accounted(ws: Workspace) -> None:
    """Every manifest row accounts for every line it read."""
    for row in ws.manifest():
        assert row.lines_read == row.events + row.quarantined + row.skipped, row


class DiesBeforeMarkingDone:
    """The workspace database, except that the UPDATE marking an ingest done never happens: the process 'dies' there,
    after the data files were renamed into place."""

    def __init__(self, con: object) -> None:
        self._con = con

    def execute(self, sql: str, *args: object) -> object:
        if sql.lstrip().upper().startswith("UPDATE INGESTS"):
            raise KeyboardInterrupt("killed after the renames, before the manifest update")
        return self._con.execute(sql, *args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)
