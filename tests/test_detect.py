"""The engine, the findings store and the detect / findings / rules commands, end to end on a real workspace."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings as store
from filterlog.cli import cli
from filterlog.config import Config
from filterlog.errors import ConfigError
from filterlog.output import JSON_KEYS, safe_cell
from filterlog.rules import RULE_IDS, detect, load_rules
from filterlog.workspace import Workspace


def _log(tmp_path: Path, user: str = "alice") -> Path:
    day = Day()
    for t in ("23:31:00", "23:42:00", "23:53:00"):  # persistence episode late on the 18th
        day.deny(t, "www.bet365.com:443", user=user)
    for t in ("00:20:00", "00:31:00"):  # continues past midnight into the 19th: same episode
        day.deny(t, "www.bet365.com:443", user=user, day_offset=1)
    for t in ("09:00:00", "09:10:00", "09:20:00"):  # a second episode on the 19th
        day.deny(t, "www.pokerstars.com:443", user="bob", day_offset=1)
    path = tmp_path / "access.log"
    path.write_text(day.text(), encoding="utf-8")
    return path


def _run(ws_path: Path, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--workspace", str(ws_path), *args], catch_exceptions=False)
    return result


@pytest.fixture
def judged(tmp_path: Path) -> Path:
    ws_path = tmp_path / "ws"
    assert _run(ws_path, "ingest", str(_log(tmp_path))).exit_code == 0
    result = _run(ws_path, "detect")
    assert result.exit_code == 0, result.output
    assert "2 findings (repeated-blocked 2)" in result.output
    return ws_path


def test_findings_are_stored_by_the_local_date_they_start(judged: Path) -> None:
    ws = Workspace(judged)
    dates = [str(d) for d in store.finding_dates(ws)]
    assert dates == ["2026-11-18", "2026-11-19"]
    late = store.read_day(ws, store.finding_dates(ws)[0]).to_pylist()
    assert len(late) == 1 and late[0]["count"] == 5  # the window crossed midnight and stayed whole
    assert (judged / "findings" / "date=2026-11-18" / "findings.parquet").stat().st_mode & 0o077 == 0


def test_detect_twice_gives_the_same_findings(judged: Path) -> None:
    ws = Workspace(judged)
    before = store.read(ws)
    assert _run(judged, "detect").exit_code == 0
    after = store.read(ws)
    assert before.equals(after)


def test_detect_one_rule_keeps_the_others(judged: Path) -> None:
    ws = Workspace(judged)
    before = store.read(ws).num_rows
    assert _run(judged, "detect", "--rule", "live-feed").exit_code == 0
    assert store.read(ws).num_rows == before


def test_a_date_range_limits_what_is_judged(judged: Path) -> None:
    ws = Workspace(judged)
    for d in store.finding_dates(ws):
        store.write_day(ws, d, store.read_day(ws, d).slice(0, 0))  # an empty day leaves no file
    assert store.finding_dates(ws) == []
    result = _run(judged, "detect", "--from", "2026-11-18", "--to", "2026-11-18")
    assert "1 day(s)" in result.output
    assert [str(d) for d in store.finding_dates(ws)] == ["2026-11-18"]
    report = detect(ws, date_from=date(2026, 11, 19))
    assert [str(d) for d in report.days] == ["2026-11-19"]
    assert [str(d) for d in store.finding_dates(ws)] == ["2026-11-18", "2026-11-19"]


def test_findings_table_json_and_csv(judged: Path) -> None:
    table = _run(judged, "findings")
    assert table.exit_code == 0
    assert "repeated-blocked" in table.output and "bet365.com" in table.output and "2026-11-18 23:31" in table.output
    data = json.loads(_run(judged, "findings", "--format", "json").output)
    assert len(data) == 2
    assert set(JSON_KEYS) <= set(data[0])
    assert data[0]["start"] == "2026-11-18T23:31:00.000Z"
    assert data[0]["severity"] in ("low", "medium", "high", "critical")
    assert data[0]["evidence"][0] == {"source_id": data[0]["evidence"][0]["source_id"], "source_line": 1}
    rows = list(csv.DictReader(io.StringIO(_run(judged, "findings", "--format", "csv").output)))
    assert [r["user"] for r in rows] == ["alice", "bob"]
    assert rows[0]["evidence_lines"].count(":") == 5


def test_findings_filters(judged: Path) -> None:
    data = json.loads(_run(judged, "findings", "--user", "BOB", "--format", "json").output)
    assert [f["user"] for f in data] == ["bob"]
    assert json.loads(_run(judged, "findings", "--user", "10.0.0.5", "--format", "json").output)
    assert json.loads(_run(judged, "findings", "--rule", "circumvention", "--format", "json").output) == []
    one_day = json.loads(_run(judged, "findings", "--from", "2026-11-19", "--format", "json").output)
    assert [f["user"] for f in one_day] == ["bob"]
    assert _run(judged, "findings", "--rule", "nope").exit_code == 2
    assert _run(judged, "findings", "--from", "2026-11-19", "--to", "2026-11-18").exit_code == 2
    assert _run(judged, "findings", "--from", "18/11/2026").exit_code == 2


def test_csv_neutralises_formulas_from_log_data(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    _run(ws_path, "ingest", str(_log(tmp_path, user="=1+2")))
    _run(ws_path, "detect")
    rows = list(csv.DictReader(io.StringIO(_run(ws_path, "findings", "--format", "csv").output)))
    assert rows[0]["user"] == "'=1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("bet365.com") == "bet365.com" and safe_cell(3) == 3


def test_rules_lists_every_rule_with_thresholds_and_policy(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    Workspace(ws_path).create()
    cfg = ws_path / "filterlog.toml"
    cfg.write_text(cfg.read_text() + "\n[rules.repeated-blocked]\nattempts = 5\n")
    out = _run(ws_path, "rules").output
    for rule_id in RULE_IDS:
        assert rule_id in out
    assert "attempts = 5  (set in filterlog.toml)" in out
    assert "policy: Making repeated attempts" in out
    data = json.loads(_run(ws_path, "rules", "--format", "json").output)
    assert [r["id"] for r in data] == list(RULE_IDS)


def test_a_bad_override_is_a_one_line_config_error(tmp_path: Path) -> None:
    ws_path = tmp_path / "ws"
    Workspace(ws_path).create()
    cfg = ws_path / "filterlog.toml"
    cfg.write_text(cfg.read_text() + "\n[rules.repeated-blocked]\nattempt = 5\n")
    result = CliRunner().invoke(cli, ["--workspace", str(ws_path), "detect"])
    assert result.exit_code == 1
    assert "unknown setting 'attempt'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"repeated-blocked": {"attempts": "three"}}, "expected a value like 3"),
        ({"repeated-blocked": {"severity": "urgent"}}, "severity: expected one of"),
        ({"repeated-blocked": {"attempts": -1}}, "must not be negative"),
        ({"no-such-rule": {"x": 1}}, "unknown rule(s) ['no-such-rule']"),
        ({"circumvention": {"ports": ["22"]}}, "expected a value like"),
    ],
)
def test_overrides_are_checked(rules: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_rules(Config.from_dict({"rules": rules}))


def test_overrides_apply_and_rules_can_be_disabled() -> None:
    rules = load_rules(Config.from_dict({"rules": {"live-feed": {"enabled": False, "min_requests": 40}}}))
    feed = next(r for r in rules if r.id == "live-feed")
    assert not feed.enabled and feed["min_requests"] == 40 and feed.overridden == ("enabled", "min_requests")
    every = load_rules()
    assert [r.id for r in every] == list(RULE_IDS)
    assert all(r.policy and r.title and r.severity in ("low", "medium", "high", "critical") for r in every)


def test_dictionary_encoded_agents_referers_and_types_give_the_same_findings() -> None:
    """detect reads user agents, referers and content types dictionary-encoded; every rule must judge them
    as plain strings (content types alone tell DNS over HTTPS and a download without a file name)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from rulecase import categories

    from filterlog.enrich.events import Enricher
    from filterlog.rules.context import Context
    from filterlog.rules.engine import run_rules, select_rules

    day = Day("2026-11-18")
    for i in range(6):  # a hacking tool's agent
        day.get(
            f"10:0{i}:00",
            f"http://10.0.0.9/page{i}?id=1",
            user="mallory",
            ua="sqlmap/1.7.2#stable (https://sqlmap.org)",
        )
    day.get(
        "11:00:00", "http://dl.delivery.mp.microsoft.com/big.cab", 900_000_000, user="bob", ua="Windows-Update-Agent/10"
    )
    day.get("11:05:00", "http://cdn.example.net/big.iso", 900_000_000, user="carol")  # a large transfer that counts
    for minute in (10, 12, 14):  # blocked attempts, and a blocked resource another site's page pulled in
        day.deny(f"12:{minute}:00", "www.pornhub.com:443", user="dave")
        day.deny(f"12:{minute}:30", "http://www.pornhub.com/static/x.js", user="erin", ref="https://www.bbc.co.uk/news")
    for minute in (20, 21, 22):  # DNS over HTTPS told by its reply type only
        day.get(f"13:{minute}:00", "https://doh.example.org/q?dns=AAABAAAB", 512, user="frank",
                mime="application/dns-message")  # fmt: skip
    tool = "https://nmap.org/dist/nmap-7.94-setup"  # no extension: its reply type says it is a download
    day.get("14:10:50", tool, 31_402_112, user="grace", mime="application/x-msdownload")
    day.get("14:12:00", "https://www.bbc.co.uk/news", 80_000, user="grace", mime="text/html")
    plain = day.events()
    encoded = plain
    for name in ("user_agent", "referer", "content_type"):
        index = plain.schema.get_field_index(name)
        column = pc.dictionary_encode(plain.column(name))
        encoded = encoded.set_column(index, pa.field(name, column.type), column)
    config = day.config()
    enricher = Enricher(config, categories=categories())
    rules = select_rules(config)
    got = run_rules(Context(enricher(encoded), config), rules)
    want = run_rules(Context(enricher(plain), config), rules)
    assert enricher(encoded).schema.field("user_agent").type == pa.dictionary(pa.int32(), pa.string())
    assert enricher(encoded).schema.field("content_type").type == pa.dictionary(pa.int32(), pa.string())
    assert got.num_rows >= 5 and {"hacking-tools", "large-transfer", "repeated-blocked", "circumvention"} <= set(
        got.column("rule").to_pylist()
    )
    by_person = {(row["user"], row["rule"]) for row in got.to_pylist()}
    assert {("frank", "circumvention"), ("grace", "hacking-tools")} <= by_person
    assert got.to_pylist() == want.to_pylist()
