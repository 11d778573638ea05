"""Enrichment throughput: domains, categories, identity, working hours and search terms on N events.

A demo day of --day-lines lines is generated and ingested once (cached under
--cache-dir), its events are repeated up to --events rows, and the Enricher
built from that workspace (site config, identity CSVs, shipped lists, plus a
UT1 import with --ut1 PATH) is timed on them. Prints wall time, events/s and
the process's peak RSS (which includes the input table itself).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from filterlog.demo import run_demo
from filterlog.enrich.events import Enricher
from filterlog.enrich.lists import import_lists
from filterlog.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--day-lines", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache")
    parser.add_argument("--ut1", type=Path, help="a UT1 directory or tarball to import first")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    out = args.cache_dir / f"enrich-demo-{args.day_lines}"
    result = run_demo(out, lines=args.day_lines, reports=False)
    ws = Workspace(result.workspace)
    if args.ut1:
        t = time.perf_counter()
        imported = import_lists(args.ut1, ws)
        print(f"imported {imported.entries:,} entries from {args.ut1} in {time.perf_counter() - t:.1f} s")
    day = ds.dataset(ws.events_dir, format="parquet", partitioning="hive").to_table().drop_columns(["date"])
    copies = -(-args.events // day.num_rows)
    events = pa.concat_tables([day] * copies).slice(0, args.events).combine_chunks()
    enrich = Enricher.from_workspace(ws)
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        enriched = enrich(events)
        best = min(best, time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    categorised = enriched.num_rows - enriched.column("category").null_count
    print("| events | enrich s | events/s | categorised | peak RSS MB |\n|--:|--:|--:|--:|--:|")
    print(f"| {events.num_rows:,} | {best:.2f} | {events.num_rows / best:,.0f} | {categorised:,} | {rss:,.0f} |")
    ws.close()


if __name__ == "__main__":
    main()
