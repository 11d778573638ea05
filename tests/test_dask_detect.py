"""Detect on a Dask cluster: the same findings as in-process, whole dates and person buckets alike.

Few tests on purpose: a cluster of two worker processes takes seconds to start.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from filterlog import cluster
from filterlog import findings as store
from filterlog.cli import cli
from filterlog.ingest import ingest
from filterlog.rules import RULE_IDS, buckets, detect
from filterlog.rules import day as dayread
from filterlog.rules.engine import MARGIN
from filterlog.workspace import Workspace

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two single-threaded worker processes, started as ``--scheduler local:2`` starts them (seconds, once)."""
    with cluster.connect(cluster.parse("local:2")) as c:
        yield c


def _copy(src: Path, dst: Path) -> Workspace:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return Workspace(dst)


@pytest.mark.parametrize("k", [None, 3])
def test_cluster_finds_what_the_process_finds(demo_day, client, tmp_path: Path, k: int | None) -> None:
    whole = store.read(Workspace(demo_day.workspace))
    assert set(whole.column("rule").to_pylist()) == set(RULE_IDS)
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    store.write_day(ws, ws.event_dates()[0], whole.slice(0, 0))  # nothing left over from the in-process run
    with ws.lock():
        report = detect(ws, client=client, buckets=k)
    assert report.findings == whole.num_rows
    assert store.read(ws).equals(whole)
    assert not list(ws.root.glob(".detect-*"))


def test_cluster_spills_a_large_day_in_parts(demo_day, client, tmp_path: Path) -> None:
    """A day of many events files is spilled by both workers side by side; the buckets still hold every row in order."""
    ws = Workspace(tmp_path / "ws")
    ws.create()
    config = (demo_day.workspace / "filterlog.toml").read_text(encoding="utf-8")
    config = config.replace("block_mb = 16", "block_mb = 1", 1).replace("file_rows = 200000", "file_rows = 1", 1)
    ws.config_path.write_text(config, encoding="utf-8")
    ingest(ws, [demo_day.day.log])
    src = dayread.source(ws, ws.event_dates()[0], MARGIN)
    assert buckets.spill_parts(src, cluster.workers(client)) == 2
    with ws.lock():
        detect(ws)
    whole = store.read(ws)
    assert set(whole.column("rule").to_pylist()) == set(RULE_IDS)
    with ws.lock():
        detect(ws, client=client, buckets=3)
    assert store.read(ws).equals(whole)


def test_a_local_clusters_workers_share_the_memory_budget(demo_day, client, tmp_path: Path) -> None:
    """``[detect] memory_gb`` is the machine's: two local workers judge side by side, so each gets half.

    0.04 GB judges 50,000 events at once: the demo day's 40,000 whole in this process,
    in buckets of 25,000 on ``local:2``. The findings are the same.
    """
    assert (cluster.sharing(client), cluster.sharing(None)) == (2, 1)
    whole = store.read(Workspace(demo_day.workspace))
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(config.replace("memory_gb = 2 ", "memory_gb = 0.04 ", 1), encoding="utf-8")
    assert ws.config.detect.memory_gb == 0.04
    with ws.lock():
        here = detect(ws)
        there = detect(ws, client=client)
    assert "spill" not in here.seconds
    assert "spill" in there.seconds
    assert store.read(ws).equals(whole)


def test_cli_scheduler_local_judges_large_days_in_buckets(demo_day, tmp_path: Path, monkeypatch) -> None:
    whole = store.read(Workspace(demo_day.workspace))
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    store.write_day(ws, ws.event_dates()[0], whole.slice(0, 0))
    # 20,000 events at once, 10,000 for each of two local workers: the demo day's 40,000 in four buckets
    monkeypatch.setattr(buckets, "BUCKET_ROWS", 20_000)
    chosen = []
    split = buckets.buckets_for
    monkeypatch.setattr(buckets, "buckets_for", lambda *args: chosen.append(split(*args)) or chosen[-1])
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "--scheduler", "local:2", "detect"])
    assert result.exit_code == 0, result.output
    assert chosen == [4]
    assert f"{whole.num_rows} findings" in result.output
    assert store.read(ws).equals(whole)
