"""E2Guardian and DansGuardian ``access.log``, in the layouts their ``logfileformat`` option selects.

research/formats.md §1e has the field lists (read in e2guardian's source):

- 7/8 (E2Guardian 5 default) and 5/6, tab-separated, epoch time first:
  ``utime server who client url method code size mimetype useragent - duration -
  message_no what weight category groupname group_no [searchterms flags]``
  (19 or 21 fields). Later releases (``AccessLogger.cpp``) log the client as
  two fields, ``from clienthost`` (20 or 22 fields); the field count tells them apart.
- 4: the DansGuardian fields, tab-separated: ``when who from where what how
  size weight category filtergroup code mimetype clienthost groupname useragent ...``
  with ``when`` = ``2024.03.27 09:15:02``.
- 2: the same fields, each in double quotes, comma-separated.
- 1 (DansGuardian's default): the same fields separated by single spaces. ``what``
  and ``category`` may hold spaces, so the line is read with one anchored
  regex that relies on the numeric fields around them; fields after the mime
  type (client host, group, user agent) are ambiguous and are not mapped.

Not read: format 3 (Squid-like; recent releases join it with commas) and the
unquoted comma form recent releases write for format 2 (a URL may hold commas,
so the fields cannot be told apart); such lines are quarantined, not guessed.

``what`` starts with markers: ``*DENIED*`` (also ``*DENIED-POST*`` ...) and
``*INFECTED*`` are blocks, ``*NETERROR*`` an error, ``*TRUSTED*``/``*EXCEPTION*``,
``*SCANNED*`` and the ``*...MOD*`` ones were let through. The markers are kept as
``vendor_action``; the reason after them (``Banned site: x``) is not a column.
The epoch of 5-8 is UTC. The ``when`` of 1, 2 and 4 is the server's local time
with no zone: it is read in the site's time zone ([site] timezone).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import empty_events
from . import _rows, _url
from .base import Checks, Parsed, Reader, constant, local_to_utc, share_matching, table, users

_WHEN = r"\d{4}\.\d{1,2}\.\d{1,2} \d{1,2}:\d{2}:\d{2}"
_EPOCH = r"\d{9,11}(?:\.\d{1,6})?"
_SPACE = (
    rf"^(?P<when>{_WHEN}) (?P<who>\S*) (?P<client>\S+) (?P<url>\S+) (?P<what>.*?) ?(?P<method>[A-Z][A-Z_-]*) "
    r"(?P<size>-?\d+) (?P<weight>-?\d+) (?P<category>.*?) ?(?P<group>\d+) (?P<code>\d{3})(?: (?P<mime>\S*))?(?: .*)?$"
)
_SNIFF = re.compile(
    rf"^(?:{_EPOCH}(?:\t[^\t]*){{11,21}}|{_WHEN}(?:\t[^\t]*){{10,18}}|\"{_WHEN}\"(?:,\"[^\"]*\"){{10,18}}|{_SPACE[1:]})$".encode()
)
# Field positions per layout (canonical name → index in the split line).
_DG = {"when": 0, "who": 1, "client": 2, "url": 3, "what": 4, "method": 5, "size": 6, "category": 8, "code": 10,
       "mime": 11, "host": 12, "ua": 14}  # fmt: skip
_PROTEX_OLD = {"epoch": 0, "who": 2, "client": 3, "url": 4, "method": 5, "code": 6, "size": 7, "mime": 8, "ua": 9,
               "duration": 11, "what": 14, "category": 16}  # fmt: skip
_PROTEX_NEW = {"epoch": 0, "who": 2, "client": 3, "host": 4, "url": 5, "method": 6, "code": 7, "size": 8, "mime": 9,
               "ua": 10, "duration": 12, "what": 15, "category": 17}  # fmt: skip
_SPACE_FIELDS = ("when", "who", "client", "url", "what", "method", "size", "category", "code", "mime")
_NAMES = ("when", "epoch", "who", "client", "host", "url", "what", "method", "size", "category", "code", "mime", "ua",
          "duration")  # fmt: skip


class E2Guardian(Reader):
    """E2Guardian / DansGuardian access.log: tab (formats 4-8), quoted CSV (2) or space (1) layouts."""

    name = "e2guardian"
    description = "E2Guardian / DansGuardian access.log (logfileformat 1, 2, 4, 5-8: space, CSV or tab layouts)"

    @classmethod
    def sniff(cls, lines: list[bytes]) -> float:
        """Share of lines in one of the layouts."""
        return share_matching(lines, _SNIFF, b" \t\r")

    def parse(self, block: bytes, first_line: int) -> Parsed:
        """Parse whole lines; a line in none of the layouts is quarantined."""
        block, out, lines = _rows.begin(block, first_line)
        text = lines.strings(~lines.blank)
        nums = lines.numbers[~lines.blank]
        if not len(nums):
            return out
        done = np.zeros(len(nums), dtype=bool)
        pieces = []
        tabs = pc.split_pattern(text, "\t")
        count = np.asarray(pc.list_value_length(tabs))
        first = pc.list_element(tabs, 0)
        epoch = np.asarray(pc.fill_null(pc.match_substring_regex(first, f"^{_EPOCH}$"), False))
        when = np.asarray(pc.fill_null(pc.match_substring_regex(first, f"^{_WHEN}$"), False))
        # Empty trailing fields are gone (clean() drops blanks at line ends), so the field
        # count cannot tell the two Protex variants apart; where the method sits does.
        method_at = [_is_method(_element(tabs, i)) for i in (5, 6)]
        for mask, layout in (
            (epoch & (count >= 12) & method_at[0], _PROTEX_OLD),
            (epoch & (count >= 12) & ~method_at[0] & method_at[1], _PROTEX_NEW),
            (when & (count >= 11), _DG),
        ):
            if mask.any():
                pieces.append(_pick(tabs.filter(pa.array(mask)), layout, nums[mask]))
                done |= mask
        rest = ~done & np.asarray(pc.starts_with(text, '"'))
        if rest.any():
            quoted = pc.split_pattern(pc.utf8_slice_codeunits(text.filter(pa.array(rest)), 1, -1), '","')
            n = np.asarray(pc.list_value_length(quoted))
            ok = (n >= 11) & (n <= 19)
            framed = pc.match_substring_regex(text.filter(pa.array(rest)), f'^"{_WHEN}".*"$')
            ok &= np.asarray(pc.fill_null(framed, False))
            if ok.any():
                pieces.append(_pick(quoted.filter(pa.array(ok)), _DG, nums[rest][ok]))
                done[np.flatnonzero(rest)[ok]] = True
        rest = ~done
        if rest.any():
            found = pc.extract_regex(text.filter(pa.array(rest)), _SPACE)
            ok = np.asarray(pc.is_valid(found))
            if ok.any():
                f = found.filter(pa.array(ok))
                cols = {k: pc.struct_field(f, k) for k in _SPACE_FIELDS}
                pieces.append(_canonical(cols, nums[rest][ok]))
                done[np.flatnonzero(rest)[ok]] = True
        if not done.all():
            out.reject(nums[~done], "not an E2Guardian/DansGuardian access.log line in a known layout")
        t = _rows.concat(pieces)
        if t is not None:
            out.events = self._events(t, out)
        return out

    def _events(self, t: pa.Table, out: Parsed) -> pa.Table:
        lines = np.asarray(t.column("source_line"))
        checks = Checks(t.num_rows)
        when = pc.fill_null(t.column("when"), "")
        local = pc.strptime(when, format="%Y.%m.%d %H:%M:%S", unit="ms", error_is_null=True)
        epoch = t.column("epoch")
        numeric = pc.match_substring_regex(epoch, f"^{_EPOCH}$")
        secs = pc.cast(pc.if_else(numeric, epoch, pa.scalar(None, pa.string())), pa.float64())
        ms = pc.cast(pc.round(pc.multiply(secs, 1000.0)), pa.int64())
        local = local_to_utc(local, self.timezone)
        time = pc.coalesce(local, pc.cast(ms, pa.timestamp("ms", tz="UTC")))
        checks.require(np.asarray(pc.is_valid(time)), "bad time field")
        status = _rows.integers(t.column("code"), pa.int16())
        checks.require(np.asarray(pc.is_valid(status)), "HTTP status is not a number")
        checks.require(np.asarray(pc.not_equal(t.column("url"), "")), "empty URL")
        if checks.failed:
            keep = checks.reject(out, lines)
            t, time, status, lines = t.filter(keep), time.filter(keep), status.filter(keep), lines[checks.good]
        n = t.num_rows
        if n == 0:
            return empty_events()
        method = t.column("method")
        connect = np.asarray(pc.equal(method, "CONNECT").fill_null(False))
        lead = pc.extract_regex(t.column("what"), r"^(?P<m>(?:\*[A-Z][A-Z-]*\* ?)*)")
        markers = pc.utf8_trim_whitespace(pc.struct_field(lead, [0]))
        up = pc.fill_null(markers, "")
        blocked = pc.or_(pc.match_substring(up, "DENIED"), pc.match_substring(up, "INFECTED"))
        other = pc.if_else(pc.equal(status, 407), "auth_required", "allowed")
        action = pc.if_else(blocked, "blocked", pc.if_else(pc.match_substring(up, "NETERROR"), "error", other))
        user, user_raw = users(t.column("who"))
        host = _rows.blank_to_null(t.column("host"), "-")
        cols = {
            "time": pc.cast(time, pa.timestamp("ms", tz="UTC")),
            "duration_ms": _rows.integers(t.column("duration")),
            "client_ip": t.column("client"),
            "user": user,
            "user_raw": user_raw,
            "device": pc.if_else(pc.equal(host, t.column("client")), pa.scalar(None, pa.string()), host),
            "method": method,
            "url": t.column("url"),
            **_url.split(t.column("url"), connect),
            "status": status,
            "action": action,
            "vendor_action": _rows.blank_to_null(markers),
            "bytes_in": _rows.integers(t.column("size")),
            "content_type": _rows.blank_to_null(t.column("mime"), "-"),
            "vendor_category": _rows.blank_to_null(pc.utf8_trim_whitespace(t.column("category")), "-"),
            "user_agent": _rows.blank_to_null(t.column("ua"), "-"),
            "source_format": constant(self.name, n),
        }
        return table(cols, lines)


def _pick(lists: pa.Array, layout: dict[str, int], nums: np.ndarray) -> pa.Table:
    """Canonical string columns from split lines, by the layout's field positions."""
    return _canonical({k: _element(lists, i) for k, i in layout.items()}, nums)


def _is_method(col: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(col, r"^[A-Z][A-Z_-]*$"), False))


def _element(lists: pa.Array, i: int) -> pa.Array:
    """The i-th item of every list, null where a list is shorter."""
    ok = pc.greater(pc.list_value_length(lists), i)
    if pc.all(ok).as_py():
        return pc.list_element(lists, i)
    safe = pc.if_else(ok, lists, pa.scalar([""] * (i + 1), lists.type))
    return pc.if_else(ok, pc.list_element(safe, i), pa.scalar(None, pa.string()))


def _canonical(cols: dict[str, pa.Array], nums: np.ndarray) -> pa.Table:
    n = len(nums)
    full = {k: cols[k] if k in cols else pa.nulls(n, pa.string()) for k in _NAMES}
    full["source_line"] = pa.array(nums)
    return pa.table(full)
