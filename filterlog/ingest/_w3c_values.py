"""Column work for the W3C/ELFF reader: times, numbers, URLs and the normalised action.

Kept apart from the tokenising in w3c.py. Arrow's CSV reader hands every field
over dictionary-encoded, so the work here is done once per distinct value (a
status code, a scheme, a day, a second of the day) and spread to the rows with
one ``take``; only what really differs per row (the URL) is built row by row.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import masked
from .base import dash_to_null, recode

_BLOCKED = {"denied", "deny", "block", "blocked", "warn", "warned"}

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}

_NONE = np.iinfo(np.int64).min
"""Per-row integer results use this for 'no value' until they become Arrow arrays."""


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


def integers(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Digits → int64; ``-``, empty, signs and overlong numbers → null."""
    ok = pc.and_(pc.utf8_is_digit(col), pc.less_equal(pc.utf8_length(col), 18))
    return pc.cast(pc.if_else(ok, col, pa.scalar(None, pa.string())), pa.int64())


def epoch_ms(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Epoch seconds (WSA ``timestamp``) → ms; -1 where absent or malformed."""
    ok = pc.fill_null(pc.match_substring_regex(col, r"^\d{1,11}(\.\d{1,6})?$"), False)
    sec = pc.cast(pc.if_else(ok, col, "-1"), pa.float64())
    return np.round(np.asarray(sec) * 1000.0).astype(np.int64).clip(-1)


def stamp_ms(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS[.fff]`` (or ISO ``T``/``Z``), UTC → ms; -1 where not a time.

    Parsed once per distinct value: a day has at most 86,400 distinct seconds.
    """
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    values = pc.replace_substring_regex(enc.dictionary, r"^(\d{4}-\d{2}-\d{2})T(.*?)Z?$", r"\1 \2")
    parts = pc.extract_regex(values, r"^(?P<s>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(?P<f>\d{1,9}))?$")
    whole = pc.strptime(pc.struct_field(parts, [0]), format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    dict_ms = pc.add(pc.cast(whole, pa.int64()), _millis(pc.struct_field(parts, [1]))).fill_null(-1)
    return np.asarray(dict_ms.take(enc.indices).fill_null(-1), dtype=np.int64)


def _millis(frac: pa.Array) -> pa.Array:
    """The first three digits of a fraction of a second, as ms (``""`` → 0)."""
    ms = pc.utf8_rpad(pc.utf8_slice_codeunits(frac, 0, 3), 3, "0")
    return pc.cast(pc.if_else(pc.equal(frac, ""), "000", ms), pa.int64())


def spread(values: np.ndarray, col: pa.DictionaryArray, missing: object) -> np.ndarray:
    """Per-value results (numpy) to the rows of ``col``; ``missing`` where the row has no value."""
    idx = np.asarray(pc.fill_null(col.indices, len(values)))
    return np.append(values, np.asarray([missing], values.dtype))[idx]


def times(col: dict[str, pa.DictionaryArray]) -> np.ndarray:
    """Event time (ms) per row: WSA epoch, else ``date`` + ``time``, else CWS ``datatime``; -1 where none.

    A date and a clock time are parsed apart (a few distinct days, at most 86,400
    distinct seconds) and added: the same as parsing them joined, without the join.
    """
    ms = spread(epoch_ms(col["epoch"].dictionary), col["epoch"], -1)
    date, clock = col["date"], col["time"]
    both = np.asarray(pc.and_(pc.is_valid(date.indices), pc.is_valid(clock.indices)))
    day = spread(_day_ms(date.dictionary), date, _NONE)
    second = spread(_clock_ms(clock.dictionary), clock, _NONE)
    joined = np.where((day != _NONE) & (second != _NONE), day + second, -1)
    other = spread(stamp_ms(col["datetime"].dictionary), col["datetime"], -1)
    stamp = np.where(both, joined, other)
    return np.where(ms >= 0, ms, stamp)


def _day_ms(values: pa.Array) -> np.ndarray:
    ok = pc.match_substring_regex(values, r"^\d{4}-\d{2}-\d{2}$")
    day = pc.strptime(pc.if_else(ok, values, "x"), format="%Y-%m-%d", unit="ms", error_is_null=True)
    return np.asarray(pc.cast(day, pa.int64()).fill_null(_NONE), dtype=np.int64)


def _clock_ms(values: pa.Array) -> np.ndarray:
    parts = pc.extract_regex(values, r"^(?P<s>\d{2}:\d{2}:\d{2})(?:\.(?P<f>\d{1,9}))?$")
    hms = pc.binary_join_element_wise("1970-01-01", pc.struct_field(parts, [0]), " ")
    whole = pc.strptime(hms, format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    ms = pc.add(pc.cast(whole, pa.int64()), _millis(pc.struct_field(parts, [1])))
    return np.asarray(ms.fill_null(_NONE), dtype=np.int64)


def build_url(col: dict[str, pa.DictionaryArray], tunnel: np.ndarray) -> pa.Array:
    """The logged URL (cs-uri), else one put together from scheme, host, port, path and query.

    A default port (80 for http, 443 for https) is left out; a CONNECT (``tunnel``)
    gives ``host:port``. Each piece is worked out per distinct value, then the
    pieces of every row are joined in one pass.
    """
    logged = dash_to_null(col["url"])
    if logged.null_count == 0:
        return logged
    scheme, host, port, path, query = (col[k] for k in ("scheme", "host", "port", "path", "query"))
    names = pc.utf8_lower(dash_to_null(scheme.dictionary))
    prefix = _with_blank(pc.fill_null(pc.binary_join_element_wise(names, "://", ""), ""))
    s_idx = _index(scheme, prefix)
    number = dash_to_null(port.dictionary)
    colon = _with_blank(pc.fill_null(pc.binary_join_element_wise(":", number, ""), ""))
    p_idx = _index(port, colon)
    http = _flags(pc.equal(names, "http"), s_idx)
    https = _flags(pc.equal(names, "https"), s_idx)
    default = (http & _flags(pc.equal(number, "80"), p_idx)) | (https & _flags(pc.equal(number, "443"), p_idx))
    blank = len(prefix) - 1, len(colon) - 1
    s_idx = np.where(tunnel, blank[0], s_idx)
    p_idx = np.where(default & ~tunnel, blank[1], p_idx)
    paths = _with_blank(pc.fill_null(dash_to_null(path.dictionary), ""))
    q = pc.utf8_ltrim(pc.fill_null(dash_to_null(query.dictionary), ""), "?")
    queries = _with_blank(pc.if_else(pc.equal(q, ""), "", pc.binary_join_element_wise("?", q, "")))
    path_idx = np.where(tunnel, len(paths) - 1, _index(path, paths))
    query_idx = np.where(tunnel, len(queries) - 1, _index(query, queries))
    built = pc.binary_join_element_wise(
        prefix.take(s_idx),
        dash_to_null(host.dictionary).take(host.indices),
        colon.take(p_idx),
        paths.take(path_idx),
        queries.take(query_idx),
        "",
    )
    return built if logged.null_count == len(logged) else pc.coalesce(logged, built)


def _with_blank(values: pa.Array) -> pa.Array:
    """``values`` and one more, empty: where rows without a value point."""
    return pa.concat_arrays([values, pa.array([""], pa.string())])


def _index(col: pa.DictionaryArray, values: pa.Array) -> np.ndarray:
    """Row indices into ``values`` (as made by ``_with_blank``): a row without a value gets the blank."""
    return np.asarray(pc.fill_null(col.indices, len(values) - 1))


def _flags(mask: pa.Array, idx: np.ndarray) -> np.ndarray:
    """A per-value boolean (null → False), looked up per row through ``idx`` (the blank entry → False)."""
    return np.append(np.asarray(pc.fill_null(mask, False)), False)[idx]


def parts(col: dict[str, pa.DictionaryArray], tunnel: np.ndarray) -> dict[str, pa.Array]:
    """URL parts straight from ``cs-uri-*`` fields, as ``_url.split`` would cut the URL built from them.

    Cheaper than splitting again what the log already gave split; used when no row has a whole URL.
    """
    scheme, port, path, query = col["scheme"], col["port"], col["path"], col["query"]
    names = pc.utf8_lower(dash_to_null(scheme.dictionary))
    default = np.full(len(names), _NONE, np.int64)
    for name, number in _DEFAULT_PORTS.items():
        default[np.asarray(pc.fill_null(pc.equal(names, name), False))] = number
    explicit = integers(port.dictionary)
    explicit = pc.if_else(pc.less_equal(explicit, 65535), explicit, pa.scalar(None, pa.int64()))
    number = spread(np.asarray(explicit.fill_null(_NONE), np.int64), port, _NONE)
    number = np.where((number == _NONE) & ~tunnel, spread(default, scheme, _NONE), number)
    paths = dash_to_null(path.dictionary)
    queries = pc.utf8_ltrim(dash_to_null(query.dictionary), "?")
    none = pa.scalar(None, pa.string())
    return {
        "scheme": recode(names, _masked(scheme.indices, tunnel)),
        "host": pc.utf8_lower(dash_to_null(col["host"].dictionary)).take(col["host"].indices),
        "port": masked(number, number == _NONE, pa.int64()).cast(pa.int32()),
        "path": pc.if_else(pc.equal(paths, ""), none, paths).take(_masked(path.indices, tunnel)),
        "query": pc.if_else(pc.equal(queries, ""), none, queries).take(_masked(query.indices, tunnel)),
    }


def _masked(indices: pa.Array, drop: np.ndarray) -> pa.Array:
    """Dictionary indices with the rows in ``drop`` made null."""
    if not drop.any():
        return indices
    return pc.if_else(pa.array(drop), pa.scalar(None, indices.type), indices)


_CODE_STATUS = r"^(?P<code>[^/]*)/(?P<status>\d*)$"
"""WSA's ``x-resultcode-httpstatus``: ``TCP_MISS/200``."""


def status(col: dict[str, pa.DictionaryArray]) -> pa.Array:
    """HTTP status: ``sc-status``, else the status half of WSA's ``TCP_MISS/200``; 0 → null."""
    logged = spread(_ints(col["status"].dictionary), col["status"], _NONE)
    split = pc.extract_regex(col["code_status"].dictionary, _CODE_STATUS)
    wsa = spread(_ints(pc.struct_field(split, [1])), col["code_status"], _NONE)
    got = np.where(logged != _NONE, logged, wsa)
    return masked(got, (got == _NONE) | (got == 0), pa.int64()).cast(pa.int16())


def _ints(values: pa.Array) -> np.ndarray:
    return np.asarray(integers(values).fill_null(_NONE), np.int64)


def outcomes(col: dict[str, pa.DictionaryArray], status: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Normalised action and vendor action, decided once per distinct (verdict, code, block type, status).

    The vendor action is the filter verdict, else the cache code, else the block type.
    """
    split = pc.extract_regex(col["code_status"].dictionary, _CODE_STATUS)
    fields = [
        (col["filter_result"], dash_to_null(col["filter_result"].dictionary)),
        (col["cache_action"], dash_to_null(col["cache_action"].dictionary)),
        (col["code_status"], dash_to_null(pc.struct_field(split, [0]))),
        (col["block_type"], col["block_type"].dictionary),
    ]
    stat = np.asarray(pc.fill_null(pc.cast(status, pa.int64()), -1))
    key = np.zeros(len(status), np.int64)
    for f, _ in fields:
        key = _combine(key, np.asarray(pc.fill_null(f.indices, -1)), len(f.dictionary) + 1)
    key = np.asarray(pc.dictionary_encode(pa.array(_combine(key, stat, 1 << 16))).indices, np.int64)
    first = np.full(int(key.max()) + 1 if len(key) else 0, -1, np.int64)
    first[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    verdict, cache, logged, block = (_at(f, values, first) for f, values in fields)
    names, vendor = [], []
    for v, a, c, b, s in zip(verdict, cache, logged, block, stat[first].tolist(), strict=True):
        code = a if a is not None else c
        names.append(w3c_action(_blank(v), _blank(code), _blank(b), None if s < 0 else s))
        vendor.append(v if v is not None else code if code is not None else None if b == "-" else b)
    rows = pa.array(key, pa.int32())
    return recode(pa.array(names, pa.string()), rows), recode(pa.array(vendor, pa.string()), rows)


def _combine(key: np.ndarray, part: np.ndarray, size: int) -> np.ndarray:
    """Number the distinct (key, part) pairs 0, 1, 2 ... (part runs from -1 to size - 2).

    While the key space fits in 62 bits the pair is just a bigger number; it is
    renumbered densely only when it would not.
    """
    top = int(key.max()) + 1 if len(key) else 1
    if top * size < 1 << 62 and top < 1 << 40:
        return key * size + part + 1
    key = np.asarray(pc.dictionary_encode(pa.array(key)).indices, np.int64)
    return key * size + part + 1


def _at(col: pa.DictionaryArray, values: pa.Array, rows: np.ndarray) -> list[str | None]:
    """The values (per dictionary entry) of ``col`` at ``rows``, as Python strings."""
    idx = np.asarray(pc.fill_null(col.indices, -1))[rows].tolist()
    got = values.to_pylist()
    return [None if i < 0 else got[i] for i in idx]


def _blank(text: str | None) -> str:
    return "" if text is None else text
