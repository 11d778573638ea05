"""The ``--scheduler`` value: what it accepts and what it refuses."""

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
