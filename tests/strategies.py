"""Hypothesis strategies: valid lines of every log format, each with the fields a reader must give back.

The expected fields are worked out in these modules from the format's rules (research/formats.md, DESIGN.md), not by
calling reader code, so a round-trip test can catch a reader that drifts from the spec. A ``Case`` is a
small file fragment: header/comment/blank lines the reader must skip, and data lines with their fields.

Each format family has its own module (``strategies_squid``, ``strategies_w3c``,
``strategies_vendors``) over the shared pieces in ``strategies_common``; this one maps reader
names to them.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st
from strategies_common import Case, cases
from strategies_squid import bluecoat_line, squid_common_line, squid_extended_line, squid_line
from strategies_vendors import e2guardian_line, squidguard_line, umbrella_line, zscaler_csv_case, zscaler_json_line
from strategies_w3c import w3c_case

__all__ = ["FORMATS", "Case"]

_SG_HEAD = [b"2026-11-18 08:00:01 [23411] squidGuard 1.4 started (1794988801.123)"]
FORMATS: dict[str, Callable[[], st.SearchStrategy[Case]]] = {
    "squid": lambda: cases(squid_line),
    "squid-common": lambda: cases(squid_common_line),
    "squid-combined": lambda: cases(lambda z: squid_common_line(z, combined=True)),
    "squid-extended": lambda: cases(squid_extended_line),
    "bluecoat-squid": lambda: cases(bluecoat_line),
    "w3c": w3c_case,
    "umbrella": lambda: cases(umbrella_line),
    "zscaler-json": lambda: cases(zscaler_json_line),
    "zscaler-csv": zscaler_csv_case,
    "e2guardian": lambda: cases(e2guardian_line),
    "squidguard": lambda: cases(squidguard_line, _SG_HEAD),
}
"""Reader name → strategy of valid fragments for it (tests check this covers every registered reader)."""
