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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from .. import findings as store
from ..cluster import all_see, require_shared, sharing, workers
from ..config import Config
from ..enrich.events import Categoriser, Enricher
from ..errors import ConfigError
from ..schema import FINDING_SCHEMA
from ..workspace import Workspace, within
from . import buckets as _buckets
from . import day as _day
from .context import Context
from .day import AS_DICTIONARY, COLUMNS, UNREAD, DaySource
from .hits import Hits, assemble
from .model import RULE_IDS, Rule, load_rules

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["AS_DICTIONARY", "COLUMNS", "UNREAD", "DetectReport", "detect", "detect_events", "run_rules"]

MARGIN = timedelta(hours=6)
"""Events read from each neighbouring date: longer than any rule's window or any tunnel worth flagging."""

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


def load_day(ws: Workspace, day: date, margin: timedelta = MARGIN) -> tuple[pa.Table, int]:
    """A date's events with ``margin`` of each neighbour, and how many rows are the date's own."""
    src = _day.source(ws, day, margin)
    return _day.load(src), src.rows


def detect(
    ws: Workspace,
    date_from: date | None = None,
    date_to: date | None = None,
    rules: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    client: Client | None = None,
    buckets: int | None = None,
) -> DetectReport:
    """Judge every local date in [date_from, date_to] that has events, and store the findings.

    Without dates, every date in the workspace. A date in the range whose
    events are gone loses its stale findings. ``progress`` is called with 1
    after each date. A date of more events than ``[detect] memory_gb`` allows
    (``buckets.bucket_rows``) is judged in buckets of people (``buckets``
    forces their number for every date). With a Dask ``client`` the dates
    and buckets are judged on its workers, which must see the workspace at
    the same path (the workers of a local cluster share the budget:
    ``cluster.sharing``); the findings are the same, and are written here.
    """
    config = ws.config
    chosen = select_rules(config, rules)
    only = [r.id for r in chosen] if rules else None
    report = DetectReport()
    here = True  # the workers see the workspace: they load its lists and spill into it
    if client is not None:  # before anything is written: stale findings are not dropped either
        if ws.storage.remote:  # they need the events' URL; the workspace only if they are to spill there
            require_shared(client, ws.storage.location)
            here = all_see(client, ws.root.absolute())
        else:
            require_shared(client, ws.root.absolute())
    in_range = within(ws.event_dates(), date_from, date_to)
    for stale in set(within(store.finding_dates(ws), date_from, date_to)) - set(in_range):
        store.write_day(ws, stale, FINDING_SCHEMA.empty_table(), only)
    sources = [_day.source(ws, day, MARGIN) for day in in_range]
    share = sharing(client)  # the workers of a local cluster judge side by side in this machine's budget
    at_once = _buckets.bucket_rows(config.detect.memory_gb / share)
    plans = [(src, buckets or _buckets.buckets_for(src.rows, at_once)) for src in sources]
    with _buckets.scratch(ws.root if here else ws.storage.location) as folder:
        if client is None:
            judged = _in_process(ws, plans, chosen, folder)
        else:
            judged = _on_cluster(client, ws, plans, [r.id for r in chosen], folder, share, here)
        try:
            for src, (found, seconds) in zip(sources, judged, strict=True):
                t0 = _time.perf_counter()
                store.write_day(ws, src.day, canonical(found), only)
                _add(report.seconds, seconds)
                _add(report.seconds, {"write": _time.perf_counter() - t0})
                report.days.append(src.day)
                report.events += src.rows
                for rule_id, n in zip(*_counts(found), strict=True):
                    report.by_rule[rule_id] += n
                if progress is not None:
                    progress(1)
        finally:
            judged.close()  # cancels what the cluster still runs before the folder goes
    return report


Judged = tuple[pa.Table, dict[str, float]]
"""A date's (or a bucket's) findings on that date, and the seconds spent per stage."""


def _add(total: dict[str, float], seconds: dict[str, float]) -> None:
    for name, took in seconds.items():
        total[name] = total.get(name, 0.0) + took


def judge(events: pa.Table, day: date, enricher: Enricher, rules: list[Rule], seconds: dict[str, float]) -> pa.Table:
    """Enrich ``events`` (a date with its margins, or a bucket of its people), run ``rules``: ``day``'s findings."""
    t0 = _time.perf_counter()
    enriched = enricher.parallel(events, THREADS, search=False)
    ctx = Context(enriched, enricher.config)
    # Three whole-table steps of one thread each, run side by side: the search terms (which must see the
    # whole table, after the halves are joined) and the person and local date that most rules share.
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="filterlog-prepare") as pool:
        searched = pool.submit(enricher.with_search_terms, enriched)
        shared = [pool.submit(getattr, ctx, name) for name in ("who", "local_date")]
        ctx.events = searched.result()  # the same rows: who and local date hold for it as well
        for future in shared:
            future.result()
    _add(seconds, {"enrich": _time.perf_counter() - t0})
    found = run_rules(ctx, rules, seconds)
    return found.filter(pc.equal(found.column("date"), pa.scalar(day, pa.date32())))


def judge_day(src: DaySource, enricher: Enricher, rules: list[Rule]) -> Judged:
    """A whole date at once: today's fast path for every ordinary day."""
    t0 = _time.perf_counter()
    events = _day.load(src)
    seconds = {"read": _time.perf_counter() - t0}
    return judge(events, src.day, enricher, rules, seconds), seconds


def judge_bucket(folder: str, bucket: int, day: date, enricher: Enricher, rules: list[Rule]) -> Judged:
    """One spilled bucket of a date's people."""
    t0 = _time.perf_counter()
    events = _buckets.read_bucket(folder, bucket)
    seconds = {"read": _time.perf_counter() - t0}
    return judge(events, day, enricher, rules, seconds), seconds


def _gathered(parts: list[Judged]) -> Judged:
    seconds: dict[str, float] = {}
    for _, took in parts:
        _add(seconds, took)
    tables = [table for table, _ in parts if table.num_rows]
    return (pa.concat_tables(tables) if tables else FINDING_SCHEMA.empty_table()), seconds


def _in_process(ws: Workspace, plans: list[tuple[DaySource, int]], rules: list[Rule], folder: str) -> Iterator[Judged]:
    """Each date's findings, judged here, one date (or one bucket) in memory at a time."""
    enricher = Enricher.from_workspace(ws)
    for src, k in plans:
        if k == 1:
            yield judge_day(src, enricher, rules)
            continue
        where = _buckets.day_folder(folder, src.day)
        t0 = _time.perf_counter()
        rows = _buckets.spill(src, k, where, enricher.ip_map)
        spilled: Judged = (FINDING_SCHEMA.empty_table(), {"spill": _time.perf_counter() - t0})
        parts = [spilled]
        # a judged bucket's files are removed while the next is judged: the kernel frees their
        # cached pages on the spare core (10M events: 0.25 s at the end otherwise)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="filterlog-unlink") as unlink:
            for b in (b for b in range(k) if rows[b]):
                parts.append(judge_bucket(where, b, src.day, enricher, rules))
                unlink.submit(_buckets.remove_bucket, where, b)
        yield _gathered(parts)


def _on_cluster(
    client: Client,
    ws: Workspace,
    plans: list[tuple[DaySource, int]],
    rule_ids: list[str],
    folder: str,
    share: int,
    here: bool,
) -> Iterator[Judged]:
    """Each date's findings, judged on the cluster: one task per ordinary date; a spill task then one per bucket.

    ``share``: how many workers spill side by side on this machine's cores (``cluster.sharing``).
    Workers that see the workspace (``here``) load its configuration and lists themselves, once per
    process; to others this process sends them (a few MB, with a school's imported UT1 lists).
    """
    root: str | Future = str(ws.root.absolute())
    if not here:
        enricher = Enricher.from_workspace(ws)
        root = client.scatter((enricher, enricher.config), broadcast=True, hash=False)
    threads = max(1, _buckets.SPILL_THREADS // share)
    futures: list[list[Future]] = []
    for src, k in plans:
        if k == 1:
            futures.append([client.submit(day_task, root, src, rule_ids, pure=False)])
            continue
        where = _buckets.day_folder(folder, src.day)
        n = _buckets.spill_parts(src, workers(client))
        spills = [client.submit(spill_task, root, src, k, where, i, n, threads, pure=False) for i in range(n)]
        futures.append([*spills, *(client.submit(bucket_task, root, src.day, where, b, rule_ids, spills, pure=False)
                                   for b in range(k))])  # fmt: skip
    try:
        for (_, k), day_futures in zip(plans, futures, strict=True):
            results = client.gather(day_futures)
            if k > 1:  # the spill tasks' rows per bucket, and their seconds
                spilled = len(results) - k
                results[:spilled] = [(FINDING_SCHEMA.empty_table(), took) for _, took in results[:spilled]]
            yield _gathered(results)
    finally:  # an error, or the caller stopped: nothing may still write into the folder about to be removed
        client.cancel([f for day_futures in futures for f in day_futures])


@lru_cache(maxsize=4)
def _worker_state(root: str, stamp: tuple[int, ...]) -> tuple[Enricher, Config]:
    """A workspace's enricher on a worker, loaded once per process (``stamp``: reload after the config changes)."""
    enricher = Enricher.from_workspace(Workspace(root))
    return enricher, enricher.config


State = str | tuple[Enricher, Config]
"""What a worker judges with: the workspace's path (it loads the lists there), or the enricher and config sent."""


def _state(root: State) -> tuple[Enricher, Config]:
    """The enricher and configuration a task judges with: loaded from the workspace at ``root``, or as sent."""
    if not isinstance(root, str):
        return root
    base = Path(root)
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (base / "filterlog.toml", base / "categories"))
    return _worker_state(root, stamp)


def _rules(config: Config, rule_ids: list[str]) -> list[Rule]:
    return [r for r in load_rules(config) if r.id in set(rule_ids)]


def day_task(root: State, src: DaySource, rule_ids: list[str]) -> Judged:
    """Dask task: a whole date, judged on a worker."""
    enricher, config = _state(root)
    return judge_day(src, enricher, _rules(config, rule_ids))


def spill_task(
    root: State, src: DaySource, k: int, folder: str, part: int, parts: int, threads: int
) -> tuple[list[int], dict[str, float]]:
    """Dask task: one part of a large date streamed into ``k`` bucket files; the rows per bucket, and its seconds."""
    enricher, _ = _state(root)
    t0 = _time.perf_counter()
    rows = _buckets.spill(src, k, folder, enricher.ip_map, part, parts, threads)
    return rows, {"spill": _time.perf_counter() - t0}


def bucket_task(
    root: State, day: date, folder: str, bucket: int, rule_ids: list[str], spilled: list[tuple[list[int], dict]]
) -> Judged:
    """Dask task: one bucket of a date's people, judged on a worker once every ``spill_task`` has written its part."""
    if not any(rows[bucket] for rows, _ in spilled):
        return FINDING_SCHEMA.empty_table(), {}
    enricher, config = _state(root)
    return judge_bucket(folder, bucket, day, enricher, _rules(config, rule_ids))


def canonical(found: pa.Table) -> pa.Table:
    """Findings in the store's order (start, rule, id), their dictionaries rebuilt in that order.

    A date judged whole and one judged in buckets find the same rows in a
    different order, and dictionary columns keep the order values were first
    seen in: this makes the stored files the same, not only their values.
    """
    keys = [("start", "ascending"), ("rule", "ascending"), ("finding_id", "ascending")]
    plain = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in found.schema])
    return found.cast(plain).sort_by(keys).cast(found.schema)


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
