"""Run one command as a child process and take its own wall time, CPU time and peak RSS.

Measuring from outside the command (a separate process, the real CLI) keeps start-up and
imports in the figures, as a user would see them; the launcher below keeps the benchmark's
own memory out of them. bench_scale.py reuses ``launch``/``collect`` so both benchmarks
measure the same way.
"""

from __future__ import annotations

import compileall
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAIVE = HERE / "naive.py"
LIBRARY = HERE / "library_ingest.py"
_CLOSING = re.compile(r"([\d,]+) lines read, ([\d,]+) events, ([\d,]+) quarantined")


def warm(path: Path) -> tuple[int, int, float]:
    """Read the file once (into the page cache): its size, its line count, the seconds taken."""
    size = lines = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(16 << 20)
        while n := fh.readinto(buf):
            size += n
            lines += buf.count(b"\n") if n == len(buf) else buf[:n].count(b"\n")
    return size, lines, time.perf_counter() - t0


@dataclass
class Run:
    """One measured child process."""

    tool: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    lines: int
    events: int | None = None
    quarantined: int | None = None
    output_mb: float = 0.0
    closing: str = ""
    argv: list[str] = field(default_factory=list)

    @property
    def lines_per_s(self) -> float:
        return self.lines / self.wall_s if self.wall_s else 0.0


# Peak RSS must be the child's own. Linux records the RSS high-water mark of the image a
# process replaces at exec(), and a child forked (or vforked, as posix_spawn and subprocess do)
# from this process starts from this process's mm: measured directly, every child would report
# at least the benchmark's own peak (the generator's). So a tiny launcher (``python -S``, ~10 MB)
# forks and execs the command and reports ``os.wait4`` rusage of that grandchild: the same as
# getrusage(RUSAGE_CHILDREN) after a single child, what ``/usr/bin/time -v`` does.
_LAUNCHER = """
import json, os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(result, "w") as fh:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall": wall, "cpu": ru.ru_utime + ru.ru_stime,
               "maxrss_kib": ru.ru_maxrss}, fh)
"""


@functools.cache
def compiled() -> None:
    """filterlog's modules compiled to bytecode before any command is timed, as an installed package's are.

    pip compiles a package when it installs it. A checkout's editable install leaves that to the
    first import, which writes nothing where PYTHONDONTWRITEBYTECODE is set (as on the machine the
    figures in RESULTS.md come from): every command then compiled its sixty-odd modules again, 0.1 s
    of each (0.43-0.49 s against 0.33-0.38 s from start to the work of a detect), and of each Dask
    worker's start.
    """
    import filterlog

    compileall.compile_dir(Path(filterlog.__file__).parent, quiet=1)


def launch(argv: list[str], work: Path, env: dict[str, str] | None = None) -> int:
    """Start argv under the launcher, stdout/stderr into ``work``, no progress bar; the launcher's pid."""
    compiled()
    (work / "rusage.json").unlink(missing_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(work / "stdout"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, str(work / "stderr"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(work / "rusage.json"), *argv]
    return os.posix_spawn(launcher[0], launcher, {**os.environ, "CI": "1", **(env or {})}, file_actions=actions)


def collect(work: Path, argv: list[str]) -> dict[str, float]:
    """What the launcher reported once it ended: exit code, wall and CPU s, peak RSS (KiB)."""
    result = work / "rusage.json"
    if not result.exists():
        raise RuntimeError(f"launcher failed for {argv}: {(work / 'stderr').read_text(errors='replace')[-2000:]}")
    return json.loads(result.read_text())


def _spawn(argv: list[str], work: Path) -> dict[str, float]:
    """Run argv to completion, stdout/stderr into ``work``; its exit code, wall and CPU s, peak RSS."""
    os.wait4(launch(argv, work), 0)
    return collect(work, argv)


def _parquet_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*.parquet")) / 1e6


def measure(tool: str, log: Path, lines: int, tmp_root: Path) -> Run:
    """One run of ``filterlog``, ``library`` or ``naive`` on ``log`` in a fresh directory.

    ``library`` is the ingest call alone, timed inside a process that has already started
    (library_ingest.py): its wall and CPU seconds are the call's, its peak RSS the process's.
    """
    work = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-", dir=tmp_root))
    try:
        if tool == "filterlog":
            argv = [sys.executable, "-m", "filterlog", "--workspace", str(work / "ws"), "ingest", str(log)]
        elif tool == "library":
            argv = [sys.executable, str(LIBRARY), str(log), str(work)]
        else:
            argv = [sys.executable, str(NAIVE), str(log), "--out", str(work / "events.parquet")]
        usage = _spawn(argv, work)
        rc = int(usage["rc"])
        text = (work / "stdout").read_text(errors="replace").strip()
        closing = text.splitlines()[-1] if text else ""
        if tool == "library" and rc == 0:  # the call's seconds, on the line before the count line
            timed = json.loads(text.splitlines()[-2])
            usage = {**usage, "wall": timed["wall"], "cpu": timed["cpu"]}
        run = Run(
            tool=tool,
            wall_s=usage["wall"],
            cpu_s=usage["cpu"],
            peak_rss_mb=usage["maxrss_kib"] * 1024 / 1e6,  # Linux reports KiB
            returncode=rc,
            lines=lines,
            output_mb=_parquet_mb(work),
            closing=closing,
            argv=argv,
        )
        if m := _CLOSING.search(closing):
            run.lines = int(m[1].replace(",", "")) or lines
            run.events, run.quarantined = (int(g.replace(",", "")) for g in m.groups()[1:])
        if rc != 0:
            tail = (work / "stderr").read_text(errors="replace").strip().splitlines()[-15:]
            print(f"!! {tool} exited {rc}:\n" + "\n".join(tail or [closing]), file=sys.stderr)
        return run
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure_startup() -> tuple[float, float]:
    """Wall seconds and peak RSS MB to start Python and import what ``filterlog ingest`` imports."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        code = "import filterlog.cli, filterlog.ingest, filterlog.workspace"
        usage = _spawn([sys.executable, "-c", code], Path(tmp))
    return usage["wall"], usage["maxrss_kib"] * 1024 / 1e6
