"""Squid native ingest throughput and peak memory: ``filterlog ingest`` beside a naive parser.

    python benchmarks/bench_ingest.py                    # 1M lines, best of 1
    python benchmarks/bench_ingest.py --lines 200000 --repeat 3 --json out.json
    python benchmarks/bench_ingest.py --profile          # in-process cProfile, top 25 by tottime

The input is one generated Squid native access.log, cached under ``--cache-dir`` by line
count and seed. It comes from ``filterlog.demo.generate_day`` when that exists, else from the
vectorised generator below. Each measured run is its own child process (the real CLI,
``python -m filterlog``, and ``benchmarks/naive.py``), so wall time includes interpreter
start-up and imports, and the peak RSS is that child's alone (``os.wait4`` rusage).
See benchmarks/README.md for caveats.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import inspect
import io
import json
import os
import platform
import pstats
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HERE = Path(__file__).resolve().parent
NAIVE = HERE / "naive.py"
DAY = date(2026, 11, 23)  # a Monday in term; Europe/London is on UTC then
TIMEZONE = "Europe/London"
USERS = 2_000
HOSTS = 20_000
BUILTIN_VERSION = 1  # bump when the built-in generator's output changes: invalidates the cache
_CLOSING = re.compile(r"([\d,]+) lines read, ([\d,]+) events, ([\d,]+) quarantined")


# --------------------------------------------------------------------------------------------
# Input: filterlog.demo when available, else a built-in vectorised generator
# --------------------------------------------------------------------------------------------


def _demo_generate_day() -> Callable[..., Any] | None:
    """``filterlog.demo.generate_day``, or None when the module or the function is missing."""
    try:
        from filterlog import demo
    except ImportError:
        return None
    except Exception as exc:  # a demo.py being edited must not stop the benchmark
        print(f"note: filterlog.demo failed to import ({exc!r}); using the built-in generator", file=sys.stderr)
        return None
    return getattr(demo, "generate_day", None)


def _files_digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:10]


def input_file(lines: int, seed: int, cache_dir: Path, generator: str) -> tuple[Path, str]:
    """The cached log for (generator, lines, seed), generating it on first use."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    gen_day = _demo_generate_day() if generator in ("auto", "demo") else None
    if generator == "demo" and gen_day is None:
        raise SystemExit("--generator demo: filterlog.demo.generate_day is not available")
    if gen_day is not None:
        import filterlog

        src = Path(filterlog.__file__).parent
        key = _files_digest(sorted((src / "demo").glob("*.py")))  # a changed generator, a new file
        out_dir = cache_dir / f"demo-{lines}-s{seed}-{key}"
        meta = out_dir / "bench-meta.json"
        if not meta.exists():
            tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=cache_dir))
            try:
                t0 = time.perf_counter()
                day = _call_generate_day(gen_day, tmp, lines, seed)
                log = Path(day.log).resolve().relative_to(tmp.resolve())
                meta_tmp = tmp / "bench-meta.json"
                meta_tmp.write_text(json.dumps({"log": str(log), "seconds": time.perf_counter() - t0}))
                for stale in cache_dir.glob(f"demo-{lines}-s{seed}-*"):  # made by an older demo.py
                    if stale.is_dir() and "." not in stale.name:
                        shutil.rmtree(stale, ignore_errors=True)
                os.replace(tmp, out_dir)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return out_dir / json.loads(meta.read_text())["log"], "filterlog.demo.generate_day"

    path = cache_dir / f"squid-builtin-v{BUILTIN_VERSION}-{lines}-s{seed}.log"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            generate_builtin(tmp, lines, seed)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path, f"built-in v{BUILTIN_VERSION}"


def _call_generate_day(gen_day: Callable[..., Any], out_dir: Path, lines: int, seed: int) -> Any:
    wanted = {"lines": lines, "day": DAY, "seed": seed, "users": USERS, "timezone": TIMEZONE}
    params = inspect.signature(gen_day).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        wanted = {k: v for k, v in wanted.items() if k in params}
    return gen_day(out_dir, **wanted)


_FIRST = (
    "adam aisha alex alfie amelia amir amy archie ava ben bethany callum charlie chloe daniel david ella "
    "emily emma ethan evie fatima finley freddie george grace hannah harry isla jack jacob james jasmine "
    "joseph joshua katie kai layla leo lily logan lucy luke maisie mason mia millie noah olivia oscar"
).split()
_SURNAMES = (
    "smith jones taylor brown williams wilson johnson davies patel robinson wright thompson evans walker "
    "white roberts green hall thomas clarke jackson wood harris edwards turner martin cooper hill ward "
    "hughes moore clark king harrison lewis baker lee allen morris khan scott watson davis parker bennett"
).split()
_WORDS = (
    "learn maths science quiz news sport game music video photo cloud mail docs drive shop travel food "
    "weather school class homework revise study book library art history geo code dev data stream cdn "
    "media static api auth login portal wiki forum chat social play tube pixel fast bright green blue"
).split()
_TLDS = ["com", "co.uk", "org", "org.uk", "net", "io", "ac.uk", "sch.uk", "gov.uk", "tv"]
_TOP_HOSTS = [
    "www.google.com", "www.youtube.com", "login.microsoftonline.com", "outlook.office365.com",
    "www.bbc.co.uk", "i.ytimg.com", "fonts.gstatic.com", "classroom.google.com", "www.wikipedia.org",
    "teams.microsoft.com", "apis.google.com", "www.oakfieldacademy.org.uk", "update.googleapis.com",
    "static.xx.fbcdn.net", "www.tiktok.com", "cdn.jsdelivr.net", "www.instagram.com", "www.amazon.co.uk",
]  # fmt: skip
_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Edg/131.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50",
]  # fmt: skip
# (code, weight) for CONNECT and for every other method
_CONNECT_CODES = [("TCP_TUNNEL/200", 0.92), ("TCP_DENIED/403", 0.06), ("TCP_DENIED/407", 0.02)]
_OTHER_CODES = [
    ("TCP_MISS/200", 0.55), ("TCP_HIT/200", 0.08), ("TCP_MEM_HIT/200", 0.05), ("TCP_REFRESH_UNMODIFIED/304", 0.08),
    ("TCP_MISS/304", 0.05), ("TCP_MISS/302", 0.02), ("TCP_MISS/404", 0.03), ("TCP_DENIED/403", 0.09),
    ("TCP_DENIED/407", 0.04), ("NONE/503", 0.01),
]  # fmt: skip
_MIMES = [
    ("text/html", 0.3), ("application/json", 0.2), ("image/png", 0.12), ("image/jpeg", 0.1), ("text/css", 0.06),
    ("application/javascript", 0.12), ("video/mp4", 0.04), ("application/octet-stream", 0.03), ("-", 0.03),
]  # fmt: skip
_PATHS = [  # (prefix, suffix): the path is prefix + a random number + suffix, or just "/" for the first
    ("/", ""), ("/static/js/app.", ".js"), ("/images/", ".png"), ("/api/v1/items?id=", ""), ("/watch?v=", ""),
    ("/search?q=term", "&hl=en"), ("/article/", ".html"), ("/css/site.", ".css"), ("/media/", ".mp4"),
]  # fmt: skip
_JUNK_RATE = 1e-4  # truncated lines, as a crash or a rotated file leaves them: the quarantine path


def _pick(rng: np.random.Generator, table: list[tuple[str, float]], n: int) -> tuple[pa.Array, np.ndarray]:
    names = pa.array([name for name, _ in table])
    w = np.array([weight for _, weight in table])
    idx = rng.choice(len(table), size=n, p=w / w.sum())
    return names.take(pa.array(idx)), idx


def _world(rng: np.random.Generator) -> dict[str, object]:
    """Users, their address and browser; hosts, their address and popularity."""
    users = [
        f"{_FIRST[i % len(_FIRST)]}.{_SURNAMES[(i // len(_FIRST)) % len(_SURNAMES)]}{i // 2400 or ''}"
        for i in range(USERS)
    ]
    user_ip = [f"10.{20 + i // 250}.{i % 250}.{10 + i % 200}" for i in range(USERS)]
    user_ua = rng.choice(len(_UAS), size=USERS, p=np.array([30, 8, 25, 10, 6, 12, 6, 3]) / 100)
    words = rng.choice(_WORDS, size=(HOSTS, 2))
    tlds = rng.choice(_TLDS, size=HOSTS)
    prefix = rng.choice(["www.", "", "cdn.", "api.", "static."], size=HOSTS, p=[0.5, 0.2, 0.1, 0.1, 0.1])
    hosts = [f"{p}{a}{b}{i}.{t}" for i, (p, (a, b), t) in enumerate(zip(prefix, words, tlds, strict=True))]
    hosts[: len(_TOP_HOSTS)] = _TOP_HOSTS
    host_ip = [f"{(i * 7) % 200 + 20}.{(i * 13) % 250}.{(i * 29) % 250}.{i % 250 + 1}" for i in range(HOSTS)]
    pop = 1.0 / np.arange(1, HOSTS + 1) ** 1.05  # Zipf-like: hosts repeat ~1000x at 1M lines
    activity = rng.lognormal(0.0, 0.8, USERS)
    return {
        "users": pa.array(users),
        "user_ip": pa.array(user_ip),
        "user_ua": pa.array([f'"{_UAS[k]}"\n' for k in user_ua]),
        "hosts": pa.array(hosts),
        "host_ip": pa.array(host_ip),
        "host_p": pop / pop.sum(),
        "user_p": activity / activity.sum(),
    }


def _chunk(rng: np.random.Generator, world: dict[str, Any], ms: np.ndarray) -> pa.Array:
    n = len(ms)
    join = pc.binary_join_element_wise
    sec = pa.array(ms // 1000).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(ms % 1000).cast(pa.string()), width=3, padding="0")
    elapsed = np.clip(rng.lognormal(5.5, 1.6, n), 0, 3_600_000).astype(np.int64)
    elapsed_s = pc.utf8_lpad(pa.array(elapsed).cast(pa.string()), width=6, padding=" ")

    u = rng.choice(USERS, size=n, p=world["user_p"])
    anon = rng.random(n) < 0.05
    user = pc.if_else(pa.array(anon), "-", world["users"].take(pa.array(u)))
    client = world["user_ip"].take(pa.array(u))
    h = rng.choice(HOSTS, size=n, p=world["host_p"])
    host = world["hosts"].take(pa.array(h))

    connect = rng.random(n) < 0.20
    other = np.array(["GET", "POST", "HEAD", "PUT"])[rng.choice(4, size=n, p=[0.88, 0.1, 0.015, 0.005])]
    method = pa.array(np.where(connect, "CONNECT", other))
    ccode, _ = _pick(rng, _CONNECT_CODES, n)
    ocode, _ = _pick(rng, _OTHER_CODES, n)
    code = pc.if_else(pa.array(connect), ccode, ocode)
    no_upstream = pc.match_substring_regex(code, "DENIED|HIT|NONE|UNMODIFIED")

    bytes_ = np.clip(rng.lognormal(8.0, 2.0, n), 0, 2e9).astype(np.int64)
    bytes_s = pc.if_else(
        no_upstream, pa.array(rng.integers(3500, 4200, n)).cast(pa.string()), pa.array(bytes_).cast(pa.string())
    )

    k = rng.choice(len(_PATHS), size=n)
    pre = pa.array([p for p, _ in _PATHS]).take(pa.array(k))
    suf = pa.array([s for _, s in _PATHS]).take(pa.array(k))
    num = pc.if_else(pa.array(k == 0), "", pa.array(rng.integers(0, 10_000_000, n)).cast(pa.string()))
    url = pc.if_else(pa.array(connect), join(host, ":443", ""), join("http://", host, pre, num, suf, ""))

    hier = pc.if_else(no_upstream, "HIER_NONE/-", join("HIER_DIRECT/", world["host_ip"].take(pa.array(h)), ""))
    mime, _ = _pick(rng, _MIMES, n)
    mime = pc.if_else(pc.or_(pa.array(connect), no_upstream), "-", mime)
    with_ref = ~connect & (rng.random(n) < 0.5)
    ref_host = world["hosts"].take(pa.array(rng.choice(HOSTS, size=n, p=world["host_p"])))
    referer = pc.if_else(pa.array(with_ref), join('"http://', ref_host, '/"', ""), '"-"')
    ua = world["user_ua"].take(pa.array(u))

    stamp = join(sec, ".", frac, "")
    line = join(stamp, elapsed_s, client, code, bytes_s, method, url, user, hier, mime, referer, ua, " ")
    junk = rng.random(n) < _JUNK_RATE
    if junk.any():
        short = join(join(stamp, elapsed_s, client, code, " "), "\n", "")
        line = pc.if_else(pa.array(junk), short, line)
    return line


def generate_builtin(path: Path, lines: int, seed: int, chunk: int = 250_000) -> None:
    """Write ``lines`` Squid native lines (with quoted referer and user agent) for one school day.

    ~20 % CONNECT, 2,000 users, 20,000 hosts with Zipf-like popularity, ~5 % unauthenticated,
    a few truncated lines (1 in 10,000). Vectorised: numpy draws, pyarrow string joins.
    """
    rng = np.random.default_rng(seed)
    world = _world(rng)
    t0 = int(datetime(DAY.year, DAY.month, DAY.day, 8, 0, tzinfo=UTC).timestamp() * 1000)
    ms = np.sort(rng.integers(t0, t0 + 8 * 3600 * 1000, lines))
    with open(path, "wb") as fh:
        for lo in range(0, lines, chunk):
            arr = _chunk(rng, world, ms[lo : lo + chunk])
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            arr = arr.cast(pa.large_string())
            offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset : arr.offset + len(arr) + 1]
            fh.write(memoryview(arr.buffers()[2])[offsets[0] : offsets[-1]])


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


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


def launch(argv: list[str], work: Path, env: dict[str, str] | None = None) -> int:
    """Start argv under the launcher, stdout/stderr into ``work``, no progress bar; the launcher's pid."""
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
    """One run of ``filterlog`` or ``naive`` on ``log`` in a fresh directory."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{tool}-", dir=tmp_root))
    try:
        if tool == "filterlog":
            argv = [sys.executable, "-m", "filterlog", "--workspace", str(work / "ws"), "ingest", str(log)]
        else:
            argv = [sys.executable, str(NAIVE), str(log), "--out", str(work / "events.parquet")]
        usage = _spawn(argv, work)
        rc = int(usage["rc"])
        text = (work / "stdout").read_text(errors="replace").strip()
        closing = text.splitlines()[-1] if text else ""
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


def _startup() -> tuple[float, float]:
    """Wall seconds and peak RSS MB to start Python and import what ``filterlog ingest`` imports."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        code = "import filterlog.cli, filterlog.ingest, filterlog.workspace"
        usage = _spawn([sys.executable, "-c", code], Path(tmp))
    return usage["wall"], usage["maxrss_kib"] * 1024 / 1e6


def _fmt_int(v: int | None) -> str:
    return "" if v is None else f"{v:,}"


def table(best: dict[str, Run], input_mb: float) -> str:
    """The Markdown results table, one row per tool (its best run)."""
    rows = [
        "| tool | lines | input MB | wall s | CPU s | lines/s | peak RSS MB | events | quarantined | Parquet MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in best.values():
        rows.append(
            f"| {r.tool} | {r.lines:,} | {input_mb:,.1f} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.lines_per_s:,.0f}"
            f" | {r.peak_rss_mb:,.0f} | {_fmt_int(r.events)} | {_fmt_int(r.quarantined)} | {r.output_mb:,.1f} |"
        )
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------


def profile(log: Path, tmp_root: Path, top: int, sort: str, dump: Path | None) -> None:
    """Ingest in-process under cProfile (main thread and the parse worker threads, merged)."""
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()
        try:
            original_run(self)
        finally:
            prof.disable()

    work = Path(tempfile.mkdtemp(prefix="bench-profile-", dir=tmp_root))
    main = cProfile.Profile()
    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        main.enable()
        try:
            report = ingest(Workspace(work / "ws"), [str(log)])
        finally:
            main.disable()
        wall = time.perf_counter() - t0
    finally:
        threading.Thread.run = original_run  # type: ignore[method-assign]
        shutil.rmtree(work, ignore_errors=True)
    print(report.summary())
    print(f"in-process ingest under cProfile: {wall:.2f} s wall ({len(profiles)} worker threads profiled)\n")
    stats = pstats.Stats(main, stream=io.StringIO())
    for p in profiles:
        stats.add(p)
    if dump:
        stats.dump_stats(dump)
        print(f"profile written to {dump} (open with snakeviz or pstats)\n")
    buf = io.StringIO()
    stats.stream = buf
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    text = buf.getvalue()
    print(text[text.find("   ncalls") :] if "   ncalls" in text else text)
    print(
        "Note: tottime sums over the main thread and the parse workers, so it can exceed wall time.\n"
        "The main thread waiting on worker futures shows as {method 'acquire' of '_thread.lock' objects};\n"
        "idle workers waiting for a block as {method 'get' of '_queue.SimpleQueue' objects}."
    )


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Squid native ingest throughput and peak RSS, filterlog vs naive.")
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the fastest is reported (default: 1)")
    ap.add_argument("--skip-naive", action="store_true", help="measure filterlog only")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    ap.add_argument("--cache-dir", type=Path, default=HERE / ".cache", help="generated logs (default: %(default)s)")
    ap.add_argument("--tmp-dir", type=Path, help="where workspaces are written (default: the system temp dir)")
    ap.add_argument(
        "--generator",
        choices=["auto", "demo", "builtin"],
        default="auto",
        help="auto: filterlog.demo.generate_day if present, else built-in (default: auto)",
    )
    ap.add_argument("--profile", action="store_true", help="instead: ingest in-process under cProfile")
    ap.add_argument("--profile-top", type=int, default=25, help="functions to list (default: 25)")
    ap.add_argument("--profile-sort", default="tottime", help="pstats sort key (default: tottime)")
    ap.add_argument("--profile-out", type=Path, help="also dump the merged profile here (.prof)")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        ap.error("--lines and --repeat must be positive")
    tmp_root = args.tmp_dir or Path(tempfile.gettempdir())
    tmp_root.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    log, source = input_file(args.lines, args.seed, args.cache_dir, args.generator)
    gen_s = time.perf_counter() - t0
    size, lines, read_s = warm(log)
    input_mb = size / 1e6
    print(f"input: {log} ({source}; ready in {gen_s:.1f} s)")
    print(f"       {lines:,} lines, {input_mb:,.1f} MB; read once into the page cache in {read_s:.2f} s")
    print(
        f"host:  {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    if args.profile:
        profile(log, tmp_root, args.profile_top, args.profile_sort, args.profile_out)
        return 0

    tools = ["filterlog"] if args.skip_naive else ["filterlog", "naive"]
    runs: list[Run] = []
    for i in range(args.repeat):
        for tool in tools:  # interleaved, so a burst of load elsewhere hits both tools alike
            warm(log)
            run = measure(tool, log, lines, tmp_root)
            runs.append(run)
            print(
                f"  run {i + 1}/{args.repeat} {tool:<9} {run.wall_s:6.2f} s  {run.lines_per_s:>11,.0f} lines/s  "
                f"CPU {run.cpu_s:6.2f} s  {run.peak_rss_mb:7,.0f} MB  rc={run.returncode}",
                flush=True,
            )
    startup, startup_rss = _startup()
    ok = [r for r in runs if r.returncode == 0]
    best = {t: min(rs, key=lambda r: r.wall_s) for t in tools if (rs := [r for r in ok if r.tool == t])}

    print()
    print(table(best, input_mb))
    ratio = rss_ratio = cpu_ratio = None
    if "filterlog" in best and "naive" in best:
        ratio = best["filterlog"].lines_per_s / best["naive"].lines_per_s
        rss_ratio = best["naive"].peak_rss_mb / best["filterlog"].peak_rss_mb
        cpu_ratio = best["naive"].cpu_s / best["filterlog"].cpu_s
        print(
            f"\nspeed ratio filterlog/naive: {ratio:.1f}x (lines/s, wall); CPU time naive/filterlog: {cpu_ratio:.1f}x; "
            f"peak RSS naive/filterlog: {rss_ratio:.1f}x"
        )
    print(
        f"best of {args.repeat}; whole-process wall time, including interpreter start-up and imports "
        f"(filterlog's alone: {startup:.2f} s, {startup_rss:.0f} MB); noisy on shared hosts (±30 %)"
    )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "input": {"path": str(log), "generator": source, "seed": args.seed, "lines": lines, "bytes": size},
            "host": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "loadavg": os.getloadavg(),
            },
            "repeat": args.repeat,
            "filterlog_startup": {"wall_s": startup, "peak_rss_mb": startup_rss},
            "runs": [{**asdict(r), "lines_per_s": r.lines_per_s} for r in runs],
            "best": {t: {**asdict(r), "lines_per_s": r.lines_per_s} for t, r in best.items()},
            "speed_ratio_filterlog_over_naive": ratio,
            "cpu_ratio_naive_over_filterlog": cpu_ratio,
            "rss_ratio_naive_over_filterlog": rss_ratio,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0 if len(ok) == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
