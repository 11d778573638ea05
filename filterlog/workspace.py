"""The workspace: one directory holding a school's events, findings, reports and state.

Writes are atomic at the level of one ingested file: data is written to
temporary files, the manifest row is marked pending, files are renamed into
place, then the row is marked done. A run killed at any point is undone by
``recover()`` at the start of the next run, so the workspace always looks as
it did before or after each file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

import pyarrow as pa

from . import config as _config
from .errors import StorageError, WorkspaceError
from .parts import IngestWriter, events_schema, read_parts
from .storage import EventStore, delete, delete_folder, holds_any, ingest_of, listing

ENV = "FILTERLOG_WORKSPACE"
DEFAULT = "filterlog-data"
_SCHEMA_VERSION = 1
_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    compression TEXT,
    format TEXT,
    head_sha256 TEXT,
    first_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    content_bytes INTEGER NOT NULL,
    content_sha256 TEXT,
    lines_read INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    time_min TEXT,
    time_max TEXT,
    ingested_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done'))
);
CREATE INDEX IF NOT EXISTS ingests_sha ON ingests (sha256);
CREATE INDEX IF NOT EXISTS ingests_head ON ingests (head_sha256);
CREATE TABLE IF NOT EXISTS incidents (
    record_id INTEGER PRIMARY KEY AUTOINCREMENT,
    finding_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    user TEXT,
    client_ip TEXT,
    finding_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    reviewed_by TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    decided_on TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_finding ON incidents (finding_id);
CREATE TABLE IF NOT EXISTS access_log (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    command TEXT NOT NULL,
    subject TEXT NOT NULL,
    date_from TEXT,
    date_to TEXT,
    output TEXT,
    events INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
"""


def _partition_dates(folder: Path) -> list[date]:
    """The dates of the ``date=YYYY-MM-DD`` folders under ``folder`` (others ignored), in order."""
    days = []
    for d in folder.glob("date=*"):
        try:
            days.append(date.fromisoformat(d.name[5:]))
        except ValueError:
            continue
    return sorted(days)


def _abandoned(tmp: Path) -> bool:
    """Whether no live process is writing this temporary file.

    Runs that change the data hold the lock, so their temporary files, met by
    the next lock holder, are a killed run's. Reports and the pseudonym key are
    written without the lock (a review may be rendering while cron ingests);
    their files are named ``.NAME.PID.tmp`` and are left alone while PID lives.
    """
    pid = tmp.stem.rpartition(".")[2]
    if not tmp.name.startswith(".") or not pid.isdigit() or int(pid) == 0:
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError):
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def within(days: list[date], date_from: date | None, date_to: date | None) -> list[date]:
    """The ``days`` in [date_from, date_to]; a missing bound leaves that side open."""
    return [d for d in days if (date_from is None or d >= date_from) and (date_to is None or d <= date_to)]


def resolve(path: str | Path | None) -> Path:
    """The workspace directory: the given path, else $FILTERLOG_WORKSPACE, else ./filterlog-data."""
    return Path(path or os.environ.get(ENV) or DEFAULT)


@dataclass(frozen=True)
class ManifestRow:
    """One ingested file (or the newly appended part of a grown file)."""

    ingest_id: str
    path: str
    size: int
    sha256: str
    compression: str | None
    format: str | None
    head_sha256: str | None
    first_line: int
    end_line: int
    content_bytes: int
    content_sha256: str | None
    lines_read: int
    events: int
    quarantined: int
    skipped: int
    time_min: str | None
    time_max: str | None
    ingested_at: str
    state: str


class Workspace:
    """A workspace directory, created owner-only on first use."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = resolve(root)
        self._db: sqlite3.Connection | None = None
        self._held = 0

    # layout -----------------------------------------------------------------
    @property
    def events_dir(self) -> Path:
        """Canonical events, one ``date=YYYY-MM-DD`` folder per local day."""
        return self.root / "events"

    @property
    def quarantine_dir(self) -> Path:
        """Rejected lines with reasons."""
        return self.root / "quarantine"

    @cached_property
    def storage(self) -> EventStore:
        """Where events and quarantine are kept: ``[storage] events``, else this folder (``events_dir``)."""
        return EventStore(self.config.storage.events or str(self.root.absolute()))

    def _follow_storage(self) -> None:
        """Refuse a ``[storage] events`` changed to point away from the events; record where they are.

        The workspace would no longer see them, the manifest would still skip their
        logs as read, and detect would drop the findings of their dates. Once they
        have been copied across, the new setting is followed. Run under the lock.
        """
        configured = self.config.storage.events
        row = self.db.execute("SELECT value FROM meta WHERE key = 'events_at'").fetchone()
        recorded = row[0] if row else ""
        if recorded == configured:
            return
        before = EventStore(recorded or str(self.root.absolute()))
        try:
            left = holds_any(before, self._done)
        except StorageError:  # a URL gone for good must not hold the workspace forever: nothing to protect there
            left = False
        if left and not holds_any(self.storage, self._done):
            raise WorkspaceError(
                f"{self.config_path}: [storage] events is {configured or 'this workspace folder'}, but the events"
                f" are at {before.location}: copy events/ and quarantine/ from there first (filterlog follows"
                " them once they are there), or set it back"
            )
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('events_at', ?)", (configured,))

    @property
    def reports_dir(self) -> Path:
        """Generated reports (owner-only: they hold personal data)."""
        return self.root / "reports"

    @property
    def config_path(self) -> Path:
        """The site configuration file."""
        return self.root / "filterlog.toml"

    def create(self) -> Workspace:
        """Make the directory tree (mode 0700) and the default config if missing."""
        try:
            old = os.umask(0o077)
            try:
                for d in (
                    self.root,
                    self.events_dir,
                    self.quarantine_dir,
                    self.root / "findings",
                    self.root / "categories",
                    self.root / "reports",
                ):
                    d.mkdir(parents=True, exist_ok=True)
                    os.chmod(d, 0o700)
                if not self.config_path.exists():
                    self.config_path.write_text(_config.DEFAULT_TOML, encoding="utf-8")
            finally:
                os.umask(old)
        except OSError as exc:
            raise WorkspaceError(f"{self.root}: cannot create workspace: {exc.strerror or exc}") from exc
        return self

    @property
    def config(self) -> _config.Config:
        """The site configuration (defaults where the file is silent)."""
        return _config.load(self.config_path)

    # database ---------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """The workspace SQLite database, with the schema in place."""
        if self._db is None:
            self.create()
            path = self.root / "filterlog.db"
            fresh = not path.exists()
            old = os.umask(0o077)
            try:
                con = sqlite3.connect(path, isolation_level=None, timeout=30)
            finally:
                os.umask(old)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.executescript(_DDL)
            if fresh:
                con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(_SCHEMA_VERSION),))
            self._db = con
        return self._db

    def close(self) -> None:
        """Close the database connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def manifest(self, state: str = "done") -> list[ManifestRow]:
        """Manifest rows in ingest order."""
        rows = self.db.execute("SELECT * FROM ingests WHERE state = ? ORDER BY ingested_at, rowid", (state,))
        return [ManifestRow(**dict(r)) for r in rows]

    def find_by_sha(self, sha: str) -> ManifestRow | None:
        """A completed ingest of a file with exactly these bytes."""
        r = self.db.execute("SELECT * FROM ingests WHERE sha256 = ? AND state = 'done' LIMIT 1", (sha,)).fetchone()
        return ManifestRow(**dict(r)) if r else None

    def lineage(self, head_sha: str) -> list[ManifestRow]:
        """Completed ingests whose content began with the same first line, longest first."""
        rows = self.db.execute(
            "SELECT * FROM ingests WHERE head_sha256 = ? AND state = 'done' ORDER BY content_bytes DESC", (head_sha,)
        )
        return [ManifestRow(**dict(r)) for r in rows]

    # locking and recovery ---------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[Workspace]:
        """Hold the workspace for one run; a second run gets a clear error, not a corrupt workspace.

        Re-entrant for this object: the daily batch holds the lock for its
        whole run while the ingest and detect it calls take it again.
        """
        if self._held:
            self._held += 1
            try:
                yield self
            finally:
                self._held -= 1
            return
        self.create()
        path = self.root / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise WorkspaceError(
                    f"{self.root}: workspace is in use by another filterlog run (pid {holder}); try again when it ends"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            self.recover()
            self._held = 1
            yield self
        finally:
            self._held = 0
            os.close(fd)

    def recover(self) -> list[str]:
        """Undo what a killed run left half-done; returns the ingest ids removed."""
        self._follow_storage()
        pending = [r["ingest_id"] for r in self.db.execute("SELECT ingest_id FROM ingests WHERE state = 'pending'")]
        for tmp in self.root.glob("**/*.tmp"):
            if _abandoned(tmp):
                tmp.unlink(missing_ok=True)
        for spilled in self.root.glob(".detect-*"):  # a killed detect's person buckets (personal data)
            shutil.rmtree(spilled, ignore_errors=True)
        for probe in self.root.glob(".probe-*"):  # the Dask workers' check of a killed run (cluster.require_shared)
            probe.unlink(missing_ok=True)
        if self.storage.remote:  # or those at the URL, where workers that do not see this folder spill
            for name in listing(self.storage.location):
                if name.startswith(".detect-"):
                    delete_folder(self.storage.path(name))
                elif name.startswith(".probe-"):
                    delete([self.storage.path(name)])
        categories = self.root / "categories"
        if any(categories.glob(".tmp-*")) or any(categories.glob(".old-*")):  # a killed categories import
            from .enrich.lists import recover as recover_lists  # only then: enrich brings tldextract

            recover_lists(categories)
        self._drop(pending)
        self.storage.remove_empty_days()
        return pending

    def forget(self, path: str, sha: str) -> int:
        """Remove every ingest of this file (by path or by content), with its events and quarantine.

        For re-reading a file that was ingested wrongly (say, with the wrong
        ``--format``); returns how many ingests were removed.
        """
        rows = self.db.execute(
            "SELECT ingest_id FROM ingests WHERE state = 'done' AND (path = ? OR sha256 = ?)", (path, sha)
        ).fetchall()
        # pending first: a run killed while deleting leaves rows that recover() finishes removing,
        # never a 'done' row whose events are half gone (which a re-run would skip as already ingested)
        self.db.executemany("UPDATE ingests SET state = 'pending' WHERE ingest_id = ?", [(r[0],) for r in rows])
        self._drop([r[0] for r in rows])
        return len(rows)

    def _drop(self, ids: list[str]) -> None:
        """Delete these ingests' events, quarantine and manifest rows (data first: see ``forget``)."""
        if not ids:
            return
        store, doomed = self.storage, set(ids)
        files = [f for day in store.dates() for f in store.parts(day) if ingest_of(f) in doomed]
        delete(files + [store.quarantine(i) for i in ids])
        self.db.executemany("DELETE FROM ingests WHERE ingest_id = ?", [(i,) for i in ids])

    # reading ----------------------------------------------------------------
    def event_dates(self) -> list[date]:
        """Local dates that have events, in order."""
        return self.storage.dates()

    def event_files(self, day: date) -> list[str]:
        """The Parquet files holding one local date's committed events.

        Parts of an ingest that is not done (still running, killed between
        writing its files and marking itself done, or aborted while a Dask
        worker was still writing) are left out, so a reader that takes no lock
        sees each file's events whole or not at all. In a folder, pending rows
        are read before it is listed: a commit finishing in between has renamed
        all its parts already. At a URL parts appear one by one before their
        commit, so the folder is listed, the done ingests among those named are
        looked up, and it is listed again: an ingest done by then had all its parts written.
        """
        store = self.storage
        if not store.remote:
            pending = {r[0] for r in self.db.execute("SELECT ingest_id FROM ingests WHERE state = 'pending'")}
            return [f for f in store.parts(day) if ingest_of(f) not in pending]
        done = self._done(store.ingests(day))
        return [f for f in store.parts(day) if ingest_of(f) in done] if done else []

    def _done(self, ids: set[str]) -> set[str]:
        """Those of ``ids`` whose ingest is done."""
        done: set[str] = set()
        chosen = sorted(ids)
        for at in range(0, len(chosen), 500):
            batch = chosen[at : at + 500]
            marks = ", ".join("?" * len(batch))
            rows = self.db.execute(
                f"SELECT ingest_id FROM ingests WHERE state = 'done' AND ingest_id IN ({marks})", batch
            )
            done.update(r[0] for r in rows)
        return done

    def read_events(self, day: date, columns: list[str] | None = None, dictionaries: tuple[str, ...] = ()) -> pa.Table:
        """One local date's events (``EVENT_SCHEMA``, or those ``columns`` of it).

        String columns named in ``dictionaries`` come back dictionary-encoded, as
        stored: a day's user agents are a gigabyte as strings and a few dozen values as a dictionary.
        """
        return read_parts([(f, None) for f in self.event_files(day)], events_schema(columns, dictionaries))

    # writing ----------------------------------------------------------------
    def begin(self, row: dict[str, object]) -> IngestWriter:
        """Register a pending ingest and return the writer for its data."""
        ingest_id = uuid.uuid4().hex
        values = {
            **row,
            "ingest_id": ingest_id,
            "state": "pending",
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        cols = ", ".join(values)
        self.db.execute(f"INSERT INTO ingests ({cols}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
        return IngestWriter(self, ingest_id)
