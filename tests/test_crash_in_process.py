"""Crash safety within one process: a kill simulated mid-way through forgetting or committing an ingest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from crash_checks import GARBAGE, all_events, all_quarantine, assert_same
from helpers import SAMPLES, DiesBeforeMarkingDone

from filterlog.ingest import ingest
from filterlog.workspace import Workspace

# --- forgetting a file (ingest --replace) ------------------------------------------------------


def test_replace_killed_while_forgetting_leaves_the_file_to_be_read_again(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between deleting an ingest's files must not leave its manifest row claiming it is done."""
    log = tmp_path / "access.log"
    log.write_bytes((SAMPLES / "squid-native.log").read_bytes() + b"".join(GARBAGE))
    ingest(ws, [log])
    events, quarantine = all_events(ws), all_quarantine(ws)
    assert events.num_rows and quarantine.num_rows
    real, deleted = os.unlink, []

    def dies_on_the_second(path: str) -> None:
        if path.endswith(".parquet") and path.startswith(str(ws.root)):
            deleted.append(path)
            if len(deleted) == 2:
                raise KeyboardInterrupt("killed between two deletions")
        real(path)

    monkeypatch.setattr(os, "unlink", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        ingest(ws, [log], replace=True)
    monkeypatch.undo()
    ws.close()

    again = Workspace(ws.root)
    (result,) = ingest(again, [log]).files  # not "unchanged": the half-forgotten ingest is gone
    assert result.status == "ingested", result.message
    assert_same(all_events(again), events, "events")
    assert_same(all_quarantine(again), quarantine, "quarantine")
    assert len(again.manifest()) == 1 and again.manifest("pending") == []
    again.close()


def test_readers_without_the_lock_never_see_an_uncommitted_ingest(ws: Workspace, tmp_path: Path) -> None:
    """Audit, review and summary take no lock: until recovery runs they must not read a killed ingest's parts."""
    ingest(ws, [SAMPLES / "squid-native.log"])
    (day,) = ws.event_dates()
    before = ws.read_events(day)
    row = {"path": str(tmp_path / "killed.log"), "size": 1, "sha256": "f" * 64, "compression": None,
           "format": "squid", "head_sha256": "e" * 64, "first_line": 1, "end_line": 0, "content_bytes": 0}  # fmt: skip
    writer = ws.begin(row)
    writer.write_events(day.isoformat(), 0, before)  # the same rows again: seen, they would be duplicates
    real = ws.db
    ws._db = DiesBeforeMarkingDone(real)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        writer.commit({"lines_read": before.num_rows, "events": before.num_rows})
    ws._db = real
    assert len(list((ws.events_dir / f"date={day}").glob("*.parquet"))) == 2  # renamed into place, not committed

    reader = Workspace(ws.root)  # another process, no lock taken
    assert reader.read_events(day).equals(before)
    assert len(reader.event_files(day)) == 1
    reader.close()
