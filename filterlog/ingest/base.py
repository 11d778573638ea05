"""What every reader shares: the Reader contract, the Parsed result, and column helpers.

A reader turns one block of whole lines into canonical event columns. It never
drops a line silently: each line becomes an event, a quarantined line with a
reason, or a counted header/blank line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import masked
from ..schema import EVENT_SCHEMA, conform

_DN = re.compile(r"(?i)^\s*(?:cn|uid)=((?:[^,\\]|\\.)*)")


@dataclass
class Parsed:
    """The outcome of parsing one block."""

    events: pa.Table
    """Canonical columns; source_id and source_format are filled in by the pipeline."""
    bad_lines: list[int] = field(default_factory=list)
    """Absolute 1-based line numbers of rejected lines."""
    bad_reasons: list[str] = field(default_factory=list)
    skipped: int = 0
    """Header, comment and blank lines: read, not events, not errors."""
    repaired: int = 0
    """Lines whose invalid UTF-8 bytes were replaced by U+FFFD (the source file keeps the original)."""

    def reject(self, lines: np.ndarray, reason: str | list[str]) -> None:
        """Quarantine ``lines`` with one reason for all, or one reason each."""
        self.bad_lines.extend(int(x) for x in lines)
        if isinstance(reason, str):
            self.bad_reasons.extend([reason] * len(lines))
        else:
            self.bad_reasons.extend(reason)


class Checks:
    """Row validation for one parsed table: the first reason each row fails, and which rows are still good."""

    def __init__(self, n: int) -> None:
        self.good = np.ones(n, dtype=bool)
        self.reasons: dict[int, str] = {}

    def require(self, ok: np.ndarray, why: str) -> None:
        """Rows where ``ok`` is False fail with ``why``, unless an earlier check failed them already."""
        for i in np.flatnonzero(~ok & self.good):
            self.reasons[int(i)] = why
        self.good &= ok

    @property
    def failed(self) -> bool:
        """Whether any row failed."""
        return bool(self.reasons)

    def reject(self, out: Parsed, lines: np.ndarray) -> pa.Array:
        """Quarantine the failed rows (``lines`` are their line numbers); the mask of rows to keep."""
        bad = sorted(self.reasons)
        out.reject(lines[bad], [self.reasons[i] for i in bad])
        return pa.array(self.good)


class Reader:
    """A log format. Subclasses set ``name`` and ``description`` and implement the two methods.

    One instance reads one file, so a reader may keep state between blocks
    (a W3C reader remembers its ``#Fields:`` line).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    specificity: ClassVar[int] = 0
    """Breaks sniffing ties: a format that extends another (Blue Coat's Squid dialect) ranks higher."""

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = timezone
        """The site's zone, for formats that log local clock time with no offset."""

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Return the share (0..1) of these first lines that look like this format."""
        raise NotImplementedError

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines (``block`` ends with a newline) numbered from ``first_line``."""
        raise NotImplementedError

    def prime(self, before: bytes) -> None:
        """See content that precedes the part to be parsed (a grown file read from where it stopped).

        Called with whole lines, in order, possibly several times. Stateless formats
        ignore it; a W3C reader takes the ``#Fields:`` header in effect from it.
        """

    def begin(self, first_line: int) -> None:
        """Learn the number of the first line this reader will parse, before any block is parsed.

        Blocks are parsed on several threads at once; a reader whose state runs
        from block to block (a header) must know which block comes first, so that
        no other block, scheduled earlier by chance, takes its place.
        """


_TRAILING = re.compile(rb"[ \t]+(?=\r?\n)")


def clean(block: bytes) -> tuple[bytes, int, np.ndarray]:
    """Make a block safe for the tokenisers, keeping its line count and line numbers.

    Invalid UTF-8 becomes U+FFFD (returns how many lines had it); blanks at the
    end of a line are dropped, since no format gives them meaning. One scan
    answers whether either can be needed (non-ASCII bytes, CRs); the rewrites
    happen only when needed. Also returns the newline positions of the result,
    which every tokeniser needs next.
    """
    from . import _compiled

    repaired = 0
    non_ascii, cr = _compiled.ascii_and_cr(np.frombuffer(block, np.uint8))  # a repair below keeps the CRs
    if non_ascii:
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            block = block.decode("utf-8", errors="replace").encode("utf-8")
            buf = np.frombuffer(block, np.uint8)
            marks = np.flatnonzero((buf[:-2] == 0xEF) & (buf[1:-1] == 0xBF) & (buf[2:] == 0xBD))
            repaired = len(np.unique(np.searchsorted(newlines(buf), marks)))
    buf = np.frombuffer(block, np.uint8)
    nl = newlines(buf)
    before = buf[np.maximum(nl - 1, 0)]
    if cr:
        before = np.where(before == 13, buf[np.maximum(nl - 2, 0)], before)
    if ((before == 32) | (before == 9)).any():
        block = _TRAILING.sub(b"", block)
        nl = newlines(np.frombuffer(block, np.uint8))
    return block, repaired, nl


def has_byte(buf: np.ndarray, value: int) -> bool:
    """Whether ``buf`` holds byte ``value``, or (``value`` 128) any non-ASCII byte; without the GIL.

    The compiled scan loads Numba on first use, so importing readers (enrichment does) costs nothing.
    """
    from . import _compiled

    return bool(_compiled.has_byte(buf, value))


def newlines(buf: np.ndarray) -> np.ndarray:
    """Positions of the newlines in ``buf``: ``np.flatnonzero(buf == 10)`` without its 16 MB scratch."""
    from . import _compiled

    return _compiled.positions(buf, 10)


def lone_cr(block: bytes | bytearray, buf: np.ndarray) -> bool:
    """Whether a CR stands anywhere but before a LF: Arrow's CSV parser would end a row there."""
    return has_byte(buf, 13) and block.count(b"\r") != block.count(b"\r\n")


EARLIEST_MS, LATEST_MS = 631_152_000_000, 4_102_444_800_000
"""Times from 1990-01-01 up to 2100-01-01 (UTC) are kept; outside that a clock or the line is broken."""


def local_to_utc(naive: pa.Array | pa.ChunkedArray, timezone: str) -> pa.Array | pa.ChunkedArray:
    """Read zone-less clock times as the site's local time; store them in UTC.

    In the autumn hour that happens twice the earlier one is taken; a time in
    the skipped spring hour is moved forward, as a clock would show it.
    """
    if timezone == "UTC":
        return pc.cast(naive, pa.timestamp("ms", tz="UTC"))
    aware = pc.assume_timezone(naive, timezone=timezone, ambiguous="earliest", nonexistent="latest")
    utc = pc.cast(aware, pa.timestamp("ms", tz="UTC"))
    return _after_2037(naive, utc, timezone)


_LATE = datetime(2038, 1, 1)


def _after_2037(naive: pa.Array | pa.ChunkedArray, utc: pa.Array | pa.ChunkedArray, timezone: str) -> pa.Array:
    """``utc`` with times from 2038 on converted by Python's zoneinfo instead.

    Arrow's zone tables stop at the 32-bit rollover, so it applies no summer
    time after 2037; zoneinfo follows the zone's rule for ever. Such times
    are rare (a misset clock), so they are converted one distinct value at a time.
    """
    late = pc.fill_null(pc.greater_equal(naive, pa.scalar(_LATE, naive.type)), False)
    if not pc.any(late).as_py():
        return utc
    zone = ZoneInfo(timezone)
    values = pc.filter(naive, late).to_pylist()
    ms = {v: round(v.replace(tzinfo=zone).timestamp() * 1000) for v in set(values)}
    fixed = pa.array([ms[v] for v in values], pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    positions = np.flatnonzero(np.asarray(late.to_numpy(zero_copy_only=False), dtype=bool))
    out = np.asarray(pc.cast(utc, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls: NaN
    out[positions] = np.asarray(pc.cast(fixed, pa.int64()))
    valid = ~np.isnan(out)
    return masked(np.where(valid, out, 0).astype(np.int64), ~valid, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))


def share_matching(lines: list[bytes], pattern: re.Pattern[bytes], strip: bytes | None = None) -> float:
    """The share of non-blank lines that ``pattern`` matches: what most ``sniff`` methods answer."""
    lines = [x.rstrip(strip) for x in lines if x.strip()]
    return sum(bool(pattern.match(x)) for x in lines) / len(lines) if lines else 0.0


def line_bounds(buf: np.ndarray, newlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without CR/LF) of every line, given newline positions."""
    starts = np.empty(len(newlines), dtype=np.int64)
    starts[:1] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    return starts, ends - cr


@functools.lru_cache(maxsize=1 << 16)
def normalise_user(raw: str | None) -> str | None:
    r"""The person behind a logged user name: ``DOMAIN\\\\u``, ``u@realm``, ``CN=u,OU=..`` all give ``u``.

    Cached: every block of a log names the same few thousand people again.
    """
    if raw is None:
        return None
    text = unquote(raw.strip().strip('"'))
    if text in ("", "-"):
        return None
    dn = _DN.match(text)
    if dn:
        text = dn.group(1).replace("\\", "")
    text = text.rsplit("\\", 1)[-1]
    if "@" in text:
        text = text.split("@", 1)[0]
    text = text.strip().lower()
    return text or None


_SQUID_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|.)")
_SQUID_CHARS = {"n": "\n", "r": "\r", "t": "\t"}


@functools.lru_cache(maxsize=1 << 16)
def unescape_squid(text: str) -> str:
    r"""Undo Squid's ``%[`` log escaping (``\\`` for a backslash, ``\"`` for a quote, ``\xNN``)."""
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        return _SQUID_CHARS.get(code, code)

    return _SQUID_ESCAPE.sub(one, text)


def users(raw: pa.Array | pa.ChunkedArray, squid_escaped: bool = False) -> tuple[pa.Array, pa.Array]:
    """Normalised and raw user columns from a logged one; works on the distinct values only.

    ``squid_escaped``: the field was written with Squid's ``%[un`` escaping, decoded here.
    """
    enc = pc.dictionary_encode(raw) if not pa.types.is_dictionary(raw.type) else raw
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    values = enc.dictionary.to_pylist()
    if squid_escaped:
        values = [None if v is None else unescape_squid(v) for v in values]
    norm = pa.array([normalise_user(v) for v in values], pa.string())
    kept = pa.array([None if v is None or v.strip() in ("", "-") else v for v in values], pa.string())
    idx = enc.indices
    return _codes(norm, idx), _codes(kept, idx)


def _codes(values: pa.Array, idx: pa.Array) -> pa.DictionaryArray:
    """``values.take(idx)`` kept dictionary-encoded: unique entries, none null (Parquet cannot store a null entry)."""
    unique = pc.dictionary_encode(values)
    codes = unique.indices.take(idx)
    return pa.DictionaryArray.from_arrays(codes, unique.dictionary)


def dash_to_null(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Logs write ``-`` for 'no value'; make it a real null.

    The text is not copied: only a validity bitmap is made (user agents and
    referers are a large share of a block's bytes).
    """
    base = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
    if isinstance(base, pa.ChunkedArray):
        return pa.chunked_array([_null_dashes(c) for c in base.chunks], pa.string())
    return _null_dashes(base)


def _null_dashes(arr: pa.Array) -> pa.Array:
    dash = pc.fill_null(pc.equal(arr, "-"), False)
    if not pc.any(dash).as_py():
        return arr
    if arr.type != pa.string() or arr.offset:
        return pc.if_else(dash, pa.scalar(None, arr.type), arr)
    keep = ~np.asarray(dash)
    if arr.null_count:
        keep &= np.asarray(arr.is_valid())
    bitmap = pa.py_buffer(np.packbits(keep, bitorder="little"))
    _, offsets, data = arr.buffers()
    return pa.Array.from_buffers(pa.string(), len(arr), [bitmap, offsets, data])


def dash_to_null_codes(col: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """``dash_to_null`` for a dictionary column, kept dictionary-encoded (``-`` is one entry)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else pa.array([], col.type)
    dash = pc.fill_null(pc.equal(col.dictionary, "-"), False)
    if not pc.any(dash).as_py():
        return col
    null_code = pc.is_in(col.indices, pc.indices_nonzero(dash).cast(col.indices.type))
    indices = pc.if_else(null_code, pa.scalar(None, col.indices.type), col.indices)
    return pa.DictionaryArray.from_arrays(indices, col.dictionary)


def table(columns: dict[str, pa.Array | pa.ChunkedArray | np.ndarray], lines: np.ndarray) -> pa.Table:
    """Assemble canonical columns (plus ``source_line``) into a conformed events table."""
    cols = dict(columns)
    cols["source_line"] = pa.array(lines.astype(np.int64))
    n = len(lines)
    cols.setdefault("source_format", constant("", n))
    cols.setdefault("source_id", constant("", n))
    names = [f.name for f in EVENT_SCHEMA if f.name in cols]
    return conform(pa.table({k: cols[k] for k in names}))


def recode(values: pa.Array, indices: pa.Array) -> pa.DictionaryArray:
    """A dictionary column: row ``i`` holds ``values[indices[i]]``; distinct values, nulls as null indices.

    Each value appears once in the dictionary: Parquet writes a dictionary column
    as given, and one with repeated entries (a value per raw code) is written
    larger and slower (a Squid block's ``vendor_action``: 4.9 ms and 144 KB
    against 1.8 ms and 31 KB once distinct).
    """
    enc = pc.dictionary_encode(values)
    return pa.DictionaryArray.from_arrays(enc.indices.take(indices), enc.dictionary)


def constant(value: str, n: int) -> pa.DictionaryArray:
    """A dictionary column holding one value n times, at the cost of n int32 zeros."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))
