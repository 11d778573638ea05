"""What a rule sees: the enriched events of the days being judged, and column helpers shared by all rules.

Rules pick the few rows they care about with whole-column Arrow masks first
and only then build a pandas frame of those rows; the frame's index is the row
position in ``events``, which is how findings point back at their evidence.
Derived columns every rule wants (who, local date, when a tunnel opened) are
computed once per run and cached here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import bools, sorted_distinct, spread
from ..config import Config
from ..enrich.calendar import local_dates, working_seconds
from ..enrich.identity import coalesce_codes

DERIVED = ("who", "local_date", "opened", "work_seconds", "transferred")
"""Columns ``frame`` can add that are not in the enriched schema."""

STATIC_PATH = r"\.(?:js|mjs|css|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf|eot|map|json|mp4|m4s|ts|webm|mp3)$"
"""Path endings of page resources (scripts, styles, images, fonts, media segments): what a page
fetches by itself, as opposed to what a person asks for. Match on the lower-cased path."""


FEW_ROWS = 64
"""``Context.take`` picks rows chunk by chunk when it wants fewer than one in this many, else filters."""


def _pick(column: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array | pa.ChunkedArray:
    """The sorted distinct ``rows`` of a column, taken from each chunk that holds some."""
    if isinstance(column, pa.Array):
        return column.take(pa.array(rows, pa.int64()))
    starts = np.cumsum([0, *(len(c) for c in column.chunks)])
    cuts = np.searchsorted(rows, starts)
    pieces = [
        chunk.take(pa.array(rows[cuts[i] : cuts[i + 1]] - starts[i], pa.int64()))
        for i, chunk in enumerate(column.chunks)
        if cuts[i + 1] > cuts[i]
    ]
    return pa.chunked_array(pieces, column.type)


class Context:
    """The enriched events and the site configuration.

    Columns stay in the chunks they were read in: combining a 10M-row table
    would copy all of it, and every operation here works on chunked columns.
    """

    def __init__(self, events: pa.Table, config: Config) -> None:
        self.events = events
        self._masks: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self.config = config
        self.timezone = config.site.timezone
        self.hours = config.working_hours

    def __len__(self) -> int:
        return self.events.num_rows

    def column(self, name: str) -> pa.Array | pa.ChunkedArray:
        """An events column, or one of ``DERIVED``."""
        if name in DERIVED:
            return getattr(self, name)
        if name not in self.events.column_names:
            raise KeyError(f"column {name!r} is not loaded for rules (see engine.UNREAD)")
        return self.events.column(name)

    # derived columns -------------------------------------------------------
    @cached_property
    def who(self) -> pa.DictionaryArray:
        """The person: the user name where known, else the client address (dictionary-encoded strings)."""
        return coalesce_codes(self.events.column("user"), self.events.column("client_ip"))

    @cached_property
    def local_date(self) -> pa.Array:
        """Local calendar date of each event in the site's time zone: per-day rules group by it."""
        return local_dates(self.events.column("time"), self.timezone)

    @cached_property
    def opened(self) -> pa.Array:
        """When each request started: logged time minus its duration (a tunnel is logged when it closes)."""
        time = self.events.column("time")
        ms = pc.cast(time, pa.int64())
        duration = pc.fill_null(self.events.column("duration_ms"), 0)
        return pc.cast(pc.subtract(ms, pc.max_element_wise(duration, 0)), pa.timestamp("ms", tz="UTC")).combine_chunks()

    @cached_property
    def work_seconds(self) -> pa.Array:
        """Seconds of [opened, logged] inside working hours (breaks excluded): a point request counts 0 or its span."""
        return working_seconds(self.opened, self.events.column("time"), self.hours, self.timezone)

    @cached_property
    def transferred(self) -> pa.Array:
        """Bytes each request moved, download plus upload, a side not logged counting 0 (int64)."""
        down = pc.fill_null(self.events.column("bytes_in"), 0)
        return pc.add(down, pc.fill_null(self.events.column("bytes_out"), 0)).combine_chunks()

    def spans(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For ``rows``: when each opened (epoch ms), seconds open, and seconds of that in working time.

        Uses ``work_seconds`` if a rule already computed it for every row;
        otherwise works out only these rows (a few tunnels, not ten million requests).
        """
        picked = self.take(rows, ["time", "duration_ms"])
        end = np.asarray(pc.cast(picked.column("time"), pa.int64()).to_numpy(), dtype=np.int64)
        duration = np.maximum(np.asarray(pc.fill_null(picked.column("duration_ms"), 0).to_numpy(), np.int64), 0)
        opened = end - duration
        if "work_seconds" in self.__dict__:
            work = self.work_seconds.take(pa.array(rows, pa.int64()))
        else:
            utc = pa.timestamp("ms", tz="UTC")
            start, stop = pa.array(opened, pa.int64()).cast(utc), pa.array(end, pa.int64()).cast(utc)
            work = working_seconds(start, stop, self.hours, self.timezone)
        work = np.asarray(pc.fill_null(work, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        return opened, duration / 1000.0, work

    # selections ------------------------------------------------------------
    def is_in(self, name: str, values: Iterable[str]) -> np.ndarray:
        """Boolean mask: the (string or dictionary) column's value is one of ``values``; null is False.

        Cached: every rule asks for ``action == allowed`` and its categories, and
        on a dictionary column the test runs on the few distinct values only.
        """
        wanted = tuple(sorted(set(values)))
        key = (name, wanted)
        if key not in self._masks:
            col = self.column(name)
            chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
            value_set = pa.array(wanted, pa.string())
            parts = []
            for chunk in chunks:
                if pa.types.is_dictionary(chunk.type):
                    parts.append(spread(pc.is_in(chunk.dictionary, value_set=value_set), chunk))
                else:
                    mask = pc.fill_null(pc.is_in(chunk, value_set=value_set), False)
                    parts.append(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool))
            mask = np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
            mask.flags.writeable = False  # shared between rules: combine with &, never modify in place
            self._masks[key] = mask
        return self._masks[key]

    def mask(self, expression: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """An Arrow boolean result as a numpy mask, null as False."""
        filled = pc.fill_null(expression, False)
        if isinstance(filled, pa.ChunkedArray):
            filled = filled.combine_chunks()
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)

    def take(self, positions: np.ndarray, columns: Sequence[str]) -> pa.Table:
        """The given rows (any order, repeats allowed) of some columns, as a small Arrow table.

        ``take`` on a chunked 10M-row column first glues its chunks together
        (a whole-column copy). So the distinct rows are picked out once, chunk
        by chunk where they are few (a rule's evidence: cost by rows picked),
        else by one mask filter (cost by column length), and the small result is indexed.
        """
        positions = np.asarray(positions, dtype=np.int64)
        distinct = sorted_distinct(positions)
        if len(distinct) * FEW_ROWS < len(self):
            arrays = {name: _pick(self.column(name), distinct) for name in columns}
        else:
            mask = np.zeros(len(self), dtype=bool)
            mask[distinct] = True
            keep = bools(mask)
            stored = [c for c in columns if c not in DERIVED]
            arrays = {}
            if stored:
                sub = self.events.select(stored).filter(keep)
                arrays.update({name: sub.column(name) for name in stored})
            for name in columns:
                if name in DERIVED:
                    arrays[name] = self.column(name).filter(keep)
        if not columns:
            return pa.table({})
        table = pa.table({name: arrays[name] for name in columns})
        if distinct is positions:  # the rows asked for, in order, each once: as picked
            return table
        return table.take(pa.array(np.searchsorted(distinct, positions), pa.int64()))

    def frame(self, rows: np.ndarray | None, columns: Sequence[str]) -> pd.DataFrame:
        """A pandas frame of the chosen rows (boolean mask or positions) and columns, indexed by row position.

        Dictionary columns come back as plain strings: a day's table joins files
        whose dictionaries may repeat a value, which pandas refuses as categories.
        """
        if rows is None:
            positions = np.arange(len(self), dtype=np.int64)
        elif rows.dtype == bool:
            positions = np.flatnonzero(rows).astype(np.int64)
        else:
            positions = np.asarray(rows, dtype=np.int64)
        table = self.take(positions, columns)
        arrays = {}
        for name in columns:
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = pc.cast(col, col.type.value_type)
            arrays[name] = col
        if arrays:
            frame = pa.table(arrays).to_pandas(date_as_object=False)
        else:
            frame = pd.DataFrame(index=range(len(positions)))
        frame.index = pd.Index(positions, name="row")
        return frame
