"""Split a column of URLs into scheme, host, port, path and query, vectorised.

Proxy logs hold three URL shapes: absolute (``http://host:port/path?q``), the
``host:port`` authority of a CONNECT tunnel, and oddities (``error:...``, ``/x``).
Work is done on the byte offsets of the whole column at once (see _spans).

Nearly every row is ``http(s)://host[:port]/...`` or a CONNECT ``host:port``:
those are cut from a short window of bytes after the host start, and the query
and fragment marks come from Arrow's per-string search. Rows with anything
unusual in the authority (user info, an IPv6 literal, a long host, another
scheme, no scheme at all) go through the general path, which searches the
positions of every delimiter in the column; both give the same spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.lib.stride_tricks import sliding_window_view

from . import _spans

_DEFAULT_PORTS = {b"http": 80, b"https": 443, b"ftp": 21, b"ws": 80, b"wss": 443}
_WINDOW = 64
"""Bytes looked at after a host's start: longer hosts take the general path."""
_PORT_WINDOW = 8


def _table(chars: str) -> np.ndarray:
    t = np.zeros(256, dtype=bool)
    t[[ord(c) for c in chars]] = True
    return t


_HOST_END = _table("/?#:@[]")
_PORT_END = _table("/?#@[]")
_ODD = _table("@[]")


@dataclass
class _Parts:
    """Byte spans (into the column's buffer) of each part, per row."""

    n: int

    def __post_init__(self) -> None:
        z = np.zeros(self.n, dtype=np.int64)
        self.scheme_e, self.host_s, self.host_e, self.port = z.copy(), z.copy(), z.copy(), z.copy()
        self.path_s, self.path_e, self.query_s, self.query_e = z.copy(), z.copy(), z.copy(), z.copy()
        f = np.zeros(self.n, dtype=bool)
        self.has_scheme, self.has_host, self.port_valid, self.has_path, self.has_query = (
            f.copy(),
            f.copy(),
            f.copy(),
            f.copy(),
            f.copy(),
        )

    def put(self, rows: np.ndarray, other: _Parts) -> None:
        """Fill ``rows`` from ``other``, whose rows are these in order."""
        for name, value in vars(other).items():
            if name != "n":
                getattr(self, name)[rows] = value


def split(urls: pa.Array | pa.ChunkedArray, authority_only: np.ndarray | None = None) -> dict[str, pa.Array]:
    """Return scheme, host, port, path and query arrays for ``urls``.

    ``authority_only`` marks rows whose URL is a bare ``host:port`` (CONNECT);
    other rows without ``scheme://`` get no host. Hosts are lower-cased.
    """
    if isinstance(urls, pa.ChunkedArray):
        urls = urls.combine_chunks() if urls.num_chunks else pa.array([], pa.string())
    if urls.type not in (pa.string(), pa.large_string()):
        urls = urls.cast(pa.string())
    n = len(urls)
    if n == 0:
        empty = pa.array([], pa.string())
        return {"scheme": empty, "host": empty, "port": pa.array([], pa.int32()), "path": empty, "query": empty}
    buf, s, e = _buffer(urls)
    bare = np.zeros(n, dtype=bool) if authority_only is None else np.asarray(authority_only, dtype=bool)
    parts, done = _fast(urls, buf, s, e, bare)
    odd = np.flatnonzero(~done)
    if len(odd):
        parts.put(odd, _general(buf, s[odd], e[odd], bare[odd]))
    return _arrays(buf, s, parts)


def split_general(urls: pa.Array, authority_only: np.ndarray | None = None) -> dict[str, pa.Array]:
    """``split`` by the general path alone: the reference the fast path is tested against."""
    buf, s, e = _buffer(urls)
    bare = np.zeros(len(urls), dtype=bool) if authority_only is None else np.asarray(authority_only, dtype=bool)
    return _arrays(buf, s, _general(buf, s, e, bare))


def _buffer(urls: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(urls)
    width = np.int64 if urls.type == pa.large_string() else np.int32
    size = np.dtype(width).itemsize
    offsets = np.frombuffer(urls.buffers()[1], dtype=width, count=n + 1, offset=urls.offset * size).astype(np.int64)
    data = urls.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    body = raw[offsets[0] : offsets[-1]]
    buf = np.zeros(len(body) + _WINDOW + _spans.PAD, dtype=np.uint8)  # room for a window after the last row
    buf[: len(body)] = body
    s = offsets[:-1] - offsets[0]
    e = offsets[1:] - offsets[0]
    if urls.null_count:
        e = np.where(np.asarray(pc.is_null(urls)), s, e)
    return buf, s, e


def _first(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, table: np.ndarray, width: int) -> np.ndarray:
    """Per row, the first position in [start, start + width) holding a byte of ``table``, or the row's end.

    Returns -1 where neither comes within ``width`` bytes (the caller takes the general path).
    """
    windows = sliding_window_view(buf, width)  # a view: only the rows' bytes are gathered
    hit = table[windows[np.minimum(starts, len(windows) - 1)]]
    hit |= np.arange(width) >= (ends - starts)[:, None]
    k = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), starts + k, -1)


def _fast(urls: pa.Array, buf: np.ndarray, s: np.ndarray, e: np.ndarray, bare: np.ndarray) -> tuple[_Parts, np.ndarray]:
    """Spans of the common shapes; the mask says which rows were done."""
    n = len(s)
    p = _Parts(n)
    colon = np.full(n, -1, dtype=np.int64)
    other = np.zeros(n, dtype=bool)  # "xxxx://" or "xxxxx://" that is not http(s): general
    for width in (4, 5):  # http:// and https://, any case
        at = np.minimum(s + width, len(buf) - 3)
        hit = (colon < 0) & (buf[at] == 58) & (buf[at + 1] == 47) & (buf[at + 2] == 47) & (e - s > width + 2)
        named = (buf[s] | 0x20 == ord("h")) & (buf[s + 1] | 0x20 == ord("t")) & (buf[s + 2] | 0x20 == ord("t"))
        named &= (buf[s + 3] | 0x20) == ord("p")
        if width == 5:
            named &= (buf[s + 4] | 0x20) == ord("s")
        other |= hit & ~named
        hit &= named
        colon[hit] = at[hit]
    http = colon >= 0
    other &= ~http
    host_s = np.where(http, colon + 3, s)
    rows = http | bare
    stop = np.full(n, -1, dtype=np.int64)
    stop[rows] = _first(buf, host_s[rows], e[rows], _HOST_END, _WINDOW // 2)
    long = np.flatnonzero(rows & (stop < 0))  # hosts of 32 bytes or more: a wider look
    if len(long):
        stop[long] = _first(buf, host_s[long], e[long], _HOST_END, _WINDOW)
    stop_c = buf[np.maximum(stop, 0)]
    ended = stop == e
    ok = rows & ~other & (stop >= 0) & (ended | ~_ODD[stop_c])
    ok &= http | ended | (stop_c == ord(":"))  # a bare authority holding / ? #: general
    with_port = ok & ~ended & (stop_c == ord(":"))
    scheme_like = with_port & (buf[stop + 1] == 47) & (buf[stop + 2] == 47)  # a bare "ftp://...": general
    ok &= ~scheme_like
    with_port &= ~scheme_like
    auth_e = stop.copy()
    pr = np.flatnonzero(with_port)
    if len(pr):
        end = _first(buf, stop[pr] + 1, e[pr], _PORT_END, _PORT_WINDOW)
        good = (end >= 0) & ((end == e[pr]) | ~_ODD[buf[np.maximum(end, 0)]])
        ok[pr[~good]] = False
        auth_e[pr] = end
        p.port[pr], p.port_valid[pr] = _spans.digits(buf, stop[pr] + 1, end, width=5)
        p.port_valid[pr] &= p.port[pr] <= 65535
    no_port = ok & ~with_port
    p.port[no_port & http] = np.where(colon[no_port & http] - s[no_port & http] == 5, 443, 80)
    p.port_valid[no_port & http] = True

    p.has_scheme[:] = http
    p.scheme_e[:] = np.where(http, colon, s)
    p.has_host[:] = ok
    p.host_s[:] = host_s
    p.host_e[:] = stop
    q = np.asarray(pc.fill_null(pc.find_substring(urls, "?"), -1), dtype=np.int64)
    f = np.asarray(pc.fill_null(pc.find_substring(urls, "#"), -1), dtype=np.int64)
    query_mark = np.where(q >= 0, s + q, e)
    frag = np.where(f >= 0, s + f, e)
    p.path_s[:] = auth_e
    p.path_e[:] = np.minimum(query_mark, frag)
    p.has_path[:] = p.path_e > auth_e
    p.has_query[:] = query_mark < e
    p.query_s[:] = query_mark + 1
    p.query_e[:] = np.where(frag > query_mark, frag, e)
    return p, ok


def _general(buf: np.ndarray, s: np.ndarray, e: np.ndarray, bare: np.ndarray) -> _Parts:
    """Spans of any row, from the positions of every delimiter in the buffer."""
    n = len(s)
    p = _Parts(n)
    pos = _spans.find(buf, b":/?#@[]")  # the zero padding holds none of them

    # scheme://  -- http:// and https:// are checked at fixed offsets; others searched for
    colon = np.full(n, -1, dtype=np.int64)
    for width in (4, 5):
        at = np.minimum(s + width, len(buf) - 3)
        hit = (colon < 0) & (buf[at] == 58) & (buf[at + 1] == 47) & (buf[at + 2] == 47) & (e - s > width + 2)
        colon[hit] = at[hit]
    rest = np.flatnonzero(colon < 0)
    if len(rest):
        colon[rest] = _spans.first_from(pos[ord(":")], s[rest], e[rest])
    c = np.minimum(colon, len(buf) - 3)
    has_scheme = (colon < e) & (colon - s >= 2) & (colon - s <= 10) & (buf[c + 1] == 47) & (buf[c + 2] == 47)
    bare = bare & ~has_scheme
    has_host = has_scheme | bare
    host_s = np.where(has_scheme, colon + 3, s)

    # end of the authority: first / ? # after the host start
    auth_e = np.minimum.reduce([_spans.first_from(pos[ord(ch)], host_s, e) for ch in "/?#"])
    auth_e = np.where(has_host, auth_e, s)
    at = _spans.last_before(pos[ord("@")], host_s, auth_e)
    host_s = np.where(at >= 0, at + 1, host_s)
    # IPv6 literal: [addr]:port
    bracket = has_host & (buf[np.minimum(host_s, len(buf) - 1)] == ord("["))
    close = _spans.first_from(pos[ord("]")], host_s, auth_e)
    after_host = np.where(bracket & (close < auth_e), close + 1, host_s)
    port_colon = _spans.first_from(pos[ord(":")], after_host, auth_e)
    p.host_s[:] = np.where(bracket & (close < auth_e), host_s + 1, host_s)
    p.host_e[:] = np.where(bracket & (close < auth_e), close, port_colon)
    explicit = np.flatnonzero(has_host & (port_colon < auth_e))
    port_ok = np.zeros(n, dtype=bool)
    p.port[explicit], port_ok[explicit] = _spans.digits(buf, port_colon[explicit] + 1, auth_e[explicit], width=5)
    port_ok &= p.port <= 65535
    default = np.zeros(n, dtype=np.int64)
    has_default = np.zeros(n, dtype=bool)
    scheme_len = colon - s
    for name, number in _DEFAULT_PORTS.items():
        hit = has_scheme & (scheme_len == len(name))
        for k, ch in enumerate(name):
            hit &= (buf[np.minimum(s + k, len(buf) - 1)] | 0x20) == ch
        default[hit] = number
        has_default |= hit
    p.port[:] = np.where(port_ok, p.port, default)
    p.port_valid[:] = port_ok | (has_scheme & has_default & (port_colon >= auth_e))

    path_s = np.where(has_host, auth_e, s)
    query_mark = _spans.first_from(pos[ord("?")], path_s, e)
    frag = _spans.first_from(pos[ord("#")], path_s, e)
    p.has_scheme[:], p.scheme_e[:], p.has_host[:] = has_scheme, np.where(has_scheme, colon, s), has_host
    p.path_s[:], p.path_e[:] = path_s, np.minimum(query_mark, frag)
    p.has_path[:] = p.path_e > path_s
    p.has_query[:] = query_mark < e
    p.query_s[:], p.query_e[:] = query_mark + 1, np.where(frag > query_mark, frag, e)
    return p


def _arrays(buf: np.ndarray, s: np.ndarray, p: _Parts) -> dict[str, pa.Array]:
    host = _spans.strings(buf, p.host_s, p.host_e, p.has_host & (p.host_e > p.host_s))
    return {
        "scheme": pc.utf8_lower(_spans.strings(buf, s, p.scheme_e, p.has_scheme)),
        "host": pc.utf8_lower(host),
        "port": pa.array(p.port.astype(np.int32), mask=~p.port_valid),
        "path": _spans.strings(buf, p.path_s, p.path_e, p.has_path),
        "query": _spans.strings(buf, p.query_s, p.query_e, p.has_query),
    }
