"""Events of consecutive blocks gathered into events files of about ``FILE_ROWS`` rows each.

Ingest parses a log in blocks of ``[ingest] block_mb`` (16 MB, some 53,000
demo lines): that bounds its memory. Detect reads files: every file costs it
a footer, a dictionary per column and a decompression context per page, and
the spill joins every file's dictionaries again into each of its buckets. So
the blocks' events are held, date by date and in block order, until a date
has ``FILE_ROWS`` of them, and written then as one file (one row group) named
by its first block. The rows, and their order within the date, are the same
as with one file per block; only the boundaries between files move.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import pyarrow as pa

from ..config import Ingest
from ..parts import PartWriter

FILE_ROWS = Ingest().file_rows
"""Rows gathered into one events file (the default of ``[ingest] file_rows``): four blocks of demo lines.
10M demo lines ingested then judged, 3 alternating pairs: detect 6.62-7.42 -> 5.57-6.16 s, user
CPU 8.3-9.4 -> 7.1-7.6 s; ingest as fast, its peak RSS 530 -> 735-775 MB (64 MB blocks gave files
as large at 1.0 GB)."""

Submit = Callable[..., Future]


@dataclass
class _Waiting:
    first: int
    """The number of the first block whose events are here: the file's name."""
    tables: list[pa.Table] = field(default_factory=list)


class EventFiles:
    """Takes each block's events per date, in block order, and writes them in files of ``rows`` or more.

    With ``submit`` (a thread pool's), files are encoded on its threads, at
    most ``most`` at a time; without it, here. ``close`` writes what is left
    and waits for every write, raising the first error.
    """

    def __init__(
        self, writer: PartWriter, submit: Submit | None = None, most: int = 2, rows: int | None = None
    ) -> None:
        self.writer, self.submit, self.most, self.rows = writer, submit, max(1, most), rows or FILE_ROWS
        self.waiting: dict[str, _Waiting] = {}
        self.writing: deque[Future] = deque()

    def add(self, number: int, days: list[tuple[str, pa.Table]]) -> None:
        """Block ``number``'s events, as (local date, rows) pairs; blocks must come in order."""
        for day, events in days:
            held = self.waiting.setdefault(day, _Waiting(number))
            held.tables.append(events)
            if sum(t.num_rows for t in held.tables) >= self.rows:
                del self.waiting[day]
                self._write(day, held)

    def close(self) -> None:
        """Write every date's remaining rows and wait until all files are written."""
        try:
            for day in sorted(self.waiting):
                self._write(day, self.waiting[day])
            self.waiting.clear()
            while self.writing:
                self.writing.popleft().result()
        finally:
            self._settle()

    def _settle(self) -> None:
        """Cancel the writes not started and wait for the others: after an error, none may still make a file."""
        for future in self.writing:
            future.cancel()
        for future in self.writing:
            if not future.cancelled():
                future.exception()  # waits; only the first error is raised
        self.writing.clear()

    def _write(self, day: str, held: _Waiting) -> None:
        # one dictionary per column for the whole file: Parquet falls back to plain encoding
        # for the rest of a column chunk whose dictionary changes between batches
        events = pa.concat_tables(held.tables).unify_dictionaries()
        if self.submit is None:
            self.writer.write_events(day, held.first, events)
            return
        self.writing.append(self.submit(self.writer.write_events, day, held.first, events))
        while len(self.writing) > self.most:
            self.writing.popleft().result()
