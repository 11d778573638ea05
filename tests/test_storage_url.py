"""Events kept at an fsspec URL (``[storage] events``): the same events, findings and reports as in the folder.

In-process tests use fsspec's ``memory://`` filesystem (one per process, so
each test takes a folder of its own in it); the cluster tests use a ``file://``
URL, which the worker processes of ``local:2`` reach as a bucket would be reached.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import fsspec
import pyarrow as pa
import pytest
from click.testing import CliRunner

from filterlog import cluster
from filterlog import findings as store
from filterlog.cli import cli
from filterlog.config import Config
from filterlog.errors import ConfigError, FilterlogError
from filterlog.ingest import ingest
from filterlog.purge import purge
from filterlog.rules import buckets, detect
from filterlog.schema import EVENT_NAMES
from filterlog.workspace import Workspace

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture
def url() -> Iterator[str]:
    """A folder of its own in this process's memory filesystem, emptied afterwards."""
    where = f"memory://filterlog-{uuid4().hex}"
    yield where
    fs = fsspec.filesystem("memory")
    if fs.exists(where[len("memory://") :]):
        fs.rm(where[len("memory://") :], recursive=True)


def _at(root: Path, url: str, config: str | None = None) -> Workspace:
    """A workspace (with ``config``'s text, else the defaults) whose events are kept at ``url``."""
    ws = Workspace(root).create()
    text = config if config is not None else ws.config_path.read_text(encoding="utf-8")
    assert 'events = ""' in text
    ws.config_path.write_text(text.replace('events = ""', f"events = {json.dumps(url)}", 1), encoding="utf-8")
    return Workspace(root)


def _events(ws: Workspace) -> pa.Table:
    """Every event of the workspace, read through the workspace (whatever keeps them), in a stable order, as text."""
    days = [ws.read_events(d) for d in ws.event_dates()]
    table = pa.concat_tables(days).select(list(EVENT_NAMES))
    plain = pa.table({f.name: table[f.name].cast(pa.string()) if pa.types.is_dictionary(f.type) else table[f.name]
                      for f in table.schema})  # fmt: skip
    return plain.sort_by([("source_id", "ascending"), ("source_line", "ascending")])


def _local_files(ws: Workspace) -> list[Path]:
    return [p for p in ws.root.rglob("*.parquet") if "findings" not in p.parts]


def _listing(url: str) -> list[str]:
    """Every file under ``url``, as paths below it, listed afresh (s3fs keeps listings)."""
    fs, inner = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return sorted(p[len(inner) :] for p in fs.find(inner))


def test_events_at_a_url_give_the_findings_and_reports_of_the_folder(demo_day, url, tmp_path: Path) -> None:
    folder = Workspace(demo_day.workspace)
    ws = _at(tmp_path / "ws", url, folder.config_path.read_text(encoding="utf-8"))
    report = ingest(ws, [demo_day.day.log])
    assert not report.failed and report.total("events") == folder.manifest()[0].events
    assert _local_files(ws) == []  # nothing of the events or quarantine in the workspace folder
    kept = _listing(url)
    assert kept and all(re.fullmatch(r"/(events/date=[\d-]+/\w+-\d{5}|quarantine/\w+)\.parquet", p) for p in kept)
    assert ws.event_dates() == folder.event_dates()
    assert _events(ws).drop_columns(["source_id"]).equals(_events(folder).drop_columns(["source_id"]))

    with ws.lock():
        detect(ws)
    assert store.read(ws).equals(store.read(folder))

    user = store.read(folder).column("user").to_pylist()[0]  # the evidence and the audit read the events too
    for args in (["review", "--out", str(tmp_path / "review")], ["audit", user, "--out", str(tmp_path / "audit")]):
        result = CliRunner().invoke(cli, ["--workspace", str(ws.root), *args])
        assert result.exit_code == 0, result.output
    (pack,) = (tmp_path / "audit").iterdir()
    audited = (pack / "events.csv").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["--workspace", str(folder.root), "audit", user, "--out", str(tmp_path / "a2")])
    assert result.exit_code == 0, result.output
    (same,) = (tmp_path / "a2").iterdir()
    assert audited == (same / "events.csv").read_text(encoding="utf-8") and audited.count("\n") > 10


def test_parts_of_an_unfinished_ingest_at_a_url_are_not_read_and_recovery_removes_them(url, tmp_path: Path) -> None:
    ws = _at(tmp_path / "ws", url)
    ingest(ws, [SAMPLES / "squid-native.log"])
    (day,) = ws.event_dates()
    before, committed = _events(ws), ws.event_files(day)
    row = {"path": str(tmp_path / "killed.log"), "size": 1, "sha256": "f" * 64, "compression": None,
           "format": "squid", "head_sha256": "e" * 64, "first_line": 1, "end_line": 0, "content_bytes": 0}  # fmt: skip
    killed = ws.begin(row)  # a run killed after writing its parts, before its commit
    killed.write_events(day.isoformat(), 0, ws.read_events(day))
    aborted = ws.begin({**row, "sha256": "d" * 64})  # a worker still writing after its ingest was aborted
    aborted.abort()
    aborted.write_events(day.isoformat(), 7, ws.read_events(day))
    assert len(ws.storage.parts(day)) == len(committed) + 2  # at a URL, parts are written in place

    reader = Workspace(ws.root)  # another process, taking no lock
    assert reader.event_files(day) == committed
    assert _events(reader).equals(before)
    with reader.lock():  # the next run recovers: the killed ingest's parts go with its row
        pass
    assert reader.manifest("pending") == []
    assert len(reader.storage.parts(day)) == len(committed) + 1  # the aborted one's stray stays, unread
    assert _events(reader).equals(before)


def test_replace_and_purge_delete_at_the_url(url, tmp_path: Path) -> None:
    ws = _at(tmp_path / "ws", url)
    log = tmp_path / "access.log"
    log.write_bytes((SAMPLES / "squid-native.log").read_bytes() + b"not a squid line\n")
    ingest(ws, [log])
    events = _events(ws)
    first = _listing(url)
    assert any(p.startswith("/quarantine/") for p in first)
    (result,) = ingest(ws, [log], replace=True).files
    assert result.status == "ingested", result.message
    assert _events(ws).drop_columns(["source_id"]).equals(events.drop_columns(["source_id"]))
    assert len(_listing(url)) == len(first) and set(_listing(url)).isdisjoint(first)  # the old ingest's are gone

    (day,) = ws.event_dates()
    purged = purge(ws, 1, dry_run=True, today=day + timedelta(days=30))
    assert {r.kind for r in purged.removals} == {"events", "quarantine"} and _listing(url) != []
    assert sum(r.rows for r in purged.of("events")) == events.num_rows
    purged = purge(ws, 1, today=day + timedelta(days=30))
    assert _listing(url) == [] and ws.event_dates() == []
    assert any("quarantined lines of 1 ingest" in line for line in purged.describe())


def test_storage_must_be_a_url() -> None:
    assert Config.from_dict({"storage": {"events": "s3://bucket/school"}}).storage.events == "s3://bucket/school"
    with pytest.raises(ConfigError, match=r"\[storage\] events must be a URL such as s3://bucket/school"):
        Config.from_dict({"storage": {"events": "/mnt/share/events"}})


def test_a_url_no_filesystem_opens_is_one_line(tmp_path: Path) -> None:
    ws = _at(tmp_path / "ws", "nosuchfs://bucket/school")
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "ingest", str(SAMPLES / "squid-native.log")])
    assert result.exit_code == 1
    assert "nosuchfs://bucket/school" in result.output and "Traceback" not in result.output


# on a cluster -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """Two single-threaded worker processes, as ``--scheduler local:2`` starts them."""
    pytest.importorskip("distributed")
    with cluster.connect(cluster.parse("local:2")) as c:
        yield c


def test_a_cluster_writes_and_reads_the_events_at_the_url(demo_day, client, tmp_path: Path) -> None:
    """Workers write the parts and read them back for detect at a URL (``file://``: another process's view)."""
    folder = Workspace(demo_day.workspace)
    url = f"file://{tmp_path}/bucket/school"
    ws = _at(tmp_path / "ws", url, folder.config_path.read_text(encoding="utf-8"))
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(demo_day.day.log, logs / "a.log")
    shutil.copy(SAMPLES / "squid-native.log", logs / "b.log")
    report = ingest(ws, [logs / "a.log", logs / "b.log"], client=client)
    assert not report.failed
    assert _local_files(ws) == [] and (tmp_path / "bucket" / "school" / "events").is_dir()
    alone = Workspace(tmp_path / "alone").create()
    alone.config_path.write_text(folder.config_path.read_text(encoding="utf-8"), encoding="utf-8")
    ingest(alone, [logs / "a.log", logs / "b.log"])
    assert _events(ws).equals(_events(alone))

    with ws.lock():
        detect(ws, client=client, buckets=3)
    with alone.lock():
        detect(alone)
    assert store.read(ws).num_rows > 0 and store.read(ws).equals(store.read(alone))


def test_a_worker_that_cannot_reach_the_url_is_named(client, monkeypatch, tmp_path: Path) -> None:
    address = sorted(client.scheduler_info()["workers"])[0]

    def sees(probe: str, files: list[str], dask_worker=None) -> tuple[str | None, str | None]:
        return (None, None) if dask_worker.address == address else cluster._sees(probe, files)

    monkeypatch.setattr(cluster, "_sees", sees)
    with pytest.raises(FilterlogError, match=f"worker {re.escape(address)} cannot read the events' storage"):
        cluster.require_shared(client, f"file://{tmp_path}")
    assert list(tmp_path.iterdir()) == []  # the probe is gone


def _blind_to_folders(undo: bool = False) -> None:
    """On a worker: see no local folder (as on a machine without the workspace's share), nor load a workspace."""
    from filterlog import cluster as c
    from filterlog.rules import engine as e

    if undo:
        c._sees, e._worker_state = c._real_sees, e._real_state  # type: ignore[attr-defined]
        return
    c._real_sees, e._real_state = c._sees, e._worker_state  # type: ignore[attr-defined]

    def sees(probe: str, files: list[str]) -> tuple[str | None, str | None]:
        return c._real_sees(probe, files) if "://" in probe else (None, None)  # type: ignore[attr-defined]

    def state(root: str, stamp: tuple[int, ...]) -> None:
        raise AssertionError(f"a worker that does not see the workspace loaded it from {root}")

    c._sees, e._worker_state = sees, state


def test_workers_that_see_only_the_url_are_sent_the_lists_and_spill_there(
    demo_day, client, monkeypatch, tmp_path: Path
) -> None:
    """A running cluster's machines with the bucket but not the workspace's disk: detect still gives the findings."""
    folder = Workspace(demo_day.workspace)
    url = f"file://{tmp_path}/bucket/school"
    ws = _at(tmp_path / "ws", url, folder.config_path.read_text(encoding="utf-8"))
    ingest(ws, [demo_day.day.log])
    scratches = []
    real = buckets.scratch

    def scratch(where):
        scratches.append(where)
        return real(where)

    monkeypatch.setattr(buckets, "scratch", scratch)
    client.run(_blind_to_folders)
    try:
        with ws.lock():
            detect(ws, client=client, buckets=3)
        with pytest.raises(FilterlogError, match="does not see the workspace"):  # its events in the folder
            detect(Workspace(tmp_path / "other").create(), client=client)
    finally:
        client.run(_blind_to_folders, undo=True)
    assert scratches == [url]
    assert store.read(ws).num_rows > 0 and store.read(ws).equals(store.read(folder))
    assert not [p for p in _listing(url) if ".detect-" in p]  # the spill is gone from the bucket


class _Unreachable(fsspec.AbstractFileSystem):
    """A filesystem whose every call fails with its own exception type, as botocore's do (not OSError)."""

    protocol = "unreachable"

    class DownError(Exception):
        pass

    def ls(self, path, detail=True, **kwargs):
        raise self.DownError("Could not connect to the endpoint URL")

    def _open(self, path, mode="rb", **kwargs):
        raise self.DownError("Could not connect to the endpoint URL")


@pytest.mark.parametrize("command", ["ingest", "detect"])
def test_a_url_that_fails_with_its_own_errors_is_one_line(tmp_path: Path, command: str) -> None:
    fsspec.register_implementation("unreachable", _Unreachable, clobber=True)
    ws = _at(tmp_path / "ws", "unreachable://bucket/school")
    args = [command, str(SAMPLES / "squid-native.log")] if command == "ingest" else [command]
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), *args])
    assert result.exit_code == 1, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: unreachable://bucket/school") and "Could not connect" in line, line


def test_a_killed_runs_spill_and_probes_are_removed_by_the_next_run(url, tmp_path: Path) -> None:
    """Workers that did not see the workspace spilled at the URL: personal data, swept by the next lock."""
    ws = _at(tmp_path / "ws", url)
    fs, inner = fsspec.core.url_to_fs(url)
    fs.pipe(f"{inner}/.detect-0123abcd/2026-11-18/bucket-0000-000-00000.arrows", b"spilled rows")
    fs.pipe(f"{inner}/.probe-0123abcd", b"a killed run's check of its workers")
    (ws.root / ".probe-4567ef").write_text("the same, in the workspace folder")
    fs.pipe(f"{inner}/events/date=2026-11-18/keep-00000.parquet", b"not a spill")
    with ws.lock():
        pass
    assert _listing(url) == ["/events/date=2026-11-18/keep-00000.parquet"]
    assert not list(ws.root.glob(".probe-*"))


def test_a_setting_that_points_away_from_the_events_is_refused_until_they_are_copied(url, tmp_path: Path) -> None:
    """Else the workspace would stop seeing its events, skip their logs as read, and drop their dates' findings."""
    ws = Workspace(tmp_path / "ws").create()
    log = SAMPLES / "squid-native.log"
    run = CliRunner()
    assert run.invoke(cli, ["--workspace", str(ws.root), "ingest", str(log)]).exit_code == 0
    events = _events(ws)
    defaults = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(defaults.replace('events = ""', f"events = {json.dumps(url)}", 1), encoding="utf-8")
    for args in (["ingest", str(log)], ["detect"]):
        result = run.invoke(cli, ["--workspace", str(ws.root), *args])
        assert result.exit_code == 1
        assert result.output.strip() == (
            f"Error: {ws.config_path}: [storage] events is {url}, but the events are at {ws.root.absolute()}: copy"
            " events/ and quarantine/ from there first (filterlog follows them once they are there), or set it back"
        )
    fs, inner = fsspec.core.url_to_fs(url)
    fs.put(str(ws.root / "events"), f"{inner}/events", recursive=True)  # the school moves them
    result = run.invoke(cli, ["--workspace", str(ws.root), "ingest", str(log)])
    assert result.exit_code == 0, result.output
    assert "0 files ingested, 1 skipped" in result.output  # the same log: still known, its events found
    moved = Workspace(ws.root)
    assert moved.storage.remote and _events(moved).equals(events)
    ws.config_path.write_text(defaults, encoding="utf-8")  # and back: the folder still holds them too
    result = run.invoke(cli, ["--workspace", str(ws.root), "detect"])
    assert result.exit_code == 0, result.output


def test_a_setting_moved_away_from_a_url_that_is_gone_is_followed(tmp_path: Path) -> None:
    fsspec.register_implementation("unreachable", _Unreachable, clobber=True)
    ws = Workspace(tmp_path / "ws").create()
    ws.db.execute("INSERT OR REPLACE INTO meta VALUES ('events_at', 'unreachable://bucket/school')")
    with ws.lock():  # the folder again: the old URL cannot be asked, and is not waited for
        pass
    assert ws.db.execute("SELECT value FROM meta WHERE key = 'events_at'").fetchone()[0] == ""
