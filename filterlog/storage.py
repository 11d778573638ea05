"""Where a workspace keeps its events and quarantine: its own folder, or an fsspec URL (``[storage] events``).

Events are the bulk of a workspace: a local authority's day is gigabytes of
Parquet, kept for months. They may therefore live on object storage that every
Dask worker reaches (``s3://``, ``gs://``, ``az://``, anything fsspec opens),
while the rest stays in the workspace folder: SQLite needs a POSIX disk with
locks, and findings and reports are owner-only files that name children.

A folder and a URL are committed differently. In a folder a part is written
as ``.tmp`` and renamed into place with its manifest row (``parts``). An object
store has no rename, so there a part goes straight to its final name and the
manifest row is the commit: readers take the parts of completed ingests only
(``Workspace.event_files``), and ``Workspace.recover`` deletes a killed
ingest's parts by its id. Credentials and options (endpoint, region) come
from the environment or fsspec's own configuration, never ``filterlog.toml``.

Everything here takes and gives plain strings, so a location pickles to a
Dask worker as it is. Local folders keep the plain ``os`` calls the rest of
the code was measured with; only URLs go through fsspec.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .errors import FilterlogError, StorageError, WorkspaceError

if TYPE_CHECKING:
    import pyarrow.fs as pafs


@contextmanager
def failing(where: str, doing: str, missing_ok: bool = False) -> Iterator[None]:
    """Any error at a URL as one line naming it (``StorageError``); errors on a local disk pass as they are.

    Each filesystem raises its own errors (botocore's connection errors are not
    OSError), and every one of them must end as a line the user can act on.
    ``missing_ok``: FileNotFoundError passes, for the caller to take as "nothing there".
    """
    if not is_url(where):
        yield
        return
    try:
        yield
    except FilterlogError:
        raise
    except FileNotFoundError:
        if missing_ok:
            raise
        raise StorageError(f"{where}: cannot {doing}: not found (is the bucket's name right?)") from None
    except Exception as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise StorageError(f"{where}: cannot {doing}: {reason}") from exc


def is_url(location: str) -> bool:
    """Whether ``location`` names a place through fsspec (``scheme://…``) rather than a local folder."""
    return "://" in location


def fsspec_fs(url: str) -> tuple[Any, str]:
    """The fsspec filesystem behind ``url`` and the path within it."""
    import fsspec

    try:
        fs, inner = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # no such protocol, or its package (s3fs, gcsfs ...) is not installed
        raise StorageError(f"{url}: cannot open: {exc}") from None
    return fs, inner


def arrow_source(path: str) -> tuple[str, pafs.FileSystem | None]:
    """``path`` as pyarrow opens it: a local path with no filesystem, or a URL's inner path with its filesystem."""
    if not is_url(path):
        return path, None
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, inner = fsspec_fs(path)
    return inner, PyFileSystem(FSSpecHandler(fs))


def arrow_sources(paths: list[str]) -> tuple[list[str], pafs.FileSystem | None]:
    """Several paths of one storage as pyarrow opens them together (``pq.read_table`` of a list)."""
    if not paths or not is_url(paths[0]):
        return paths, None
    _, filesystem = arrow_source(paths[0])
    return [fsspec_fs(p)[1] for p in paths], filesystem


def make_parent(path: str) -> None:
    """Make the folder the URL ``path`` goes in, where its filesystem is a local disk (``file://``).

    Object stores have no folders; and s3fs's ``makedirs`` creates a missing
    bucket, where a misspelt bucket's name must fail instead.
    """
    from fsspec.implementations.local import LocalFileSystem

    with failing(path, "write there"):
        fs, inner = fsspec_fs(path)
        if isinstance(fs, LocalFileSystem):
            fs.makedirs(inner.rsplit("/", 1)[0], exist_ok=True)


def basename(path: str) -> str:
    """The last part of a path or URL."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def ingest_of(path: str) -> str:
    """The ingest id in an events file's name, ``<ingest_id>-<block>.parquet``."""
    return basename(path).split("-", 1)[0]


def listing(folder: str) -> list[str]:
    """The names in ``folder`` (files and folders), sorted; none if it does not exist.

    At a URL the listing is asked for afresh: fsspec keeps listings (s3fs does),
    and Dask workers and other runs write there without this process knowing.
    """
    try:
        if not is_url(folder):
            return sorted(os.listdir(folder))
        with failing(folder, "list it", missing_ok=True):
            fs, inner = fsspec_fs(folder)
            fs.invalidate_cache(inner)
            return sorted(basename(p) for p in fs.ls(inner, detail=False) if p.rstrip("/") != inner.rstrip("/"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise WorkspaceError(f"{folder}: cannot list: {exc}") from exc


def size_of(path: str) -> int | None:
    """A file's size in bytes, None if it is not there."""
    try:
        if not is_url(path):
            return os.stat(path).st_size
        with failing(path, "read its size", missing_ok=True):
            fs, inner = fsspec_fs(path)
            fs.invalidate_cache(inner)
            return int(fs.size(inner))
    except FileNotFoundError:
        return None


def delete(paths: list[str]) -> None:
    """Delete files (all in one place: one folder, or one URL's filesystem); those already gone are no error."""
    if not paths:
        return
    if not is_url(paths[0]):
        for p in paths:
            with suppress(FileNotFoundError):
                os.unlink(p)
        return
    with failing(paths[0], "delete it", missing_ok=True):
        fs, _ = fsspec_fs(paths[0])
        inner = [fsspec_fs(p)[1] for p in paths]
        try:
            fs.rm(inner)  # one request per thousand objects on S3, where a missing key is no error
        except FileNotFoundError:  # elsewhere it can be: one by one, then
            for p in inner:
                with suppress(FileNotFoundError):
                    fs.rm_file(p)


def delete_folder(folder: str) -> None:
    """Delete a folder and everything in it (on object storage, object by object: not atomic)."""
    if not is_url(folder):
        shutil.rmtree(folder, ignore_errors=True)
        return
    with failing(folder, "delete it", missing_ok=True):
        fs, inner = fsspec_fs(folder)
        fs.invalidate_cache(inner)
        with suppress(FileNotFoundError):
            fs.rm(inner, recursive=True)


@dataclass(frozen=True)
class EventStore:
    """The place that holds ``events/date=YYYY-MM-DD/*.parquet`` and ``quarantine/*.parquet``."""

    location: str
    """An absolute local folder (the workspace's), or a URL."""

    @property
    def remote(self) -> bool:
        """Whether the events are at a URL: parts written in place, committed by the manifest alone."""
        return is_url(self.location)

    def path(self, *names: str) -> str:
        """A path (or URL) inside the storage."""
        return "/".join((self.location.rstrip("/"), *names))

    def day(self, day: date | str) -> str:
        """The folder of one local date's events."""
        return self.path("events", f"date={day if isinstance(day, str) else day.isoformat()}")

    def quarantine(self, ingest_id: str) -> str:
        """An ingest's quarantine file."""
        return self.path("quarantine", f"{ingest_id}.parquet")

    def dates(self) -> list[date]:
        """Local dates with an events folder, in order."""
        days = []
        for name in listing(self.path("events")):
            if name.startswith("date="):
                try:
                    days.append(date.fromisoformat(name[5:]))
                except ValueError:
                    continue
        return sorted(days)

    def parts(self, day: date) -> list[str]:
        """Every events file of one date, committed or not, in name order."""
        folder = self.day(day)
        return [f"{folder}/{n}" for n in listing(folder) if n.endswith(".parquet")]

    def ingests(self, day: date) -> set[str]:
        """The ingest ids named by one date's events files."""
        return {ingest_of(f) for f in self.parts(day)}

    def remove_empty_days(self) -> None:
        """Drop date folders left empty (a local disk only: object stores have no empty folders)."""
        if self.remote:
            return
        for name in listing(self.path("events")):
            folder = self.path("events", name)
            if name.startswith("date=") and os.path.isdir(folder) and not os.listdir(folder):
                with suppress(FileNotFoundError):
                    os.rmdir(folder)


def holds_any(store: EventStore, done: Callable[[set[str]], set[str]]) -> bool:
    """Whether ``store`` holds events of an ingest ``done`` counts as completed (newest date first, to the first)."""
    return any(done(store.ingests(day)) for day in reversed(store.dates()))
