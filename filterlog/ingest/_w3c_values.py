"""Column work for the W3C/ELFF reader: times, numbers, URLs and the normalised action.

Kept apart from the tokenising in w3c.py; everything here works on whole Arrow
columns, and per-value Python runs only on distinct values (outcomes, time stamps).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .base import dash_to_null

_BLOCKED = {"denied", "deny", "block", "blocked", "warn", "warned"}

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


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


def epoch_ms(col: pa.ChunkedArray) -> np.ndarray:
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
    frac = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.struct_field(parts, [1]), 0, 3), 3, "0")
    frac = pc.cast(pc.if_else(pc.equal(pc.struct_field(parts, [1]), ""), "000", frac), pa.int64())
    dict_ms = pc.add(pc.cast(whole, pa.int64()), frac).fill_null(-1)
    return np.asarray(dict_ms.take(enc.indices).fill_null(-1), dtype=np.int64)


def build_url(col: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
    """The logged URL (cs-uri), else one put together from scheme, host, port, path and query.

    A default port (80 for http, 443 for https) is left out; a CONNECT gives ``host:port``.
    """
    scheme = pc.utf8_lower(dash_to_null(col["scheme"]))
    host, port = dash_to_null(col["host"]), dash_to_null(col["port"])
    default = pc.or_(
        pc.and_(pc.equal(scheme, "http"), pc.equal(port, "80")),
        pc.and_(pc.equal(scheme, "https"), pc.equal(port, "443")),
    )
    port_part = pc.if_else(
        pc.fill_null(default, False), "", pc.fill_null(pc.binary_join_element_wise(":", port, ""), "")
    )
    path = pc.fill_null(dash_to_null(col["path"]), "")
    query = pc.utf8_ltrim(pc.fill_null(dash_to_null(col["query"]), ""), "?")
    query = pc.if_else(pc.equal(query, ""), "", pc.binary_join_element_wise("?", query, ""))
    prefix = pc.fill_null(pc.binary_join_element_wise(scheme, "://", ""), "")
    built = pc.binary_join_element_wise(prefix, host, port_part, path, query, "")
    method = pc.fill_null(col["method"], "")
    method = pc.if_else(pc.equal(method, "TCP_CONNECT"), "CONNECT", method)
    tunnel = pc.binary_join_element_wise(host, pc.fill_null(pc.binary_join_element_wise(":", port, ""), ""), "")
    built = pc.if_else(pc.equal(method, "CONNECT"), tunnel, built)
    return pc.coalesce(dash_to_null(col["url"]), built)


def parts(col: dict[str, pa.ChunkedArray], connect: np.ndarray) -> dict[str, pa.ChunkedArray]:
    """URL parts straight from ``cs-uri-*`` fields, as ``_url.split`` would cut the URL built from them.

    Cheaper than splitting again what the log already gave split; used when no row has a whole URL.
    """
    tunnel = pa.array(connect)
    none = pa.scalar(None, pa.string())
    scheme = pc.if_else(tunnel, none, pc.utf8_lower(dash_to_null(col["scheme"])))
    port = integers(col["port"])
    port = pc.if_else(pc.less_equal(port, 65535), port, pa.scalar(None, pa.int64()))
    default = pa.scalar(None, pa.int64())
    for name, number in _DEFAULT_PORTS.items():
        default = pc.if_else(pc.equal(scheme, name), number, default)
    path = pc.if_else(tunnel, none, dash_to_null(col["path"]))
    query = pc.utf8_ltrim(dash_to_null(col["query"]), "?")
    return {
        "scheme": scheme,
        "host": pc.utf8_lower(dash_to_null(col["host"])),
        "port": pc.cast(pc.coalesce(port, default), pa.int32()),
        "path": pc.if_else(pc.equal(path, ""), none, path),
        "query": pc.if_else(pc.or_(tunnel, pc.equal(query, "")), none, query),
    }


def actions(verdict: pa.ChunkedArray, code: pa.ChunkedArray, block: pa.ChunkedArray, status: pa.Array) -> pa.Array:
    """Normalised action, decided once per distinct (verdict, code, block type, status)."""
    parts = [pc.fill_null(x, "") for x in (verdict, code, block, pc.cast(status, pa.string()))]
    key = pc.binary_join_element_wise(*parts, "\x1f")
    enc = pc.dictionary_encode(key)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    names = []
    for k in enc.dictionary.to_pylist():
        v, c, b, s = k.split("\x1f")
        names.append(w3c_action(v, c, b, int(s) if s else None))
    return pa.array(names, pa.string()).take(enc.indices)
