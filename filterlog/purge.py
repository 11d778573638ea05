"""Retention: delete what is older than the school keeps browsing data for.

Data protection law expects personal data to be kept no longer than needed,
and a school's retention schedule says how long that is. ``purge`` removes,
for every local date more than DAYS before today (on the site clock):

* the date's events and findings (whole ``date=D`` partitions);
* the quarantine of each ingest whose events are now all gone (quarantine is
  kept per ingest and its lines carry no time, so it goes with the ingest's
  last events; an ingest that produced no events at all goes by the date it
  was ingested);
* report files in the workspace's ``reports/`` last written more than DAYS
  ago, an audit pack always as a whole folder (a pack with files missing
  would fail its own ``SHA256SUMS``).

It keeps, on purpose:

* the **ingest manifest**: its rows name files and hashes, not people, and
  they are what stops a purged log from being ingested again by the next
  morning's batch (``ingest --replace`` still reads a file again on request);
* the **incident register**: decisions about children follow the school's
  safeguarding retention, which is longer and separate, so the register
  keeps its own copy of each finding's rule, person and date;
* the **access log**: the record of who pulled whose data must outlive the
  data (and its table refuses deletes anyway);
* reports written outside the workspace with ``--out``: filterlog does not
  keep track of them.

A partition is renamed out of sight first and then deleted, so a purge
killed halfway never leaves half a day behind; the next purge clears the
remains. The whole run holds the workspace lock.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from . import findings as store
from .errors import FilterlogError
from .storage import arrow_source, delete, delete_folder, failing, ingest_of, size_of
from .workspace import Workspace

DAY_SECONDS = 86_400
_GONE = ".purging-"
"""Prefix of a partition or pack renamed out of sight, about to be deleted."""


class PurgeError(FilterlogError):
    """A purge that cannot be done as asked."""


@dataclass
class Removal:
    """One thing purge deletes: a partition, a quarantine file or a report (file or pack folder)."""

    path: Path | str
    """A path in the workspace, or a URL at ``[storage] events``."""
    kind: str
    """``events``, ``findings``, ``quarantine`` or ``report``."""
    rows: int
    """Events, findings or quarantined lines in it (0 for reports)."""
    size: int
    day: date | None = None


@dataclass
class PurgeResult:
    """What a purge removed (or, with ``dry_run``, would remove)."""

    older_than: int
    cutoff: date
    """The first local date kept."""
    dry_run: bool
    removals: list[Removal] = field(default_factory=list)
    ingests_emptied: int = 0
    """Ingests whose last events went in this purge (their manifest rows are kept)."""

    def of(self, kind: str) -> list[Removal]:
        """The removals of one kind."""
        return [r for r in self.removals if r.kind == kind]

    @property
    def empty(self) -> bool:
        """Nothing was (or would be) removed."""
        return not self.removals

    @property
    def size(self) -> int:
        """Bytes freed (or that would be)."""
        return sum(r.size for r in self.removals)

    def describe(self) -> list[str]:
        """Lines for the terminal: counts per kind, the date range, the bytes."""
        verb = "would remove" if self.dry_run else "removed"
        head = f"purge: data older than {self.older_than} day(s), dated before {self.cutoff}"
        if self.empty:
            return [head, "nothing to remove"]
        lines = [head]
        for kind, noun in (("events", "events"), ("findings", "findings")):
            parts = self.of(kind)
            if parts:
                days = sorted(r.day for r in parts if r.day is not None)
                span = f"{days[0]}" if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
                lines.append(f"{verb} {sum(r.rows for r in parts):,} {noun} on {len(days)} date(s), {span}")
        quarantine = self.of("quarantine")
        if quarantine:
            lines.append(f"{verb} {sum(r.rows for r in quarantine):,} quarantined lines of {len(quarantine)} ingest(s)")
        reports = self.of("report")
        if reports:
            lines.append(f"{verb} {len(reports)} report(s): " + ", ".join(Path(r.path).name for r in reports[:5])
                         + (f" +{len(reports) - 5} more" if len(reports) > 5 else ""))  # fmt: skip
        if self.ingests_emptied:
            left = "would have" if self.dry_run else "now have"
            lines.append(
                f"{self.ingests_emptied} ingested file(s) {left} no events left; their manifest rows are kept, "
                "so the same files are not ingested again"
            )
        lines.append(f"{'would free' if self.dry_run else 'freed'} {_size(self.size)}; "
                     "incidents and the access log are kept")  # fmt: skip
        return lines


def purge(
    ws: Workspace, older_than: int, *, dry_run: bool = False, today: date | None = None, now: float | None = None
) -> PurgeResult:
    """Delete events, findings, quarantine and reports older than ``older_than`` days (see the module notes).

    ``today`` (site clock) and ``now`` (epoch seconds, for report ages) are for tests.
    """
    if older_than < 1:
        raise PurgeError(f"--older-than must be at least 1 day, not {older_than}")
    today = today or datetime.now(ws.config.site.tz).date()
    now = time.time() if now is None else now
    cutoff = today - timedelta(days=older_than)
    result = PurgeResult(older_than, cutoff, dry_run)
    with ws.lock():
        if not dry_run:
            _clear_leftovers(ws)
        old_findings = [d for d in store.finding_dates(ws) if d < cutoff]
        for day in old_findings:
            folder = store.findings_dir(ws) / f"date={day.isoformat()}"
            result.removals.append(Removal(folder, "findings", *_parquet_totals(folder), day))
        old_events = [d for d in ws.event_dates() if d < cutoff]
        for day in old_events:
            if ws.storage.remote:
                files = ws.storage.parts(day)
                totals = sum(_rows(f) for f in files), sum(size_of(f) or 0 for f in files)
                result.removals.append(Removal(ws.storage.day(day), "events", *totals, day))
            else:
                folder = ws.events_dir / f"date={day.isoformat()}"
                result.removals.append(Removal(folder, "events", *_parquet_totals(folder), day))
        _plan_quarantine(ws, result, set(old_events))
        _plan_reports(ws, result, now - older_than * DAY_SECONDS)
        if not dry_run:
            for removal in result.removals:  # findings before events: findings never outlive their events
                if isinstance(removal.path, str) and removal.kind == "events":  # at a URL: deleted in place
                    delete_folder(removal.path)
                elif isinstance(removal.path, str):
                    delete([removal.path])
                else:
                    _remove(removal.path)
    return result


def _parquet_totals(folder: Path) -> tuple[int, int]:
    """Rows (from the Parquet footers, no data read) and bytes of the files in a partition."""
    rows = size = 0
    for f in folder.iterdir():
        size += f.stat().st_size
        if f.suffix == ".parquet":
            rows += pq.read_metadata(f).num_rows
    return rows, size


def _rows(path: str) -> int:
    """Rows of a Parquet file (a path or a URL), from its footer."""
    with failing(path, "read its footer"):
        source, filesystem = arrow_source(path)
        return pq.read_metadata(source, filesystem=filesystem).num_rows


def _plan_quarantine(ws: Workspace, result: PurgeResult, old: set[date]) -> None:
    """Quarantine files of ingests left with no events, and how many ingests that empties."""
    going: set[str] = set()
    staying: set[str] = set()
    for day in ws.event_dates():
        ids = {ingest_of(f) for f in ws.event_files(day)}
        (going if day in old else staying).update(ids)
    emptied = going - staying
    result.ingests_emptied = len(emptied)
    for row in ws.manifest():
        if row.ingest_id in staying:
            continue
        if row.events == 0:
            ingested = datetime.fromisoformat(row.ingested_at).astimezone(ws.config.site.tz).date()
            if ingested >= result.cutoff:
                continue
        path = ws.storage.quarantine(row.ingest_id)
        size = size_of(path)
        if size is not None:  # a URL stays a string: deleted in place, not renamed away (``purge``)
            where = path if ws.storage.remote else Path(path)
            result.removals.append(Removal(where, "quarantine", _rows(path), size))


def _newest(path: Path) -> tuple[float, int]:
    """The latest modification time under ``path`` and the bytes it holds (symbolic links not followed)."""
    st = path.lstat()
    if not path.is_dir() or path.is_symlink():
        return st.st_mtime, st.st_size
    newest, size = st.st_mtime, 0
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            s = (Path(folder) / name).lstat()
            newest = max(newest, s.st_mtime)
            size += 0 if name in dirs else s.st_size
    return newest, size


def _plan_reports(ws: Workspace, result: PurgeResult, before: float) -> None:
    """Reports last written before ``before``: top-level files and folders, each audit pack as one unit."""
    reports = ws.reports_dir
    if not reports.is_dir():
        return
    units = []
    for entry in sorted(reports.iterdir()):
        if entry.name.startswith(_GONE):
            continue
        if entry.name == "audit" and entry.is_dir() and not entry.is_symlink():
            units += [p for p in sorted(entry.iterdir()) if not p.name.startswith(_GONE)]
        else:
            units.append(entry)
    for unit in units:
        newest, size = _newest(unit)
        if newest < before:
            result.removals.append(Removal(unit, "report", 0, size))


def _remove(path: Path) -> None:
    """Rename out of sight (one atomic step), then delete: a killed purge never leaves part of a unit visible."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    hidden = path.with_name(_GONE + path.name)
    os.replace(path, hidden)
    shutil.rmtree(hidden)


def _clear_leftovers(ws: Workspace) -> None:
    """Finish deleting what a killed purge had renamed out of sight."""
    for folder in (ws.events_dir, store.findings_dir(ws), ws.reports_dir, ws.reports_dir / "audit"):
        if folder.is_dir():
            for gone in folder.glob(_GONE + "*"):
                if gone.is_dir() and not gone.is_symlink():
                    shutil.rmtree(gone)
                else:
                    gone.unlink(missing_ok=True)


def _size(n: int) -> str:
    from .report.templates import size

    return size(n)
