"""The incident register: record, history, latest state, listing, the unreviewed queue, and the CLI over them."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner, Result
from rulecase import Day

from filterlog import findings, incidents
from filterlog.cli import cli
from filterlog.errors import FilterlogError
from filterlog.workspace import Workspace


def invoke(ws: Workspace, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), *args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def ids(ws: Workspace) -> list[str]:
    return findings.read(ws).column("finding_id").to_pylist()


def twins(ws: Workspace) -> str:
    """Give two stored findings ids that share their first 8 digits, as a large register eventually will."""
    table = findings.read(ws)
    day = table.column("date")[0].as_py()
    table = table.filter(pc.equal(table.column("date"), day))
    twin = ["abcdef12" + f"{n:08x}" for n in range(table.num_rows)]
    findings.write_day(ws, day, table.set_column(0, "finding_id", pa.array(twin, pa.string())))
    return "abcdef12"


def test_record_latest_history_round_trip(demo_ws: Workspace) -> None:
    fid = ids(demo_ws)[0]
    row = findings.read(demo_ws).to_pylist()[0]
    done = incidents.record(
        demo_ws, fid, reviewed_by="J. Patel (DSL)", action="advice", outcome="Spoke to the pupil.",
        notes="Line one\n\tline two", decided_on=date(2026, 11, 20),
    )  # fmt: skip
    assert (done.finding_id, done.rule, done.user, done.client_ip, done.finding_date) == (
        fid, row["rule"], row["user"], row["client_ip"], row["date"]
    )  # fmt: skip
    assert (done.status, done.action, done.reviewed_by, done.decided_on) == (
        "closed", "advice", "J. Patel (DSL)", date(2026, 11, 20)
    )  # fmt: skip
    assert done.notes == "Line one\n\tline two"
    assert done.recorded_at.tzinfo is not None and done.recorded_at.utcoffset() == timedelta(0)
    assert incidents.history(demo_ws, fid) == [done]
    assert incidents.latest(demo_ws) == {fid: done}
    assert incidents.latest(demo_ws, [fid, ids(demo_ws)[1]]) == {fid: done}
    assert incidents.latest(demo_ws, []) == {}


def test_decided_on_defaults_to_today_on_the_site_clock(demo_ws: Workspace) -> None:
    from datetime import datetime

    done = incidents.record(demo_ws, ids(demo_ws)[0], reviewed_by="a", action="no-action", outcome="fine")
    assert done.decided_on == datetime.now(demo_ws.config.site.tz).date()


def test_a_unique_prefix_names_the_finding(demo_ws: Workspace) -> None:
    all_ids = ids(demo_ws)
    fid = next(i for i in all_ids if sum(j.startswith(i[:8]) for j in all_ids) == 1)
    done = incidents.record(demo_ws, fid[:8].upper(), reviewed_by="x", action="warning", outcome="warned")
    assert done.finding_id == fid
    assert [i.record_id for i in incidents.history(demo_ws, fid[:8])] == [done.record_id]


@pytest.mark.parametrize(
    ("finding_id", "kwargs", "message"),
    [
        ("ffffffffffffffff", {}, "no finding with id"),
        ("abc", {}, "at least 6 hex digits"),
        ("zzzzzzzz", {}, "at least 6 hex digits"),
        (None, {"action": "shouted"}, "unknown action"),
        (None, {"status": "pending"}, "unknown status"),
        (None, {"reviewed_by": "  "}, "reviewed by must not be empty"),
        (None, {"reviewed_by": "a\nb"}, "one line"),
        (None, {"outcome": ""}, "outcome must not be empty"),
        (None, {"notes": "ok\x1b[31mred"}, "control characters"),
        (None, {"notes": "bidi \u202e spoof"}, "control characters"),
        (None, {"decided_on": date.today() + timedelta(days=3)}, "in the future"),
    ],
)
def test_bad_records_are_refused_with_one_line(demo_ws: Workspace, finding_id, kwargs, message) -> None:
    args = {"reviewed_by": "x", "action": "advice", "outcome": "y"} | kwargs
    with pytest.raises(incidents.IncidentError, match=message) as exc:
        incidents.record(demo_ws, finding_id or ids(demo_ws)[0], **args)
    assert isinstance(exc.value, FilterlogError) and "\n" not in str(exc.value)
    assert incidents.latest(demo_ws) == {}


def test_an_ambiguous_prefix_is_refused(demo_ws: Workspace) -> None:
    prefix = twins(demo_ws)
    with pytest.raises(incidents.IncidentError, match="ambiguous"):
        incidents.history(demo_ws, prefix)


def test_open_then_closed_is_closed_and_keeps_its_history(demo_ws: Workspace) -> None:
    fid = ids(demo_ws)[0]
    first = incidents.record(
        demo_ws, fid, reviewed_by="DSL", action="under-investigation", outcome="Asked IT for more logs", status="open"
    )
    assert incidents.listing(demo_ws, "open") == [first]
    second = incidents.record(demo_ws, fid, reviewed_by="DSL", action="sanction", outcome="Detention")
    assert incidents.latest(demo_ws)[fid] == second
    assert incidents.listing(demo_ws, "open") == []
    assert incidents.listing(demo_ws, "closed") == [second]
    assert [i.action for i in incidents.history(demo_ws, fid)] == ["under-investigation", "sanction"]


def test_listing_filters_by_status_user_and_date(demo_ws: Workspace) -> None:
    rows = [r for r in findings.read(demo_ws).to_pylist() if r["user"]]
    a = rows[0]
    b = next(r for r in rows if r["user"] != a["user"])
    ra = incidents.record(demo_ws, a["finding_id"], reviewed_by="x", action="advice", outcome="o", status="open")
    rb = incidents.record(demo_ws, b["finding_id"], reviewed_by="x", action="no-action", outcome="o")
    assert incidents.listing(demo_ws) == sorted([ra, rb], key=lambda i: (i.finding_date, i.rule, i.user, i.finding_id))
    assert incidents.listing(demo_ws, "open") == [ra]
    assert incidents.listing(demo_ws, "closed") == [rb]
    assert incidents.listing(demo_ws, user=a["user"].upper()) == [ra]
    assert incidents.listing(demo_ws, user=b["client_ip"]) == [rb] or b["client_ip"] == a["client_ip"]
    day = a["date"]
    assert len(incidents.listing(demo_ws, date_from=day, date_to=day)) == 2
    assert incidents.listing(demo_ws, date_from=day + timedelta(days=1)) == []
    assert incidents.listing(demo_ws, date_to=day - timedelta(days=1)) == []
    with pytest.raises(incidents.IncidentError):
        incidents.listing(demo_ws, "pending")


def test_the_unreviewed_queue_shrinks_as_outcomes_are_recorded(demo_ws: Workspace) -> None:
    total = findings.read(demo_ws).num_rows
    queue = incidents.unreviewed(demo_ws)
    assert queue.num_rows == total
    picked = queue.column("finding_id").to_pylist()[:3]
    for fid in picked:
        incidents.record(demo_ws, fid, reviewed_by="x", action="no-action", outcome="fine")
    incidents.record(demo_ws, picked[0], reviewed_by="x", action="warning", outcome="again")
    after = incidents.unreviewed(demo_ws)
    assert after.num_rows == total - 3
    assert not set(picked) & set(after.column("finding_id").to_pylist())
    out = invoke(demo_ws, "incidents", "list", "--status", "unreviewed", "--format", "json")
    assert out.exit_code == 0
    assert len(json.loads(out.output)) == total - 3


def test_the_register_outlives_the_findings_files(demo_ws: Workspace) -> None:
    row = findings.read(demo_ws).to_pylist()[0]
    fid = row["finding_id"]
    incidents.record(demo_ws, fid, reviewed_by="x", action="under-investigation", outcome="o", status="open")
    shutil.rmtree(demo_ws.root / "findings")
    assert findings.read(demo_ws).num_rows == 0
    assert [i.finding_id for i in incidents.history(demo_ws, fid[:10])] == [fid]
    later = incidents.record(demo_ws, fid[:10], reviewed_by="y", action="sanction", outcome="done")
    assert (later.rule, later.user, later.finding_date, later.status) == (
        row["rule"],
        row["user"],
        row["date"],
        "closed",
    )
    assert incidents.listing(demo_ws) == [later]
    shown = invoke(demo_ws, "incidents", "show", fid)
    assert shown.exit_code == 0, shown.output
    assert "no longer in the findings files" in shown.output and "sanction by y" in shown.output


# the command line ----------------------------------------------------------


def test_cli_record_list_show(demo_ws: Workspace) -> None:
    row = findings.read(demo_ws).to_pylist()[0]
    fid = row["finding_id"]
    out = invoke(
        demo_ws, "incidents", "record", fid[:8], "--by", "Ms Reed", "--action", "under-investigation",
        "--outcome", "Checking with IT", "--open", "--date", "2026-11-19",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert out.output.count("\n") == 1 and fid in out.output and "open" in out.output
    out = invoke(demo_ws, "incidents", "record", fid, "--by", "Ms Reed", "--action", "advice", "--outcome", "Talked",
                 "--notes", "first\nsecond")  # fmt: skip
    assert out.exit_code == 0 and "closed" in out.output
    table = invoke(demo_ws, "incidents", "list").output
    assert fid in table and "advice" in table and "under-investigation" not in table
    assert invoke(demo_ws, "incidents", "list", "--status", "open").output == "no incidents recorded\n"
    shown = invoke(demo_ws, "incidents", "show", fid[:8]).output
    assert row["detail"][:40] in shown
    assert shown.index("under-investigation") < shown.index("advice by Ms Reed")
    assert "notes: first" in shown and "notes: second" in shown


def test_cli_show_a_finding_with_no_record_says_so(demo_ws: Workspace) -> None:
    out = invoke(demo_ws, "incidents", "show", ids(demo_ws)[0])
    assert out.exit_code == 0 and "no outcome recorded yet" in out.output


@pytest.mark.parametrize("which", ["unknown", "ambiguous", "short"])
def test_cli_bad_ids_exit_1_with_one_line(demo_ws: Workspace, which: str) -> None:
    fid = {"unknown": "0123456789abcdef", "ambiguous": None, "short": "12ab"}[which]
    if fid is None:
        fid = twins(demo_ws)
    for args in (["record", fid, "--by", "x", "--action", "advice", "--outcome", "y"], ["show", fid]):
        out = invoke(demo_ws, "incidents", *args)
        assert out.exit_code == 1, out.output
        assert len(out.output.strip().splitlines()) == 1 and out.output.startswith("Error: ")


def test_cli_refuses_an_unknown_action_as_a_usage_error(demo_ws: Workspace) -> None:
    out = invoke(demo_ws, "incidents", "record", ids(demo_ws)[0], "--by", "x", "--action", "expel", "--outcome", "y")
    assert out.exit_code == 2 and "expel" in out.output


def test_cli_json_keys(demo_ws: Workspace) -> None:
    fid = ids(demo_ws)[0]
    incidents.record(demo_ws, fid, reviewed_by="x", action="advice", outcome="o", decided_on=date(2026, 11, 20))
    data = json.loads(invoke(demo_ws, "incidents", "list", "--format", "json").output)
    assert len(data) == 1 and tuple(data[0]) == incidents.JSON_KEYS
    assert data[0]["finding_id"] == fid and data[0]["decided_on"] == "2026-11-20"
    assert data[0]["recorded_at"].endswith("Z") and data[0]["status"] == "closed"


def test_cli_csv_neutralises_formulas_from_people_and_logs(tmp_path: Path) -> None:
    day = Day()
    for t in ("09:10:00", "09:14:00", "09:18:00"):
        day.deny(t, "www.pornhub.com:443", user="=1+2")
    ws = day.workspace(tmp_path)
    try:
        queue = list(csv.DictReader(io.StringIO(invoke(ws, "incidents", "list", "--status", "unreviewed", "--format",
                                                       "csv").output)))  # fmt: skip
        assert queue and {r["user"] for r in queue} == {"'=1+2"}
        fid = ids(ws)[0]
        incidents.record(ws, fid, reviewed_by="=1+2", action="warning", outcome="+SUM(A1)", notes="@cmd")
        text = invoke(ws, "incidents", "list", "--format", "csv").output
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1
        r = rows[0]
        assert (r["user"], r["reviewed_by"], r["outcome"], r["notes"]) == ("'=1+2", "'=1+2", "'+SUM(A1)", "'@cmd")
        assert json.loads(invoke(ws, "incidents", "list", "--format", "json").output)[0]["user"] == "=1+2"
    finally:
        ws.close()


def test_cli_table_shows_control_characters_as_question_marks(demo_ws: Workspace) -> None:
    fid = ids(demo_ws)[0]
    incidents.record(demo_ws, fid, reviewed_by="x", action="advice", outcome="line\tone\nline two")
    with demo_ws.db:
        demo_ws.db.execute("UPDATE incidents SET reviewed_by = 'evil\x1b[2J'")  # as if written by another tool
    table = invoke(demo_ws, "incidents", "list").output
    assert "\x1b" not in table and "evil?[2J" in table and "line one line two" in table
    assert "\x1b" not in invoke(demo_ws, "incidents", "show", fid).output


def test_cli_list_filters(demo_ws: Workspace) -> None:
    rows = [r for r in findings.read(demo_ws).to_pylist() if r["user"]]
    a = rows[0]
    b = next(r for r in rows if r["user"] != a["user"])
    incidents.record(demo_ws, a["finding_id"], reviewed_by="x", action="advice", outcome="o", status="open")
    incidents.record(demo_ws, b["finding_id"], reviewed_by="x", action="advice", outcome="o")

    def listed(*args: str) -> set[str]:
        return {
            d["finding_id"] for d in json.loads(invoke(demo_ws, "incidents", "list", "--format", "json", *args).output)
        }

    assert listed() == {a["finding_id"], b["finding_id"]}
    assert listed("--status", "open") == {a["finding_id"]}
    assert listed("--status", "closed") == {b["finding_id"]}
    assert listed("--user", a["user"]) == {a["finding_id"]}
    later = (a["date"] + timedelta(days=1)).isoformat()
    assert listed("--from", later) == set()
    assert invoke(demo_ws, "incidents", "list", "--from", later, "--to", a["date"].isoformat()).exit_code == 2
