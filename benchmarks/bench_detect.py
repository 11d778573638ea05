"""Detect throughput: every rule over one school day of N events, with wall time per stage and peak memory.

A demo day of --lines lines (planted misuse included) is generated and
ingested once into a cached workspace. Each run is a fresh child process
calling ``filterlog.rules.detect`` on it, so the peak RSS is the whole
process's: interpreter, imports, events, enrichment and rules together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from inputs import TAIL_SITES


def _layout_key() -> str:
    """A digest of what decides the cached workspace's files: the demo day, and how events are stored."""
    import filterlog

    src = Path(filterlog.__file__).parent
    h = hashlib.sha256(f"tail={TAIL_SITES}".encode())
    decide = [src / "parts.py", src / "schema.py", src / "config.py", src / "ingest" / "gather.py"]
    for path in [*sorted((src / "demo").glob("*.py")), *decide]:
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def prepare(lines: int, seed: int, cache: Path) -> Path:
    """The cached workspace of one demo day, made again when the demo or the stored layout changed."""
    from filterlog.demo.generate import generate_day
    from filterlog.demo.run import _site_config
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    root = cache / f"detect-{lines}-{seed}-{_layout_key()}"
    ws_path = root / "workspace"
    if (root / "ready").exists():
        return ws_path
    for stale in [cache / f"detect-{lines}-{seed}", *cache.glob(f"detect-{lines}-{seed}-*")]:  # older demo or layout
        shutil.rmtree(stale, ignore_errors=True)
    t = time.perf_counter()
    day = generate_day(root / "logs", lines=lines, seed=seed, tail_sites=TAIL_SITES)
    ws = Workspace(ws_path).create()
    ws.config_path.write_text(_site_config(day), encoding="utf-8")
    report = ingest(ws, [day.log])
    ws.close()
    (root / "logs" / "access.log").unlink()  # the events are what is measured; the log is 3 GB at 10M lines
    (root / "ready").write_text(report.summary() + "\n")
    print(f"prepared {ws_path} in {time.perf_counter() - t:.0f} s: {report.summary()}", file=sys.stderr)
    return ws_path


def _child(ws_path: Path, buckets: int | None) -> None:
    from filterlog.rules import detect
    from filterlog.rules.buckets import bucket_rows, buckets_for
    from filterlog.rules.day import source
    from filterlog.rules.engine import MARGIN
    from filterlog.workspace import Workspace

    ws = Workspace(ws_path)
    at_once = bucket_rows(ws.config.detect.memory_gb)
    k = [buckets or buckets_for(source(ws, d, MARGIN).rows, at_once) for d in ws.event_dates()]
    t, c = time.perf_counter(), time.process_time()
    report = detect(ws, buckets=buckets)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    print(json.dumps({"events": report.events, "findings": report.findings, "by_rule": report.by_rule,
                      "wall": wall, "cpu": cpu, "seconds": report.seconds, "rss_mb": rss, "buckets": k}))  # fmt: skip


def child_runs(script: str, args: list[str], repeat: int) -> list[dict]:
    """Run ``script args`` ``repeat`` times, each in a fresh process; the JSON line each prints."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, script, *args], check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        runs.append(json.loads(out.stdout))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path(__file__).parent / ".cache")
    parser.add_argument("--buckets", type=int, help="judge every date in this many person buckets (default: by size)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.buckets)
        return
    ws_path = prepare(args.lines, args.seed, args.cache_dir)
    forced = ["--buckets", str(args.buckets)] if args.buckets else []
    runs = child_runs(__file__, ["--child", str(ws_path), *forced], args.repeat)
    best = min(runs, key=lambda r: r["wall"])
    stages = " ".join(f"{k} {v:.2f}" for k, v in best["seconds"].items())
    print("| events | detect s | events/s | findings | peak RSS MB |\n|--:|--:|--:|--:|--:|")
    rate = best["events"] / best["wall"]
    print(f"| {best['events']:,} | {best['wall']:.2f} | {rate:,.0f} | {best['findings']} | {best['rss_mb']:,.0f} |")
    walls = sorted(r["wall"] for r in runs)
    print(f"all runs (s): {', '.join(f'{w:.2f}' for w in walls)}; median {walls[len(walls) // 2]:.2f}")
    # CPU seconds vary far less than wall time on a shared host: compare code changes by them
    least = min(r["cpu"] for r in runs)
    print(f"CPU s of the best run: {best['cpu']:.2f} (both cores; the least of all runs {least:.2f})")
    print(f"stages (s): {stages}")
    print(f"person buckets per date: {best['buckets']}")
    print("findings by rule: " + ", ".join(f"{k} {v}" for k, v in best["by_rule"].items()))


if __name__ == "__main__":
    main()
