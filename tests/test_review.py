"""The coordinator's review report: real files rendered from real workspaces, read back and checked."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from markupsafe import escape
from matplotlib.figure import Figure
from rulecase import Day

from filterlog import findings as store
from filterlog.cli import cli
from filterlog.report import plots
from filterlog.report.activity import ACTIVITY_SCHEMA, Policy, activity
from filterlog.report.review import build_review, render_review, review_file, write_review
from filterlog.schema import FINDING_SCHEMA, SEVERITIES
from filterlog.workspace import Workspace

PNG = 'src="data:image/png;base64,'
SCRIPT = "<script>alert(1)</script>"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def demo_report(demo_day, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo day's review, written once outside the (read-only) demo workspace."""
    out = tmp_path_factory.mktemp("review") / "private" / "review.html"
    ws = Workspace(demo_day.workspace)
    try:
        path = write_review(ws, out=out)
    finally:
        ws.close()
    return path, path.read_text(encoding="utf-8")


def _sections(html: str) -> list[str]:
    return re.split(r'<section class="person" id="person-\d+">', html)[1:]


def test_every_planted_person_appears_with_the_reason_for_each_of_their_findings(demo_day, demo_report) -> None:
    _, html = demo_report
    key = json.loads(Path(demo_day.day.planted).read_text(encoding="utf-8"))["rules"]
    ws = Workspace(demo_day.workspace)
    found = store.read(ws).to_pylist()
    ws.close()
    planted = {(rule, case["user"]) for rule, cases in key.items() for case in cases["planted"]}
    assert planted
    for rule, user in planted:
        assert f'{escape(user)} <span class="sev' in html, user
        details = [f["detail"] for f in found if f["rule"] == rule and f["user"] == user]
        assert details, (rule, user)
        for detail in details:
            assert str(escape(detail)) in html, detail


def test_people_are_ordered_by_severity_then_number_of_findings(demo_report) -> None:
    _, html = demo_report
    sections = _sections(html)
    assert len(sections) > 5
    ranks, counts = [], []
    for section in sections:
        badge = re.search(r'<h2>\d+\. .*? <span class="sev sev-(\w+)">', section)
        assert badge, section[:200]
        ranks.append(SEVERITIES.index(badge.group(1)))
        counts.append(int(re.search(r"<span>findings</span> (\d+)", section).group(1)))
    assert ranks == sorted(ranks, reverse=True)
    for i in range(1, len(ranks)):
        if ranks[i] == ranks[i - 1]:
            assert counts[i] <= counts[i - 1]
    assert "critical" in html[: html.index('<section class="person"')]


def test_charts_are_embedded_and_nothing_is_loaded_from_elsewhere(demo_report) -> None:
    _, html = demo_report
    people = len(_sections(html))
    assert html.count(PNG) == 3 + 3 * people
    for section in _sections(html):
        assert section.count(PNG) == 3
    attributes = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert attributes
    for value in attributes:
        assert value.startswith("data:image/png;base64,") or re.fullmatch(r"#person-\d+", value), value[:80]
    assert "<link" not in html and "@import" not in html and "url(" not in html


def test_each_finding_shows_logged_requests_as_evidence_and_how_to_record_an_outcome(demo_report) -> None:
    _, html = demo_report
    assert html.count('<table class="excerpts">') >= 20
    assert "bet365.com" in html
    assert "Not yet reviewed" in html and "filterlog incidents record " in html
    assert "How to read this report" in html and "not verdicts" in html


def test_the_report_is_private_in_a_private_directory(demo_report) -> None:
    path, _ = demo_report
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_default_path_is_in_the_workspace_reports_and_the_range_is_the_last_day(demo_ws: Workspace) -> None:
    path, review = review_file(demo_ws)
    day = demo_ws.event_dates()[-1].isoformat()
    assert path == demo_ws.reports_dir / f"review-{day}.html"
    assert _mode(path) == 0o600 and _mode(demo_ws.reports_dir) == 0o700
    assert review.events == 40_000 and review.flagged == review.summary.num_rows > 0
    assert review.findings.num_rows == store.read(demo_ws).num_rows


def test_people_past_the_limit_are_listed_without_a_section(demo_ws: Workspace) -> None:
    review = build_review(demo_ws, limit=3)
    html = render_review(review)
    assert len(review.people) == 3 and len(_sections(html)) == 3
    assert len(review.unshown) == review.flagged - 3
    assert f"For the other\n  {review.flagged - 3}" in html
    for row in review.unshown:
        assert str(escape(row["user"])) in html


def test_a_recorded_outcome_is_shown_against_its_finding(demo_ws: Workspace) -> None:
    from filterlog import incidents

    first = build_review(demo_ws).people[0].items[0].finding
    incidents.record(
        demo_ws, first["finding_id"], reviewed_by="Ms <b>Jones</b>", action="advice",
        outcome="Spoke to pupil & parents <i>today</i>",
    )  # fmt: skip
    review = build_review(demo_ws)
    assert review.reviewed == 1
    html = render_review(review)
    section = _sections(html)[0]
    assert "Outcome (closed):</b> advice: Spoke to pupil &amp; parents &lt;i&gt;today&lt;/i&gt;" in section
    assert "Ms &lt;b&gt;Jones&lt;/b&gt;" in section and "<b>Jones</b>" not in html
    assert "Not yet reviewed" in html  # the other findings


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A pupil called ``=1+2`` who tries a porn site three times, with a script in the URL, and one called <i>x</i>."""
    day = Day(groups={"=1+2": "year9"})
    for at in ("09:10:00", "09:16:00", "09:22:00"):
        day.deny(at, f"http://www.pornhub.com/{SCRIPT}", user="=1+2")
    for at in ("10:10:00", "10:16:00", "10:22:00"):
        day.deny(at, "http://www.bet365.com/", user="<i>x</i>")
    day.get("11:00:00", "https://www.bbc.co.uk/news", 20_000, user="bob")
    ws = day.workspace(tmp_path_factory.mktemp("hostile"))
    assert {f["user"] for f in store.read(ws).to_pylist()} >= {"=1+2", "<i>x</i>"}
    return ws


def test_log_borne_text_is_escaped(hostile: Workspace, tmp_path: Path) -> None:
    html = write_review(hostile, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the evidence URL, shown but inert
    assert "=1+2" in html
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert re.findall(r'id="([^"]*)"', html) == ["person-1", "person-2"]


def test_cli_writes_the_report_and_prints_a_count_line(hostile: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "review.html"
    result = CliRunner().invoke(cli, ["--workspace", str(hostile.root), "review", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"review: 2 people flagged, 2 findings, 7 events on 1 day -> {out}"
    assert _mode(out) == 0o600 and _mode(out.parent) == 0o700


def test_cli_range_outside_the_events_gives_a_valid_report_saying_so(hostile: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["--workspace", str(hostile.root), "review", "--from", "2026-11-20", "--to", "2026-11-21", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "0 people flagged, 0 findings, 0 events on 0 days" in result.output
    html = out.read_text(encoding="utf-8")
    assert "Nothing was flagged in this range" in html and "no traffic was logged" in html
    assert "2026-11-20 to 2026-11-21" in html


def test_cli_rejects_a_backwards_range_and_an_empty_workspace(ws: Workspace, hostile: Workspace) -> None:
    result = CliRunner().invoke(
        cli, ["--workspace", str(hostile.root), "review", "--from", "2026-11-19", "--to", "2026-11-18"]
    )
    assert result.exit_code == 2 and "before" in result.output
    ws.create()
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "review"])
    assert result.exit_code == 1
    assert "no events to review" in result.output and "Traceback" not in result.output


def test_a_clean_day_gives_a_valid_report_with_nothing_flagged(tmp_path: Path) -> None:
    day = Day()
    day.get("09:00:00", "https://www.bbc.co.uk/bitesize", 30_000, user="alice")
    day.get("13:30:00", "https://www.youtube.com/watch?v=abc", 300_000, user="bob")
    ws = day.workspace(tmp_path)
    review = build_review(ws)
    html = render_review(review)
    assert review.flagged == 0 and review.events == 2
    assert "Nothing was flagged in this range" in html and html.count(PNG) == 3
    assert html.rstrip().endswith("</html>")


# charts ------------------------------------------------------------------------
def test_every_chart_draws_real_data_and_says_so_when_there_is_none(demo_day) -> None:
    ws = Workspace(demo_day.workspace)
    act, policy, hours = activity(ws), Policy.from_config(ws.config), ws.config.working_hours
    found = store.read(ws)
    ws.close()
    who = "y7.nrichards"  # planted: blocked attempts at a gambling site
    made = [
        plots.person_hours(act, who, hours),
        plots.person_categories(act, who),
        plots.person_blocked(act, who, policy),
        plots.school_blocked_categories(act, policy),
        plots.school_nonbusiness_by_hour(act, policy, hours),
        plots.findings_by_rule(found),
    ]
    for fig in made:
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert ax.patches or ax.lines, ax.get_title()  # something drawn, not an empty frame
        assert not ax.texts, ax.get_title()
    labels = [t.get_text() for t in made[1].axes[0].get_yticklabels()]
    assert "gambling" in labels
    empty = ACTIVITY_SCHEMA.empty_table()
    for fig in (
        plots.person_hours(empty, who, hours),
        plots.person_categories(empty, who),
        plots.person_blocked(empty, who, policy),
        plots.school_blocked_categories(empty, policy),
        plots.school_nonbusiness_by_hour(empty, policy, hours),
        plots.findings_by_rule(FINDING_SCHEMA.empty_table()),
    ):
        assert [t.get_text() for t in fig.axes[0].texts][0].startswith(("no ", "nothing"))


def test_the_blocked_chart_counts_a_persons_blocked_requests_by_hour(hostile: Workspace) -> None:
    act = activity(hostile)
    fig = plots.person_blocked(act, "=1+2", Policy.from_config(hostile.config))
    stairs = fig.axes[0].patches[0]
    values = stairs.get_data().values
    assert values.sum() == 3 and values[9] == 3  # three blocked requests, all between 09:00 and 10:00
    assert pa.compute.sum(act.column("requests")).as_py() == 7


def test_a_range_of_several_days_shows_dates_and_a_time_axis_across_them(tmp_path: Path) -> None:
    day = Day()  # Wednesday 18 and Thursday 19 November
    for offset in (0, 1):
        for at in ("09:10:00", "09:16:00", "09:22:00"):
            day.deny(at, "http://www.bet365.com/", user="carol", day_offset=offset)
    ws = day.workspace(tmp_path)
    review = build_review(ws, date_from=ws.event_dates()[0])
    assert [d.isoformat() for d in review.days] == ["2026-11-18", "2026-11-19"]
    assert review.findings.num_rows == 2 and review.flagged == 1
    html = render_review(review)
    assert "2026-11-18 to 2026-11-19" in html and "2026-11-19 09:22:00" in html
    fig = plots.person_blocked(activity(ws), "carol", Policy.from_config(ws.config))
    values = fig.axes[0].patches[0].get_data().values
    assert len(values) == 48 and values[9] == 3 and values[24 + 9] == 3
    default = build_review(ws)  # the last day only
    assert [d.isoformat() for d in default.days] == ["2026-11-19"] and default.findings.num_rows == 1
