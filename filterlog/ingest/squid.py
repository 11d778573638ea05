"""Squid native ``access.log`` (``logformat squid``), as Squid and its clones write it.

    1157689320.327   2864 10.105.21.199 TCP_MISS/200 10182 GET http://x/ user HIER_DIRECT/1.2.3.4 text/html

Ten space-separated fields; the elapsed time is padded to width six, so runs of
spaces occur. Many sites append ``"referer" "user-agent"``; ``log_mime_hdrs``
appends bracketed headers. A compiled loop splits the plain lines of a block
(``_compiled.squid_native``); any others, and any block of mostly others, take
the general path: prepared with numpy (padding zeroed, the first field
separators turned into a byte no log line holds), then tokenised by Arrow's CSV
parser, one pass per line layout. That path reads every line by itself, so a
line's events never depend on its neighbours or on which path it took.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..schema import empty_events
from . import _rows, _spans, _url
from .base import (
    EARLIEST_MS,
    LATEST_MS,
    Checks,
    Parsed,
    Reader,
    clean,
    constant,
    dash_to_null,
    dash_to_null_codes,
    line_bounds,
    lone_cr,
    recode,
    share_matching,
    table,
    users,
)

_SNIFF = re.compile(
    rb"^\d{9,11}\.\d{3} +\d+ \S+ [A-Z][A-Z0-9_]*/\d{3} \d+ \S+ \S+ \S+ [A-Z][A-Z0-9_]*/\S+ \S+\s*(?:$|\"|\[)"
)  # after the MIME type: nothing, quoted headers or log_mime_hdrs brackets (not Blue Coat's bare category)
_CODE = re.compile(r"^([A-Z][A-Z0-9_]*)/(\d{3})$")
_SEP = 1
_FIELDS = ["time", "elapsed", "client_ip", "code", "bytes", "method", "url", "user", "hier", "mime"]
_DICT = pa.dictionary(pa.int32(), pa.string())
_TYPED = {"time": pa.float64(), "elapsed": pa.int64(), "bytes": pa.int64()}
_COMMON_TYPES = {
    "client_ip": pa.string(),
    "code": _DICT,
    "method": _DICT,
    "url": pa.string(),
    "user": _DICT,
    "mime": _DICT,
    "rest": pa.string(),
    "referer": pa.string(),
    "user_agent": pa.string(),
}
_SPANNED = ["client_ip", "code", "method", "url", "user", "mime", "referer", "user_agent"]
"""The text fields ``_compiled.squid_native`` returns spans of, in its order."""
# Layouts: 10 plain fields; + one raw remainder; + quoted referer and user agent.
_LAYOUTS = {10: _FIELDS, 11: [*_FIELDS, "rest"], 12: [*_FIELDS, "referer", "user_agent"]}


def squid_action(code: str, status: int) -> str:
    """Normalise a Squid result code: a 407 is an authentication challenge, never a block."""
    if "DENIED" in code:
        return "auth_required" if status == 407 else "blocked"
    if code.startswith("NONE") and (status == 0 or status >= 400):
        return "error"
    return "allowed"


ODD_LINES = 1024
"""Lines of a block the compiled loop cannot split (one cut short by a crash, a stray quote) that are parsed
together on the general path, the plain lines around them staying on the compiled one. A block with more
(another layout, say) is parsed whole on the general path. 10M lines with one cut short in 10,000 took
9.9-10.3 s to ingest (as long as lines with none), 13.0-14.2 s when each odd line split its block."""


class SquidNative(Reader):
    """Squid ``logformat squid``, with optional quoted referer/user-agent or mime headers."""

    name = "squid"
    description = "Squid native access.log (logformat squid), with or without trailing referer/user-agent"

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines matching the native layout."""
        return share_matching(lines, _SNIFF, b"\r")

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse a block of whole lines."""
        block, repaired, nl = clean(block)
        lines = np.arange(len(nl), dtype=np.int64) + first_line
        parsed = self._fast(block, lines, nl) or self._general(block, lines)
        parsed.repaired = repaired
        return parsed

    def _fast(self, block: bytes, lines: np.ndarray, nl: np.ndarray) -> Parsed | None:
        """The common case: plain lines of one layout, with at most ``ODD_LINES`` others (None: not the case).

        A compiled loop (``_compiled.squid_native``) splits the block and lists
        the lines it does not call plain; those few are parsed on the general
        path (``_around``), which reads every line by itself, so a line gives
        the same events whichever path it takes and whatever its neighbours.
        The layout, with or without a quoted referer and user agent, is the one
        of most of the first, middle and last lines.
        """
        from . import _compiled

        if not len(nl):
            return None
        buf = np.frombuffer(block, np.uint8) if isinstance(block, bytearray) else _spans.padded(block)
        if lone_cr(block, buf):
            return None
        ends = nl[[0, len(nl) // 2, -1]]
        quoted = np.count_nonzero(buf[ends - 1 - (buf[ends - 1] == 13)] == 34) >= 2
        odd, *cut = _compiled.squid_native(buf, nl, quoted, ODD_LINES)
        if len(odd) > ODD_LINES or len(odd) == len(nl):
            return None
        out = Parsed(empty_events())
        if not len(odd):
            out.events = self._from_spans(buf, quoted, lines, cut, out)
            return out
        return self._around(block, buf, quoted, nl, lines, odd, cut, out)

    def _around(
        self, block: bytes, buf: np.ndarray, quoted: bool, nl: np.ndarray, lines: np.ndarray, odd: np.ndarray,
        cut: list[np.ndarray], out: Parsed,
    ) -> Parsed:  # fmt: skip
        """The plain lines as the compiled loop split them, the ``odd`` ones together on the general path.

        Each odd line is parsed as it would be alone (the general path decides
        line by line), numbered as in the block, and its event put back in line order.
        """
        plain = np.ones(len(nl), bool)
        plain[odd] = False
        events = self._from_spans(buf, quoted, lines[plain], [a[..., plain] for a in cut], out)
        starts = line_bounds(buf, nl)[0][odd]
        text = b"".join(block[s:e] for s, e in zip(starts.tolist(), (nl[odd] + 1).tolist(), strict=True))
        general = self._general(text, lines[odd])
        out.reject(np.asarray(general.bad_lines, np.int64), general.bad_reasons)
        out.skipped += general.skipped
        merged = _rows.concat([t for t in (events, general.events) if t.num_rows])
        out.events = merged if merged is not None else empty_events()
        return out

    def _from_spans(self, buf: np.ndarray, quoted: bool, lines: np.ndarray, cut: list, out: Parsed) -> pa.Table:
        """Events from what ``_compiled.squid_native`` made of ``lines``: times, elapsed, sizes, field spans."""
        ms, elapsed, size, spans = cut
        cols: dict[str, pa.Array] = {"elapsed": pa.array(elapsed), "bytes": pa.array(size)}
        for k, name in enumerate(_SPANNED[: 8 if quoted else 6]):
            col = _spans.strings(buf, spans[0, k], spans[1, k])
            cols[name] = pc.dictionary_encode(col) if _COMMON_TYPES[name] == _DICT else col
        return self._columns(pa.table(cols), lines, out, ms)

    def _general(self, block: bytes, lines: np.ndarray) -> Parsed:
        """Any mix of layouts, padding, blank and broken lines, tokenised with numpy first.

        ``lines``: the number of each line (consecutive, or gathered from here and there by ``_around``).
        """
        buf = _spans.padded(block)
        m = len(block)
        pos = _spans.find(buf[:m], b'\n\r "\x01')
        buf[pos[_SEP]] = ord("?")  # a hostile separator byte must not add a field
        starts, ends = line_bounds(buf, pos[10])
        cr = pos[13]
        lone = cr[buf[cr + 1] != 10]
        buf[lone] = ord("?")  # Arrow would end a row at a bare CR
        out = Parsed(pa.table({}))
        blank = ends == starts
        out.skipped = int(blank.sum())

        sp = pos[32]
        is_start = np.ones(len(sp), dtype=bool)
        is_start[1:] = sp[1:] != sp[:-1] + 1
        run_at = sp[is_start]
        run_len = np.diff(np.append(np.flatnonzero(is_start), len(sp)))
        first = np.searchsorted(run_at, starts)
        count = np.searchsorted(run_at, ends) - first
        lead = np.zeros(len(starts), dtype=bool)
        if len(run_at):
            lead = (count > 0) & (run_at[np.minimum(first, len(run_at) - 1)] == starts)
        ok = (count >= 9) & ~blank & ~lead
        short = ~ok & ~blank
        if short.any():
            out.reject(lines[short], "not a Squid native line: fewer than 10 space-separated fields")

        k = first[ok]
        # Zero the elapsed-time padding: "   951" becomes "000951", the same number.
        pad = run_len[k] - 1
        if pad.sum():
            base = np.repeat(run_at[k] + 1, pad)
            step = np.arange(pad.sum()) - np.repeat(np.cumsum(pad) - pad, pad)
            buf[base + step] = ord("0")
        buf[run_at[k[:, None] + np.arange(9)]] = _SEP

        layout = np.zeros(len(starts), dtype=np.int8)
        layout[ok] = 10
        rest = ok & (count >= 10)
        if rest.any():
            r = first[rest] + 9
            rest_s = run_at[r] + run_len[r]
            r_end = ends[rest]
            nonempty = rest_s < r_end
            q = _spans.first_from(pos[34], rest_s + 1, r_end)
            q2 = np.minimum(q, len(buf) - 3)
            # a quoted pair holds no other quote: a line with one more is read raw, alone, not the whole block with it
            quotes = np.searchsorted(pos[34], r_end) - np.searchsorted(pos[34], rest_s)
            pair = (
                nonempty
                & (run_len[r] == 1)
                & (buf[rest_s] == 34)
                & (q + 2 < r_end)
                & (buf[q2 + 1] == 32)
                & (buf[q2 + 2] == 34)
                & (buf[np.maximum(r_end - 1, 0)] == 34)
                & (quotes == 4)
            )
            idx = np.flatnonzero(rest)
            layout[idx[nonempty]] = 11
            layout[idx[pair]] = 12
            buf[run_at[r[nonempty]]] = _SEP
            between = q2[pair] + 1
            buf[between] = _SEP

        data = pa.py_buffer(buf[:m])
        nonblank = int((~blank).sum())
        tables = []
        quoted = layout == 12
        if quoted.any():
            cols = _csv(data, _LAYOUTS[12], True, int(quoted.sum()), nonblank)
            if cols is None:  # Arrow split the pairs otherwise after all: read the remainder raw instead
                buf[between] = 32
                layout[quoted] = 11
            else:
                tables.append(self._columns(cols, lines[quoted], out))
        for width in (10, 11):
            mine = layout == width
            if mine.any():
                tables.append(self._layout(data, width, lines[mine], out, nonblank))
        merged = _rows.concat([t for t in tables if t.num_rows])
        out.events = merged if merged is not None else empty_events()
        return out

    def _layout(self, data: pa.Buffer, width: int, lines: np.ndarray, out: Parsed, nonblank: int) -> pa.Table:
        names = _LAYOUTS[width]
        cols = _csv(data, names, False, len(lines), nonblank)
        if cols is None:  # cannot happen with our own separator byte; never guess, reject
            out.reject(lines, "line layout could not be parsed consistently")
            return empty_events()
        return self._columns(cols, lines, out)

    def _columns(self, t: pa.Table, lines: np.ndarray, out: Parsed, ms: np.ndarray | None = None) -> pa.Table:
        """Canonical columns from the tokenised fields; ``ms``: the times, if already parsed (else ``time``)."""
        checks = Checks(t.num_rows)
        t, num_bad = _numbers(t)
        for name, bad in num_bad.items():
            checks.require(~bad, f"bad {name} field")

        code = t.column("code").combine_chunks()
        code_vals = code.dictionary.to_pylist()
        parsed = [_CODE.match(v) for v in code_vals]
        # Dictionaries of the columns built from codes: a bad code's entry is never used (its rows are
        # rejected below), and it must not be null (Parquet cannot write a null dictionary entry).
        vendor = pa.array([p.group(1) if p else "" for p in parsed], pa.string())
        status_d = pa.array([int(p.group(2)) or None if p else None for p in parsed], pa.int16())  # 000: none
        action_d = pa.array([squid_action(p.group(1), int(p.group(2))) if p else "" for p in parsed], pa.string())
        code_ok = np.asarray([p is not None for p in parsed], dtype=bool)[np.asarray(code.indices)]
        checks.require(code_ok, "result field is not CODE/status (fields out of place?)")
        if "hier" in t.column_names:
            hier_ok = np.asarray(pc.fill_null(pc.match_substring(t.column("hier"), "/"), False))
            checks.require(hier_ok, "hierarchy field is not CODE/peer (a user name with spaces?)")
        if ms is None:
            ms = np.round(np.asarray(t.column("time")) * 1000.0)
        checks.require((ms >= EARLIEST_MS) & (ms < LATEST_MS), "time outside 1990-2099")

        if checks.failed:
            keep, good = checks.reject(out, lines), checks.good
            t, code, ms, lines = t.filter(keep), code.filter(keep), ms[good], lines[good]
        idx = code.indices
        method = t.column("method").combine_chunks()
        connect = np.isin(np.asarray(method.indices), np.flatnonzero(np.asarray(method.dictionary) == "CONNECT"))
        parts = _url.split(t.column("url"), connect)
        user, user_raw = users(t.column("user"), squid_escaped=True)
        cols = {
            "time": pa.array(ms.astype(np.int64), pa.timestamp("ms", tz="UTC")),
            "duration_ms": t.column("elapsed"),
            "client_ip": t.column("client_ip"),
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": t.column("url"),
            **parts,
            "status": status_d.take(idx),
            "action": recode(action_d, idx),
            "vendor_action": recode(vendor, idx),
            "bytes_in": t.column("bytes"),
            "content_type": dash_to_null_codes(t.column("mime")),
            "source_format": constant(self.name, t.num_rows),
        }
        if "referer" in t.column_names:
            cols["referer"] = dash_to_null(t.column("referer"))
            cols["user_agent"] = dash_to_null(t.column("user_agent"))
        elif "rest" in t.column_names:
            rest = t.column("rest")
            pair = pc.extract_regex(rest, r'^"(?P<referer>[^"]*)" "(?P<user_agent>.*)"$')
            cols["user_agent"] = pc.coalesce(dash_to_null(pc.struct_field(pair, [1])), _header(rest, "User-Agent"))
            cols["referer"] = pc.coalesce(dash_to_null(pc.struct_field(pair, [0])), _header(rest, "Referer"))
        return table(cols, lines)


def _header(rest: pa.ChunkedArray, name: str) -> pa.Array:
    """Pull one request header out of ``log_mime_hdrs`` brackets (escaped or raw CR LF)."""
    pattern = rf"(?i){name}:(?:\s|%20)*(?P<v>[^\]\r\n%]*(?:%(?:[^0]|0[^dDaA])[^\]\r\n%]*)*)"
    found = pc.extract_regex(rest, pattern)
    value = pc.struct_field(found, [0])
    return pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value)


def _csv(
    data: pa.Buffer,
    names: list[str],
    quoted: bool,
    expect: int,
    nonblank: int,
    delimiter: str = chr(_SEP),
    exclude: tuple[str, ...] = (),
) -> pa.Table | None:
    """Tokenise with Arrow; return None unless exactly the expected rows came out."""
    skipped = 0

    def skip(_row: object) -> str:
        nonlocal skipped
        skipped += 1
        return "skip"

    def read(types: dict[str, pa.DataType]) -> pa.Table:
        return pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoted else False,
                escape_char=False,
                ignore_empty_lines=True,
                invalid_row_handler=skip,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: types.get(n, _COMMON_TYPES.get(n, pa.string())) for n in names},
                include_columns=[n for n in names if n not in exclude],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )

    try:
        t = read(_TYPED)
    except pa.ArrowInvalid:
        skipped = 0
        t = read({})
    if t.num_rows != expect or skipped != nonblank - expect:
        return None
    return t


def _numbers(t: pa.Table) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Make time, elapsed and bytes numeric; report rows whose text was not a number."""
    bad: dict[str, np.ndarray] = {}
    if "time" not in t.column_names or t.column("time").type == pa.float64():
        return t, bad
    checks = {
        "time": (pa.float64(), pc.match_substring_regex(t.column("time"), r"^\d{1,12}(\.\d{1,6})?$")),
        "elapsed": (pa.int64(), pc.utf8_is_digit(t.column("elapsed"))),
        "bytes": (pa.int64(), pc.utf8_is_digit(t.column("bytes"))),
    }
    for name, (typ, valid) in checks.items():
        valid = pc.fill_null(valid, False)
        bad[name] = ~np.asarray(valid)
        fixed = pc.if_else(valid, t.column(name), "0")
        if name != "time":
            fixed = pc.utf8_slice_codeunits(fixed, -18)  # at most 18 digits fit an int64
        t = t.set_column(t.column_names.index(name), name, pc.cast(fixed, typ))
    return t, bad
