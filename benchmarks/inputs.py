"""The benchmark's input log, generated once per (generator, lines, seed) and cached.

Generating a million lines takes longer than ingesting them, so the file is made once and kept
under ``--cache-dir``; the key includes a digest of ``filterlog/demo`` so an edited demo
cannot be measured against a stale file. When ``filterlog.demo.generate_day`` is missing (or
broken mid-edit) the vectorised generator here stands in, so the benchmark still runs.
bench_ingest.py and bench_scale.py share it, so both measure the same day.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = date(2026, 11, 23)  # a Monday in term; Europe/London is on UTC then
TIMEZONE = "Europe/London"
USERS = 2_000
HOSTS = 20_000
TAIL_SITES = 20_000
"""Small sites the demo day gets beside its two hundred curated hosts (``filterlog.demo.tail``): a real
day names tens of thousands of hosts, and everything done per distinct host must be measured at that size."""
BUILTIN_VERSION = 1  # bump when the built-in generator's output changes: invalidates the cache


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


def _files_digest(paths: list[Path], *extra: str) -> str:
    h = hashlib.sha256("".join(extra).encode())
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
        key = _files_digest(sorted((src / "demo").glob("*.py")), f"tail={TAIL_SITES}")  # changed generator: new file
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
    wanted = {"lines": lines, "day": DAY, "seed": seed, "users": USERS, "timezone": TIMEZONE, "tail_sites": TAIL_SITES}
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
