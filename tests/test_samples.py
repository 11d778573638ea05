"""Golden tests: every samples/*.log ingested through the library equals its hand-written .expected.jsonl.

The expected files were written by hand from DESIGN.md and research/formats.md §1a/1b,
not produced by the program. Cells where the program departs from that reading are
listed in DEVIATIONS and checked by strict xfail tests, so the rest of each sample
keeps being compared.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers import SAMPLE_LOGS, diff_rows, event_rows, load_expected

from filterlog.ingest import ingest
from filterlog.workspace import Workspace

DEVIATIONS: dict[tuple[str, int, str], str] = {}
"""(sample, source_line, column) → why the program's value differs from the hand-derived one."""


def _ingest(tmp_path: Path, log: Path, name: str | None = None, data: bytes | None = None) -> list[dict]:
    path = log
    if data is not None:
        path = tmp_path / (name or log.name)
        path.write_bytes(data)
        os.utime(path, (time.time() - 3600, time.time() - 3600))  # a finished log, not one being written
    ws = Workspace(tmp_path / "ws")
    try:
        report = ingest(ws, [path])
        assert not report.failed, report.failed
        return event_rows(ws)
    finally:
        ws.close()


def test_every_sample_has_expectations() -> None:
    assert len(SAMPLE_LOGS) >= 4
    for log in SAMPLE_LOGS:
        assert log.with_name(log.stem + ".expected.jsonl").is_file(), f"{log.name} has no .expected.jsonl"


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_sample_matches_expected(tmp_path: Path, log: Path) -> None:
    got = _ingest(tmp_path, log)
    want = load_expected(log)
    skip = {(line, col) for (sample, line, col) in DEVIATIONS if sample == log.name}
    problems = diff_rows(got, want, skip)
    assert not problems, f"{log.name} differs from {log.stem}.expected.jsonl:\n{problems}"


@pytest.mark.parametrize(
    ("sample", "line", "column"),
    [pytest.param(*key, marks=pytest.mark.xfail(strict=True, reason=why)) for key, why in DEVIATIONS.items()],
    ids=[f"{s}:{n}:{c}" for s, n, c in DEVIATIONS],
)
def test_known_deviation(tmp_path: Path, sample: str, line: int, column: str) -> None:
    log = next(p for p in SAMPLE_LOGS if p.name == sample)
    got = {r["source_line"]: r for r in _ingest(tmp_path, log)}
    want = {r["source_line"]: r for r in load_expected(log)}
    assert got[line][column] == want[line][column]


# --- the same request logged in two formats gives the same canonical values --------------

SHARED_FIELDS = [
    "time",
    "client_ip",
    "user",
    "user_raw",
    "method",
    "url",
    "scheme",
    "host",
    "port",
    "path",
    "query",
    "status",
    "action",
    "vendor_action",
    "bytes_in",
]
PAIRS = {
    # (sample A, sample B): [(line in A, line in B), ...] (same request, logged twice)
    ("squid-native.log", "squid-common.log"): [(3, 1), (4, 2), (5, 3), (6, 4), (10, 5), (18, 6)],
    ("squid-native-useragent.log", "squid-combined.log"): [(1, 1), (2, 2), (3, 3), (5, 4), (8, 5)],
}


@pytest.mark.parametrize(("a", "b"), list(PAIRS), ids=[f"{a}~{b}" for a, b in PAIRS])
def test_same_events_across_formats(tmp_path: Path, a: str, b: str) -> None:
    logs = {p.name: p for p in SAMPLE_LOGS}
    rows_a = {r["source_line"]: r for r in _ingest(tmp_path / "a", logs[a])}
    rows_b = {r["source_line"]: r for r in _ingest(tmp_path / "b", logs[b])}
    fields = SHARED_FIELDS + (["referer", "user_agent"] if "combined" in b else [])
    problems = []
    for la, lb in PAIRS[(a, b)]:
        for f in fields:
            if rows_a[la][f] != rows_b[lb][f]:
                problems.append(f"{a}:{la} vs {b}:{lb} {f}: {rows_a[la][f]!r} != {rows_b[lb][f]!r}")
    assert not problems, "\n".join(problems)


# --- layout variants: the same lines, differently framed, give the same events ---------------


def _variant(raw: bytes, kind: str) -> tuple[bytes, dict[int, int]]:
    """Rewrite a sample's bytes; return the data and the old → new line-number map."""
    lines = raw.splitlines()
    n = len(lines)
    if kind == "blank-first":
        return b"\n" + raw, {i: i + 1 for i in range(1, n + 1)}
    if kind == "blank-middle":
        data = b"".join(x + (b"\n\n" if i == 2 else b"\n") for i, x in enumerate(lines, 1))
        return data, {i: i + (1 if i > 2 else 0) for i in range(1, n + 1)}
    if kind == "crlf":
        return raw.replace(b"\n", b"\r\n"), {i: i for i in range(1, n + 1)}
    if kind == "no-final-newline":
        return raw.rstrip(b"\n"), {i: i for i in range(1, n + 1)}
    if kind == "trailing-spaces":
        return b"".join(x + b"  \n" for x in lines), {i: i for i in range(1, n + 1)}
    raise AssertionError(kind)


VARIANTS = ["blank-first", "blank-middle", "crlf", "no-final-newline", "trailing-spaces"]
VARIANT_BUGS: dict[tuple[str, str], str] = {}


def _variant_params() -> list:
    params = []
    for log in SAMPLE_LOGS:
        for kind in VARIANTS:
            why = VARIANT_BUGS.get((log.name, kind))
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            params.append(pytest.param(log, kind, marks=marks, id=f"{log.name}-{kind}"))
    return params


@pytest.mark.parametrize(("log", "kind"), _variant_params())
def test_layout_variant_gives_same_events(tmp_path: Path, log: Path, kind: str) -> None:
    data, renumber = _variant(log.read_bytes(), kind)
    got = _ingest(tmp_path, log, name=log.name, data=data)
    want = load_expected(log)
    for row in want:
        row["source_line"] = renumber[row["source_line"]]
    skip = {(renumber[line], col) for (sample, line, col) in DEVIATIONS if sample == log.name}
    problems = diff_rows(got, want, skip)
    assert not problems, f"{log.name} ({kind}):\n{problems}"


# --- the URL is stored exactly as logged --------------------------------------------------------

URL_WITH_BACKSLASH = b"http://example.com/search?q=C:\\Users\\Public"
NATIVE_PREFIX = b"1794993302.123    120 10.20.1.15 TCP_MISS/200 15320 GET "
NATIVE_SUFFIX = b" SCHOOL\\\\JSmith HIER_DIRECT/1.2.3.4 text/html"  # Squid escapes the user's backslash
COMMON_PREFIX = b'10.20.1.22 - SCHOOL\\\\JSmith [18/Nov/2026:09:15:06 +0000] "GET '
URL_BLOCKS = {
    "native": NATIVE_PREFIX + URL_WITH_BACKSLASH + NATIVE_SUFFIX + b"\n",
    "native-after-blank-line": b"\n" + NATIVE_PREFIX + URL_WITH_BACKSLASH + NATIVE_SUFFIX + b"\n",
    "native-useragent": NATIVE_PREFIX + URL_WITH_BACKSLASH + NATIVE_SUFFIX + b' "-" "curl/8.5.0"\n',
    "common": COMMON_PREFIX + URL_WITH_BACKSLASH + b' HTTP/1.1" 200 48 TCP_MISS:HIER_DIRECT\n',
    "combined": COMMON_PREFIX + URL_WITH_BACKSLASH + b' HTTP/1.1" 200 48 "-" "curl/8.5.0" TCP_MISS:HIER_DIRECT\n',
}
"""Squid writes %ru raw (a backslash in a URL is data) but %[un escaped (``\\\\`` is one backslash)."""


@pytest.mark.parametrize("kind", list(URL_BLOCKS))
def test_url_with_backslash_is_kept_as_logged(tmp_path: Path, kind: str) -> None:
    data = URL_BLOCKS[kind]
    (row,) = _ingest(tmp_path, Path(f"{kind}.log"), data=data)
    assert row["url"] == URL_WITH_BACKSLASH.decode()
    assert row["query"] == "q=C:\\Users\\Public"
    assert (row["user"], row["user_raw"]) == ("jsmith", "SCHOOL\\JSmith")
