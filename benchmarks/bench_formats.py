"""Parse throughput (lines/s) of the Umbrella, Zscaler, E2Guardian and squidGuard readers.

    python benchmarks/bench_formats.py                  # 500k lines per format, best of 3
    python benchmarks/bench_formats.py --lines 100000 --repeat 1 --only umbrella

Each log is the hand-written sample's data lines (samples/) cycled to ``--lines``,
with the host, path and client address varied per line so that per-distinct-value
work (user normalisation, identities, dictionary encoding) sees many values, not
five. The figure is the reader alone: ``Reader.parse`` on consecutive blocks of
``--block-mb`` megabytes cut at line ends (as the ingest pipeline cuts them), one thread.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from filterlog.ingest import READERS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
FORMATS = {  # reader: sample
    "umbrella": "umbrella.log",
    "zscaler-json": "zscaler-web-json.log",
    "zscaler-csv": "zscaler-web-csv.log",
    "e2guardian": "e2guardian.log",
    "squidguard": "squidguard.log",
}
HOSTS = [b"www.bbc.co.uk", b"www.bet365.com", b"discord.com", b"www.twitch.tv", b"www.google.com", b"www.tiktok.com"]


def generate(reader: str, lines: int, seed: int, out: Path) -> Path:
    """The sample's data lines cycled with values varied; a header line (zscaler-csv) once, at the top."""
    rng = np.random.default_rng(seed)
    raw = [x for x in (SAMPLES / FORMATS[reader]).read_bytes().splitlines() if x.strip()]
    header = [i for i, x in enumerate(raw) if x.startswith(b"time,")]
    if header:  # the rows named by the header, under it; not a header every few lines
        raw = raw[header[0] + 1 :]
    hosts = rng.integers(0, 5000, lines)
    octets = rng.integers(1, 255, lines)
    with out.open("wb") as f:
        if header:
            f.write((SAMPLES / FORMATS[reader]).read_bytes().splitlines()[header[0]] + b"\n")
        chunk = []
        for i in range(lines):
            line = raw[i % len(raw)]
            for h in HOSTS:
                if h in line:
                    line = line.replace(h, b"h%d.%s" % (hosts[i], h), 1)
                    break
            line = line.replace(b"10.20.1.", b"10.%d.1." % octets[i], 1)
            chunk.append(line)
            if len(chunk) == 10_000:
                f.write(b"\n".join(chunk) + b"\n")
                chunk = []
        if chunk:
            f.write(b"\n".join(chunk) + b"\n")
    return out


def blocks(data: bytes, size: int) -> list[tuple[bytes, int]]:
    """Consecutive blocks of whole lines, each with the number of its first line."""
    out, pos, line = [], 0, 1
    while pos < len(data):
        end = data.rfind(b"\n", pos, pos + size) + 1 or data.find(b"\n", pos) + 1
        out.append((data[pos:end], line))
        line += data.count(b"\n", pos, end)
        pos = end
    return out


def measure(reader: str, path: Path, block_mb: int, repeat: int) -> tuple[float, int, int]:
    """Best lines/s over ``repeat`` runs, with the event and quarantine counts of the last."""
    data = path.read_bytes()
    parts = blocks(data, block_mb << 20)
    n = data.count(b"\n")
    best = 0.0
    events = bad = 0
    for _ in range(repeat):
        r = READERS[reader]()
        t0 = time.perf_counter()
        events = bad = 0
        for block, first in parts:
            parsed = r.parse(block, first)
            events += parsed.events.num_rows
            bad += len(parsed.bad_lines)
        best = max(best, n / (time.perf_counter() - t0))
    return best, events, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--block-mb", type=int, default=16)
    ap.add_argument("--only", choices=sorted(FORMATS), action="append")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="filterlog-bench-") as tmp:
        for reader in args.only or FORMATS:
            path = generate(reader, args.lines, 1, Path(tmp) / f"{reader}.log")
            mb = path.stat().st_size / 1e6
            rate, events, bad = measure(reader, path, args.block_mb, args.repeat)
            print(f"{reader:13s} {args.lines:>9,} lines {mb:7.1f} MB  {rate:>12,.0f} lines/s  "
                  f"{events:,} events, {bad:,} quarantined")  # fmt: skip


if __name__ == "__main__":
    main()
