"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filterlog.workspace import Workspace

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The team's shared directory (../shared next to the checkout); tests using it skip without it."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present (shared fixtures live outside the repository)")
    return SHARED


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace in a temporary directory, closed afterwards."""
    workspace = Workspace(tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """Where a CLI test's workspace lives (created by the command)."""
    return tmp_path / "ws"


@pytest.fixture(scope="session")
def demo_day(tmp_path_factory: pytest.TempPathFactory):
    """One demo school day (40,000 lines, every rule planted), ingested and detected once per test run.

    Shared: tests must not change it. A test that records incidents or writes
    reports into the workspace takes ``demo_ws`` (a private copy) instead.
    """
    from filterlog.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo-day"), lines=40_000)


@pytest.fixture
def demo_ws(demo_day, tmp_path: Path) -> Iterator[Workspace]:
    """A private copy of the demo day's workspace, for tests that change it."""
    import shutil

    target = tmp_path / "demo-ws"
    shutil.copytree(demo_day.workspace, target, ignore=shutil.ignore_patterns(".lock"))
    workspace = Workspace(target)
    yield workspace
    workspace.close()
