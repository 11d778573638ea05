"""The raw source line behind each event, fetched from the log files and checked against their hashes.

An audit trail is only as good as its provenance: a line shown to a disciplinary
panel must be the very line filterlog read. Each event carries the SHA-256 of
its file as ingested (``source_id``) and its whole-file line number; the
manifest says where that file was. Each file is read once, from the start to
the end of what was ingested, hashing as it goes. Checking needs that whole
prefix, so the pass cannot stop at the last wanted line, but it only looks for
line breaks in the blocks that hold a wanted line. If the hash of the prefix
still matches the manifest, the lines are the ones ingested: a log that has
grown keeps its old lines intact, and an appended ingest numbers its lines on
from the earlier ones, so one pass serves every ingest of the file. A file
that is gone, or whose ingested part no longer hashes the same, gives no lines
at all, with the reason, rather than lines that might differ from the evidence.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import masked, sorted_distinct
from ..ingest.source import Source
from ..workspace import ManifestRow, Workspace
from .files import sha256_file

_CHUNK = 8 << 20


@dataclass
class SourceCheck:
    """One source file of an audit: where it was, its hash at ingest, and what checking it now found."""

    source_id: str
    """SHA-256 of the file as ingested (the events' ``source_id``)."""
    path: str
    format: str
    ingested_at: str
    first_line: int
    end_line: int
    verified: bool
    status: str
    """One plain sentence: unchanged, grown with the ingested lines intact, missing or changed."""
    events: int = 0
    """How many of the audited events came from this ingest."""
    lines_found: int = 0


@dataclass
class RawLines:
    """Raw lines aligned with the events asked about, and the check of every source file."""

    lines: pa.Array
    """The line as logged (without its line ending), null where unavailable."""
    notes: pa.Array
    """Why the line is unavailable, null where it is there."""
    sources: list[SourceCheck] = field(default_factory=list)


@dataclass
class _Found:
    """Lines read from one file: their numbers (ascending) and texts."""

    numbers: np.ndarray
    texts: pa.Array

    def lookup(self, wanted: np.ndarray) -> pa.Array:
        """The text of each wanted line number, null where the file had no such line."""
        if not len(self.numbers):
            return pa.nulls(len(wanted), pa.string())
        at = np.minimum(np.searchsorted(self.numbers, wanted), len(self.numbers) - 1)
        hit = self.numbers[at] == wanted
        return self.texts.take(masked(at, ~hit))


_NOTHING = _Found(np.empty(0, np.int64), pa.array([], pa.string()))


def fetch(ws: Workspace, source_id: pa.Array | pa.ChunkedArray, source_line: pa.Array | pa.ChunkedArray) -> RawLines:
    """The raw line of each (source_id, source_line) pair, reading each source file once."""
    ids = pc.cast(source_id, pa.string())
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    enc = pc.dictionary_encode(ids)
    codes = np.asarray(enc.indices.fill_null(-1), dtype=np.int64)
    numbers = np.asarray(pc.fill_null(source_line, 0), dtype=np.int64)
    n = len(numbers)
    lines = pa.nulls(n, pa.string())
    notes = pa.nulls(n, pa.string())
    known: dict[str, ManifestRow] = {}
    for row in ws.manifest():
        known.setdefault(row.sha256, row)
    checks: list[SourceCheck] = []
    by_path: dict[str, list[tuple[int, ManifestRow]]] = defaultdict(list)
    for code, sid in enumerate(enc.dictionary.to_pylist()):
        row = known.get(sid)
        if row is None:
            why = "source file not in the ingest manifest (forgotten or purged)"
            mine = codes == code
            notes = _put(notes, mine, pa.scalar(why))
            checks.append(SourceCheck(sid, "", "", "", 0, 0, False, why, int(mine.sum())))
            continue
        by_path[row.path].append((code, row))
    for path, rows in by_path.items():
        wanted = sorted_distinct(numbers[np.isin(codes, [code for code, _ in rows])])
        found, verdicts = _read_file(Path(path), [row for _, row in rows], wanted)
        for (code, row), (ok, status) in zip(rows, verdicts, strict=True):
            mine = codes == code
            check = SourceCheck(row.sha256, row.path, row.format or "", row.ingested_at, row.first_line,
                                row.end_line, ok, status, int(mine.sum()))  # fmt: skip
            checks.append(check)
            if not ok:
                notes = _put(notes, mine, pa.scalar(status))
                continue
            text = found.lookup(numbers[mine])
            lines = _put(lines, mine, text)
            missing = pc.is_null(text).to_numpy(zero_copy_only=False)
            lost = np.zeros(n, dtype=bool)
            lost[np.flatnonzero(mine)[missing]] = True
            notes = _put(notes, lost, pa.scalar("line not found in the source file"))
            check.lines_found = len(sorted_distinct(numbers[mine][~missing]))
    checks.sort(key=lambda c: (c.path, c.first_line, c.source_id))
    return RawLines(lines, notes, checks)


def _put(column: pa.Array, mask: np.ndarray, values: pa.Array | pa.Scalar) -> pa.Array:
    """``column`` with the rows under ``mask`` replaced by ``values`` (one per masked row, or one for all)."""
    if not mask.any():
        return column
    if isinstance(values, pa.Scalar):
        return pc.if_else(pa.array(mask), values, column)
    if len(values) == 0:
        return column
    spread = values.take(pa.array(np.maximum(np.cumsum(mask) - 1, 0)))  # row i gets the value of the masked row <= i
    return pc.if_else(pa.array(mask), spread, column)


def _read_file(path: Path, rows: list[ManifestRow], wanted: np.ndarray) -> tuple[_Found, list[tuple[bool, str]]]:
    """The wanted lines of one file, and per ingest (``rows``) whether its part of the file is unchanged."""
    if not path.is_file():
        why = f"source file not found at {path} (moved, renamed or deleted since ingest)"
        return _NOTHING, [(False, why)] * len(rows)
    try:
        size = os.stat(path).st_size
        stops = sorted({r.content_bytes for r in rows if r.content_sha256})
        found, digests = _scan(Source(path), max(r.content_bytes for r in rows), stops, wanted)
    except OSError as exc:
        return _NOTHING, [(False, f"source file {path} cannot be read: {exc.strerror or exc}")] * len(rows)
    verdicts = []
    for row in rows:
        if row.content_sha256:
            ok = digests.get(row.content_bytes) == row.content_sha256
        else:  # no content hash recorded: only the whole file exactly as it was can be trusted
            try:
                ok = sha256_file(path) == row.sha256
            except OSError:
                ok = False
        if not ok:
            verdicts.append((False, f"source file {path} has changed since ingest (SHA-256 differs): lines withheld"))
        elif size == row.size:
            verdicts.append((True, "verified: unchanged since ingest"))
        else:
            verdicts.append((True, "verified: the ingested lines are intact (the file has grown since)"))
    return found, verdicts


def _scan(src: Source, stop: int, stops: list[int], wanted: np.ndarray) -> tuple[_Found, dict[int, str]]:
    """Read the content up to ``stop``: the SHA-256 at each of ``stops``, and the text of the ``wanted`` lines."""
    hasher = hashlib.sha256()
    digests: dict[int, str] = {0: hasher.hexdigest()} if 0 in stops else {}
    numbers: list[np.ndarray] = []
    texts: list[pa.Array] = []
    last = int(wanted[-1]) if len(wanted) else 0
    pos, line_no, carry = 0, 1, b""  # line_no: the number of the line that starts at carry[0]
    stream = src.open()
    try:
        while pos < stop:
            want = min(_CHUNK, stop - pos, *(m - pos for m in stops if m > pos))
            data = stream.read(want)
            if not data:
                break
            pos += len(data)
            hasher.update(data)
            if pos in stops:
                digests[pos] = hasher.hexdigest()
            if line_no > last:
                continue
            chunk = carry + data
            count = chunk.count(b"\n")
            lo, hi = np.searchsorted(wanted, [line_no, line_no + count])
            if hi > lo:
                ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
                numbers.append(wanted[lo:hi])
                texts.append(_lines(chunk, ends, wanted[lo:hi] - line_no))
            cut = chunk.rfind(b"\n") + 1
            carry = chunk[cut:]
            line_no += count
        if carry and line_no <= last and np.isin(line_no, wanted):  # a last line with no newline
            numbers.append(np.array([line_no], np.int64))
            texts.append(_lines(carry + b"\n", np.array([len(carry)]), np.array([0])))
    finally:
        stream.close()
    if not numbers:
        return _NOTHING, digests
    return _Found(np.concatenate(numbers), pa.concat_arrays(texts)), digests


def _lines(chunk: bytes, ends: np.ndarray, index: np.ndarray) -> pa.Array:
    """Lines ``index`` (0-based) of a chunk of whole lines, as text without line endings, built in Arrow.

    Invalid UTF-8 becomes U+FFFD, as it did at ingest.
    """
    offsets = np.concatenate(([0], ends + 1)).astype(np.int64)
    whole = pa.Array.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(chunk)])
    picked = pc.binary_slice(whole.take(pa.array(index)), 0, -1)
    try:
        text = picked.cast(pa.large_string())
    except pa.ArrowInvalid:
        text = pa.array([b.decode("utf-8", errors="replace") for b in picked.to_pylist()], pa.large_string())
    return pc.replace_substring_regex(text, r"\r$", "").cast(pa.string())
