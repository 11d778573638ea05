"""Bad input through the CLI: one line per problem, exit 1 on failure, the other files still ingested."""

from __future__ import annotations

import bz2
import gzip
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result
from helpers import SAMPLES, assert_accounted, event_rows, load_expected, quarantine_rows

from filterlog.cli import cli
from filterlog.ingest import ingest
from filterlog.workspace import Workspace

NATIVE = SAMPLES / "squid-native.log"
COMMON = SAMPLES / "squid-common.log"
COMBINED = SAMPLES / "squid-combined.log"
USERAGENT = SAMPLES / "squid-native-useragent.log"


def run(ws_path: Path, *args: str | Path) -> Result:
    result = CliRunner().invoke(cli, ["--workspace", str(ws_path), "ingest", *map(str, args)])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def message_lines(result: Result, name: str) -> list[str]:
    return [line for line in result.output.splitlines() if name in line]


def manifest(ws_path: Path) -> dict[str, object]:
    ws = Workspace(ws_path)
    try:
        assert_accounted(ws)
        return {Path(r.path).name: r for r in ws.manifest()}
    finally:
        ws.close()


@dataclass
class Case:
    """One kind of bad (or unusual) input and what the CLI must say about it."""

    make: Callable[[Path], Path | str]
    exit_code: int
    message: str | None
    """Regex the line naming the file must match (None: no message needed)."""
    events: int | None = None
    """Events the input itself must add (None: not checked)."""


def _truncated_gz(d: Path) -> Path:
    p = d / "rotated.log.2.gz"
    whole = gzip.compress(NATIVE.read_bytes() * 200)
    p.write_bytes(whole[: len(whole) // 2])
    return p


def _tiny_truncated_gz(d: Path) -> Path:
    p = d / "tiny.log.gz"
    p.write_bytes(gzip.compress(NATIVE.read_bytes())[:60])
    return p


def _binary(d: Path) -> Path:
    p = d / "photo.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 20)
    return p


def _bad_utf8(d: Path) -> Path:
    p = d / "latin1.log"
    lines = NATIVE.read_bytes().splitlines(keepends=True)
    p.write_bytes(lines[0].replace(b"/news/education", b"/caf\xe9/\xff") + lines[1])
    return p


def _long_line(d: Path) -> Path:
    p = d / "long.log"
    lines = NATIVE.read_bytes().splitlines(keepends=True)
    huge = lines[1].replace(b"favicon.ico", b"search?q=" + b"a" * (1 << 20))
    p.write_bytes(lines[0] + huge + lines[2])
    return p


def _empty(d: Path) -> Path:
    p = d / "empty.log"
    p.write_bytes(b"")
    return p


def _unsupported(d: Path) -> Path:
    p = d / "auth.log"  # a system log, not a web-filter log (W3C/ELFF, once used here, is now read)
    p.write_bytes(
        b"Nov 18 09:15:02 gw sshd[812]: Accepted publickey for admin from 10.0.0.1 port 50022 ssh2\n"
        b"Nov 18 09:15:07 gw sshd[812]: pam_unix(sshd:session): session opened for user admin\n"
    )
    return p


def _missing(d: Path) -> Path:
    return d / "no-such-access.log"


def _bz2(d: Path) -> Path:
    p = d / "access.log.3.bz2"
    p.write_bytes(bz2.compress(COMMON.read_bytes()))
    return p


def _zst(d: Path) -> Path:
    p = d / "access.log.4.zst"
    with pa.CompressedOutputStream(str(p), "zstd") as out:
        out.write(COMBINED.read_bytes())
    return p


def _renamed_gz(d: Path) -> Path:
    p = d / "access-log-without-suffix"  # compression is found by magic bytes, not by name
    p.write_bytes(gzip.compress(USERAGENT.read_bytes()))
    return p


def _directory(d: Path) -> Path:
    top = d / "logs"
    (top / "older").mkdir(parents=True)
    (top / "a.log").write_bytes(COMMON.read_bytes())
    (top / "older" / "b.log.gz").write_bytes(gzip.compress(USERAGENT.read_bytes()))
    (top / ".hidden").write_bytes(b"editor swap file, not a log\n")
    return top


def _empty_directory(d: Path) -> Path:
    p = d / "nothing-here"
    p.mkdir()
    return p


def _glob(d: Path) -> str:
    (d / "g").mkdir()
    (d / "g" / "proxy-1.log").write_bytes(COMMON.read_bytes())
    (d / "g" / "proxy-2.log").write_bytes(COMBINED.read_bytes())
    (d / "g" / "notes.txt").write_bytes(b"not matched by the pattern\n")
    return str(d / "g" / "proxy-*.log")


def _glob_no_match(d: Path) -> str:
    return str(d / "nowhere-*.log")


CASES: dict[str, Case] = {
    "truncated-gz": Case(_truncated_gz, 1, r"rotated\.log\.2\.gz.*truncated", 0),
    "tiny-truncated-gz": Case(_tiny_truncated_gz, 1, r"tiny\.log\.gz.*(truncated|[Tt]runcated)", 0),
    "binary": Case(_binary, 1, r"photo\.jpg.*binary", 0),
    "invalid-utf8": Case(_bad_utf8, 0, r"latin1\.log.*1 line.*U\+FFFD", 2),
    "1mb-line": Case(_long_line, 0, None, None),
    "empty": Case(_empty, 0, r"empty\.log.*empty", 0),
    "unsupported-format": Case(_unsupported, 1, r"auth\.log:1: .*(recognise|format)", 0),
    "missing": Case(_missing, 1, r"no-such-access\.log.*no such file", 0),
    "bz2": Case(_bz2, 0, None, 8),
    "zst": Case(_zst, 0, None, 7),
    "gz-without-suffix": Case(_renamed_gz, 0, None, 8),
    "directory": Case(_directory, 0, None, 16),
    "empty-directory": Case(_empty_directory, 1, r"nothing-here.*no files", 0),
    "glob": Case(_glob, 0, None, 15),
    "glob-no-match": Case(_glob_no_match, 1, r"nowhere-\*\.log.*(no files|match)", 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_next_to_a_good_file(tmp_path: Path, ws_path: Path, name: str) -> None:
    case = CASES[name]
    bad = case.make(tmp_path)
    result = run(ws_path, NATIVE, bad)

    assert result.exit_code == case.exit_code, result.output
    summary = result.output.strip().splitlines()[-1]
    assert re.match(r"^\d+ files ingested, \d+ skipped, \d+ failed: ", summary), summary
    failed = int(re.search(r"(\d+) failed", summary).group(1))
    assert (failed > 0) == (case.exit_code == 1)

    if case.message:
        named = message_lines(result, Path(str(bad)).name)
        assert named, f"no line names {bad}:\n{result.output}"
        assert any(re.search(case.message, line) for line in named), named
        if case.exit_code == 1:
            assert len(named) == 1 and named[0].startswith("error: "), named  # one line per failed input

    # the good file is always ingested, completely
    rows = manifest(ws_path)
    assert rows["squid-native.log"].events == 20
    ws = Workspace(ws_path)
    events = event_rows(ws)
    ws.close()
    native_id = rows["squid-native.log"].sha256
    assert sum(r["source_id"] == native_id for r in events) == 20
    if case.events is not None:
        assert len(events) - 20 == case.events


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(tmp_path: Path, ws_path: Path) -> None:
    secret = tmp_path / "secret.log"
    secret.write_bytes(NATIVE.read_bytes())
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):
            pytest.skip("this user can read a chmod 000 file")
        other = tmp_path / "other.log"
        other.write_bytes(COMMON.read_bytes())
        result = run(ws_path, secret, other)
        assert result.exit_code == 1
        named = message_lines(result, "secret.log")
        assert len(named) == 1 and re.search(r"(denied|cannot read)", named[0], re.I), result.output
        assert manifest(ws_path)["other.log"].events == 8
    finally:
        secret.chmod(0o600)


def test_unreadable_file_even_as_root(tmp_path: Path, ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same failure as chmod 000, simulated where the pipeline first opens the file (root reads anything)."""
    import filterlog.ingest.pipeline as pipeline

    secret = tmp_path / "secret.log"
    secret.write_bytes(NATIVE.read_bytes())
    real = pipeline.sha256_file

    def refuse(path: Path, *args: object, **kwargs: object) -> object:
        if Path(path).name == "secret.log":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "sha256_file", refuse)
    result = run(ws_path, secret, COMMON)
    assert result.exit_code == 1
    named = message_lines(result, "secret.log")
    assert len(named) == 1 and "Permission denied" in named[0] and named[0].startswith("error: "), result.output
    assert manifest(ws_path)["squid-common.log"].events == 8


def test_invalid_utf8_is_replaced_and_counted(tmp_path: Path, ws_path: Path) -> None:
    bad = _bad_utf8(tmp_path)
    result = run(ws_path, bad)
    assert result.exit_code == 0
    ws = Workspace(ws_path)
    rows = event_rows(ws)
    ws.close()
    assert rows[0]["url"] == "http://www.bbc.co.uk/caf\ufffd/\ufffd"
    assert rows[0]["path"] == "/caf\ufffd/\ufffd"
    assert rows[1]["url"] == "http://www.bbc.co.uk/favicon.ico"
    assert manifest(ws_path)["latin1.log"].events == 2


def test_a_1mb_line_is_never_lost(tmp_path: Path, ws_path: Path) -> None:
    long = _long_line(tmp_path)
    assert run(ws_path, long).exit_code == 0
    row = manifest(ws_path)["long.log"]
    assert row.lines_read == 3
    ws = Workspace(ws_path)
    urls = [r["url"] for r in event_rows(ws)]
    quarantined = quarantine_rows(ws)
    ws.close()
    assert len(urls) + len(quarantined) == 3
    found = [u for u in urls if len(u) > 1 << 20] + [q["raw"] for q in quarantined if len(q["raw"]) > 1 << 20]
    assert len(found) == 1


def test_every_input_kind_at_once(tmp_path: Path, ws_path: Path) -> None:
    inputs = [case.make(tmp_path) for case in CASES.values()]
    result = run(ws_path, NATIVE, *inputs)
    assert result.exit_code == 1
    failing = [n for n, c in CASES.items() if c.exit_code == 1]
    summary = result.output.strip().splitlines()[-1]
    assert f"{len(failing)} failed" in summary, summary
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(failing), errors
    ws = Workspace(ws_path)
    got = {(r["time"], r["client_ip"], r["url"]) for r in event_rows(ws)}
    ws.close()
    # the same content reached through several inputs (bz2, directory, glob) is stored once
    for sample in (NATIVE, COMMON, COMBINED, USERAGENT):
        want = {(r["time"], r["client_ip"], r["url"]) for r in load_expected(sample)}
        assert want <= got, sample.name
    manifest(ws_path)


# --- quarantine ----------------------------------------------------------------------------

GARBAGE = [
    b"this is not a log line at all",
    b'1794993302.500 \x01 "unbalanced quote \r\x01 TCP_MISS/200',  # a bare CR inside the line
    b"1794993302.600     12 10.20.1.15 TCP_MISS/200 512 GET",  # cut short
    b"\xff\xfe binary-ish \xe9 bytes in a line",
    b"1794993302.700     12 10.20.1.15 MISS 512 GET http://x/ - HIER_DIRECT/1.2.3.4 text/html",  # no CODE/status
]


def test_garbage_lines_go_to_quarantine_with_exact_bytes(tmp_path: Path) -> None:
    good = NATIVE.read_bytes().splitlines()
    mixed: list[bytes] = []
    where: dict[int, bytes] = {}
    for i, line in enumerate(good):
        mixed.append(line)
        if i % 4 == 1 and len(where) < len(GARBAGE):
            mixed.append(GARBAGE[len(where)])
            where[len(mixed)] = GARBAGE[len(where)]
    log = tmp_path / "mixed.log"
    log.write_bytes(b"\n".join(mixed) + b"\n")

    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, [log]).files
    assert result.status == "ingested" and result.format == "squid"
    assert (result.lines, result.events, result.quarantined) == (25, 20, 5)
    rows = quarantine_rows(ws)
    assert [r["source_line"] for r in rows] == sorted(where)
    for r in rows:
        assert r["raw"] == where[r["source_line"]], r
        assert r["reason"], r
        assert r["path"] == str(log)
        assert r["source_id"] == ws.manifest()[0].sha256
    events = event_rows(ws)
    assert len(events) == 20
    assert not {e["source_line"] for e in events} & set(where)
    assert_accounted(ws)
    ws.close()


def test_quarantine_reason_says_what_was_wrong(tmp_path: Path) -> None:
    log = tmp_path / "short.log"
    log.write_bytes(NATIVE.read_bytes() + GARBAGE[2] + b"\n")
    ws = Workspace(tmp_path / "ws")
    ingest(ws, [log])
    (row,) = quarantine_rows(ws)
    assert row["source_line"] == 21
    assert "field" in row["reason"]
    ws.close()


def _crashed_log(d: Path) -> Path:
    lines = NATIVE.read_bytes().splitlines(keepends=True)
    p = d / "after-power-cut.log"
    p.write_bytes(b"".join(lines[:10]) + b"\0" * 64 + b"".join(lines[10:]))  # Squid restarted after the NULs
    return p


def test_crash_residue_with_forced_format_loses_only_the_damaged_line(tmp_path: Path, ws_path: Path) -> None:
    log = _crashed_log(tmp_path)
    result = CliRunner().invoke(cli, ["--workspace", str(ws_path), "ingest", "--format", "squid", str(log)])
    assert result.exit_code == 0, result.output
    row = manifest(ws_path)["after-power-cut.log"]
    assert (row.lines_read, row.events, row.quarantined) == (20, 19, 1)
    ws = Workspace(ws_path)
    (q,) = quarantine_rows(ws)
    ws.close()
    assert q["source_line"] == 11
    assert q["raw"] == b"\0" * 64 + NATIVE.read_bytes().splitlines()[10]


def test_crash_residue_is_quarantined_not_the_whole_file(tmp_path: Path, ws_path: Path) -> None:
    log = _crashed_log(tmp_path)
    result = run(ws_path, log)
    assert result.exit_code == 0, result.output
    row = manifest(ws_path)["after-power-cut.log"]
    assert row.events + row.quarantined == 20
    assert row.events >= 19
