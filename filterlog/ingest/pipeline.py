"""Ingest: files in, events and quarantined lines out, with a manifest row per file.

The order of work per file: hash it (an identical file is skipped), sniff its
format, find whether it continues a file already ingested (a log that grew),
then parse blocks on worker threads while the main thread writes them, in order.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import Config
from ..errors import FilterlogError, InputError
from ..schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from ..workspace import IngestWriter, Workspace
from .base import Parsed, Reader, constant, line_bounds
from .registry import get_reader, sniff
from .source import Block, Source, expand, last_newline_end, sha256_file

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


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
        ws.forget(str(path), sha)
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
    offset, first_line, hasher, mid_line = _resume_point(ws, src, head_sha)
    if offset and offset >= _content_size(src, offset):
        if progress:
            progress(size)
        return FileResult(str(path), "unchanged", cls.name, message=f"{path}: no new lines since the last ingest")

    writer = ws.begin(
        {
            "path": str(path),
            "size": size,
            "sha256": sha,
            "compression": src.compression,
            "format": cls.name,
            "head_sha256": head_sha,
            "first_line": first_line,
            "end_line": first_line - 1,
            "content_bytes": offset,
        }
    )
    try:
        counts = _stream(
            src,
            cls(),
            writer,
            sha,
            block_size,
            offset,
            first_line,
            None if plain else hasher,
            tz,
            progress,
            threads,
            limit=size if plain else None,
            mid_line=mid_line,
            hold_fragment=plain and time.time() - path.stat().st_mtime < settle,
        )
        if plain:
            whole = counts["content_bytes"] == size
            counts["content_sha256"] = sha if whole else cut_sha if counts["content_bytes"] == cut else None
    except BaseException:
        writer.abort()
        raise
    repaired = int(counts.pop("repaired"))  # type: ignore[call-overload]
    held = bool(counts.pop("held_back"))
    writer.commit(counts)
    notes = []
    if repaired:
        notes.append(f"{repaired} line{'s' if repaired != 1 else ''} held invalid UTF-8, replaced by U+FFFD")
    if held:
        line = int(counts["end_line"]) + 1  # type: ignore[call-overload]
        notes.append(f"last line ({line}) has no newline yet (still being written?): left for the next run")
    message = f"{path}: " + "; ".join(notes) if notes else ""
    return FileResult(
        str(path),
        "appended" if offset else "ingested",
        cls.name,
        int(counts["lines_read"]),
        int(counts["events"]),
        int(counts["quarantined"]),
        int(counts["skipped"]),
        repaired,
        message,
    )


def _resume_point(ws: Workspace, src: Source, head_sha: str) -> tuple[int, int, hashlib._Hash, bool]:
    """Where new lines start if this file continues one already ingested (a log that grew).

    Returns the content offset, the next line number, the content hash so far,
    and whether the offset falls inside a line (a last line ingested before its
    newline was written): the rest of that line is then skipped, not read twice.
    """
    for row in ws.lineage(head_sha):
        if row.content_sha256 is None:
            continue
        hasher = hashlib.sha256()
        left = row.content_bytes
        last = b"\n"
        stream = src.open()
        try:
            while left > 0:
                chunk = stream.read(min(left, 8 << 20))
                if not chunk:
                    break
                hasher.update(chunk)
                left -= len(chunk)
                last = chunk[-1:]
        finally:
            stream.close()
        if left == 0 and hasher.hexdigest() == row.content_sha256:
            return row.content_bytes, row.end_line + 1, hasher, last != b"\n"
    return 0, 1, hashlib.sha256(), False


def _content_size(src: Source, offset: int) -> int:
    """Decompressed size, or just enough to tell whether anything follows ``offset``."""
    stream = src.open(offset)
    try:
        return offset + len(stream.read(1))
    finally:
        stream.close()


def _stream(
    src: Source,
    reader: Reader,
    writer: IngestWriter,
    sha: str,
    block_size: int,
    offset: int,
    first_line: int,
    hasher: hashlib._Hash | None,
    tz: str,
    progress: Progress | None,
    threads: int,
    limit: int | None = None,
    mid_line: bool = False,
    hold_fragment: bool = False,
) -> dict[str, object]:
    """Parse and write blocks on worker threads; account for every line in order on this one."""
    lines = events = quarantined = skipped = repaired = 0
    complete_bytes, end_line = offset, first_line - 1
    tmin: int | None = None
    tmax: int | None = None
    done_raw = 0

    def work(number: int, block: Block) -> tuple[Block, Parsed, int, tuple[int, int] | None]:
        parsed = reader.parse(block.data, block.first_line)
        nrep = parsed.repaired
        span = None
        if not block.terminated and (hold_fragment or parsed.bad_lines):
            return block, parsed, nrep, None  # held back: written when the line is complete
        if parsed.events.num_rows:
            ev = _with_source(parsed.events, sha)
            lo, hi = pc.min_max(ev.column("time")).values()
            span = (lo.value, hi.value)
            _write_by_date(writer, number, ev, tz)
        return block, parsed, nrep, span

    pending: deque[Future[tuple[Block, Parsed, int, tuple[int, int] | None]]] = deque()
    held_back = False
    blocks = enumerate(src.blocks(block_size, offset, first_line, limit, skip_partial=mid_line))
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:

        def fill() -> None:
            nonlocal complete_bytes, end_line
            while len(pending) < threads + 1:
                try:
                    number, b = next(blocks)
                except StopIteration:
                    return
                if b.terminated:
                    if hasher is not None:
                        hasher.update(b.data)
                    complete_bytes = b.end_offset
                    end_line = b.first_line + b.lines - 1
                pending.append(pool.submit(work, number, b))

        fill()
        while pending:
            block, parsed, nrep, span = pending.popleft().result()
            fill()
            if not block.terminated:
                if parsed.bad_lines or hold_fragment:  # a half-written last line: read it when complete
                    held_back = True
                    continue
                if hasher is not None:
                    hasher.update(block.data[:-1])
                complete_bytes = block.end_offset
                end_line = block.first_line
            repaired += nrep
            if span:
                tmin = span[0] if tmin is None else min(tmin, span[0])
                tmax = span[1] if tmax is None else max(tmax, span[1])
            if parsed.bad_lines:
                writer.write_quarantine(_quarantine_rows(block, parsed, sha, str(src.path)))
            lines += block.lines
            events += parsed.events.num_rows
            quarantined += len(parsed.bad_lines)
            skipped += parsed.skipped
            if lines != events + quarantined + skipped:
                raise FilterlogError(
                    f"{src.path}: internal error: lines {lines} != events {events} + quarantined {quarantined}"
                    f" + skipped {skipped} after line {block.first_line + block.lines - 1}"
                )
            if progress:
                raw = src.raw_position
                progress(max(raw - done_raw, 0))
                done_raw = max(done_raw, raw)
    if progress:
        progress(max(src.path.stat().st_size - done_raw, 0))
    return {
        "lines_read": lines,
        "events": events,
        "quarantined": quarantined,
        "skipped": skipped,
        "end_line": end_line,
        "content_bytes": complete_bytes,
        "content_sha256": hasher.hexdigest() if hasher is not None else None,
        "time_min": _iso(tmin),
        "time_max": _iso(tmax),
        "repaired": repaired,
        "held_back": held_back,
    }


def _with_source(events: pa.Table, sha: str) -> pa.Table:
    n = events.num_rows
    return pa.Table.from_arrays(
        [constant(sha, n) if name == "source_id" else events.column(name) for name in events.column_names],
        schema=EVENT_SCHEMA,
    )


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return np.datetime64(ms, "ms").astype(str) + "Z"


def _write_by_date(writer: IngestWriter, number: int, events: pa.Table, tz: str) -> None:
    """Split by local calendar date in the site's time zone and append to each date's file."""
    local = pc.local_timestamp(events.column("time").cast(pa.timestamp("ms", tz=tz)))
    days = pc.cast(local, pa.date32())
    lo, hi = pc.min_max(days).values()
    if lo == hi:
        writer.write_events(str(lo.as_py()), number, events)
        return
    for day in pc.unique(days).to_pylist():
        writer.write_events(str(day), number, events.filter(pc.equal(days, pa.scalar(day, pa.date32()))))


def _quarantine_rows(block: Block, parsed: Parsed, sha: str, path: str) -> pa.Table:
    buf = np.frombuffer(block.data, np.uint8)
    starts, ends = line_bounds(buf, np.flatnonzero(buf == 10))
    idx = np.asarray(parsed.bad_lines, dtype=np.int64) - block.first_line
    raw = [bytes(block.data[starts[i] : ends[i]]) for i in idx]
    n = len(raw)
    return pa.table(
        {
            "source_id": pa.array([sha] * n, pa.string()),
            "path": pa.array([path] * n, pa.string()),
            "source_line": pa.array(parsed.bad_lines, pa.int64()),
            "reason": pa.array(parsed.bad_reasons, pa.string()),
            "raw": pa.array(raw, pa.binary()),
        },
        schema=QUARANTINE_SCHEMA,
    )


__all__ = ["FileResult", "IngestReport", "InputError", "ingest"]
