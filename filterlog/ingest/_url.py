"""Split a column of URLs into scheme, host, port, path and query, vectorised.

Proxy logs hold three URL shapes: absolute (``http://host:port/path?q``), the
``host:port`` authority of a CONNECT tunnel, and oddities (``error:...``, ``/x``).
Work is done on the byte offsets of the whole column at once (see _spans).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _spans

_DEFAULT_PORTS = {b"http": 80, b"https": 443, b"ftp": 21, b"ws": 80, b"wss": 443}


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
    width = np.int64 if urls.type == pa.large_string() else np.int32
    size = np.dtype(width).itemsize
    offsets = np.frombuffer(urls.buffers()[1], dtype=width, count=n + 1, offset=urls.offset * size).astype(np.int64)
    data = urls.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    buf = _spans.padded(raw[offsets[0] : offsets[-1]])
    s = offsets[:-1] - offsets[0]
    e = offsets[1:] - offsets[0]
    if urls.null_count:
        nulls = np.asarray(pc.is_null(urls))
        e = np.where(nulls, s, e)
    pos = _spans.find(buf[: len(buf) - _spans.PAD], b":/?#@[]")

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
    bare = np.zeros(n, dtype=bool) if authority_only is None else authority_only & ~has_scheme
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
    host_s = np.where(bracket & (close < auth_e), host_s + 1, host_s)
    host_e = np.where(bracket & (close < auth_e), close, port_colon)
    explicit = np.flatnonzero(has_host & (port_colon < auth_e))
    port = np.zeros(n, dtype=np.int64)
    port_ok = np.zeros(n, dtype=bool)
    port[explicit], port_ok[explicit] = _spans.digits(buf, port_colon[explicit] + 1, auth_e[explicit], width=5)
    port_ok &= port <= 65535

    scheme_arr = _spans.strings(buf, s, np.where(has_scheme, colon, s), has_scheme)
    scheme_arr = pc.utf8_lower(scheme_arr)
    default = np.zeros(n, dtype=np.int64)
    has_default = np.zeros(n, dtype=bool)
    scheme_len = colon - s
    for name, number in _DEFAULT_PORTS.items():
        hit = has_scheme & (scheme_len == len(name))
        for k, ch in enumerate(name):
            hit &= (buf[np.minimum(s + k, len(buf) - 1)] | 0x20) == ch
        default[hit] = number
        has_default |= hit
    port_vals = np.where(port_ok, port, default)
    port_valid = port_ok | (has_scheme & has_default & (port_colon >= auth_e))

    query_mark = _spans.first_from(pos[ord("?")], np.where(has_host, auth_e, s), e)
    frag = _spans.first_from(pos[ord("#")], np.where(has_host, auth_e, s), e)
    path_s = np.where(has_host, auth_e, s)
    path_e = np.minimum(query_mark, frag)
    has_path = path_e > path_s
    has_query = query_mark < e
    query_e = np.where(frag > query_mark, frag, e)

    host = _spans.strings(buf, host_s, host_e, has_host & (host_e > host_s))
    return {
        "scheme": scheme_arr,
        "host": pc.utf8_lower(host),
        "port": pa.array(port_vals.astype(np.int32), mask=~port_valid),
        "path": _spans.strings(buf, path_s, path_e, has_path),
        "query": _spans.strings(buf, query_mark + 1, query_e, has_query),
    }
