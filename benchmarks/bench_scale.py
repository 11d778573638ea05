"""Scale: ingest and detect at 1M, 10M and 50M lines, in-process and on Dask, beside a naive parser and GoAccess.

    python benchmarks/bench_scale.py                       # 1M, 10M, 50M lines; writes benchmarks/RESULTS.md
    python benchmarks/bench_scale.py --sizes 1M,10M --repeat 2
    python benchmarks/bench_scale.py --sizes 50M --tools filterlog,local:1,local:2 --out /tmp/50m.md
    python benchmarks/bench_scale.py --sizes 10M --tools filterlog,local:2 --events-at file:///tmp/b --out /tmp/u.md

One command makes the whole of benchmarks/RESULTS.md: machine details, the table, every run.
The input is a generated demo day (``filterlog.demo.generate_day``, cached by inputs.py),
split into ``--files`` pieces at newlines, since Dask spreads whole chunks and files. Each
filterlog row ingests those pieces into a fresh workspace (``filterlog ingest``), then judges
it (``filterlog detect``), in-process or with ``--scheduler local:1`` / ``local:2``. The naive
per-line parser (benchmarks/naive.py) and GoAccess read the unsplit file. Every measured
command is its own child process: wall and CPU seconds (workers included) come from its
rusage; peak RSS is both the largest single process (rusage) and the whole process tree
(sampled every 0.2 s with psutil, workers included). Tools that are missing are skipped with a
note: GoAccess comes from ``make bench-tools``. ``--events-at URL`` keeps each workspace's events in
a fresh folder under that fsspec URL (``[storage] events``), deleted after the run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from inputs import input_file  # noqa: E402
from measure import NAIVE, collect, launch, warm  # noqa: E402

FILTERLOG = ("filterlog", "local:1", "local:2")
TOOLS = (*FILTERLOG, "naive", "goaccess")
GOACCESS_FORMAT = "%x.%^ %~%L %h %^/%s %b %m %U %e %^ %M"
"""Squid native for GoAccess (../shared/research/performance.md): time, elapsed, client, code/status, bytes, ..."""
NAIVE_MAX = 10_000_000
GOACCESS_MAX = 10_000_000
"""Above this GoAccess runs only with --slow: it reads about 15,000 lines/s at 50M (an hour)."""
"""The naive parser holds every line as Python strings (~1.3 GB per million): above this it would not fit."""
_INGESTED = re.compile(r"([\d,]+) lines read, ([\d,]+) events, ([\d,]+) quarantined")


@dataclass
class Measure:
    """One child process: exit code, wall and CPU seconds, peak RSS of its largest process and of its tree."""

    argv: list[str]
    rc: int
    wall: float
    cpu: float
    rss_mb: float
    tree_mb: float
    stdout: str = ""
    stderr: str = ""


def spawn(argv: list[str], work: Path, env: dict[str, str] | None = None) -> Measure:
    """Run ``argv`` under measure.py's launcher (its own rusage), sampling the process tree's RSS."""
    pid = launch(argv, work, env)
    root, tree = psutil.Process(pid), 0
    while not os.waitpid(pid, os.WNOHANG)[0]:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
        except psutil.Error:
            pass
        tree = max(tree, total)
        time.sleep(0.2)
    usage = collect(work, argv)
    out, err = (work / "stdout").read_text(errors="replace"), (work / "stderr").read_text(errors="replace")
    return Measure(
        argv, int(usage["rc"]), usage["wall"], usage["cpu"], usage["maxrss_kib"] * 1024 / 1e6, tree / 1e6, out, err
    )


def split(log: Path, parts: int) -> list[Path]:
    """The log cut at newlines into ``parts`` files of about equal size (cached next to it)."""
    folder = log.parent / f"split-{parts}"
    done = folder / "ready"
    names = [folder / f"part-{i + 1}.log" for i in range(parts)]
    if done.exists():
        return names
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    size = log.stat().st_size
    with open(log, "rb") as src:
        start = 0
        for i, name in enumerate(names):
            end = size
            if i < parts - 1:
                src.seek(max(start, size * (i + 1) // parts))
                src.readline()
                end = src.tell()
            src.seek(start)
            with open(name, "wb") as dst:
                left = end - start
                while left > 0:
                    chunk = src.read(min(left, 16 << 20))
                    dst.write(chunk)
                    left -= len(chunk)
            start = end
    done.write_text("")
    return names


@dataclass
class Row:
    """Every run of one tool at one size; the table shows the fastest (by ingest wall time)."""

    tool: str
    lines: int
    input_mb: float
    ingests: list[Measure] = field(default_factory=list)
    detects: list[Measure] = field(default_factory=list)
    events: int | None = None
    note: str = ""

    @property
    def best(self) -> int:
        """Index of the run with the least ingest wall time."""
        return _fastest(self.ingests)

    @property
    def best_detect(self) -> int:
        """Index of the run with the least detect wall time (not always the fastest ingest's)."""
        return _fastest(self.detects)


def _fastest(runs: list[Measure]) -> int:
    ok = [i for i, m in enumerate(runs) if m.rc == 0]
    return min(ok, key=lambda i: runs[i].wall) if ok else -1


def _site_config(log: Path) -> str:
    """The demo's site configuration (its identity files), as ``filterlog demo`` writes it."""
    from filterlog.demo.run import _site_config as demo_config

    return demo_config(SimpleNamespace(ip_map=log.parent / "ip_map.csv", groups=log.parent / "groups.csv"))


def run_filterlog(tool: str, log: Path, parts: list[Path], work: Path, row: Row, events_at: str = "") -> None:
    """Ingest the parts into a fresh workspace, then detect on it; both measured."""
    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(mode=0o700)
    url = f"{events_at.rstrip('/')}/{work.name}" if events_at else ""
    (ws / "filterlog.toml").write_text(_site_config(log).replace('events = ""', f'events = "{url}"'), encoding="utf-8")
    base = [sys.executable, "-m", "filterlog", "--workspace", str(ws)]
    if tool != "filterlog":
        base += ["--scheduler", tool]
    try:
        for p in parts:
            warm(p)
        ingest = spawn([*base, "ingest", *map(str, parts)], work)
        row.ingests.append(ingest)
        if m := _INGESTED.search(ingest.stdout):
            row.events = int(m[2].replace(",", ""))
        if ingest.rc != 0:
            row.detects.append(Measure([], -1, 0, 0, 0, 0))
            print(f"!! {tool} ingest exited {ingest.rc}: {ingest.stderr[-1500:]}", file=sys.stderr)
            return
        detect = spawn([*base, "detect"], work)
        row.detects.append(detect)
        if detect.rc != 0:
            print(f"!! {tool} detect exited {detect.rc}: {detect.stderr[-1500:]}", file=sys.stderr)
    finally:
        shutil.rmtree(ws, ignore_errors=True)
        if url:
            import fsspec

            fs, inner = fsspec.core.url_to_fs(url)
            if fs.exists(inner):
                fs.rm(inner, recursive=True)


def run_other(tool: str, log: Path, work: Path, row: Row) -> None:
    """The naive parser or GoAccess on the unsplit log."""
    warm(log)
    if tool == "naive":
        argv = [sys.executable, str(NAIVE), str(log)]
    else:
        argv = [
            shutil.which("goaccess") or "goaccess", str(log), "--no-global-config", f"--log-format={GOACCESS_FORMAT}",
            "--date-format=%s", "--time-format=%s", "-o", str(work / "goaccess.html"),
        ]  # fmt: skip
    m = spawn(argv, work)
    row.ingests.append(m)
    if m.rc != 0:
        print(f"!! {tool} exited {m.rc}: {m.stderr[-1500:]}", file=sys.stderr)
    if tool == "naive" and (found := _INGESTED.search(m.stdout)):
        row.events = int(found[2].replace(",", ""))
    (work / "goaccess.html").unlink(missing_ok=True)


def skip_reason(tool: str, lines: int, slow: bool = False) -> str:
    """Why a tool is not run at this size ('' when it is)."""
    if tool == "naive" and lines > NAIVE_MAX:
        return f"not run: holds every line as Python strings (~{lines * 1.3 / 1e6:.0f} GB at this size)"
    if tool == "goaccess" and shutil.which("goaccess") is None:
        return "not installed (make bench-tools)"
    if tool == "goaccess" and lines > GOACCESS_MAX and not slow:
        return "not run: slows to about 15,000 lines/s at this size, an hour (--slow runs it)"
    return ""


# --- the report --------------------------------------------------------------------------------


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "absent"
    return out.strip().splitlines()[0] if out.strip() else "?"


def machine() -> list[str]:
    """CPU, memory, load and the versions that matter, one Markdown bullet each."""
    import dask
    import distributed
    import pyarrow

    import filterlog

    cpu = next((x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text().splitlines()
                if x.startswith("model name")), platform.processor())  # fmt: skip
    mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem / 1024**2:.1f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}, filterlog {filterlog.__version__}, pyarrow {pyarrow.__version__}, "
        f"dask {dask.__version__}, distributed {distributed.__version__}; {_version(['goaccess', '--version'])}",
        *([RECLAIMED] if _page_reporting() else []),
    ]


RECLAIMED = (
    "- a VM whose balloon takes back the memory the guest frees (free page reporting): memory written for the first"
    " time after that is slow, which detect's spill at 50M pays (benchmarks/README.md, the VM's memory)"
)


def _page_reporting() -> bool:
    """Whether a virtio balloon device reports freed pages to the host (VIRTIO_BALLOON_F_REPORTING, feature bit 5)."""
    devices = Path("/sys/bus/virtio/drivers/virtio_balloon").glob("virtio*")
    return any(len(bits := (d / "features").read_text().strip()) > 5 and bits[5] == "1" for d in devices)


def _s(x: float) -> str:
    return f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def table(rows: list[Row]) -> list[str]:
    """The results table: one line per tool and size (its fastest run)."""
    out = [
        "| tool | lines | input MB | ingest s | ingest CPU s | lines/s | ingest peak RSS MB (largest / all) "
        "| detect s | events/s | detect peak RSS MB (largest / all) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        head = f"| {r.tool} | {r.lines:,} | {r.input_mb:,.0f} |"
        if r.note or r.best < 0:
            out.append(f"{head} {r.note or 'failed'} | | | | | | |")
            continue
        i = r.ingests[r.best]
        cells = [_s(i.wall), _s(i.cpu), f"{r.lines / i.wall:,.0f}", f"{i.rss_mb:,.0f} / {i.tree_mb:,.0f}"]
        d = r.detects[r.best_detect] if r.detects else None  # all failed: the last, shown as failed
        if d is None:
            cells += ["–", "–", "–"]
        elif d.rc != 0:
            cells += ["failed", "", ""]
        else:
            cells += [_s(d.wall), f"{(r.events or 0) / d.wall:,.0f}", f"{d.rss_mb:,.0f} / {d.tree_mb:,.0f}"]
        out.append(f"{head} {' | '.join(cells)} |")
    return out


def ratios(rows: list[Row]) -> list[str]:
    """local:2 over local:1 ingest throughput, per size (the issue's target: at least 1.7): fastest and per round."""
    out = []
    for lines in sorted({r.lines for r in rows}):
        pair = {r.tool: r for r in rows if r.lines == lines and r.tool in ("local:1", "local:2") and r.best >= 0}
        if len(pair) == 2:
            one, two = (pair[t].ingests[pair[t].best].wall for t in ("local:1", "local:2"))
            speed = f"{one / two:.2f}× as fast as local:1 ({_s(one)} s → {_s(two)} s)"
            rounds = [
                a.wall / b.wall
                for a, b in zip(pair["local:1"].ingests, pair["local:2"].ingests, strict=False)
                if a.rc == 0 and b.rc == 0
            ]
            if len(rounds) > 1:
                each = ", ".join(f"{x:.2f}" for x in rounds)
                speed += f"; round by round {each} (median {statistics.median(rounds):.2f})"
            out.append(f"- {lines:,} lines: local:2 ingests {speed}")
    return out


def every_run(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        if r.note:
            continue
        ingest = ", ".join(f"{_s(m.wall)} s ({_s(m.cpu)} CPU s)" if m.rc == 0 else f"rc={m.rc}" for m in r.ingests)
        line = f"- {r.tool}, {r.lines:,} lines: ingest {ingest}"
        if r.detects:
            line += "; detect " + ", ".join(
                f"{_s(m.wall)} s ({_s(m.cpu)} CPU s)" if m.rc == 0 else f"rc={m.rc}" for m in r.detects
            )
        out.append(line)
    return out


HOW_TO_READ = """\
How to read it. Each row is the fastest of its runs: its fastest ingest, and its fastest detect
(all runs are listed below, with CPU seconds, which vary far less than wall time on a shared
host: ±20 % swings in wall time are normal here). With `--repeat` the runs go round by round,
every tool once per round, so that the host's quiet and busy spells fall on all tools alike.
*ingest s* is the whole `filterlog ingest` command from process start to exit
(imports, hashing, parsing, Parquet writing, and for `local:N` starting and stopping the Dask
cluster, a few seconds); *lines/s* is input lines over that time. *detect s* is `filterlog
detect` over the workspace just ingested, *events/s* the events it judged per second. Peak RSS
is given twice: the largest single process (rusage, what one process needs) and the whole
process tree sampled every 0.2 s (client plus Dask workers: what the machine needs). CPU seconds
include the workers' (they are the command's children). `filterlog` is the in-process engine
(threads); `local:1` and `local:2` run the same code on a local Dask cluster of one and two
single-threaded worker processes, the client keeping the manifest, the line tally and the
commit; their ratio is the scaling the issue asks about (target ≥ 1.7× on several files). The
workers hash the files and count their lines; the client reads only around each chunk's cut, but
its bookkeeping and the scheduler still share the two cores with the workers, so `local:2` can
only approach 2×. On one machine `local:2` and the in-process engine are about as fast on large
logs, and the in-process engine is faster on small ones (no process start, no pickling): Dask
pays off when more machines share the work. The naive parser and GoAccess read the same bytes as one file: the
naive parser keeps ten fields and checks nothing (it flatters itself), GoAccess builds its traffic
report only (no per-person findings); neither has a detect step."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1M,10M,50M", help="line counts, e.g. 1M,10M,50M (default: %(default)s)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="which rows (default: %(default)s)")
    ap.add_argument("--files", type=int, default=4, help="pieces the log is split into (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (each tool once a round); the fastest is shown")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache-dir", type=Path, default=HERE / ".cache", help="generated logs (default: %(default)s)")
    ap.add_argument("--tmp-dir", type=Path, help="where workspaces are written (default: the system temp dir)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="the report (default: %(default)s)")
    ap.add_argument("--keep-logs", action="store_true", help="keep logs this run generated (300 MB per 1M lines)")
    ap.add_argument("--slow", action="store_true", help=f"also run GoAccess above {GOACCESS_MAX:,} lines")
    ap.add_argument("--events-at", default="", metavar="URL", help="keep the events under this fsspec URL")
    args = ap.parse_args(argv)
    sizes = [int(float(s[:-1]) * {"K": 1e3, "M": 1e6}[s[-1].upper()]) if s[-1].isalpha() else int(s)
             for s in args.sizes.split(",")]  # fmt: skip
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if unknown := set(tools) - set(TOOLS):
        ap.error(f"unknown tools {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    tmp_root = args.tmp_dir or Path(tempfile.gettempdir())
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    rows: list[Row] = []
    for lines in sizes:
        cached = set(args.cache_dir.glob(f"demo-{lines}-s{args.seed}-*/bench-meta.json"))
        log, source = input_file(lines, args.seed, args.cache_dir, "demo")
        made = log.parent / "bench-meta.json" not in cached
        parts = split(log, args.files)
        input_mb = log.stat().st_size / 1e6
        print(f"{lines:,} lines: {log} ({input_mb:,.0f} MB, {source}), split into {len(parts)} files", flush=True)
        size_rows = []
        for tool in tools:
            row = Row(tool, lines, input_mb, note=skip_reason(tool, lines, args.slow))
            rows.append(row)
            if row.note:
                print(f"  {tool}: {row.note}", flush=True)
            else:
                size_rows.append(row)
        # Round by round, every tool once per round: a quiet or a busy spell of the host then falls on
        # all of them alike, not on whichever tool's runs it happened to coincide with.
        for _ in range(args.repeat):
            for row in size_rows:
                work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=tmp_root))
                try:
                    if row.tool in FILTERLOG:
                        run_filterlog(row.tool, log, parts, work, row, args.events_at)
                    else:
                        run_other(row.tool, log, work, row)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                i = row.ingests[-1]
                d = f"; detect {row.detects[-1].wall:.1f} s" if row.detects else ""
                print(f"  {row.tool}: ingest {i.wall:.1f} s, {i.cpu:.1f} CPU s, {i.tree_mb:,.0f} MB{d}", flush=True)
        shutil.rmtree(parts[0].parent, ignore_errors=True)  # the split copy
        if made and not args.keep_logs:  # generated by this run: 300 MB per million lines
            shutil.rmtree(log.parent, ignore_errors=True)
    doc = [
        "# filterlog at scale: ingest and detect beside a naive parser and GoAccess",
        "",
        f"Made by `python benchmarks/bench_scale.py --sizes {args.sizes} --tools {','.join(tools)} "
        f"--files {args.files} --repeat {args.repeat}{' --slow' if args.slow else ''}"
        f"{f' --events-at {args.events_at}' if args.events_at else ''}` on {started:%Y-%m-%d %H:%M} UTC "
        f"(generated demo day, Squid native; filterlog reads it as {args.files} files).",
        "",
        *machine(),
        f"- load average at the start {' '.join(f'{x:.2f}' for x in load_before)}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (a busy start means"
        " other work on the host: check the wall and CPU seconds below before comparing runs)",
        "",
        *table(rows),
        "",
        *(["Scaling of ingest on the Dask cluster:", "", *ratios(rows), ""] if ratios(rows) else []),
        HOW_TO_READ,
        "",
        "Every run:",
        "",
        *every_run(rows),
        "",
    ]
    args.out.write_text("\n".join(doc), encoding="utf-8")
    print("\n".join(table(rows)))
    print(f"written to {args.out}")
    return 0 if all(m.rc == 0 for r in rows for m in (*r.ingests, *r.detects)) else 1


if __name__ == "__main__":
    sys.exit(main())
