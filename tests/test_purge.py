"""filterlog purge: old dates go (events, findings, quarantine, reports); incidents, access log, manifest stay.

Also the privacy rule that the access log cannot be edited through the CLI;
that SQLite itself refuses UPDATE and DELETE on it is tested in
``tests/test_audit.py::test_the_access_log_cannot_be_changed``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings as store
from filterlog import incidents
from filterlog.cli import cli
from filterlog.errors import WorkspaceError
from filterlog.ingest import ingest
from filterlog.purge import PurgeError, purge
from filterlog.report import access, audit
from filterlog.report.review import review_file
from filterlog.rules import detect
from filterlog.workspace import Workspace

OLD, NEW = date(2020, 1, 8), date(2020, 11, 18)
"""Two Wednesdays far apart; purging with ``today`` between them keeps NEW only."""
TODAY = NEW + timedelta(days=1)
DAYS = 30


def _day(when: date, user: str) -> Day:
    day = Day(when.isoformat())
    for at in ("09:12:04", "09:17:40", "09:24:13"):
        day.deny(at, "http://www.bet365.com/", user=user)
    day.get("10:00:00", "https://www.bbc.co.uk/news", 20_000, user=user)
    return day


def _school(root: Path) -> Workspace:
    """Two logs (one per date), each with a line the reader rejects; ingested, detected, one incident, one audit."""
    logs = root / "logs"
    logs.mkdir(parents=True)
    for name, when, user in (("old.log", OLD, "alice"), ("new.log", NEW, "bob")):
        (logs / name).write_text(_day(when, user).text() + "this is not a squid line\n", encoding="utf-8")
    ws = Workspace(root / "ws").create()
    report = ingest(ws, [logs / "old.log", logs / "new.log"])
    assert not report.failed and len(list(ws.quarantine_dir.glob("*.parquet"))) == 2
    with ws.lock():
        detect(ws)
    assert store.finding_dates(ws) == [OLD, NEW]
    old_finding = store.read(ws, OLD, OLD).column("finding_id")[0].as_py()
    incidents.record(ws, old_finding, reviewed_by="J Bloggs", action="advice", outcome="Spoke to pupil")
    audit.write_pack(ws, "alice", out=root / "packs")
    return ws


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-date school, built once; each test gets its own copy."""
    root = tmp_path_factory.mktemp("purge")
    _school(root).close()
    return root


@pytest.fixture
def school(built: Path, tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(built, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock"), symlinks=True)
    ws = Workspace(tmp_path / "ws")
    yield ws
    ws.close()


def _age(path: Path, days: float) -> None:
    then = time.time() - days * 86_400
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (then, then))


def test_purge_removes_exactly_the_old_dates_and_keeps_the_rest(school: Workspace) -> None:
    old_ingest, new_ingest = (r.ingest_id for r in school.manifest())
    result = purge(school, DAYS, today=TODAY)
    assert result.cutoff == TODAY - timedelta(days=DAYS)
    assert school.event_dates() == [NEW] and store.finding_dates(school) == [NEW]
    assert [p.name for p in school.quarantine_dir.iterdir()] == [f"{new_ingest}.parquet"]
    assert [r.day for r in result.of("events")] == [OLD] and sum(r.rows for r in result.of("events")) == 4
    assert sum(r.rows for r in result.of("findings")) == 1
    assert [r.path.name for r in result.of("quarantine")] == [f"{old_ingest}.parquet"]
    assert result.ingests_emptied == 1 and result.size > 0
    assert [r.ingest_id for r in school.manifest()] == [old_ingest, new_ingest]  # kept: no re-ingest
    (kept,) = incidents.listing(school)
    assert kept.user == "alice" and kept.finding_date == OLD  # the register keeps its own retention
    assert [e.subject for e in access.entries(school)] == ["alice"]
    text = "\n".join(result.describe())
    assert "removed 4 events on 1 date(s), 2020-01-08" in text and "manifest rows are kept" in text


def test_a_dry_run_lists_the_same_and_deletes_nothing(school: Workspace) -> None:
    def files() -> list[Path]:
        return sorted(p for p in school.root.rglob("*") if not p.name.startswith((".lock", "filterlog.db")))

    before = files()
    plan = purge(school, DAYS, today=TODAY, dry_run=True)
    assert files() == before
    done = purge(school, DAYS, today=TODAY)
    assert [(r.path, r.rows) for r in plan.removals] == [(r.path, r.rows) for r in done.removals]
    assert "would remove 4 events" in "\n".join(plan.describe())
    assert purge(school, DAYS, today=TODAY).empty  # and again: nothing left to do


def test_detect_review_and_reingest_work_after_a_purge(school: Workspace, tmp_path: Path) -> None:
    purge(school, DAYS, today=TODAY)
    with school.lock():
        detect(school)
    assert store.finding_dates(school) == [NEW]
    path, built = review_file(school, tmp_path / "review.html")
    assert path.exists() and "bob" in path.read_text(encoding="utf-8")
    again = ingest(school, [tmp_path / "logs" / "old.log"])  # a purged file does not come back
    assert again.total("events") == 0 and [f.status for f in again.files] != ["ingested"]
    assert school.event_dates() == [NEW]


def test_reports_older_than_days_go_whole_and_newer_ones_stay(school: Workspace, tmp_path: Path) -> None:
    reports = school.reports_dir
    (reports / "old.csv").write_text("x")
    (reports / "new.csv").write_text("y")
    old_pack = audit.write_pack(school, "alice").directory
    new_pack = audit.write_pack(school, "bob").directory
    _age(reports / "old.csv", DAYS + 1)
    _age(old_pack, DAYS + 1)
    _age(new_pack, DAYS + 1)
    os.utime(new_pack / "SHA256SUMS")  # one fresh file keeps its whole pack
    result = purge(school, DAYS, today=TODAY)
    assert sorted(r.path.name for r in result.of("report")) == sorted(["old.csv", old_pack.name])
    assert not (reports / "old.csv").exists() and not old_pack.exists()
    assert (reports / "new.csv").exists() and new_pack.is_dir() and len(list(new_pack.iterdir())) == 7
    assert (tmp_path / "packs").is_dir()  # reports written outside the workspace are not filterlog's to delete


def test_the_remains_of_a_killed_purge_are_cleared(school: Workspace) -> None:
    gone = school.events_dir / ".purging-date=2019-01-01"
    gone.mkdir()
    (gone / "x.parquet").write_bytes(b"half")
    assert date(2019, 1, 1) not in school.event_dates()
    purge(school, DAYS, today=TODAY)
    assert not gone.exists()


def test_a_purge_waits_for_no_one(school: Workspace) -> None:
    with school.lock(), pytest.raises(WorkspaceError, match="in use"):
        purge(Workspace(school.root), DAYS, today=TODAY)
    with pytest.raises(PurgeError):
        purge(school, 0)


def test_cli_asks_first_and_purges_on_yes(school: Workspace) -> None:
    days = (date.today() - date(2020, 6, 1)).days  # cuts between OLD and NEW whatever today is
    run = CliRunner()
    args = ["--workspace", str(school.root), "purge", "--older-than", str(days)]
    no = run.invoke(cli, args, input="n\n")
    assert no.exit_code == 1 and "would remove 4 events" in no.output and "Aborted" in no.output
    assert school.event_dates() == [OLD, NEW]
    dry = run.invoke(cli, [*args, "--dry-run"])
    assert dry.exit_code == 0 and "would remove" in dry.output and school.event_dates() == [OLD, NEW]
    yes = run.invoke(cli, args, input="y\n")
    assert yes.exit_code == 0 and "removed 4 events on 1 date(s), 2020-01-08" in yes.output
    assert school.event_dates() == [NEW]
    quiet = run.invoke(cli, [*args, "--yes"])
    assert quiet.exit_code == 0 and "nothing to remove" in quiet.output


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_cli_refuses_a_bad_number_of_days(school: Workspace, value: str) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(school.root), "purge", "--older-than", value, "--yes"])
    assert result.exit_code == 2 and school.event_dates() == [OLD, NEW]


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    out = {}
    for name, command in group.commands.items():
        out[prefix + name] = command
        if isinstance(command, click.Group):
            out |= _commands(command, prefix + name + " ")
    return out


def test_no_command_can_edit_the_access_log() -> None:
    commands = _commands(cli)
    assert "purge" in commands and "incidents record" in commands
    editing = ("delete", "edit", "clear", "remove", "update", "truncate", "reset", "amend", "rm", "forget")
    for name, command in commands.items():
        words = set(name.split()) | {p.name or "" for p in command.params} | {o for p in command.params for o in p.opts}
        assert not any(w.strip("-") in editing for w in words), (name, words)
    (log,) = [p for p in commands["audit"].params if any("log" in o for o in p.opts)]
    assert log.opts == ["--log"] and isinstance(log, click.Option) and log.is_flag  # it only lists
