"""The workspace: crash recovery, locking, permissions, partitions by local date."""

from __future__ import annotations

import gzip
import hashlib
import inspect
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from helpers import DiesBeforeMarkingDone, event_rows, events_table
from hypothesis import given, settings
from hypothesis import strategies as st
from workspace_logs import NATIVE, native_lines, squid_line

from filterlog.enrich.calendar import local_dates
from filterlog.errors import WorkspaceError
from filterlog.ingest import ingest
from filterlog.schema import QUARANTINE_SCHEMA, conform
from filterlog.workspace import Workspace

# --- crash recovery ----------------------------------------------------------------------


def _pending_row(path: Path) -> dict[str, object]:
    return {
        "path": str(path),
        "size": 1,
        "sha256": "f" * 64,
        "compression": None,
        "format": "squid",
        "head_sha256": "e" * 64,
        "first_line": 1,
        "end_line": 0,
        "content_bytes": 0,
    }


def _some_events() -> pa.Table:
    return conform(
        pa.table(
            {
                "time": pa.array([datetime(2026, 11, 18, 10, tzinfo=UTC)], pa.timestamp("ms", tz="UTC")),
                "client_ip": ["10.0.0.1"],
                "method": ["GET"],
                "url": ["http://example.org/"],
                "action": ["allowed"],
                "source_format": ["squid"],
                "source_id": ["f" * 64],
                "source_line": [1],
            }
        )
    )


def _write_events(writer: object, day: str, table: pa.Table) -> None:
    """IngestWriter.write_events, whether or not it takes a block number (the API is young)."""
    write = writer.write_events  # type: ignore[attr-defined]
    if len(inspect.signature(write).parameters) == 3:
        write(day, 0, table)
    else:
        write(day, table)


def _files(ws: Workspace) -> set[str]:
    return {str(p.relative_to(ws.root)) for p in ws.root.rglob("*") if p.is_file() and p.suffix in {".parquet", ".tmp"}}


def test_recover_removes_an_uncommitted_ingest(ws: Workspace, tmp_path: Path) -> None:
    ingest(ws, [NATIVE])
    kept = _files(ws)
    writer = ws.begin(_pending_row(tmp_path / "crashed.log"))
    _write_events(writer, "2026-11-19", _some_events())
    writer.write_quarantine(
        pa.table(
            {"source_id": ["f" * 64], "path": ["crashed.log"], "source_line": [2], "reason": ["x"], "raw": [b"junk"]},
            schema=QUARANTINE_SCHEMA,
        )
    )
    # the process dies here: no commit, no abort
    assert len(ws.manifest("pending")) == 1
    assert _files(ws) != kept

    removed = ws.recover()
    assert removed == [writer.ingest_id]
    assert ws.manifest("pending") == []
    assert _files(ws) == kept
    assert not (ws.events_dir / "date=2026-11-19").exists()
    assert events_table(ws).num_rows == 20


def test_recover_removes_renamed_files_of_an_uncommitted_ingest(ws: Workspace, tmp_path: Path) -> None:
    ingest(ws, [NATIVE])
    kept = _files(ws)
    writer = ws.begin(_pending_row(tmp_path / "crashed.log"))
    _write_events(writer, "2026-11-19", _some_events())
    real = ws.db
    ws._db = DiesBeforeMarkingDone(real)  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            writer.commit({"lines_read": 1, "events": 1})
    finally:
        ws._db = real
    assert any(f.startswith("events/date=2026-11-19/") and f.endswith(".parquet") for f in _files(ws))
    assert ws.recover() == [writer.ingest_id]
    assert _files(ws) == kept
    assert ws.manifest("pending") == []


def test_recover_leaves_a_report_being_written_by_a_live_process(ws: Workspace) -> None:
    """Reports are written without the lock: a review rendering while cron ingests keeps its file."""
    import subprocess
    import sys

    ws.create()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    reports = ws.root / "reports"
    reports.mkdir(exist_ok=True)
    live = reports / f".review-2026-11-18.html.{os.getpid()}.tmp"
    dead = reports / f".review-2026-11-17.html.{int(gone.stdout)}.tmp"
    part = ws.root / "events" / "date=2026-11-18" / "abc-00000.parquet.tmp"
    part.parent.mkdir(parents=True)
    for f in (live, dead, part):
        f.write_bytes(b"half written")
    ws.recover()
    assert live.exists()
    assert not dead.exists() and not part.exists()


def test_next_run_recovers_and_reingests(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes(NATIVE.read_bytes())
    writer = ws.begin({**_pending_row(log), "sha256": hashlib.sha256(log.read_bytes()).hexdigest()})
    _write_events(writer, "2026-11-18", _some_events())
    ws.close()  # the crashed process is gone

    fresh = Workspace(ws.root)
    (result,) = ingest(fresh, [log]).files  # ingest takes the lock, which runs recover()
    assert result.status == "ingested"
    assert fresh.manifest("pending") == []
    assert events_table(fresh).num_rows == 20
    assert not any(f.endswith(".tmp") for f in _files(fresh))
    fresh.close()


def test_failed_file_leaves_nothing_behind(ws: Workspace, tmp_path: Path) -> None:
    lines = native_lines()
    body = b"".join(lines * 400)  # ~1 MB, so the head sniffs fine and the damage is found later
    broken = tmp_path / "broken.log.gz"
    whole = gzip.compress(body)
    broken.write_bytes(whole[: len(whole) * 3 // 4])
    report = ingest(ws, [broken, NATIVE])
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses == {"broken.log.gz": "failed", "squid-native.log": "ingested"}
    assert "broken.log.gz" in report.failed[0].message
    assert [Path(r.path).name for r in ws.manifest()] == ["squid-native.log"]
    assert ws.manifest("pending") == []
    assert events_table(ws).num_rows == 20
    assert not any(f.endswith(".tmp") for f in _files(ws))


# --- locking -------------------------------------------------------------------------------


def test_second_lock_is_refused_with_a_clear_message(ws: Workspace) -> None:
    other = Workspace(ws.root)
    with ws.lock():
        with pytest.raises(WorkspaceError) as info:
            with other.lock():
                pass  # pragma: no cover
        message = str(info.value)
        assert str(ws.root) in message
        assert "in use" in message and str(os.getpid()) in message
        assert "\n" not in message
        with pytest.raises(WorkspaceError):
            ingest(other, [NATIVE])
    with other.lock():  # released: the next run proceeds
        pass
    other.close()


# --- permissions ---------------------------------------------------------------------------


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o002)
    yield
    os.umask(old)


def test_workspace_is_private(tmp_path: Path, loose_umask: None) -> None:
    ws = Workspace(tmp_path / "ws")
    log = tmp_path / "mixed.log"
    log.write_bytes(NATIVE.read_bytes() + b"garbage line\n")
    ingest(ws, [log])
    dirs = [ws.root, *(p for p in ws.root.rglob("*") if p.is_dir())]
    assert {ws.events_dir, ws.quarantine_dir, ws.root / "findings", ws.root / "reports"} <= set(dirs)
    for d in dirs:
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    parquet = list(ws.root.rglob("*.parquet"))
    assert any(p.parent == ws.quarantine_dir for p in parquet)
    for f in [*parquet, ws.root / "filterlog.db"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    ws.close()


# --- partitions by local date ----------------------------------------------------------------


def _partitions(ws: Workspace) -> dict[str, list[str]]:
    """URL → the date= folders holding it."""
    out: dict[str, list[str]] = {}
    for d in sorted(ws.events_dir.glob("date=*")):
        for f in d.glob("*.parquet"):
            for url in pq.read_table(f, columns=["url"]).column("url").to_pylist():
                out.setdefault(url, []).append(d.name)
    return out


def test_events_are_partitioned_by_local_date(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "dates.log"
    log.write_bytes(
        squid_line(datetime(2026, 7, 15, 23, 30, tzinfo=UTC), "http://example.org/bst-late")  # 00:30 BST on 16 July
        + squid_line(datetime(2026, 7, 15, 22, 59, 59, tzinfo=UTC), "http://example.org/bst-before-midnight")
        + squid_line(datetime(2026, 11, 18, 23, 30, tzinfo=UTC), "http://example.org/gmt-late")  # GMT: same day
        + squid_line(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "http://example.org/clocks-go-forward")  # 00:30 GMT
    )
    ingest(ws, [log])
    assert _partitions(ws) == {
        "http://example.org/bst-late": ["date=2026-07-16"],
        "http://example.org/bst-before-midnight": ["date=2026-07-15"],
        "http://example.org/gmt-late": ["date=2026-11-18"],
        "http://example.org/clocks-go-forward": ["date=2026-03-29"],
    }
    # the time column itself stays UTC
    times = {r["url"]: r["time"] for r in event_rows(ws)}
    assert times["http://example.org/bst-late"] == "2026-07-15T23:30:00.000Z"


def test_partition_follows_the_configured_time_zone(ws: Workspace, tmp_path: Path) -> None:
    ws.create()
    text = ws.config_path.read_text(encoding="utf-8").replace('"Europe/London"', '"America/New_York"', 1)
    ws.config_path.write_text(text, encoding="utf-8")
    log = tmp_path / "ny.log"
    log.write_bytes(squid_line(datetime(2026, 11, 18, 3, 0, tzinfo=UTC), "http://example.org/ny"))  # 22:00 on 17th
    ingest(ws, [log])
    assert _partitions(ws) == {"http://example.org/ny": ["date=2026-11-17"]}


_ZONES = ["Europe/London", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(_ZONES),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.lists(st.integers(0, 2 * 86_400_000), min_size=1, max_size=6),
)
def test_a_block_is_filed_under_each_rows_own_date(zone: str, first: datetime, steps: list[int]) -> None:
    """The dates ingest partitions by (``local_dates``, offsets per quarter hour) are every row's own."""
    start = int(first.timestamp() * 1000)
    times = pa.array([start + s for s in steps], pa.timestamp("ms", tz="UTC"))
    local = pc.local_timestamp(times.cast(pa.timestamp("ms", tz=zone)))
    assert local_dates(times, zone).to_pylist() == pc.cast(local, pa.date32()).to_pylist()


def test_lock_is_reentrant_for_one_run_only(ws: Workspace) -> None:
    other = Workspace(ws.root)
    with ws.lock(), ws.lock():  # the batch holds it while ingest and detect take it again
        with pytest.raises(WorkspaceError, match="in use"), other.lock():
            pass
        with ws.lock():
            pass
        with pytest.raises(WorkspaceError, match="in use"), other.lock():  # still held: only the outermost releases
            pass
    with other.lock():  # released
        pass
    other.close()
