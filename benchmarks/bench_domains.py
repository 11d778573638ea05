"""Registered domains of many new names: the column walk against tldextract one name at a time.

A large proxy's day holds hundreds of thousands of distinct hosts, each new to
the process that judges it. The names are the UT1 snapshot's (../shared, or
--ut1 DIR), else the lists shipped in categories/. Each way runs cold in a
fresh process (no name remembered, the suffix list not yet loaded) and
the answers are compared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
UT1 = HERE.parents[1] / "shared" / "categories-ut1"


def names(ut1: Path) -> list[str]:
    """Every listed name, UT1's if present, else the shipped lists'."""
    if ut1.is_dir():
        files = sorted(ut1.glob("*/domains"))
    else:
        files = sorted((HERE.parent / "categories").glob("*.txt"))
    out = []
    for path in files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def one(way: str, ut1: Path) -> None:
    """In a child process: resolve every name one way, print seconds and a digest of the answers."""
    import pandas  # noqa: F401 - detect has it imported: pyarrow's first conversion would otherwise import it here

    from filterlog.enrich import domains

    hosts = names(ut1)
    t0 = time.perf_counter()
    got = domains._resolved(hosts) if way == "walk" else [domains.registered_domain(h) for h in hosts]
    took = time.perf_counter() - t0
    print(json.dumps({"names": len(hosts), "seconds": took, "answers": hashlib.sha256(repr(got).encode()).hexdigest()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ut1", type=Path, default=UT1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--way", choices=["walk", "tldextract"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        one(args.way, args.ut1)
        return
    for _ in range(args.repeat):
        runs = {}
        for way in ("walk", "tldextract"):
            cmd = [sys.executable, __file__, "--way", way, "--ut1", str(args.ut1)]
            runs[way] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        walk, one_by_one = runs["walk"], runs["tldextract"]
        same = "same answers" if walk["answers"] == one_by_one["answers"] else "ANSWERS DIFFER"
        print(
            f"{walk['names']:,} names: column walk {walk['seconds']:.3f} s ({walk['names'] / walk['seconds']:,.0f}/s), "
            f"tldextract {one_by_one['seconds']:.3f} s ({walk['names'] / one_by_one['seconds']:,.0f}/s); {same}"
        )


if __name__ == "__main__":
    main()
