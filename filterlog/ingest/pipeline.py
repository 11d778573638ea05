"""Ingest: files in, events and quarantined lines out, with a manifest row per file.

The order of work per file: hash it (an identical file is skipped), sniff its
format, find whether it continues a file already ingested (a log that grew),
then stream it (see stream.py) and commit its manifest row.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..errors import FilterlogError, InputError
from ..workspace import Workspace
from .base import Reader
from .registry import get_reader, sniff
from .source import Source, expand, last_newline_end, sha256_file
from .stream import Job, Progress, has_more, resume_point, stream

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
) -> IngestReport:
    """Ingest files, directories and globs into the workspace; never stops at a bad file.

    ``replace`` first removes what earlier runs ingested from each file, so it is
    read again from its first line (after a wrong ``--format``, say).
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
        for path in files:
            try:
                result = _ingest_file(ws, path, reader_cls, cfg, progress, threads, replace)
            except FilterlogError as exc:
                result = FileResult(str(path), "failed", message=str(exc))
            except OSError as exc:
                result = FileResult(str(path), "failed", message=f"{path}: cannot read: {exc.strerror or exc}")
            except Exception as exc:  # a reader bug must not lose the other files
                log.debug("ingest of %s failed", path, exc_info=True)
                result = FileResult(str(path), "failed", message=f"{path}: internal error, please report: {exc!r}")
            report.files.append(result)
            if on_file:
                on_file(result)
    return report


def _ingest_file(
    ws: Workspace,
    path: Path,
    reader_cls: type[Reader] | None,
    cfg: Config,
    progress: Progress | None,
    threads: int,
    replace: bool = False,
) -> FileResult:
    block_size, tz, settle = cfg.ingest.block_mb << 20, cfg.site.timezone, cfg.ingest.settle_seconds
    size = path.stat().st_size
    src = Source(path)
    plain = src.compression is None
    cut = last_newline_end(path, size) if plain else None
    sha, cut_sha = sha256_file(path, size, cut)
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
    first = head.split(b"\n", 1)[0]
    head_sha = hashlib.sha256(first).hexdigest()
    reader = cls(timezone=tz)
    start = resume_point(ws, src, head_sha, reader)
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
    job = Job(
        src,
        reader,
        writer,
        sha,
        tz,
        block_size,
        threads,
        start,
        hash_content=not plain,
        limit=size if plain else None,
        hold_fragment=plain and time.time() - path.stat().st_mtime < settle,
        progress=progress,
    )
    try:
        tally = stream(job)
        counts = tally.manifest(job.start.hasher if not plain else None)
        if plain:  # the whole-file pass hashed the complete lines already
            whole = tally.complete_bytes == size
            counts["content_sha256"] = sha if whole else cut_sha if tally.complete_bytes == cut else None
        writer.commit(counts)
    except BaseException:
        writer.abort()
        raise
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
        "appended" if start.offset else "ingested",
        cls.name,
        tally.lines,
        tally.events,
        tally.quarantined,
        tally.skipped,
        repaired,
        message,
    )


__all__ = ["FileResult", "IngestReport", "InputError", "ingest"]
