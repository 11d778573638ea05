"""Planting the demo's misuse: the Planter that writes a scenario's lines, and the casting of scenarios onto users.

The scenarios themselves (who does what, and the look-alike decoys) are in
:mod:`filterlog.demo.planted`; this module is the machinery that turns them
into log lines for ordinary users of the generated school and records the answer key.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

import numpy as np

from ..rules.model import RULE_IDS
from . import data, people, planted
from .data import forwarded, server_ip

MIN_USERS = 80
"""The planted scenarios need 43 distinct users, plus a background population."""


class Planter:
    """Writes planted lines one at a time, as one user on one device; scenarios call its methods."""

    def __init__(self, minute_ms: Sequence[int], seed: int) -> None:
        self.minute_ms = minute_ms
        """Epoch ms at the start of each local minute of the day."""
        self.rand = random.Random(seed)
        self.lines: list[tuple[int, str]] = []
        """(epoch ms, line) in the order written."""
        self.ip = self.user = self.ua = "-"

    def jitter(self, lo: float, hi: float) -> float:
        """Return a seeded uniform random number in [lo, hi)."""
        return self.rand.uniform(lo, hi)

    def get(self, at: float, url: str, nbytes: int, *, code: str = "TCP_MISS/200", mime: str = "text/html",
            elapsed: int | None = None, ref: str = "-", method: str = "GET", ua: str | None = None,
            anon: bool = False) -> None:  # fmt: skip
        """Log an HTTP(S) request that ended at ``at`` (local seconds after midnight)."""
        ms = int(self.jitter(40, 900)) if elapsed is None else elapsed
        mime = "-" if code.endswith(("/304", "/204")) else mime
        self._line(at, ms, code, nbytes, method, url, urlsplit(url).hostname or "", mime, ref, ua or self.ua, anon)

    def connect(self, at: float, hostport: str, nbytes: int, *, elapsed: int = 30_000, code: str = "TCP_TUNNEL/200",
                anon: bool = False) -> None:  # fmt: skip
        """Log a CONNECT tunnel that closed at ``at``."""
        mime = "text/html" if code.startswith("TCP_DENIED") else "-"
        self._line(at, elapsed, code, nbytes, "CONNECT", hostport, hostport.rsplit(":", 1)[0], mime, "-", self.ua, anon)

    def deny(self, at: float, target: str, *, method: str = "GET", ref: str = "-") -> None:
        """Log a request the filter blocked (TCP_DENIED/403, a block page)."""
        host = (urlsplit(target).hostname or "") if "://" in target else target.rsplit(":", 1)[0]
        self._line(at, int(self.jitter(0, 3)), "TCP_DENIED/403", int(self.jitter(3400, 4100)), method, target, host,
                   "text/html", ref, self.ua, False)  # fmt: skip

    def _line(self, at: float, ms: int, code: str, nbytes: int, method: str, url: str, host: str, mime: str,
              ref: str, ua: str, anon: bool) -> None:  # fmt: skip
        minute = min(int(at // 60), 1439)
        t = int(self.minute_ms[minute] + round((at - minute * 60) * 1000))
        hier = f"HIER_DIRECT/{server_ip(host)}" if forwarded(code) else "HIER_NONE/-"
        user = "-" if anon else self.user
        fields = f"{t // 1000}.{t % 1000:03d} {ms:6d} {self.ip} {code} {nbytes} {method} {url} {user} {hier} {mime}"
        self.lines.append((t, f'{fields} "{ref}" "{ua}"\n'))


def plant(
    pop: people.Population, minute_ms: np.ndarray, seed: int, day: date, tz: str
) -> tuple[list[tuple[int, str]], dict]:
    """Play each planted scenario with its own ordinary user; return the lines (by time) and the answer key."""
    order = np.random.default_rng([seed, 2]).permutation(len(pop.slot_ip))
    windows = np.array([data.DEVICE_KINDS[k][2] for k in pop.slot_kind])[order]
    free = (pop.slot_user_a == pop.slot_user_b)[order]  # not a shared device
    role = pop.slot_staff[order]
    # first choice: same role on a Windows device; then same role; then anyone on an unshared device
    ranked = {s: [*order[free & (role == s) & windows], *order[free & (role == s)], *order[free]] for s in (1, 0)}
    used: set[int] = set()
    planter = Planter(minute_ms.tolist(), seed)
    rules: dict[str, dict[str, list[dict]]] = {r: {"planted": [], "decoys": []} for r in RULE_IDS}
    for spec in planted.PLANTED:
        slot = next((int(s) for s in ranked[int(spec.staff)] if int(s) not in used), None)
        if slot is None:
            raise ValueError(f"too few users for the planted scenarios (need {MIN_USERS})")
        used.add(slot)
        user = pop.slot_user_a[slot]
        planter.ip, planter.user = pop.slot_ip[slot], pop.names[user]
        planter.ua = data.DEVICE_KINDS[pop.slot_kind[slot]][1]
        first = len(planter.lines)
        spec.scenario(planter)
        times = [ms for ms, _ in planter.lines[first:]]
        rules[spec.rule]["planted" if spec.role == "planted" else "decoys"].append({
            "user": pop.names[user], "ip": pop.slot_ip[slot], "group": pop.groups[user], "what": spec.what,
            "start": people.iso(min(times)), "end": people.iso(max(times)), "lines": len(times),
        })  # fmt: skip
    planter.lines.sort(key=lambda p: p[0])
    return planter.lines, {"day": day.isoformat(), "timezone": tz, "rules": rules}
