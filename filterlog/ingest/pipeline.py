"""Ingest: files in, events and quarantined lines out, with a manifest row per file.

The order of work per file: hash it (an identical file is skipped), sniff its
format, find whether it continues a file already ingested (a log that grew),
then stream it (see stream.py) and commit its manifest row. With a Dask
client (``--scheduler``) the same steps run here and the parsing on the
workers (see distributed.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import Config
from ..errors import FilterlogError, InputError, StorageError, WorkspaceError, out_of_space
from ..parts import IngestWriter
from ..workspace import Workspace
from .base import Reader
from .registry import get_reader, sniff
from .source import Source, expand, last_newline_end, sha256_file
from .stream import Job, Progress, Resume, Tally, has_more, resume_point, stream

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    status: str
    """ingested, appended (a grown file's new lines), unchanged, empty or failed."""
    format: str = ""
    lines: int = 0
    events: int = 0
    quarantined: int = 0
    skipped: int = 0
    repaired: int = 0
    """Lines whose invalid UTF-8 bytes were replaced by U+FFFD."""
    message: str = ""


@dataclass
class IngestReport:
    """Per-file results and totals for one ingest run."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be ingested."""
        return [f for f in self.files if f.status == "failed"]

    def total(self, name: str) -> int:
        """Sum of one count over all files."""
        return sum(getattr(f, name) for f in self.files)

    def summary(self) -> str:
        """The closing count line."""
        done = sum(f.status in ("ingested", "appended") for f in self.files)
        unchanged = sum(f.status in ("unchanged", "empty") for f in self.files)
        return (
            f"{done} files ingested, {unchanged} skipped, {len(self.failed)} failed: "
            f"{self.total('lines'):,} lines read, {self.total('events'):,} events, "
            f"{self.total('quarantined'):,} quarantined, {self.total('skipped'):,} header/blank"
        )


def ingest(
    ws: Workspace,
    inputs: Iterable[str | Path],
    fmt: str = "auto",
    progress: Progress | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    threads: int = 2,
    replace: bool = False,
    client: Client | None = None,
) -> IngestReport:
    """Ingest files, directories and globs into the workspace; never stops at a bad file.

    ``replace`` first removes what earlier runs ingested from each file, so it is
    read again from its first line (after a wrong ``--format``, say). With a Dask
    ``client`` the parsing runs on its workers (see distributed.py); the
    results are the same.
    """
    report = IngestReport()
    files, errors = expand(inputs)
    for err in errors:
        report.files.append(FileResult(err.path, "failed", message=str(err)))
        if on_file:
            on_file(report.files[-1])
    reader_cls = None if fmt == "auto" else get_reader(fmt)
    with ws.lock():
        cfg = ws.config
        if client is not None:
            from .distributed import ingest_files

            for result in ingest_files(ws, files, reader_cls, cfg, client, progress, replace):
                report.files.append(result)
                if on_file:
                    on_file(result)
            return report
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="filterlog-hash") as pool:
            for ahead in _hashed_ahead(pool, files):
                try:
                    result = _ingest_file(ws, ahead, reader_cls, cfg, progress, threads, replace)
                except Exception as exc:
                    result = failure(ahead.path, exc)
                report.files.append(result)
                if on_file:
                    on_file(result)
    return report


@dataclass(frozen=True)
class Ahead:
    """A file whose hash is being taken in the background, and the size it is taken at (None: stat failed)."""

    path: Path
    size: int | None
    hashed: Future[Hashed]


def _hashed_ahead(pool: ThreadPoolExecutor, files: list[Path]) -> Iterator[Ahead]:
    """Each file with its hash to come, the next file's hash taken while this one is read.

    Hashing reads a whole file on one core; done before each file, it left the
    other core idle for a tenth of a many-file ingest. Files are decided on in
    file order, so skips and grown-file resumes come out as they would one
    file at a time.
    """
    pending: deque[Ahead] = deque()
    for path in files:
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None  # hash_file says why, in its own words
        pending.append(Ahead(path, size, pool.submit(hash_file, path, size)))
        if len(pending) > 1:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


def _now_or_later(ws: Workspace, ahead: Ahead, replace: bool) -> tuple[Hashed, str | Future[str]]:
    """The hashed file and its SHA-256; for a file no earlier ingest can match, a stand-in and the hash to come.

    A file whose first line begins no ingest in the manifest can be neither a
    copy nor a continuation of one (the same bytes begin with the same line):
    it is read from its first line whatever its hash, so reading starts at
    once and events wait for the hash (their ``source_id``) only to be written.
    """
    if ahead.hashed.done() or replace or ahead.size is None or not _unmatched(ws, ahead.path):
        file = ahead.hashed.result()
        return file, file.sha
    return measure(ahead.path, ahead.size), _sha_later(ahead.hashed)


def _unmatched(ws: Workspace, path: Path) -> bool:
    try:
        head = Source(path).head()
    except (OSError, FilterlogError):
        return False  # the ordinary path reports it
    return bool(head) and not ws.lineage(head_digest(head))


def _sha_later(hashed: Future[Hashed]) -> Future[str]:
    sha: Future[str] = Future()

    def done(got: Future[Hashed]) -> None:
        try:
            sha.set_result(got.result().sha)
        except BaseException as exc:  # an unreadable file: whoever waits for the hash raises it
            sha.set_exception(exc)

    hashed.add_done_callback(done)
    return sha


def failure(path: Path, exc: Exception) -> FileResult:
    """The failed result for one file: the error's own line, or an internal error to report.

    A full disk is not the file's fault and would fail every file after it: it
    ends the run (WorkspaceError). The file's partial events are gone by then,
    the files before it are stored, and the same command run again once there
    is room goes on from this file.
    """
    if full := out_of_space(exc):
        raise WorkspaceError(
            f"{path}: not ingested: {full} in the workspace; the files before it are stored,"
            " those after it are not. Make room and run ingest again: it goes on from this file."
        ) from exc
    if isinstance(exc, StorageError):  # the events' URL failed: so would every file after this one
        raise WorkspaceError(
            f"{path}: not ingested: {exc}. The files before it are stored, those after it are not;"
            " run ingest again once it works: it goes on from this file."
        ) from exc
    if isinstance(exc, FilterlogError):
        return FileResult(str(path), "failed", message=str(exc))
    if isinstance(exc, OSError):
        return FileResult(str(path), "failed", message=f"{path}: cannot read: {exc.strerror or exc}")
    log.debug("ingest of %s failed", path, exc_info=exc)  # a reader bug must not lose the other files
    return FileResult(str(path), "failed", message=f"{path}: internal error, please report: {exc!r}")


@dataclass
class Hashed:
    """A file's identity, taken before anything else is decided about it."""

    path: Path
    size: int
    src: Source
    sha: str
    cut: int | None
    """Where a plain file's complete lines end (just after its last newline)."""
    cut_sha: str | None
    """SHA-256 of the content up to ``cut``."""
    newlines: np.ndarray | None = None
    """Newlines per ``source.GRID`` bytes, when a Dask worker took the hash (chunks.py numbers lines by it)."""

    @property
    def plain(self) -> bool:
        """Uncompressed: it can be read from any offset."""
        return self.src.compression is None


def measure(path: Path, size: int | None = None) -> Hashed:
    """A file's size (now, unless given), source and complete-lines end: a ``Hashed`` whose hashes are to come."""
    size = path.stat().st_size if size is None else size
    src = Source(path)
    cut = last_newline_end(path, size) if src.compression is None else None
    return Hashed(path, size, src, "", cut, None)


def hash_file(path: Path, size: int | None = None) -> Hashed:
    """Hash the first ``size`` bytes of a file (all by default), and its complete lines if plain; no database."""
    file = measure(path, size)
    file.sha, file.cut_sha, _ = sha256_file(path, file.size, file.cut)
    return file


@dataclass
class Plan:
    """A file to be read: its reader, where to start, and the pending manifest row to fill."""

    file: Hashed
    cls: type[Reader]
    reader: Reader
    start: Resume
    writer: IngestWriter
    hold_fragment: bool
    head_sha: str
    """SHA-256 of the first line, which ties a grown log to its earlier ingests."""


def open_file(
    ws: Workspace, file: Hashed, reader_cls: type[Reader] | None, cfg: Config, progress: Progress | None, replace: bool
) -> Plan | FileResult:
    """Decide what to read of a hashed file; begin its manifest row, or say why there is nothing to read."""
    path, size, src, sha = file.path, file.size, file.src, file.sha
    if replace:
        ws.forget(str(path.absolute()), sha)
    known = ws.find_by_sha(sha)
    if known is not None:
        if progress:
            progress(size)
        return FileResult(
            str(path),
            "unchanged",
            known.format or "",
            message=f"{path}: already ingested ({known.path}, {known.ingested_at}); nothing added",
        )
    head = src.head()
    if not head:
        if progress:
            progress(size)
        return FileResult(str(path), "empty", message=f"{path}: empty file, nothing to ingest")
    cls = reader_cls or sniff(head, path)
    head_sha = head_digest(head)
    start, reader = resume_point(ws, src, head_sha, lambda: cls(timezone=cfg.site.timezone))
    if start.offset and not has_more(src, start.offset):
        if progress:
            progress(size)
        return FileResult(str(path), "unchanged", cls.name, message=f"{path}: no new lines since the last ingest")
    writer = ws.begin(
        {
            "path": str(path.absolute()),  # absolute: audits find the file from any directory
            "size": size,
            "sha256": sha,
            "compression": src.compression,
            "format": cls.name,
            "head_sha256": head_sha,
            "first_line": start.first_line,
            "end_line": start.first_line - 1,
            "content_bytes": start.offset,
        }
    )
    hold = file.plain and time.time() - path.stat().st_mtime < cfg.ingest.settle_seconds
    return Plan(file, cls, reader, start, writer, hold, head_sha)


def head_digest(head: bytes) -> str:
    """SHA-256 of a file's first line: what ties a grown log to its earlier ingests."""
    return hashlib.sha256(head.split(b"\n", 1)[0]).hexdigest()


def _ingest_file(
    ws: Workspace,
    ahead: Ahead,
    reader_cls: type[Reader] | None,
    cfg: Config,
    progress: Progress | None,
    threads: int,
    replace: bool = False,
) -> FileResult:
    file, sha = _now_or_later(ws, ahead, replace)
    plan = open_file(ws, file, reader_cls, cfg, progress, replace)
    if isinstance(plan, FileResult):
        return plan
    job = Job(
        file.src,
        plan.reader,
        plan.writer,
        sha,
        cfg.site.timezone,
        cfg.ingest.block_mb << 20,
        threads,
        plan.start,
        hash_content=not file.plain,
        limit=file.size if file.plain else None,
        hold_fragment=plan.hold_fragment,
        progress=progress,
        file_rows=cfg.ingest.file_rows,
    )
    try:
        tally = stream(job)
        if not isinstance(sha, str):
            plan.file = ahead.hashed.result()
        content = plan.start.hasher.hexdigest() if not file.plain else None
        return finish(plan, tally, content)
    except BaseException:
        plan.writer.abort()
        raise


def finish(plan: Plan, tally: Tally, content_sha: str | None) -> FileResult:
    """Commit a file's manifest row from its counts; its result line with what is worth a second look.

    ``content_sha`` is the hash of the decompressed content of a compressed
    file; a plain file's comes from its whole-file hash.
    """
    file, path = plan.file, plan.file.path
    counts = {**tally.manifest(), "sha256": file.sha}  # the file's hash may have come in while it was read
    if file.plain:  # the whole-file pass hashed the complete lines already
        whole = tally.complete_bytes == file.size
        counts["content_sha256"] = file.sha if whole else file.cut_sha if tally.complete_bytes == file.cut else None
    else:
        counts["content_sha256"] = content_sha
    plan.writer.commit(counts)
    repaired, held = tally.repaired, tally.held_back
    notes = []
    if tally.lines and not tally.events:  # say so: a file that yields nothing is worth a second look
        why = "every line was quarantined (wrong --format?)" if tally.quarantined else "only header/blank lines"
        notes.append(f"no events: {why}")
    if repaired:
        notes.append(f"{repaired} line{'s' if repaired != 1 else ''} held invalid UTF-8, replaced by U+FFFD")
    if held:
        line = tally.end_line + 1
        notes.append(f"last line ({line}) has no newline yet (still being written?): left for the next run")
    message = f"{path}: " + "; ".join(notes) if notes else ""
    return FileResult(
        str(path),
        "appended" if plan.start.offset else "ingested",
        plan.cls.name,
        tally.lines,
        tally.events,
        tally.quarantined,
        tally.skipped,
        repaired,
        message,
    )


__all__ = ["FileResult", "IngestReport", "InputError", "ingest"]
