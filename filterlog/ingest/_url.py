"""Split a column of URLs into scheme, host, port, path and query, vectorised.

Proxy logs hold three URL shapes: absolute (``http://host:port/path?q``), the
``host:port`` authority of a CONNECT tunnel, and oddities (``error:...``, ``/x``).
Work is done on the byte offsets of the whole column at once (see _spans).

Nearly every row is ``http(s)://host[:port]/...`` or a CONNECT ``host:port``:
those are cut by a compiled loop (``_compiled.url_spans``). Rows with anything unusual
in the authority (user info, an IPv6 literal, another scheme, no scheme at all)
go through the general path, which searches the positions of every delimiter in
the column with numpy; both give the same spans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import masked
from . import _spans

_DEFAULT_PORTS = {b"http": 80, b"https": 443, b"ftp": 21, b"ws": 80, b"wss": 443}


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
    parts, done = _fast(buf, s, e, bare)
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
    buf = np.zeros(len(body) + _spans.PAD, dtype=np.uint8)
    buf[: len(body)] = body
    s = offsets[:-1] - offsets[0]
    e = offsets[1:] - offsets[0]
    if urls.null_count:
        e = np.where(np.asarray(pc.is_null(urls)), s, e)
    return buf, s, e


def _fast(buf: np.ndarray, s: np.ndarray, e: np.ndarray, bare: np.ndarray) -> tuple[_Parts, np.ndarray]:
    """Spans of the common shapes, cut by the compiled kernel; the mask says which rows were done."""
    from . import _compiled  # Numba loads on first use: commands that parse no URLs do not pay for it

    p = _Parts(len(s))
    flags = np.zeros((len(s), 6), dtype=np.bool_)
    _compiled.url_spans(
        buf, s, e, bare, p.scheme_e, p.host_s, p.host_e, p.port, p.path_s, p.path_e, p.query_s, p.query_e, flags
    )
    p.has_scheme, p.has_host, p.port_valid, p.has_path, p.has_query, done = (flags[:, k].copy() for k in range(6))
    return p, done


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
    return {
        "scheme": _spans.strings(buf, s, p.scheme_e, p.has_scheme, lower=True),
        "host": _spans.strings(buf, p.host_s, p.host_e, p.has_host & (p.host_e > p.host_s), lower=True),
        "port": masked(p.port.astype(np.int32), ~p.port_valid),
        "path": _spans.strings(buf, p.path_s, p.path_e, p.has_path),
        "query": _spans.strings(buf, p.query_s, p.query_e, p.has_query),
    }
