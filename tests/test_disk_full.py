"""A full disk (or quota) stops a command with one line that says so, and leaves nothing half-written.

A day too big for memory is set aside on disk before it is judged (about
105 bytes an event), so detect can need gigabytes free where ingest needed
less; ingest's events files grow with the logs. Either may meet a full disk
mid-run: that is the machine's state, not a bad file or a bug to report.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from helpers import SAMPLES
from workspace_logs import NATIVE

from filterlog.cli import cli
from filterlog.errors import WorkspaceError, out_of_space
from filterlog.ingest import ingest
from filterlog.parts import PartWriter
from filterlog.rules import buckets, detect, engine
from filterlog.rules import day as dayread
from filterlog.workspace import Workspace

FULL = OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")


def _full(*_: object, **__: object) -> None:
    """A write on a full disk, as pyarrow reports it."""
    raise FULL


def test_a_full_disk_or_quota_is_told_from_other_errors() -> None:
    assert out_of_space(FULL) == "No space left on device"
    assert out_of_space(OSError(errno.EDQUOT, "quota")) == "Disk quota exceeded"
    assert out_of_space(OSError(errno.EACCES, "denied")) is None
    assert out_of_space(ValueError("no room")) is None
    sqlite_full = sqlite3.OperationalError("database or disk is full")
    sqlite_full.sqlite_errorcode = sqlite3.SQLITE_FULL
    assert out_of_space(sqlite_full) == "database or disk is full"
    assert out_of_space(sqlite3.OperationalError("database is locked")) is None


def _fill_up_after_first_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events of the first file written get written; any other file's find the disk full."""
    first: list[str] = []
    real = PartWriter.write_events

    def write_events(self: PartWriter, day: str, block: int, events: pa.Table) -> None:
        if not first:
            first.append(self.ingest_id)
        if self.ingest_id != first[0]:
            raise FULL
        real(self, day, block, events)

    monkeypatch.setattr(PartWriter, "write_events", write_events)


def test_ingest_stops_at_a_full_disk_and_goes_on_from_there_once_there_is_room(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second, third = tmp_path / "second.log", tmp_path / "third.log"
    second.write_bytes((SAMPLES / "squid-common.log").read_bytes())
    third.write_bytes((SAMPLES / "squid-combined.log").read_bytes())
    _fill_up_after_first_file(monkeypatch)
    with pytest.raises(WorkspaceError, match=r"second\.log: not ingested: No space left on device in the workspace"):
        ingest(ws, [NATIVE, second, third])
    assert [Path(r.path).name for r in ws.manifest()] == [NATIVE.name]  # the first is kept, the rest are not
    assert not ws.manifest("pending") and not list(ws.root.rglob("*.tmp"))
    monkeypatch.undo()
    report = ingest(ws, [NATIVE, second, third])
    assert [f.status for f in report.files] == ["unchanged", "ingested", "ingested"]


def test_the_command_says_it_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill_up_after_first_file(monkeypatch)
    other = tmp_path / "other.log"
    other.write_bytes((SAMPLES / "squid-common.log").read_bytes())
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "ingest", str(NATIVE), str(other)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        f"Error: {other}: not ingested: No space left on device in the workspace; the files before it are"
        " stored, those after it are not. Make room and run ingest again: it goes on from this file."
    )
    assert "Traceback" not in result.output


def _ingested(root: Path) -> Workspace:
    ws = Workspace(root).create()
    assert not ingest(ws, [SAMPLES / "squid-native.log", SAMPLES / "squid-common.log"]).failed
    return ws


def test_detect_that_cannot_set_a_day_aside_says_how_much_room_it_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _ingested(tmp_path / "ws")
    before = {p.name: p.read_bytes() for p in ws.root.glob("findings/**/*") if p.is_file()}
    monkeypatch.setattr(buckets, "_write_piece", _full)
    with ws.lock(), pytest.raises(WorkspaceError) as failed:
        detect(ws, buckets=2)
    (day,) = ws.event_dates()
    rows = dayread.source(ws, day, engine.MARGIN).rows
    assert str(failed.value) == (
        f"{day}: No space left on device in the workspace while setting the day's {rows:,} events aside to judge"
        " them in 2 buckets of people: that takes about 1 MB (105 bytes an event from a Squid log). Make room (or"
        " raise [detect] memory_gb, if the machine has the memory) and run detect again."
    )
    assert not list(ws.root.glob(".detect-*"))  # what was spilled is gone
    assert {p.name: p.read_bytes() for p in ws.root.glob("findings/**/*") if p.is_file()} == before


def test_detect_command_in_buckets_on_a_full_disk_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ingested(tmp_path / "ws").close()
    monkeypatch.setattr(buckets, "buckets_for", lambda rows, at_once=None: 2)
    monkeypatch.setattr(buckets, "_write_piece", _full)
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "detect"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "No space left on device in the workspace while setting the day's" in result.output
    assert "Traceback" not in result.output


def test_any_other_write_on_a_full_disk_is_one_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Findings, reports, the database: wherever the disk fills, the command names the file if it knows it."""
    from filterlog import findings

    _ingested(tmp_path / "ws").close()
    gone = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "ws" / "findings" / "x.parquet"))

    def write_day(*_: object, **__: object) -> None:
        raise gone

    monkeypatch.setattr(findings, "write_day", write_day)
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "detect"])
    assert result.exit_code == 1
    where = tmp_path / "ws" / "findings" / "x.parquet"
    assert result.output.strip() == f"Error: {where}: No space left on device: make room and run the command again"


def test_other_os_errors_are_not_taken_for_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filterlog import findings

    _ingested(tmp_path / "ws").close()

    def write_day(*_: object, **__: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(findings, "write_day", write_day)
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "detect"])
    assert result.exit_code == 1 and isinstance(result.exception, OSError) and result.exception.errno == errno.EIO
