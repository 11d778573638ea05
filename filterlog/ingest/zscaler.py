"""Zscaler Internet Access (ZIA) NSS web logs: the JSON feed and the delimited feed.

NSS has no fixed line format: the admin types a feed template out of field
macros (research/formats.md §1e). Two shapes are common, and both are read by
field *name*, never by position:

- JSON, one object per line, usually wrapped as
  ``{"sourcetype":"zscalernss-web","event":{"time":...,"login":...}}`` (the
  Elastic / Splunk presets); a flat object with the same keys works too.
  Whole blocks go through ``pyarrow.json``; values may be strings or numbers.
- Delimited (tab or comma, fields optionally quoted) with a header line naming
  the fields. Without a header, lines are read in the field order of the
  Elastic preset (``_DEFAULT``), the only published order we have.

Field names differ between presets, so each canonical column has a list of
aliases (``login``/``user``, ``eurl``/``url``, ``urlcat``/``urlcategory``,
``cip``/``ClientIP`` ...). ``time`` (``Fri Dec 31 07:07:07 2021``) carries no
zone: NSS writes it in the zone set on the feed, which defaults to GMT, so it
is read as UTC. ``eurl`` is %-encoded and has no scheme: ``url`` keeps it as
logged, and the split adds the scheme from ``proto``. ``devicehostname`` is the
device; ``deviceowner`` is the person the device is enrolled to and is used as
the user only when ``login`` is missing. ``None`` (Zscaler's "no value") is null.
"""

from __future__ import annotations

import io
import re
import threading
from typing import ClassVar
from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson

from ..errors import FilterlogError
from ..schema import empty_events
from . import _rows, _url
from .base import Checks, Parsed, Reader, constant, share_matching, table, users

ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "datetime"),
    "login": ("login", "user", "elogin"),
    "owner": ("deviceowner",),
    "url": ("eurl", "url"),
    "action": ("action",),
    "category": ("urlcat", "urlcategory"),
    "method": ("reqmethod", "requestmethod"),
    "status": ("respcode", "status"),
    "bytes_out": ("reqsize", "requestsize"),
    "bytes_in": ("respsize", "responsesize"),
    "client_ip": ("cip", "ClientIP", "cintip"),
    "user_agent": ("ua", "useragent"),
    "referer": ("ereferer", "referer"),
    "device": ("devicehostname",),
    "proto": ("proto", "protocol"),
    "content_type": ("contenttype",),
}
_DEFAULT = (
    "time login proto eurl action appname appclass reqsize respsize stime ctime urlclass urlsupercat urlcat "
    "malwarecat threatname riskscore dlpeng dlpdict location dept cip sip reqmethod respcode ua ereferer "
    "ruletype rulelabel contenttype unscannabletype deviceowner devicehostname"
).split()
_NONE = ("None", "none", "NA")
_CTIME = rb"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
_JSON_SNIFF = re.compile(rb'^\s*\{.*"(?:sourcetype"\s*:\s*"zscalernss-web|eurl"|urlcat"|urlcategory")')
_CSV_DATA = re.compile(rb'^"?' + _CTIME + rb'"?[\t,].*[\t,]"?(?:Allowed|Blocked|Caution)"?(?:[\t,]|$)')
_KNOWN = {a.lower() for names in ALIASES.values() for a in names}


_ACTION_LINE = re.compile(rb"(?im)^[^\n]*\baction\b[^\n]*$")


def _header_names(line: bytes) -> list[str] | None:
    """Field names if ``line`` is a header naming at least a time, a URL and an action field."""
    delim = b"\t" if b"\t" in line else b","
    names = [x.strip().strip(b'"').decode("utf-8", "replace") for x in line.split(delim)]
    low = {n.lower() for n in names}
    if {"time", "datetime"} & low and {"eurl", "url"} & low and "action" in low and len(low) == len(names):
        return names
    return None


class ZscalerJson(Reader):
    """Zscaler NSS web feed in JSON, one object per line (wrapped in ``event`` or flat)."""

    name = "zscaler-json"
    description = 'Zscaler ZIA NSS web feed, JSON lines ({"sourcetype":"zscalernss-web","event":{...}} or flat)'

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines that are JSON objects with Zscaler web keys."""
        return share_matching(lines, _JSON_SNIFF, b" \t\r")

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines with Arrow's JSON reader; lines it cannot read are quarantined."""
        block, out, lines = _rows.begin(block, first_line)
        pieces = _rows.bisect(block, lines.numbers[~lines.blank], _read_json, out, "not a JSON object per line")
        t = _rows.concat([_flatten(p) for p in pieces])
        if t is not None:
            out.events = _events(t, out, self.name)
        return out


class ZscalerCsv(Reader):
    """Zscaler NSS web feed, tab- or comma-separated, with a header line (or the Elastic field order)."""

    name = "zscaler-csv"
    description = "Zscaler ZIA NSS web feed, delimited (tab or comma) with a header line naming the fields"
    _SNIFF: ClassVar[re.Pattern[bytes]] = _CSV_DATA

    def __init__(self, timezone: str = "UTC") -> None:
        super().__init__(timezone)
        self._primed: list[str] | None = None
        self._first: int | None = None
        """The first line to be parsed (``begin``): its block starts with the header ``prime`` saw.
        Without ``begin`` (a reader used by hand) the first block parsed is taken as the first."""
        self._after: dict[int, list[str] | None] = {}
        """First line of the next block → the field names in force there (None: no header yet)."""
        self._cond = threading.Condition()

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines that are a Zscaler header or a delimited row starting with an NSS time."""
        lines = [x.rstrip(b" \t\r") for x in lines if x.strip()]
        ok = sum(bool(cls._SNIFF.match(x)) or _header_names(x) is not None for x in lines)
        return ok / len(lines) if lines else 0.0

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; header lines set the field names for the lines after them.

        Blocks of one file are parsed on several threads, but the names in force
        at a block's start come from the blocks before it. So each block first
        finds its own header lines (cheap) and publishes the names in force at
        its end; a later block waits only for that, not for the parse before
        it. A resumed file's first block (its header read in an earlier run)
        reads with the header ``prime`` saw, or the default names.
        """
        block, out, lines = _rows.begin(block, first_line)
        text = lines.strings(~lines.blank)
        nums = lines.numbers[~lines.blank]
        head = np.asarray(
            pc.fill_null(pc.and_(_field_named(text, "time|datetime"), _field_named(text, "action")), False)
        )
        header_at = np.flatnonzero(head)
        names_here = [_header_names(text[int(i)].as_py().encode()) for i in header_at]
        start = self._start(first_line)
        end = next((n for n in reversed(names_here) if n is not None), start)
        with self._cond:
            self._after[first_line + len(lines.numbers)] = end
            self._cond.notify_all()
        out.skipped += sum(n is not None for n in names_here)
        bad_head = header_at[[n is None for n in names_here]] if len(header_at) else header_at
        if len(bad_head):
            out.reject(nums[bad_head], "header line without time, URL and action fields")
        # Split the block at header lines: each segment is read with the names in force.
        bounds = [*header_at.tolist(), len(nums)]
        current = start or _DEFAULT
        segments: list[tuple[np.ndarray, list[str]]] = [(np.arange(0, bounds[0]), current)]
        for k, h in enumerate(header_at):
            current = names_here[k] or current
            segments.append((np.arange(h + 1, bounds[k + 1]), current))
        pieces = []
        starts, ends = lines.starts[~lines.blank], lines.ends[~lines.blank]
        for idx, names in segments:
            if not len(idx):
                continue
            first, last = starts[idx[0]], ends[idx[-1]]
            data = bytes(block[first:last]) + b"\n"
            delim = _delimiter(data, starts[idx] - first)
            read = _csv_reader(names, delim)
            pieces += [_canonical(p) for p in _rows.bisect(data, nums[idx], read, out, "row does not fit the header")]
        t = _rows.concat(pieces)
        if t is not None:
            out.events = _events(t, out, self.name)
        return out

    def prime(self, before: bytes) -> None:
        """Remember the last header line of content read in an earlier run (a grown file)."""
        for found in reversed(_ACTION_LINE.findall(before)):  # a C-speed scan: data lines rarely say "action"
            names = _header_names(found.strip())
            if names is not None:
                self._primed = names
                return

    def begin(self, first_line: int) -> None:
        """A grown file is parsed from past line 1; its first block takes the header ``prime`` saw."""
        self._first = first_line

    def _start(self, first_line: int) -> list[str] | None:
        """The header names in force where this block starts (waits for the block before it)."""
        with self._cond:
            if self._first is None:
                self._first = first_line
            if first_line <= self._first:
                return self._primed
            if not self._cond.wait_for(lambda: first_line in self._after, timeout=60):
                raise FilterlogError(f"internal error: the block before line {first_line} was never parsed")
            return self._after[first_line]


def _field_named(text: pa.Array, names: str) -> pa.Array:
    """Rows with a whole field (tab or comma separated, maybe quoted) spelling one of ``names``."""
    return pc.match_substring_regex(text, rf'(?i)(?:^|[\t,])"?(?:{names})"?(?:[\t,]|$)')


def _delimiter(data: bytes, line_starts: np.ndarray) -> str:
    """Tab if most rows hold a tab, else comma: one damaged row (or one full of tabs) must not decide."""
    tabs = np.flatnonzero(np.frombuffer(data, np.uint8) == 9)
    rows_with_tab = len(np.unique(np.searchsorted(line_starts, tabs, side="right")))
    return "\t" if 2 * rows_with_tab >= len(line_starts) else ","  # a tie (two rows, one damaged): tab


def _csv_reader(names: list[str], delim: str):  # noqa: ANN202 - a closure for _rows.bisect
    def read(data: bytes) -> pa.Table:
        return pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(delimiter=delim, quote_char='"', escape_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=[n for n in names if n.lower() in _KNOWN],
                strings_can_be_null=False,
                check_utf8=False,
            ),
        )

    return read


_BARE = re.compile(rb'("\s*:\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)(\s*[,}])')


def _read_json(data: bytes) -> pa.Table:
    """One row per JSON line, every value as text.

    Feeds differ in quoting numbers (``"reqsize":"600"`` or ``600``), and Arrow's
    JSON reader wants one type per key. So a block that does not read as text
    is retried with bare numbers and booleans quoted (one C-speed substitution
    over the block); failing that (a ``": 5,"`` inside a string), with inferred
    types, which works for any block whose keys keep one type each.
    """
    fields = [pa.field(a, pa.string()) for names in ALIASES.values() for a in names]
    schema = pa.schema([*fields, pa.field("event", pa.struct(fields))])
    opts = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        return pjson.read_json(io.BytesIO(data), parse_options=opts)
    except pa.ArrowInvalid:
        pass
    try:
        return pjson.read_json(io.BytesIO(_BARE.sub(rb'\1"\2"\3', data)), parse_options=opts)
    except pa.ArrowInvalid:
        pass
    t = pjson.read_json(io.BytesIO(data), parse_options=pjson.ParseOptions(unexpected_field_behavior="ignore"))
    return _as_text(t)


def _as_text(t: pa.Table) -> pa.Table:
    """Keep alias fields (flat or under ``event``) and make them strings; nested values are dropped."""
    cols = {}
    wanted = {a for names in ALIASES.values() for a in names}
    for name in t.column_names:
        col = t.column(name)
        if name == "event" and pa.types.is_struct(col.type):
            for i, f in enumerate(col.type):
                if f.name in wanted and not pa.types.is_nested(f.type):
                    cols[f"event.{f.name}"] = pc.cast(pc.struct_field(col, [i]), pa.string())
        elif name in wanted and not pa.types.is_nested(col.type):
            cols[name] = pc.cast(col, pa.string())
    return pa.table(cols) if cols else pa.table({"_": pa.nulls(t.num_rows, pa.string())})


def _flatten(t: pa.Table) -> pa.Table:
    """Merge ``event.x`` and top-level ``x`` into one column per alias (the event wins)."""
    if "event" in t.column_names and pa.types.is_struct(t.column("event").type):
        ev = t.column("event")
        t = t.drop_columns(["event"])
        for i, f in enumerate(ev.type):
            t = t.append_column(f"event.{f.name}", pc.struct_field(ev, [i]))
    out = {}
    for name in sorted({c.removeprefix("event.") for c in t.column_names if c != "source_line"}):
        parts = [t.column(c) for c in (f"event.{name}", name) if c in t.column_names]
        out[name] = pc.coalesce(*parts) if len(parts) > 1 else parts[0]
    out["source_line"] = t.column("source_line")
    return _canonical(pa.table(out))


def _canonical(t: pa.Table) -> pa.Table:
    """One column per canonical name: the first alias present with a value (case-insensitive names)."""
    cols = {}
    for key, names in ALIASES.items():
        wanted = [a.lower() for a in names]
        hits = sorted((wanted.index(c.lower()), c) for c in t.column_names if c.lower() in wanted)
        found = [_rows.blank_to_null(t.column(c), *_NONE) for _, c in hits]
        cols[key] = pc.coalesce(*found) if len(found) > 1 else found[0] if found else pa.nulls(t.num_rows, pa.string())
    cols["source_line"] = t.column("source_line")
    return pa.table(cols)


def _decoded(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """%-decode a low-cardinality column (NSS may encode spaces as %20), per distinct value."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    values = [None if v is None else unquote(v) if "%" in v else v for v in enc.dictionary.to_pylist()]
    return pa.array(values, pa.string()).take(enc.indices)


def _events(t: pa.Table, out: Parsed, fmt: str) -> pa.Table:
    lines = np.asarray(t.column("source_line"))
    checks = Checks(t.num_rows)
    text = pc.replace_substring(pc.fill_null(t.column("time"), ""), "  ", " 0")  # a space-padded day
    time = pc.strptime(text, format="%a %b %d %H:%M:%S %Y", unit="ms", error_is_null=True)
    checks.require(np.asarray(pc.is_valid(time)), "bad or missing time (not 'Fri Dec 31 07:07:07 2021')")
    checks.require(np.asarray(pc.is_valid(t.column("url"))), "no URL field (eurl/url)")
    checks.require(np.asarray(pc.is_valid(t.column("client_ip"))), "no client IP field (cip/ClientIP)")
    if checks.failed:
        keep = checks.reject(out, lines)
        t, time, lines = t.filter(keep), time.filter(keep), lines[checks.good]
    n = t.num_rows
    if n == 0:
        return empty_events()
    method = pc.utf8_upper(pc.fill_null(t.column("method"), "-"))
    connect = np.asarray(pc.equal(method, "CONNECT").fill_null(False))
    url = t.column("url")
    has_scheme = pc.match_substring_regex(url, r"^[A-Za-z][A-Za-z0-9+.-]*://")  # not a URL in the query
    secure = pc.fill_null(pc.match_substring_regex(pc.fill_null(t.column("proto"), ""), "(?i)https|ssl"), False)
    prefix = pc.if_else(secure, "https://", "http://")
    full = pc.if_else(pc.or_(has_scheme, pa.array(connect)), url, pc.binary_join_element_wise(prefix, url, ""))
    login = pc.coalesce(t.column("login"), t.column("owner"))
    user, user_raw = users(login)
    vendor = t.column("action")
    blocked = pc.fill_null(pc.match_substring(pc.utf8_lower(vendor), "block"), False)
    cols = {
        "time": time,
        "client_ip": t.column("client_ip"),
        "user": user,
        "user_raw": user_raw,
        "device": t.column("device"),
        "method": method,
        "url": url,
        **_url.split(full, connect),
        "status": _rows.integers(pc.fill_null(t.column("status"), ""), pa.int16()),
        "action": pc.if_else(blocked, "blocked", "allowed"),
        "vendor_action": vendor,
        "bytes_in": _rows.integers(pc.fill_null(t.column("bytes_in"), "")),
        "bytes_out": _rows.integers(pc.fill_null(t.column("bytes_out"), "")),
        "content_type": t.column("content_type"),
        "vendor_category": _decoded(t.column("category")),
        "user_agent": t.column("user_agent"),
        "referer": t.column("referer"),
        "source_format": constant(fmt, n),
    }
    return table(cols, lines)
