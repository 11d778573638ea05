"""The cost floor of Squid ingest: what the steps no parser can skip cost, per million lines.

Any ingest into this workspace must read the file, take its SHA-256 (the manifest's identity
of a file), cut each line into typed columns and write them to Parquet. With pyarrow the last
two are Arrow's CSV reader and Arrow's Parquet writer. This script measures each of those
alone, on one core (Arrow's pool set to one thread), in CPU seconds per million lines, on the
same 16 MB blocks filterlog reads; then filterlog's own reader on those blocks and the whole
``filterlog ingest`` as a child process.

The sum of the four steps is the least CPU a million lines can cost with this stack, before
any URL splitting, validation or date partitioning. On C cores it caps throughput at
C / floor million lines a second, however well the rest is written. filterlog now splits plain
lines with a compiled loop of its own instead of Arrow's CSV reader: the table gives that loop's
cost too, and the floor and ceiling with it in Arrow's place.

Two layouts of the same generated day are measured: the demo's lines as written (Squid native
with a quoted referer and user agent, about 310 bytes) and the same lines cut to the ten fields
of ``logformat squid`` (about 155 bytes: the shape of the 1M-line file of the issue's
reference figures).

    .venv/bin/python benchmarks/bench_floor.py                  # 1M lines, both layouts
    .venv/bin/python benchmarks/bench_floor.py --lines 200000   # quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inputs import TIMEZONE, input_file  # noqa: E402
from measure import measure, warm  # noqa: E402

BLOCK = 16 << 20
"""filterlog's block size (``Source.blocks``): every step sees the blocks ingest would."""
_TRAILER = re.compile(rb' "[^"\n]*" "[^\n]*$', re.M)
_PADDING = re.compile(rb"^(\S+ )( +)", re.M)
STEPS = {
    "read": "read the file (page cache)",
    "sha256": "SHA-256 of the file",
    "tokenise": "Arrow CSV: lines to typed columns",
    "parquet": "Parquet write (filterlog's settings)",
}


def plain_copy(log: Path) -> Path:
    """The same log cut to the ten ``logformat squid`` fields, made once beside it."""
    out = log.with_name(log.stem + ".plain.log")
    if not out.exists():
        tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
        with open(log, "rb") as src, open(tmp, "wb") as dst:
            for block in blocks(src):
                dst.write(_TRAILER.sub(b"", bytes(block)))
        os.replace(tmp, out)
    return out


def blocks(fh) -> Iterator[bytearray]:
    """Whole-line blocks of about BLOCK bytes, as filterlog cuts them."""
    rest = b""
    while chunk := fh.read(BLOCK):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield bytearray(data[:cut])
    if rest:
        yield bytearray(rest + b"\n")


def cpu(fn: Callable[[], object], repeat: int) -> float:
    """The least CPU seconds (all threads) of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure_steps(log: Path, repeat: int, tmp: Path) -> dict[str, float]:
    """CPU seconds of each step and of filterlog's reader over the whole file, one core."""
    import numpy as np

    from filterlog.ingest import _compiled
    from filterlog.ingest.squid import _FIELDS, SquidNative, _csv
    from filterlog.ingest.stream import _with_source
    from filterlog.parts import PartWriter

    reader = SquidNative(TIMEZONE)
    writer = PartWriter(tmp, "floor")
    totals = dict.fromkeys([*STEPS, "split", "filterlog parse"], 0.0)
    line = 1
    with open(log, "rb", buffering=0) as fh:
        buf = bytearray(BLOCK)

        def read_all() -> None:
            fh.seek(0)
            while fh.readinto(buf):
                pass

        totals["read"] = cpu(read_all, repeat)
        fh.seek(0)
        for number, block in enumerate(blocks(fh)):
            totals["sha256"] += cpu(lambda b=block: hashlib.sha256(b).digest(), repeat)
            zeroed = pa.py_buffer(_PADDING.sub(lambda m: m[1] + b"0" * len(m[2]), bytes(block)))
            lines = block.count(b"\n")
            names = [*_FIELDS, "referer", "user_agent"] if block[: block.find(b"\n")].endswith(b'"') else _FIELDS

            def tokenise(data: pa.Buffer = zeroed, names: list[str] = names, n: int = lines) -> None:
                if _csv(data, names, True, n, n, delimiter=" ", exclude=("hier",)) is None:
                    raise SystemExit(f"{log}: a block did not tokenise whole; this benchmark wants clean lines")

            totals["tokenise"] += cpu(tokenise, repeat)
            buf = np.frombuffer(block, np.uint8)
            newlines = _compiled.positions(buf, 10)
            quoted = names is not _FIELDS
            totals["split"] += cpu(lambda b=buf, n=newlines, q=quoted: _compiled.squid_native(b, n, q, 0), repeat)
            totals["filterlog parse"] += cpu(lambda b=block, first=line: reader.parse(b, first), repeat)
            events = _with_source(reader.parse(block, line).events, "0" * 64)
            totals["parquet"] += cpu(lambda e=events, k=number: writer.write_events("2026-11-23", k, e), repeat)
            line += lines
    writer.discard()
    return totals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The CPU floor of Squid ingest with pyarrow, beside filterlog.")
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step; the least is kept (default: 3)")
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="cores for the ceiling (default: all)")
    ap.add_argument("--cache-dir", type=Path, default=HERE / ".cache", help="generated logs (default: %(default)s)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.repeat < 1 or args.cores < 1:
        ap.error("--lines, --repeat and --cores must be positive")
    pa.set_cpu_count(1)  # one core per step: the floor is CPU, not wall time
    pa.set_io_thread_count(1)

    demo, source = input_file(args.lines, args.seed, args.cache_dir, "auto")
    layouts = {"as generated": demo, "plain (10 fields)": plain_copy(demo)}
    figures: dict[str, dict[str, float]] = {}
    for name, log in layouts.items():
        size, lines, _ = warm(log)
        with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
            steps = measure_steps(log, args.repeat, Path(tmp))
            run = measure("filterlog", log, lines, Path(tmp))
        per = 1e6 / lines
        fig = {k: v * per for k, v in steps.items()}
        fig["floor"] = sum(fig[k] for k in STEPS)
        fig["ceiling lines/s"] = args.cores * 1e6 / fig["floor"]
        fig["floor, own splitter"] = fig["floor"] - fig["tokenise"] + fig["split"]
        fig["ceiling, own splitter"] = args.cores * 1e6 / fig["floor, own splitter"]
        fig["ingest cpu"] = run.cpu_s * per
        fig["ingest wall"] = run.wall_s * per
        fig["ingest lines/s"] = run.lines_per_s
        fig["bytes/line"] = size / lines
        figures[name] = fig
        print(f"{name}: {log} ({lines:,} lines, {size / 1e6:,.0f} MB)", file=sys.stderr)

    print(f"# Squid ingest cost floor, {args.lines:,} lines ({source}), CPU s per 1M lines on one core\n")
    heads = list(figures)
    print("| step | " + " | ".join(heads) + " |")
    print("|---|" + "--:|" * len(heads))

    def row(label: str, key: str, fmt: str = "{:.2f}") -> None:
        print(f"| {label} | " + " | ".join(fmt.format(figures[h][key]) for h in heads) + " |")

    row("bytes a line", "bytes/line", "{:.0f}")
    for key, label in STEPS.items():
        row(label, key)
    row("**floor: the four steps**", "floor")
    row(f"ceiling on {args.cores} cores, lines/s", "ceiling lines/s", "{:,.0f}")
    row("filterlog's compiled splitter (`_compiled.squid_native`), in Arrow CSV's place", "split")
    row("**floor with that splitter**", "floor, own splitter")
    row(f"ceiling on {args.cores} cores with it, lines/s", "ceiling, own splitter", "{:,.0f}")
    row("filterlog's reader alone (parse, one core)", "filterlog parse")
    row("filterlog ingest, whole process: CPU s", "ingest cpu")
    row("filterlog ingest, whole process: wall s", "ingest wall")
    row("filterlog ingest, lines/s", "ingest lines/s", "{:,.0f}")
    if args.json:
        args.json.write_text(json.dumps({"lines": args.lines, "cores": args.cores, "figures": figures}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
