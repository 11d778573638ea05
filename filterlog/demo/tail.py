"""The long tail of a real day's web: thousands of small sites, most visited a few times.

A school's proxy log names tens of thousands of hosts a day; the demo's
curated sites are about two hundred, enough to tell its story. Everything
filterlog does once per distinct host (dictionaries in ingest and in
detect's spill, registered domains, categories) is cheap at that size and
not at a real one, so the benchmarks ask for a tail
(``generate_day(tail_sites=N)``): N more sites, drawn with Zipf weights for
``SHARE`` of page views, none in any category list.

Names come from a hash of each site's rank, not from the day's random
generator, so a day without a tail is byte for byte the day it always was.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .data import NO_TOKEN, Site

SHARE = 0.2
"""Of page views, in lessons and out, that go to the tail."""

PATHS = ("/", "/index.html", "/about/", "/news/{id}", "/article/{id}", "/products/{id}", "/blog/{id}/")
"""Page paths of every tail site ("{id}" gets a random token per request)."""

_SUFFIXES = ("com", "com", "com", "co.uk", "co.uk", "org", "net", "org.uk", "io", "uk", "info", "de", "fr", "eu")
_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def name(rank: int) -> str:
    """The host of the tail's ``rank``-th site: pronounceable, unique, never spelling a keyword."""
    digest = hashlib.blake2b(f"tail-{rank}".encode(), digest_size=16).digest()
    syllables = 2 + digest[0] % 3
    word = "".join(_CONSONANTS[digest[1 + 2 * i] % 18] + _VOWELS[digest[2 + 2 * i] % 5] for i in range(syllables))
    if any(bad in word for bad in NO_TOKEN):
        word = "site"
    www = "www." if digest[14] % 3 else ""
    return f"{www}{word}{rank}.{_SUFFIXES[digest[15] % len(_SUFFIXES)]}"


def sites(n: int, curated: tuple[Site, ...]) -> tuple[Site, ...]:
    """``n`` tail sites weighted 1/rank, together ``SHARE`` of the draws beside the ``curated`` ones."""
    if n <= 0:
        return ()
    zipf = 1.0 / np.arange(1, n + 1)
    zipf *= SHARE / (1 - SHARE) / zipf.sum()
    work = sum(s.work for s in curated) * zipf
    free = sum(s.free for s in curated) * zipf
    out = []
    for rank in range(n):
        host = name(rank)
        out.append(Site(f"tail-{rank}", (host,), (host,), PATHS, float(work[rank]), float(free[rank]), rank % 3 == 0))
    return tuple(out)
