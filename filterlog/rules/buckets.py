"""Judge a day too big for memory in pieces: its events split by person into buckets spilled to disk.

Every rule groups by person (``Context.who``: the user name, from the log or
the identity map, else the client address), and so does the one enrichment
step that looks across rows (collapsing one person's search keystrokes). So
a person's events, all of them and in their original order, judged apart
from everybody else's, give exactly the findings they give in the whole day.
A large day is therefore streamed once, batch by batch with only the columns
detect reads (``day``); each row's person is worked out as enrichment would,
hashed to one of K buckets, and gathered with that bucket's other rows into
pieces written to Arrow files in a private folder of the workspace. Each
bucket is then read back (about 1/K of the day) and judged like an ordinary day.

Everything here takes file paths, dates and numbers, never a Workspace, so
the same functions run in this process or on Dask workers that see the
workspace at the same path.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from uuid import uuid4

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from ..arrays import indices
from ..enrich.identity import IpMap, attribute
from ..errors import WorkspaceError, out_of_space
from ..parts import Where
from ..storage import arrow_source, delete, delete_folder, failing, is_url, listing, make_parent
from .day import TARGET, DaySource, read_batches
from .day import files as day_files

BUCKET_ROWS = 2_500_000
"""Events of a date judged at once within the default budget of 2 GB (``[detect] memory_gb``).
A day with more is split into ceil(rows / bucket rows) buckets. Judging takes about 0.33 GB per
million events and buckets come out up to a quarter above the mean (people differ in how much
they browse), so this keeps detect well under its budget at any size (1.1-1.3 GB measured)."""


def bucket_rows(memory_gb: float) -> int:
    """Events judged at once within ``memory_gb``: ``BUCKET_ROWS`` for every 2 GB."""
    return max(1, int(BUCKET_ROWS * memory_gb / 2))


SPILL_THREADS = 2
"""Threads reading and cutting events files for the spill: this machine's cores. The workers of a local
cluster, which spill side by side on the same cores, take their share (``cluster.sharing``): on
``local:2`` at 50M events one thread each held 140 MB less than two (the cluster's processes together
1.76-1.79 against 1.91-1.92 GB, 2 pairs), in the same time."""


def buckets_for(rows: int, bucket_rows: int | None = None) -> int:
    """How many buckets a date of ``rows`` events is judged in (1: whole, today's fast path)."""
    return max(1, math.ceil(rows / (bucket_rows or BUCKET_ROWS)))


def person_buckets(events: pa.RecordBatch | pa.Table, ip_map: IpMap | None, k: int) -> np.ndarray:
    """Each row's bucket in [0, k): a stable hash of its person, worked out exactly as the rules' ``who``.

    The person is the logged user, else the identity map's holder of the
    address at that time, else the address (``coalesce_codes`` twice, as
    enrichment and ``Context.who`` do). Names are hashed per distinct value
    with pandas' SipHash, the same in every process and on every machine; the
    map and the address are only consulted for rows the proxy logged no user
    for. The result has the narrowest unsigned type that holds ``k``.
    """
    bucket = _hashed(events.column("user"), k)
    unnamed = np.flatnonzero(bucket == k)
    if len(unnamed) == 0:
        return bucket
    rows = None if len(unnamed) == len(bucket) else pa.array(unnamed, pa.int64())
    address = events.column("client_ip")
    address = address if rows is None else address.take(rows)
    by_address = _hashed(address, k)
    if ip_map is not None and len(ip_map):
        times = events.column("time") if rows is None else events.column("time").take(rows)
        held, _ = attribute(times, address, ip_map)
        by_holder = _hashed(held, k)
        by_address = np.where(by_holder < k, by_holder, by_address)
    by_address[by_address == k] = 0  # no person at all (no user, no address): bucket 0
    bucket[unnamed] = by_address
    return bucket


def _hashed(column: pa.Array | pa.ChunkedArray, k: int) -> np.ndarray:
    """Per row: the bucket its string value hashes to, or ``k`` where it has none (null), narrowest unsigned type.

    Hashed once per dictionary value and spread over the rows by their indices,
    read straight from the Arrow buffer (``arrays.indices``).
    """
    width = np.min_scalar_type(k)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = []
    for chunk in chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = pc.dictionary_encode(pc.cast(chunk, pa.string()))
        names = pc.cast(chunk.dictionary, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        present = np.array([v is not None for v in names], dtype=bool)
        hashed = pd.util.hash_array(np.where(present, names, ""), categorize=False) % np.uint64(k)
        per_name = np.append(np.where(present, hashed, k).astype(width), width.type(k))  # null rows read k
        out.append(np.take(per_name, indices(chunk, len(names))))
    if len(out) == 1:
        return out[0]
    return np.concatenate(out) if out else np.zeros(0, width)


def _bucket_path(folder: str, bucket: int, part: int, piece: int) -> str:
    return f"{folder}/bucket-{bucket:04d}-{part:03d}-{piece:05d}.arrows"


def spill(
    src: DaySource,
    k: int,
    folder: str,
    ip_map: IpMap | None,
    part: int = 0,
    parts: int = 1,
    threads: int = SPILL_THREADS,
) -> list[int]:
    """Stream the date into ``k`` buckets in ``folder``, each person's rows in their original order.

    Returns the rows written per bucket. ``threads`` threads (Arrow and numpy
    release the GIL) read events files and cut each batch into its buckets' rows; this
    thread takes their cuts in file order and gathers each bucket's rows until
    it holds a piece of ``piece_rows(k)``, which one of the threads joins into
    a single batch and writes to a file of its own, numbered so that
    ``read_bucket`` reads a bucket's pieces in order. Few large pieces are what
    judging a bucket wants: its two threads take the GIL for every chunk of
    every column they touch, and 10M events in buckets of 93 chunks each took
    3.9 s to judge against 3.4 s in buckets of 19.

    With ``parts`` > 1 this spills only the ``part``-th of ``parts`` consecutive
    runs of the date's files (Dask workers spill a large date side by side);
    ``read_bucket`` joins a bucket's parts in order, so its rows keep the order
    of the whole date.
    """
    files = list(day_files(src))
    mine = iter(files[part * len(files) // parts : (part + 1) * len(files) // parts])
    gathered = _Gathered(k, piece_rows(k), folder, part)
    try:
        _spill(mine, gathered, ip_map, k, threads)
    except OSError as exc:
        if full := out_of_space(exc):
            need = src.rows * SPILLED_BYTES
            size = f"{need / 1e9:.1f} GB" if need >= 1e9 else f"{max(1, round(need / 1e6))} MB"
            raise WorkspaceError(
                f"{src.day}: {full} in the workspace while setting the day's {src.rows:,} events aside to judge"
                f" them in {k} buckets of people: that takes about {size} ({SPILLED_BYTES} bytes an event"
                " from a Squid log). Make room (or raise [detect] memory_gb, if the machine has the memory)"
                " and run detect again."
            ) from exc
        raise
    return gathered.counts


SPILLED_BYTES = 105
"""Bytes the spill writes per event of a Squid log (the demo's, with referer and user agent: README)."""


def _spill(mine: Iterator[tuple[str, Where]], gathered: _Gathered, ip_map: IpMap | None, k: int, threads: int) -> None:
    """Cut the files on ``threads`` threads, gather their rows and write the pieces as they fill (``spill``)."""
    jobs: deque[tuple[str, Future]] = deque()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        try:

            def cut_next() -> None:
                job = next(mine, None)
                if job is not None:
                    jobs.append(("cut", pool.submit(_cut_file, *job, ip_map, k)))

            def write(pieces: list[tuple[str, list[pa.RecordBatch]]]) -> None:
                jobs.extend(("write", pool.submit(_write_piece, *piece)) for piece in pieces)

            for _ in range(threads + 1):
                cut_next()
            while jobs:
                kind, future = jobs.popleft()
                if kind == "write":
                    future.result()
                    continue
                write(gathered.add(future.result()))
                cut_next()
                if all(kind == "write" for kind, _ in jobs):  # the last file is cut: write what is left
                    write(gathered.rest())
        finally:
            for _, future in jobs:
                future.cancel()


PIECE_ROWS = 131_072
"""Rows gathered for a bucket before they are written as one piece (fewer at large K: ``piece_rows``)."""

HELD_ROWS = 2_097_152
"""Rows the spill may hold while it gathers pieces, about 260 MB: each piece keeps its batch alive until written."""


def piece_rows(k: int) -> int:
    """Rows per written piece for ``k`` buckets: ``PIECE_ROWS``, less where K of them would exceed ``HELD_ROWS``."""
    return max(1, min(PIECE_ROWS, HELD_ROWS // k))


class _Gathered:
    """Each bucket's cut rows waiting to be written, in file order, and the rows counted per bucket."""

    def __init__(self, k: int, piece: int, folder: str, part: int) -> None:
        self.piece, self.folder, self.part = piece, folder, part
        self.counts = [0] * k
        self.waiting: list[list[pa.RecordBatch]] = [[] for _ in range(k)]
        self.written = [0] * k

    def add(self, cut: list[tuple[int, pa.RecordBatch]]) -> list[tuple[str, list[pa.RecordBatch]]]:
        """Take one file's cut rows; the pieces now full, as (path, batches) to write."""
        for b, rows in cut:
            self.waiting[b].append(rows)
            self.counts[b] += rows.num_rows
        full = {b for b, _ in cut if sum(rows.num_rows for rows in self.waiting[b]) >= self.piece}
        return [self._take(b) for b in sorted(full)]

    def rest(self) -> list[tuple[str, list[pa.RecordBatch]]]:
        """Every bucket's last piece, however small."""
        return [self._take(b) for b, waiting in enumerate(self.waiting) if waiting]

    def _take(self, b: int) -> tuple[str, list[pa.RecordBatch]]:
        path = _bucket_path(self.folder, b, self.part, self.written[b])
        batches, self.waiting[b] = self.waiting[b], []
        self.written[b] += 1
        return path, batches


def _cut_file(path: str, where: Where, ip_map: IpMap | None, k: int) -> list[tuple[int, pa.RecordBatch]]:
    """One events file read and cut into its buckets' rows: (bucket, rows) in file order (a task of the spill)."""
    return [piece for batch in read_batches(path, where) for piece in _split(batch, ip_map, k)]


def _split(batch: pa.RecordBatch, ip_map: IpMap | None, k: int) -> list[tuple[int, pa.RecordBatch]]:
    """A batch cut into its buckets' rows, each in the batch's order, without its columns that hold only nulls.

    Most logs leave some columns empty in every row (Squid's: device, bytes
    out, vendor category); ``read_bucket`` gives them back as nulls.
    """
    # of the narrowest unsigned type: numpy's stable sort is then a radix sort, 5x quicker than on int64
    bucket = person_buckets(batch, ip_map, k)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(k + 1))
    filled = [
        name for name, column in zip(batch.schema.names, batch.columns, strict=True) if column.null_count < len(column)
    ]
    ordered = (batch if len(filled) == batch.num_columns else batch.select(filled)).take(pa.array(order))
    return [
        (int(b), ordered.slice(int(bounds[b]), int(bounds[b + 1] - bounds[b]))) for b in np.flatnonzero(np.diff(bounds))
    ]


def _write_piece(path: str, batches: list[pa.RecordBatch]) -> None:
    """A bucket's gathered rows written to a new private file as one batch (one dictionary per column).

    A column none of its batches has values in is left out; one that only some have is filled with nulls.
    The new (empty) file is opened again to append, not to write: ext4 starts writing a file to disk
    when it is closed after being truncated on open, which sent every spilled byte to the disk (a
    50M-event day straight after its ingest, 2 pairs: detect 33.1-39.7 -> 27.4-30.3 s).
    At a URL (``scratch``) the piece is one object, written whole.
    """
    present = {name for rows in batches for name in rows.schema.names}
    if any(len(present) != rows.num_columns for rows in batches):
        batches = [_widened(rows, [f for f in TARGET if f.name in present]) for rows in batches]
    piece = pa.Table.from_batches(batches)
    if len(batches) > 1:
        piece = piece.unify_dictionaries().combine_chunks()
    inner, filesystem = arrow_source(path)
    if filesystem is not None:
        with (
            failing(path, "write the spill there"),
            filesystem.open_output_stream(inner) as sink,
            ipc.new_stream(sink, piece.schema) as writer,
        ):
            writer.write_table(piece)
        return
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with pa.OSFile(path, "a") as sink, ipc.new_stream(sink, piece.schema) as writer:
        writer.write_table(piece)


def _widened(rows: pa.RecordBatch | pa.Table, fields: list[pa.Field]) -> pa.RecordBatch | pa.Table:
    """``rows`` with exactly ``fields``, in their order: those it lacks are all null."""
    columns = [rows.column(f.name) if f.name in rows.schema.names else pa.nulls(rows.num_rows, f.type) for f in fields]
    kind = pa.RecordBatch if isinstance(rows, pa.RecordBatch) else pa.Table
    return kind.from_arrays(columns, schema=pa.schema(fields))


def read_bucket(folder: str, bucket: int) -> pa.Table:
    """One spilled bucket's events, its parts in order (empty table with the events' columns if it got none).

    Mapped, not read: the columns are the page cache's pages, so a bucket costs
    no fresh memory to fill (10M events in 4 buckets: 1.16 -> 1.09 GB peak). The columns
    a piece left out (null in every row) come back as nulls.
    """
    tables = []
    for path in _bucket_files(folder, bucket):
        inner, filesystem = arrow_source(path)
        if filesystem is not None:  # read whole into memory: an object store has no pages to map
            with failing(path, "read the spill"), filesystem.open_input_file(inner) as f:
                piece = ipc.open_stream(f).read_all()
        else:
            with pa.memory_map(path) as f:
                piece = ipc.open_stream(f).read_all()
        tables.append(piece if piece.num_columns == len(TARGET) else _widened(piece, list(TARGET)))
    return pa.concat_tables(tables) if tables else TARGET.empty_table()


def remove_bucket(folder: str, bucket: int) -> None:
    """Delete a judged bucket's files (the scratch folder's removal catches any this leaves)."""
    delete(_bucket_files(folder, bucket))


def _bucket_files(folder: str, bucket: int) -> list[str]:
    """A bucket's spilled files in the order their rows had in the date."""
    head = f"bucket-{bucket:04d}-"
    names = [n for n in listing(folder) if n.startswith(head) and n.endswith(".arrows")]
    return [f"{folder}/{n}" for n in sorted(names, key=_spilled_order)]


def _spilled_order(name: str) -> tuple[int, ...]:
    """(part, piece) of a spilled file: the order its rows had in the date, whatever the width of the numbers."""
    return tuple(int(n) for n in name.removesuffix(".arrows").split("-")[2:])


def spill_parts(src: DaySource, most: int) -> int:
    """Into how many parts a date's spill can be cut for ``most`` workers: at least one events file each."""
    return max(1, min(most, len(src.before) + len(src.own) + len(src.after)))


@contextmanager
def scratch(where: Path | str) -> Iterator[str]:
    """A private folder for spilled buckets, removed afterwards, also on error.

    Inside the workspace (0700), not /tmp: it holds personal data, and Dask
    workers see the workspace's storage but not this machine's /tmp. Workers
    of a running cluster that do not see the workspace spill at the URL its
    events are kept at (``where`` a URL), which they all reach.
    """
    if isinstance(where, str) and is_url(where):
        folder = f"{where.rstrip('/')}/.detect-{uuid4().hex}"
        try:
            yield folder
        finally:
            delete_folder(folder)
        return
    local = tempfile.mkdtemp(prefix=".detect-", dir=where)
    try:
        yield local
    finally:
        shutil.rmtree(local, ignore_errors=True)


def day_folder(folder: str, day: date) -> str:
    """A date's folder in the scratch folder (none is made at a URL: object stores need none)."""
    path = f"{folder}/{day.isoformat()}"
    if is_url(path):
        make_parent(f"{path}/piece")  # a file:// URL's folders
    else:
        os.mkdir(path, 0o700)
    return path
