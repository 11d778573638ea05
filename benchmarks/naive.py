"""The naive baseline: a per-line Python parser for Squid native access.log, written to Parquet.

    python benchmarks/naive.py access.log [--out events.parquet]

What someone would write first: ``line.split()`` on every line into a list of lists,
``pandas.DataFrame`` over it, a few vectorised type conversions, ``to_parquet``.
It keeps the ten native fields only (a trailing ``"referer" "user agent"`` is dropped,
since whitespace splitting cannot keep quoted fields whole), extracts no host, checks
nothing beyond the field count and keeps no rejected lines: it does strictly less work
than ``filterlog ingest``, so the speed ratio flatters it.

The last line printed is ``N lines read, E events, Q quarantined``, like filterlog's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

FIELDS = ["time", "elapsed", "client_ip", "code", "bytes", "method", "url", "user", "hier", "mime"]


def parse(path: Path) -> tuple[pd.DataFrame, int, int]:
    """Rows of the ten native fields, the number of lines read and of lines rejected."""
    rows: list[list[str]] = []
    lines = bad = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            lines += 1
            parts = line.split()
            if len(parts) < 10:
                bad += bool(parts)
                continue
            rows.append(parts[:10])
    df = pd.DataFrame(rows, columns=FIELDS)
    del rows
    df["time"] = pd.to_datetime(df["time"].astype("float64"), unit="s", utc=True)
    df["elapsed"] = df["elapsed"].astype("int64")
    df["bytes"] = df["bytes"].astype("int64")
    code = df["code"].str.split("/", n=1, expand=True)
    df["result"] = code[0]
    df["status"] = pd.to_numeric(code[1], errors="coerce").astype("Int16")
    df = df.drop(columns="code")
    return df, lines, bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", type=Path, help="Squid native access.log (plain text)")
    ap.add_argument("--out", type=Path, help="Parquet file to write (default: a temporary file, deleted)")
    args = ap.parse_args(argv)

    df, lines, bad = parse(args.log)
    if args.out:
        df.to_parquet(args.out, compression="snappy", index=False)
    else:
        with tempfile.TemporaryDirectory(prefix="naive-") as tmp:
            df.to_parquet(Path(tmp) / "events.parquet", compression="snappy", index=False)
    print(f"{lines:,} lines read, {len(df):,} events, {bad:,} quarantined")
    return 0


if __name__ == "__main__":
    sys.exit(main())
