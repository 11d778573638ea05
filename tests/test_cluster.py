"""The ``--scheduler`` value: what it accepts and what it refuses; how a local cluster ends."""

from __future__ import annotations

import os

import pytest

from filterlog import cluster


def test_local_defaults_to_the_cpu_count() -> None:
    assert cluster.parse("local") == cluster.Scheduler(workers=os.cpu_count() or 1)


def test_local_n() -> None:
    s = cluster.parse("local:3")
    assert s.local and s.workers == 3 and str(s) == "local:3"


@pytest.mark.parametrize(
    ("spec", "address"),
    [("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"), ("sched.example.org:8786", "tcp://sched.example.org:8786")],
)
def test_an_address_joins_a_running_scheduler(spec: str, address: str) -> None:
    s = cluster.parse(spec)
    assert not s.local and s.address == address


@pytest.mark.parametrize("spec", ["local:0", "local:-1", "local:999", "locl", "tcp://", "host", "local:2:3", ""])
def test_nonsense_is_refused_with_the_reason(spec: str) -> None:
    with pytest.raises(ValueError, match="local"):
        cluster.parse(spec)


def test_no_scheduler_means_in_process() -> None:
    with cluster.connect(None) as client:
        assert client is None
    assert cluster.workers(None) == 1


def test_a_local_cluster_freezes_its_workers_heaps_before_closing(tmp_path) -> None:
    """A worker's teardown then skips full collections over every object it imported (0.30 -> 0.06 s for two)."""
    from distributed.diagnostics.plugin import WorkerPlugin

    seen = tmp_path / "frozen"

    class Record(WorkerPlugin):
        def teardown(self, worker) -> None:  # runs as the worker closes, after the client's last call
            import gc

            seen.write_text(str(gc.get_freeze_count()))

    with cluster.connect(cluster.parse("local:1")) as client:
        client.register_plugin(Record())
        workers = client.scheduler_info()["workers"]
        assert client.run(lambda: __import__("gc").get_freeze_count()) == dict.fromkeys(workers, 0)
    assert int(seen.read_text()) > 0
