"""Part files of one ingest: written aside as ``.tmp``, then moved in with the manifest row, or thrown away.

Parsing threads, and Dask workers, each write their own part files; only the
process holding the workspace database commits them. How events are laid out
in Parquet (codec, dictionary pages, statistics) is decided here, once, and
so is how they are read back (``read_file``, ``read_parts``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import WorkspaceError
from .schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from .storage import EventStore, arrow_source, delete, failing, make_parent

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem

    from .workspace import Workspace

COMPRESSION = "zstd"
"""Parquet codec: zstd stores proxy logs in about a third of snappy's space at similar speed."""
_UTC = pa.timestamp("ms", tz="UTC")
DICTIONARY_COLUMNS = [
    "client_ip", "user", "user_raw", "device", "method", "scheme", "host", "action", "vendor_action",
    "content_type", "vendor_category", "user_agent", "referer", "source_format", "source_id",
]  # fmt: skip
"""Columns that repeat: dictionary pages pay. URLs, paths and queries are mostly unique: they don't.
A referer is a URL too, but the page that asked for a dozen resources: stored as a dictionary it is
5 % smaller and cheaper to write, and detect reads it as codes without hashing strings. (Where a
column chunk's dictionary outgrows its page, Parquet falls back to plain values by itself.)"""
STATISTICS_COLUMNS = ["time", "source_line", "status", "bytes_in", "duration_ms"]
"""Min/max statistics where readers filter (time ranges, line lookups); strings skip the cost."""
DELTA_COLUMNS = dict.fromkeys(("time", "source_line", "bytes_in", "bytes_out"), "DELTA_BINARY_PACKED")
"""Integers stored as differences: times and line numbers climb, so they shrink to a few bits each.
Against plain values and zstd, a Squid block's four columns write in half the time (7.1 against
13.4 ms per 108k rows) and read in under half; ``time`` is a quarter smaller and ``source_line``
a hundredth, ``bytes_in`` the same. ``duration_ms`` stays plain: as differences it is 45 % larger."""


class PartWriter:
    """Writes one ingest's events and quarantine where they wait for an IngestWriter to commit them.

    Events go to ``events/date=D/<ingest_id>-<block>.parquet``: one file per run of
    consecutive blocks and local date (``ingest.gather``), named by its first block,
    so parsing threads can each write their own file in parallel. In a folder they
    are written as ``.tmp`` beside that name; at a URL (``storage``), under it at once.
    Holds no database: a Dask worker writes parts with one of its own, and the
    client's IngestWriter adopts them (``adopt``) to commit or abort them.
    """

    def __init__(self, location: str | Path, ingest_id: str) -> None:
        self.store = EventStore(str(location))
        self.ingest_id = ingest_id
        self._quarantine: pq.ParquetWriter | None = None
        self._tmp: list[tuple[str, str]] = []
        self._guard = threading.Lock()

    @property
    def parts(self) -> list[tuple[str, str]]:
        """The (as written, final) paths written so far: the same path twice at a URL."""
        with self._guard:
            return list(self._tmp)

    def _target(self, final: str) -> tuple[str, FileSystem | None]:
        """Where to write the file that becomes ``final``, and the filesystem to write it with (None: this disk)."""
        if self.store.remote:
            with self._guard:
                self._tmp.append((final, final))
            with failing(self.store.location, "write events there"):
                make_parent(final)
            return arrow_source(final)
        return str(self._tmp_for(Path(final))), None

    def _tmp_for(self, final: Path) -> Path:
        """A new owner-only temporary file for ``final``, which the caller then opens by name and truncates.

        On ext4 that truncation makes closing the file start writing it to disk:
        the events must reach it anyway (``commit`` syncs them), and so the writes
        overlap the parsing (writing through the descriptor instead, which leaves
        it all to the commit, was no faster: 10M lines in 4 alternating pairs,
        12.3-13.6 s either way). Detect's scratch files must not do this
        (``rules.buckets._write_piece``).
        """
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = final.with_name(final.name + ".tmp")
        with self._guard:
            self._tmp.append((str(tmp), str(final)))
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        return tmp

    def write_events(self, day: str, block: int, events: pa.Table) -> None:
        """Write the events of one local date (``YYYY-MM-DD``) from ``block`` on; safe from any thread."""
        where, filesystem = self._target(f"{self.store.day(day)}/{self.ingest_id}-{block:05d}.parquet")
        with failing(self.store.location, "write events there"):
            pq.write_table(
                events,
                where,
                filesystem=filesystem,
                compression=COMPRESSION,
                row_group_size=1 << 20,
                use_dictionary=DICTIONARY_COLUMNS,
                write_statistics=STATISTICS_COLUMNS,
                column_encoding=DELTA_COLUMNS,
            )

    def write_quarantine(self, rows: pa.Table) -> None:
        """Append rejected lines (one thread only)."""
        if self._quarantine is None:
            where, filesystem = self._target(self.store.quarantine(self.ingest_id))
            with failing(self.store.location, "write the quarantine there"):
                self._quarantine = pq.ParquetWriter(
                    where, QUARANTINE_SCHEMA, filesystem=filesystem, compression=COMPRESSION
                )
        with failing(self.store.location, "write the quarantine there"):
            self._quarantine.write_table(rows)

    def close(self) -> None:
        """Finish the quarantine file, if any."""
        if self._quarantine is not None:
            writer, self._quarantine = self._quarantine, None
            with failing(self.store.location, "write the quarantine there"):
                writer.close()

    def discard(self) -> None:
        """Delete every file written and not yet committed (after a failure)."""
        try:
            self.close()
        except OSError:
            pass
        delete([tmp for tmp, _ in self._tmp])


class IngestWriter(PartWriter):
    """The parts of one ingest and its manifest row: committed at once, or thrown away."""

    def __init__(self, ws: Workspace, ingest_id: str) -> None:
        super().__init__(ws.storage.location, ingest_id)
        self.ws = ws

    def adopt(self, parts: list[tuple[str, str]]) -> None:
        """Take over parts a Dask worker wrote (``PartWriter.parts``), to commit or abort them with the rest."""
        with self._guard:
            self._tmp.extend((str(tmp), str(final)) for tmp, final in parts)

    def commit(self, counts: dict[str, object]) -> None:
        """Close, flush to disk, move files into place, and mark the manifest row done.

        At a URL every part is in place once written (``close`` ends the quarantine's
        upload): marking the row done is the whole commit.
        """
        self.close()
        if not self.store.remote:
            for tmp, _ in self._tmp:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            for tmp, final in self._tmp:
                os.replace(tmp, final)
        sets = ", ".join(f"{k} = ?" for k in counts)
        self.ws.db.execute(
            f"UPDATE ingests SET {sets}, state = 'done' WHERE ingest_id = ?", (*counts.values(), self.ingest_id)
        )

    def abort(self) -> None:
        """Throw away everything this ingest wrote."""
        self.discard()
        delete([final for _, final in self._tmp])
        self.ws.db.execute("DELETE FROM ingests WHERE ingest_id = ?", (self.ingest_id,))


Where = tuple[str, int] | None
"""A time filter on an events file's rows: (">=" or "<=", epoch ms), or None for every row."""


def events_schema(columns: Sequence[str] | None = None, dictionaries: Sequence[str] = ()) -> pa.Schema:
    """``EVENT_SCHEMA`` (or those ``columns`` of it), the ``dictionaries`` columns dictionary-encoded.

    Read so, as they are stored, such columns build no per-event strings.
    """
    schema = EVENT_SCHEMA
    for name in dictionaries:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_type(pa.dictionary(pa.int32(), pa.string())))
    return schema if columns is None else pa.schema([schema.field(name) for name in columns])


def read_file(
    path: str | Path, schema: pa.Schema, where: Where = None, batch_rows: int = 1 << 18
) -> list[pa.RecordBatch]:
    """One events file's rows (those ``where`` keeps) as ``schema``, in batches of at most ``batch_rows``.

    Dictionary columns are read as stored; a neighbour day's margin (its first
    or last half hour or so) skips the other row groups unread by their time statistics.
    Columns are decoded on the calling thread: every caller reads two files at
    a time on threads of its own, and Arrow's pool of two under them made four
    threads for two cores (detect's spill of 10M events: 2.72 -> 2.31 s).
    """
    dictionaries = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    try:
        with failing(str(path), "read events"):
            source, filesystem = arrow_source(str(path))
            reader = pq.ParquetFile(source, read_dictionary=dictionaries, filesystem=filesystem)
            groups = _groups(reader.metadata, where)
            batches = []
            for batch in reader.iter_batches(batch_rows, groups, schema.names, use_threads=False):
                batch = _kept(batch if batch.schema.equals(schema) else batch.cast(schema), where)
                if batch.num_rows:
                    batches.append(batch)
            return batches
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{path}: cannot read events: {exc}") from exc


def read_parts(files: Iterable[tuple[str | Path, Where]], schema: pa.Schema) -> pa.Table:
    """Events files' rows (each with its ``where``), in order, as ``schema``: files read on two threads.

    Arrow's dataset reader, given dictionary types, decoded the stored
    dictionaries to strings and encoded them again: twice the CPU.
    """
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="filterlog-read") as pool:
        files = list(pool.map(lambda job: read_file(job[0], schema, job[1]), files))
    return pa.Table.from_batches([batch for batches in files for batch in batches], schema)


def _groups(meta: pq.FileMetaData, where: Where) -> list[int]:
    """The row groups that may hold rows ``where`` keeps, by their time statistics."""
    every = list(range(meta.num_row_groups))
    index = meta.schema.to_arrow_schema().get_field_index("time")
    if where is None or index < 0:
        return every
    op, ms = where
    kept = []
    for i in every:
        stats = meta.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max:
            kept.append(i)
            continue
        lo, hi = pa.array([stats.min, stats.max], _UTC).cast(pa.int64()).to_pylist()
        if (hi >= ms) if op == ">=" else (lo <= ms):
            kept.append(i)
    return kept


def _kept(rows: pa.RecordBatch, where: Where) -> pa.RecordBatch:
    if where is None:
        return rows
    op, ms = where
    bound = pa.scalar(ms, pa.int64()).cast(_UTC)
    test = pc.greater_equal if op == ">=" else pc.less_equal
    return rows.filter(test(rows.column("time"), bound))
