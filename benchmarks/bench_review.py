"""Review report time: ``write_review`` over one generated school day of N events, with peak memory.

Uses the same cached, ingested workspace as ``bench_detect.py`` (prepared
once by its ``prepare``; findings come from a detect run, made here if the
cache has none). Each run is a fresh child process, so the figure includes
imports (matplotlib, Jinja2) and the peak RSS is the whole process's.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_detect import child_runs, prepare  # noqa: E402


def _child(ws_path: Path, out: Path) -> None:
    t0 = time.perf_counter()
    from filterlog.report.review import review_file
    from filterlog.workspace import Workspace

    ws = Workspace(ws_path)
    t = time.perf_counter()
    path, review = review_file(ws, out)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps({"events": review.events, "findings": review.findings.num_rows, "people": review.flagged,
                      "wall": wall, "with_imports": time.perf_counter() - t0, "rss_mb": rss,
                      "html_mb": path.stat().st_size / 1e6}))  # fmt: skip


def _detected(ws_path: Path) -> None:
    from filterlog import findings
    from filterlog.rules import detect
    from filterlog.workspace import Workspace

    ws = Workspace(ws_path)
    if not findings.finding_dates(ws):
        with ws.lock():
            detect(ws)
    ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.out)
        return
    ws_path = prepare(args.lines, args.seed, args.cache_dir)
    _detected(ws_path)
    out = ws_path.parent / "review.html"
    runs = child_runs(__file__, ["--child", str(ws_path), "--out", str(out)], args.repeat)
    best = min(runs, key=lambda r: r["wall"])
    print("| events | people flagged | findings | review s | with imports s | HTML MB | peak RSS MB |")
    print("|--:|--:|--:|--:|--:|--:|--:|")
    print(f"| {best['events']:,} | {best['people']} | {best['findings']} | {best['wall']:.2f} | "
          f"{best['with_imports']:.2f} | {best['html_mb']:.1f} | {best['rss_mb']:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
