"""The per-person summary: counts that agree with the findings, context that agrees with the events."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings as store
from filterlog.cli import cli
from filterlog.report.activity import activity
from filterlog.report.summary import SUMMARY_SCHEMA, summarise, who
from filterlog.rules import RULE_IDS
from filterlog.schema import SEVERITIES
from filterlog.workspace import Workspace

MB = 1_000_000


@pytest.fixture(scope="module")
def demo_summary(demo_day):
    ws = Workspace(demo_day.workspace)
    try:
        yield summarise(ws), store.read(ws)
    finally:
        ws.close()


def test_one_row_per_person_with_findings_and_counts_that_add_up(demo_summary) -> None:
    table, found = demo_summary
    assert table.schema == SUMMARY_SCHEMA
    people = set(who(found))
    assert set(table.column("user").to_pylist()) == people and table.num_rows == len(people)
    assert sum(table.column("findings").to_pylist()) == found.num_rows
    for rule in RULE_IDS:
        assert sum(table.column(rule).to_pylist()) == found.filter(pc.equal(found.column("rule"), rule)).num_rows


def test_planted_people_are_there_with_their_rules(demo_day, demo_summary) -> None:
    table, _ = demo_summary
    rows = {r["user"]: r for r in table.to_pylist()}
    key = json.loads(demo_day.day.planted.read_text())["rules"]
    for rule, cases in key.items():
        for case in cases["planted"]:
            assert rows[case["user"]][rule] >= 1, (rule, case["user"])
            assert rows[case["user"]]["group"] == case["group"]
        for case in cases["decoys"]:
            assert case["user"] not in rows or rows[case["user"]][rule] == 0, (rule, case["user"])


def test_worst_first(demo_summary) -> None:
    table, _ = demo_summary
    ranks = [SEVERITIES.index(s) for s in table.column("highest_severity").to_pylist()]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] == SEVERITIES.index("critical")


def test_context_matches_the_events(demo_day, demo_summary) -> None:
    table, _ = demo_summary
    ws = Workspace(demo_day.workspace)
    act = activity(ws).to_pandas()
    ws.close()
    row = table.to_pylist()[0]
    mine = act[act["who"] == row["user"]]
    assert row["requests"] == mine["requests"].sum() > 0
    assert row["first_seen"] == mine["first"].min() and row["last_seen"] == mine["last"].max()


def _school_day() -> Day:
    day = Day("2026-11-18", groups={"alice": "year9"})
    for minute in (10, 12, 14):  # three attempts at an adult site: repeated-blocked fires
        day.deny(f"09:{minute}:00", "www.pornhub.com:443", user="alice")
    for second in range(0, 50, 10):  # blocked adverts are the page's, not alice's
        day.deny(f"09:30:{second:02d}", "https://ad.doubleclick.net/ad.js", user="alice")
    day.challenge("09:31:00", "www.bbc.co.uk:443")  # a 407 is no block
    day.get("09:40:00", "https://www.youtube.com/watch?v=1", 120 * MB, user="alice")  # lesson time
    day.get("12:30:00", "https://www.youtube.com/watch?v=2", 300 * MB, user="alice")  # lunch: not counted
    day.get("16:30:00", "https://www.youtube.com/watch?v=3", 400 * MB, user="alice")  # after school: not counted
    day.get("10:00:00", "https://www.bbc.co.uk/news", 2 * MB, user="alice")  # business
    return day


def test_blocked_attempts_and_nonbusiness_bytes_by_the_policy(tmp_path: Path) -> None:
    ws = _school_day().workspace(tmp_path)
    rows = summarise(ws).to_pylist()
    assert [r["user"] for r in rows] == ["alice"]
    alice = rows[0]
    assert alice["repeated-blocked"] == 1 and alice["group"] == "year9"
    assert alice["blocked_attempts"] == 3
    assert alice["nonbusiness_bytes"] == 120 * MB
    assert alice["requests"] == 12 and alice["highest_severity"] in SEVERITIES
    ws.close()


def test_empty_workspace(ws: Workspace) -> None:
    assert summarise(ws).num_rows == 0
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "summary"])
    assert result.exit_code == 0 and "no findings" in result.output


def _hostile(tmp_path: Path) -> Path:
    day = Day("2026-11-18", groups={"=1+2": "=cmd|' /C calc'!A0"})
    for minute in (10, 12, 14):
        day.deny(f"09:{minute}:00", "www.pornhub.com:443", user="=1+2")
    day.workspace(tmp_path).close()
    return tmp_path / "workspace"


def test_cli_formats_and_csv_neutralised(tmp_path: Path) -> None:
    root = _hostile(tmp_path)
    runner = CliRunner()
    table = runner.invoke(cli, ["--workspace", str(root), "summary"])
    assert table.exit_code == 0 and "=1+2" in table.output and "blocked 1" in table.output
    text = runner.invoke(cli, ["--workspace", str(root), "summary", "--format", "csv"]).output
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["user"] == "'=1+2" and rows[0]["group"].startswith("'=")
    data = json.loads(runner.invoke(cli, ["--workspace", str(root), "summary", "--format", "json"]).output)
    assert data[0]["user"] == "=1+2" and data[0]["by_rule"] == {"repeated-blocked": 1}


def test_parquet_goes_to_an_owner_only_file(tmp_path: Path) -> None:
    root = _hostile(tmp_path)
    runner = CliRunner()
    refused = runner.invoke(cli, ["--workspace", str(root), "summary", "--format", "parquet"])
    assert refused.exit_code == 2 and "--out" in refused.output
    out = tmp_path / "reports" / "summary.parquet"
    done = runner.invoke(cli, ["--workspace", str(root), "summary", "--format", "parquet", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert pq.read_table(out).schema.names == SUMMARY_SCHEMA.names
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700


def test_date_range(tmp_path: Path) -> None:
    root = _hostile(tmp_path)
    result = CliRunner().invoke(cli, ["--workspace", str(root), "summary", "--from", "2026-11-19"])
    assert result.exit_code == 0 and "no findings" in result.output
