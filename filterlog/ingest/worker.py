"""What a Dask worker runs for ingest (``distributed.py`` sends it): parse a run of chunks, or stream a whole file.

Workers get picklable descriptions of work (paths, offsets, the reader
class, the time zone, never a workspace or its database) and write event
Parquet to the very ``.tmp`` paths the in-process writer would use; what
they send back is counts, rejected lines and the paths they wrote, which the
client adopts and commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..errors import FilterlogError
from ..parts import PartWriter
from .base import Reader
from .chunks import Chunk
from .gather import EventFiles
from .source import Block, Source
from .stream import Job, Resume, Tally, held_back, parse_block, prefix, quarantine_rows, stream


@dataclass(frozen=True)
class FileWork:
    """What a worker needs to read a file: no workspace, no database, only paths and settings."""

    path: str
    """Absolute: the worker's working directory is not ours."""
    name: str
    """As the user named it, for messages and quarantine rows."""
    reader: type[Reader]
    tz: str
    sha: str
    store: str
    """Where the events go (``storage``): the workspace directory, absolute, or a URL."""
    ingest_id: str
    hold_fragment: bool
    file_rows: int | None = None
    """Events gathered into one events file (default ``gather.FILE_ROWS``)."""


@dataclass
class Piece:
    """A parsed chunk: its counts, its rejected lines and the files its events went to."""

    chunk: Chunk
    events: int
    skipped: int
    repaired: int
    quarantined: int
    quarantine: pa.Table | None
    span: tuple[int, int] | None
    held: bool
    """An unterminated last line left for the next run: nothing counted, nothing written."""
    parts: list[tuple[str, str]]
    """The files a task wrote, on the last piece of its run (they gather the run's chunks)."""


@dataclass
class Streamed:
    """A file read whole on a worker: its tally, its content hash (compressed files) and its files."""

    tally: Tally
    content_sha: str | None
    parts: list[tuple[str, str]]


def parse_chunks(work: FileWork, chunks: list[Chunk]) -> list[Piece]:
    """Parse consecutive chunks of a file in turn and write their events (a Dask task); on failure none is kept.

    Their events are gathered into files as in-process (``gather.EventFiles``),
    within the run; the last piece carries the files written.
    """
    writer = PartWriter(work.store, work.ingest_id)
    try:
        files = EventFiles(writer, rows=work.file_rows)
        pieces = []
        for chunk in chunks:
            piece, days = _parse_chunk(work, chunk)
            files.add(chunk.number, days)
            pieces.append(piece)
        files.close()
        pieces[-1].parts = writer.parts
        return pieces
    except BaseException as exc:
        writer.discard()
        raise _portable(exc, work) from None


def _parse_chunk(work: FileWork, chunk: Chunk) -> tuple[Piece, list[tuple[str, pa.Table]]]:
    """Read and parse one chunk: its counts and rejected lines, and its events per local date."""
    data = bytearray(chunk.hi - chunk.lo)  # the reader's own, as in-process blocks are
    with open(work.path, "rb") as f:
        f.seek(chunk.lo)
        got = f.readinto(data)
    if got != chunk.hi - chunk.lo:
        raise FilterlogError(f"{work.name}: file shrank while being read (truncated or rotated in place?)")
    text = data if chunk.terminated else data + b"\n"
    block = Block(text, chunk.first_line, chunk.lines, chunk.hi, chunk.terminated)
    reader = work.reader(timezone=work.tz)
    block, parsed, span, days = parse_block(reader, work.sha, work.tz, work.hold_fragment, block)
    held = held_back(block, parsed, work.hold_fragment)
    rows = quarantine_rows(block, parsed, work.sha, work.name) if parsed.bad_lines and not held else None
    piece = Piece(
        chunk, parsed.events.num_rows, parsed.skipped, parsed.repaired, len(parsed.bad_lines), rows, span, held, []
    )  # fmt: skip
    return piece, days


def stream_file(work: FileWork, start: tuple[int, int, bool], block_size: int, limit: int | None) -> Streamed:
    """Read a whole file as the in-process engine does, from ``start`` (offset, first line, mid line)."""
    writer = PartWriter(work.store, work.ingest_id)
    try:
        src = Source(Path(work.path))
        reader = work.reader(timezone=work.tz)
        plain = src.compression is None
        offset, first_line, mid_line = start
        hasher = hashlib.sha256()
        if offset:
            _prefix(src, offset, reader, None if plain else hasher)
        job = Job(
            src, reader, writer, work.sha, work.tz, block_size, 1, Resume(offset, first_line, hasher, mid_line),
            hash_content=not plain, limit=limit, hold_fragment=work.hold_fragment, name=work.name,
            file_rows=work.file_rows,
        )  # fmt: skip
        tally = stream(job)
        writer.close()
        return Streamed(tally, None if plain else hasher.hexdigest(), writer.parts)
    except BaseException as exc:
        writer.discard()
        raise _portable(exc, work) from None


def _prefix(src: Source, offset: int, reader: Reader, hasher: hashlib._Hash | None) -> None:
    """Show the reader (and the hash) the content before ``offset``, in whole lines, as ``resume_point`` did."""
    for chunk, lines in prefix(src, offset):
        if hasher is not None:
            hasher.update(chunk)
        if lines:
            reader.prime(lines)


def _portable(exc: BaseException, work: FileWork) -> BaseException:
    """An exception that survives pickling back to the client, naming the file as the user did.

    InputError's constructor takes more than its message, so it cannot be
    rebuilt from its pickled arguments: it travels as a plain FilterlogError.
    """
    if isinstance(exc, FilterlogError):
        return FilterlogError(str(exc).replace(work.path, work.name, 1))
    return exc
