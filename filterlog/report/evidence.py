"""Evidence excerpts: the logged requests behind the findings a report shows.

A finding stores its evidence as (source_id, source_line) pairs, not as
requests, so a report has to look the requests up. It does that in one
vectorised pass per local date, whatever the number of findings: all the
wanted pairs are collected, the date's events are read once (only the columns
an excerpt shows, with the line numbers pushed down as a Parquet filter), cut
down by ``is_in`` on the line number and joined on both keys. A finding whose
events were purged simply shows no excerpts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..enrich.calendar import local_dates
from ..errors import WorkspaceError
from ..schema import EVENT_SCHEMA
from ..storage import arrow_sources, failing
from ..workspace import Workspace

COLUMNS = ["time", "method", "url", "host", "action", "status", "bytes_in", "source_id", "source_line"]
"""What an excerpt shows of each request, and the keys it is found by."""

URL_CHARS = 160
"""Longer URLs are cut (with an ellipsis): a report line, not a forensic copy (the audit pack has those)."""


def wanted(findings: pa.Table, per_finding: int) -> pa.Table:
    """The first ``per_finding`` evidence pairs of each finding: columns row (index in ``findings``), source_id/line."""
    if findings.num_rows == 0:
        return pa.table({"row": pa.array([], pa.int64()), "source_id": pa.array([], pa.string()),
                         "source_line": pa.array([], pa.int64())})  # fmt: skip
    lists = pc.list_slice(findings.column("evidence").combine_chunks(), 0, per_finding)
    flat = pc.list_flatten(lists)
    return pa.table(
        {
            "row": pc.cast(pc.list_parent_indices(lists), pa.int64()),
            "source_id": pc.cast(flat.field("source_id"), pa.string()),
            "source_line": flat.field("source_line"),
        }
    )


def _dates(ws: Workspace, findings: pa.Table, timezone: str) -> list[date]:
    """Local dates the findings' evidence can be on: each one's start and end date, where events exist."""
    days = set(findings.column("date").to_pylist()) | set(local_dates(findings.column("end"), timezone).to_pylist())
    have = set(ws.event_dates())
    return sorted(d for d in days if d in have)


def _read(ws: Workspace, day: date, lines: pa.Array) -> pa.Table:
    """The requests of one date whose line number is among ``lines`` (plain string columns, for the join).

    The line filter is pushed down to Parquet: a file whose line-number range
    holds none of the lines is skipped on its statistics, and URLs are decoded
    only in files that hold evidence.
    """
    files, filesystem = arrow_sources(ws.event_files(day))
    if not files:
        return EVENT_SCHEMA.empty_table().select(COLUMNS)
    try:
        with failing(ws.storage.day(day), "read events"):
            events = pq.read_table(
                files,
                schema=EVENT_SCHEMA,
                columns=COLUMNS,
                filters=[("source_line", "in", lines.to_pylist())],
                filesystem=filesystem,
            )
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{ws.storage.day(day)}: cannot read events: {exc}") from exc
    events = events.filter(pc.is_in(events.column("source_line"), value_set=lines))
    return pa.table(
        {
            name: pc.cast(events.column(name), pa.string())
            if pa.types.is_dictionary(events.schema.field(name).type)
            else events.column(name)
            for name in COLUMNS
        }
    )


def _short(url: str | None) -> str:
    if url is None:
        return ""
    return url if len(url) <= URL_CHARS else url[: URL_CHARS - 1] + "…"


def excerpts(ws: Workspace, findings: pa.Table, per_finding: int = 5) -> dict[int, list[dict[str, Any]]]:
    """For each row index of ``findings``: up to ``per_finding`` of its requests, in time order, as dicts.

    Each dict has time, method, url (cut to ``URL_CHARS``), url_length, host,
    action, status, bytes_in, source_id and source_line. Text is as logged:
    the template escapes it.
    """
    pairs = wanted(findings, per_finding)
    if pairs.num_rows == 0:
        return {}
    lines = pc.unique(pairs.column("source_line"))
    parts = [_read(ws, day, lines) for day in _dates(ws, findings, ws.config.site.timezone)]
    if not parts:
        return {}
    found = pa.concat_tables(parts)
    joined = pairs.join(found, keys=["source_id", "source_line"], join_type="inner")
    joined = joined.sort_by([("row", "ascending"), ("time", "ascending"), ("source_line", "ascending")])
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in joined.to_pylist():  # at most per_finding rows per shown finding
        row["url_length"] = len(row["url"] or "")
        row["url"] = _short(row["url"])
        out[row.pop("row")].append(row)
    return dict(out)
