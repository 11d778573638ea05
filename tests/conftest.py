"""Fixtures shared by the whole suite."""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
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


@pytest.fixture
def page_end() -> Iterator[Callable[[bytes], np.ndarray]]:
    """Place bytes at the very end of a page whose next page is unreadable: a read past them crashes."""
    page = mmap.PAGESIZE
    region = mmap.mmap(-1, 2 * page)
    anchor = ctypes.c_char.from_buffer(region)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(ctypes.addressof(anchor) + page, page, 0) == 0  # PROT_NONE

    def place(text: bytes) -> np.ndarray:
        region[page - len(text) : page] = text
        return np.frombuffer(region, np.uint8, count=len(text), offset=page - len(text))

    yield place
    libc.mprotect(ctypes.addressof(anchor) + page, page, mmap.PROT_READ | mmap.PROT_WRITE)
    del anchor
