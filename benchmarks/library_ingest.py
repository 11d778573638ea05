"""One ``filterlog.ingest.ingest`` call timed in a process already running: file to Parquet, no start-up.

    python benchmarks/library_ingest.py LOG WORKDIR

The command-line figures include a fixed cost per process (the interpreter, imports, loading
the compiled loops, leaving: about 0.6 s), which weighs on a small file. A daemon, a notebook
or a Dask worker pays it once: this loads everything first (the log's first lines ingested into
a scratch workspace), then times ingesting the whole log into a fresh one. It prints the call's
seconds as one JSON line, then the command's closing count line.
bench_ingest.py runs it as its ``library`` row.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    log, work = Path(sys.argv[1]), Path(sys.argv[2])
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    head = work / "head.log"
    with open(log, "rb") as fh:
        head.write_bytes(b"".join(fh.readline() for _ in range(2_000)))
    scratch = Workspace(work / "warm").create()
    ingest(scratch, [head])
    scratch.close()
    ws = Workspace(work / "ws").create()
    before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    report = ingest(ws, [log])
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    ws.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"wall": wall, "cpu": cpu}))
    print(report.summary())  # the command's closing count line, read the same way
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
