"""Findings as text: an aligned table for people, CSV for spreadsheets, JSON for other programs.

Log data is hostile. A URL or a user name can start with ``=`` and a
spreadsheet would run it as a formula, so every CSV text cell that could is
prefixed with an apostrophe (the OWASP "CSV injection" advice). JSON carries the
values as they are; a program reading it is expected to treat them as data.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

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


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def records(findings: pa.Table) -> list[dict[str, Any]]:
    """Findings as JSON-ready dicts with the contract's keys (times ISO-8601 UTC)."""
    out = []
    for row in findings.to_pylist():
        out.append({k: _iso(row.get(k)) for k in JSON_KEYS} | {"date": _iso(row.get("date"))})
    return out


def to_json(findings: pa.Table) -> str:
    """The ``--format json`` array."""
    return json.dumps(records(findings), indent=2, ensure_ascii=False) + "\n"


def to_csv(findings: pa.Table) -> str:
    """The ``--format csv`` text: one row per finding; evidence as ``source_id:line`` pairs."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_KEYS)
    for rec in records(findings):
        lines = " ".join(f"{e['source_id'][:12]}:{e['source_line']}" for e in rec["evidence"])
        if rec["evidence_total"] > len(rec["evidence"]):
            lines += f" (+{rec['evidence_total'] - len(rec['evidence'])} more)"
        rec["evidence_lines"] = lines
        writer.writerow([safe_cell(rec[k]) for k in CSV_KEYS])
    return buf.getvalue()


def _clean(text: str) -> str:
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
        rows.append([when, r["severity"], r["rule"], _clean(who), str(r["count"]), _clean(r["detail"])])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads[:-1])]
    room = max(30, width - sum(widths) - 2 * len(widths))
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads[:-1], widths, strict=True)) + "  detail"]
    for row in rows:
        detail = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + detail)
    return "\n".join(lines) + "\n"
