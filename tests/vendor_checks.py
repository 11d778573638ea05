"""Checks shared by the vendor-reader tests (Umbrella, Zscaler, E2Guardian, squidGuard)."""

from __future__ import annotations

import pyarrow as pa

from filterlog.ingest import READERS
from filterlog.ingest.base import Parsed
from filterlog.schema import validate


def parse(name: str, data: bytes, first_line: int = 1) -> Parsed:
    """Parse ``data`` with a fresh reader and check that every line is accounted for exactly once."""
    parsed = READERS[name]().parse(data, first_line)
    validate(parsed.events)
    n = data.count(b"\n")
    seen = parsed.events.column("source_line").to_pylist() + list(parsed.bad_lines)
    assert parsed.events.num_rows + len(parsed.bad_lines) + parsed.skipped == n, (parsed.bad_reasons, parsed.skipped)
    assert len(set(seen)) == len(seen), "a line was counted twice"
    assert all(first_line <= x < first_line + n for x in seen)
    assert len(parsed.bad_reasons) == len(parsed.bad_lines)
    assert isinstance(parsed.events, pa.Table)
    return parsed


def mutate(line: bytes, junk: bytes, at: int) -> bytes:
    """``junk`` inserted into ``line`` at ``at`` (clamped), made valid UTF-8 as the pipeline does."""
    at = min(at, len(line))
    return (line[:at] + junk + line[at:]).decode("utf-8", errors="replace").encode("utf-8")
