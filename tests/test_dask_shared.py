"""A running cluster whose workers cannot see the workspace or a log is refused in one line, before any work."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from filterlog import cluster
from filterlog.cli import cli
from filterlog.errors import FilterlogError
from filterlog.findings import finding_dates
from filterlog.workspace import Workspace

distributed = pytest.importorskip("distributed")

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
QUIET = {"dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}
"""No dashboard, and the scheduler's own HTTP server on a free loopback port (8787 may be taken)."""


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[distributed.LocalCluster, distributed.Client]]:
    """Two workers in this process, on TCP: a running scheduler to join by address, as a site's would be."""
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", **QUIET) as lc,
        distributed.Client(lc) as client,
    ):
        yield lc, client


@pytest.fixture
def blind(running, monkeypatch) -> str:
    """The first worker sees an empty folder where the workspace is (a share not mounted on its machine)."""
    _, client = running
    address = sorted(client.scheduler_info()["workers"])[0]
    real = cluster._sees

    def sees(probe: str, files: list[str], dask_worker=None) -> tuple[str | None, str | None]:
        return (None, None) if dask_worker.address == address else real(probe, files)

    monkeypatch.setattr(cluster, "_sees", sees)
    return address


def test_workers_that_see_the_workspace_pass_and_leave_nothing(running, tmp_path) -> None:
    cluster.require_shared(running[1], tmp_path, [SAMPLES / "squid-native.log"])
    assert list(tmp_path.iterdir()) == []


def test_a_worker_that_does_not_see_the_workspace_is_named(running, blind, tmp_path) -> None:
    with pytest.raises(FilterlogError, match=f"worker {re.escape(blind)} does not see the workspace {tmp_path}"):
        cluster.require_shared(running[1], tmp_path)
    assert list(tmp_path.iterdir()) == []  # the probe is gone


def test_a_log_the_workers_cannot_open_is_named(running, tmp_path) -> None:
    gone = tmp_path / "elsewhere" / "access.log"  # as on a machine where the logs' share is not mounted
    with pytest.raises(FilterlogError, match=f"^{re.escape(str(gone))}: worker tcp://.* cannot read it"):
        cluster.require_shared(running[1], tmp_path, [SAMPLES / "squid-native.log", gone])


@pytest.mark.parametrize("command", ["ingest", "detect"])
def test_the_commands_stop_in_one_line_and_store_nothing(running, blind, tmp_path, command) -> None:
    ws = Workspace(tmp_path / "ws").create()
    args = ["--workspace", str(ws.root), "--scheduler", running[0].scheduler_address, command]
    if command == "ingest":
        args.append(str(SAMPLES / "squid-native.log"))
    else:
        result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "ingest", str(SAMPLES / "squid-native.log")])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: --scheduler: worker {blind} does not see the workspace {ws.root.absolute()}: every worker must"
        " see it at the same path (a shared disk, or NFS mounted alike on every machine)"
    ]
    if command == "ingest":
        assert ws.manifest() == []
    else:
        assert finding_dates(ws) == []  # a run on the cluster would have stored the day's (even empty) findings
    assert not list(ws.root.glob(".probe-*"))


def test_a_scheduler_without_workers_is_said_not_waited_on_in_silence(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws").create()
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", **QUIET) as lc:
        result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "--scheduler", lc.scheduler_address, "detect"])
    assert result.exit_code == 0, result.output  # nothing to judge, so nothing waits
    assert result.stderr.splitlines()[0] == (
        f"filterlog: the scheduler at {lc.scheduler_address} has no workers yet: the work waits until one joins"
        f" (dask worker {lc.scheduler_address})"
    )
