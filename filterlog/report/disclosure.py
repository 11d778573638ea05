"""Small-count suppression for reports that must name nobody: primary ``<5`` and secondary ``[c]``.

A count from 1 to 4 can point at a child, so it is shown as ``<5``; a table
whose rows and columns add up to published totals could give it back by
subtraction, so further counts are hidden as ``[c]`` until none can be
narrowed (see ``Disclosure``). The governors' report is the user; the rule is
kept apart so that any other anonymised report applies the same one.
"""

from __future__ import annotations

import itertools
import logging

log = logging.getLogger(__name__)

SMALL = 5
"""Counts from 1 to SMALL - 1 are never shown."""
HIDDEN_SMALL = "<5"
HIDDEN_OTHER = "[c]"
_BIG = 10**9
Key = tuple[str, ...]
Shown = int | str


class Disclosure:
    """A set of counts and the equations between them; decides which counts to hide."""

    def __init__(self) -> None:
        self.values: dict[Key, int] = {}
        self.lines: list[tuple[list[Key], Key]] = []
        self.hidden: dict[Key, str] = {}
        self.unprotected: list[Key] = []

    def add(self, key: Key, value: int) -> None:
        """A published count."""
        self.values[key] = int(value)

    def line(self, parts: list[Key], total: Key) -> None:
        """Published counts ``parts`` that add up to the published ``total``."""
        self.lines.append((parts, total))

    def protect(self) -> None:
        """Hide small counts, then further counts until no small count can be narrowed from what is shown."""
        self.hidden = {k: "small" for k, v in self.values.items() if 0 < v < SMALL}
        gave_up: set[Key] = set()
        while True:
            lo, hi = self._bounds(self.hidden)
            exposed = [k for k, how in self.hidden.items() if how == "small" and lo[k] >= hi[k]]
            exposed = [k for k in exposed if k not in gave_up]
            if not exposed:
                break
            target = exposed[0]
            picks = self._second(target)
            if not picks:
                gave_up.add(target)
                log.info("a small count could not be fully protected: %s", "/".join(target))
            for key in picks:
                self.hidden[key] = "other"
        self.unprotected = sorted(gave_up)

    def _second(self, target: Key) -> list[Key]:
        """What to hide next for ``target``: the smallest count (or pair) that makes it uncertain, else the smallest.

        Pairs matter because the same number is often published twice (a
        one-week term's week total is the grand total), so hiding one alone helps nothing.
        """
        near = {k for parts, total in self.lines if target in parts or target == total for k in (*parts, total)}
        shown = sorted((k for k in near if k not in self.hidden and self.values[k] > 0),
                       key=lambda k: (k == ("total",), self.values[k], k))  # fmt: skip
        for key in shown:
            if self._width({**self.hidden, key: "other"}, target) > 0:
                return [key]
        wider = {k for parts, total in self.lines if near & {*parts, total} for k in (*parts, total)}
        pairs = [
            (a, b) for a in shown for b in wider if b not in self.hidden and b != a and self.values[b] == self.values[a]
        ]
        pairs += list(itertools.combinations(shown[:16], 2))
        for a, b in sorted(
            pairs, key=lambda p: (p[0] == ("total",) or p[1] == ("total",), self.values[p[0]] + self.values[p[1]])
        ):
            if self._width({**self.hidden, a: "other", b: "other"}, target) > 0:
                return [a, b]
        return shown[:1]

    def _width(self, hidden: dict[Key, str], target: Key) -> int:
        lo, hi = self._bounds(hidden)
        return min(hi[target], SMALL - 1) - max(lo[target], 1)

    def _bounds(self, hidden: dict[Key, str]) -> tuple[dict[Key, int], dict[Key, int]]:
        """What a reader can work out about every count: propagate interval bounds through the equations."""
        lo, hi = {}, {}
        for key, value in self.values.items():
            how = hidden.get(key)
            lo[key], hi[key] = (value, value) if how is None else (1, SMALL - 1) if how == "small" else (SMALL, _BIG)
        for _ in range(50):
            changed = False
            for parts, total in self.lines:
                sum_lo, sum_hi = sum(lo[p] for p in parts), sum(hi[p] for p in parts)
                news = [(total, sum_lo, sum_hi)]
                news += [(p, lo[total] - (sum_hi - hi[p]), hi[total] - (sum_lo - lo[p])) for p in parts]
                for key, new_lo, new_hi in news:
                    if new_lo > lo[key] or new_hi < hi[key]:
                        lo[key], hi[key] = max(lo[key], new_lo), min(hi[key], new_hi)
                        changed = True
            if not changed:
                break
        return lo, hi

    def shown(self, key: Key) -> Shown:
        """The count as published: the number, ``<5`` or ``[c]``."""
        how = self.hidden.get(key)
        return self.values[key] if how is None else HIDDEN_SMALL if how == "small" else HIDDEN_OTHER

    def exact(self, key: Key) -> int:
        """The count if it is shown, else 0 (what charts may draw)."""
        return self.values[key] if key not in self.hidden else 0
