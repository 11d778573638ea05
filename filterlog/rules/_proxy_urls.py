"""Web-proxy URL shapes and Tor Browser downloads, found in the path and query columns.

Unblockers (glype, PHProxy, CGIProxy, Ultraviolet) fetch the site a pupil asks for
and carry its address inside their own URL. A full URL in a *query* is everyday
on legitimate sites (``redirect_uri=``, ``returnUrl=``, ``next=``), so the query
is trusted only in the parameter shapes the proxy scripts use; a URL embedded in
the *path* is rare and is taken on any host not on the allow list.

Regular expressions over ten million paths cost a second or more, mostly per-row
overhead, so the column is first scanned in blocks: each block is a few hundred
consecutive values read as one string (zero copy, over the same data buffer).
Only the rows of the few blocks that match are checked one by one, and the
exact shapes are decided in Python on their distinct values.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import spread

BLOCK = 256
"""Rows per block in the prefilter scan."""

PATH_HINT = r"(?i)https?(:|%3a)|nph-proxy|hvtrs8|uv/service|tor(-?browser|-expert)|index\.php|/proxy"
"""Necessary for every path-led shape below (a superset: false hits are dropped by the exact check)."""

QUERY_HINT = r"(?i)u=(https?(:|%3a)|ahr0)"
"""Necessary for the query-led shapes (``u=`` a URL; ``aHR0`` is base64 ``htt``). Not ``url=`` or ``q=``
with a URL: trackers and searches carry those everywhere, so they are checked only behind a proxy path."""

TOR_DOWNLOAD = re.compile(
    r"(?i)(tor-?browser|torbrowser-install|tor-expert-bundle)[^/]*\.(exe|msi|dmg|apk|zip|tar\.xz)$"
)
"""Tor Browser and Tor Expert Bundle installers, on any host (mirrors, GitHub releases)."""

_URL_VALUE = r"(?:https?(?::|%3a)|ahr0)"
_SHAPES: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = (
    ("Ultraviolet /service/", re.compile(r"/service/hvtrs8|/uv/service/"), None),
    ("CGIProxy nph-proxy", re.compile(r"nph-proxy"), None),
    ("glype browse.php?u=", re.compile(r"browse\.php$"), re.compile(rf"(?:^|&)u={_URL_VALUE}")),
    ("PHProxy index.php?q=", re.compile(r"index\.php$"), re.compile(rf"(?:^|&)q={_URL_VALUE}")),
    ("proxy?url=", re.compile(r"/proxy(?:\.php)?/?$"), re.compile(rf"(?:^|&)(?:url|u|q)={_URL_VALUE}")),
    ("?u=http", re.compile(r""), re.compile(rf"(?:^|&)u={_URL_VALUE}")),
    ("URL in path", re.compile(r"/https?:/|https?%3a%2f"), None),
)
"""Label, path pattern and query pattern (None: any query) on lower-case text, first match wins."""

_TARGET = re.compile(r"https?://([^/?&#:\s]+)", re.I)


def _offsets(chunk: pa.Array) -> tuple[np.ndarray, pa.DataType]:
    wide = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type)
    dtype = np.int64 if wide else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], dtype=dtype)[chunk.offset : chunk.offset + len(chunk) + 1]
    return offsets, (pa.large_binary() if wide else pa.binary())


def scan(column: pa.Array | pa.ChunkedArray, pattern: str) -> np.ndarray:
    """Rows whose (string) value matches ``pattern``: a block prefilter, then an exact regex on the survivors."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    found, base = [], 0
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        if pa.types.is_dictionary(chunk.type):
            found.append(np.flatnonzero(spread(pc.match_substring_regex(chunk.dictionary, pattern), chunk)) + base)
            base += n
            continue
        if chunk.buffers()[2] is None or chunk.null_count == n:
            base += n
            continue
        offsets, block_type = _offsets(chunk)
        cuts = np.ascontiguousarray(offsets[::BLOCK])
        if cuts[-1] != offsets[-1] or len(cuts) == 1:
            cuts = np.append(cuts, offsets[-1])
        blocks = pa.Array.from_buffers(block_type, len(cuts) - 1, [None, pa.py_buffer(cuts), chunk.buffers()[2]])
        matched = np.flatnonzero(pc.match_substring_regex(blocks, pattern).to_numpy(zero_copy_only=False))
        if len(matched):
            rows = (matched[:, None] * BLOCK + np.arange(BLOCK)[None, :]).ravel()
            rows = rows[rows < n]
            exact = pc.fill_null(pc.match_substring_regex(chunk.take(pa.array(rows)), pattern), False)
            found.append(rows[np.asarray(exact.to_numpy(zero_copy_only=False), dtype=bool)] + base)
        base += n
    return np.concatenate(found).astype(np.int64) if found else np.empty(0, np.int64)


def candidates(path: pa.Array | pa.ChunkedArray, query: pa.Array | pa.ChunkedArray, n: int) -> np.ndarray:
    """Boolean mask of rows that may carry a proxy shape or a Tor download (checked exactly by ``shapes``)."""
    mask = np.zeros(n, dtype=bool)
    mask[scan(path, PATH_HINT)] = True
    mask[scan(query, QUERY_HINT)] = True
    return mask


def _shape(path: str, query: str) -> str | None:
    p, q = path.lower(), query.lower()
    for label, on_path, on_query in _SHAPES:
        if on_path.search(p) and (on_query is None or on_query.search(q)):
            return label
    return None


def _target(path: str, query: str) -> str | None:
    """The site the proxy was asked to fetch, when the embedded URL is readable (plain or %-encoded)."""
    found = _TARGET.search(unquote(unquote(f"{path}?{query}")))
    return found.group(1).lower() if found else None


def shapes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``frame`` (columns path, query): ``shape`` label or None, ``target`` host, ``tor_download`` bool.

    Decided on distinct (path, query) pairs, mapped back to the rows.
    """
    pairs = pd.DataFrame({"path": frame["path"].fillna("").astype(str), "query": frame["query"].fillna("").astype(str)})
    key = pd.MultiIndex.from_frame(pairs)
    codes, uniques = pd.factorize(key)
    shape = [_shape(p, q) for p, q in uniques]
    target = [_target(p, q) if s is not None else None for (p, q), s in zip(uniques, shape, strict=True)]
    tor = [TOR_DOWNLOAD.search(p) is not None for p, _ in uniques]
    return pd.DataFrame(
        {
            "shape": np.asarray(shape, dtype=object)[codes] if len(codes) else [],
            "target": np.asarray(target, dtype=object)[codes] if len(codes) else [],
            "tor_download": np.asarray(tor, dtype=bool)[codes] if len(codes) else np.zeros(0, bool),
        },
        index=frame.index,
    )


def file_name(path: pd.Series) -> pd.Series:
    """The last path segment (the downloaded file's name)."""
    return path.fillna("").astype(str).str.rsplit("/", n=1).str[-1]
