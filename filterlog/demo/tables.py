"""The strings a demo day's background is drawn from, turned into arrays indexed by small integers.

The background is built column-wise: numpy draws integer codes for hosts, URL templates,
result codes and user agents, and pyarrow ``take`` turns them into text only when a chunk is
written. :class:`Tables` does that turning once per day, from the site and traffic tables in
``data``, so drawing a line costs a few integer operations rather than string work.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from . import data, people

CODE_INDEX = {c: i for i, c in enumerate(data.CODES)}
"""Squid result code -> its index in ``data.CODES`` (and in :attr:`Tables.code`)."""
CODE_DIRECT = np.array([data.forwarded(c) for c in data.CODES])
"""Per result code: whether the request went to the server (so it has a ``HIER_DIRECT`` peer)."""
_DASH_MIME = ("/304", "/204", "/000")
_HTML_MIME = ("/302", "/404", "/403", "/407", "/503", "/500")


class _Groups:
    """Ragged lists of ints; draws one member of group ``g`` uniformly, vectorised."""

    def __init__(self, groups: list[list[int]]) -> None:
        self.count = np.array([len(g) for g in groups])
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.flat = np.array([x for g in groups for x in g])

    def draw(self, g: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One member of each group ``g``, chosen by uniforms ``u`` in [0, 1)."""
        return self.flat[self.offset[g] + (u * self.count[g]).astype(np.int64)]


def cumulative(weights: Any) -> np.ndarray:
    """Cumulative distribution of ``weights`` (ending at exactly 1)."""
    c = np.cumsum(np.asarray(weights, dtype=float))
    return c / c[-1]


_ALNUM = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def _token(rng: np.random.Generator) -> str:
    """A random lower-case id of 6-16 characters, like those in real URLs (never spelling a keyword)."""
    while True:
        token = "".join(_ALNUM[rng.integers(0, 36, rng.integers(6, 17))])
        if not any(bad in token for bad in data.NO_TOKEN):
            return token


class Tables:
    """Every string the background draws from, as pyarrow arrays, indexed by small integers."""

    def __init__(self, rng: np.random.Generator, pop: people.Population, sites: tuple[data.Site, ...]) -> None:
        hosts: dict[str, int] = {}
        tpl: dict[tuple[str, str, str, str], int] = {}

        def hid(h: str) -> int:
            return hosts.setdefault(h, len(hosts))

        def tid(t: tuple[str, str, str, str]) -> int:
            path, suffix, kind, mime = t
            if "{id}" in path:  # a token per request; later "{id}"s are fixed per template
                head, rest = path.split("{id}", 1)
                t = (head + "{id}", rest.replace("{id}", _token(rng)) + suffix, kind, mime)
            return tpl.setdefault(t, len(tpl))

        self.connect_tpl = tid((":443", "", "connect", "-"))
        self.site_work, self.site_free = cumulative([s.work for s in sites]), cumulative([s.free for s in sites])
        self.site_ads = np.array([s.ads for s in sites])
        self.site_pages = _Groups([[hid(h) for h in s.pages] for s in sites])
        self.site_assets = _Groups([[hid(h) for h in s.assets or s.pages] for s in sites])
        self.site_has_assets = np.array([bool(s.assets) for s in sites])
        self.site_paths = _Groups([[tid((p, "", "page", "text/html")) for p in s.paths] for s in sites])
        groups = [([tid(a) for a in data.GENERIC_ASSETS], list(data.GENERIC_ASSET_WEIGHTS))]
        host_group = {}
        for h, temps in data.HOST_TEMPLATES.items():
            host_group[hid(h)] = len(groups)
            groups.append(([tid(a) for a in temps], [1.0] * len(temps)))
        self.group_tpl = np.concatenate([np.array(g) for g, _ in groups])
        self.group_bound = np.concatenate([i + cumulative(w) for i, (_, w) in enumerate(groups)])
        self.third = np.array([hid(h) for h, _, _ in data.THIRD_PARTIES])
        weight = np.array([w for _, w, _ in data.THIRD_PARTIES])
        blockable = np.array([b for _, _, b in data.THIRD_PARTIES])
        self.third_ads, self.third_plain = cumulative(weight), cumulative(np.where(blockable, 0.0, weight))
        self.system = np.array([hid(h) for h in data.SYSTEM_HOSTS])
        self.update = np.array([hid(h) for h in data.UPDATE_HOSTS])
        self.storm = np.array([hid(h) for h in data.STORM_HOSTS])
        names = list(hosts)
        self.host_group = np.array([host_group.get(i, 0) for i in range(len(names))])
        self.host_blockable = np.isin(np.arange(len(names)), self.third[blockable])
        self.host_http = np.array([h in data.HTTP_ONLY_HOSTS for h in names])
        self.host_long = np.array([h in data.LONG_TUNNEL_HOSTS for h in names])
        nonbiz = {h for s in sites if s.work == 0 for h in (*s.pages, *s.assets)}
        self.host_nonbiz = np.array([h in nonbiz for h in names])
        temps = list(tpl)
        self.tpl_kind = np.array([data.KINDS.index(t[2]) for t in temps])
        self.tpl_has_id = np.array([t[0].endswith("{id}") for t in temps])
        mimes = sorted({t[3] for t in temps} | {"-", "text/html"})
        self.tpl_mime = np.searchsorted(mimes, [t[3] for t in temps])
        code_mime = [mimes.index("-") if c.endswith(_DASH_MIME) else -1 for c in data.CODES]
        self.code_mime = np.array([mimes.index("text/html") if c.endswith(_HTML_MIME) else m
                                   for c, m in zip(data.CODES, code_mime, strict=True)])  # fmt: skip
        fixed = [next((span for s, span in data.FIXED_BYTES.items() if c.endswith(s)), (-1, -1)) for c in data.CODES]
        self.code_fixed = np.array(fixed, dtype=np.int64)
        stats = [data.KIND_STATS[k] for k in data.KINDS]
        self.kind_code_bound = np.concatenate([k + cumulative(list(s[0].values())) for k, s in enumerate(stats)])
        self.kind_code = np.concatenate([[CODE_INDEX[c] for c in s[0]] for s in stats])
        self.kind_bytes = np.array([s[1] for s in stats])
        self.kind_ms = np.array([s[2] for s in stats])
        # the strings
        self.mime = pa.array(mimes)
        self.prefix = pa.array([t[0].removesuffix("{id}") for t in temps])
        self.suffix = pa.array([t[1] for t in temps])
        self.host = pa.array(names)
        self.hier = pa.array(["HIER_NONE/-"] + [f"HIER_DIRECT/{data.server_ip(h)}" for h in names])
        self.scheme = pa.array(["", "https://", "http://"])
        self.tokens = pa.array([""] + [_token(rng) for _ in range(4095)])
        self.code = pa.array(data.CODES)
        self.method = pa.array(["GET", "POST", "CONNECT"])
        site = f"https://www.{data.SCHOOL_DOMAIN}/"
        self.referer = pa.array(["-", "https://www.google.com/", "https://classroom.google.com/", site])
        self.user = pa.array(pop.names)
        self.ip = pa.array(pop.slot_ip)
        uas = [k[1] for k in data.DEVICE_KINDS] + list(data.OS_UPDATE_UAS) + list(data.APP_UAS)
        self.ua = pa.array([f'"{u}"\n' for u in uas])  # the last field carries the newline
        self.tails = pa.array([f'"{r}" "{u}"\n' for r in self.referer.to_pylist() for u in uas])
        self.ua_update, self.ua_app = len(data.DEVICE_KINDS), len(data.DEVICE_KINDS) + len(data.OS_UPDATE_UAS)
