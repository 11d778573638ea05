"""Hold the demo's findings against its answer key: every planted person found, no decoy flagged.

The demo is also the rules' end-to-end acceptance test, and a school trying
filterlog sees the same check the test suite makes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa


@dataclass(frozen=True)
class KeyCheck:
    """How the findings compare with ``planted.json``, per rule."""

    planted: int
    decoys: int
    missed: list[tuple[str, str]] = field(default_factory=list)
    """(rule, user) planted but not flagged by that rule."""
    flagged_decoys: list[tuple[str, str]] = field(default_factory=list)
    """(rule, user) decoys that rule flagged."""

    @property
    def ok(self) -> bool:
        """Every planted person found and no decoy flagged."""
        return not self.missed and not self.flagged_decoys

    def describe(self) -> str:
        """One line for the terminal."""
        if self.ok:
            return f"all {self.planted} planted behaviours found; none of the {self.decoys} look-alike decoys flagged"
        parts = []
        if self.missed:
            parts.append("MISSED " + ", ".join(f"{u} ({r})" for r, u in self.missed))
        if self.flagged_decoys:
            parts.append("DECOYS FLAGGED " + ", ".join(f"{u} ({r})" for r, u in self.flagged_decoys))
        return "; ".join(parts)


def check(answer_key: Path, findings: pa.Table) -> KeyCheck:
    """Compare stored findings with the answer key, rule by rule."""
    key = json.loads(answer_key.read_text(encoding="utf-8"))["rules"]
    flagged = {(r["rule"], r["user"]) for r in findings.select(["rule", "user"]).to_pylist()}
    missed, decoys_hit, n_planted, n_decoys = [], [], 0, 0
    for rule, cases in key.items():
        for case in cases["planted"]:
            n_planted += 1
            if (rule, case["user"]) not in flagged:
                missed.append((rule, case["user"]))
        for case in cases["decoys"]:
            n_decoys += 1
            if (rule, case["user"]) in flagged:
                decoys_hit.append((rule, case["user"]))
    return KeyCheck(n_planted, n_decoys, missed, decoys_hit)
