"""The per-person misuse summary: one row for each person with findings, worst first.

This is the coordinator's index and the admin's morning glance: how many
findings of each rule, the highest severity, and the context that makes a
finding easy to weigh (blocked attempts, non-business traffic in lesson time,
when the person was first and last seen). Counts come from the stored
findings; context comes from the hourly activity aggregate (``activity``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import findings as store
from ..output import clean, csv_text, iso, json_text
from ..rules.model import RULE_IDS
from ..schema import SEVERITIES
from ..workspace import Workspace
from .activity import Policy, activity, attempts, in_categories
from .templates import size

_TS = pa.timestamp("ms", tz="UTC")

SUMMARY_SCHEMA = pa.schema(
    [
        pa.field("user", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("highest_severity", pa.string(), nullable=False),
        pa.field("findings", pa.int64(), nullable=False),
        *(pa.field(rule, pa.int64(), nullable=False) for rule in RULE_IDS),
        pa.field("blocked_attempts", pa.int64(), nullable=False),
        pa.field("nonbusiness_bytes", pa.int64(), nullable=False),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("first_seen", _TS),
        pa.field("last_seen", _TS),
    ]
)
"""One row per person with findings in the range.

``user`` is the person (user name, else client address, as findings name them);
a column per rule id counts that rule's findings; ``blocked_attempts`` counts
blocked requests other than adverts and trackers (407 challenges are not blocks);
``nonbusiness_bytes`` is traffic to non-business categories inside working hours,
breaks excluded; ``first_seen``/``last_seen`` bound all the person's requests in the range.
"""


def who(findings: pa.Table) -> pd.Series:
    """The person each finding is about: its user, else its client address."""
    frame = findings.select(["user", "client_ip"]).to_pandas()
    return frame["user"].fillna(frame["client_ip"]).fillna("?")


def person_totals(act: pa.Table, policy: Policy) -> pd.DataFrame:
    """Per person (index ``who``): requests, bytes, blocked attempts, non-business working-time bytes, first/last."""
    frame = act.select(["who", "action", "in_working_hours", "requests", "bytes", "first", "last"]).to_pandas()
    blocked = attempts(act, policy)
    nonbusiness = in_categories(act, policy.nonbusiness) & frame["in_working_hours"].to_numpy()
    frame["blocked_attempts"] = np.where(blocked, frame["requests"], 0)
    frame["nonbusiness_bytes"] = np.where(nonbusiness, frame["bytes"], 0)
    return frame.groupby("who", sort=False).agg(
        requests=("requests", "sum"),
        bytes=("bytes", "sum"),
        blocked_attempts=("blocked_attempts", "sum"),
        nonbusiness_bytes=("nonbusiness_bytes", "sum"),
        first_seen=("first", "min"),
        last_seen=("last", "max"),
    )


def summarise_tables(findings: pa.Table, act: pa.Table, policy: Policy) -> pa.Table:
    """The summary from findings and an activity aggregate of the same range (for notebooks and tests)."""
    if findings.num_rows == 0:
        return SUMMARY_SCHEMA.empty_table()
    frame = findings.select(["rule", "severity", "group"]).to_pandas()
    frame["rule"] = frame["rule"].astype(str)
    frame["severity"] = pd.Categorical(frame["severity"].astype(str), categories=SEVERITIES, ordered=True)
    frame["group"] = frame["group"].astype(object)
    frame["who"] = who(findings).to_numpy()
    counts = pd.crosstab(frame["who"], frame["rule"]).reindex(columns=list(RULE_IDS), fill_value=0)
    people = frame.groupby("who", sort=False).agg(
        group=("group", "first"), highest_severity=("severity", "max"), findings=("rule", "size")
    )
    people = people.join(counts)
    totals = person_totals(act, policy) if act.num_rows else pd.DataFrame(index=pd.Index([], name="who"))
    people = people.join(totals, how="left")
    for column in ("requests", "bytes", "blocked_attempts", "nonbusiness_bytes"):
        people[column] = people.get(column, pd.Series(dtype="int64")).reindex(people.index).fillna(0).astype("int64")
    for column in ("first_seen", "last_seen"):
        if column not in people:
            people[column] = pd.NaT
    rank = people["highest_severity"].cat.codes
    people = people.assign(_rank=rank).sort_values(
        ["_rank", "findings", "blocked_attempts"], ascending=[False, False, False], kind="stable"
    )
    people = people.drop(columns="_rank").rename_axis("user").reset_index()
    people["highest_severity"] = people["highest_severity"].astype(str)
    people["group"] = people["group"].where(people["group"].notna(), None)
    return pa.Table.from_pandas(people[SUMMARY_SCHEMA.names], schema=SUMMARY_SCHEMA, preserve_index=False)


def summarise(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
    act: pa.Table | None = None,
) -> pa.Table:
    """The ``SUMMARY_SCHEMA`` table for the local dates in [date_from, date_to].

    ``act`` may pass an activity aggregate already computed for the same range
    (the review report does), so the events are read once.
    """
    found = store.read(ws, date_from, date_to)
    if found.num_rows == 0:
        return SUMMARY_SCHEMA.empty_table()
    if act is None:
        act = activity(ws, date_from, date_to, progress=progress)
    return summarise_tables(found, act, Policy.from_config(ws.config))


# output ---------------------------------------------------------------------
_SHORT = {
    "repeated-blocked": "blocked",
    "circumvention": "circumvention",
    "nonbusiness-bandwidth": "non-business",
    "live-feed": "live feed",
    "hacking-tools": "hacking",
    "inappropriate-content": "content",
    "large-transfer": "transfer",
    "concerning-search": "search",
}


def records(summary: pa.Table) -> list[dict[str, object]]:
    """JSON-ready rows: per-rule counts under ``by_rule`` (rules that fired only), times ISO-8601 UTC."""
    out = []
    for row in summary.to_pylist():
        rec: dict[str, object] = {k: iso(v) for k, v in row.items() if k not in RULE_IDS}
        rec["by_rule"] = {rule: row[rule] for rule in RULE_IDS if row[rule]}
        out.append(rec)
    return out


def to_json(summary: pa.Table) -> str:
    """The ``--format json`` array."""
    return json_text(records(summary))


def to_csv(summary: pa.Table) -> str:
    """One row per person, every column; text cells a spreadsheet cannot run as formulas."""
    names = summary.column_names
    return csv_text(names, ([iso(row[k]) for k in names] for row in summary.to_pylist()))


def to_parquet(summary: pa.Table) -> bytes:
    """The table as Parquet bytes (for ``write_private``)."""
    sink = pa.BufferOutputStream()
    pq.write_table(summary, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def to_text(summary: pa.Table, timezone: str = "UTC") -> str:
    """An aligned table for a terminal: the rules that fired in words, sizes for people, local times."""
    if summary.num_rows == 0:
        return "no findings in the range: nobody to summarise\n"
    zone = ZoneInfo(timezone)
    heads = ("user", "group", "severity", "findings", "blocked", "non-business", "seen (local)", "rules")
    rows = []
    for r in summary.to_pylist():
        fired = ", ".join(f"{_SHORT[rule]} {r[rule]}" for rule in RULE_IDS if r[rule])
        seen = "–"
        if r["first_seen"] is not None:
            first, last = r["first_seen"].astimezone(zone), r["last_seen"].astimezone(zone)
            seen = f"{first:%d %b %H:%M}–{last:%H:%M}" if first.date() == last.date() else f"{first:%d %b}–{last:%d %b}"
        rows.append(
            [clean(r["user"]), clean(r["group"] or "–"), r["highest_severity"], str(r["findings"]),
             f"{r['blocked_attempts']:,}", _size(r["nonbusiness_bytes"]), seen, fired]
        )  # fmt: skip
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    right = {3, 4, 5}
    lines = []
    for row in (list(heads), *rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _size(value: int) -> str:
    return size(value) if value else "0"
