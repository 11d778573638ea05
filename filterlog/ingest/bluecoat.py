"""Blue Coat ProxySG "squid-compatible" access log, with the category and user agent Blue Coat appends.

    1038956401.460 182 10.0.203.16 TCP_NC_MISS/200 50537 GET http://www.fnac.com:80/ CN=Agent Smith,OU=fr,O=company
        DIRECT/www.fnac.com text/html Online_Sales Mozilla/4.76 [en] (X11; U; Linux 2.4.2-22mdk i686)

(one line, folded here).
It looks like Squid native, but two things break Squid's positional split: the
user is often an LDAP DN with spaces (``CN=Agent Smith,OU=fr,O=company``), and the
user agent is appended unquoted, spaces and all. The hierarchy token
(``DIRECT/host``, ``NONE/-``) is the anchor: fields before the URL are positional,
the user is what lies between the URL and that token, then come the MIME type, the
category, and the rest of the line is the user agent. Each line is matched by one
RE2 expression over the whole column (Arrow compute), not by a Python loop.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _rows, _spans, _url
from ._w3c_values import w3c_action
from .base import EARLIEST_MS, LATEST_MS, Parsed, Reader, constant, dash_to_null, share_matching, table, users

_PREFIX = (
    r"^(?P<time>\d{1,11}(?:\.\d{1,6})?) +(?P<elapsed>\d{1,18}) +(?P<client>\S+) "
    r"(?P<code>[A-Z][A-Z0-9_]*)/(?P<status>\d{3}) (?P<bytes>\d{1,18}) (?P<method>\S+) "
    r"(?P<mid>\S.*?) (?P<hier>[A-Z][A-Z0-9_]*/\S*) (?P<mime>\S+) "
)
LINE = _PREFIX + r"(?P<category>\S+)(?: (?P<ua>.*))?$"
_SNIFF = re.compile((_PREFIX + r'[^"\[\s]\S*(?: .*)?$').encode())
"""A category token that does not start with a quote or bracket: Squid's own trailing fields do."""
_HIER = r" [A-Z][A-Z0-9_]*/\S* \S+ \S+(?: |$)"
_DN_AT = r" (?i:cn|uid)="
_CODE = r"^[A-Z][A-Z0-9_]*/\d{3}$"
_USER_DN = r"^(?P<url>.*?) (?P<user>(?i:cn|uid)=.*)$"
_USER_ONE = r"^(?P<url>.*) (?P<user>\S+)$"


class BlueCoatSquid(Reader):
    """Blue Coat squid-compatible lines: Squid native + category + unquoted user agent; DN user names."""

    name = "bluecoat-squid"
    specificity = 1
    description = "Blue Coat ProxySG squid-compatible access log with category and user agent (LDAP DN users)"

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines with the Squid prefix, a hierarchy token, MIME type and an unquoted category."""
        return share_matching(lines, _SNIFF)

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; a line that does not fit the layout is quarantined with a reason."""
        block, out, text = _rows.begin(block, first_line)
        buf, starts, ends, blank = text.buf, text.starts, text.ends, text.blank
        keep = np.flatnonzero(~blank)
        lines = keep + first_line
        if not len(keep):
            return out
        fast, got = _fast(buf, starts[keep], ends[keep]) if self._fast_path else (np.zeros(len(keep), bool), {})
        pieces = [self._events(got, lines[fast])] if fast.any() else []
        slow = np.flatnonzero(~fast)
        if len(slow):
            got, good = self._regex(_spans.strings(buf, starts[keep][slow], ends[keep][slow]), lines[slow], out)
            if good.any():
                pieces.append(self._events(got, lines[slow][good]))
        t = _rows.concat(pieces)
        if t is not None:
            out.events = t
        return out

    _fast_path = True

    def _regex(self, text: pa.Array, lines: np.ndarray, out: Parsed) -> tuple[dict[str, pa.Array], np.ndarray]:
        """Lines the fast path left: one RE2 match each (slower: it captures around a lazy group)."""
        m = pc.extract_regex(text, LINE)
        ok = np.asarray(pc.is_valid(m))
        mid = pc.struct_field(m, "mid")
        split = pc.extract_regex(mid, _USER_DN)
        split = pc.if_else(pc.is_valid(split), split, pc.extract_regex(mid, _USER_ONE))
        has_user = np.asarray(pc.fill_null(pc.is_valid(split), False))
        ms = _ms(pc.fill_null(pc.struct_field(m, "time"), "0"))
        in_range = (ms >= EARLIEST_MS) & (ms < LATEST_MS)
        reasons = {}
        for i in np.flatnonzero(~ok):
            reasons[int(i)] = "not a Blue Coat squid-compatible line: no CODE/status ... HIERARCHY/peer mime category"
        for i in np.flatnonzero(ok & ~has_user):
            reasons[int(i)] = "no user field between the URL and the hierarchy field"
        for i in np.flatnonzero(ok & has_user & ~in_range):
            reasons[int(i)] = "time outside 1990-2099"
        good = ok & has_user & in_range
        if reasons:
            bad = sorted(reasons)
            out.reject(lines[bad], [reasons[i] for i in bad])
        sel = pa.array(good)
        got = {k: pc.struct_field(m, k).filter(sel) for k in ("elapsed", "client", "code", "status", "bytes", "method")}
        got |= {k: pc.struct_field(m, k).filter(sel) for k in ("mime", "category", "ua")}
        got |= {k: pc.struct_field(split, k).filter(sel) for k in ("url", "user")}
        got["ms"] = ms[good]
        return got, good

    def _events(self, got: dict[str, pa.Array], lines: np.ndarray) -> pa.Table:
        url, method = got["url"], got["method"]
        connect = np.asarray(pc.fill_null(pc.equal(method, "CONNECT"), False))
        status = pc.cast(got["status"], pa.int16())
        status = pc.if_else(pc.equal(status, 0), pa.scalar(None, pa.int16()), status)  # 000: no status
        user, user_raw = users(got["user"])
        parts = _url.split(url, connect)
        parts["host"] = pc.utf8_trim_whitespace(parts["host"])  # "http:// host/" is logged as such
        n = len(lines)
        cols = {
            "time": pa.array(got["ms"].astype(np.int64), pa.timestamp("ms", tz="UTC")),
            "duration_ms": pc.cast(got["elapsed"], pa.int64()),
            "client_ip": got["client"],
            "user": user,
            "user_raw": user_raw,
            "method": method,
            "url": url,
            **parts,
            "status": status,
            "action": _actions(got["code"], status),
            "vendor_action": got["code"],
            "bytes_in": pc.cast(got["bytes"], pa.int64()),
            "content_type": dash_to_null(got["mime"]),
            "vendor_category": dash_to_null(got["category"]),
            "user_agent": dash_to_null(pc.if_else(pc.equal(got["ua"], ""), "-", got["ua"])),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


def _regex_only(block: bytes, first_line: int) -> Parsed:
    """Parse with the capturing regex alone (tests check the fast path against it)."""
    reader = BlueCoatSquid()
    reader._fast_path = False
    return reader.parse(block, first_line)


def _ms(col: pa.Array) -> np.ndarray:
    return np.round(np.asarray(pc.cast(col, pa.float64())) * 1000.0)


def _fast(buf: np.ndarray, s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """The usual line, cut by byte offsets instead of a capturing regex (five times faster).

    Six single-space fields, then URL and user up to the first hierarchy token (found
    by an RE2 search without captures), MIME type, category and the user agent.
    Returns which lines it read (the others go to ``_regex``) and their fields.
    """
    sp = np.flatnonzero(buf == 32)
    first = np.searchsorted(sp, s)
    at = sp[np.minimum(first[:, None] + np.arange(6), len(sp) - 1)] if len(sp) else np.zeros((len(s), 6), np.int64)
    ok = (first + 5 < len(sp)) & (at[:, 5] < e) & (np.diff(at, axis=1) > 1).all(axis=1) & (at[:, 0] > s)
    rest_s = at[:, 5] + 1
    rest = _spans.strings(buf, rest_s, e, ok)
    hier = np.asarray(pc.fill_null(pc.find_substring_regex(rest, _HIER), -1))
    ok &= (hier > 0) & (buf[np.minimum(rest_s, len(buf) - 1)] != 32)
    h = rest_s + hier + 1  # first byte of the hierarchy token
    j = np.searchsorted(sp, h)
    k = j[:, None] + np.arange(3)
    tok = np.where(k < len(sp), sp[np.minimum(k, len(sp) - 1)] if len(sp) else 0, len(buf))  # past the last space
    cat_e = np.where(tok[:, 2] < e, tok[:, 2], e)
    mid = _spans.strings(buf, rest_s, h - 1, ok)
    dn = np.asarray(pc.fill_null(pc.find_substring_regex(mid, _DN_AT), -1))
    last = _spans.last_before(sp, rest_s, h - 1)
    user_s = np.where(dn >= 0, rest_s + dn + 1, last + 1)
    ok &= (last > rest_s) & (user_s > rest_s + 1)
    fields = {
        "time": (s, at[:, 0]),
        "elapsed": (at[:, 0] + 1, at[:, 1]),
        "client": (at[:, 1] + 1, at[:, 2]),
        "code_status": (at[:, 2] + 1, at[:, 3]),
        "bytes": (at[:, 3] + 1, at[:, 4]),
        "method": (at[:, 4] + 1, at[:, 5]),
        "url": (rest_s, user_s - 1),
        "user": (user_s, h - 1),
        "mime": (tok[:, 0] + 1, tok[:, 1]),
        "category": (tok[:, 1] + 1, cat_e),
        "ua": (np.minimum(cat_e + 1, e), e),
    }
    got = {k: _spans.strings(buf, a, b, ok) for k, (a, b) in fields.items()}
    good = pc.and_(pc.match_substring_regex(got["time"], r"^\d{1,11}(\.\d{1,6})?$"), pc.utf8_is_digit(got["elapsed"]))
    good = pc.and_(good, pc.and_(pc.utf8_is_digit(got["bytes"]), pc.match_substring_regex(got["code_status"], _CODE)))
    ok &= np.asarray(pc.fill_null(good, False))
    ok &= (np.asarray(pc.fill_null(pc.utf8_length(got["elapsed"]), 99)) <= 18) & ((at[:, 4] - at[:, 3]) <= 19)
    got["ms"] = _ms(pc.if_else(pa.array(ok), got["time"], "0"))
    ok &= (got["ms"] >= EARLIEST_MS) & (got["ms"] < LATEST_MS)
    sel = pa.array(ok)
    got = {k: v.filter(sel) if isinstance(v, pa.Array) else v[ok] for k, v in got.items()}
    code = pc.split_pattern(got.pop("code_status"), "/", max_splits=1)
    got["code"], got["status"] = pc.list_element(code, 0), pc.list_element(code, 1)
    return ok, got


def _actions(code: pa.Array, status: pa.Array) -> pa.Array:
    """Normalised action per distinct (result code, status): TCP_DENIED/407 is a challenge, TCP_ERR_* an error."""
    key = pc.binary_join_element_wise(code, pc.fill_null(pc.cast(status, pa.string()), ""), "/")
    enc = pc.dictionary_encode(key)
    names = []
    for k in enc.dictionary.to_pylist():
        c, _, s = k.rpartition("/")
        names.append(w3c_action("", c, "", int(s) if s else None))
    return pa.array(names, pa.string()).take(enc.indices)
