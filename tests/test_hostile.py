"""Hostile inputs (issue 8): every file in tests/data/hostile/ and the big ones made by tests/hostile.py.

For each: the exit code as designed, no traceback, a message naming the file, every
line accounted for, the good file beside it ingested completely, and sane values in
the events that were kept (times in 1990-2099, no negative sizes, no NUL bytes).
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pytest
from click.testing import CliRunner, Result
from helpers import SAMPLE_LOGS, assert_accounted, event_rows, events_table, quarantine_rows
from hostile import (
    COMMITTED,
    GARBAGE,
    HOSTILE,
    MB,
    crlf,
    insert_after_middle,
    squid_1mb_url,
    squid_10k_fields,
    w3c_1mb_query,
    w3c_10k_header,
)

from filterlog.cli import cli
from filterlog.ingest import ingest
from filterlog.workspace import Workspace

NATIVE = HOSTILE.parents[2] / "samples" / "squid-native.log"


@dataclass(frozen=True)
class Want:
    """What one hostile file must give: counts (lines, events, quarantined, header/blank) or a failure."""

    counts: tuple[int, int, int, int] | None
    """None: the file fails (exit 1) or is skipped (empty)."""
    message: str
    """Regex the output must match on a line naming the file."""
    reasons: tuple[str, ...] = ()
    """Regex per quarantined line, in line order."""
    fmt: str = ""
    repaired: int = 0
    fails: bool = False


TIME = r"time (missing or )?outside 1990-2099|one outside 1990-2099"
EXPECTED: dict[str, Want] = {
    "truncated.log.gz": Want(
        None, r"compressed file is truncated .*\((before the first complete line|after line 20)\)", fails=True
    ),
    "zero-bytes.log": Want(None, r"empty file, nothing to ingest"),
    "binary.jpg": Want(None, r"binary data, not a text log", fails=True),
    "nul-run.log": Want((21, 19, 2, 0), r"squid, 21 lines", ("fewer than 10", "bad time field|NUL bytes"), "squid"),
    "nul-midline.log": Want((20, 18, 2, 0), r"squid, 20 lines", ("NUL bytes in the line",) * 2, "squid"),
    "latin1-url.log": Want((20, 20, 0, 0), r"3 lines held invalid UTF-8, replaced by U\+FFFD", (), "squid", 3),
    "invalid-utf8.w3c.log": Want((13, 7, 0, 6), r"3 lines held invalid UTF-8", (), "w3c", 3),
    "crlf-squid.log": Want((20, 20, 0, 0), r"squid, 20 lines", (), "squid"),
    "crlf-w3c.log": Want((13, 5, 0, 8), r"w3c, 13 lines", (), "w3c"),
    "two-formats.log": Want((19, 7, 6, 6), r"w3c, 19 lines", ("no #Fields: header before this line",) * 6, "w3c"),
    "mixed-squid.log": Want((24, 20, 4, 0), r"squid, 24 lines", ("bad time field",) * 4, "squid"),
    "far-time-squid.log": Want((13, 8, 5, 0), r"squid, 13 lines", (TIME,) * 5, "squid"),
    "far-time-common.log": Want(
        (8, 4, 4, 0), r"squid-common, 8 lines", (TIME, TIME, TIME, r"bad \[date:time zone\]"), "squid-common"
    ),
    "far-time-w3c.log": Want((13, 4, 3, 6), r"w3c, 13 lines", (TIME,) * 3, "w3c"),
    "far-time-umbrella.log": Want((4, 2, 2, 0), r"umbrella, 4 lines", (TIME,) * 2, "umbrella"),
    "time-edges.log": Want((4, 4, 0, 0), r"squid, 4 lines", (), "squid"),
    "negative-squid.log": Want((20, 18, 2, 0), r"squid, 20 lines", ("negative bytes_in",) * 2, "squid"),
    "negative-common.log": Want((8, 7, 1, 0), r"squid-common, 8 lines", ("bad status or bytes field",), "squid-common"),
    "negative-w3c.log": Want((13, 5, 0, 8), r"w3c, 13 lines", (), "w3c"),
    "header-only.w3c.log": Want((6, 0, 0, 6), r"no events: only header/blank lines", (), "w3c"),
    "fields-change.w3c.log": Want(
        (18, 6, 3, 9),
        r"w3c, 18 lines",
        ("24 fields where the #Fields: header names 25", *("names no field filterlog knows",) * 2),
        "w3c",
    ),
    "README.md": Want(None, r"README\.md:1: cannot recognise the log format", fails=True),
}


def run(ws: Path, *args: str | Path) -> Result:
    """Ingest through the CLI; never a traceback, never an exception other than the exit."""
    result = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", *map(str, args)])
    assert "Traceback" not in result.output, result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def check_sane(ws: Workspace) -> None:
    """Kept events have times in range, no negative sizes, and no NUL bytes in any string."""
    t = events_table(ws)
    if not t.num_rows:
        return
    lo, hi = pc.min_max(t.column("time")).values()
    assert lo.as_py().year >= 1990 and hi.as_py().year <= 2099
    for name in ("bytes_in", "bytes_out", "duration_ms"):
        low = pc.min(t.column(name)).as_py()
        assert low is None or low >= 0, name
    for name in ("url", "host", "path", "user", "user_raw", "user_agent", "referer", "method"):
        col = t.column(name).cast("string")
        assert not pc.any(pc.match_substring(col, "\0")).as_py(), name
    for day in ws.event_dates():
        assert 1990 <= day.year <= 2099


def test_committed_files_are_small_documented_and_rebuildable() -> None:
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    on_disk = {p.name for p in HOSTILE.iterdir() if not p.name.startswith(".")}
    assert on_disk == set(COMMITTED) | {"README.md"}
    assert set(EXPECTED) == on_disk
    for name, build in COMMITTED.items():
        data = (HOSTILE / name).read_bytes()
        assert len(data) <= 64 << 10, name
        assert data == build(), f"{name} differs from tests/hostile.py: run python tests/hostile.py"
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(tmp_path: Path, name: str) -> None:
    want = EXPECTED[name]
    path = HOSTILE / name
    for beside in ((), (NATIVE,)):  # alone, then next to a good log
        ws_path = tmp_path / f"ws{len(beside)}"
        result = run(ws_path, *beside, path)
        assert result.exit_code == (1 if want.fails else 0), result.output
        named = [line for line in result.output.splitlines() if name in line]
        assert any(re.search(want.message, line) for line in named), result.output
        if want.fails:
            assert len(named) == 1 and named[0].startswith("error: "), named
        ws = Workspace(ws_path)
        try:
            assert_accounted(ws)
            rows = {Path(r.path).name: r for r in ws.manifest()}
            if beside:
                assert rows["squid-native.log"].events == 20
            if want.counts is None:
                assert name not in rows
                continue
            row = rows[name]
            assert (row.lines_read, row.events, row.quarantined, row.skipped) == want.counts
            assert row.format == want.fmt
            quarantined = [q for q in quarantine_rows(ws) if q["path"].endswith(name)]
            assert len(quarantined) == len(want.reasons) == want.counts[2]
            for q, reason in zip(quarantined, want.reasons, strict=True):
                assert re.search(reason, q["reason"]), (q["source_line"], q["reason"])
            assert len({q["source_line"] for q in quarantined}) == len(quarantined)
            check_sane(ws)
        finally:
            ws.close()


def test_whole_directory_at_once(tmp_path: Path) -> None:
    result = run(tmp_path / "ws", HOSTILE)
    assert result.exit_code == 1
    failing = sorted(n for n, w in EXPECTED.items() if w.fails)
    errors = sorted(line for line in result.output.splitlines() if line.startswith("error: "))
    assert [Path(e.split(":")[1].strip()).name for e in errors] == failing, errors
    ingested = {n: w for n, w in EXPECTED.items() if w.counts}
    summary = result.output.strip().splitlines()[-1]
    totals = [sum(w.counts[i] for w in ingested.values()) for i in range(4)]
    assert summary == (
        f"{len(ingested)} files ingested, 1 skipped, {len(failing)} failed: {totals[0]:,} lines read, "
        f"{totals[1]:,} events, {totals[2]:,} quarantined, {totals[3]:,} header/blank"
    )
    ws = Workspace(tmp_path / "ws")
    try:
        assert_accounted(ws)
        rows = {Path(r.path).name: r for r in ws.manifest()}
        assert set(rows) == set(ingested)
        for name, want in ingested.items():  # each read from its first line: none mistaken for a grown copy
            row = rows[name]
            assert (row.lines_read, row.events, row.quarantined, row.skipped) == want.counts, name
        assert len(quarantine_rows(ws)) == totals[2]
        check_sane(ws)
    finally:
        ws.close()


# --- what the kept values are ------------------------------------------------------------------------


def _events(tmp_path: Path, name: str) -> list[dict]:
    ws = Workspace(tmp_path / "ws")
    try:
        ingest(ws, [HOSTILE / name])
        return event_rows(ws)
    finally:
        ws.close()


def test_latin1_bytes_become_replacement_characters(tmp_path: Path) -> None:
    rows = {r["source_line"]: r for r in _events(tmp_path, "latin1-url.log")}
    assert rows[1]["url"] == "http://www.bbc.co.uk/actualit\ufffds/caf\ufffd"
    assert rows[6]["path"] == "/stundenpl\ufffdne/gr\ufffd\ufffde/view.php"
    assert rows[9]["user_raw"] == "j\ufffdrgen" and rows[9]["user"] == "j\ufffdrgen"
    assert rows[2]["url"] == "http://www.bbc.co.uk/favicon.ico"  # the lines around them untouched


def test_invalid_utf8_never_reaches_a_string_column(tmp_path: Path) -> None:
    rows = {r["source_line"]: r for r in _events(tmp_path, "invalid-utf8.w3c.log")}
    assert rows[7]["path"].startswith("/x\ufffd\ufffd/") and "\ufffd" in rows[8]["user_agent"]
    assert rows[9]["user"] == "alice\ufffd"
    for r in rows.values():
        for value in r.values():
            if isinstance(value, str):
                value.encode("utf-8")  # strict: a surrogate would raise here


def test_negative_w3c_sizes_become_null(tmp_path: Path) -> None:
    rows = {r["source_line"]: r for r in _events(tmp_path, "negative-w3c.log")}
    assert rows[6]["bytes_in"] is None
    assert rows[12]["bytes_in"] == 3868 and rows[12]["bytes_out"] is None
    assert rows[7]["bytes_in"] == 3980


def test_fields_change_reads_each_section_with_its_own_header(tmp_path: Path) -> None:
    rows = _events(tmp_path, "fields-change.w3c.log")
    assert [r["source_line"] for r in rows] == [7, 8, 11, 12, 13, 18]
    by = {r["source_line"]: r for r in rows}
    assert by[7]["url"] == "http://www.bbc.co.uk/news/education" and by[7]["vendor_category"] == "News/Media"
    assert by[11]["vendor_action"] == "TCP_MISS" and by[11]["vendor_category"] is None  # WSA layout
    assert by[13]["method"] == "CONNECT" and by[13]["url"] == "142.250.180.4:443"
    assert by[18]["method"] == "CONNECT" and by[18]["host"] == "www.google.com"  # back to Blue Coat


def test_two_formats_lose_no_line(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    try:
        ingest(ws, [HOSTILE / "two-formats.log"])
        raw = (HOSTILE / "two-formats.log").read_bytes().splitlines()
        assert [q["raw"] for q in quarantine_rows(ws)] == raw[:6]
        assert sorted(r["source_line"] for r in event_rows(ws)) == list(range(13, 20))
    finally:
        ws.close()


def test_reports_run_on_the_extreme_dates(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    assert run(ws_path, HOSTILE / "time-edges.log", NATIVE).exit_code == 0
    ws = Workspace(ws_path)
    days = [d.isoformat() for d in ws.event_dates()]
    ws.close()
    assert days == ["1990-01-01", "2026-11-18", "2099-12-31"]
    invoke = CliRunner().invoke
    for args in (
        ["detect"],
        ["findings", "--format", "json"],
        ["summary", "--from", "1990-01-01", "--to", "2099-12-31"],
        ["review", "--from", "1990-01-01", "--to", "2099-12-31", "--out", str(tmp_path / "r.html")],
        ["governors", "--out", str(tmp_path / "g.html")],  # the default term: 13 weeks ending 2099-12-31
        ["governors", "--from", "1989-12-01", "--to", "1990-01-31", "--out", str(tmp_path / "g0.html")],
    ):
        result = invoke(cli, ["--workspace", str(ws_path), *args])
        assert result.exit_code == 0 and "Traceback" not in result.output, (args, result.output)
        if args[0] == "findings":
            assert "1990-01-01T00:00:00" in result.output and "2099-12-31T23:59:59" in result.output
    assert "edgecase" in (tmp_path / "r.html").read_text(encoding="utf-8")


# --- made at test time ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLE_LOGS, ids=[p.stem for p in SAMPLE_LOGS])
def test_garbage_lines_in_every_format(tmp_path: Path, sample: Path) -> None:
    """1 MB and 10,000-field lines inserted into each sample: each quarantined alone, the rest as before."""
    base = Workspace(tmp_path / "base")
    (plain,) = ingest(base, [sample]).files
    base.close()
    data, inserted = sample.read_bytes(), []
    for build in GARBAGE.values():
        data, at = insert_after_middle(data, build())
        inserted = [n + (n >= at) for n in inserted] + [at]
    log = tmp_path / sample.name
    log.write_bytes(data)
    ws = Workspace(tmp_path / "ws")
    try:
        (got,) = ingest(ws, [log]).files
        assert got.status == "ingested" and got.format == plain.format, got
        assert (got.lines, got.events, got.skipped) == (plain.lines + len(GARBAGE), plain.events, plain.skipped)
        assert sorted(q["source_line"] for q in quarantine_rows(ws)) == sorted(inserted)
        assert_accounted(ws)
    finally:
        ws.close()


@pytest.mark.parametrize("sample", SAMPLE_LOGS, ids=[p.stem for p in SAMPLE_LOGS])
def test_crlf_in_every_format(tmp_path: Path, sample: Path) -> None:
    log = tmp_path / sample.name
    log.write_bytes(crlf(sample.read_bytes()))
    got = {}
    for name, path in (("lf", sample), ("crlf", log)):
        ws = Workspace(tmp_path / name)
        (got[name],) = ingest(ws, [path]).files
        rows = [{k: v for k, v in r.items() if k != "source_id"} for r in event_rows(ws)]
        got[name + "-rows"] = rows
        ws.close()
    assert (got["crlf"].lines, got["crlf"].events, got["crlf"].quarantined) == (
        got["lf"].lines,
        got["lf"].events,
        got["lf"].quarantined,
    )
    assert got["crlf-rows"] == got["lf-rows"]


@pytest.mark.parametrize(
    ("build", "lines", "events", "where"),
    [
        (squid_1mb_url, 3, 3, "url"),
        (squid_10k_fields, 3, 3, "user_agent"),
        (w3c_1mb_query, 13, 5, "url"),
        (w3c_10k_header, 4, 2, None),
    ],
    ids=["squid-1mb-url", "squid-10k-fields", "w3c-1mb-url", "w3c-10k-field-header"],
)
def test_big_valid_lines_are_events(tmp_path: Path, build, lines: int, events: int, where: str | None) -> None:
    log = tmp_path / f"{build.__name__}.log"
    log.write_bytes(build())
    result = run(tmp_path / "ws", NATIVE, log)
    assert result.exit_code == 0, result.output
    ws = Workspace(tmp_path / "ws")
    try:
        assert_accounted(ws)
        row = {Path(r.path).name: r for r in ws.manifest()}[log.name]
        assert (row.lines_read, row.events, row.quarantined) == (lines, events, 0)
        if where == "url":
            assert max(len(r["url"]) for r in event_rows(ws)) > MB
        wide = [r for r in event_rows(ws) if r["url"] == "http://example.com/wide"]
        if build is w3c_10k_header:
            assert len(wide) == 2 and wide[0]["bytes_in"] == 512
    finally:
        ws.close()


# --- things that are not files ---------------------------------------------------------------------------


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail instead of hanging for ever (opening a named pipe blocks until a writer comes)."""

    def stop(*_: object) -> None:
        raise TimeoutError("ingest hung")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_not_opened(tmp_path: Path, deadline: None) -> None:
    pipe = tmp_path / "access.log"
    os.mkfifo(pipe)
    result = run(tmp_path / "ws", NATIVE, pipe)
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if "access.log" in x and "squid-native" not in x]
    assert line.startswith("error: ") and "not a regular file" in line
    ws = Workspace(tmp_path / "ws")
    assert [r.events for r in ws.manifest()] == [20]
    ws.close()


def test_symlink_loops(tmp_path: Path, deadline: None) -> None:
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    (logs / "sub" / "a.log").write_bytes(NATIVE.read_bytes())
    (logs / "sub" / "up").symlink_to("..")  # a directory loop: walked once, not for ever
    (tmp_path / "self.log").symlink_to("self.log")
    (tmp_path / "gone.log").symlink_to("nowhere.log")
    result = run(tmp_path / "ws", logs, tmp_path / "self.log", tmp_path / "gone.log")
    assert result.exit_code == 1
    errors = [x for x in result.output.splitlines() if x.startswith("error: ")]
    assert len(errors) == 2 and all("symbolic link to nothing" in e for e in errors), errors
    ws = Workspace(tmp_path / "ws")
    assert [r.events for r in ws.manifest()] == [20]
    assert_accounted(ws)
    ws.close()
