"""A synthetic school day of proxy logs, so filterlog can be shown, tested and benchmarked.

Real school logs cannot leave the school, yet every part of filterlog (readers, rules,
reports, benchmarks) needs a realistic day to work on. :func:`generate_day` writes one: a
Squid native ``access.log`` (with the common trailing referer and user-agent fields) for a few
hundred staff and pupils, the identity files a school would export (a DHCP ``ip_map.csv`` and
``groups.csv``), and ``planted.json``, an answer key naming the users who misbehave in ways
each built-in rule should catch and the look-alike decoys it must not flag.

Background traffic is built column-wise with numpy and joined into lines with pyarrow compute
kernels, a quarter of a million lines at a time, so tens of millions of lines take seconds and
bounded memory. Only the few hundred planted lines are formatted one by one. The tables the
generator draws from (sites, user agents, the planted scenarios) live in ``data``.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import data, people, planter
from .planter import MIN_USERS

__all__ = ["DemoDay", "generate_day"]

log = logging.getLogger(__name__)

CHUNK_LINES = 250_000
"""Background lines built and written per step; bounds memory to a few hundred MB."""
_REF_LINES_PER_USER = 3_000
"""Above this many lines per user, per-line byte sizes shrink so daily volumes stay real."""


@dataclass(frozen=True)
class DemoDay:
    """What :func:`generate_day` wrote."""

    log: Path
    """The Squid access.log."""
    ip_map: Path
    """CSV ``ip,user,device,valid_from,valid_to`` (ISO-8601 UTC)."""
    groups: Path
    """CSV ``user,group``."""
    planted: Path
    """JSON answer key: planted users and decoys per rule."""
    lines: int
    """Lines written to the log."""
    day: date


# --- calendar -------------------------------------------------------------------------------


# --- population -----------------------------------------------------------------------------


# --- what a request looks like --------------------------------------------------------------

_C = {c: i for i, c in enumerate(data.CODES)}
_CODE_DIRECT = np.array([data.forwarded(c) for c in data.CODES])
_DASH_MIME = ("/304", "/204", "/000")
_HTML_MIME = ("/302", "/404", "/403", "/407", "/503", "/500")
# view types: a page view with sub-requests, HTTPS tunnels, a system service, an OS update,
# an unattended app's 407 challenges, and a storm of them
_VT_HTTP, _VT_CONNECT, _VT_SYSTEM, _VT_UPDATE, _VT_AUTH, _VT_STORM = range(6)
_VT_GAP_MS = np.array([220.0, 150.0, 150.0, 25e3, 800.0, 2.5e3])  # mean gap between a view's lines


class _Groups:
    """Ragged lists of ints; draws one member of group ``g`` uniformly, vectorised."""

    def __init__(self, groups: list[list[int]]) -> None:
        self.count = np.array([len(g) for g in groups])
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.flat = np.array([x for g in groups for x in g])

    def draw(self, g: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One member of each group ``g``, chosen by uniforms ``u`` in [0, 1)."""
        return self.flat[self.offset[g] + (u * self.count[g]).astype(np.int64)]


def _cdf(weights: Any) -> np.ndarray:
    """Cumulative distribution of ``weights`` (ending at exactly 1)."""
    c = np.cumsum(np.asarray(weights, dtype=float))
    return c / c[-1]


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn from a cumulative distribution by uniforms ``u``."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


_ALNUM = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def _token(rng: np.random.Generator) -> str:
    """A random lower-case id of 6-16 characters, like those in real URLs (never spelling a keyword)."""
    while True:
        token = "".join(_ALNUM[rng.integers(0, 36, rng.integers(6, 17))])
        if not any(bad in token for bad in data.NO_TOKEN):
            return token


class _Tables:
    """Every string the background draws from, as pyarrow arrays, indexed by small integers."""

    def __init__(self, rng: np.random.Generator, pop: people.Population) -> None:
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
        sites = data.SITES
        self.site_work, self.site_free = _cdf([s.work for s in sites]), _cdf([s.free for s in sites])
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
        self.group_bound = np.concatenate([i + _cdf(w) for i, (_, w) in enumerate(groups)])
        self.third = np.array([hid(h) for h, _, _ in data.THIRD_PARTIES])
        weight = np.array([w for _, w, _ in data.THIRD_PARTIES])
        blockable = np.array([b for _, _, b in data.THIRD_PARTIES])
        self.third_ads, self.third_plain = _cdf(weight), _cdf(np.where(blockable, 0.0, weight))
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
        self.kind_code_bound = np.concatenate([k + _cdf(list(s[0].values())) for k, s in enumerate(stats)])
        self.kind_code = np.concatenate([[_C[c] for c in s[0]] for s in stats])
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


# --- background -----------------------------------------------------------------------------


@dataclass
class _Day:
    """Everything the background chunks share."""

    minute_ms: np.ndarray
    counts: np.ndarray  # background lines per local minute
    p_staff: np.ndarray  # per minute: share of views by staff
    p_device: np.ndarray  # per minute: share of views by unattended devices
    lessons: np.ndarray  # per minute: inside a lesson (non-business sites get no weight)
    pop: people.Population
    tables: _Tables
    byte_scale: float
    pupil_slots: np.ndarray
    pupil_cdf: np.ndarray
    staff_slots: np.ndarray
    staff_cdf: np.ndarray
    windows_slots: np.ndarray


def _background_day(rng: np.random.Generator, n_lines: int, minute_ms: np.ndarray, pop: people.Population) -> _Day:
    """Spread ``n_lines`` background lines over the minutes of the day, by who is in school."""
    staff = pop.slot_staff
    pupil_w = people.curve(data.PUPIL_CURVE) * (~staff).sum()
    staff_w = people.curve(data.STAFF_CURVE) * staff.sum() * 1.6
    device_w = np.full(1440, 0.03 * (pupil_w.sum() + staff_w.sum()) / 1440)
    total = pupil_w + staff_w + device_w
    windows = np.array([data.DEVICE_KINDS[k][2] for k in pop.slot_kind])
    pupil_slots, staff_slots = np.flatnonzero(~staff), np.flatnonzero(staff)
    return _Day(
        minute_ms=minute_ms,
        counts=rng.multinomial(n_lines, total / total.sum()),
        p_staff=staff_w / total,
        p_device=device_w / total,
        lessons=people.lesson_mask(),
        pop=pop,
        tables=_Tables(rng, pop),
        byte_scale=min(1.0, _REF_LINES_PER_USER * len(pop.names) / max(n_lines, 1)),
        pupil_slots=pupil_slots,
        pupil_cdf=_cdf(pop.slot_weight[pupil_slots]),
        staff_slots=staff_slots,
        staff_cdf=_cdf(pop.slot_weight[staff_slots]),
        windows_slots=np.flatnonzero(windows),
    )


def _views(rng: np.random.Generator, n: int, a: int, cdf: np.ndarray, d: _Day) -> dict[str, np.ndarray]:
    """Draw ``n`` views (page loads, tunnels, updates, auth challenges) in minutes ``a``, ``a + 1`` ..."""
    t, pop = d.tables, d.pop
    minute = a + _draw(cdf, rng.random(n))
    t0 = d.minute_ms[minute] + rng.integers(0, 60_000, n)
    u, r = rng.random(n), rng.random(n)
    device = u < d.p_device[minute]
    staff = ~device & (u < d.p_device[minute] + d.p_staff[minute])
    vtype = np.where(
        device,
        np.select([r < 0.5, r < 0.97], [_VT_UPDATE, _VT_AUTH], _VT_STORM),
        np.select([r < 0.52, r < 0.9], [_VT_HTTP, _VT_CONNECT], _VT_SYSTEM),
    )
    slot = np.select(
        [device, staff],
        [d.windows_slots[rng.integers(0, len(d.windows_slots), n)], d.staff_slots[_draw(d.staff_cdf, rng.random(n))]],
        d.pupil_slots[_draw(d.pupil_cdf, rng.random(n))],
    )
    user = np.where(t0 < pop.slot_swap_ms[slot], pop.slot_user_a[slot], pop.slot_user_b[slot])
    site = np.where(d.lessons[minute], _draw(t.site_work, rng.random(n)), _draw(t.site_free, rng.random(n)))
    host = np.select(
        [vtype == _VT_SYSTEM, vtype == _VT_UPDATE, vtype >= _VT_AUTH],
        [t.system[rng.integers(0, len(t.system), n)], t.update[rng.integers(0, len(t.update), n)],
         t.storm[rng.integers(0, len(t.storm), n)]],
        t.site_pages.draw(site, rng.random(n)),
    )  # fmt: skip
    size = np.select(
        [vtype == _VT_HTTP, vtype == _VT_CONNECT, vtype == _VT_UPDATE, vtype == _VT_AUTH, vtype == _VT_STORM],
        [1 + np.minimum(rng.negative_binomial(2, 2 / 8.5, n), 50), 1 + rng.binomial(3, 0.35, n),
         np.minimum(rng.geometric(0.4, n), 9), 1 + rng.binomial(2, 0.3, n), rng.integers(20, 90, n)],
        1,
    )  # fmt: skip
    has407 = (vtype <= _VT_CONNECT) & (rng.random(n) < 0.05)
    path = t.site_paths.draw(site, rng.random(n))
    return {
        "t0": t0,
        "vtype": vtype,
        "slot": slot,
        "user": np.where(device, 0, user),
        "site": site,
        "host": host,
        "path": path,
        "ptok": np.where(t.tpl_has_id[path], rng.integers(1, len(t.tokens), n), 0),
        "size": size + has407,
        "has407": has407,
        "ua": np.select(
            [vtype == _VT_UPDATE, vtype >= _VT_AUTH],
            [t.ua_update + rng.integers(0, 3, n), t.ua_app + rng.integers(0, 3, n)],
            pop.slot_kind[slot],
        ),
    }


def _chunk(
    rng: np.random.Generator, n: int, minutes: tuple[int, int], span: tuple[int, int], d: _Day
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-line and per-view columns for ``n`` background lines in local ``minutes``, sorted by time."""
    t = d.tables
    cdf = _cdf(d.counts[minutes[0] : minutes[1]])
    parts, got = [], 0
    while got < n:
        parts.append(_views(rng, (n - got) // 4 + 64, minutes[0], cdf, d))
        got += int(parts[-1]["size"].sum())
    v = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    ends = np.cumsum(v["size"])
    last = int(np.searchsorted(ends, n))
    v["size"][last] -= int(ends[last]) - n  # exactly n lines: drop surplus views, shorten the last one
    order = np.argsort(v["t0"][: last + 1], kind="stable")
    v = {k: col[order] for k, col in v.items()}
    # expand views into lines, stamp times, sort
    start = np.cumsum(v["size"]) - v["size"]
    view = np.repeat(np.arange(last + 1), v["size"])
    eff = np.arange(n) - (start + v["has407"])[view]  # position after the page line; -1 is a 407 before it
    inc = np.where(eff >= 1, rng.exponential(1.0, n) * _VT_GAP_MS[v["vtype"]][view], 0.0)
    csum = np.cumsum(inc)
    offset = csum - (csum - inc)[start][view] - np.where(eff == -1, rng.integers(20, 400, n), 0)
    stamp = np.clip(v["t0"][view] + offset.astype(np.int64), span[0], span[1] - 1)
    order = np.argsort(stamp, kind="stable")
    stamp, view, eff = stamp[order], view[order], eff[order]
    # everything else is drawn in time order
    vt, site, host = v["vtype"][view], v["site"][view], v["host"][view]
    tunnel = (vt == _VT_CONNECT) | (vt == _VT_SYSTEM) | (vt >= _VT_AUTH)
    sub = (vt <= _VT_CONNECT) & (eff >= 1)
    page = (vt == _VT_HTTP) & (eff <= 0)
    i = np.flatnonzero(sub)
    own = (rng.random(len(i)) < 0.68) & t.site_has_assets[site[i]]
    u = rng.random(len(i))
    third = t.third[np.where(t.site_ads[site[i]], _draw(t.third_ads, u), _draw(t.third_plain, u))]
    host[i] = np.where(own, t.site_assets.draw(site[i], rng.random(len(i))), third)
    tpl = np.where(tunnel, t.connect_tpl, v["path"][view])
    i = np.flatnonzero(~tunnel & ~page)
    tpl[i] = t.group_tpl[np.searchsorted(t.group_bound, t.host_group[host[i]] + rng.random(len(i)), side="right")]
    kind = t.tpl_kind[tpl]
    code = t.kind_code[np.searchsorted(t.kind_code_bound, kind + rng.random(n), side="right")]
    code[sub & ~tunnel & t.host_blockable[host] & (rng.random(n) < 0.5)] = _C["TCP_DENIED/403"]
    code[(eff == -1) | (vt >= _VT_AUTH)] = _C["TCP_DENIED/407"]
    size = np.exp(np.log(t.kind_bytes[kind, 0]) + t.kind_bytes[kind, 1] * rng.standard_normal(n))
    size = np.minimum(size, t.kind_bytes[kind, 2]) * d.byte_scale + 200
    lo, hi = t.code_fixed[code, 0], t.code_fixed[code, 1]
    size = np.where(lo >= 0, lo + rng.integers(0, 1 << 30, n) % np.maximum(hi - lo, 1), size).astype(np.int64)
    ms = np.exp(np.log(t.kind_ms[kind, 0]) + t.kind_ms[kind, 1] * rng.standard_normal(n))
    cap = np.where(tunnel & t.host_long[host], 3 * 3600e3, np.where(t.host_nonbiz[host], 240e3, t.kind_ms[kind, 2]))
    ms = np.where(_CODE_DIRECT[code], np.minimum(ms, cap), rng.integers(0, 4, n)).astype(np.int64)
    json_post = (kind == data.KINDS.index("json")) & (rng.random(n) < 0.4)
    lines = {
        "t": stamp,
        "ms": ms,
        "slot": v["slot"][view],
        "code": code,
        "bytes": size,
        "method": np.where(tunnel, 2, json_post.astype(np.int64)),
        "host": host,
        "tpl": tpl,
        "tok": np.where(page, v["ptok"][view], np.where(t.tpl_has_id[tpl], rng.integers(1, len(t.tokens), n), 0)),
        "user": np.where(code == _C["TCP_DENIED/407"], 0, v["user"][view]),
        "mime": np.where(t.code_mime[code] >= 0, t.code_mime[code], t.tpl_mime[tpl]),
        "ua": v["ua"][view],
        "ref": np.where(sub & ~tunnel, -1, np.where(page & (rng.random(n) < 0.4), rng.integers(1, 4, n), 0)),
        "view": view,
        "scheme": np.where(tunnel, 0, np.where(t.host_http[host], 2, 1)),
    }  # fmt: skip
    views = {k: v[k] for k in ("host", "path", "ptok", "ua")} | {"scheme": np.where(t.host_http[v["host"]], 2, 1)}
    return lines, views


def _take(table: pa.Array, idx: np.ndarray) -> pa.Array:
    """``table[idx]`` as a pyarrow array."""
    return table.take(pa.array(idx))


def _text(x: np.ndarray) -> pa.Array:
    """Integers as decimal strings."""
    return pc.cast(pa.array(x), pa.string())


def _strings(c: dict[str, np.ndarray], v: dict[str, np.ndarray], t: _Tables) -> dict[str, pa.Array]:
    """The costly string columns of a chunk: time stamp, URL, and the quoted referer and user agent."""

    def url(s: dict[str, np.ndarray], tpl: str, tok: str) -> pa.Array:
        parts = (t.scheme, t.host, t.prefix, t.tokens, t.suffix)
        return pc.binary_join_element_wise(*map(_take, parts, (s["scheme"], s["host"], s[tpl], s[tok], s[tpl])), "")

    # '"referer" "user agent"\n': per view (sub-requests name their page), else from a small table
    tails = pa.concat_arrays([
        pc.binary_join_element_wise('"', url(v, "path", "ptok"), '" ', _take(t.ua, v["ua"]), ""),
        t.tails,
    ])  # fmt: skip
    tail = np.where(c["ref"] < 0, c["view"], len(v["ua"]) + np.maximum(c["ref"], 0) * len(t.ua) + c["ua"])
    return {
        "ts": pc.utf8_replace_slice(_text(c["t"]), 10, 10, "."),  # 13-digit epoch ms -> seconds.millis
        "url": url(c, "tpl", "tok"),
        "tail": _take(tails, tail),
    }


def _emit(
    out: BinaryIO, c: dict[str, np.ndarray], s: dict[str, pa.Array], t: _Tables, planted: list[tuple[int, str]]
) -> None:
    """Join a chunk's columns into Squid native lines and write them, the ``planted`` lines merged in by time."""
    if not c:
        out.write("".join(text for _, text in planted).encode())
        return
    lines = pc.binary_join_element_wise(
        s["ts"],
        pc.utf8_lpad(_text(c["ms"]), 6, " "),
        _take(t.ip, c["slot"]),
        _take(t.code, c["code"]),
        _text(c["bytes"]),
        _take(t.method, c["method"]),
        s["url"],
        _take(t.user, c["user"]),
        _take(t.hier, np.where(_CODE_DIRECT[c["code"]], c["host"] + 1, 0)),
        _take(t.mime, c["mime"]),
        s["tail"],
        " ",
    )
    times = c["t"]
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    buf = memoryview(lines.buffers()[2])
    prev = 0
    positions = np.searchsorted(times, [p[0] for p in planted], side="right").tolist()
    for pos, (_, text) in zip(positions, planted, strict=True):
        out.write(buf[offsets[prev] : offsets[pos]])
        out.write(text.encode())
        prev = pos
    out.write(buf[offsets[prev] : offsets[-1]])


# --- entry point ----------------------------------------------------------------------------


def generate_day(
    out_dir: Path,
    *,
    lines: int = 50_000,
    day: date = date(2026, 11, 18),
    seed: int = 7,
    users: int = 600,
    timezone: str = "Europe/London",
) -> DemoDay:
    """Write a synthetic school day into ``out_dir``: access.log, ip_map.csv, groups.csv, planted.json.

    The log has exactly ``lines`` lines, sorted by time, and the same bytes for the same arguments.
    Working hours are those of the default site config (Mon-Fri 08:30-15:30 local, breaks
    10:30-10:50 and 12:10-13:00); ``day`` should be a weekday for the planted in-lesson
    behaviours to mean what ``planted.json`` says.
    """
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS} (got {users})")
    if day.weekday() >= 5:
        log.warning("%s is a weekend: the planted in-lesson behaviours fall outside working hours", day)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 0])
    minute_ms = people.minute_ms(day, timezone)
    pop = people.population(rng, users, minute_ms)
    planted, key = planter.plant(pop, minute_ms, seed, day, timezone)
    if lines < len(planted) + 100:
        raise ValueError(f"lines must be at least {len(planted) + 100} (got {lines})")
    d = _background_day(rng, lines - len(planted), minute_ms, pop)
    cum = np.cumsum(d.counts)
    cuts = np.searchsorted(cum, np.arange(CHUNK_LINES, cum[-1], CHUNK_LINES), side="right") + 1
    bounds = sorted({0, 1440, *[int(c) for c in cuts if c < 1440]})
    day_end = int(minute_ms[-1]) + 60_000
    # one thread formats and writes a chunk while the caller's thread draws the next one
    with (out_dir / "access.log").open("wb") as out, ThreadPoolExecutor(1) as writer:
        pending: Future[None] | None = None
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            lo, hi = int(minute_ms[a]), int(minute_ms[b]) if b < 1440 else day_end
            mine = [p for p in planted if (a == 0 or p[0] >= lo) and (b == 1440 or p[0] < hi)]
            n = int(cum[b - 1] - (cum[a - 1] if a else 0))
            c, v = _chunk(np.random.default_rng([seed, 100 + k]), n, (a, b), (lo, hi), d) if n else ({}, {})
            strings = _strings(c, v, d.tables) if n else {}
            if pending is not None:
                pending.result()
            pending = writer.submit(_emit, out, c, strings, d.tables, mine)
            log.debug("chunk %d: local minutes %d-%d, %d lines", k, a, b, n)
        if pending is not None:
            pending.result()
    people.write_identity(pop, minute_ms, out_dir / "ip_map.csv", out_dir / "groups.csv")
    (out_dir / "planted.json").write_text(json.dumps(key, indent=2) + "\n")
    return DemoDay(out_dir / "access.log", out_dir / "ip_map.csv", out_dir / "groups.csv", out_dir / "planted.json",
                   lines, day)  # fmt: skip
