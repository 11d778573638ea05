"""Exceptions that carry enough context for a one-line message.

Every failure a user can cause (a bad file, a bad config, a busy workspace) is a
FilterlogError; the CLI prints ``str(error)`` and exits 1, never a traceback.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path


class FilterlogError(Exception):
    """Base class: an expected failure with a message fit for the user."""


class InputError(FilterlogError):
    """An input file that cannot be read or recognised, with path and line if known."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")


class ConfigError(FilterlogError):
    """The site configuration (filterlog.toml) is invalid."""


class SchemaError(FilterlogError):
    """A frame does not match the canonical schema; names the column."""


class WorkspaceError(FilterlogError):
    """The workspace is unusable: locked by another run, unwritable, or damaged."""


class StorageError(WorkspaceError):
    """The URL the events are kept at (``[storage] events``) failed: unreachable, no such bucket, no access."""


FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
"""A disk or a quota with no room left: every later write of the run would fail the same way."""


def out_of_space(exc: BaseException) -> str | None:
    """Why a write failed, if the disk (or the user's quota) is full; None for any other error.

    pyarrow's errors carry the number too (``errno`` 28 behind "Error writing
    bytes to file"), and SQLite's their own code for a full disk.
    """
    if isinstance(exc, OSError) and exc.errno in FULL:
        return os.strerror(exc.errno)
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return "database or disk is full"
    return None
