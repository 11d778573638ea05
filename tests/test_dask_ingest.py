"""Ingest on a Dask cluster gives the workspace the in-process engine gives: same events, quarantine, manifest."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import assert_accounted, event_rows, quarantine_rows

from filterlog import cluster
from filterlog.ingest import IngestReport, ingest
from filterlog.workspace import Workspace

distributed = pytest.importorskip("distributed")

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two single-threaded worker processes, started as ``--scheduler local:2`` starts them (seconds, once)."""
    with cluster.connect(cluster.parse("local:2")) as c:
        yield c


def _workspace(root: Path) -> Workspace:
    """A workspace that reads in 1 MiB blocks, so a few MB make several chunks, and gathers a few into a file."""
    ws = Workspace(root).create()
    text = ws.config_path.read_text(encoding="utf-8")
    assert "block_mb = 16" in text and "file_rows = 200000" in text
    text = text.replace("block_mb = 16", "block_mb = 1", 1).replace("file_rows = 200000", "file_rows = 20000", 1)
    ws.config_path.write_text(text, encoding="utf-8")
    return ws


def _manifest(ws: Workspace) -> list[dict]:
    """Manifest rows without what differs between any two runs (ids, clock)."""
    rows = [r.__dict__.copy() for r in ws.manifest()]
    for r in rows:
        del r["ingest_id"], r["ingested_at"]
    return rows


def _logs(tmp_path: Path) -> list[Path]:
    """Samples of every kind, a gzip of a W3C log, and a 15 MB Squid log with junk lines and no final newline."""
    logs = tmp_path / "logs"
    logs.mkdir()
    picked = ["squid-native.log", "squid-common.log", "w3c-bluecoat.log", "zscaler-web-csv.log", "umbrella.log"]
    for name in picked:
        shutil.copy(SAMPLES / name, logs / name)
    (logs / "w3c-wsa.log.gz").write_bytes(gzip.compress((SAMPLES / "w3c-wsa.log").read_bytes()))
    lines = (SAMPLES / "squid-native.log").read_bytes().splitlines(keepends=True)
    body = [lines[i % len(lines)] for i in range(120_000)]  # 16 chunks of 1 MiB: tasks of 4, 3, 2, then 1
    for i in range(0, len(body), 7_001):
        body[i] = b"1700000000.000 garbage\n"  # quarantined, some in every chunk
    big = logs / "big.log"
    big.write_bytes(b"".join(body) + b"1700000000.000 half a line")  # held back: no newline, just written
    old = time.time() - 3600
    for f in logs.iterdir():
        if f != big:
            os.utime(f, (old, old))
    return sorted(logs.iterdir())


def _results(report: IngestReport) -> list[dict]:
    """Per-file results, with the time of an earlier ingest (quoted when a file is skipped) blanked."""
    return [{**f.__dict__, "message": re.sub(r"\d{4}-\d\d-\d\dT[\d:+]+", "T", f.message)} for f in report.files]


def _same(a: Workspace, b: Workspace) -> None:
    assert event_rows(a) == event_rows(b)  # every column, every row
    assert quarantine_rows(a) == quarantine_rows(b)
    assert _manifest(a) == _manifest(b)
    for ws in (a, b):
        assert_accounted(ws)
        assert not list(ws.root.glob("**/*.tmp"))
        assert not ws.manifest("pending")


def test_cluster_ingest_equals_in_process(tmp_path: Path, client: distributed.Client) -> None:
    """Chunked, whole-file (gzip, W3C, Zscaler CSV) and grown-file ingests, compared with the in-process engine."""
    logs = _logs(tmp_path)
    here, there = _workspace(tmp_path / "here"), _workspace(tmp_path / "there")
    first = ingest(here, logs)
    second = ingest(there, logs, client=client)
    assert _results(second) == _results(first)
    assert not second.failed and first.total("events") > 119_000
    assert first.total("quarantined") >= 6
    assert any("left for the next run" in f.message for f in second.files)
    for ws in (here, there):  # the big log's 16 blocks of some 8,000 events, in files of 20,000 or more
        (big,) = [r.ingest_id for r in ws.manifest() if r.path.endswith("big.log")]
        names = [f.name.split("-")[1] for f in ws.events_dir.rglob(f"{big}-*.parquet")]
        assert "00000.parquet" in names and 4 <= len(names) <= 12, names
    _same(here, there)

    big = next(p for p in logs if p.name == "big.log")  # the log grows: its held line is finished, more follow
    with open(big, "ab") as f:
        f.write(b"\n" + (SAMPLES / "squid-native.log").read_bytes() * 300)
    w3c = next(p for p in logs if p.name == "w3c-bluecoat.log")
    body = w3c.read_bytes().splitlines(keepends=True)
    with open(w3c, "ab") as f:  # data lines after the header: read with the header primed
        f.writelines(x for x in body if not x.startswith(b"#"))
    first, second = ingest(here, logs), ingest(there, logs, client=client)
    assert _results(second) == _results(first)
    assert [f.status for f in second.files if f.path in (str(big), str(w3c))] == ["appended", "appended"]
    _same(here, there)


def test_bad_file_fails_alone_on_the_cluster(tmp_path: Path, client: distributed.Client) -> None:
    """A truncated gzip fails with its one-line reason; the files around it are ingested."""
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SAMPLES / "squid-native.log", logs / "a.log")
    whole = gzip.compress((SAMPLES / "squid-native.log").read_bytes() * 2000)
    (logs / "b.log.gz").write_bytes(whole[: len(whole) // 2])
    shutil.copy(SAMPLES / "squid-common.log", logs / "c.log")
    ws = _workspace(tmp_path / "ws")
    report = ingest(ws, [logs], client=client)
    assert [f.status for f in report.files] == ["ingested", "failed", "ingested"]
    assert report.files[1].message.startswith(f"{logs / 'b.log.gz'}: compressed file is truncated")
    assert [Path(r.path).name for r in ws.manifest()] == ["a.log", "c.log"]
    assert not ws.manifest("pending") and not list(ws.root.glob("**/*.tmp"))
    assert all(f.name.split("-")[0] in {r.ingest_id for r in ws.manifest()} for f in ws.events_dir.rglob("*.parquet"))


def test_a_file_failing_on_a_worker_is_one_line_on_the_terminal(tmp_path: Path) -> None:
    """The worker's own log of the failed task (ERROR "Compute Failed", its traceback's text) stays off the terminal."""
    import subprocess
    import sys

    whole = gzip.compress((SAMPLES / "squid-native.log").read_bytes() * 2000)
    bad = tmp_path / "b.log.gz"
    bad.write_bytes(whole[: len(whole) // 2])
    command = [sys.executable, "-m", "filterlog", "--workspace", str(tmp_path / "ws"), "--scheduler", "local:2"]
    done = subprocess.run([*command, "ingest", str(bad)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {bad}: compressed file is truncated")


def test_run_with_a_local_scheduler_reports_as_in_process(tmp_path: Path) -> None:
    """``filterlog --scheduler local:2 run``: the same count line and the same summary as without it."""
    from click.testing import CliRunner

    from filterlog.cli import cli
    from filterlog.demo.generate import generate_day

    day = generate_day(tmp_path / "logs", lines=6_000, seed=3)
    out = {}
    for name, extra in (("here", []), ("there", ["--scheduler", "local:2"])):
        result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / name), *extra, "run", str(day.log)])
        assert result.exit_code == 0, result.output
        count, _, summary = result.output.strip().splitlines()
        out[name] = (count, Path(summary.removeprefix("summary: ")).read_text())
    assert out["there"] == out["here"]
    assert out["here"][0].startswith("run: 6,000 lines read, 6,000 new events") and ": 0 findings" not in out["here"][0]


def test_the_client_reads_a_plain_log_only_around_its_cuts(
    tmp_path: Path, client: distributed.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers hash a log and count its lines: one core here reading every byte would cap the whole cluster."""
    from filterlog.ingest import chunks, pipeline, source

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the client read the whole log")

    monkeypatch.setattr(source.Source, "blocks", refuse)
    monkeypatch.setattr(pipeline, "hash_file", refuse)
    read, real = [], chunks._File.read
    monkeypatch.setattr(chunks._File, "read", lambda self, lo, hi: read.append(hi - lo) or real(self, lo, hi))
    log = tmp_path / "access.log"
    log.write_bytes((SAMPLES / "squid-native.log").read_bytes() * 8_000)
    os.utime(log, (time.time() - 3600,) * 2)
    ws = _workspace(tmp_path / "ws")
    report = ingest(ws, [log], client=client)
    assert not report.failed and report.total("events") == report.total("lines") == 20 * 8_000
    assert len(read) > 8 and sum(read) < log.stat().st_size / 4  # 1 MiB blocks: a fifth of each read near its cut
    assert_accounted(ws)


def test_a_task_that_fails_mid_run_keeps_none_of_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of chunks is one task: when a later chunk fails, the files of the chunks parsed before it go too."""
    from filterlog.ingest import gather
    from filterlog.ingest.chunks import Chunk
    from filterlog.ingest.squid import SquidNative
    from filterlog.ingest.worker import FileWork, parse_chunks

    monkeypatch.setattr(gather, "FILE_ROWS", 1)  # every chunk's events are written as soon as it is parsed

    ws = _workspace(tmp_path / "ws")
    log = tmp_path / "access.log"
    text = (SAMPLES / "squid-native.log").read_bytes()
    log.write_bytes(text)
    lines = text.count(b"\n")
    work = FileWork(str(log), "access.log", SquidNative, "Europe/London", "0" * 64, str(ws.root), "abc", False)
    whole = Chunk(0, 0, len(text), 1, lines, True)
    assert [p.events for p in parse_chunks(work, [whole])] == [lines]  # it parses, and writes
    tmp = sorted(ws.root.rglob("*.tmp"))
    assert tmp
    for path in tmp:
        path.unlink()
    beyond = Chunk(1, len(text), len(text) + 100, lines + 1, 2, True)  # the file shrank after it was cut
    with pytest.raises(Exception, match="file shrank while being read"):
        parse_chunks(work, [whole, beyond])
    assert not list(ws.root.rglob("*.tmp"))


def test_local_workers_wake_rarely(client: distributed.Client) -> None:
    """Timing the event loop 50 times a second, and sampling for a dashboard, took an idle local:2 0.5 CPU-s in 10 s."""
    import dask

    def timings() -> tuple[str, str]:
        admin = dask.config.get("distributed.admin")
        return admin["tick"]["interval"], admin["system-monitor"]["interval"]

    assert set(client.run(timings).values()) == {("1s", "5s")}


def test_local_workers_keep_glibc_malloc_defaults(client: distributed.Client) -> None:
    """Dask's MALLOC_TRIM_THRESHOLD_ made every block buffer a fresh mapping (4M page faults per 10M lines)."""
    assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
    assert set(client.run(os.environ.get, "OMP_NUM_THREADS").values()) == {"1"}  # one core's threads per worker
