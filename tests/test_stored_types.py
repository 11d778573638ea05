"""Events files written by an older filterlog, with user names stored as plain strings, read as before.

``user`` and ``user_raw`` are dictionary-encoded, in memory and in each
file's Arrow schema, since 2026-12-06: ingest builds them from the distinct
names, so Parquet stores the codes it is given instead of hashing every row.
A workspace keeps older files, whose schema says plain strings, beside newer
ones: every reader asks for the schema's types, so both kinds give the same
events, findings and audit packs.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from filterlog import findings
from filterlog.parts import COMPRESSION, DICTIONARY_COLUMNS
from filterlog.report import audit
from filterlog.rules import detect
from filterlog.schema import EVENT_SCHEMA
from filterlog.workspace import Workspace

_NAMES = ("user", "user_raw")


def _as_older_files(ws: Workspace) -> int:
    """Rewrite every events file with the user columns as plain strings; how many were rewritten."""
    files = sorted(ws.events_dir.glob("date=*/*.parquet"))
    for path in files:
        table = pq.read_table(path)
        for name in _NAMES:
            index = table.schema.get_field_index(name)
            table = table.set_column(index, pa.field(name, pa.string()), pc.cast(table.column(name), pa.string()))
        pq.write_table(table, path, compression=COMPRESSION, use_dictionary=DICTIONARY_COLUMNS)
    return len(files)


def test_new_files_store_user_names_dictionary_encoded(demo_day) -> None:
    path = next(Path(demo_day.workspace, "events").glob("date=*/*.parquet"))
    stored = pq.read_schema(path)
    for name in _NAMES:
        assert pa.types.is_dictionary(stored.field(name).type)
        assert EVENT_SCHEMA.field(name).type == stored.field(name).type


def test_files_with_plain_string_users_read_judge_and_audit_the_same(demo_ws: Workspace, tmp_path: Path) -> None:
    (day,) = demo_ws.event_dates()
    events = demo_ws.read_events(day)
    found = findings.read(demo_ws)
    user = found.filter(pc.equal(found.column("rule"), "repeated-blocked")).column("user")[0].as_py()
    pack = audit.write_pack(demo_ws, user, out=tmp_path / "new", by="inspector")
    new_audit = pq.read_table(pack.directory / "events.parquet")

    assert _as_older_files(demo_ws) > 0
    stored = pq.read_schema(next(demo_ws.events_dir.glob("date=*/*.parquet")))
    assert stored.field("user").type == pa.string()  # the rewrite took

    assert demo_ws.read_events(day).equals(events)
    detect(demo_ws)
    assert findings.read(demo_ws).equals(found)
    old = audit.write_pack(demo_ws, user, out=tmp_path / "old", by="inspector")
    assert pq.read_table(old.directory / "events.parquet").equals(new_audit)
