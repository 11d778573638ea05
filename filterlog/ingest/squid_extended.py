"""A Squid custom ``logformat`` seen in the wild: native prefix plus ports, sizes, version and quoted headers.

    1773416922.391    104 10.105.21.199 58938 TCP_MISS/200 904 123 364 123 528 GET http://example.com/ 1.1 badeyek
        HIER_DIRECT/203.0.113.10 80 text/html - - "-" "curl/8.14.1" "example.com" "-" 53 -

(one line, folded here). The exact ``logformat`` line was never published; the
order below was inferred from real lines (research/formats.md §1a, "Variant with
extra fields"): ``%ts.%03tu %6tr %>a %>p %Ss/%03>Hs %<st %>st %<sh %>sh <body|->
%rm %ru %rv %un %Sh/%<a %<p %mt - - "Referer" "User-Agent" "Host" "X-Forwarded-For"
["one more"] <ms|-> -``. Some lines carry one extra quoted field, so the quoted
tail is matched as "four, then any number more". One RE2 expression over the whole
column (Arrow compute) does the split.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _rows, _spans, _url
from .base import Parsed, Reader, constant, dash_to_null, share_matching, table, users
from .squid import squid_action

LINE = (
    r"^(?P<time>\d{9,11}\.\d{3}) +(?P<elapsed>\d{1,18}) (?P<client>\S+) (?P<cport>\S+) "
    r"(?P<code>[A-Z][A-Z0-9_]*)/(?P<status>\d{3}) (?P<bytes_in>\d{1,18}) (?P<bytes_out>\d{1,18}) \S+ \S+ \S+ "
    r"(?P<method>\S+) (?P<url>\S+) (?P<version>\S+) (?P<user>\S+) (?P<hier>[A-Z][A-Z0-9_]*/\S*) \S+ "
    r'(?P<mime>\S+) \S+ \S+ "(?P<referer>[^"]*)" "(?P<ua>[^"]*)" "(?P<host>[^"]*)" "(?P<xff>[^"]*)"'
    r'(?: "[^"]*")* \S+ \S+$'
)
_SNIFF = re.compile(LINE.encode())


class SquidExtended(Reader):
    """Squid custom logformat with client port, request/reply sizes, HTTP version and quoted headers."""

    name = "squid-extended"
    description = (
        "Squid custom logformat: native prefix + client port, reply/request sizes, HTTP version, "
        'user, HIER/server ip + port, mime, "referer" "user-agent" "host" "x-forwarded-for"'
    )

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines in this layout."""
        return share_matching(lines, _SNIFF)

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; a line that does not fit is quarantined with a reason."""
        block, out, text = _rows.begin(block, first_line)
        raw, starts, ends, blank = text.buf, text.starts, text.ends, text.blank
        keep = np.flatnonzero(~blank)
        if not len(keep):
            return out
        lines = keep + first_line
        m = pc.extract_regex(_spans.strings(raw, starts[keep], ends[keep]), LINE)
        ok = np.asarray(pc.is_valid(m))
        if not ok.all():
            out.reject(lines[~ok], "not a squid-extended line: fields out of place or missing")
            m, lines = m.filter(pa.array(ok)), lines[ok]
        if not len(lines):
            return out
        field = {name: pc.struct_field(m, name) for name in ("client", "code", "method", "url", "mime", "ua")}
        method = field["method"]
        connect = np.asarray(pc.fill_null(pc.equal(method, "CONNECT"), False))
        status = pc.cast(pc.struct_field(m, "status"), pa.int16())
        status = pc.if_else(pc.equal(status, 0), pa.scalar(None, pa.int16()), status)  # 000: no status
        user, user_raw = users(pc.struct_field(m, "user"), squid_escaped=True)
        ms = np.round(np.asarray(pc.cast(pc.struct_field(m, "time"), pa.float64())) * 1000.0).astype(np.int64)
        cols = {
            "time": pa.array(ms, pa.timestamp("ms", tz="UTC")),
            "duration_ms": pc.cast(pc.struct_field(m, "elapsed"), pa.int64()),
            "client_ip": field["client"],
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": field["url"],
            **_url.split(field["url"], connect),
            "status": status,
            "action": _actions(field["code"], status),
            "vendor_action": field["code"],
            "bytes_in": pc.cast(pc.struct_field(m, "bytes_in"), pa.int64()),
            "bytes_out": pc.cast(pc.struct_field(m, "bytes_out"), pa.int64()),
            "content_type": dash_to_null(field["mime"]),
            "user_agent": dash_to_null(field["ua"]),
            "referer": dash_to_null(pc.struct_field(m, "referer")),
            "source_format": constant(self.name, len(lines)),
        }
        out.events = table(cols, lines)
        return out


def _actions(code: pa.Array, status: pa.Array) -> pa.Array:
    """Normalised action per distinct (result code, status), with Squid's rules."""
    key = pc.binary_join_element_wise(code, pc.fill_null(pc.cast(status, pa.string()), "0"), "/")
    enc = pc.dictionary_encode(key)
    names = [squid_action(c, int(s)) for c, _, s in (k.rpartition("/") for k in enc.dictionary.to_pylist())]
    return pa.array(names, pa.string()).take(enc.indices)
