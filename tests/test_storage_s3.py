"""Events kept in an S3 bucket (``[storage] events = "s3://..."``), against moto's S3 server on loopback.

What S3 does that a folder does not: no rename, no folders, and s3fs keeps
listings, so a listing must be asked for afresh to see what a Dask worker or
another run wrote. The workers of the cluster here reach the bucket through
the environment alone (``FSSPEC_S3_ENDPOINT_URL``, ``AWS_*``), as a site's would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from test_storage_url import _at, _blind_to_folders, _events, _listing

from filterlog import cluster
from filterlog import findings as store
from filterlog.ingest import ingest
from filterlog.purge import purge
from filterlog.rules import detect
from filterlog.storage import listing
from filterlog.workspace import Workspace

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

BUCKET = "school-filter-logs"


@pytest.fixture(scope="module")
def s3() -> Iterator[s3fs.S3FileSystem]:
    """moto's S3 on a free loopback port, named in the environment for this process and the workers it starts."""
    import fsspec

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "FSSPEC_S3_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    fsspec.config.conf.setdefault("s3", {})["endpoint_url"] = env["FSSPEC_S3_ENDPOINT_URL"]
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        fs = s3fs.S3FileSystem()
        fs.mkdir(BUCKET)
        yield fs
    finally:
        fsspec.config.conf.get("s3", {}).pop("endpoint_url", None)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


def test_a_bucket_holds_the_events_and_detect_finds_what_it_finds_in_a_folder(demo_day, s3, tmp_path: Path) -> None:
    folder = Workspace(demo_day.workspace)
    url = f"s3://{BUCKET}/{uuid4().hex}"
    ws = _at(tmp_path / "ws", url, folder.config_path.read_text(encoding="utf-8"))
    ingest(ws, [demo_day.day.log])
    kept = _listing(url)
    assert kept and all(p.startswith(("/events/date=", "/quarantine/")) for p in kept)
    assert not [p for p in ws.root.rglob("*.parquet") if "findings" not in p.parts]
    with ws.lock():
        detect(ws, buckets=3)  # the spill stays in the workspace folder, on this machine's disk
    assert store.read(ws).equals(store.read(folder))

    (day,) = ws.event_dates()
    result = purge(ws, 1, today=day.replace(year=day.year + 1))
    assert sum(r.rows for r in result.of("events")) == folder.manifest()[0].events
    assert _listing(url) == [] and ws.event_dates() == []


def test_a_listing_sees_what_another_process_wrote_since(s3, tmp_path: Path) -> None:
    """s3fs keeps listings per instance: parts a worker wrote must not stay unseen by the client."""
    url = f"s3://{BUCKET}/{uuid4().hex}"
    ws = _at(tmp_path / "ws", url)
    assert ws.event_dates() == [] and listing(url) == []
    other = s3fs.S3FileSystem(skip_instance_cache=True)  # another process: its own connection and listings
    events = f"{url.removeprefix('s3://')}/events"
    other.pipe(f"{events}/date=2026-11-18/abc-00000.parquet", b"x")
    assert [d.isoformat() for d in ws.event_dates()] == ["2026-11-18"]
    first = ws.storage.parts(ws.event_dates()[0])
    other.pipe(f"{events}/date=2026-11-18/abc-00001.parquet", b"x")
    other.pipe(f"{events}/date=2026-11-19/abc-00002.parquet", b"x")
    assert [d.isoformat() for d in ws.event_dates()] == ["2026-11-18", "2026-11-19"]
    later = ws.storage.parts(ws.event_dates()[0])
    assert [p.rsplit("/", 1)[1] for p in later] == ["abc-00000.parquet", "abc-00001.parquet"] and len(first) == 1
    assert ws.event_files(ws.event_dates()[0]) == []  # no such ingest in the manifest: never read


@pytest.fixture(scope="module")
def client(s3) -> Iterator[object]:
    """``local:2``, started once the environment names the bucket's endpoint."""
    pytest.importorskip("distributed")
    with cluster.connect(cluster.parse("local:2")) as c:
        yield c


def test_workers_with_only_the_bucket_ingest_and_detect(demo_day, s3, client, tmp_path: Path) -> None:
    """Workers that see the logs and the bucket, not the workspace: the same events and findings."""
    folder = Workspace(demo_day.workspace)
    url = f"s3://{BUCKET}/{uuid4().hex}"
    ws = _at(tmp_path / "ws", url, folder.config_path.read_text(encoding="utf-8"))
    client.run(_blind_to_folders)
    try:
        report = ingest(ws, [demo_day.day.log], client=client)
        assert not report.failed, report.failed
        with ws.lock():
            detect(ws, client=client, buckets=3)
    finally:
        client.run(_blind_to_folders, undo=True)
    assert _events(ws).drop_columns(["source_id"]).equals(_events(folder).drop_columns(["source_id"]))
    assert store.read(ws).num_rows > 0 and store.read(ws).equals(store.read(folder))
    assert not [p for p in _listing(url) if ".detect-" in p or ".probe-" in p]


def test_a_bucket_that_does_not_exist_ends_the_run_in_one_line(s3, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from filterlog.cli import cli

    log = Path(__file__).resolve().parents[1] / "samples" / "squid-native.log"
    ws = _at(tmp_path / "ws", "s3://no-such-bucket/school")
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "ingest", str(log)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {log}: not ingested: s3://no-such-bucket/school: cannot write events there: not found (is the"
        " bucket's name right?). The files before it are stored, those after it are not; run ingest again once"
        " it works: it goes on from this file."
    )
    assert ws.manifest() == [] and ws.manifest("pending") == [] and "no-such-bucket" not in s3.ls("")
