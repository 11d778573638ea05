"""Cisco Umbrella Secure Web Gateway ("proxy") logs, the CSV Umbrella writes to S3.

    "2017-10-02 23:52:53","TheComputerName","192.192.192.135","1.1.1.91", "3.4.5.6","","ALLOWED","http://...

Every field is double-quoted, and the column count depends on the log-format
version Umbrella was set to (32, 35, ... 49 columns: research/formats.md §1c);
one file may mix them. Real files also show a stray space after a comma. The
first 26 columns mean the same in every version, and they are all we map.

How: the stray spaces are removed, then numpy counts the commas outside quotes
on every line, lines are grouped by column count, and each group goes through
Arrow's CSV reader (a group whose rows do not come out one per line is split
and retried, so one broken line is quarantined, not its neighbours).

Identities: Umbrella logs no user column. The policy identity (column 2) is
what the policy matched, and its type (column 22) says what it is: an AD or
directory user becomes ``user`` (``Name (user@realm)`` gives ``user``), a roaming
computer or mobile device becomes ``device``; networks and sites are neither.
Times are UTC (Umbrella's documented default).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..schema import empty_events
from . import _rows, _url
from .base import Checks, Parsed, Reader, clean, constant, share_matching, table, users

_SNIFF = re.compile(rb'^"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"(?:, ?"[^"]*"){5}, ?"[A-Z_]+"(?:, ?"[^"]*"){24}')
_SPACED = re.compile(rb'",[ \t]+"')
_EMAIL = re.compile(r"\(([^()\s]+@[^()\s]+)\)\s*$")
# 1-based column → our name; only these are converted.
_WANT = {
    1: "time",
    2: "identity",
    3: "internal_ip",
    4: "external_ip",
    6: "content_type",
    7: "action",
    8: "url",
    9: "referer",
    10: "user_agent",
    11: "status",
    12: "request_size",
    13: "response_size",
    16: "categories",
    22: "identity_type",
    26: "method",
}
_MIN_COLS, _MAX_COLS = 26, 64


class Umbrella(Reader):
    """Cisco Umbrella SWG proxy CSV, any log-format version (26+ quoted columns)."""

    name = "umbrella"
    description = "Cisco Umbrella Secure Web Gateway proxy log (quoted CSV, 32-49 columns by log version)"

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines that start like an Umbrella proxy row."""
        return share_matching(lines, _SNIFF, b" \t\r")

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; lines with too few columns or bad values are quarantined."""
        block, repaired, _ = clean(block)
        if b'", "' in block:
            block = block.replace(b'", "', b'","')
        if (b'",\t' in block or b'",  ' in block) and _SPACED.search(block):
            block = _SPACED.sub(b'","', block)
        out = Parsed(empty_events(), repaired=repaired)
        lines = _rows.Lines.of(block, first_line)
        out.skipped = int(lines.blank.sum())
        cols = _columns(block, lines)
        few = ~lines.blank & ((cols < _MIN_COLS) | (cols > _MAX_COLS))
        if few.any():
            out.reject(lines.numbers[few], f"not an Umbrella proxy row: {_MIN_COLS}-{_MAX_COLS} columns expected")
        pieces: list[pa.Table] = []
        groups = np.unique(cols[~lines.blank & ~few])
        for width in groups:
            mine = cols == width
            data = block if len(groups) == 1 and not few.any() else _select(block, lines, mine)
            pieces += _rows.bisect(data, lines.numbers[mine], _reader(int(width)), out, "not a valid Umbrella CSV row")
        t = _rows.concat(pieces)
        if t is not None:
            out.events = self._events(t, out)
        return out

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        checks = Checks(t.num_rows)
        time = pc.strptime(t.column("time"), format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
        checks.require(np.asarray(pc.is_valid(time)), "bad timestamp (expected YYYY-MM-DD HH:MM:SS)")
        client = pc.coalesce(_rows.blank_to_null(t.column("internal_ip")), _rows.blank_to_null(t.column("external_ip")))
        checks.require(np.asarray(pc.is_valid(client)), "no internal or external client IP")
        checks.require(np.asarray(pc.not_equal(t.column("url"), "")), "empty URL")
        if checks.failed:
            keep = checks.reject(out, lines)
            t, time, client, lines = t.filter(keep), time.filter(keep), client.filter(keep), lines[checks.good]
        n = t.num_rows
        if n == 0:
            return empty_events()
        method = pc.utf8_upper(t.column("method"))
        method = pc.if_else(pc.equal(method, ""), "-", method)
        connect = np.asarray(pc.equal(method, "CONNECT").fill_null(False))
        vendor = t.column("action")
        user, user_raw, device = _identities(t.column("identity"), t.column("identity_type"))
        cols = {
            "time": time,
            "client_ip": client,
            "user": user,
            "user_raw": user_raw,
            "device": device,
            "method": method,
            "url": t.column("url"),
            **_url.split(t.column("url"), connect),
            "status": _rows.integers(t.column("status"), pa.int16()),
            "action": _action(vendor),
            "vendor_action": _rows.blank_to_null(vendor),
            "bytes_in": _rows.integers(t.column("response_size")),
            "bytes_out": _rows.integers(t.column("request_size")),
            "content_type": _rows.blank_to_null(t.column("content_type")),
            "vendor_category": _rows.blank_to_null(t.column("categories")),
            "user_agent": _rows.blank_to_null(pc.utf8_trim_whitespace(t.column("user_agent"))),
            "referer": _rows.blank_to_null(t.column("referer")),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


def _columns(block: bytes, lines: _rows.Lines) -> np.ndarray:
    """Columns per line: commas outside double quotes, plus one (0 for blank lines).

    A comma is outside quotes when an even number of quotes precede it on its
    line. When every line holds an even number of quotes (any well-formed
    file), that is the running quote parity of the whole block, counted per
    line in a few passes over the bytes; otherwise each comma's quotes are
    counted from its own line start.
    """
    if not len(lines.starts):
        return np.zeros(0, dtype=np.int64)
    buf = lines.buf[: len(block)]
    quote = (buf == 34).view(np.uint8)
    quotes = np.flatnonzero(quote)
    if not (_per_line(quotes, lines.starts) & 1).any():
        inside = np.bitwise_xor.accumulate(quote)
        count = _per_line(np.flatnonzero((buf == 44) & (inside == 0)), lines.starts) + 1
        return np.where(lines.blank, 0, count)
    commas = np.flatnonzero(buf == 44)
    line_of = np.searchsorted(lines.ends, commas)
    before = np.searchsorted(quotes, commas) - np.searchsorted(quotes, lines.starts[line_of])
    outside = (before & 1) == 0
    count = np.bincount(line_of[outside], minlength=len(lines.starts)) + 1
    return np.where(lines.blank, 0, count)


def _per_line(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """How many of the (sorted) positions fall in each line."""
    at = np.searchsorted(positions, starts)
    return np.diff(np.append(at, len(positions)))


def _select(block: bytes, lines: _rows.Lines, mask: np.ndarray) -> bytes:
    """The selected lines (with their newlines) as one block, gathered with numpy."""
    size = np.diff(np.append(lines.starts, len(block)))
    keep = np.repeat(mask, size)
    return np.frombuffer(block, np.uint8)[keep].tobytes()


def _reader(width: int):  # noqa: ANN202 - a closure for _rows.bisect
    names = [_WANT.get(i, f"c{i}") for i in range(1, width + 1)]

    def read(data: bytes) -> pa.Table:
        return pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(
                delimiter=",", quote_char='"', double_quote=True, escape_char=False, ignore_empty_lines=True
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(_WANT.values(), pa.string()),
                include_columns=list(_WANT.values()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )

    return read


def _action(vendor: pa.ChunkedArray) -> pa.Array:
    """BLOCKED (and any other BLOCK... verdict) is a block; ALLOWED and the rest were let through."""
    blocked = pc.fill_null(pc.match_substring(pc.utf8_upper(vendor), "BLOCK"), False)
    return pc.if_else(blocked, "blocked", "allowed")


def _identities(label: pa.ChunkedArray, kind: pa.ChunkedArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """User (normalised, raw) and device from the policy identity and its type, per distinct pair."""
    key = pc.binary_join_element_wise(kind, label, "\x1f")
    enc = pc.dictionary_encode(key).combine_chunks()
    person, raw, device = [], [], []
    for k in enc.dictionary.to_pylist():
        typ, _, name = k.partition("\x1f")
        typ, name = typ.lower(), name.strip()
        is_user = bool(name) and "user" in typ
        is_device = bool(name) and not is_user and any(w in typ for w in ("computer", "roaming", "mobile"))
        email = _EMAIL.search(name) if is_user else None
        person.append((email.group(1) if email else name) if is_user else None)
        raw.append(name if is_user else None)
        device.append(name if is_device else None)
    user, _ = users(pa.array(person, pa.string()).take(enc.indices))
    return user, pa.array(raw, pa.string()).take(enc.indices), pa.array(device, pa.string()).take(enc.indices)
