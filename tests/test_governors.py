"""The governors' report: anonymised, small counts hidden (and not recoverable from totals), written privately."""

from __future__ import annotations

import itertools
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from filterlog import findings as store
from filterlog import incidents
from filterlog.cli import cli
from filterlog.report.disclosure import HIDDEN_OTHER, HIDDEN_SMALL, Disclosure
from filterlog.report.governors import governors_report, render_governors
from filterlog.schema import FINDING_SCHEMA
from filterlog.workspace import Workspace

DAY = date(2026, 11, 18)
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _write(ws: Workspace, spec: list[tuple[str, str, str | None, int]], day: date = DAY) -> None:
    """Findings made to order: (rule, severity, group, how many), each by a different person."""
    rows = []
    start = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    for n, (rule, severity, group, count) in enumerate(spec):
        for i in range(count):
            rows.append({
                "finding_id": f"{n:04x}{i:012x}", "rule": rule, "title": rule, "severity": severity, "date": day,
                "user": f"pupil.{n}.{i}", "client_ip": f"10.9.{n}.{i + 1}", "group": group,
                "start": start + timedelta(minutes=i), "end": start + timedelta(minutes=i + 1), "count": 3,
                "bytes": 0, "domain": f"site{n}-{i}.example", "category": "gambling",
                "detail": f"pupil.{n}.{i} did something", "policy": "p", "evidence": [], "evidence_total": 0,
            })  # fmt: skip
    ws.create()
    store.write_day(ws, day, pa.Table.from_pylist(rows, schema=FINDING_SCHEMA))


def _recoverable(values: list[object], total: object) -> bool:
    """Independent check: could a reader pin one '<5' in this line down to a single value? (brute force)"""
    if not isinstance(total, int):
        return False
    hidden = [v for v in values if not isinstance(v, int)]
    left = total - sum(v for v in values if isinstance(v, int))
    ranges = [range(1, 5) if v == HIDDEN_SMALL else range(5, left + 1) for v in hidden]
    solutions = [c for c in itertools.product(*ranges) if sum(c) == left]
    return any(hidden[i] == HIDDEN_SMALL and len({s[i] for s in solutions}) < 2 for i in range(len(hidden)))


def _published_counts(html: str) -> list[str]:
    feet = "".join(re.findall(r"<tfoot>.*?</tfoot>", html, re.S))
    return re.findall(r'<td class="num">([^<]*)</td>', html) + re.findall(r'<th class="num">([^<]*)</th>', feet)


def test_nobody_can_be_identified_from_the_demo_report(demo_ws: Workspace) -> None:
    table = store.read(demo_ws)
    assert table.num_rows > 0
    html = render_governors(governors_report(demo_ws))
    text = DATA_URI.sub("", html)  # chart pixels hold no text; base64 could hold any letters by chance
    for column in ("user", "client_ip", "finding_id", "domain"):
        for value in {v for v in table.column(column).to_pylist() if v}:
            assert value not in text, f"{column} {value!r} appears in the governors' report"
    for detail in table.column("detail").to_pylist():
        assert detail not in text
    assert "Demo Academy" in text and "report to governors" in text
    assert text.count('src="data:image/png;base64,') == 0 and html.count('src="data:image/png;base64,') == 3


def test_small_counts_are_shown_as_under_five_and_totals_do_not_give_them_back(ws: Workspace) -> None:
    _write(ws, [("hacking-tools", "high", "year9", 3), ("circumvention", "high", "year9", 7),
                ("circumvention", "medium", None, 6), ("concerning-search", "critical", "year7", 1)])  # fmt: skip
    report = governors_report(ws)
    html = render_governors(report)
    rule = report.by_rule.set_index("Rule")["Incidents"]
    assert rule["Hacking tools"] == HIDDEN_SMALL and rule["Concerning search"] == HIDDEN_SMALL
    assert report.total == 17 and report.by_group.set_index("Group").at["unknown", "Incidents"] in (6, HIDDEN_OTHER)
    for cell in _published_counts(html):
        assert cell in ("0", "&lt;5", HIDDEN_OTHER, "") or int(cell.replace(",", "")) >= 5, cell
    assert "&lt;5" in html
    for frame in (report.by_rule, report.by_severity, report.by_group, report.by_week, report.by_category,
                  report.review):  # fmt: skip
        assert not _recoverable(list(frame["Incidents"]), report.total), frame
    for frame in (report.by_rule, report.by_week):  # every row adds up to its total across the severities
        for row in frame.itertuples(index=False):
            assert not _recoverable(list(row[1:5]), row[5]), row
    # the secondary suppression really happened: without it, 17 minus the shown counts would give them back
    assert HIDDEN_OTHER in set(report.by_rule["Incidents"]) | set(report.by_group["Incidents"])


def test_a_second_count_is_hidden_that_leaves_the_small_one_uncertain() -> None:
    d = Disclosure()
    for key, value in (("a", 1), ("b", 5), ("c", 9), ("t", 15)):
        d.add((key,), value)
    d.line([("a",), ("b",), ("c",)], ("t",))
    d.protect()
    # hiding b (5) would not do: a + b = 6 with b >= 5 leaves a = 1; hiding c (9) leaves a anywhere in 1-4
    assert [d.shown((k,)) for k in "abct"] == [HIDDEN_SMALL, 5, HIDDEN_OTHER, 15]
    assert d.unprotected == []


def test_zero_is_shown_and_an_empty_range_is_a_report_of_nothing(ws: Workspace) -> None:
    _write(ws, [("circumvention", "high", "year9", 5)])
    report = governors_report(ws, date(2026, 1, 5), date(2026, 4, 5))
    assert report.total == 0 and "no incidents were flagged" in report.summary
    assert set(report.by_rule["Incidents"]) == {0}
    assert len(report.by_week) == 13 and report.by_week["Week"].iloc[0] == "w/c 2026-01-05"


def test_default_range_is_the_term_ending_on_the_last_date(ws: Workspace) -> None:
    _write(ws, [("circumvention", "high", "year9", 5)])
    report = governors_report(ws)
    assert (report.date_from, report.date_to) == (DAY - timedelta(days=90), DAY)
    assert report.by_week["Week"].iloc[-1] == "w/c 2026-11-16"
    assert "20 August 2026 to 18 November 2026" in render_governors(report)


def test_outcomes_reflect_the_incident_register(demo_ws: Workspace) -> None:
    ids = store.read(demo_ws).column("finding_id").to_pylist()
    for fid in ids[:5]:
        incidents.record(demo_ws, fid, reviewed_by="dsl", action="warning", outcome="spoken to")
    for fid in ids[5:7]:
        incidents.record(demo_ws, fid, reviewed_by="dsl", action="under-investigation", outcome="-", status="open")
    report = governors_report(demo_ws)
    outcomes = report.outcomes.set_index("Action")["Incidents"].to_dict()
    assert set(outcomes) == {"warning", "under investigation"}
    assert outcomes["under investigation"] in (HIDDEN_SMALL,)
    assert outcomes["warning"] in (5, HIDDEN_OTHER)
    review = report.review.set_index("Review")["Incidents"].to_dict()
    assert review["Open (being dealt with)"] == HIDDEN_SMALL
    html = render_governors(report)
    assert "under investigation" in html and "spoken to" not in html and "dsl" not in DATA_URI.sub("", html)


def test_cli_writes_an_owner_only_report(demo_day, tmp_path: Path) -> None:
    out = tmp_path / "board" / "governors.html"
    result = CliRunner().invoke(cli, ["--workspace", str(demo_day.workspace), "governors", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == str(out) and "incidents" in lines[1]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    assert "<h1>Web filtering and monitoring: report to governors</h1>" in out.read_text(encoding="utf-8")


def test_cli_default_path_is_in_the_workspace_reports(demo_ws: Workspace) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(demo_ws.root), "governors", "--to", "2026-11-18"])
    assert result.exit_code == 0, result.output
    path = demo_ws.reports_dir / "governors-2026-08-20-2026-11-18.html"
    assert result.output.splitlines()[0] == str(path) and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_workspace_says_so(ws_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(ws_path), "governors"])
    assert result.exit_code == 1
    assert "nothing to report" in result.output and "Traceback" not in result.output


def test_backwards_range_is_a_usage_error(ws_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", str(ws_path), "governors", "--from", "2026-11-18", "--to", "2026-11-01"]
    )
    assert result.exit_code == 2


@pytest.mark.parametrize("group", ["$x^2$", "<script>alert(1)</script>"])
def test_hostile_group_names_are_escaped_and_do_not_break_charts(ws: Workspace, group: str) -> None:
    _write(ws, [("circumvention", "high", group, 6)])
    html = render_governors(governors_report(ws))
    assert "<script>alert" not in html
