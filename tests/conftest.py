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
