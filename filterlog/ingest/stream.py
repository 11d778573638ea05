"""Reading one file: where to start, parsing blocks on threads, and counting every line.

Workers parse a block; the calling thread reads ahead, hashes, adds up the
counts in file order, checking after every block that lines read = events +
quarantined + header/blank, and gathers the blocks' events into files
(``gather.EventFiles``), which the workers encode (Parquet encoding is the
other big cost, and it runs in parallel this way).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.calendar import local_dates
from ..errors import FilterlogError
from ..parts import PartWriter
from ..schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from ..workspace import Workspace
from .base import EARLIEST_MS, LATEST_MS, Checks, Parsed, Reader, constant, has_byte, line_bounds, newlines
from .gather import EventFiles
from .source import Block, Source

Progress = Callable[[int], None]


@dataclass
class Resume:
    """Where reading starts: 0 for a new file, further on for a log that grew."""

    offset: int = 0
    first_line: int = 1
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)
    """SHA-256 of the content before ``offset``, to be continued over the new lines."""
    mid_line: bool = False
    """The offset falls inside a line already ingested: skip the rest of that line."""


def resume_point(ws: Workspace, src: Source, head_sha: str, make: Callable[[], Reader]) -> tuple[Resume, Reader]:
    """Find the longest earlier ingest whose content this file starts with (a log that grew); and its reader.

    The reader is shown the content it will not parse (``Reader.prime``), so a
    header-driven format knows the layout of the lines that follow. Each
    candidate gets a fresh reader from ``make``: one that saw the lines of an
    ingest that turned out not to match would carry a header from past the
    point where reading starts.
    """
    for row in ws.lineage(head_sha):
        if row.content_sha256 is None:
            continue
        hasher, reader = hashlib.sha256(), make()
        read, last = 0, b"\n"
        seen: list[bytes] = []
        for chunk, lines in prefix(src, row.content_bytes):
            hasher.update(chunk)
            read += len(chunk)
            last = chunk[-1:]
            seen.append(lines)
            if len(seen) > 1:  # keep memory bounded: hand over whole lines as they come
                reader.prime(seen.pop(0))
        if read == row.content_bytes and hasher.hexdigest() == row.content_sha256:
            for text in seen:
                reader.prime(text)
            return Resume(row.content_bytes, row.end_line + 1, hasher, last != b"\n"), reader
    return Resume(), make()


def prefix(src: Source, size: int) -> Iterator[tuple[bytes, bytes]]:
    """The first ``size`` bytes of content, a piece at a time: each raw piece and the whole lines it completes.

    What a grown file's earlier part is read for: its hash, and the lines a
    header-driven reader is shown (``Reader.prime``). Stops early if the content is shorter.
    """
    stream = src.open()
    left, carry = size, b""
    try:
        while left > 0:
            chunk = stream.read(min(left, 8 << 20))
            if not chunk:
                return
            left -= len(chunk)
            text = carry + chunk
            cut = text.rfind(b"\n") + 1
            carry = text[cut:]
            yield chunk, text[:cut]
    finally:
        stream.close()


def has_more(src: Source, offset: int) -> bool:
    """Whether any content follows ``offset``."""
    stream = src.open(offset)
    try:
        return bool(stream.read(1))
    finally:
        stream.close()


@dataclass
class Job:
    """Everything one file's streaming needs."""

    src: Source
    reader: Reader
    writer: PartWriter
    sha: str | Future[str]
    """The file's SHA-256 (events' ``source_id``), or the hash still being taken: see ``source_id``."""
    tz: str
    block_size: int
    threads: int
    start: Resume
    hash_content: bool
    """Hash the decompressed content while reading (plain files were hashed whole already)."""
    limit: int | None = None
    """Read no further than this (the size a plain file had when it was hashed)."""
    file_rows: int | None = None
    """Events gathered into one events file (default ``gather.FILE_ROWS``)."""
    hold_fragment: bool = False
    """Leave an unterminated last line for the next run: the file may still be being written."""
    progress: Progress | None = None
    name: str | None = None
    """The file as the user named it, for messages and quarantine rows (default: the path read)."""

    @property
    def label(self) -> str:
        """The file's name in messages."""
        return self.name or str(self.src.path)


@dataclass
class Tally:
    """Running counts for one file, in file order."""

    lines: int = 0
    events: int = 0
    quarantined: int = 0
    skipped: int = 0
    repaired: int = 0
    complete_bytes: int = 0
    end_line: int = 0
    tmin: int | None = None
    tmax: int | None = None
    held_back: bool = False

    def add(self, block: Block, parsed: Parsed, span: tuple[int, int] | None, path: str) -> None:
        """Count one parsed block and check that no line went missing."""
        last = block.first_line + block.lines - 1
        self.count(block.lines, parsed.events.num_rows, len(parsed.bad_lines), parsed.skipped, parsed.repaired, span)
        self.check(path, last)

    def count(
        self, lines: int, events: int, quarantined: int, skipped: int, repaired: int, span: tuple[int, int] | None
    ) -> None:
        """Add one block's counts (parsed here or on a Dask worker)."""
        self.repaired += repaired
        if span:
            self.tmin = span[0] if self.tmin is None else min(self.tmin, span[0])
            self.tmax = span[1] if self.tmax is None else max(self.tmax, span[1])
        self.lines += lines
        self.events += events
        self.quarantined += quarantined
        self.skipped += skipped

    def check(self, path: str, last_line: int) -> None:
        """Every line read is an event, a quarantined line or a header/blank line, or this raises."""
        if self.lines != self.events + self.quarantined + self.skipped:
            raise FilterlogError(
                f"{path}: internal error: lines {self.lines} != events {self.events} + quarantined "
                f"{self.quarantined} + skipped {self.skipped} after line {last_line}"
            )

    def manifest(self) -> dict[str, object]:
        """The manifest columns these counts fill in (the content hash is the caller's)."""
        return {
            "lines_read": self.lines,
            "events": self.events,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "end_line": self.end_line,
            "content_bytes": self.complete_bytes,
            "time_min": _iso(self.tmin),
            "time_max": _iso(self.tmax),
        }


Done = tuple[Block, Parsed, tuple[int, int] | None, list[tuple[str, pa.Table]]]
"""A parsed block: the block, what its reader made of it, its events' time span and its events per local date."""


def stream(job: Job) -> Tally:
    """Parse and write every block of the file; return the counts."""
    start = job.start
    hasher = start.hasher if job.hash_content else None
    tally = Tally(complete_bytes=start.offset, end_line=start.first_line - 1)
    job.reader.begin(start.first_line)
    blocks = enumerate(job.src.blocks(job.block_size, start.offset, start.first_line, job.limit, start.mid_line))
    pending: deque[tuple[int, Future[Done]]] = deque()
    done_raw = 0
    with ThreadPoolExecutor(max_workers=max(1, job.threads)) as pool:
        files = EventFiles(job.writer, pool.submit, job.threads, job.file_rows)

        def read_ahead() -> None:
            while len(pending) < job.threads + 1:
                try:
                    number, block = next(blocks)
                except StopIteration:
                    return
                if block.terminated:
                    if hasher is not None:
                        hasher.update(block.data)
                    tally.complete_bytes = block.end_offset
                    tally.end_line = block.first_line + block.lines - 1
                pending.append((number, pool.submit(_work, job, block)))

        read_ahead()
        while pending:
            number, future = pending.popleft()
            block, parsed, span, days = future.result()
            read_ahead()
            if not block.terminated:
                if held_back(block, parsed, job.hold_fragment):
                    tally.held_back = True
                    continue
                if hasher is not None:
                    hasher.update(block.data[:-1])
                tally.complete_bytes = block.end_offset
                tally.end_line = block.first_line
            if parsed.bad_lines:
                job.writer.write_quarantine(quarantine_rows(block, parsed, source_id(job.sha), job.label))
            files.add(number, days)
            tally.add(block, parsed, span, job.label)
            if job.progress:
                raw = job.src.raw_position
                job.progress(max(raw - done_raw, 0))
                done_raw = max(done_raw, raw)
        files.close()
    if job.progress:
        job.progress(max(job.src.path.stat().st_size - done_raw, 0))
    return tally


def _work(job: Job, block: Block) -> Done:
    """On a worker thread: parse one block."""
    return parse_block(job.reader, job.sha, job.tz, job.hold_fragment, block)


def parse_block(reader: Reader, sha: str | Future[str], tz: str, hold_fragment: bool, block: Block) -> Done:
    """Parse one block: its events' time span and the events to write, per local date.

    An unterminated last line that failed to parse (or may still be being
    written) gives no events: it is read again, whole, by a later run.
    """
    parsed = reader.parse(block.data, block.first_line)
    _guard(block, parsed)
    if held_back(block, parsed, hold_fragment) or not parsed.events.num_rows:
        return block, parsed, None, []
    events = _with_source(parsed.events, source_id(sha))
    lo, hi = pc.min_max(events.column("time")).values()
    return block, parsed, (lo.value, hi.value), _by_date(events, tz)


def held_back(block: Block, parsed: Parsed, hold_fragment: bool) -> bool:
    """Whether a file's unterminated last line is left for a later run, to be read when complete.

    It is when the file may still be being written, or when the line did not
    parse (probably cut short); then nothing of it is written or counted.
    """
    return not block.terminated and (hold_fragment or bool(parsed.bad_lines))


def _guard(block: Block, parsed: Parsed) -> None:
    """Quarantine events no reader may store, whatever its format: the invariants held in one place.

    A NUL byte is file damage (crash residue), never log text; a time outside
    1990-2099 would make a ``date=9999-..`` partition; a size or duration below
    zero would break every byte total. Cheap when all is well: one byte scan
    and a min/max per column.
    """
    events = parsed.events
    if not events.num_rows:
        return
    checks = Checks(events.num_rows)
    lines = np.asarray(events.column("source_line"))
    buf = np.frombuffer(block.data, np.uint8)
    if has_byte(buf, 0):
        damaged = np.searchsorted(newlines(buf), np.flatnonzero(buf == 0)) + block.first_line
        checks.require(~np.isin(lines, damaged), "NUL bytes in the line (file damage, e.g. after a crash)")
    ms = pc.cast(events.column("time"), pa.int64())
    lo, hi = pc.min_max(ms).values()
    if events.column("time").null_count or lo.as_py() < EARLIEST_MS or hi.as_py() >= LATEST_MS:
        ok = pc.and_(pc.greater_equal(ms, EARLIEST_MS), pc.less(ms, LATEST_MS))
        checks.require(np.asarray(pc.fill_null(ok, False)), "time missing or outside 1990-2099")
    for name in ("bytes_in", "bytes_out", "duration_ms"):
        low = pc.min(events.column(name)).as_py()
        if low is not None and low < 0:
            ok = pc.fill_null(pc.greater_equal(events.column(name), 0), True)
            checks.require(np.asarray(ok), f"negative {name}")
    if checks.failed:
        parsed.events = events.filter(checks.reject(parsed, lines))


def source_id(sha: str | Future[str]) -> str:
    """The file's hash, waiting for it if it is still being taken (a new file is parsed meanwhile)."""
    return sha if isinstance(sha, str) else sha.result()


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


def _by_date(events: pa.Table, tz: str) -> list[tuple[str, pa.Table]]:
    """Split by local calendar date in the site's time zone: (``YYYY-MM-DD``, rows) per date.

    ``local_dates`` works a date out per quarter hour of the block's span and
    looks each row's up, rather than converting every row (0.26 against 1.2 ms
    a block of 54,000).
    """
    days = local_dates(events.column("time"), tz)
    lo, hi = pc.min_max(days).values()
    if lo == hi:
        return [(str(lo.as_py()), events)]
    return [
        (str(day), events.filter(pc.equal(days, pa.scalar(day, pa.date32())))) for day in pc.unique(days).to_pylist()
    ]


def quarantine_rows(block: Block, parsed: Parsed, sha: str, path: str) -> pa.Table:
    """The rejected lines of a block, raw bytes and reasons, as quarantine rows."""
    buf = np.frombuffer(block.data, np.uint8)
    starts, ends = line_bounds(buf, newlines(buf))
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
