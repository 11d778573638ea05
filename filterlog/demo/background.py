"""Background traffic for a demo day: who browses when, and the lines each page view makes.

Lines are drawn as views (a page with its sub-requests, a tunnel, an OS update, an app's
407 challenges) so that timing, referers and blocked adverts cluster the way real proxy
logs do. Everything is integer columns for :mod:`filterlog.demo.generate` to turn into text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import data, people, tail
from .tables import CODE_DIRECT, CODE_INDEX, Tables, cumulative

_REF_LINES_PER_USER = 3_000
"""Above this many lines per user, per-line byte sizes shrink so daily volumes stay real."""

# view types: a page view with sub-requests, HTTPS tunnels, a system service, an OS update,
# an unattended app's 407 challenges, and a storm of them
_VT_HTTP, _VT_CONNECT, _VT_SYSTEM, _VT_UPDATE, _VT_AUTH, _VT_STORM = range(6)
_VT_GAP_MS = np.array([220.0, 150.0, 150.0, 25e3, 800.0, 2.5e3])  # mean gap between a view's lines


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indices drawn from a cumulative distribution by uniforms ``u``."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


@dataclass
class Day:
    """Everything the background chunks share."""

    minute_ms: np.ndarray
    counts: np.ndarray  # background lines per local minute
    p_staff: np.ndarray  # per minute: share of views by staff
    p_device: np.ndarray  # per minute: share of views by unattended devices
    lessons: np.ndarray  # per minute: inside a lesson (non-business sites get no weight)
    pop: people.Population
    tables: Tables
    byte_scale: float
    pupil_slots: np.ndarray
    pupil_cdf: np.ndarray
    staff_slots: np.ndarray
    staff_cdf: np.ndarray
    windows_slots: np.ndarray


def plan(
    rng: np.random.Generator, n_lines: int, minute_ms: np.ndarray, pop: people.Population, tail_sites: int = 0
) -> Day:
    """Spread ``n_lines`` background lines over the minutes of the day, by who is in school.

    ``tail_sites``: small sites beside the curated ones (``tail``), for benchmarks.
    """
    staff = pop.slot_staff
    pupil_w = people.curve(data.PUPIL_CURVE) * (~staff).sum()
    staff_w = people.curve(data.STAFF_CURVE) * staff.sum() * 1.6
    device_w = np.full(1440, 0.03 * (pupil_w.sum() + staff_w.sum()) / 1440)
    total = pupil_w + staff_w + device_w
    windows = np.array([data.DEVICE_KINDS[k][2] for k in pop.slot_kind])
    pupil_slots, staff_slots = np.flatnonzero(~staff), np.flatnonzero(staff)
    return Day(
        minute_ms=minute_ms,
        counts=rng.multinomial(n_lines, total / total.sum()),
        p_staff=staff_w / total,
        p_device=device_w / total,
        lessons=people.lesson_mask(),
        pop=pop,
        tables=Tables(rng, pop, data.SITES + tail.sites(tail_sites, data.SITES)),
        byte_scale=min(1.0, _REF_LINES_PER_USER * len(pop.names) / max(n_lines, 1)),
        pupil_slots=pupil_slots,
        pupil_cdf=cumulative(pop.slot_weight[pupil_slots]),
        staff_slots=staff_slots,
        staff_cdf=cumulative(pop.slot_weight[staff_slots]),
        windows_slots=np.flatnonzero(windows),
    )


def _views(rng: np.random.Generator, n: int, a: int, cdf: np.ndarray, d: Day) -> dict[str, np.ndarray]:
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


def chunk(
    rng: np.random.Generator, n: int, minutes: tuple[int, int], span: tuple[int, int], d: Day
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-line and per-view columns for ``n`` background lines in local ``minutes``, sorted by time."""
    t = d.tables
    cdf = cumulative(d.counts[minutes[0] : minutes[1]])
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
    code[sub & ~tunnel & t.host_blockable[host] & (rng.random(n) < 0.5)] = CODE_INDEX["TCP_DENIED/403"]
    code[(eff == -1) | (vt >= _VT_AUTH)] = CODE_INDEX["TCP_DENIED/407"]
    size = np.exp(np.log(t.kind_bytes[kind, 0]) + t.kind_bytes[kind, 1] * rng.standard_normal(n))
    size = np.minimum(size, t.kind_bytes[kind, 2]) * d.byte_scale + 200
    lo, hi = t.code_fixed[code, 0], t.code_fixed[code, 1]
    size = np.where(lo >= 0, lo + rng.integers(0, 1 << 30, n) % np.maximum(hi - lo, 1), size).astype(np.int64)
    ms = np.exp(np.log(t.kind_ms[kind, 0]) + t.kind_ms[kind, 1] * rng.standard_normal(n))
    cap = np.where(tunnel & t.host_long[host], 3 * 3600e3, np.where(t.host_nonbiz[host], 240e3, t.kind_ms[kind, 2]))
    ms = np.where(CODE_DIRECT[code], np.minimum(ms, cap), rng.integers(0, 4, n)).astype(np.int64)
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
        "user": np.where(code == CODE_INDEX["TCP_DENIED/407"], 0, v["user"][view]),
        "mime": np.where(t.code_mime[code] >= 0, t.code_mime[code], t.tpl_mime[tpl]),
        "ua": v["ua"][view],
        "ref": np.where(sub & ~tunnel, -1, np.where(page & (rng.random(n) < 0.4), rng.integers(1, 4, n), 0)),
        "view": view,
        "scheme": np.where(tunnel, 0, np.where(t.host_http[host], 2, 1)),
    }  # fmt: skip
    views = {k: v[k] for k in ("host", "path", "ptok", "ua")} | {"scheme": np.where(t.host_http[v["host"]], 2, 1)}
    return lines, views
