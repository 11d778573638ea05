"""Working time: is an event inside the school's working hours, and how much of a tunnel was.

Events are stored in UTC, but a school day is defined on the local clock of
``[site].timezone``. Every instant is judged on its own local time (pyarrow's
time-zone database), so the days the clocks change need no special case: 08:30
is 08:30 whether it is GMT or BST.

Everything works on whole columns with pyarrow compute and numpy. A question
about a point in time (its local date, its minute, whether it is working time)
is answered once per minute or quarter hour of the column's span and looked up
by each row; loops run only over the few working windows of a day and the few
local days an interval spans, never over rows: enrichment has to keep up with
millions of events.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import bools, masked
from ..config import WorkingHours

__all__ = ["in_working_hours", "local_dates", "minute_of_day", "working_seconds", "working_windows"]

_DAY_MS = 86_400_000
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH_WEEKDAY = 3
"""1970-01-01, day 0 of the epoch, was a Thursday (Monday = 0)."""
_EPOCH = date(1970, 1, 1)
_UTC_MS = pa.timestamp("ms", tz="UTC")


def _ms(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def working_windows(hours: WorkingHours) -> list[tuple[int, int]]:
    """The working day as sorted, disjoint ``[start, end)`` windows in milliseconds after local midnight.

    The day from ``start`` to ``end`` with every break cut out; breaks may
    overlap each other or reach past the day's ends. Both point tests and
    interval sums use this one list, so they cannot disagree.
    """
    windows = [(_ms(hours.start), _ms(hours.end))]
    for a, b in hours.breaks:
        cut_a, cut_b = _ms(a), _ms(b)
        windows = [
            piece for lo, hi in windows for piece in ((lo, min(hi, cut_a)), (max(lo, cut_b), hi)) if piece[0] < piece[1]
        ]
    return sorted(windows)


def _local_ms(times: pa.Array | pa.ChunkedArray, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Local wall-clock milliseconds since 1970-01-01 00:00 local (as int64), and which rows are valid.

    Null rows hold 0 in the values; callers mask them with the second array.
    """
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks() if times.num_chunks else pa.array([], _UTC_MS)
    if not (pa.types.is_timestamp(times.type) and times.type.unit == "ms" and times.type.tz is not None):
        times = pc.cast(times, _UTC_MS)
    valid = np.asarray(pc.is_valid(times).to_numpy(zero_copy_only=False), dtype=bool)
    values = pc.fill_null(times.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if timezone != "UTC":
        values = values + _offsets(values, valid, timezone)
    return values, valid


_BUCKET_MS = 900_000
"""Zone offsets change only on quarter-hour boundaries (every zone in the tz database since 1970)."""


def _offsets(utc_ms: np.ndarray, valid: np.ndarray, timezone: str) -> np.ndarray:
    """The zone's UTC offset (ms) at each instant, looked up per quarter hour rather than converted per row.

    A day of events spans about a hundred quarter hours: their offsets are
    converted once and indexed, which is ten times faster than converting 10M
    timestamps. A column spanning more than ~30 years falls back to per-row conversion.
    """
    if not valid.any():
        return np.zeros(len(utc_ms), dtype=np.int64)
    first, last = _valid_range(utc_ms, valid)
    lo, hi = first // _BUCKET_MS, last // _BUCKET_MS
    if hi - lo > 1_000_000:
        aware = pa.array(utc_ms, pa.int64()).cast(_UTC_MS).cast(pa.timestamp("ms", tz=timezone))
        return pc.local_timestamp(aware).cast(pa.int64()).to_numpy(zero_copy_only=False) - utc_ms
    starts = np.arange(lo, hi + 1, dtype=np.int64) * _BUCKET_MS
    aware = pa.array(starts, pa.int64()).cast(_UTC_MS).cast(pa.timestamp("ms", tz=timezone))
    table = pc.local_timestamp(aware).cast(pa.int64()).to_numpy(zero_copy_only=False) - starts
    if (table == table[0]).all():  # no clock change in the span (nearly every day): one offset for all
        return np.full(len(utc_ms), table[0], dtype=np.int64)
    bucket = np.floor_divide(utc_ms, _BUCKET_MS)
    return table[np.clip(bucket - lo, 0, hi - lo)]


def _valid_range(values: np.ndarray, valid: np.ndarray) -> tuple[int, int]:
    """The least and greatest of ``values`` where ``valid``, without copying out the valid rows when all are."""
    if valid.all():
        return int(values.min()), int(values.max())
    chosen = values[valid]
    return int(chosen.min()), int(chosen.max())


def _working_day_table(days: np.ndarray, hours: WorkingHours) -> np.ndarray:
    """For each epoch day number in ``days``: is it a working weekday outside every holiday range."""
    weekday = (days + _EPOCH_WEEKDAY) % 7
    wanted = np.array([d in hours.days for d in _DAYS])
    ok = wanted[weekday]
    for first, last in hours.holidays:
        ok &= ~((days >= (first - _EPOCH).days) & (days <= (last - _EPOCH).days))
    return ok


_MAX_CELLS = 1 << 22
"""Cells of the table ``_per_local_time`` builds at most (four million: eight years of minutes)."""


def _per_local_time(
    times: pa.Array | pa.ChunkedArray, timezone: str, width: int, fn: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` of each row's local wall-clock ms, and which rows are valid; ``fn`` is called on cells, not rows.

    ``fn`` must give the same answer for every instant of a ``width``-ms cell
    of UTC time (``width`` dividing a quarter hour: local midnight and every
    clock change fall on cell bounds, so a cell is one local day at one
    offset). Then ``fn`` runs once per cell of the column's span, a few
    thousand for a day of events, and each row only looks its cell up: one
    division and one gather a row instead of a time-zone conversion, an
    offset table and the test itself. Null rows get ``fn``'s value of some
    cell; the valid mask tells them apart. A span of more than ``_MAX_CELLS``
    cells converts every row instead.
    """
    chunks = [
        c if pa.types.is_timestamp(c.type) and c.type.unit == "ms" and c.type.tz is not None else pc.cast(c, _UTC_MS)
        for c in (times.chunks if isinstance(times, pa.ChunkedArray) else [times])
    ]
    bounds = [pc.min_max(c) for c in chunks if c.null_count < len(c)]
    lows = [b["min"].cast(pa.int64()).as_py() for b in bounds]
    highs = [b["max"].cast(pa.int64()).as_py() for b in bounds]
    n = sum(len(c) for c in chunks)
    if not lows:
        return np.zeros(n, dtype=fn(np.zeros(0, np.int64)).dtype), np.zeros(n, dtype=bool)
    first, last = min(lows) // width, max(highs) // width
    if last - first >= _MAX_CELLS:
        local, valid = _local_ms(times, timezone)
        return fn(local), valid
    starts = np.arange(first, last + 1, dtype=np.int64) * width
    if timezone != "UTC":
        starts = starts + _offsets(starts, np.ones(len(starts), dtype=bool), timezone)
    table = fn(starts)
    values, valid = [], []
    for c in chunks:
        data = c.buffers()[1]  # an empty array may have no values buffer
        raw = np.frombuffer(data, np.int64, len(c), c.offset * 8) if data is not None else np.zeros(len(c), np.int64)
        cell = np.floor_divide(raw, width) - first  # a null row's slot may hold anything: clipped, then masked
        values.append(np.take(table, cell, mode="clip"))
        valid.append(
            np.asarray(pc.is_valid(c).to_numpy(zero_copy_only=False), dtype=bool)
            if c.null_count
            else np.ones(len(c), dtype=bool)
        )
    return np.concatenate(values), np.concatenate(valid)


def local_dates(times: pa.Array | pa.ChunkedArray, timezone: str) -> pa.Array:
    """The local calendar date of each UTC timestamp (date32; null stays null).

    A school day is a local date: a request at 23:30 UTC on a summer evening is
    already tomorrow in BST, and per-day rules must group it there.
    """
    days, valid = _per_local_time(
        times, timezone, _BUCKET_MS, lambda local: np.floor_divide(local, _DAY_MS).astype(np.int32)
    )
    return masked(days, ~valid, pa.int32()).cast(pa.date32())


def minute_of_day(times: pa.Array | pa.ChunkedArray, timezone: str) -> pa.Array:
    """Minutes after local midnight (int16, 0..1439; null stays null): the clock a timetable speaks."""
    minutes, valid = _per_local_time(
        times, timezone, 60_000, lambda local: (np.mod(local, _DAY_MS) // 60_000).astype(np.int16)
    )
    return masked(minutes, ~valid, pa.int16())


def in_working_hours(times: pa.Array | pa.ChunkedArray, hours: WorkingHours, timezone: str) -> pa.Array:
    """Whether each UTC timestamp falls in working time on the local clock (bool; null gives False).

    True on a working day (``hours.days``) outside every holiday range, at or
    after ``start`` and before ``end``, and not inside a break. Null becomes
    False rather than null because rules filter on this column: an event whose
    time is unknown cannot be shown to be in lesson time.
    """
    windows = working_windows(hours)
    # Cells as wide as every window bound allows (a minute for times on the minute), within a quarter hour.
    width = math.gcd(_BUCKET_MS, *(bound for window in windows for bound in window))

    def working(local: np.ndarray) -> np.ndarray:
        day = np.floor_divide(local, _DAY_MS)
        clock = local - day * _DAY_MS
        inside = np.zeros(len(local), dtype=bool)
        for lo, hi in windows:
            inside |= (clock >= lo) & (clock < hi)
        return inside & _working_day_table(day, hours)

    result, valid = _per_local_time(times, timezone, width, working)
    return bools(result & valid)


def _window_bounds_utc(days: np.ndarray, windows: list[tuple[int, int]], timezone: str) -> np.ndarray:
    """UTC epoch ms of each window's start and end on each local day: shape (len(days), windows, 2).

    Converting the bounds of each day (not the events) keeps an interval sum
    exact on the days clocks change: the window is pinned to the local clock,
    so its real length is whatever the zone makes it.
    """
    offsets = np.array(windows, dtype=np.int64).reshape(1, -1, 2)
    naive = (days.astype(np.int64).reshape(-1, 1, 1) * _DAY_MS + offsets).ravel()
    if timezone != "UTC":
        local = pa.array(naive, pa.int64()).cast(pa.timestamp("ms"))
        aware = pc.assume_timezone(local, timezone=timezone, ambiguous="earliest", nonexistent="latest")
        naive = aware.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return naive.reshape(len(days), len(windows), 2)


def working_seconds(
    start: pa.Array | pa.ChunkedArray, end: pa.Array | pa.ChunkedArray, hours: WorkingHours, timezone: str
) -> pa.Array:
    """Seconds of each ``[start, end)`` interval that fall in working time, breaks excluded (float64).

    For a CONNECT tunnel logged at its close, ``start`` is ``time - duration``:
    a tunnel opened before lunch and left running counts only its lesson
    minutes. Null in either bound gives null (the span is unknown, not zero);
    an interval ending before it starts counts 0.

    Each row is clipped against the working windows of every local day it
    touches; the loop runs over the windows and over the most days any row
    spans, not over rows.
    """
    s_utc, s_ok = _local_ms(start, "UTC")
    e_utc, e_ok = _local_ms(end, "UTC")
    if len(s_utc) != len(e_utc):
        raise ValueError(f"start and end differ in length ({len(s_utc)} != {len(e_utc)})")
    valid = s_ok & e_ok
    total = np.zeros(len(s_utc), dtype=np.int64)
    windows = working_windows(hours)
    rows = np.flatnonzero(valid & (e_utc > s_utc))
    if len(rows):
        s_utc, e_utc = s_utc[rows], e_utc[rows]
        first, _ = _local_ms(pa.array(s_utc, pa.int64()).cast(_UTC_MS), timezone)
        last, _ = _local_ms(pa.array(e_utc, pa.int64()).cast(_UTC_MS), timezone)
        first_day = np.floor_divide(first, _DAY_MS)
        spans = np.floor_divide(last, _DAY_MS) - first_day
        span = int(spans.max())
        # Every local day any row touches: few distinct dates, converted once each.
        days = np.unique(np.concatenate([np.unique(first_day) + k for k in range(span + 1)]))
        bounds = _window_bounds_utc(days, windows, timezone)
        working = _working_day_table(days, hours)
        sums = np.zeros(len(rows), dtype=np.int64)
        for k in range(span + 1):
            touched = np.flatnonzero(spans >= k)
            index = np.searchsorted(days, first_day[touched] + k)
            on_day = working[index]
            for w in range(len(windows)):
                lo = np.maximum(s_utc[touched], bounds[index, w, 0])
                hi = np.minimum(e_utc[touched], bounds[index, w, 1])
                sums[touched] += np.where(on_day, np.maximum(hi - lo, 0), 0)
        total[rows] = sums
    return masked(total / 1000.0, ~valid, pa.float64())
