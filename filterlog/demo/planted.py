"""Planted misuse and look-alike decoys: the demo's answer key, one small function each.

Each scenario writes a few hundred lines through :class:`Planter` on top of the
generated background; ``planted.json`` records who was planted and who is a decoy,
so the rules' tests can check that findings name every planted user and no decoy.
The scenarios and their rows live with their family: getting past the filter in
:mod:`.planted_access`, volume and timing in :mod:`.planted_traffic`, viewing and
searching in :mod:`.planted_content`.
"""

from __future__ import annotations

from . import planted_access, planted_content, planted_traffic
from .scenario import Planted, Scenario

__all__ = ["PLANTED", "Planted", "Scenario"]

PLANTED: tuple[Planted, ...] = (
    *planted_access.REPEATED_BLOCKED,
    *planted_access.CIRCUMVENTION,
    *planted_traffic.NONBUSINESS_BANDWIDTH,
    *planted_traffic.LIVE_FEED,
    *planted_access.HACKING_TOOLS,
    *planted_content.INAPPROPRIATE_CONTENT,
    *planted_traffic.LARGE_TRANSFER,
    *planted_content.CONCERNING_SEARCH,
)
"""Every behaviour, in the order the planter hands out users: reordering it changes every demo day."""
