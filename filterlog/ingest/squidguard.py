"""squidGuard's request log (the file a ``log`` directive in squidGuard.conf names).

    2026-11-18 09:15:02 [23411] Request(students/gambling/-) http://www.bet365.com/ 10.20.1.15/- jsmith GET REDIRECT

Layout from ``sgRequestLog.c`` (research/formats.md §1e): date, time, [pid],
``Request(source/destination/rewrite)``, URL, ``client-ip/fqdn``, ident, method,
and the decision. squidGuard logs a request only where the configuration asks
(normally for blocked ones), so this file is a record of blocks, not of all
traffic. Decisions: ``REDIRECT``, ``DENY`` and ``BLOCK`` are blocks; ``PASS`` and
``REWRITE`` (the URL was rewritten, e.g. to force SafeSearch) were let through.
squidGuard 1.2 wrote no decision: it logged only redirects, so a line without
one is a block (``vendor_action`` null). The destination class is the category.

The same file also holds squidGuard's own messages (``squidGuard 1.4 started``,
``New setting: ...``); they are counted as header/comment lines, not quarantined.
Times are the server's local time without a zone, read in the site's time zone
([site] timezone). Only the request line's fields are known, so there
is no status, size or user agent.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import empty_events
from . import _rows, _url
from .base import Parsed, Reader, constant, local_to_utc, table, users

_PREFIX = r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \[(?P<pid>\d+)\] "
_REQUEST = (
    _PREFIX + r"Request\((?P<src>[^/)]*)/(?P<dst>[^/)]*)/(?P<rewrite>[^)]*)\) (?P<url>\S+) "
    r"(?P<client>[^/\s]+)/(?P<fqdn>\S*) (?P<ident>\S+) (?P<method>\S+)(?: (?P<decision>[A-Z]+))?$"
)
_SNIFF = re.compile(_REQUEST.encode())
_MESSAGE = re.compile(_PREFIX.encode() + rb"(?!Request\()")
_BLOCKED = ("REDIRECT", "DENY", "BLOCK", "BLOCKED")


class SquidGuard(Reader):
    """squidGuard request log: ``Request(src/dst/rewrite) url ip/fqdn ident method [decision]`` lines."""

    name = "squidguard"
    description = "squidGuard request log (Request(source/destination/rewrite) url client/fqdn ident method decision)"

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of request lines; squidGuard's own messages count for it when request lines are present."""
        lines = [x.rstrip(b" \t\r") for x in lines if x.strip()]
        requests = sum(bool(_SNIFF.match(x)) for x in lines)
        messages = sum(bool(_MESSAGE.match(x)) for x in lines)
        return (requests + messages) / len(lines) if lines and requests else 0.0

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; squidGuard messages are skipped, other lines quarantined."""
        block, out, lines = _rows.begin(block, first_line)
        text = lines.strings(~lines.blank)
        nums = lines.numbers[~lines.blank]
        found = pc.extract_regex(text, _REQUEST)
        ok = np.asarray(pc.is_valid(found))
        stamped = np.asarray(pc.fill_null(pc.match_substring_regex(text, _PREFIX), False))
        request = np.asarray(pc.fill_null(pc.match_substring_regex(text, _PREFIX + r"Request\("), False))
        message = stamped & ~request
        out.skipped += int(message.sum())
        bad = ~ok & ~message
        if bad.any():
            out.reject(nums[bad], "not a squidGuard request line")
        if ok.any():
            t = found.filter(pa.array(ok))
            out.events = self._events(t, nums[ok], out)
        return out

    def _events(self, found: pa.Array, lines: np.ndarray, out: Parsed) -> pa.Table:
        def field(name: str) -> pa.Array:
            return pc.struct_field(found, name)

        time = pc.strptime(field("time"), format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
        good = np.asarray(pc.is_valid(time))
        if not good.all():
            out.reject(lines[~good], "bad date or time")
            keep = pa.array(good)
            found, time, lines = found.filter(keep), time.filter(keep), lines[good]
        n = len(lines)
        if n == 0:
            return empty_events()
        method = field("method")
        connect = np.asarray(pc.equal(method, "CONNECT").fill_null(False))
        decision = _rows.blank_to_null(field("decision"))
        blocked = pc.or_(pc.is_in(decision, pa.array(_BLOCKED)), pc.is_null(decision))  # 1.2: none = redirected
        user, user_raw = users(field("ident"))
        url = field("url")
        cols = {
            "time": local_to_utc(time, self.timezone),
            "client_ip": field("client"),
            "user": user,
            "user_raw": user_raw,
            "device": _rows.blank_to_null(field("fqdn"), "-"),
            "method": method,
            "url": url,
            **_url.split(url, connect),
            "action": pc.if_else(blocked, "blocked", "allowed"),
            "vendor_action": decision,
            "vendor_category": _rows.blank_to_null(field("dst"), "-", "none"),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)
