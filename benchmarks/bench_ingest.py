"""Squid native ingest throughput and peak memory: ``filterlog ingest`` beside a naive parser.

    python benchmarks/bench_ingest.py                    # 1M lines, best of 1
    python benchmarks/bench_ingest.py --lines 200000 --repeat 3 --json out.json
    python benchmarks/bench_ingest.py --profile          # in-process cProfile, top 25 by tottime
    python benchmarks/bench_ingest.py --layout plain     # the ten `logformat squid` fields only

The input is one generated Squid native access.log, cached under ``--cache-dir`` by line
count and seed. It comes from ``filterlog.demo.generate_day`` when that exists, else from the
vectorised generator in inputs.py. Each measured run is its own child process (the real CLI,
``python -m filterlog``, and ``benchmarks/naive.py``), so wall time includes interpreter
start-up and imports, and the peak RSS is that child's alone (``os.wait4`` rusage, measure.py).
The ``library`` row times the ingest call alone in a process that has started and loaded
everything (library_ingest.py): what a long-running process pays per file.
See benchmarks/README.md for caveats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from inputs import input_file
from measure import Run, measure, measure_startup, warm
from profiling import profile

HERE = Path(__file__).resolve().parent


def _fmt_int(v: int | None) -> str:
    return "" if v is None else f"{v:,}"


def table(best: dict[str, Run], input_mb: float) -> str:
    """The Markdown results table, one row per tool (its best run)."""
    rows = [
        "| tool | lines | input MB | wall s | CPU s | lines/s | peak RSS MB | events | quarantined | Parquet MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in best.values():
        rows.append(
            f"| {r.tool} | {r.lines:,} | {input_mb:,.1f} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.lines_per_s:,.0f}"
            f" | {r.peak_rss_mb:,.0f} | {_fmt_int(r.events)} | {_fmt_int(r.quarantined)} | {r.output_mb:,.1f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Squid native ingest throughput and peak RSS, filterlog vs naive.")
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported (default: 1)")
    ap.add_argument("--skip-naive", action="store_true", help="measure filterlog only")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--cache-dir", type=Path, default=HERE / ".cache", help="generated logs (default: %(default)s)")
    ap.add_argument("--tmp-dir", type=Path, help="where workspaces are written (default: the system temp dir)")
    ap.add_argument(
        "--generator",
        choices=["auto", "demo", "builtin"],
        default="auto",
        help="auto: filterlog.demo.generate_day if present, else built-in (default: auto)",
    )
    ap.add_argument(
        "--layout",
        choices=["demo", "plain"],
        default="demo",
        help="demo: lines as generated, with referer and user agent; plain: cut to the ten logformat squid fields",
    )
    ap.add_argument("--profile", action="store_true", help="instead: ingest in-process under cProfile")
    ap.add_argument("--profile-top", type=int, default=25, help="functions to list (default: 25)")
    ap.add_argument("--profile-sort", default="tottime", help="pstats sort key (default: tottime)")
    ap.add_argument("--profile-out", type=Path, help="also dump the merged profile here (.prof)")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        ap.error("--lines and --repeat must be positive")
    tmp_root = args.tmp_dir or Path(tempfile.gettempdir())
    tmp_root.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    log, source = input_file(args.lines, args.seed, args.cache_dir, args.generator)
    if args.layout == "plain":
        from bench_floor import plain_copy

        log, source = plain_copy(log), f"{source}, cut to the ten logformat squid fields"
    gen_s = time.perf_counter() - t0
    size, lines, read_s = warm(log)
    input_mb = size / 1e6
    print(f"input: {log} ({source}; ready in {gen_s:.1f} s)")
    print(f"       {lines:,} lines, {input_mb:,.1f} MB; read once into the page cache in {read_s:.2f} s")
    print(
        f"host:  {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    if args.profile:
        profile(log, tmp_root, args.profile_top, args.profile_sort, args.profile_out)
        return 0

    tools = ["filterlog", "library"] if args.skip_naive else ["filterlog", "library", "naive"]
    runs: list[Run] = []
    for i in range(args.repeat):
        for tool in tools:  # interleaved, so a burst of load elsewhere hits both tools alike
            warm(log)
            run = measure(tool, log, lines, tmp_root)
            runs.append(run)
            print(
                f"  run {i + 1}/{args.repeat} {tool:<9} {run.wall_s:6.2f} s  {run.lines_per_s:>11,.0f} lines/s  "
                f"CPU {run.cpu_s:6.2f} s  {run.peak_rss_mb:7,.0f} MB  rc={run.returncode}",
                flush=True,
            )
    startup, startup_rss = measure_startup()
    ok = [r for r in runs if r.returncode == 0]
    best = {t: min(rs, key=lambda r: r.wall_s) for t in tools if (rs := [r for r in ok if r.tool == t])}

    print()
    print(table(best, input_mb))
    ratio = rss_ratio = cpu_ratio = None
    if "filterlog" in best and "naive" in best:
        ratio = best["filterlog"].lines_per_s / best["naive"].lines_per_s
        rss_ratio = best["naive"].peak_rss_mb / best["filterlog"].peak_rss_mb
        cpu_ratio = best["naive"].cpu_s / best["filterlog"].cpu_s
        print(
            f"\nspeed ratio filterlog/naive: {ratio:.1f}x (lines/s, wall); CPU time naive/filterlog: {cpu_ratio:.1f}x; "
            f"peak RSS naive/filterlog: {rss_ratio:.1f}x"
        )
    print(
        f"best of {args.repeat}; whole-process wall time, including interpreter start-up and imports "
        f"(filterlog's alone: {startup:.2f} s, {startup_rss:.0f} MB), except library: the ingest call "
        "alone in a process already running; noisy on shared hosts (±30 %)"
    )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "input": {"path": str(log), "generator": source, "seed": args.seed, "lines": lines, "bytes": size},
            "host": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "loadavg": os.getloadavg(),
            },
            "repeat": args.repeat,
            "filterlog_startup": {"wall_s": startup, "peak_rss_mb": startup_rss},
            "runs": [{**asdict(r), "lines_per_s": r.lines_per_s} for r in runs],
            "best": {t: {**asdict(r), "lines_per_s": r.lines_per_s} for t, r in best.items()},
            "speed_ratio_filterlog_over_naive": ratio,
            "cpu_ratio_naive_over_filterlog": cpu_ratio,
            "rss_ratio_naive_over_filterlog": rss_ratio,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0 if len(ok) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
