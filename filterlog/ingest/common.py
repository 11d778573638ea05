"""Squid ``logformat common`` and ``combined`` (Apache-style, plus Squid's ``%Ss:%Sh``).

    192.168.1.4 - alice [01/May/2021:15:16:23 +0900] "GET http://x/ HTTP/1.1" 200 6771 "ref" "ua" TCP_MISS:HIER_DIRECT

Times are local with an explicit UTC offset; they are stored in UTC.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..schema import empty_events
from . import _rows, _url
from .base import Checks, Parsed, Reader, clean, constant, dash_to_null, line_bounds, share_matching, table, users
from .squid import squid_action

_DICT = pa.dictionary(pa.int32(), pa.string())
_PREFIX = rb'^\S+ \S+ .+ \[\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[^"]*" \d{3} (\d+|-)'
_ZONE = re.compile(r"^([+-])(\d{2})(\d{2})\]$")


class SquidCommon(Reader):
    """Squid ``common`` (Apache common log format with a trailing Squid result code)."""

    name = "squid-common"
    description = "Squid logformat common: client, user, [local time], request line, status, bytes"
    columns: ClassVar[list[str]] = ["client_ip", "ident", "user", "date", "zone", "request", "status", "bytes", "code"]
    _sniff = re.compile(_PREFIX + rb"( [A-Z_]+:\S+)?\s*$")

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines in this layout."""
        return share_matching(lines, cls._sniff, b"\r")

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; a line that does not fit is quarantined, the rest still parse."""
        block, repaired, newlines = clean(block)
        out = Parsed(empty_events(), repaired=repaired)
        starts, ends = line_bounds(np.frombuffer(block, np.uint8), newlines)
        blank = starts == ends
        out.skipped = int(blank.sum())
        reason = f"not a {self.name} line: fields out of place or missing"
        pieces = _rows.bisect(block, first_line + np.flatnonzero(~blank), self._read, out, reason)
        t = _rows.concat(pieces)
        if t is not None:
            out.events = self._events(t, out)
        return out

    def _read(self, data: bytes) -> pa.Table | None:
        """One row per non-blank line, or None.

        URLs are logged raw, so backslashes are data; only a lone line that fails
        that way is retried with backslash-escaped quotes in its headers.
        """
        t = self._csv(data, escaped=False)
        if t is None and data.count(b"\n") <= 8 and sum(1 for x in data.splitlines() if x.strip()) == 1:
            t = self._csv(data, escaped=True)
        return t

    def _csv(self, data: bytes, escaped: bool) -> pa.Table | None:
        invalid = 0

        def skip(_row: object) -> str:
            nonlocal invalid
            invalid += 1
            return "skip"

        names = self.columns
        try:
            t = pcsv.read_csv(
                pa.BufferReader(data),
                read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 22),
                parse_options=pcsv.ParseOptions(
                    delimiter=" ",
                    quote_char='"',
                    escape_char="\\" if escaped else False,
                    ignore_empty_lines=True,
                    invalid_row_handler=skip,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: (_DICT if n in ("user", "zone", "code") else pa.string()) for n in names},
                    include_columns=[n for n in names if n != "ident"],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    check_utf8=False,
                ),
            )
        except pa.ArrowInvalid:
            return None
        return t if invalid == 0 else None

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        checks = Checks(t.num_rows)

        date = pc.dictionary_encode(pc.utf8_ltrim(t.column("date"), "[")).combine_chunks()
        parsed = pc.strptime(date.dictionary, format="%d/%b/%Y:%H:%M:%S", unit="ms", error_is_null=True)
        local_ms = np.asarray(pc.cast(parsed.take(date.indices), pa.int64()).fill_null(-1))
        zone = t.column("zone").combine_chunks()
        offs = [_offset_ms(z) for z in zone.dictionary.to_pylist()]
        off = np.asarray([o if o is not None else 0 for o in offs], np.int64)[np.asarray(zone.indices)]
        zone_ok = np.asarray([o is not None for o in offs], bool)[np.asarray(zone.indices)]
        time_ok = (local_ms >= 0) & zone_ok
        checks.require(time_ok, "bad [date:time zone] field")

        status_ok = np.asarray(pc.fill_null(pc.match_substring_regex(t.column("status"), r"^\d{3}$"), False))
        bytes_txt = pc.if_else(pc.equal(t.column("bytes"), "-"), "0", t.column("bytes"))
        bytes_ok = pc.and_(pc.utf8_is_digit(bytes_txt), pc.less_equal(pc.utf8_length(bytes_txt), 18))  # fits int64
        bytes_ok = np.asarray(pc.fill_null(bytes_ok, False))
        checks.require(status_ok & bytes_ok, "bad status or bytes field")
        request = pc.split_pattern(t.column("request"), " ", max_splits=2)
        req_len = np.asarray(pc.list_value_length(request))
        checks.require(req_len >= 2, "request line is not 'METHOD URL [PROTOCOL]'")

        if checks.failed:
            keep, good = checks.reject(out, lines), checks.good
            t, request = t.filter(keep), request.filter(keep)
            local_ms, off, lines = local_ms[good], off[good], lines[good]
        n = t.num_rows
        if n == 0:
            return empty_events()
        method = pc.list_element(request, 0)
        url = pc.list_element(request, 1)

        connect = np.asarray(pc.equal(method, "CONNECT").fill_null(False))
        status = pc.cast(t.column("status"), pa.int16())
        status = pc.if_else(pc.equal(status, 0), pa.scalar(None, pa.int16()), status)  # 000: no status
        code = t.column("code").combine_chunks()
        vendor_action = pa.array([c.split(":", 1)[0] or None for c in code.dictionary.to_pylist()], pa.string())
        vendor_action = vendor_action.take(code.indices)
        action = _actions(vendor_action, status)
        user, user_raw = users(t.column("user"), squid_escaped=True)
        cols = {
            "time": pa.array(local_ms - off, pa.timestamp("ms", tz="UTC")),
            "client_ip": t.column("client_ip"),
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": url,
            **_url.split(url, connect),
            "status": status,
            "action": action,
            "vendor_action": vendor_action,
            "bytes_in": pc.cast(pc.if_else(pc.equal(t.column("bytes"), "-"), "0", t.column("bytes")), pa.int64()),
            "source_format": constant(self.name, n),
        }
        if "referer" in t.column_names:
            cols["referer"] = dash_to_null(t.column("referer"))
            cols["user_agent"] = dash_to_null(t.column("user_agent"))
        return table(cols, lines)


class SquidCombined(SquidCommon):
    """Squid ``combined``: ``common`` plus quoted referer and user agent."""

    name = "squid-combined"
    description = 'Squid logformat combined: common plus "referer" "user-agent"'
    columns: ClassVar[list[str]] = [
        "client_ip",
        "ident",
        "user",
        "date",
        "zone",
        "request",
        "status",
        "bytes",
        "referer",
        "user_agent",
        "code",
    ]
    _sniff = re.compile(_PREFIX + rb' "[^"]*" "(?:[^"\\]|\\.)*"( [A-Z_]+:\S+)?\s*$')


def _actions(vendor: pa.Array, status: pa.Array) -> pa.Array:
    """Normalised action per row, decided once per distinct (code, status) pair."""
    key = pc.binary_join_element_wise(pc.fill_null(vendor, ""), pc.fill_null(pc.cast(status, pa.string()), "0"), "/")
    enc = pc.dictionary_encode(key).combine_chunks() if isinstance(key, pa.ChunkedArray) else pc.dictionary_encode(key)
    names = []
    for k in enc.dictionary.to_pylist():
        code, _, st = k.rpartition("/")
        names.append(squid_action(code, int(st)))
    return pa.array(names, pa.string()).take(enc.indices)


def _offset_ms(zone: str | None) -> int | None:
    m = _ZONE.match(zone or "")
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 60 + int(m.group(3))) * 60_000
