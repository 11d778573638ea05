"""W3C extended / ELFF logs, driven by their ``#Fields:`` header (Blue Coat ProxySG, Cisco CWS/ScanSafe, WSA).

    #Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method ...
    2005-05-04 17:16:12 1 45.110.2.82 200 TCP_HIT 941 729 GET http www.inmobus.com /x.gif - george ...

The vendors agree on the grammar (space-separated, ``"quoted"`` values, ``-`` for
none) but not on which fields, in which order, or even their spelling. So there
is one alias table from field name to canonical role, and the header decides the
layout. A header can change mid-file (a proxy restarted with a new format), and a
block can hold several header sections; each run of data lines under one header
is tokenised by Arrow's CSV reader (padding spaces made harmless first, see
_w3c_padding), and the row count is checked so that a bad line is found by
bisection and quarantined alone. Most fields are then dictionary-encoded, so the
column work (_w3c_values) runs once per distinct value, not once per row. Lines logged without any header
(syslog-forwarded ProxySG) are read when their field count matches one of the
ProxySG default layouts below, whose field lists come from real headers.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import FilterlogError
from ..schema import DICT, empty_events
from . import _rows, _url, _w3c_padding
from ._w3c_values import build_url, integers, outcomes, parts, status, times
from ._w3c_values import w3c_action as w3c_action  # re-exported: the vocabulary mapping other readers share
from .base import (
    EARLIEST_MS,
    LATEST_MS,
    Checks,
    Parsed,
    Reader,
    clean,
    constant,
    dash_to_null,
    line_bounds,
    lone_cr,
    recode,
    table,
    users,
)

_NAMES = {
    # role: the W3C field names that give it (lower case); the first in a header wins
    "date": "date",
    "time": "time",
    "datetime": "datatime datetime x-datatime",  # datatime: the Cisco CWS spelling
    "epoch": "timestamp x-timestamp",  # Cisco WSA
    "duration_ms": "time-taken x-elapsed-time",
    "client_ip": "c-ip",
    "user": "cs-username cs-user x-username",
    "method": "cs-method",
    "url": "cs-uri cs-url",
    "scheme": "cs-uri-scheme",
    "host": "cs-host",
    "port": "cs-uri-port",
    "path": "cs-uri-path cs-uri-stem",
    "query": "cs-uri-query",
    "status": "sc-status",
    "code_status": "x-resultcode-httpstatus",  # WSA: TCP_MISS/200
    "cache_action": "s-action",
    "filter_result": "sc-filter-result x-ss-last-rule-action",  # PROXIED/OBSERVED/DENIED; allow/block/warn
    "block_type": "x-ss-block-type",
    "bytes_in": "sc-bytes",
    "bytes_out": "cs-bytes",
    "content_type": "rs(content-type) sc(content-type) cs-mime-type",  # not cs(Content-Type): the request's
    "category": "cs-categories sc-filter-category x-ss-category cs-category",
    "user_agent": "cs(user-agent)",
    "referer": "cs(referer) cs(referrer)",
}
_ALIASES = {name: role for role, names in _NAMES.items() for name in names.split()}
ROLES = tuple(dict.fromkeys(_ALIASES.values()))
_PLAIN = frozenset({"client_ip", "url", "duration_ms", "bytes_in", "bytes_out", "user_agent", "referer"})
"""Roles kept as plain strings: nearly one value per row, or no work beyond a null test."""
_TYPES = {role: pa.string() if role in _PLAIN else DICT for role in ROLES}

_SGOS3 = (
    "date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme cs-host cs-uri-path "
    "cs-uri-query cs-username s-hierarchy s-supplier-name rs(Content-Type) cs(User-Agent) sc-filter-result "
    "sc-filter-category x-virus-id s-ip s-sitename x-virus-details x-icap-error-code x-icap-error-details"
).split()
_SGOS5 = (
    "date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories cs(Referer) "
    "sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query "
    "cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id"
).split()
DEFAULTS = {len(f): f for f in (_SGOS3, _SGOS5)}
"""Headerless lines: ProxySG default 'main' layouts (SGOS 3.2 and 5.4 headers, research/formats.md §1d)."""

_TOKEN = re.compile(rb'"(?:[^"]|"")*"|\S+')
_DATED = re.compile(rb"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ")
_DIRECTIVE = re.compile(rb"^#(?:Software|Version|Fields|Date|Start-Date|System|Remark):")
"""Filter verdicts that kept the page from the user (a CWS *warn* serves a warning page instead)."""


class W3CReader(Reader):
    """W3C extended / ELFF, header-driven; keeps the ``#Fields:`` in effect across blocks."""

    name = "w3c"
    description = "W3C extended / ELFF with a #Fields: header: Blue Coat ProxySG, Cisco CWS (ScanSafe), Cisco WSA"

    def __init__(self, timezone: str = "UTC") -> None:
        super().__init__(timezone)
        self._fields: list[str] | None = None
        self._next: int | None = None
        """The first line of the next block to record its header: a block starting later waits for it.
        Set by ``begin``; without it (a reader used by hand) the first block parsed is taken as the first."""
        self._turn = threading.Condition()

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines that are W3C directives or data lines with the header's field count."""
        lines = [x.rstrip(b"\r") for x in lines if x.strip()]
        if not lines:
            return 0.0
        fields: int | None = None
        good = 0
        for line in lines:
            if line.startswith(b"#"):
                ok = bool(_DIRECTIVE.match(line))
                if line.startswith(b"#Fields:"):
                    fields = len(line.split()) - 1
                good += ok
            elif fields is not None:
                good += len(_TOKEN.findall(line)) == fields
            else:
                good += bool(_DATED.match(line)) and len(_TOKEN.findall(line)) in DEFAULTS
        return good / len(lines)

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; ``#`` lines are counted as skipped, ``#Fields:`` lines change the layout."""
        if block and not block.endswith(b"\n"):
            block += b"\n"
        block, repaired, nl = clean(block)
        out = Parsed(empty_events(), repaired=repaired)
        buf = np.frombuffer(block, np.uint8)
        starts, ends = line_bounds(buf, nl)
        blank = ends == starts
        hashed = ~blank & (buf[np.minimum(starts, max(len(buf) - 1, 0))] == 35) if len(buf) else blank
        fields = self._fields_at(_header(buf, starts, ends, hashed), first_line, len(nl))
        if not len(nl):
            return out
        if lone_cr(block, buf):
            buf = buf.copy()
            lone = np.flatnonzero(buf == 13)
            buf[lone[buf[np.minimum(lone + 1, len(buf) - 1)] != 10]] = ord("?")  # Arrow would end a row at a bare CR
        out.skipped = int((blank | hashed).sum())
        data = ~blank & ~hashed
        lines = {"markable": block.find(b"\x01") < 0, "buf": buf, "starts": starts, "ends": ends, "nl": nl}
        pieces: list[pa.Table] = []
        cuts = np.flatnonzero(hashed)
        bounds = [0, *(cuts + 1).tolist(), len(starts)]
        for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            if k:  # the line before this run is a # line
                text = bytes(buf[starts[lo - 1] : ends[lo - 1]])
                if text.startswith(b"#Fields:"):
                    fields = text[8:].decode("utf-8", "replace").split()
            idx = lo + np.flatnonzero(data[lo:hi])
            if not len(idx):
                continue
            names = fields or _guess(bytes(buf[starts[idx[0]] : ends[idx[0]]]))
            if names is None:
                out.reject(idx + first_line, "no #Fields: header before this line")
                continue
            self._rows(lines, idx, names, first_line, out, pieces)
        t = _rows.concat(pieces)
        if t is not None:
            out.events = self._events(t, out)
        return out

    def prime(self, before: bytes) -> None:
        """Take the ``#Fields:`` in effect from text read before this reader starts (a grown file's head).

        An appended log is read from where the last ingest stopped, after its header;
        the pipeline can hand the reader the file's start so the new lines keep their layout.
        """
        with self._turn:
            self._fields = _last_fields(before) or self._fields

    def begin(self, first_line: int) -> None:
        """The first block may start past line 1 (a grown file); no block before it will come."""
        with self._turn:
            self._next = first_line

    def _fields_at(self, last: list[str] | None, first_line: int, count: int) -> list[str] | None:
        """The ``#Fields:`` in effect at this block's first line; ``last`` is the one the block ends with.

        The pipeline parses blocks on several threads at once, so each call waits
        (briefly: the block before it only has to record the header it ends with)
        until the block before it has done so.
        """
        with self._turn:
            ready = lambda: self._next is None or first_line <= self._next  # noqa: E731
            if not ready() and not self._turn.wait_for(ready, timeout=60):
                raise FilterlogError(f"internal error: the block before line {first_line} was never parsed")
            start = self._fields
            self._fields = last or self._fields
            self._next = max(self._next or 0, first_line + count)
            self._turn.notify_all()
        return start

    def _rows(
        self, lines: dict[str, np.ndarray], idx: np.ndarray, names: list[str], first: int, out: Parsed, pieces: list
    ) -> None:
        """Tokenise lines ``idx`` (one header section) with Arrow; bisect where the row count disagrees.

        Padding spaces (see ``_w3c_padding``) are found once per block, before any
        tokenising; a block without them is read in place.
        """
        buf, starts, nl = lines["buf"], lines["starts"], lines["nl"]
        roles = _roles(names)
        if not roles:
            out.reject(idx + first, "the #Fields: header names no field filterlog knows")
            return
        cols = [f"c{i}" for i in range(len(names))]
        a, b = starts[idx[0]], nl[idx[-1]] + 1
        if "surplus" not in lines:
            lines["surplus"] = _w3c_padding.surplus(buf, starts, lines["ends"])
        surplus = lines["surplus"]
        lo, hi = np.searchsorted(surplus, [a, b])
        t = None
        if hi > lo and "marked" not in lines:
            at = _w3c_padding.marks(buf, surplus, starts) if lines["markable"] else None
            lines["marked"] = None if at is None else _w3c_padding.marked(buf, at)
        if hi > lo and lines["marked"] is not None:
            t = _read(lines["marked"][a:b], cols, roles, len(idx))
            t = t if t is None else _w3c_padding.unmark(_encoded(t, roles, cols))
        if t is None:
            chunk = np.delete(buf[a:b], surplus[lo:hi] - a) if hi > lo else buf[a:b]
            t = _read(chunk, cols, roles, len(idx))
            t = t if t is None else _encoded(t, roles, cols)
        if t is not None:
            pieces.append(_canonical(t, roles, cols, idx + first))
        elif len(idx) > 1:
            half = len(idx) // 2
            self._rows(lines, idx[:half], names, first, out, pieces)
            self._rows(lines, idx[half:], names, first, out, pieces)
        else:
            self._one(bytes(buf[starts[idx[0]] : nl[idx[0]]]).rstrip(b"\r"), idx[0] + first, names, roles, out, pieces)

    def _one(self, line: bytes, number: int, names: list[str], roles: dict, out: Parsed, pieces: list) -> None:
        """One line Arrow could not read (a stray quote, a wrong field count): split it by hand."""
        tokens = [tok[1:-1].replace(b'""', b'"') if tok[:1] == b'"' else tok for tok in _TOKEN.findall(line)]
        if len(tokens) != len(names):
            out.reject([number], f"{len(tokens)} fields where the #Fields: header names {len(names)}")
            return
        cols = [f"c{i}" for i in range(len(names))]
        one = {cols[i]: pa.array([tokens[i].decode("utf-8", "replace")]) for i in roles.values()}
        pieces.append(_canonical(_encoded(pa.table(one), roles, cols), roles, cols, np.array([number])))

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        t = t.unify_dictionaries()
        col = {name: t.column(name).combine_chunks() for name in ROLES}
        ms = times(col)
        method, connect = _methods(col["method"])
        checks = Checks(t.num_rows)
        checks.require((ms >= EARLIEST_MS) & (ms < LATEST_MS), "no valid date/time, or one outside 1990-2099")
        checks.require(np.asarray(pc.is_valid(col["client_ip"])), "the #Fields: header names no c-ip")
        url = build_url(col, connect)
        checks.require(np.asarray(pc.is_valid(url)), "no URL (cs-uri / cs-url, or cs-host) in this line")
        if checks.failed:
            keep, good = checks.reject(out, lines), checks.good
            url, method, connect = url.filter(keep), method.filter(keep), connect[good]
            ms, lines = ms[good], lines[good]
            col = {name: c.filter(keep) for name, c in col.items()}
        n = len(lines)
        if n == 0:
            return empty_events()
        code = status(col)
        action, vendor_action = outcomes(col, code)
        user, user_raw = users(col["user"])
        cols = {
            "time": pa.array(ms, pa.timestamp("ms", tz="UTC")),
            "duration_ms": integers(col["duration_ms"]),
            "client_ip": col["client_ip"],
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": url,
            **(parts(col, connect) if col["url"].null_count == n else _url.split(url, connect)),
            "status": code,
            "action": action,
            "vendor_action": vendor_action,
            "bytes_in": integers(col["bytes_in"]),
            "bytes_out": integers(col["bytes_out"]),
            "content_type": recode(dash_to_null(col["content_type"].dictionary), col["content_type"].indices),
            "vendor_category": recode(dash_to_null(col["category"].dictionary), col["category"].indices),
            "user_agent": dash_to_null(col["user_agent"]),
            "referer": dash_to_null(col["referer"]),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


def _methods(col: pa.DictionaryArray) -> tuple[pa.DictionaryArray, np.ndarray]:
    """The method column (``-`` where none; WSA's TCP_CONNECT is CONNECT) and which rows are tunnels."""
    names = pc.fill_null(dash_to_null(col.dictionary), "-")
    names = pc.if_else(pc.equal(names, "TCP_CONNECT"), "CONNECT", names)
    names = pa.concat_arrays([names, pa.array(["-"], pa.string())])
    idx = np.asarray(pc.fill_null(col.indices, len(names) - 1))
    connect = np.asarray(pc.equal(names, "CONNECT"))[idx]
    return recode(names, pa.array(idx.astype(np.int32))), connect


def _read(chunk: np.ndarray, cols: list[str], roles: dict[str, int], expect: int) -> pa.Table | None:
    """Tokenise with Arrow (space-delimited, ``"quoted"``); None unless exactly ``expect`` rows came out."""
    try:
        t = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=pcsv.ReadOptions(column_names=cols, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=" ", quote_char='"', escape_char=False, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys((cols[i] for i in roles.values()), pa.string()),
                include_columns=[cols[i] for i in roles.values()],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return t if t.num_rows == expect else None


def _encoded(t: pa.Table, roles: dict[str, int], cols: list[str]) -> pa.Table:
    """Columns dictionary-encoded (one dictionary each) except the ``_PLAIN`` roles'.

    The column work is then done per distinct value. Encoding after the read
    costs less than asking Arrow's CSV reader for dictionary columns.
    """
    plain = {cols[i] for role, i in roles.items() if role in _PLAIN}
    return pa.table(
        [
            c.combine_chunks() if name in plain else pc.dictionary_encode(c).combine_chunks()
            for name, c in zip(t.column_names, t.columns, strict=True)
        ],
        names=t.column_names,
    )


def _header(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, hashed: np.ndarray) -> list[str] | None:
    """The field names of the block's last ``#Fields:`` line, if any."""
    heads = np.flatnonzero(hashed)
    if not len(heads):
        return None
    s = starts[heads]
    ok = ends[heads] - s >= 8
    for k, ch in enumerate(b"#Fields:"):
        ok &= buf[np.minimum(s + k, len(buf) - 1)] == ch
    if not ok.any():
        return None
    last = heads[np.flatnonzero(ok)[-1]]
    return bytes(buf[starts[last] + 8 : ends[last]]).decode("utf-8", "replace").split()


def _last_fields(text: bytes) -> list[str] | None:
    """The field names of the last ``#Fields:`` line in ``text``, if any."""
    at = text.rfind(b"#Fields:")
    while at > 0 and text[at - 1] != 10:
        at = text.rfind(b"#Fields:", 0, at)
    if at < 0:
        return None
    end = text.find(b"\n", at)
    return text[at + 8 : end if end >= 0 else len(text)].decode("utf-8", "replace").split()


def _guess(line: bytes) -> list[str] | None:
    """No header seen: a ProxySG default layout, if the line is dated and has its field count."""
    return DEFAULTS.get(len(_TOKEN.findall(line))) if _DATED.match(line) else None


def _roles(names: list[str]) -> dict[str, int]:
    """Role → column position for a header; the first field giving a role wins."""
    roles: dict[str, int] = {}
    for i, name in enumerate(names):
        role = _ALIASES.get(name.lower())
        if role and role not in roles:
            roles[role] = i
    return roles


def _canonical(t: pa.Table, roles: dict[str, int], cols: list[str], lines: np.ndarray) -> pa.Table:
    """Rename a section's columns to roles; roles its header lacks become null."""
    n = t.num_rows
    arrays = {r: t.column(cols[roles[r]]) if r in roles else pa.nulls(n, _TYPES[r]) for r in ROLES}
    arrays["source_line"] = pa.array(lines.astype(np.int64))
    return pa.table(arrays)
