"""W3C extended / ELFF logs, driven by their ``#Fields:`` header (Blue Coat ProxySG, Cisco CWS/ScanSafe, WSA).

    #Fields: date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method ...
    2005-05-04 17:16:12 1 45.110.2.82 200 TCP_HIT 941 729 GET http www.inmobus.com /x.gif - george ...

The vendors agree on the grammar (space-separated, ``"quoted"`` values, ``-`` for
none) but not on which fields, in which order, or even their spelling. So there
is one alias table from field name to canonical role, and the header decides the
layout. A header can change mid-file (a proxy restarted with a new format), and a
block can hold several header sections; each run of data lines under one header
is tokenised by Arrow's CSV reader, and the row count is checked so that a bad
line is found by bisection and quarantined alone. Lines logged without any header
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

from ..schema import empty_events
from . import _rows, _url
from ._w3c_values import actions, build_url, epoch_ms, integers, parts, stamp_ms
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
        self._turn = threading.Condition()
        self._padded = False

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
        fields = self._fields_at(block, first_line)
        block, repaired, nl = clean(block)
        out = Parsed(empty_events(), repaired=repaired)
        buf = np.frombuffer(block, np.uint8)
        if not len(nl):
            return out
        if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
            buf = buf.copy()
            lone = np.flatnonzero(buf == 13)
            buf[lone[buf[np.minimum(lone + 1, len(buf) - 1)] != 10]] = ord("?")  # Arrow would end a row at a bare CR
        starts, ends = line_bounds(buf, nl)
        blank = ends == starts
        hashed = ~blank & (buf[np.minimum(starts, len(buf) - 1)] == 35)
        out.skipped = int((blank | hashed).sum())
        data = ~blank & ~hashed
        lines = {"buf": buf, "starts": starts, "ends": ends, "nl": nl}
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

    def _fields_at(self, block: bytes, first_line: int) -> list[str] | None:
        """The ``#Fields:`` in effect at this block's first line.

        The pipeline parses blocks on several threads at once, so each call waits
        (briefly: only for the previous block's header scan) until the block before
        it has recorded the header it ends with.
        """
        with self._turn:
            if self._next is not None and first_line > self._next:
                self._turn.wait_for(lambda: self._next is None or first_line <= self._next, timeout=30)
            start = self._fields
            self._fields = _last_fields(block) or self._fields
            self._next = max(self._next or 0, first_line + block.count(b"\n"))
            self._turn.notify_all()
        return start

    def _rows(
        self, lines: dict[str, np.ndarray], idx: np.ndarray, names: list[str], first: int, out: Parsed, pieces: list
    ) -> None:
        """Tokenise lines ``idx`` (one header section) with Arrow; bisect where the row count disagrees."""
        buf, starts, nl = lines["buf"], lines["starts"], lines["nl"]
        roles = _roles(names)
        if not roles:
            out.reject(idx + first, "the #Fields: header names no field filterlog knows")
            return
        cols = [f"c{i}" for i in range(len(names))]
        a, b = starts[idx[0]], nl[idx[-1]] + 1
        if "surplus" not in lines and not self._padded:  # first try: the lines as they are
            t = _read(buf[a:b], cols, roles, len(idx))
            if t is not None:
                pieces.append(_canonical(t, roles, cols, idx + first))
                return
            self._padded = True  # runs of spaces, most likely: drop them first in the next blocks
        if "surplus" not in lines:
            lines["surplus"] = _surplus(buf, starts, lines["ends"])
        surplus = lines["surplus"]
        lo, hi = np.searchsorted(surplus, [a, b])
        keep = np.ones(b - a, dtype=bool)
        keep[surplus[lo:hi] - a] = False
        t = _read(buf[a:b][keep], cols, roles, len(idx))
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
        one = pa.table({cols[i]: pa.array([tokens[i].decode("utf-8", "replace")]) for i in roles.values()})
        pieces.append(_canonical(one, roles, cols, np.array([number])))

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        col = {name: t.column(name) for name in ROLES}
        ms = epoch_ms(col["epoch"])
        stamp = pc.if_else(
            pc.and_(pc.is_valid(col["date"]), pc.is_valid(col["time"])),
            pc.binary_join_element_wise(col["date"], col["time"], " "),
            col["datetime"],
        )
        ms = np.where(ms >= 0, ms, stamp_ms(stamp))
        checks = Checks(t.num_rows)
        checks.require((ms >= EARLIEST_MS) & (ms < LATEST_MS), "no valid date/time, or one outside 1990-2099")
        checks.require(np.asarray(pc.is_valid(col["client_ip"])), "the #Fields: header names no c-ip")
        url = build_url(col)
        checks.require(np.asarray(pc.is_valid(url)), "no URL (cs-uri / cs-url, or cs-host) in this line")
        if checks.failed:
            keep, good = checks.reject(out, lines), checks.good
            t, url, ms, lines = t.filter(keep), url.filter(keep), ms[good], lines[good]
            col = {name: t.column(name) for name in ROLES}
        n = t.num_rows
        if n == 0:
            return empty_events()
        method = pc.fill_null(dash_to_null(col["method"]), "-")
        method = pc.if_else(pc.equal(method, "TCP_CONNECT"), "CONNECT", method)  # WSA names tunnels so
        code_status = pc.extract_regex(col["code_status"], r"^(?P<code>[^/]*)/(?P<status>\d*)$")
        status = pc.coalesce(integers(col["status"]), integers(pc.struct_field(code_status, [1])))
        status = pc.cast(pc.if_else(pc.equal(status, 0), pa.scalar(None, pa.int64()), status), pa.int16())
        code = pc.coalesce(dash_to_null(col["cache_action"]), dash_to_null(pc.struct_field(code_status, [0])))
        verdict = dash_to_null(col["filter_result"])
        connect = np.asarray(pc.fill_null(pc.equal(method, "CONNECT"), False))
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
            "status": status,
            "action": actions(verdict, code, col["block_type"], status),
            "vendor_action": pc.coalesce(verdict, code, dash_to_null(col["block_type"])),
            "bytes_in": integers(col["bytes_in"]),
            "bytes_out": integers(col["bytes_out"]),
            "content_type": dash_to_null(col["content_type"]),
            "vendor_category": dash_to_null(col["category"]),
            "user_agent": dash_to_null(col["user_agent"]),
            "referer": dash_to_null(col["referer"]),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


def _read(chunk: np.ndarray, cols: list[str], roles: dict[str, int], expect: int) -> pa.Table | None:
    """Tokenise with Arrow (space-delimited, ``"quoted"``); None unless exactly ``expect`` rows came out."""
    invalid = 0

    def skip(_row: object) -> str:
        nonlocal invalid
        invalid += 1
        return "skip"

    try:
        t = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=pcsv.ReadOptions(column_names=cols, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(
                delimiter=" ", quote_char='"', escape_char=False, ignore_empty_lines=True, invalid_row_handler=skip
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(cols, pa.string()),
                include_columns=[cols[i] for i in roles.values()],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return t if invalid == 0 and t.num_rows == expect else None


def _surplus(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Positions of padding spaces (the 2nd.. of a run, or leading) outside ``"quotes"``, to drop.

    ProxySG writes runs of spaces (``-  200``); Arrow would read each extra space as
    an empty field. Runs are rare, so only their positions get the quote-parity test
    (quotes before the space on its line), by binary search.
    """
    sp = buf == 32
    cand = np.flatnonzero(sp[1:] & sp[:-1]) + 1
    lead = starts[(ends > starts) & (buf[np.minimum(starts, len(buf) - 1)] == 32)]
    cand = np.union1d(cand, lead)
    quotes = np.flatnonzero(buf == 34) if len(cand) else cand
    line = np.searchsorted(ends, cand, side="right")
    quoted = (np.searchsorted(quotes, cand) - np.searchsorted(quotes, starts[line])) & 1 == 1
    return cand[~quoted]


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
    arrays = {r: t.column(cols[roles[r]]) if r in roles else pa.nulls(n, pa.string()) for r in ROLES}
    arrays["source_line"] = pa.array(lines.astype(np.int64))
    return pa.table(arrays)
