"""What detect reads of one local date: its events files, its neighbours' margins, the columns rules use.

A date is judged with ``engine.MARGIN`` of each neighbouring date, so the
files come in three runs (the day before from a time on, the date, the day
after up to a time). Only the columns some rule reads are loaded, the
low-cardinality strings dictionary-encoded as stored, and referers on
blocked requests only. The whole-day reader (``load``) and the spill
(``buckets.spill``, batch by batch) read through the same functions, so both
give the rules the same rows.

Everything here takes file paths, dates and numbers, never a Workspace
(except ``source``, which finds the paths), so Dask workers can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..arrays import indices, masked, spread
from ..errors import WorkspaceError
from ..parts import Where, events_schema, read_file, read_parts
from ..schema import EVENT_NAMES
from ..storage import arrow_source, failing
from ..workspace import Workspace

UNREAD = ("url", "user_raw", "scheme", "status", "vendor_action", "source_format")
"""Event columns no rule reads: detect does not load them (the URL text alone is a fifth of a day's bytes)."""

COLUMNS = [name for name in EVENT_NAMES if name not in UNREAD]

AS_DICTIONARY = ("user_agent", "referer", "client_ip", "user", "host", "content_type")
"""Read dictionary-encoded, as stored: a few hundred or thousand distinct values over millions of rows.
The rules match agents and referers against lists, and enrichment works out people, domains and
categories on codes (on a 10M-event day, two gigabytes and seconds of string building saved). Content
types too: a few dozen values, yet as strings a tenth of the read (0.16 of 2.1 CPU-s per 10M events,
column by column); detect of 10M events in 7 alternating pairs 5.54 -> 5.36 s, 9.43 -> 9.16 CPU-s.
Methods, actions and devices as well were no faster: their strings are short, their dictionaries
are unified again wherever buckets or files meet."""

BATCH_ROWS = 262_144
"""Rows read and spilled at a time (an events file is one row group of about 200,000 rows: ``[ingest] file_rows``)."""

_UTC = pa.timestamp("ms", tz="UTC")
TARGET = events_schema(COLUMNS, AS_DICTIONARY)
"""What detect reads of each events file."""


@dataclass(frozen=True)
class DaySource:
    """Where one local date's events and its neighbours' margins are, as paths or URLs (picklable for Dask)."""

    day: date
    own: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    rows: int
    """The date's own events (from the Parquet footers)."""
    since_ms: int | None
    """Read the day before from here (epoch ms): the first own event less the margin; None: no own events."""
    until_ms: int | None
    """Read the day after up to here: the last own event plus the margin."""


def source(ws: Workspace, day: date, margin: timedelta) -> DaySource:
    """The files of ``day`` and of both neighbours, and the margin bounds, read from the footers and times only."""
    own = ws.event_files(day)
    rows, lo, hi = 0, None, None
    try:
        for path in own:
            with failing(path, "read events"):
                n, span = _time_span(path)
            rows += n
            if span is not None:
                lo, hi = span if lo is None else (min(lo, span[0]), max(hi, span[1]))
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{ws.storage.day(day)}: cannot read events: {exc}") from exc
    if lo is None:
        return DaySource(day, tuple(own), (), (), rows, None, None)
    ms = int(margin.total_seconds() * 1000)
    before = tuple(ws.event_files(day - timedelta(days=1)))
    after = tuple(ws.event_files(day + timedelta(days=1)))
    return DaySource(day, tuple(own), before, after, rows, lo - ms, hi + ms)


def _time_span(path: str) -> tuple[int, tuple[int, int] | None]:
    """Rows of one events file and its first and last time (epoch ms).

    From the footer's statistics where every row group has them, else from the time column.
    """
    source, filesystem = arrow_source(path)
    meta = pq.ParquetFile(source, filesystem=filesystem).metadata
    index = meta.schema.to_arrow_schema().get_field_index("time")
    stats = [meta.row_group(i).column(index).statistics for i in range(meta.num_row_groups)]
    if meta.num_rows == 0:
        return 0, None
    if index >= 0 and all(s is not None and s.has_min_max for s in stats):
        ms = pa.array([v for s in stats for v in (s.min, s.max)], _UTC).cast(pa.int64())
        return meta.num_rows, (pc.min(ms).as_py(), pc.max(ms).as_py())
    times = pc.cast(pq.read_table(source, columns=["time"], filesystem=filesystem).column("time"), pa.int64())
    return meta.num_rows, (pc.min(times).as_py(), pc.max(times).as_py())


def _parts(src: DaySource) -> list[tuple[tuple[str, ...], Where]]:
    """(files, row filter) for the day before, the date itself and the day after, in that order."""
    if src.since_ms is None or src.until_ms is None:
        return [(src.own, None)]
    return [(src.before, (">=", src.since_ms)), (src.own, None), (src.after, ("<=", src.until_ms))]


def load(src: DaySource) -> pa.Table:
    """The date's events with the margins of its neighbours, whole: what the rules see for an ordinary day.

    Files are read one by one on two threads, dictionary columns as stored (``parts.read_parts``).
    """
    return pa.Table.from_batches([_blocked_referers(b) for b in read_parts(files(src), TARGET).to_batches()], TARGET)


def _blocked_referers(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch as the rules see it: its referers kept on blocked requests only."""
    at = batch.schema.get_field_index("referer")
    return batch.set_column(at, "referer", referers_if_blocked(batch.column("action"), batch.column("referer")))


def referers_if_blocked(action: pa.DictionaryArray, referer: pa.DictionaryArray) -> pa.DictionaryArray:
    """The referer of blocked requests only, null elsewhere, over a dictionary of just those.

    The one rule that reads referers (``repeated-blocked``, which tells a page
    resource blocked on another site's page from a person's own attempt) reads
    them for blocked requests alone, so detect keeps no others. That takes the
    largest dictionary out of detect: each events file carries thousands of
    distinct referers, and the spill joined them once per bucket, K times over
    (10M events: detect 6.99 -> 6.65 s; 50M: the spill 24.8 -> 17.7 s, 8.1 -> 6.1 GB).
    """
    blocked = spread(pc.equal(action.dictionary, "blocked"), action)
    rows = np.flatnonzero(blocked & np.asarray(referer.is_valid()))
    used, code = np.unique(indices(referer, 0)[rows], return_inverse=True)
    kept = np.zeros(len(referer), np.int32)
    kept[rows] = code
    valid = np.zeros(len(referer), bool)
    valid[rows] = True
    dictionary = referer.dictionary.take(pa.array(used, pa.int64()))
    return pa.DictionaryArray.from_arrays(masked(kept, ~valid), dictionary, safe=False)


def files(src: DaySource) -> Iterator[tuple[str, Where]]:
    """Each events file to read, in order, with its row filter."""
    for paths, where in _parts(src):
        for path in paths:
            yield path, where


def read_batches(path: str, where: Where) -> list[pa.RecordBatch]:
    """One events file, in batches of at most ``BATCH_ROWS`` rows.

    File by file, not through Arrow's dataset scanner: that reads ahead into an
    unbounded queue when its consumer (the spill, writing buckets) is the
    slower side, which on a 50M-event day held over a gigabyte.
    """
    return [_blocked_referers(batch) for batch in read_file(path, TARGET, where, BATCH_ROWS)]
