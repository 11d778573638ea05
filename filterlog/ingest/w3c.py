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
from . import _url
from .base import Parsed, Reader, clean, constant, dash_to_null, line_bounds, table, users

_ALIASES = {
    # time
    "date": "date",
    "time": "time",
    "datatime": "datetime",  # Cisco CWS spelling
    "datetime": "datetime",
    "x-datatime": "datetime",
    "timestamp": "epoch",  # Cisco WSA
    "x-timestamp": "epoch",
    "time-taken": "duration_ms",
    "x-elapsed-time": "duration_ms",
    # who
    "c-ip": "client_ip",
    "cs-username": "user",
    "cs-user": "user",
    "x-username": "user",
    # what
    "cs-method": "method",
    "cs-uri": "url",
    "cs-url": "url",
    "cs-uri-scheme": "scheme",
    "cs-host": "host",
    "cs-uri-port": "port",
    "cs-uri-path": "path",
    "cs-uri-stem": "path",
    "cs-uri-query": "query",
    # outcome
    "sc-status": "status",
    "x-resultcode-httpstatus": "code_status",  # WSA: TCP_MISS/200
    "s-action": "cache_action",
    "sc-filter-result": "filter_result",  # ProxySG: PROXIED, OBSERVED, DENIED
    "x-ss-last-rule-action": "filter_result",  # CWS: allow, block, warn
    "x-ss-block-type": "block_type",
    "sc-bytes": "bytes_in",
    "cs-bytes": "bytes_out",
    "rs(content-type)": "content_type",  # reply type; cs(Content-Type) is the request's and is not used
    "sc(content-type)": "content_type",
    "cs-mime-type": "content_type",
    "cs-categories": "category",
    "sc-filter-category": "category",
    "x-ss-category": "category",
    "cs-category": "category",
    "cs(user-agent)": "user_agent",
    "cs(referer)": "referer",
    "cs(referrer)": "referer",
}
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
_BLOCKED = {"denied", "deny", "block", "blocked", "warn", "warned"}
"""Filter verdicts that kept the page from the user (a CWS *warn* serves a warning page instead)."""
_MIN_MS, _MAX_MS = 631_152_000_000, 4_102_444_800_000


def w3c_action(verdict: str, code: str, block_type: str, status: int | None) -> str:
    """Normalise one outcome: a 407 is an authentication challenge, a filter verdict beats the cache code."""
    if status == 407:
        return "auth_required"
    if verdict.lower() in _BLOCKED:
        return "blocked"
    if not verdict and block_type not in ("", "-"):
        return "blocked"
    code = code.upper()
    if "DENIED" in code:
        return "blocked"
    if "_ERR" in code or (code.startswith("NONE") and (status is None or status >= 400)):
        return "error"
    return "allowed"


class W3CReader(Reader):
    """W3C extended / ELFF, header-driven; keeps the ``#Fields:`` in effect across blocks."""

    name = "w3c"
    description = "W3C extended / ELFF with a #Fields: header: Blue Coat ProxySG, Cisco CWS (ScanSafe), Cisco WSA"

    def __init__(self) -> None:
        self._fields: list[str] | None = None
        self._next: int | None = None
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
        fields = self._fields_at(block, first_line)
        cleaned = clean(block)  # (block, repaired[, newlines]) -- only the first two are used
        block, repaired = cleaned[0], cleaned[1]
        out = Parsed(empty_events(), repaired=repaired)
        buf = np.frombuffer(block, np.uint8).copy()
        nl = np.flatnonzero(buf == 10)
        if not len(nl):
            return out
        lone = np.flatnonzero(buf == 13)
        buf[lone[buf[np.minimum(lone + 1, len(buf) - 1)] != 10]] = ord("?")  # Arrow would end a row at a bare CR
        starts, ends = line_bounds(buf, nl)
        blank = ends == starts
        hashed = ~blank & (buf[np.minimum(starts, len(buf) - 1)] == 35)
        out.skipped = int((blank | hashed).sum())
        data = ~blank & ~hashed
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
            names = fields
            if names is None:
                names = self._guess(buf, starts, ends, idx, out, first_line)
                if names is None:
                    continue
            self._rows(buf, starts, nl, idx, names, first_line, out, pieces)
        if pieces:
            t = pa.concat_tables(pieces)
            t = t.take(pc.sort_indices(t, [("source_line", "ascending")]))
            out.events = self._events(t, out)
        return out

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
            at = block.rfind(b"#Fields:")
            while at > 0 and block[at - 1] != 10:
                at = block.rfind(b"#Fields:", 0, at)
            if at >= 0:
                end = block.find(b"\n", at)
                self._fields = block[at + 8 : end].decode("utf-8", "replace").split()
            self._next = max(self._next or 0, first_line + block.count(b"\n"))
            self._turn.notify_all()
        return start

    def _guess(
        self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, idx: np.ndarray, out: Parsed, first_line: int
    ) -> list[str] | None:
        """No header seen: use a ProxySG default layout if the first line has its field count."""
        line = bytes(buf[starts[idx[0]] : ends[idx[0]]])
        names = DEFAULTS.get(len(_TOKEN.findall(line))) if _DATED.match(line) else None
        if names is None:
            out.reject(idx + first_line, "no #Fields: header before this line")
        return names

    def _rows(
        self,
        buf: np.ndarray,
        starts: np.ndarray,
        nl: np.ndarray,
        idx: np.ndarray,
        names: list[str],
        first_line: int,
        out: Parsed,
        pieces: list[pa.Table],
    ) -> None:
        """Tokenise lines ``idx`` (one header section) with Arrow; bisect where the row count disagrees."""
        roles = _roles(names)
        if not roles:
            out.reject(idx + first_line, "the #Fields: header names no field filterlog knows")
            return
        cols = [f"c{i}" for i in range(len(names))]
        data = pa.py_buffer(buf[starts[idx[0]] : nl[idx[-1]] + 1])
        invalid = 0

        def skip(_row: object) -> str:
            nonlocal invalid
            invalid += 1
            return "skip"

        try:
            t = pcsv.read_csv(
                pa.BufferReader(data),
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
            t, invalid = None, 1
        if t is not None and invalid == 0 and t.num_rows == len(idx):
            pieces.append(_canonical(t, roles, cols, idx + first_line))
            return
        if len(idx) > 1:
            half = len(idx) // 2
            self._rows(buf, starts, nl, idx[:half], names, first_line, out, pieces)
            self._rows(buf, starts, nl, idx[half:], names, first_line, out, pieces)
            return
        # One line Arrow could not read (runs of spaces, a stray quote): split it by hand.
        line = bytes(buf[starts[idx[0]] : nl[idx[0]]]).rstrip(b"\r")
        tokens = [tok[1:-1].replace(b'""', b'"') if tok[:1] == b'"' else tok for tok in _TOKEN.findall(line)]
        if len(tokens) != len(names):
            out.reject(idx + first_line, f"{len(tokens)} fields where the #Fields: header names {len(names)}")
            return
        one = pa.table({cols[i]: pa.array([tokens[i].decode("utf-8", "replace")]) for i in roles.values()})
        pieces.append(_canonical(one, roles, cols, idx + first_line))

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        col = {name: t.column(name) for name in ROLES}
        ms = _epoch_ms(col["epoch"])
        stamp = pc.if_else(
            pc.and_(pc.is_valid(col["date"]), pc.is_valid(col["time"])),
            pc.binary_join_element_wise(col["date"], col["time"], " "),
            col["datetime"],
        )
        ms = np.where(ms >= 0, ms, _stamp_ms(stamp))
        good = (ms >= _MIN_MS) & (ms < _MAX_MS)
        reasons = {int(i): "no valid date/time" for i in np.flatnonzero(~good)}
        client = np.asarray(pc.is_valid(col["client_ip"]))
        for i in np.flatnonzero(~client & good):
            reasons[int(i)] = "the #Fields: header names no c-ip"
        good &= client
        url = _build_url(col)
        has_url = np.asarray(pc.is_valid(url))
        for i in np.flatnonzero(~has_url & good):
            reasons[int(i)] = "no URL (cs-uri / cs-url, or cs-host) in this line"
        good &= has_url
        if reasons:
            bad = sorted(reasons)
            out.reject(lines[bad], [reasons[i] for i in bad])
            keep = pa.array(good)
            t, url, ms, lines = t.filter(keep), url.filter(keep), ms[good], lines[good]
            col = {name: t.column(name) for name in ROLES}
        n = t.num_rows
        if n == 0:
            return empty_events()
        method = pc.fill_null(dash_to_null(col["method"]), "-")
        code_status = pc.extract_regex(col["code_status"], r"^(?P<code>[^/]*)/(?P<status>\d*)$")
        status = pc.coalesce(_int(col["status"]), _int(pc.struct_field(code_status, [1])))
        status = pc.cast(pc.if_else(pc.equal(status, 0), pa.scalar(None, pa.int64()), status), pa.int16())
        code = pc.coalesce(dash_to_null(col["cache_action"]), dash_to_null(pc.struct_field(code_status, [0])))
        verdict = dash_to_null(col["filter_result"])
        connect = np.asarray(pc.fill_null(pc.equal(method, "CONNECT"), False))
        user, user_raw = users(col["user"])
        cols = {
            "time": pa.array(ms, pa.timestamp("ms", tz="UTC")),
            "duration_ms": _int(col["duration_ms"]),
            "client_ip": col["client_ip"],
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": url,
            **_url.split(url, connect),
            "status": status,
            "action": _actions(verdict, code, col["block_type"], status),
            "vendor_action": pc.coalesce(verdict, code, dash_to_null(col["block_type"])),
            "bytes_in": _int(col["bytes_in"]),
            "bytes_out": _int(col["bytes_out"]),
            "content_type": dash_to_null(col["content_type"]),
            "vendor_category": dash_to_null(col["category"]),
            "user_agent": dash_to_null(col["user_agent"]),
            "referer": dash_to_null(col["referer"]),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


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


def _int(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Digits → int64; ``-``, empty, signs and overlong numbers → null."""
    ok = pc.and_(pc.utf8_is_digit(col), pc.less_equal(pc.utf8_length(col), 18))
    return pc.cast(pc.if_else(ok, col, pa.scalar(None, pa.string())), pa.int64())


def _epoch_ms(col: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds (WSA ``timestamp``) → ms; -1 where absent or malformed."""
    ok = pc.fill_null(pc.match_substring_regex(col, r"^\d{1,11}(\.\d{1,6})?$"), False)
    sec = pc.cast(pc.if_else(ok, col, "-1"), pa.float64())
    return np.round(np.asarray(sec) * 1000.0).astype(np.int64).clip(-1)


def _stamp_ms(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS[.fff]`` (or ISO ``T``/``Z``), UTC → ms; -1 where not a time.

    Parsed once per distinct value: a day has at most 86,400 distinct seconds.
    """
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    values = pc.replace_substring_regex(enc.dictionary, r"^(\d{4}-\d{2}-\d{2})T(.*?)Z?$", r"\1 \2")
    parts = pc.extract_regex(values, r"^(?P<s>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(?P<f>\d{1,9}))?$")
    whole = pc.strptime(pc.struct_field(parts, [0]), format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.struct_field(parts, [1]), 0, 3), 3, "0")
    frac = pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, [1]), ""), "000", frac), pa.int64())
    dict_ms = pc.add(pc.cast(whole, pa.int64()), frac).fill_null(-1)
    return np.asarray(dict_ms.take(enc.indices).fill_null(-1), dtype=np.int64)


def _build_url(col: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
    """The logged URL (cs-uri), else one put together from scheme, host, port, path and query.

    A default port (80 for http, 443 for https) is left out; a CONNECT gives ``host:port``.
    """
    scheme = pc.utf8_lower(dash_to_null(col["scheme"]))
    host, port = dash_to_null(col["host"]), dash_to_null(col["port"])
    default = pc.or_(
        pc.and_(pc.equal(scheme, "http"), pc.equal(port, "80")),
        pc.and_(pc.equal(scheme, "https"), pc.equal(port, "443")),
    )
    port_part = pc.if_else(pc.fill_null(default, False), "", pc.fill_null(pc.binary_join_element_wise(":", port, ""), ""))
    path = pc.fill_null(dash_to_null(col["path"]), "")
    query = pc.utf8_ltrim(pc.fill_null(dash_to_null(col["query"]), ""), "?")
    query = pc.if_else(pc.equal(query, ""), "", pc.binary_join_element_wise("?", query, ""))
    prefix = pc.fill_null(pc.binary_join_element_wise(scheme, "://", ""), "")
    built = pc.binary_join_element_wise(prefix, host, port_part, path, query, "")
    method = pc.fill_null(col["method"], "")
    tunnel = pc.binary_join_element_wise(host, pc.fill_null(pc.binary_join_element_wise(":", port, ""), ""), "")
    built = pc.if_else(pc.equal(method, "CONNECT"), tunnel, built)
    return pc.coalesce(dash_to_null(col["url"]), built)


def _actions(verdict: pa.ChunkedArray, code: pa.ChunkedArray, block: pa.ChunkedArray, status: pa.Array) -> pa.Array:
    """Normalised action, decided once per distinct (verdict, code, block type, status)."""
    parts = [pc.fill_null(x, "") for x in (verdict, code, block, pc.cast(status, pa.string()))]
    key = pc.binary_join_element_wise(*parts, "\x1f")
    enc = pc.dictionary_encode(key)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    names = []
    for k in enc.dictionary.to_pylist():
        v, c, b, s = k.split("\x1f")
        names.append(w3c_action(v, c, b, int(s) if s else None))
    return pa.array(names, pa.string()).take(enc.indices)
