"""Registered domains (``www.bbc.co.uk`` → ``bbc.co.uk``), offline and on distinct hosts only.

Proxy logs repeat each host about a thousand times, so the column is
dictionary-encoded, the few distinct hosts are resolved, and the answers are
mapped back by index. The Public Suffix List is tldextract's bundled snapshot:
nothing is fetched and nothing is written outside the workspace, so results are
the same on every machine. Plain names (ASCII labels) are resolved a column at a
time by walking that list's trie one label depth at a time over all of them
(``_walked``); the rest (addresses, punycode, Unicode, odd text) go to tldextract
one at a time, which is also the reference a property test holds the walk to.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import tldextract


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    """The bundled suffix list only: no network, no cache directory.

    Made on first use: tldextract takes 70 ms to import, and ingest, which
    imports this package for local dates, never resolves a domain.
    """
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def _bare(host: str) -> str:
    """Lower case, without a trailing dot or IPv6 brackets."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


_DOTTED = re.compile(r"[0-9.]+")
"""All an IPv4 address may hold: a name that is not only digits and dots, and has no colon, is no address."""


@lru_cache(maxsize=1 << 20)
def ip_literal(host: str) -> bool:
    """Whether a host is an IPv4 or IPv6 address rather than a name.

    Names are told apart before ``ipaddress`` is asked: its ValueError for each
    of a day's 19,000 names cost 0.3 s of the first bucket judged.
    """
    bare = _bare(host).split("%", 1)[0]
    if ":" not in bare and not _DOTTED.fullmatch(bare):
        return False
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1 << 20)
def registered_domain(host: str) -> str | None:
    """The name a registrant owns: ``bbc.co.uk`` for ``www.bbc.co.uk``.

    An IP literal is its own domain (so per-domain counts still work for it); a
    name with no public suffix (``localhost``, ``intranet``) or a bare suffix
    (``co.uk``) is returned as it is. Unicode and punycode names are kept in the
    form logged. Empty input gives None.
    """
    bare = _bare(host)
    if not bare:
        return None
    if ip_literal(bare):
        return bare
    found = _extractor()(bare).top_domain_under_public_suffix
    return found or bare


def distinct(hosts: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """The column as one dictionary array: per-host work then runs once per distinct host."""
    enc = hosts if pa.types.is_dictionary(hosts.type) else pc.dictionary_encode(hosts)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
    return enc


def remember(known: dict[Any, Any], keys: list[Any], work: Callable[[list[Any]], Iterable[Any]], most: int) -> None:
    """Add to ``known`` what ``work`` answers, for all the ``keys`` it lacks at once; past ``most``, start again.

    The per-process memory of per-host answers (registered domains here, categories):
    every bucket of a large day asks for nearly the same hosts. The caller holds
    the lock that guards ``known``.
    """
    new = [k for k in dict.fromkeys(keys) if k not in known]
    if new:
        if len(known) + len(new) > most:
            known.clear()
        known.update(zip(new, work(new), strict=True))


_RESOLVING = threading.Lock()
_KNOWN: dict[str, str | None] = {}
_KNOWN_KEPT = 1 << 20
"""Hosts remembered before they are forgotten (a long-lived Dask worker sees many days): some 150 MB."""


def registered_domains(hosts: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """Registered domain of every host in a column (null where the host is null).

    One caller at a time (threads share the memory of resolved hosts); the
    hosts a second caller shares with the first are then found remembered.
    """
    enc = distinct(hosts)
    names = enc.dictionary.to_pylist()
    with _RESOLVING:
        remember(_KNOWN, [h for h in names if h is not None], _resolved, _KNOWN_KEPT)
        values = [None if h is None else _KNOWN[h] for h in names]
    return pa.DictionaryArray.from_arrays(enc.indices, pa.array(values, pa.string()), safe=False)  # one value per entry


_PLAIN = r"^(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?$"
"""A name ``_walked`` resolves: ASCII labels, none empty, at most the root's dot at the end."""
_ASIDE = rf"(?:^|\.)xn--|^{_DOTTED.pattern}$"
"""Plain, yet for tldextract: punycode labels (matched decoded) and what may be an IPv4 address."""


def _resolved(hosts: list[str]) -> list[str | None]:
    """``registered_domain`` of each host: plain names a column at a time, the others one by one.

    tldextract takes 5-13 us a name, in Python, under the GIL: the 19,073 hosts
    of a 10M-event day took 0.18-0.22 s (with its import), against 0.08 s.
    """
    lowered = pc.utf8_lower(pa.array(hosts, pa.string()))
    plain = pc.and_not(pc.match_substring_regex(lowered, _PLAIN), pc.match_substring_regex(lowered, _ASIDE))
    out: list[str | None] = [None] * len(hosts)
    rows = np.flatnonzero(np.asarray(plain))
    for row, domain in zip(rows.tolist(), _walked(pc.utf8_rtrim(lowered.take(rows), ".")).to_pylist(), strict=True):
        out[row] = domain
    for row in np.flatnonzero(~np.asarray(plain)).tolist():
        out[row] = registered_domain(hosts[row])
    return out


@lru_cache(maxsize=1)
def _suffix_list() -> tuple[pa.Array, pa.Array, int]:
    """The bundled list's rules, the nodes of tldextract's trie of them, and the most labels a rule has.

    A node is a rule's last labels, any number of them; rules keep their ``*`` and ``!`` labels, as in the trie.
    """
    rules = _bundled_rules() or sorted(_extractor().tlds)
    nodes = sorted({".".join(labels[i:]) for labels in (r.split(".") for r in rules) for i in range(len(labels))})
    return pa.array(rules, pa.string()), pa.array(nodes, pa.string()), max(r.count(".") for r in rules) + 1


def _bundled_rules() -> list[str]:
    """The ICANN rules of tldextract's bundled list, read from its file as tldextract reads them ([] if not found).

    Without importing tldextract, which imports requests: 0.1 s of the first bucket judged.
    """
    spec = importlib.util.find_spec("tldextract")
    if spec is None or spec.origin is None:
        return []
    try:
        text = (Path(spec.origin).parent / ".tld_set_snapshot").read_text(encoding="utf-8")
    except OSError:
        return []
    icann = text.partition("// ===BEGIN PRIVATE DOMAINS===")[0]
    return sorted({m["rule"] for m in re.finditer(r"^(?P<rule>[.*!]*\w\S*)", icann, re.MULTILINE)})


def _walked(names: pa.Array) -> pa.Array:
    """Registered domain of plain lower-case names (``_PLAIN``, no root dot), as tldextract finds it.

    tldextract walks its trie from the last label leftwards while the labels
    so far are a node; the public suffix is the longest rule passed, unless at
    the first label off the trie its parent has a ``*`` child: then that label
    is in the suffix too, or, where ``!label`` is also a child, the parent alone
    is the suffix. Here every name takes that walk at once, one depth a step:
    the last d labels of each name, looked up in the list's nodes and rules.
    No public suffix, or nothing left of the name before it: the name itself.
    """
    rules, nodes, deepest = _suffix_list()
    last = [pa.nulls(len(names), pa.string())] + [
        pc.struct_field(pc.extract_regex(names, rf"(?:^|\.)(?P<s>(?:[^.]+\.){{{d - 1}}}[^.]+)$"), [0])
        for d in range(1, deepest + 2)
    ]  # last[d]: the name's last d labels (null where it has fewer)
    suffix = np.zeros(len(names), np.int64)  # labels in each name's public suffix (0: none)
    walking = np.ones(len(names), bool)
    for d in range(1, deepest + 1):
        node = _member(last[d], nodes)
        off = walking & ~node & np.asarray(last[d].is_valid())
        if d > 1 and off.any():
            wild = off & _member(pc.binary_join_element_wise("*", last[d - 1], "."), nodes)
            exception = _member(pc.binary_join_element_wise("!", last[d], ""), nodes)
            suffix[wild] = np.where(exception[wild], d - 1, d)
        walking &= node
        suffix[walking & _member(last[d], rules)] = d
    labels = np.asarray(pc.count_substring(names, ".")) + 1
    domain = names
    for d in range(2, deepest + 2):
        take = (suffix == d - 1) & (labels >= d)
        if take.any():
            domain = pc.if_else(pa.array(take), last[d], domain)
    return domain


def _member(values: pa.Array, known: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.is_in(values, value_set=known), False))


def ip_literals(hosts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whether each host is an IP address (False for null hosts)."""
    enc = distinct(hosts)
    return pc.fill_null(literal_values(enc.dictionary).take(enc.indices), False)


def literal_values(names: pa.Array) -> pa.BooleanArray:
    """Whether each distinct name is an IP address (null stays null), ``ip_literal`` asked only where it may be.

    Detect asks this of every bucket's distinct domains, nearly all of them
    names: a name with an ASCII letter and no colon keeps the letter through
    ``_bare`` and cannot be an address, so only the rest (a few per thousand) are
    checked one by one, and the test runs on the column without the GIL.
    """
    names = pc.cast(names, pa.string())
    maybe = pc.or_(pc.match_substring(names, ":"), pc.invert(pc.match_substring_regex(names, "[A-Za-z]")))
    rows = np.flatnonzero(pc.fill_null(maybe, False).to_numpy(zero_copy_only=False))
    flags = np.zeros(len(names), bool)
    flags[rows] = [ip_literal(h) for h in names.take(pa.array(rows, pa.int64())).to_pylist()]
    return pa.array(flags, pa.bool_(), mask=np.asarray(names.is_null().to_numpy(zero_copy_only=False), bool))
