"""Run the rules over a date range and store their findings, one local date at a time.

Each date is judged with its own events plus the ``MARGIN`` hours either side
from the neighbouring dates, so a window or a tunnel that crosses midnight is
seen whole; only findings that start on the date are kept for it, so the
neighbours' runs neither lose nor duplicate them. Detecting a date again
replaces its findings with identical rows (same ids), which makes ``detect``
safe to re-run from cron.
"""

from __future__ import annotations

import importlib
import time as _time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from .. import findings as store
from ..config import Config
from ..enrich.events import Categoriser, Enricher
from ..errors import ConfigError
from ..schema import EVENT_NAMES, FINDING_SCHEMA
from ..workspace import Workspace, within
from .context import Context
from .hits import Hits, assemble
from .model import RULE_IDS, Rule, load_rules

MARGIN = timedelta(hours=6)
"""Events read from each neighbouring date: longer than any rule's window or any tunnel worth flagging."""

UNREAD = ("url", "user_raw", "scheme", "status", "vendor_action", "source_format")
"""Event columns no rule reads: detect does not load them (the URL text alone is a fifth of a day's bytes)."""

COLUMNS = [name for name in EVENT_NAMES if name not in UNREAD]

AS_DICTIONARY = ("user_agent", "referer", "client_ip", "user")
"""Read dictionary-encoded, as stored: a few hundred distinct values over millions of rows. The rules
match agents and referers against lists, and enrichment works out people on codes (on a 10M-event day,
two gigabytes and seconds of string building saved)."""

MODULES = {
    "repeated-blocked": "blocked",
    "circumvention": "circumvention",
    "nonbusiness-bandwidth": "nonbusiness",
    "live-feed": "livefeed",
    "hacking-tools": "hacking",
    "inappropriate-content": "content",
    "large-transfer": "transfer",
    "concerning-search": "search",
}
"""Rule id → the module in this package whose ``detect(ctx, rule) -> Hits`` implements it."""


def implementation(rule_id: str) -> Callable[[Context, Rule], Hits]:
    """The function that evaluates one rule."""
    module = importlib.import_module(f"{__package__}.{MODULES[rule_id]}")
    return module.detect


@dataclass
class DetectReport:
    """What a detect run judged and found."""

    days: list[date] = field(default_factory=list)
    events: int = 0
    by_rule: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RULE_IDS, 0))
    seconds: dict[str, float] = field(default_factory=dict)
    """Time spent per stage (read, enrich, each rule, write), for benchmarks."""

    @property
    def findings(self) -> int:
        """Findings stored, all rules together."""
        return sum(self.by_rule.values())

    def summary(self) -> str:
        """One line for the terminal and for cron mail."""
        if not self.days:
            return "detect: no events in the date range: nothing to judge"
        span = f"{self.days[0]}" if len(self.days) == 1 else f"{self.days[0]}..{self.days[-1]}"
        fired = ", ".join(f"{r} {n}" for r, n in self.by_rule.items() if n) or "none"
        return f"detect: {self.events:,} events on {len(self.days)} day(s) ({span}): {self.findings} findings ({fired})"


def select_rules(config: Config, only: Iterable[str] | None = None) -> list[Rule]:
    """The enabled rules, or just the named ones (which must exist)."""
    rules = [r for r in load_rules(config) if r.enabled]
    if only:
        wanted = list(only)
        unknown = sorted(set(wanted) - set(RULE_IDS))
        if unknown:
            raise ConfigError(f"unknown rule(s) {unknown} (rules are: {', '.join(RULE_IDS)})")
        rules = [r for r in rules if r.id in wanted]
    return rules


THREADS = 2
"""Rules evaluated at once. Most of their time is in Arrow, numpy and pandas kernels, which
release the GIL, so two rules share a 2-core machine well; results do not depend on it."""


def run_rules(
    ctx: Context, rules: list[Rule], seconds: dict[str, float] | None = None, threads: int = THREADS
) -> pa.Table:
    """Every rule over one context; all their findings as one ``FINDING_SCHEMA`` table, in rule order.

    ``seconds`` gets each rule's own wall time (overlapping when ``threads`` > 1).
    """

    def one(rule: Rule) -> tuple[pa.Table, float]:
        t0 = _time.perf_counter()
        table = assemble(rule, implementation(rule.id)(ctx, rule), ctx)
        return table, _time.perf_counter() - t0

    if threads > 1 and len(rules) > 1 and len(ctx) > 0:
        ctx.who, ctx.local_date  # noqa: B018 - shared by most rules: computed once, before the threads start
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="filterlog-rule") as pool:
            results = list(pool.map(one, rules))
    else:
        results = [one(rule) for rule in rules]
    if seconds is not None:
        for rule, (_, took) in zip(rules, results, strict=True):
            seconds[rule.id] = seconds.get(rule.id, 0.0) + took
    tables = [table for table, _ in results]
    return pa.concat_tables(tables) if tables else FINDING_SCHEMA.empty_table()


def _bounds(table: pa.Table) -> tuple[datetime, datetime] | None:
    if table.num_rows == 0:
        return None
    lo, hi = pc.min_max(table.column("time")).values()
    return lo.as_py(), hi.as_py()


def load_day(ws: Workspace, day: date, margin: timedelta = MARGIN) -> tuple[pa.Table, int]:
    """A date's events with ``margin`` of each neighbour, and how many rows are the date's own."""
    own = ws.read_events(day, columns=COLUMNS, dictionaries=AS_DICTIONARY)
    bounds = _bounds(own)
    if bounds is None:
        return own, 0
    lo, hi = bounds
    before = ws.read_events(day - timedelta(days=1), since=lo - margin, columns=COLUMNS, dictionaries=AS_DICTIONARY)
    after = ws.read_events(day + timedelta(days=1), until=hi + margin, columns=COLUMNS, dictionaries=AS_DICTIONARY)
    return pa.concat_tables([before, own, after]), own.num_rows


def detect(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    rules: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DetectReport:
    """Judge every local date in [date_from, date_to] that has events, and store the findings.

    Without dates, every date in the workspace. A date in the range whose
    events are gone loses its stale findings. ``progress`` is called with 1
    after each date.
    """
    config = ws.config
    chosen = select_rules(config, rules)
    only = [r.id for r in chosen] if rules else None
    enricher = Enricher.from_workspace(ws)
    report = DetectReport()
    in_range = within(ws.event_dates(), date_from, date_to)
    for stale in set(within(store.finding_dates(ws), date_from, date_to)) - set(in_range):
        store.write_day(ws, stale, FINDING_SCHEMA.empty_table(), only)
    for day in in_range:
        t0 = _time.perf_counter()
        events, own = load_day(ws, day)
        t1 = _time.perf_counter()
        ctx = Context(enricher.parallel(events, THREADS), config)
        t2 = _time.perf_counter()
        found = run_rules(ctx, chosen, report.seconds)
        found = found.filter(pc.equal(found.column("date"), pa.scalar(day, pa.date32())))
        t3 = _time.perf_counter()
        store.write_day(ws, day, found, only)
        report.seconds["read"] = report.seconds.get("read", 0.0) + t1 - t0
        report.seconds["enrich"] = report.seconds.get("enrich", 0.0) + t2 - t1
        report.seconds["write"] = report.seconds.get("write", 0.0) + _time.perf_counter() - t3
        report.days.append(day)
        report.events += own
        for rule_id, n in zip(*_counts(found), strict=True):
            report.by_rule[rule_id] += n
        if progress is not None:
            progress(1)
    return report


def _counts(found: pa.Table) -> tuple[list[str], list[int]]:
    if found.num_rows == 0:
        return [], []
    counts = pc.value_counts(pc.cast(found.column("rule"), pa.string()))
    return counts.field("values").to_pylist(), counts.field("counts").to_pylist()


def detect_events(events: pa.Table, config: Config | None = None, rules: Iterable[str] | None = None) -> pa.Table:
    """Findings for an in-memory events table (already enriched or not): for notebooks and tests."""
    config = config or Config()
    if "in_working_hours" not in events.column_names:
        events = Enricher(config, categories=_shipped_categories())(events)
    return run_rules(Context(events, config), select_rules(config, rules))


def _shipped_categories() -> Categoriser:
    from ..enrich.categories import Categories

    return Categories.load()
