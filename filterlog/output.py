"""Findings as text: an aligned table for people, CSV for spreadsheets, JSON for other programs.

Log data is hostile. A URL or a user name can start with ``=`` and a
spreadsheet would run it as a formula, so every CSV text cell that could is
prefixed with an apostrophe (the OWASP "CSV injection" advice). JSON carries the
values as they are; a program reading it is expected to treat them as data. Only
the characters that would act on a terminal showing the JSON (C1 controls, bidi
marks and overrides, which can make text read differently) are written as
``uXXXX`` escapes (JSON's own), which decode to the same values.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
"""First characters that make a spreadsheet treat a cell as a formula (or split it)."""

JSON_KEYS = (
    "finding_id", "rule", "title", "severity", "user", "client_ip", "group", "start", "end", "count", "bytes",
    "domain", "category", "detail", "policy", "evidence", "evidence_total",
)  # fmt: skip
"""The findings JSON contract (DESIGN.md), in order."""

CSV_KEYS = tuple(k for k in JSON_KEYS if k not in ("policy", "evidence")) + ("evidence_lines",)


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will show as text, never evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


_FORMULA = "^([" + re.escape("".join(FORMULA_START)) + "])"


def safe_column(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``safe_cell`` over a whole text column: a leading formula character gets an apostrophe."""
    return pc.replace_substring_regex(pc.cast(values, pa.string()), _FORMULA, r"'\1", max_replacements=1)


def iso(value: Any) -> Any:
    """A datetime as ISO-8601 UTC with milliseconds, a date as ISO; anything else as it is."""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(findings: pa.Table) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts with the contract's keys (times ISO-8601 UTC)."""
    out = []
    for row in findings.to_pylist():
        out.append({k: iso(row.get(k)) for k in JSON_KEYS} | {"date": iso(row.get("date"))})
    return out


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Kept raw by ``ensure_ascii=False`` but not safe on a terminal (json escapes C0 controls itself)."""


def json_text(items: Sequence[Any]) -> str:
    """A JSON array for ``--format json``: indented, non-ASCII kept, a newline at the end.

    These characters can only stand inside JSON strings, so escaping them keeps the document valid.
    """
    text = json.dumps(list(items), indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV for ``--format csv``: every cell through ``safe_cell``, so no spreadsheet runs a formula from a log."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def aligned(heads: Sequence[str], rows: list[list[str]], width: int | None = None, room_min: int = 30) -> str:
    """Rows under their heads in padded columns; with ``width``, the last column is cut to fit it."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads[:-1])]
    room = None if width is None else max(room_min, width - sum(widths) - 2 * len(widths))
    lines = []
    for row in (list(heads), *rows):
        last = row[-1] if room is None or len(row[-1]) <= room else row[-1][: room - 1] + "…"
        lines.append(("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + last).rstrip())
    return "\n".join(lines) + "\n"


def to_json(findings: pa.Table) -> str:
    """The ``--format json`` array."""
    return json_text(records(findings))


def to_csv(findings: pa.Table) -> str:
    """The ``--format csv`` text: one row per finding; evidence as ``source_id:line`` pairs."""
    rows = []
    for rec in records(findings):
        lines = " ".join(f"{e['source_id'][:12]}:{e['source_line']}" for e in rec["evidence"])
        if rec["evidence_total"] > len(rec["evidence"]):
            lines += f" (+{rec['evidence_total'] - len(rec['evidence'])} more)"
        rec["evidence_lines"] = lines
        rows.append([rec[k] for k in CSV_KEYS])
    return csv_text(CSV_KEYS, rows)


def clean(text: str) -> str:
    """One terminal line: control characters (escape sequences included) shown as ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


def to_table(findings: pa.Table, timezone: str = "UTC", width: int = 160) -> str:
    """An aligned table for a terminal, times on the site's clock, details cut to fit ``width``."""
    if findings.num_rows == 0:
        return "no findings\n"
    zone = ZoneInfo(timezone)
    heads = ("when", "severity", "rule", "user", "count", "detail")
    rows = []
    for r in findings.to_pylist():
        when = r["start"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
        who = r["user"] or r["client_ip"] or "?"
        rows.append([when, r["severity"], r["rule"], clean(who), str(r["count"]), clean(r["detail"])])
    return aligned(heads, rows, width)
