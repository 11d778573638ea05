"""The workspace: idempotent and incremental ingest, duplicates, grown and rotated files, the manifest."""

from __future__ import annotations

import gzip
import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import SAMPLES, assert_accounted, event_rows, events_table, load_expected, quarantine_rows
from workspace_logs import NATIVE, native_lines, squid_line

from filterlog.ingest import ingest
from filterlog.workspace import Workspace


def test_reingest_same_file_adds_nothing(ws: Workspace) -> None:
    first = ingest(ws, [NATIVE])
    assert [f.status for f in first.files] == ["ingested"]
    before = events_table(ws).num_rows
    again = ingest(ws, [NATIVE])
    (result,) = again.files
    assert result.status == "unchanged"
    assert result.events == 0 and result.lines == 0
    assert "already ingested" in result.message and str(NATIVE) in result.message
    assert events_table(ws).num_rows == before == 20
    assert len(ws.manifest()) == 1
    assert "0 files ingested, 1 skipped, 0 failed" in again.summary()


def test_same_content_under_another_name_is_not_ingested_twice(ws: Workspace, tmp_path: Path) -> None:
    copy = tmp_path / "access.log.renamed"
    copy.write_bytes(NATIVE.read_bytes())
    ingest(ws, [NATIVE])
    (result,) = ingest(ws, [copy]).files
    assert result.status == "unchanged"
    assert events_table(ws).num_rows == 20


def test_files_hashed_ahead_are_decided_in_order(ws: Workspace, tmp_path: Path) -> None:
    """The next file is hashed while one is read; a copy is still judged after the file before it is in."""
    copy = tmp_path / "copy.log"
    copy.write_bytes(NATIVE.read_bytes())
    other = tmp_path / "other.log"
    other.write_bytes(squid_line(datetime(2026, 11, 18, 9, 0, tzinfo=UTC)))
    again = tmp_path / "again.log"
    again.write_bytes(other.read_bytes())
    report = ingest(ws, [NATIVE, copy, other, again])
    assert [f.status for f in report.files] == ["ingested", "unchanged", "ingested", "unchanged"]
    assert events_table(ws).num_rows == 21
    assert_accounted(ws)


def _slow_hash(monkeypatch, fail: bool = False) -> list[Path]:
    """Make every file's hash take a while (or then fail), as a large file's does; return the files hashed."""
    from filterlog.ingest import pipeline

    real, seen = pipeline.hash_file, []

    def slow(path: Path, size: int | None = None):
        time.sleep(0.3)
        seen.append(path)
        if fail:
            raise OSError(5, "Input/output error")
        return real(path, size)

    monkeypatch.setattr(pipeline, "hash_file", slow)
    return seen


def test_a_new_file_is_read_while_it_is_hashed(ws: Workspace, monkeypatch) -> None:
    """Its events wait for the hash only to be written: every source_id and the manifest are the file's hash."""
    seen = _slow_hash(monkeypatch)
    (result,) = ingest(ws, [NATIVE]).files
    assert seen == [NATIVE] and result.status == "ingested" and result.events == 20
    sha = hashlib.sha256(NATIVE.read_bytes()).hexdigest()
    (row,) = ws.manifest()
    assert (row.sha256, row.content_sha256) == (sha, sha)
    assert {r["source_id"] for r in event_rows(ws)} == {sha}
    (again,) = ingest(ws, [NATIVE]).files  # its first line is known now: this one waits, and is skipped
    assert again.status == "unchanged"
    assert_accounted(ws)


def test_blocks_parsed_before_the_hash_are_written_with_it(ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    """A file of many blocks, parsed while it is still hashed: every block is written once the hash is in."""
    _slow_hash(monkeypatch)
    ws.create()
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(
        config.replace("block_mb = 16", "block_mb = 1").replace("file_rows = 200000", "file_rows = 1")
    )
    start = datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp()
    log = tmp_path / "big.log"
    log.write_bytes(
        b"".join(squid_line(datetime.fromtimestamp(start + i, UTC), f"http://h{i}.example/") for i in range(60_000))
    )
    (result,) = ingest(ws, [log]).files
    assert (result.status, result.lines, result.events) == ("ingested", 60_000, 60_000)
    sha = hashlib.sha256(log.read_bytes()).hexdigest()
    rows = events_table(ws)
    assert rows.num_rows == 60_000 and set(rows.column("source_id").to_pylist()) == {sha}
    assert sorted(rows.column("source_line").to_pylist()) == list(range(1, 60_001))
    assert len(list(ws.events_dir.rglob("*.parquet"))) > 4  # several blocks, more than were held at once
    assert_accounted(ws)


def test_a_file_that_cannot_be_hashed_while_read_leaves_nothing(ws: Workspace, monkeypatch) -> None:
    _slow_hash(monkeypatch, fail=True)
    (result,) = ingest(ws, [NATIVE]).files
    assert result.status == "failed" and "Input/output error" in result.message
    assert ws.manifest() == [] and ws.manifest("pending") == []
    assert not list(ws.events_dir.rglob("*.parquet*"))


def test_grown_file_ingests_only_new_lines(ws: Workspace, tmp_path: Path) -> None:
    lines = native_lines()
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(lines[:8]))
    ingest(ws, [log])
    log.write_bytes(b"".join(lines[:13]))
    (second,) = ingest(ws, [log]).files
    assert second.status == "appended"
    assert (second.lines, second.events) == (5, 5)
    log.write_bytes(b"".join(lines))
    (third,) = ingest(ws, [log]).files
    assert (third.status, third.lines, third.events) == ("appended", 7, 7)

    rows = ws.manifest()
    assert [(r.first_line, r.end_line) for r in rows] == [(1, 8), (9, 13), (14, 20)]
    assert sum(r.lines_read for r in rows) == sum(r.events for r in rows) == 20
    got = event_rows(ws)
    assert sorted(r["source_line"] for r in got) == list(range(1, 21))
    # each part is its own source_id (the file's hash at that moment), all mapped in the manifest
    assert {r["source_id"] for r in got} == {r.sha256 for r in rows}
    # the appended lines are the right lines: line 20 is the https request
    last = max(got, key=lambda r: r["time"])
    assert last["url"] == "https://cdn.example.com/static/app.js?v=3"
    assert_accounted(ws)


def test_unchanged_grown_file_says_no_new_lines(ws: Workspace, tmp_path: Path) -> None:
    lines = native_lines()
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(lines[:5]))
    ingest(ws, [log])
    log.write_bytes(b"".join(lines[:9]))
    ingest(ws, [log])
    log.write_bytes(b"".join(lines[:9]))
    (again,) = ingest(ws, [log]).files
    assert again.status == "unchanged"
    assert events_table(ws).num_rows == 9


def test_plain_then_rotated_and_gzipped_with_more_lines(ws: Workspace, tmp_path: Path) -> None:
    lines = native_lines()
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(lines[:12]))
    ingest(ws, [log])
    # logrotate: more lines were written, then the file was compressed to access.log.1.gz
    rotated = tmp_path / "access.log.1.gz"
    rotated.write_bytes(gzip.compress(b"".join(lines)))
    log.unlink()
    (result,) = ingest(ws, [rotated]).files
    assert result.status == "appended"
    assert (result.lines, result.events) == (8, 8)
    rows = ws.manifest()
    assert rows[-1].compression == "gzip"
    assert (rows[-1].first_line, rows[-1].end_line) == (13, 20)
    assert sorted(r["source_line"] for r in event_rows(ws)) == list(range(1, 21))
    assert_accounted(ws)


def test_log_caught_mid_write_then_grown(ws: Workspace, tmp_path: Path) -> None:
    """A half-written last line is not quarantined as garbage; it is read once it is complete."""
    lines = native_lines()
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(lines[:3]) + lines[3][:40])  # line 4 half written
    (first,) = ingest(ws, [log]).files
    assert (first.events, first.quarantined) == (3, 0)
    assert "4" in first.message  # says which line was left for the next run
    log.write_bytes(b"".join(lines[:5]))
    ingest(ws, [log])
    events = [r["source_line"] for r in event_rows(ws)]
    quarantined = [r["source_line"] for r in quarantine_rows(ws)]
    assert sorted(events + quarantined) == [1, 2, 3, 4, 5]
    assert quarantined == []
    assert sum(r.lines_read for r in ws.manifest()) == 5
    assert_accounted(ws)


@pytest.mark.parametrize(
    ("sample", "line", "cut"),
    [("squid-native-useragent.log", 3, 30), ("squid-native.log", 2, 2), ("squid-native.log", 1, 2)],
)
def test_line_cut_where_it_still_parses_is_stored_complete(
    ws: Workspace, tmp_path: Path, sample: str, line: int, cut: int
) -> None:
    lines = (SAMPLES / sample).read_bytes().splitlines(keepends=True)
    log = tmp_path / "access.log"
    log.write_bytes(b"".join(lines[: line - 1]) + lines[line - 1][: -1 - cut])  # Squid is mid-write
    ingest(ws, [log])
    log.write_bytes(b"".join(lines[: line + 1]))
    ingest(ws, [log])
    rows = event_rows(ws)
    assert sorted(r["source_line"] for r in rows) == list(range(1, line + 2)), "a line was stored twice"
    got = {r["source_line"]: r for r in rows}
    want = {r["source_line"]: r for r in load_expected(SAMPLES / sample)}
    for name in ("content_type", "referer", "user_agent"):
        assert got[line][name] == want[line][name], name


def test_manifest_row_describes_the_file(ws: Workspace, tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    garbage = b"this is not a squid line\n"
    log.write_bytes(b"".join(native_lines()[:4]) + garbage + b"\n" + native_lines()[4])
    ingest(ws, [log])
    (row,) = ws.manifest()
    assert row.path == str(log)
    assert row.size == log.stat().st_size
    assert row.sha256 == hashlib.sha256(log.read_bytes()).hexdigest()
    assert row.format == "squid"
    assert row.compression is None
    assert (row.lines_read, row.events, row.quarantined, row.skipped) == (7, 5, 1, 1)
    assert row.state == "done"
    assert (row.first_line, row.end_line) == (1, 7)

    def parse(text: str | None) -> datetime:
        assert text is not None
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    assert parse(row.time_min) == datetime(2026, 11, 18, 9, 15, 2, 123000, tzinfo=UTC)
    assert parse(row.time_max) == datetime(2026, 11, 18, 9, 15, 8, tzinfo=UTC)
    datetime.fromisoformat(row.ingested_at)
    assert_accounted(ws)


def test_manifest_for_each_sample_format(ws: Workspace) -> None:
    logs = sorted(SAMPLES.glob("*.log"))
    report = ingest(ws, logs)
    assert not report.failed
    formats = {Path(r.path).name: r.format for r in ws.manifest()}
    assert formats == {log.name: load_expected(log)[0]["source_format"] for log in logs}
    assert formats["squid-native.log"] == "squid"
    assert_accounted(ws)
