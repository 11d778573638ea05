"""Who did what, hour by hour: the event aggregate that reports draw on.

The reports need more than findings: a person's blocked requests, their
non-business bytes in lesson time, their day by the hour and their category
mix; the school's blocked categories and non-business share by hour. All of
it comes from one pass over the events: each local date is read (only the
columns enrichment needs, not URLs), enriched, and grouped by (date, hour,
person, group, category, action, working time) into counts and bytes. A
10M-event day becomes a few hundred thousand rows, so every report after
that is cheap, and memory holds one date at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import Config
from ..enrich.calendar import local_dates, minute_of_day
from ..enrich.events import Enricher
from ..enrich.identity import coalesce_codes
from ..rules.model import get_rule
from ..workspace import Workspace, within

READ = ["time", "client_ip", "user", "device", "host", "action", "bytes_in", "bytes_out"]
"""Event columns an aggregate needs: enrichment's inputs and what is counted. Paths and URLs stay on disk."""
AS_CODES = ("client_ip", "user", "host")
"""Read as stored, dictionary-encoded: enrichment works on their distinct values, so no per-event strings are built."""

KEYS = ["date", "hour", "who", "group", "category", "action", "in_working_hours"]

ACTIVITY_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        pa.field("hour", pa.int8(), nullable=False),
        pa.field("who", pa.string()),
        pa.field("group", pa.string()),
        pa.field("category", pa.string()),
        pa.field("action", pa.string()),
        pa.field("in_working_hours", pa.bool_(), nullable=False),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("first", pa.timestamp("ms", tz="UTC")),
        pa.field("last", pa.timestamp("ms", tz="UTC")),
    ]
)
"""One row per (local date, local hour, person, group, category, action, in working time).

``who`` is the person (user name, from the log or the identity map), else the
client address; ``bytes`` counts both directions, as the rules do.
"""


@dataclass(frozen=True)
class Policy:
    """The site's own lists that reports judge activity by, taken from the rules' configuration."""

    nonbusiness: tuple[str, ...]
    """Non-business categories (the nonbusiness-bandwidth rule's ``categories``)."""
    not_attempts: tuple[str, ...]
    """Blocked categories that are not a person's attempts: adverts and trackers (repeated-blocked's ignore list)."""

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        """Read both lists from the rule settings, overrides in filterlog.toml included."""
        nonbusiness = get_rule("nonbusiness-bandwidth", config).params.get("categories", [])
        ignored = get_rule("repeated-blocked", config).params.get("ignore_categories", [])
        return cls(tuple(nonbusiness), tuple(ignored))


def aggregate(enriched: pa.Table, timezone: str) -> pa.Table:
    """The ``ACTIVITY_SCHEMA`` aggregate of enriched events (any number of dates)."""
    if enriched.num_rows == 0:
        return ACTIVITY_SCHEMA.empty_table()
    time = enriched.column("time")
    who = coalesce_codes(enriched.column("user"), enriched.column("client_ip"))  # as rules see the person
    moved = pc.add(pc.fill_null(enriched.column("bytes_in"), 0), pc.fill_null(enriched.column("bytes_out"), 0))
    hour = pc.cast(pc.divide(minute_of_day(time, timezone), 60), pa.int8())
    table = pa.table(
        {
            "date": local_dates(time, timezone),
            "hour": hour,
            "who": who,
            "group": pc.cast(enriched.column("group"), pa.string()),
            "category": pc.cast(enriched.column("category"), pa.string()),
            "action": pc.cast(enriched.column("action"), pa.string()),
            "in_working_hours": enriched.column("in_working_hours"),
            "bytes": moved,
            "time": time,
        }
    )
    table = table.filter(pc.is_valid(table.column("date")))
    grouped = table.group_by(KEYS, use_threads=True).aggregate(
        [("bytes", "count"), ("bytes", "sum"), ("time", "min"), ("time", "max")]
    )
    out = pa.table(
        {
            **{k: grouped.column(k) for k in KEYS},
            "requests": grouped.column("bytes_count"),
            "bytes": grouped.column("bytes_sum"),
            "first": grouped.column("time_min"),
            "last": grouped.column("time_max"),
        }
    )
    return out.cast(ACTIVITY_SCHEMA)


def activity(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    progress: Callable[[int], None] | None = None,
    enricher: Enricher | None = None,
) -> pa.Table:
    """The aggregate of every event on the local dates in [date_from, date_to], one date at a time.

    ``progress`` is called with 1 after each date.
    """
    enricher = enricher or Enricher.from_workspace(ws)
    timezone = ws.config.site.timezone
    parts = []
    for day in within(ws.event_dates(), date_from, date_to):
        events = ws.read_events(day, columns=READ, dictionaries=AS_CODES)
        parts.append(aggregate(enricher.parallel(events, threads=2, search=False), timezone))
        if progress is not None:
            progress(1)
    if not parts:
        return ACTIVITY_SCHEMA.empty_table()
    return pa.concat_tables(parts)


def attempts(table: pa.Table, policy: Policy) -> np.ndarray:
    """Which rows of an activity table are blocked attempts: blocked, and not an advert or tracker."""
    blocked = np.asarray(pc.fill_null(pc.equal(table.column("action"), "blocked"), False), dtype=bool)
    return blocked & ~in_categories(table, policy.not_attempts)


def in_categories(table: pa.Table, categories: tuple[str, ...]) -> np.ndarray:
    """Which rows of an activity table fall in ``categories`` (a boolean mask)."""
    if not categories or table.num_rows == 0:
        return np.zeros(table.num_rows, dtype=bool)
    mask = pc.is_in(table.column("category"), value_set=pa.array(categories, pa.string()))
    return np.asarray(pc.fill_null(mask, False))
