"""Search terms from search-engine URLs, with type-ahead keystrokes collapsed to what was searched.

Safeguarding cares about what a pupil searched for, not about each keystroke a
suggestion box sent: ``q=h``, ``q=ho``, ``q=how`` … are one search. Engines are
recognised by registered domain (any country domain of Google, for instance)
and by path, so a ``q=`` parameter on an ordinary site is not a search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import bools, masked, spread
from .domains import registered_domains

SUGGEST_GAP_MS = 60_000
"""Keystrokes further apart than this are separate searches."""


@dataclass(frozen=True)
class Endpoint:
    """One way an engine carries a search: host label, path pattern, parameter, and whether it is type-ahead."""

    engine: str
    path: str
    param: str
    suggest: bool = False
    host: str = ""
    """A pattern the host must match, where the engine's domain serves more than search."""


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("google", r"^/search$", "q"),
    Endpoint("google", r"^/(complete/search|s)$", "q", suggest=True),
    Endpoint("bing", r"^/search$", "q"),
    Endpoint("bing", r"^/AS/Suggestions$", "qry", suggest=True),
    Endpoint("youtube", r"^/results$", "search_query"),
    Endpoint("duckduckgo", r"^/(html/?|lite/?)?$", "q"),
    Endpoint("duckduckgo", r"^/ac/?$", "q", suggest=True),
    Endpoint("yahoo", r"^/search", "p", host=r"(^|\.)search\.yahoo\."),
    Endpoint("ecosia", r"^/search$", "q"),
    Endpoint("ecosia", r"^/autocomplete", "q", suggest=True, host=r"^ac\."),
)
"""Google's suggestions for YouTube come from suggestqueries.google.com/complete/search, covered above."""

_SPACE = re.compile(r"\s+")


_ENGINES = pa.array(sorted({e.engine for e in ENDPOINTS}), pa.string())


def engines(domains: pa.Array) -> pa.Array:
    """The search engine a registered domain belongs to (``google`` for google.co.uk), else null.

    In Arrow, not per value in Python: detect asks once per bucket for every
    distinct domain of the day (19,000 on a 10M-event day of a real web's tail).
    """
    label = pc.list_element(pc.split_pattern(pc.cast(domains, pa.string()), ".", max_splits=1), 0)
    return pc.if_else(pc.is_in(label, value_set=_ENGINES), label, pa.scalar(None, pa.string()))


def _decode(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = _SPACE.sub(" ", unquote_plus(raw, errors="replace")).strip()
    return text or None


def search_terms(events: pa.Table, domains: pa.Array | pa.ChunkedArray | None = None) -> pa.Array:
    """The search term of each event (null where the event is not a search, or is a superseded keystroke).

    ``events`` needs host, path, query and time, plus user and client_ip to tell
    whose keystrokes belong together. ``domains`` may pass registered domains
    already computed for the same rows.
    """
    n = events.num_rows
    if n == 0:
        return pa.array([], pa.string())
    domains = registered_domains(events.column("host")) if domains is None else domains
    enc = domains if pa.types.is_dictionary(domains.type) else pc.dictionary_encode(domains)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    # the engine per distinct domain, its name per row only for the candidates (not a string per event)
    names = engines(enc.dictionary)
    candidate = spread(pc.is_valid(names), enc) & np.asarray(pc.is_valid(events.column("query")), dtype=bool)
    codes = np.full(n, -1, dtype=np.int32)  # index into `words`, -1 for no search
    words: list[str | None] = []
    suggest = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(candidate)
    keep = bools(candidate)  # filter, not take: take on a chunked column copies all of it first
    sub_engine = names.take(enc.indices.filter(keep))
    path = pc.fill_null(events.column("path").filter(keep), "")
    host = pc.fill_null(pc.cast(events.column("host").filter(keep), pa.string()), "")
    query = events.column("query").filter(keep)
    for ep in ENDPOINTS if len(rows) else ():
        hit = pc.and_(pc.equal(sub_engine, ep.engine), pc.match_substring_regex(path, ep.path))
        if ep.host:
            hit = pc.and_(hit, pc.match_substring_regex(host, ep.host))
        hit = np.asarray(pc.fill_null(hit, False)) & (codes[rows] < 0)
        if not hit.any():
            continue
        found = pc.extract_regex(query.filter(bools(hit)), rf"(?:^|&){re.escape(ep.param)}=(?P<t>[^&]*)")
        enc = pc.dictionary_encode(pc.struct_field(found, [0]))
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
        decoded = [_decode(v) for v in enc.dictionary.to_pylist()]
        local = np.asarray(pc.fill_null(enc.indices, -1), dtype=np.int64)
        mapped = np.array([-1 if d is None else len(words) + i for i, d in enumerate(decoded)] + [-1], np.int32)
        words.extend(decoded)
        idx = rows[hit]
        codes[idx] = mapped[local]
        suggest[idx] = ep.suggest
    _collapse_keystrokes(events, codes, words, suggest)
    # Codes index ``words`` by construction: unchecked.
    return pa.DictionaryArray.from_arrays(masked(codes, codes < 0), pa.array(words, pa.string()), safe=False)


def _collapse_keystrokes(events: pa.Table, codes: np.ndarray, words: list[str | None], suggest: np.ndarray) -> None:
    """Drop each type-ahead term that the same person's next keystroke extends within SUGGEST_GAP_MS."""
    idx = np.flatnonzero(suggest & (codes >= 0))
    if len(idx) < 2:
        return
    mask = np.zeros(events.num_rows, dtype=bool)
    mask[idx] = True  # idx is sorted: filtering keeps its order
    sub = events.select(["user", "client_ip", "time"]).filter(bools(mask))
    who = pc.coalesce(sub.column("user").cast(pa.string()), sub.column("client_ip").cast(pa.string()))
    who_enc = pc.dictionary_encode(who)
    if isinstance(who_enc, pa.ChunkedArray):
        who_enc = who_enc.combine_chunks()
    person = np.asarray(who_enc.indices.fill_null(-1))
    ms = np.asarray(pc.cast(sub.column("time"), pa.int64()))
    order = np.lexsort((ms, person))
    folded = np.array([(w or "").casefold() for w in words], dtype=str)
    text = folded[codes[idx[order]]]
    same = person[order][1:] == person[order][:-1]
    close = np.diff(ms[order]) <= SUGGEST_GAP_MS
    superseded = np.append(same & close & np.char.startswith(text[1:], text[:-1]), False)
    codes[idx[order[superseded]]] = -1
