"""What a planted behaviour is: the rule it tests, who plays it and the scenario that writes its lines.

Kept apart from the scenarios so that each family module can describe its own rows of the
answer key, and :mod:`filterlog.demo.planted` can collect them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .data import hms

if TYPE_CHECKING:
    from .planter import Planter


Scenario = Callable[["Planter"], None]


def bursts(e: Planter, starts: Sequence[str], targets: Sequence[str]) -> None:
    """Blocked bursts: at each start time, every target denied within a few seconds."""
    for start in starts:
        t = hms(start)
        for target in targets:
            t += e.jitter(0.05, 2.5)
            e.deny(t, target, method="GET" if "://" in target else "CONNECT")


@dataclass(frozen=True)
class Planted:
    """One planted behaviour (or look-alike decoy) for one rule, played by one user."""

    rule: str
    role: str
    """``planted`` (the rule must flag it) or ``decoy`` (it must not)."""
    staff: bool
    """Played by a staff member rather than a pupil."""
    what: str
    scenario: Scenario
