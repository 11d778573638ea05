"""Registered domains (``www.bbc.co.uk`` → ``bbc.co.uk``), offline and on distinct hosts only.

Proxy logs repeat each host about a thousand times, and tldextract works one
string at a time, so the column is dictionary-encoded, the few distinct hosts
are resolved, and the answers are mapped back by index. The Public Suffix List
is tldextract's bundled snapshot: nothing is fetched and nothing is written
outside the workspace, so results are the same on every machine.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

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


_RESOLVING = threading.Lock()


def registered_domains(hosts: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    """Registered domain of every host in a column (null where the host is null).

    One caller at a time: the two halves of a bucket that detect enriches side
    by side hold nearly the same hosts, and each new host costs 13 us of Python
    (tldextract). Unlocked, both threads resolved each of them under the GIL;
    locked, the second finds them remembered.
    """
    enc = distinct(hosts)
    with _RESOLVING:
        values = [None if h is None else registered_domain(h) for h in enc.dictionary.to_pylist()]
    return pa.DictionaryArray.from_arrays(enc.indices, pa.array(values, pa.string()), safe=False)  # one value per entry


def ip_literals(hosts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whether each host is an IP address (False for null hosts)."""
    enc = distinct(hosts)
    flags = pa.array([h is not None and ip_literal(h) for h in enc.dictionary.to_pylist()], pa.bool_())
    return pc.fill_null(flags.take(enc.indices), False)
