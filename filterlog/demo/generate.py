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
generator draws from (sites, user agents, the planted scenarios) live in ``data``; the
background's columns are drawn in ``background`` from the arrays in ``tables``.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import background, people, planter
from .planter import MIN_USERS
from .tables import CODE_DIRECT, Tables

__all__ = ["DemoDay", "generate_day"]

log = logging.getLogger(__name__)

CHUNK_LINES = 250_000
"""Background lines built and written per step; bounds memory to a few hundred MB."""


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


# --- writing --------------------------------------------------------------------------------


def _take(table: pa.Array, idx: np.ndarray) -> pa.Array:
    """``table[idx]`` as a pyarrow array."""
    return table.take(pa.array(idx))


def _text(x: np.ndarray) -> pa.Array:
    """Integers as decimal strings."""
    return pc.cast(pa.array(x), pa.string())


def _strings(c: dict[str, np.ndarray], v: dict[str, np.ndarray], t: Tables) -> dict[str, pa.Array]:
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
    out: BinaryIO, c: dict[str, np.ndarray], s: dict[str, pa.Array], t: Tables, planted: list[tuple[int, str]]
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
        _take(t.hier, np.where(CODE_DIRECT[c["code"]], c["host"] + 1, 0)),
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
    tail_sites: int = 0,
) -> DemoDay:
    """Write a synthetic school day into ``out_dir``: access.log, ip_map.csv, groups.csv, planted.json.

    The log has exactly ``lines`` lines, sorted by time, and the same bytes for the same arguments.
    Working hours are those of the default site config (Mon-Fri 08:30-15:30 local, breaks
    10:30-10:50 and 12:10-13:00); ``day`` should be a weekday for the planted in-lesson
    behaviours to mean what ``planted.json`` says. ``tail_sites`` adds that many small sites
    (``tail``): a real day's tens of thousands of hosts, for benchmarks; without them the
    day has the demo's few hundred.
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
    d = background.plan(rng, lines - len(planted), minute_ms, pop, tail_sites)
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
            c, v = background.chunk(np.random.default_rng([seed, 100 + k]), n, (a, b), (lo, hi), d) if n else ({}, {})
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
