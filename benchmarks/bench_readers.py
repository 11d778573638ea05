"""Parse throughput (lines/s) of the W3C/ELFF and Blue Coat squid-compatible readers on generated logs.

    python benchmarks/bench_readers.py                     # 1M lines per format, best of 3
    python benchmarks/bench_readers.py --lines 200000 --repeat 1 --ingest

Each log is built by replicating the lines of a hand-written sample in samples/ with
varied values (time, client, user, host, path, bytes), so that dictionary encoding
and per-distinct-value work see realistic cardinalities. The figure measured is the
reader alone: ``Reader.parse`` on consecutive blocks of ``--block-mb`` (as the
ingest pipeline cuts them, cut before the clock starts), called from one thread
(Arrow's CSV reader may use its own threads). ``--ingest`` also times the whole
library ingest (hashing, sniffing, two parse threads, Parquet writes) into a
temporary workspace. Every run is printed, then the best, with CPU seconds.
"""

from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from filterlog.ingest import READERS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
FORMATS = {  # name: (sample, reader)
    "w3c-proxysg": ("w3c-bluecoat.log", "w3c"),
    "w3c-scansafe": ("w3c-scansafe-a.log", "w3c"),
    "bluecoat-squid": ("bluecoat-squid.log", "bluecoat-squid"),
}
_TIME = re.compile(rb"\b(09:1\d:\d\d|1794993\d{3})")


def generate(sample: str, lines: int, seed: int, out: Path) -> Path:
    """Header lines of the sample once, then its data lines cycled with varied values."""
    rng = np.random.default_rng(seed)
    raw = (SAMPLES / sample).read_bytes().splitlines()
    header = [x for x in raw if x.startswith(b"#")]
    body = [x for x in raw if not x.startswith(b"#")]
    users = [f"user{i:04d}".encode() for i in range(2000)]
    hosts = [f"site{i:05d}.example.org".encode() for i in range(20000)]
    pick_u = rng.integers(0, len(users), lines)
    pick_h = np.minimum(rng.zipf(1.3, lines), len(hosts)) - 1
    nbytes = rng.integers(0, 2_000_000, lines)
    secs = np.sort(rng.integers(0, 8 * 3600, lines))
    with out.open("wb") as f:
        f.write(b"\n".join(header) + b"\n" if header else b"")
        chunk = []
        for i in range(lines):
            line = body[i % len(body)]
            s = int(secs[i])
            hh, mm, ss = 8 + s // 3600, s // 60 % 60, s % 60
            line = _TIME.sub(
                lambda m, s=s, hh=hh, mm=mm, ss=ss: (
                    f"{hh:02d}:{mm:02d}:{ss:02d}".encode() if b":" in m.group(0) else str(1794988800 + s).encode()
                ),
                line,
                count=1,
            )
            line = line.replace(b"www.bbc.co.uk", hosts[pick_h[i]]).replace(b"jsmith", users[pick_u[i]])
            line = line.replace(b" 15320 ", b" %d " % nbytes[i])
            chunk.append(line)
            if len(chunk) == 100_000:
                f.write(b"\n".join(chunk) + b"\n")
                chunk = []
        if chunk:
            f.write(b"\n".join(chunk) + b"\n")
    return out


def parse_rate(path: Path, reader_name: str, block_mb: int) -> tuple[float, float, int, int]:
    """Wall and CPU seconds, events and quarantined lines for parsing the whole file block by block.

    The blocks are cut (and their first line numbers counted) before the clock
    starts, as the pipeline hands a reader ready blocks: only ``parse`` is timed.
    """
    data = path.read_bytes()
    READERS[reader_name]().parse(data[: data.find(b"\n", 1 << 16) + 1], 1)  # warm up: lazy imports, first calls
    reader = READERS[reader_name]()
    size = block_mb << 20
    blocks, pos, line = [], 0, 1
    while pos < len(data):
        end = data.rfind(b"\n", pos, pos + size) + 1 if pos + size < len(data) else len(data)
        blocks.append((data[pos:end], line))
        line += data.count(b"\n", pos, end)
        pos = end
    del data
    events, bad = 0, 0
    t0, c0 = time.perf_counter(), time.process_time()
    for block, first in blocks:
        parsed = reader.parse(block, first)
        events += parsed.events.num_rows
        bad += len(parsed.bad_lines)
    return time.perf_counter() - t0, time.process_time() - c0, events, bad


def ingest_rate(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds for the library ingest of one file into a fresh workspace."""
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        t0, c0 = time.perf_counter(), time.process_time()
        report = ingest(ws, [path])
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        ws.close()
        assert not report.failed, report.failed
    return took, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--block-mb", type=int, default=16)
    ap.add_argument("--ingest", action="store_true", help="also time the whole ingest")
    ap.add_argument("--only", choices=list(FORMATS), action="append")
    args = ap.parse_args()
    cache = ROOT / "benchmarks" / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    head = f"{'format':16} {'lines':>10} {'MB':>5} {'wall s':>7} {'CPU s':>6} {'lines/s':>10}  runs (wall s)"
    print(head, flush=True)
    for name in args.only or FORMATS:
        sample, reader = FORMATS[name]
        path = cache / f"{name}-{args.lines}-{args.seed}.log"
        if not path.exists():
            generate(sample, args.lines, args.seed, path)
        mb = path.stat().st_size / 1e6
        runs = [parse_rate(path, reader, args.block_mb) for _ in range(args.repeat)]
        best, cpu, events, bad = min(runs)
        print(
            f"{name:16} {args.lines:>10,} {mb:>5.0f} {best:>7.2f} {cpu:>6.2f} {args.lines / best:>10,.0f}  "
            f"{' '.join(f'{r[0]:.2f}' for r in runs)}  (events {events:,}, quarantined {bad})",
            flush=True,
        )
        if args.ingest:
            runs = [ingest_rate(path) for _ in range(args.repeat)]
            took, cpu = min(runs)
            print(
                f"{'  ingest':16} {args.lines:>10,} {mb:>5.0f} {took:>7.2f} {cpu:>6.2f} {args.lines / took:>10,.0f}  "
                f"{' '.join(f'{r[0]:.2f}' for r in runs)}",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (this process: the logs, their blocks, parsed tables)")


if __name__ == "__main__":
    main()
