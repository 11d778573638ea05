"""The filterlog command line: help, version, formats, ingest's closing line, --format."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import SAMPLE_LOGS, SAMPLES, event_rows, load_expected, quarantine_rows

import filterlog
from filterlog.cli import cli
from filterlog.ingest import READERS
from filterlog.workspace import Workspace

NATIVE = SAMPLES / "squid-native.log"
SUMMARY = re.compile(
    r"^(?P<done>\d+) files ingested, (?P<skipped>\d+) skipped, (?P<failed>\d+) failed: "
    r"(?P<lines>[\d,]+) lines read, (?P<events>[\d,]+) events, (?P<quarantined>[\d,]+) quarantined, "
    r"(?P<blank>[\d,]+) header/blank$"
)


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = CliRunner(env=env).invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def summary(result: Result) -> dict[str, int]:
    last = result.output.strip().splitlines()[-1]
    m = SUMMARY.match(last)
    assert m, f"closing line not in the expected format: {last!r}"
    return {k: int(v.replace(",", "")) for k, v in m.groupdict().items()}


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert "Usage:" in result.output
    for command in ("ingest", "formats"):
        assert re.search(rf"^\s+{command}\s", result.output, re.M), command
    assert "--workspace" in result.output


def test_ingest_help_names_the_inputs_it_takes() -> None:
    result = invoke("ingest", "--help")
    assert result.exit_code == 0
    for word in ("--format", ".gz", ".bz2", ".zst", "director", "glob"):
        assert word in result.output, word


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"filterlog, version {filterlog.__version__}"


def test_python_dash_m_runs_without_the_test_runner() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "filterlog", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "ingest" in done.stdout


def test_the_entry_point_keeps_its_exit_code_and_freezes_the_heap_for_a_quick_exit(monkeypatch, capsys) -> None:
    """``main`` (the console script and ``python -m``) exits as click says, with the collector's work done."""
    import gc

    from filterlog.cli import main

    monkeypatch.setattr(sys, "argv", ["filterlog", "no-such-command"])
    try:
        with pytest.raises(SystemExit) as ended:
            main()
        assert ended.value.code == 2 and "No such command" in capsys.readouterr().err
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_formats_lists_every_reader() -> None:
    result = invoke("formats")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(READERS)
    listed = {line.split()[0]: line for line in lines}
    assert set(listed) == set(READERS)
    for name, reader in READERS.items():
        assert reader.description in listed[name]


def test_ingest_closing_line(ws_path: Path) -> None:
    result = invoke("--workspace", ws_path, "ingest", *SAMPLE_LOGS)
    assert result.exit_code == 0, result.output
    lines = sum(len(log.read_bytes().splitlines()) for log in SAMPLE_LOGS)
    events = sum(len(load_expected(log)) for log in SAMPLE_LOGS)
    got = summary(result)
    assert got["quarantined"] + got["blank"] == lines - events  # W3C # headers; a sample's deliberately bad lines
    assert {k: got[k] for k in ("done", "skipped", "failed", "lines", "events")} == {
        "done": len(SAMPLE_LOGS),
        "skipped": 0,
        "failed": 0,
        "lines": lines,
        "events": events,
    }
    again = invoke("--workspace", ws_path, "ingest", *SAMPLE_LOGS)
    assert again.exit_code == 0
    assert summary(again) == {
        "done": 0,
        "skipped": len(SAMPLE_LOGS),
        "failed": 0,
        "lines": 0,
        "events": 0,
        "quarantined": 0,
        "blank": 0,
    }
    assert again.output.count("already ingested") == len(SAMPLE_LOGS)


def test_ingest_closing_line_groups_thousands(tmp_path: Path, ws_path: Path) -> None:
    log = tmp_path / "big.log"
    lines = NATIVE.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines * 60) + b"\nnot a log line\n")
    result = invoke("--workspace", ws_path, "ingest", log)
    assert result.exit_code == 0
    assert "1,202 lines read, 1,200 events, 1 quarantined, 1 header/blank" in result.output
    assert summary(result)["lines"] == 1202


def test_workspace_from_environment(tmp_path: Path) -> None:
    where = tmp_path / "from-env"
    result = invoke("ingest", NATIVE, env={"FILTERLOG_WORKSPACE": str(where)})
    assert result.exit_code == 0
    assert (where / "filterlog.db").is_file()
    assert (where / "filterlog.toml").is_file()


def _mostly_garbage(tmp_path: Path) -> Path:
    log = tmp_path / "noisy.log"
    garbage = [f"junk line {i} from a misconfigured logformat\n".encode() for i in range(30)]
    log.write_bytes(b"".join(garbage) + NATIVE.read_bytes())
    return log


def test_auto_format_refuses_an_unrecognisable_file(tmp_path: Path, ws_path: Path) -> None:
    log = _mostly_garbage(tmp_path)
    result = invoke("--workspace", ws_path, "ingest", log)
    assert result.exit_code == 1
    (message,) = [line for line in result.output.splitlines() if "noisy.log" in line]
    assert "--format" in message  # tells the admin how to proceed


def test_format_forces_the_reader(tmp_path: Path, ws_path: Path) -> None:
    log = _mostly_garbage(tmp_path)
    result = invoke("--workspace", ws_path, "ingest", "--format", "squid", log)
    assert result.exit_code == 0, result.output
    counts = summary(result)
    assert (counts["lines"], counts["events"], counts["quarantined"]) == (50, 20, 30)
    ws = Workspace(ws_path)
    assert {r["source_format"] for r in event_rows(ws)} == {"squid"}
    assert [q["source_line"] for q in quarantine_rows(ws)] == list(range(1, 31))
    assert ws.manifest()[0].format == "squid"
    ws.close()


def test_format_names_the_reader_for_each_sample(ws_path: Path) -> None:
    for log in SAMPLE_LOGS:
        name = load_expected(log)[0]["source_format"]  # several samples may share a reader
        result = invoke("--workspace", ws_path, "ingest", "--format", name, log)
        assert result.exit_code == 0
        assert summary(result)["quarantined"] == 0, (log.name, name)


def test_unknown_format_lists_the_valid_names(ws_path: Path) -> None:
    result = invoke("--workspace", ws_path, "ingest", "--format", "bluecoat-elff", NATIVE)
    assert result.exit_code in (1, 2)
    assert "bluecoat-elff" in result.output
    for name in READERS:
        assert name in result.output
    assert len(result.output.strip().splitlines()) <= 3  # a short message, not a dump
    assert not (ws_path / "events").exists() or not any((ws_path / "events").rglob("*.parquet"))


def test_ingest_without_logs_is_a_usage_error() -> None:
    result = invoke("ingest")
    assert result.exit_code == 2
    assert "Usage:" in result.output


@pytest.mark.parametrize("spec", ["local:0", "local:x", "remote", "tcp://", "local:2:3"])
def test_a_bad_scheduler_is_a_usage_error(ws_path: Path, spec: str) -> None:
    result = invoke("--workspace", ws_path, "--scheduler", spec, "ingest", NATIVE)
    assert result.exit_code == 2
    assert "--scheduler" in result.output


def test_busy_workspace_is_one_line_and_exit_1(ws_path: Path) -> None:
    ws = Workspace(ws_path)
    with ws.lock():
        result = invoke("--workspace", ws_path, "ingest", NATIVE)
    ws.close()
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "in use" in result.output


def test_demo_generates_and_ingests_a_school_day(tmp_path: Path) -> None:
    command = cli
    out = tmp_path / "demo"
    result = CliRunner().invoke(command, ["demo", str(out), "--lines", "3000"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3,000 lines read, 3,000 events, 0 quarantined" in result.output
    assert (out / "logs" / "planted.json").is_file()
    assert list((out / "workspace" / "events").glob("date=2026-11-18/*.parquet"))
    config = (out / "workspace" / "filterlog.toml").read_text()
    assert str((out / "logs" / "ip_map.csv").resolve()) in config
    review = out / "workspace" / "reports" / "review-2026-11-18.html"
    assert f"coordinator's review (HTML): {review}" in result.output
    assert "E-safety review" in review.read_text() and oct(review.stat().st_mode & 0o777) == "0o600"
    assert (out / "workspace" / "reports" / "summary-2026-11-18.csv").is_file()
    again = CliRunner().invoke(command, ["demo", str(out), "--lines", "3000"], catch_exceptions=False)
    assert again.exit_code == 0 and "0 events" in again.output


def test_replace_rereads_a_file_ingested_with_the_wrong_format(tmp_path: Path) -> None:
    common = next(p for p in SAMPLE_LOGS if p.name == "squid-common.log")
    ws = tmp_path / "ws"
    wrong = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", "--format", "squid", str(common)])
    assert "0 events" in wrong.output
    same = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", str(common)])
    assert "already ingested" in same.output
    again = CliRunner().invoke(cli, ["--workspace", str(ws), "ingest", "--replace", str(common)])
    assert again.exit_code == 0, again.output
    workspace = Workspace(ws)
    try:
        rows = event_rows(workspace)
        assert rows and {r["source_format"] for r in rows} == {"squid-common"}
        assert len(rows) == len({r["source_line"] for r in rows})
        assert not quarantine_rows(workspace)
    finally:
        workspace.close()
