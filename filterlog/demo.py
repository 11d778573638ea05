"""A synthetic school day of proxy logs, so filterlog can be shown, tested and benchmarked.

Real school logs cannot leave the school, yet every part of filterlog (readers, rules,
reports, benchmarks) needs a realistic day to work on. :func:`generate_day` writes one: a
Squid native ``access.log`` (with the common trailing referer and user-agent fields) for a few
hundred staff and pupils, the identity files a school would export (a DHCP ``ip_map.csv`` and
``groups.csv``), and ``planted.json``, an answer key naming the users who misbehave in ways
each built-in rule should catch and the look-alike decoys it must not flag.

Background traffic is built column-wise with numpy and joined into lines with pyarrow compute
kernels, about a million lines at a time, so tens of millions of lines take seconds and
bounded memory. Only the few hundred planted lines are formatted one by one. The tables the
generator draws from (sites, user agents, the planted scenarios) live in ``_demo_data``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filterlog import _demo_data as data

__all__ = ["DemoDay", "generate_day"]

log = logging.getLogger(__name__)

CHUNK_LINES = 1_000_000
"""Background lines built and written per step (bounds memory to a few hundred MB)."""
MIN_USERS = 80
"""The planted scenarios need about 45 distinct users plus a background population."""
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

_PUPIL_CURVE = (
    ("00:00", 0),
    ("07:40", 0),
    ("08:10", 0.25),
    ("08:25", 0.9),
    ("08:30", 1),
    ("10:28", 1),
    ("10:31", 0.75),
    ("10:49", 0.75),
    ("10:52", 1),
    ("12:08", 1),
    ("12:11", 1.4),
    ("12:58", 1.4),
    ("13:01", 1),
    ("15:28", 1),
    ("15:32", 0.45),
    ("16:30", 0.2),
    ("17:15", 0.04),
    ("18:00", 0),
    ("23:59", 0),
)
_STAFF_CURVE = (
    ("00:00", 0),
    ("06:45", 0),
    ("07:30", 0.6),
    ("08:15", 1),
    ("12:10", 1.15),
    ("13:00", 1.15),
    ("15:30", 1),
    ("16:30", 0.8),
    ("17:30", 0.35),
    ("18:30", 0.08),
    ("20:00", 0.02),
    ("22:00", 0),
    ("23:59", 0),
)
_LESSONS = (("08:30", "10:30"), ("10:50", "12:10"), ("13:00", "15:30"))


def _curve(points: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Piecewise-linear activity level for each of the 1440 minutes of a day."""
    xs = [data.hms(t) / 60 for t, _ in points]
    return np.interp(np.arange(1440), xs, [w for _, w in points])


def _minute_ms(day: date, tz: str) -> np.ndarray:
    """Epoch milliseconds at the start of each local minute of ``day`` (DST-aware)."""
    zone = ZoneInfo(tz)
    return np.array(
        [int(datetime.combine(day, time(m // 60, m % 60), tzinfo=zone).timestamp()) * 1000 for m in range(1440)],
        dtype=np.int64,
    )


def _lesson_mask() -> np.ndarray:
    """True for minutes inside lessons, widened by a minute so spill-over stays outside."""
    mask = np.zeros(1440, dtype=bool)
    for start, end in _LESSONS:
        mask[int(data.hms(start) // 60) - 1 : int(data.hms(end) // 60) + 1] = True
    return mask


def _iso(ms: int) -> str:
    """ISO-8601 UTC text for epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _server_ip(host: str) -> str:
    """A stable, public-looking server address for ``host`` (or the host if it is an IP)."""
    if host.replace(".", "").isdigit():
        return host
    h = hashlib.blake2b(host.encode(), digest_size=4).digest()
    first = (13, 20, 23, 34, 35, 52, 104, 142, 151, 157, 172, 185, 199, 216)[h[0] % 14]
    return f"{first}.{h[1] % 200 + 16}.{h[2]}.{h[3] % 253 + 1}"


# --- population -----------------------------------------------------------------------------


@dataclass
class _Population:
    """Users, their devices and DHCP addresses; one slot is one device / IP address."""

    names: list[str]  # index 0 is "-"
    groups: list[str]  # parallel to names
    slot_ip: list[str]
    slot_device: list[str]
    slot_kind: np.ndarray  # index into data.DEVICE_KINDS
    slot_staff: np.ndarray  # bool
    slot_weight: np.ndarray  # relative activity
    slot_user_a: np.ndarray  # user index (names)
    slot_user_b: np.ndarray  # user index after the swap (same as a unless shared)
    slot_swap_ms: np.ndarray  # epoch ms when the device changes hands (int64 max if never)


def _population(rng: np.random.Generator, users: int, minute_ms: np.ndarray) -> _Population:
    """Draw staff and pupils, give each a device and a DHCP address; a few devices are shared."""
    n_staff = max(8, round(users * 0.12))
    years = rng.choice(len(data.YEAR_GROUPS), users - n_staff, p=np.array(data.YEAR_WEIGHTS) / sum(data.YEAR_WEIGHTS))
    names, groups, seen = ["-"], ["-"], {"-"}
    for i in range(users):
        first = data.FIRST_NAMES[rng.integers(len(data.FIRST_NAMES))]
        last = data.SURNAMES[rng.integers(len(data.SURNAMES))]
        if i < n_staff:
            base, group = f"{first[0]}.{last}", "staff"
        else:
            yr = int(years[i - n_staff])
            base, group = f"y{yr + 7}.{first[0]}{last}", data.YEAR_GROUPS[yr]
        name, k = base, 1
        while name in seen:
            k += 1
            name = f"{base}{k}"
        seen.add(name)
        names.append(name)
        groups.append(group)
    n_shared = max(2, users // 150)
    pupils = np.arange(n_staff + 1, users + 1)
    b_users = rng.choice(pupils, n_shared, replace=False)
    slot_users = np.setdiff1d(np.arange(1, users + 1), b_users)
    n = len(slot_users)
    staff = slot_users <= n_staff
    kinds = np.where(
        staff,
        rng.choice(len(data.DEVICE_KINDS), n, p=data.STAFF_DEVICE_WEIGHTS),
        rng.choice(len(data.DEVICE_KINDS), n, p=data.PUPIL_DEVICE_WEIGHTS),
    )
    shared = rng.choice(np.flatnonzero(~staff), n_shared, replace=False)
    kinds[shared] = 0
    user_b = slot_users.copy()
    user_b[shared] = b_users
    swap = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    swap[shared] = minute_ms[rng.integers(690, 810, n_shared)] + rng.integers(0, 60_000, n_shared)
    addr = rng.choice(64 * 253, n, replace=False)
    rooms = ("S1", "S4", "S7", "H2", "M3", "IT1", "IT2", "E5", "G1", "A2")
    devices = []
    for i, k in enumerate(kinds):
        prefix = data.DEVICE_KINDS[k][0]
        if i in set(shared.tolist()):
            devices.append(f"PC-LIB-{i % 97:02d}")
        elif prefix == "PC":
            devices.append(f"PC-{rooms[i % len(rooms)]}-{i % 89:02d}")
        else:
            devices.append(f"{prefix}-{i:04d}")
    return _Population(
        names=names,
        groups=groups,
        slot_ip=[f"10.20.{a // 253}.{a % 253 + 1}" for a in addr.tolist()],
        slot_device=devices,
        slot_kind=kinds,
        slot_staff=staff,
        slot_weight=rng.gamma(3.0, 1.0, n),
        slot_user_a=slot_users,
        slot_user_b=user_b,
        slot_swap_ms=swap,
    )


# --- string tables --------------------------------------------------------------------------

_CODES = (
    "TCP_MISS/200",
    "TCP_HIT/200",
    "TCP_MEM_HIT/200",
    "TCP_REFRESH_UNMODIFIED/304",
    "TCP_IMS_HIT/304",
    "TCP_MISS/304",
    "TCP_MISS/204",
    "TCP_MISS/302",
    "TCP_MISS/404",
    "TCP_MISS_ABORTED/000",
    "TCP_MISS/206",
    "TCP_REFRESH_MODIFIED/200",
    "TCP_MISS/500",
    "TCP_TUNNEL/200",
    "NONE/503",
    "TCP_DENIED/403",
    "TCP_DENIED/407",
)
_C = {c: i for i, c in enumerate(_CODES)}
_CODE_DIRECT = np.array([not c.startswith(("TCP_HIT", "TCP_MEM", "TCP_IMS", "TCP_DENIED", "NONE")) for c in _CODES])
# per kind: code probabilities; bytes (median, sigma, cap); elapsed ms (median, sigma, cap)
_STATIC = {
    "TCP_MISS/200": 0.5,
    "TCP_HIT/200": 0.15,
    "TCP_MEM_HIT/200": 0.1,
    "TCP_REFRESH_UNMODIFIED/304": 0.08,
    "TCP_IMS_HIT/304": 0.06,
    "TCP_MISS/304": 0.08,
    "TCP_MISS/404": 0.01,
    "TCP_REFRESH_MODIFIED/200": 0.02,
}
_KIND_STATS: dict[str, tuple[dict[str, float], tuple[float, float, float], tuple[float, ...]]] = {
    "page": (
        {
            "TCP_MISS/200": 0.86,
            "TCP_MISS/302": 0.05,
            "TCP_MISS/304": 0.03,
            "TCP_REFRESH_UNMODIFIED/304": 0.02,
            "TCP_MISS/404": 0.01,
            "TCP_MISS_ABORTED/000": 0.005,
            "TCP_REFRESH_MODIFIED/200": 0.015,
            "TCP_MISS/500": 0.01,
        },
        (35e3, 0.8, 2e6),
        (180, 0.9, 30e3),
    ),
    "script": (_STATIC, (40e3, 1.0, 3e6), (60, 1.0, 20e3)),
    "style": (_STATIC, (18e3, 0.9, 1e6), (50, 1.0, 20e3)),
    "image": (_STATIC, (20e3, 1.2, 5e6), (45, 1.1, 20e3)),
    "font": (_STATIC, (35e3, 0.5, 3e5), (40, 0.8, 10e3)),
    "json": (
        {"TCP_MISS/200": 0.91, "TCP_MISS/204": 0.04, "TCP_MISS/304": 0.03, "TCP_MISS/404": 0.01, "TCP_MISS/500": 0.01},
        (2.5e3, 1.2, 5e5),
        (90, 0.9, 30e3),
    ),
    "beacon": ({"TCP_MISS/204": 0.55, "TCP_MISS/200": 0.45}, (420, 0.3, 3e3), (30, 0.6, 5e3)),
    "media": (
        {"TCP_MISS/206": 0.72, "TCP_MISS/200": 0.26, "TCP_MISS_ABORTED/000": 0.02},
        (1.2e6, 0.7, 8e6),
        (700, 0.8, 30e3),
    ),
    "update": (
        {"TCP_MISS/206": 0.45, "TCP_MISS/200": 0.3, "TCP_HIT/200": 0.2, "TCP_REFRESH_UNMODIFIED/304": 0.05},
        (1.2e6, 1.3, 150e6),
        (3000, 1.2, 600e3),
    ),
    "connect": ({"TCP_TUNNEL/200": 0.993, "NONE/503": 0.007}, (30e3, 1.6, 40e6), (12e3, 1.5, 1.5e6)),
}
_FIXED_BYTES = {
    "/304": (180, 420),
    "/204": (250, 350),
    "/302": (300, 900),
    "/404": (400, 3000),
    "/000": (0, 1),
    "/403": (3400, 4100),
    "/407": (3900, 4200),
    "/503": (3800, 4200),
    "/500": (900, 4000),
}
_DASH_MIME = ("/304", "/204", "/000")
_HTML_MIME = ("/302", "/404", "/403", "/407", "/503", "/500")
_VT_HTTP, _VT_CONNECT, _VT_SYSTEM, _VT_UPDATE, _VT_AUTH, _VT_STORM = range(6)


class _Tables:
    """Every string the background draws from, as pyarrow arrays, plus index arithmetic."""

    def __init__(self, rng: np.random.Generator, pop: _Population) -> None:
        """Flatten the ``_demo_data`` tables into arrays indexed by small integers."""
        hosts: dict[str, int] = {}

        def hid(h: str) -> int:
            return hosts.setdefault(h, len(hosts))

        tpl: list[tuple[str, str, str, str]] = []
        tpl_id: dict[tuple[str, str, str, str], int] = {}

        def tid(t: tuple[str, str, str, str]) -> int:
            pre, suf, kind, mime = t
            if "{id}" in pre:
                pre, rest = pre.split("{id}", 1)
                suf = rest.replace("{id}", _token(rng)) + suf
                t = (pre + "{id}", suf, kind, mime)
            return tpl_id.setdefault(t, len(tpl_id)) if t in tpl_id or not tpl.append(t) else 0

        self.connect_tpl = tid((":443", "", "connect", "-"))
        sites = data.SITES
        self.site_work = np.array([s.work for s in sites], dtype=float)
        self.site_free = np.array([s.free for s in sites], dtype=float)
        self.site_ads = np.array([s.ads for s in sites])
        self.site_pages = _Groups([[hid(h) for h in s.pages] for s in sites])
        self.site_assets = _Groups([[hid(h) for h in s.assets] or [hid(s.pages[0])] for s in sites])
        self.site_has_assets = np.array([bool(s.assets) for s in sites])
        self.site_paths = _Groups([[tid((p, "", "page", "text/html")) for p in s.paths] for s in sites])
        generic = [tid(t) for t in data.GENERIC_ASSETS]
        groups = [(generic, list(data.GENERIC_ASSET_WEIGHTS))]
        host_group: dict[int, int] = {}
        for h, temps in data.HOST_TEMPLATES.items():
            host_group[hid(h)] = len(groups)
            groups.append(([tid(t) for t in temps], [1.0] * len(temps)))
        third = data.THIRD_PARTIES
        self.third = np.array([hid(h) for h, _, _ in third])
        w = np.array([w for _, w, _ in third])
        blockable = np.array([b for _, _, b in third])
        self.third_cdf_ads = np.cumsum(w) / w.sum()
        w_plain = np.where(blockable, 0.0, w)
        self.third_cdf_plain = np.cumsum(w_plain) / w_plain.sum()
        self.system = np.array([hid(h) for h in data.SYSTEM_HOSTS])
        self.update = np.array([hid(h) for h in data.UPDATE_HOSTS])
        self.storm = np.array([hid(h) for h in data.STORM_HOSTS])
        names = list(hosts)
        self.n_hosts = len(names)
        self.host_group = np.zeros(self.n_hosts, dtype=np.int64)
        for h, g in host_group.items():
            self.host_group[h] = g
        self.host_blockable = np.isin(np.arange(self.n_hosts), self.third[blockable])
        self.host_http = np.array([h in data.HTTP_ONLY_HOSTS for h in names])
        self.host_long = np.array([h in data.LONG_TUNNEL_HOSTS for h in names])
        nonbiz = {h for s in sites if s.work == 0 for h in (*s.pages, *s.assets)}
        self.host_nonbiz = np.array([h in nonbiz for h in names])
        self.group_tpl = np.concatenate([np.array(t) for t, _ in groups])
        self.group_bound = np.concatenate([g + np.cumsum(w) / np.sum(w) for g, (_, w) in enumerate(groups)])
        self.tpl_kind = np.array([data.KINDS.index(t[2]) for t in tpl])
        self.tpl_has_id = np.array([t[0].endswith("{id}") for t in tpl])
        self.tpl_mime = np.array([t[3] for t in tpl])
        mimes = sorted({*self.tpl_mime.tolist(), "-", "text/html"})
        self.mime = pa.array(mimes)
        self.tpl_mime_idx = np.searchsorted(mimes, self.tpl_mime)
        self.mime_dash, self.mime_html = mimes.index("-"), mimes.index("text/html")
        self.prefix = pa.array([t[0].removesuffix("{id}") for t in tpl])
        self.suffix = pa.array([t[1] for t in tpl])
        self.host = pa.array(names)
        self.hier = pa.array(["HIER_NONE/-"] + [f"HIER_DIRECT/{_server_ip(h)}" for h in names])
        self.scheme = pa.array(["", "https://", "http://"])
        self.tokens = pa.array([""] + [_token(rng) for _ in range(4095)])
        self.code = pa.array(_CODES)
        self.method = pa.array(["GET", "POST", "CONNECT", "HEAD", "PUT"])
        self.referer = pa.array(
            [
                "-",
                "https://www.google.com/",
                "https://classroom.google.com/",
                "https://www.bing.com/",
                f"https://www.{data.SCHOOL_DOMAIN}/",
            ]
        )
        self.user = pa.array(pop.names)
        self.ip = pa.array(pop.slot_ip)
        uas = [k[1] for k in data.DEVICE_KINDS] + list(data.OS_UPDATE_UAS) + list(data.APP_UAS)
        self.ua = pa.array([f'"{u}"\n' for u in uas])
        self.n_device_uas = len(data.DEVICE_KINDS)
        kinds = data.KINDS
        self.kind_code_bound = np.concatenate(
            [
                k + np.cumsum(list(_KIND_STATS[n][0].values())) / sum(_KIND_STATS[n][0].values())
                for k, n in enumerate(kinds)
            ]
        )
        self.kind_code = np.concatenate([[_C[c] for c in _KIND_STATS[n][0]] for n in kinds])
        self.kind_bytes = np.array([_KIND_STATS[n][1] for n in kinds])
        self.kind_ms = np.array([_KIND_STATS[n][2] for n in kinds])
        fixed = np.full((len(_CODES), 2), -1, dtype=np.int64)
        mime_fix = np.full(len(_CODES), -1, dtype=np.int64)
        for i, c in enumerate(_CODES):
            for suffix, span in _FIXED_BYTES.items():
                if c.endswith(suffix):
                    fixed[i] = span
            mime_fix[i] = self.mime_dash if c.endswith(_DASH_MIME) else self.mime_html if c.endswith(_HTML_MIME) else -1
        self.code_fixed_bytes, self.code_mime = fixed, mime_fix


def _token(rng: np.random.Generator) -> str:
    """A random lower-case id of 6-16 characters, like those in real URLs."""
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))
    return "".join(alphabet[rng.integers(0, 36, int(rng.integers(6, 17)))])


class _Groups:
    """Ragged lists of ints, for drawing one member of group ``g`` uniformly, vectorised."""

    def __init__(self, groups: list[list[int]]) -> None:
        """Flatten ``groups``."""
        self.count = np.array([len(g) for g in groups])
        self.offset = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        self.flat = np.array([x for g in groups for x in g])

    def draw(self, g: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One member of each group ``g``, chosen by uniforms ``u`` in [0, 1)."""
        return self.flat[self.offset[g] + (u * self.count[g]).astype(np.int64)]


def _cdf_draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn from a cumulative distribution."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


# --- background -----------------------------------------------------------------------------


@dataclass
class _Day:
    """Everything the background chunks share."""

    minute_ms: np.ndarray
    counts: np.ndarray  # background lines per minute
    p_staff: np.ndarray  # per minute: share of views by staff
    p_device: np.ndarray  # per minute: share of views by unattended devices
    lessons: np.ndarray  # per minute: inside a lesson (non-business weight 0)
    pop: _Population
    tables: _Tables
    byte_scale: float
    pupil_cdf: np.ndarray
    staff_cdf: np.ndarray
    pupil_slots: np.ndarray
    staff_slots: np.ndarray
    windows_slots: np.ndarray


def _views(rng: np.random.Generator, n: int, a: int, cdf: np.ndarray, d: _Day) -> dict:
    """Draw ``n`` page views (or tunnels, updates, auth challenges) in minutes ``a``..."""
    t = d.tables
    minute = a + _cdf_draw(cdf, rng.random(n))
    t0 = d.minute_ms[minute] + rng.integers(0, 60_000, n)
    u = rng.random(n)
    device = u < d.p_device[minute]
    staff = ~device & (u < d.p_device[minute] + d.p_staff[minute])
    r = rng.random(n)
    vtype = np.where(
        device,
        np.select([r < 0.5, r < 0.97], [_VT_UPDATE, _VT_AUTH], _VT_STORM),
        np.select([r < 0.52, r < 0.9], [_VT_HTTP, _VT_CONNECT], _VT_SYSTEM),
    )
    slot = np.where(
        staff,
        d.staff_slots[_cdf_draw(d.staff_cdf, rng.random(n))],
        d.pupil_slots[_cdf_draw(d.pupil_cdf, rng.random(n))],
    )
    slot = np.where(device, d.windows_slots[rng.integers(0, len(d.windows_slots), n)], slot)
    pop = d.pop
    user = np.where(t0 < pop.slot_swap_ms[slot], pop.slot_user_a[slot], pop.slot_user_b[slot])
    user = np.where(device, 0, user)
    lesson = d.lessons[minute]
    site = np.where(
        lesson,
        _cdf_draw(np.cumsum(t.site_work) / t.site_work.sum(), rng.random(n)),
        _cdf_draw(np.cumsum(t.site_free) / t.site_free.sum(), rng.random(n)),
    )
    host = t.site_pages.draw(site, rng.random(n))
    host = np.select(
        [vtype == _VT_SYSTEM, vtype == _VT_UPDATE, vtype >= _VT_AUTH],
        [
            t.system[rng.integers(0, len(t.system), n)],
            t.update[rng.integers(0, len(t.update), n)],
            t.storm[rng.integers(0, len(t.storm), n)],
        ],
        host,
    )
    size = np.select(
        [vtype == _VT_HTTP, vtype == _VT_CONNECT, vtype == _VT_UPDATE, vtype == _VT_AUTH, vtype == _VT_STORM],
        [
            1 + np.minimum(rng.negative_binomial(2, 2 / 8.5, n), 50),
            1 + rng.binomial(3, 0.35, n),
            1 + np.minimum(rng.geometric(0.4, n) - 1, 8),
            1 + rng.binomial(2, 0.3, n),
            rng.integers(20, 90, n),
        ],
        1,
    )
    has407 = (vtype <= _VT_CONNECT) & (rng.random(n) < 0.05)
    ua = np.select(
        [vtype == _VT_UPDATE, vtype >= _VT_AUTH],
        [t.n_device_uas + rng.integers(0, 3, n), t.n_device_uas + 3 + rng.integers(0, 3, n)],
        pop.slot_kind[slot],
    )
    return {
        "t0": t0,
        "vtype": vtype,
        "slot": slot,
        "user": user,
        "site": site,
        "host": host,
        "path": t.site_paths.draw(site, rng.random(n)),
        "size": size + has407,
        "has407": has407,
        "ua": ua,
    }


def _chunk(rng: np.random.Generator, n_lines: int, a: int, b: int, lo: int, hi: int, d: _Day) -> dict[str, np.ndarray]:
    """Numeric columns for ``n_lines`` background lines in local minutes [a, b), by time."""
    cdf = np.cumsum(d.counts[a:b]).astype(float)
    cdf /= cdf[-1]
    parts, got = [], 0
    while got < n_lines:
        v = _views(rng, int((n_lines - got) / 4.0) + 64, a, cdf, d)
        parts.append(v)
        got += int(v["size"].sum())
    v = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    ends = np.cumsum(v["size"])
    k = int(np.searchsorted(ends, n_lines))
    v = {key: col[: k + 1] for key, col in v.items()}
    v["size"][k] -= int(ends[k]) - n_lines
    t = d.tables
    view = np.repeat(np.arange(k + 1), v["size"])
    start = np.cumsum(v["size"]) - v["size"]
    n = n_lines
    eff = np.arange(n) - start[view] - v["has407"][view]  # -1: the 407 before the page
    vt, vhost, site = v["vtype"][view], v["host"][view], v["site"][view]
    sub = (vt <= _VT_CONNECT) & (eff >= 1)
    own = rng.random(n) < 0.68
    third_cdf = np.where(t.site_ads[site][:, None], t.third_cdf_ads, t.third_cdf_plain)
    third = t.third[np.minimum((rng.random(n)[:, None] > third_cdf).sum(1), len(t.third) - 1)]
    host = np.where(
        sub & own & t.site_has_assets[site], t.site_assets.draw(site, rng.random(n)), np.where(sub, third, vhost)
    )
    is_connect = (vt == _VT_CONNECT) | (vt == _VT_SYSTEM) | (vt >= _VT_AUTH)
    grp_tpl = t.group_tpl[np.searchsorted(t.group_bound, t.host_group[host] + rng.random(n), side="right")]
    tpl = np.where(is_connect, t.connect_tpl, np.where((vt == _VT_HTTP) & (eff <= 0), v["path"][view], grp_tpl))
    kind = t.tpl_kind[tpl]
    code = t.kind_code[np.searchsorted(t.kind_code_bound, kind + rng.random(n), side="right")]
    blocked = sub & (vt == _VT_HTTP) & t.host_blockable[host] & (rng.random(n) < 0.5)
    code[blocked] = _C["TCP_DENIED/403"]
    code[(eff == -1) | (vt >= _VT_AUTH)] = _C["TCP_DENIED/407"]
    mu = np.log(t.kind_bytes[kind, 0]) + t.kind_bytes[kind, 1] * rng.standard_normal(n)
    nbytes = np.minimum(np.exp(mu), t.kind_bytes[kind, 2]) * d.byte_scale + 200
    fixed = t.code_fixed_bytes[code]
    nbytes = np.where(
        fixed[:, 0] >= 0, rng.integers(0, 1 << 30, n) % np.maximum(fixed[:, 1] - fixed[:, 0], 1) + fixed[:, 0], nbytes
    ).astype(np.int64)
    ms = np.exp(np.log(t.kind_ms[kind, 0]) + t.kind_ms[kind, 1] * rng.standard_normal(n))
    cap = np.where(is_connect & t.host_long[host], 3 * 3600e3, np.where(t.host_nonbiz[host], 240e3, t.kind_ms[kind, 2]))
    ms = np.minimum(ms, cap)
    ms = np.where(_CODE_DIRECT[code], ms, rng.integers(0, 4, n)).astype(np.int64)
    method = np.where(is_connect, 2, np.where((kind == data.KINDS.index("json")) & (rng.random(n) < 0.4), 1, 0))
    mime = np.where(t.code_mime[code] >= 0, t.code_mime[code], t.tpl_mime_idx[tpl])
    scale = np.select(
        [vt == _VT_UPDATE, vt == _VT_STORM, vt == _VT_AUTH], [25e3, 2.5e3, 800], np.where(vt == _VT_CONNECT, 150, 220)
    )
    inc = np.where(eff >= 1, rng.exponential(1.0, n) * scale, 0.0)
    csum = np.cumsum(inc)
    off = csum - (csum - inc)[start][view] - np.where(eff == -1, rng.integers(20, 400, n), 0)
    time_ms = np.clip(v["t0"][view] + off.astype(np.int64), lo, hi - 1)
    page_line = start[view] + v["has407"][view]
    ref = np.where(
        sub & ~is_connect, -1, np.where((eff == 0) & (vt == _VT_HTTP) & (rng.random(n) < 0.4), rng.integers(1, 5, n), 0)
    )
    cols = {
        "t": time_ms,
        "ms": ms,
        "slot": v["slot"][view],
        "code": code,
        "bytes": nbytes,
        "method": method,
        "host": host,
        "tpl": tpl,
        "user": np.where(code == _C["TCP_DENIED/407"], 0, v["user"][view]),
        "mime": mime,
        "ua": v["ua"][view],
        "ref": ref,
        "page_line": page_line,
        "scheme": np.where(is_connect, 0, np.where(t.host_http[host], 2, 1)),
        "tok": np.where(t.tpl_has_id[tpl], rng.integers(1, len(t.tokens), n), 0),
    }
    order = np.argsort(time_ms, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(n)
    cols = {key: col[order] for key, col in cols.items()}
    cols["page_line"] = inverse[cols["page_line"]]
    return cols


def _format(c: dict[str, np.ndarray], t: _Tables) -> pa.StringArray:
    """Join numeric columns into Squid native lines (each ending in a newline)."""

    def take(table: pa.Array, idx: np.ndarray) -> pa.Array:
        return table.take(pa.array(idx))

    def text(x: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(x), pa.string())

    url = pc.binary_join_element_wise(
        take(t.scheme, c["scheme"]),
        take(t.host, c["host"]),
        take(t.prefix, c["tpl"]),
        take(t.tokens, c["tok"]),
        take(t.suffix, c["tpl"]),
        "",
    )
    ref = pc.if_else(
        pa.array(c["ref"] < 0), url.take(pa.array(c["page_line"])), take(t.referer, np.maximum(c["ref"], 0))
    )
    hier = np.where(_CODE_DIRECT[c["code"]], c["host"] + 1, 0)
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise(text(c["t"] // 1000), pc.utf8_lpad(text(c["t"] % 1000), 3, "0"), "."),
        pc.utf8_lpad(text(c["ms"]), 6, " "),
        take(t.ip, c["slot"]),
        take(t.code, c["code"]),
        text(c["bytes"]),
        take(t.method, c["method"]),
        url,
        take(t.user, c["user"]),
        take(t.hier, hier),
        take(t.mime, c["mime"]),
        pc.binary_join_element_wise('"', ref, '"', ""),
        take(t.ua, c["ua"]),
        " ",
    )


def _write(out: BinaryIO, lines: pa.StringArray, times: np.ndarray, planted: list[tuple[int, str]]) -> None:
    """Write background ``lines`` (sorted by ``times``) with ``planted`` merged in order."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    buf = memoryview(lines.buffers()[2])
    pos = np.searchsorted(times, [p[0] for p in planted], side="right")
    prev = 0
    for p, (_, text) in zip(pos.tolist(), planted, strict=True):
        out.write(buf[offsets[prev] : offsets[p]])
        out.write(text.encode())
        prev = p
    out.write(buf[offsets[prev] : offsets[-1]])


# --- planted scenarios ----------------------------------------------------------------------


class _Planter:
    """Formats planted lines one by one (implements ``_demo_data.Emitter``)."""

    def __init__(self, minute_ms: np.ndarray, seed: int) -> None:
        """Start with no lines; times are local seconds converted with ``minute_ms``."""
        self.minute_ms = minute_ms
        self.rand = random.Random(seed)
        self.lines: list[tuple[int, str]] = []
        self.ip = self.user = self.ua = "-"

    def bind(self, user: str, ip: str, ua: str) -> None:
        """Make following lines come from ``user`` at ``ip`` with browser ``ua``."""
        self.user, self.ip, self.ua = user, ip, ua

    def jitter(self, lo: float, hi: float) -> float:
        """Return a seeded uniform random number in [lo, hi)."""
        return self.rand.uniform(lo, hi)

    def _line(
        self,
        at: float,
        elapsed: int,
        code: str,
        nbytes: int,
        method: str,
        url: str,
        host: str,
        mime: str,
        ref: str,
        ua: str,
        anon: bool,
    ) -> None:
        minute = min(int(at // 60), 1439)
        ms = int(self.minute_ms[minute] + round((at - minute * 60) * 1000))
        direct = bool(_CODE_DIRECT[_C[code]]) if code in _C else not code.startswith("TCP_DEN")
        hier = f"HIER_DIRECT/{_server_ip(host)}" if direct else "HIER_NONE/-"
        user = "-" if anon else self.user
        self.lines.append(
            (
                ms,
                f"{ms // 1000}.{ms % 1000:03d} {elapsed:>6} {self.ip} {code} "
                f'{nbytes} {method} {url} {user} {hier} {mime} "{ref}" '
                f'"{ua}"\n',
            )
        )

    def get(
        self,
        at: float,
        url: str,
        nbytes: int,
        *,
        code: str = "TCP_MISS/200",
        mime: str = "text/html",
        elapsed: int | None = None,
        ref: str = "-",
        method: str = "GET",
        ua: str | None = None,
        anon: bool = False,
    ) -> None:
        """Log an HTTP(S) request that ended at ``at`` (local seconds of the day)."""
        mime = "-" if code.endswith(("/304", "/204")) else mime
        self._line(
            at,
            int(self.jitter(40, 900)) if elapsed is None else elapsed,
            code,
            nbytes,
            method,
            url,
            urlsplit(url).hostname or "",
            mime,
            ref,
            ua or self.ua,
            anon,
        )

    def connect(
        self,
        at: float,
        hostport: str,
        nbytes: int,
        *,
        elapsed: int = 30_000,
        code: str = "TCP_TUNNEL/200",
        anon: bool = False,
    ) -> None:
        """Log a CONNECT tunnel that closed at ``at``."""
        mime = "text/html" if code.startswith("TCP_DENIED") else "-"
        self._line(at, elapsed, code, nbytes, "CONNECT", hostport, hostport.rsplit(":", 1)[0], mime, "-", self.ua, anon)

    def deny(self, at: float, target: str, *, method: str = "GET", ref: str = "-") -> None:
        """Log a request the filter blocked (TCP_DENIED/403)."""
        host = urlsplit(target).hostname if "://" in target else target.rsplit(":", 1)[0]
        self._line(
            at,
            int(self.jitter(0, 3)),
            "TCP_DENIED/403",
            int(self.jitter(3400, 4100)),
            method,
            target,
            host or "",
            "text/html",
            ref,
            self.ua,
            False,
        )


def _plant(
    pop: _Population, minute_ms: np.ndarray, seed: int, day: date, tz: str
) -> tuple[list[tuple[int, str]], dict]:
    """Play every planted scenario with its own ordinary-looking user; return lines and key."""
    rng = np.random.default_rng([seed, 2])
    windows = np.array([data.DEVICE_KINDS[k][2] for k in pop.slot_kind])
    free = windows & (pop.slot_user_a == pop.slot_user_b)
    staff = rng.permutation(np.flatnonzero(free & pop.slot_staff)).tolist()
    pupils = rng.permutation(np.flatnonzero(free & ~pop.slot_staff)).tolist()
    planter = _Planter(minute_ms, seed)
    rules: dict[str, dict[str, list[dict]]] = {r: {"planted": [], "decoys": []} for r in data.RULE_IDS}
    for spec in data.PLANTED:
        slot = (staff if spec.staff and staff else pupils).pop()
        user = pop.names[pop.slot_user_a[slot]]
        planter.bind(user, pop.slot_ip[slot], data.DEVICE_KINDS[pop.slot_kind[slot]][1])
        first = len(planter.lines)
        spec.scenario(planter)
        times = [ms for ms, _ in planter.lines[first:]]
        rules[spec.rule]["planted" if spec.role == "planted" else "decoys"].append(
            {
                "user": user,
                "ip": pop.slot_ip[slot],
                "group": pop.groups[pop.slot_user_a[slot]],
                "what": spec.what,
                "start": _iso(min(times)),
                "end": _iso(max(times)),
                "lines": len(times),
            }
        )
    planter.lines.sort(key=lambda p: p[0])
    return planter.lines, {"day": day.isoformat(), "timezone": tz, "rules": rules}


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
    """Write a synthetic school day (log, ip_map, groups, planted answer key) into ``out_dir``.

    The log has exactly ``lines`` lines, sorted by time, and the same bytes for the same
    arguments. Working hours are those of the default site config (Mon-Fri 08:30-15:30 local,
    breaks 10:30-10:50 and 12:10-13:00); ``day`` should be a weekday for the planted
    in-lesson behaviours to mean what ``planted.json`` says.
    """
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS} (got {users})")
    if day.weekday() >= 5:
        log.warning("%s is a weekend: planted 'in lesson' behaviours fall outside working hours", day)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 0])
    minute_ms = _minute_ms(day, timezone)
    pop = _population(rng, users, minute_ms)
    planted, key = _plant(pop, minute_ms, seed, day, timezone)
    n_bg = lines - len(planted)
    if n_bg < 100:
        raise ValueError(f"lines must be at least {len(planted) + 100} (got {lines})")
    d = _background_day(rng, n_bg, minute_ms, pop, users, lines)
    log_path = out_dir / "access.log"
    bounds = _chunk_bounds(d.counts)
    with log_path.open("wb") as out:
        for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            lo = int(minute_ms[a]) if k else np.iinfo(np.int64).min // 2
            hi = int(minute_ms[b]) if b < 1440 else int(minute_ms[-1]) + 60_000
            mine = [p for p in planted if (k == 0 or p[0] >= lo) and (p[0] < hi or b == 1440)]
            cols = _chunk(
                np.random.default_rng([seed, 100 + k]),
                int(d.counts[a:b].sum()),
                a,
                b,
                max(lo, int(minute_ms[0])),
                hi,
                d,
            )
            _write(out, _format(cols, d.tables), cols["t"], mine)
            log.debug("chunk %d: minutes %d-%d, %d lines", k, a, b, len(cols["t"]))
    ip_map, groups, key_path = out_dir / "ip_map.csv", out_dir / "groups.csv", out_dir / "planted.json"
    _write_identity(pop, minute_ms, ip_map, groups)
    key_path.write_text(json.dumps(key, indent=2) + "\n")
    return DemoDay(log=log_path, ip_map=ip_map, groups=groups, planted=key_path, lines=lines, day=day)


def _background_day(
    rng: np.random.Generator, n_bg: int, minute_ms: np.ndarray, pop: _Population, users: int, lines: int
) -> _Day:
    """Spread ``n_bg`` background lines over the minutes of the day."""
    staff = pop.slot_staff
    pupil_w = _curve(_PUPIL_CURVE) * (~staff).sum()
    staff_w = _curve(_STAFF_CURVE) * staff.sum() * 1.6
    human = pupil_w.sum() + staff_w.sum()
    device_w = np.full(1440, 0.03 * human / 1440)
    total = pupil_w + staff_w + device_w
    counts = rng.multinomial(n_bg, total / total.sum())
    windows = np.array([data.DEVICE_KINDS[k][2] for k in pop.slot_kind])
    pupil_slots, staff_slots = np.flatnonzero(~staff), np.flatnonzero(staff)
    w = pop.slot_weight
    return _Day(
        minute_ms=minute_ms,
        counts=counts,
        p_staff=staff_w / total,
        p_device=device_w / total,
        lessons=_lesson_mask(),
        pop=pop,
        tables=_Tables(rng, pop),
        byte_scale=min(1.0, _REF_LINES_PER_USER * users / lines),
        pupil_cdf=np.cumsum(w[pupil_slots]) / w[pupil_slots].sum(),
        staff_cdf=np.cumsum(w[staff_slots]) / w[staff_slots].sum(),
        pupil_slots=pupil_slots,
        staff_slots=staff_slots,
        windows_slots=np.flatnonzero(windows),
    )


def _chunk_bounds(counts: np.ndarray) -> list[int]:
    """Minute boundaries splitting the day into chunks of about CHUNK_LINES lines."""
    cum = np.cumsum(counts)
    cuts = np.searchsorted(cum, np.arange(CHUNK_LINES, cum[-1], CHUNK_LINES), side="right")
    return sorted({0, *[int(c) + 1 for c in cuts if 0 < c + 1 < 1440], 1440})


def _write_identity(pop: _Population, minute_ms: np.ndarray, ip_map: Path, groups: Path) -> None:
    """Write the DHCP lease map and the group membership CSVs."""
    day_start, day_end = int(minute_ms[0]), int(minute_ms[-1]) + 60_000

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    rows = []
    for s, ip in enumerate(pop.slot_ip):
        a, b, swap = pop.slot_user_a[s], pop.slot_user_b[s], int(pop.slot_swap_ms[s])
        if a == b:
            rows.append((ip, pop.names[a], pop.slot_device[s], iso(day_start), iso(day_end)))
        else:
            rows.append((ip, pop.names[a], pop.slot_device[s], iso(day_start), iso(swap)))
            rows.append((ip, pop.names[b], pop.slot_device[s], iso(swap), iso(day_end)))
    rows.sort(key=lambda r: (tuple(int(x) for x in r[0].split(".")), r[3]))
    with ip_map.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("ip", "user", "device", "valid_from", "valid_to"))
        w.writerows(rows)
    with groups.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("user", "group"))
        w.writerows(sorted(zip(pop.names[1:], pop.groups[1:], strict=True)))


_ = timedelta  # kept for callers computing day bounds alongside DemoDay.day
