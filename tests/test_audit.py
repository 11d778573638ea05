"""The investigator's audit pack: complete, ordered, sourced, hashed, hostile-proof, and logged."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings, incidents
from filterlog.cli import cli
from filterlog.enrich.events import Enricher
from filterlog.ingest import ingest
from filterlog.output import safe_cell
from filterlog.report import access, audit
from filterlog.workspace import Workspace


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _parquet(pack: audit.AuditPack) -> pa.Table:
    return pq.read_table(pack.directory / "events.parquet")


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _enriched_day(ws: Workspace) -> pa.Table:
    """The independent answer: the whole demo day enriched at once."""
    (day,) = ws.event_dates()
    return Enricher.from_workspace(ws)(ws.read_events(day))


def _planted_user(ws: Workspace) -> str:
    table = findings.read(ws, rules=["repeated-blocked"])
    return table.column("user")[0].as_py()


# the demo day ------------------------------------------------------------------
def test_the_parquet_holds_exactly_the_planted_users_events_in_time_order(demo_ws: Workspace, tmp_path: Path) -> None:
    user = _planted_user(demo_ws)
    pack = audit.write_pack(demo_ws, user.upper(), out=tmp_path / "out", by="inspector")
    got = _parquet(pack)
    expected = _enriched_day(demo_ws).filter(pc.equal(pc.field("user"), user))
    assert got.num_rows == expected.num_rows == pack.events > 0
    assert sorted(got.column("source_line").to_pylist()) == sorted(expected.column("source_line").to_pylist())
    assert set(got.column("user").to_pylist()) == {user}
    times = got.column("time").to_pylist()
    assert times == sorted(times)
    for name in ("domain", "category", "group", "ip_user", "in_working_hours", "raw_line", "source_path", "url"):
        assert name in got.column_names
    assert pack.findings == findings.read(demo_ws, user=user).num_rows >= 1
    assert pack.directory.parent == tmp_path / "out"
    assert pack.directory.name == f"{audit.safe_name(user.upper())}-2026-11-18-2026-11-18"


def test_a_person_known_only_from_the_identity_map_is_included(demo_ws: Workspace, tmp_path: Path) -> None:
    day = _enriched_day(demo_ws)
    logged = demo_ws.read_events(demo_ws.event_dates()[0], columns=["user"]).column("user")
    mapped = day.filter(pc.and_(pc.is_null(logged), pc.is_valid(day.column("user"))))
    assert mapped.num_rows > 0, "the demo should have log lines without a user that the DHCP map attributes"
    person = mapped.column("user")[0].as_py()
    line = mapped.column("source_line")[0].as_py()
    got = _parquet(audit.write_pack(demo_ws, person, out=tmp_path))
    row = got.filter(pc.equal(got.column("source_line"), line))
    assert row.num_rows == 1
    assert row.column("attributed_by")[0].as_py() == "identity map"
    assert got.num_rows == day.filter(pc.equal(day.column("user"), person)).num_rows
    html = (tmp_path / next(p.name for p in tmp_path.iterdir()) / "audit.html").read_text()
    assert "identity map:" in html


def test_raw_lines_are_the_source_files_lines(demo_ws: Workspace, tmp_path: Path) -> None:
    pack = audit.write_pack(demo_ws, _planted_user(demo_ws), out=tmp_path)
    (source,) = pack.sources
    assert source.verified and source.status == "verified: unchanged since ingest"
    lines = Path(source.path).read_text(encoding="utf-8").split("\n")
    got = _parquet(pack)
    assert got.column("raw_line").null_count == 0
    for number, raw in zip(got.column("source_line").to_pylist(), got.column("raw_line").to_pylist(), strict=True):
        assert raw == lines[number - 1]
    rows = _csv(pack.directory / "events.csv")
    assert len(rows) == got.num_rows
    assert [r["raw_line"] for r in rows] == [safe_cell(r) for r in got.column("raw_line").to_pylist()]
    sources = _csv(pack.directory / "sources.csv")
    assert [(s["path"], s["sha256"], s["verified"]) for s in sources] == [(source.path, source.source_id, "True")]


def test_sha256sums_covers_every_file_and_verifies(demo_ws: Workspace, tmp_path: Path) -> None:
    pack = audit.write_pack(demo_ws, _planted_user(demo_ws), out=tmp_path)
    text = (pack.directory / "SHA256SUMS").read_text()
    names = [m.group(2) for m in re.finditer(r"^([0-9a-f]{64})  (\S+)$", text, re.M)]
    assert len(names) == len(text.splitlines())
    assert sorted(names) == sorted(p.name for p in pack.directory.iterdir() if p.name != "SHA256SUMS")
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pack.directory, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (pack.directory / "findings.csv").write_text("tampered\n")
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=pack.directory, capture_output=True, text=True)
    assert done.returncode != 0 and "findings.csv: FAILED" in done.stdout


def test_pack_files_are_owner_only(demo_ws: Workspace, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        pack = audit.write_pack(demo_ws, _planted_user(demo_ws), out=tmp_path / "new" / "dir")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new") == 0o700 and _mode(pack.directory.parent) == 0o700
    assert _mode(pack.directory) == 0o700
    assert sorted(p.name for p in pack.directory.iterdir()) == sorted(pack.files)
    assert {_mode(p) for p in pack.directory.iterdir()} == {0o600}


def test_a_finding_sits_in_the_timeline_before_its_evidence_with_its_outcome(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    user = _planted_user(demo_ws)
    finding = findings.read(demo_ws, user=user, rules=["repeated-blocked"]).to_pylist()[0]
    incidents.record(demo_ws, finding["finding_id"], reviewed_by="Ms Khan", action="advice",
                     outcome="Spoke to <b>pupil</b>")  # fmt: skip
    pack = audit.write_pack(demo_ws, user, out=tmp_path)
    html = (pack.directory / "audit.html").read_text()
    first = finding["evidence"][0]
    anchor = audit.anchor(first["source_id"], first["source_line"])
    assert html.index(f'id="f-{finding["finding_id"]}"') < html.index(f'id="{anchor}"')
    assert f'href="#{anchor}"' in html
    assert "Spoke to &lt;b&gt;pupil&lt;/b&gt;" in html and "Ms Khan" in html and "advice" in html
    assert '<span class="sev sev-' + finding["severity"] in html


def test_the_html_timeline_is_capped_but_the_csv_and_parquet_are_not(
    demo_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "HTML_ROWS", 5)
    pack = audit.write_pack(demo_ws, _planted_user(demo_ws), out=tmp_path)
    html = (pack.directory / "audit.html").read_text()
    assert pack.events > 5
    assert html.count('class="rawline"') == 5
    assert "shows the first 5 of" in html
    assert len(_csv(pack.directory / "events.csv")) == _parquet(pack).num_rows == pack.events


# hostile data, odd subjects -------------------------------------------------------
def _hostile(tmp_path: Path) -> Workspace:
    day = Day()
    for t in ("09:12:04", "09:17:40", "09:24:13"):
        day.deny(t, "www.bet365.com:443", user="=1+2")
    day.get("09:30:00", "http://example.com/<script>alert(1)</script>", user="=1+2")
    day.get("09:31:00", "https://www.bbc.co.uk/", user="bob")
    day.challenge("09:32:00", "outlook.office365.com:443", ip="10.0.0.9")
    return day.workspace(tmp_path)


def test_script_urls_and_formula_users_are_escaped_and_neutralised(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    pack = audit.write_pack(ws, "=1+2", out=tmp_path / "out")
    assert pack.events == 4 and pack.findings == 1
    html = (pack.directory / "audit.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "=1+2" in html
    for name in ("events.csv", "findings.csv", "sources.csv"):
        for row in csv.reader(io.StringIO((pack.directory / name).read_text())):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), (name, row)
    rows = _csv(pack.directory / "events.csv")
    assert {r["user"] for r in rows} == {"'=1+2"}
    assert any("<script>" in r["url"] for r in rows)
    assert _parquet(pack).column("user").to_pylist() == ["=1+2"] * 4  # Parquet holds the data as logged
    ws.close()


@pytest.mark.parametrize("value", ["=1+2", "+44", "-x", "@SUM(A1)", "\tx", "\rx", "\nx", "plain", "a=b", "", None])
def test_safe_column_agrees_with_safe_cell(value: str | None) -> None:
    assert audit.safe_column(pa.array([value], pa.string())).to_pylist() == [safe_cell(value)]


def test_a_path_traversal_user_writes_inside_out_only(tmp_path: Path) -> None:
    ws = _hostile(tmp_path / "w")
    out = tmp_path / "D"
    before = set(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "audit", "../../etc/passwd", "--out", str(out)])
    assert result.exit_code == 0, result.output
    new = set(tmp_path.rglob("*")) - before
    assert new and all(p == out or out in p.parents for p in new if ws.root not in p.parents)
    (folder,) = out.iterdir()
    assert ".." not in folder.name and "/" not in folder.name
    assert (folder / "SHA256SUMS").exists()
    assert "0 events" in result.output
    ws.close()


def test_an_unattributed_address_can_be_audited(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    pack = audit.write_pack(ws, "10.0.0.9", out=tmp_path / "out")
    got = _parquet(pack)
    assert got.num_rows == 1 and got.column("action").to_pylist() == ["auth_required"]
    assert got.column("attributed_by").to_pylist() == ["address"]
    named = audit.write_pack(ws, "10.0.0.5", out=tmp_path / "out")  # alice's address: her events are hers
    assert named.events == 0
    ws.close()


# provenance when the source files move, change or grow ---------------------------
def test_a_moved_source_file_gives_unavailable_raw_lines_not_a_failure(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    log = tmp_path / "logs" / "access.log"
    log.rename(log.with_name("access.log.1"))
    pack = audit.write_pack(ws, "=1+2", out=tmp_path / "out")
    got = _parquet(pack)
    assert got.num_rows == 4 and got.column("raw_line").null_count == 4 == pack.raw_missing
    assert all("not found" in n for n in got.column("raw_line_note").to_pylist())
    assert not pack.sources[0].verified
    html = (pack.directory / "audit.html").read_text()
    assert "raw line unavailable" in html and "✘" in html
    assert "4 raw lines unavailable" in pack.summary()
    ws.close()


def test_a_changed_source_file_withholds_its_lines(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    log = tmp_path / "logs" / "access.log"
    log.write_bytes(log.read_bytes().replace(b"bet365", b"bet366"))
    pack = audit.write_pack(ws, "=1+2", out=tmp_path / "out")
    notes = set(_parquet(pack).column("raw_line_note").to_pylist())
    assert len(notes) == 1 and "has changed since ingest" in notes.pop()
    ws.close()


def test_a_grown_log_numbers_appended_lines_on_and_both_ingests_verify(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    log = tmp_path / "logs" / "access.log"
    first = log.read_text()
    more = Day()
    more.get("10:00:00", "https://example.org/after", user="=1+2").get("10:05:00", "https://bbc.co.uk/", user="bob")
    log.write_text(first + more.text())
    report = ingest(ws, [log])
    assert [f.status for f in report.files] == ["appended"]
    pack = audit.write_pack(ws, "=1+2", out=tmp_path / "out")
    assert len(pack.sources) == 2 and all(s.verified for s in pack.sources)
    assert {s.status for s in pack.sources} == {
        "verified: the ingested lines are intact (the file has grown since)", "verified: unchanged since ingest"
    }  # fmt: skip
    got = _parquet(pack)
    lines = log.read_text().split("\n")
    assert got.num_rows == 5
    assert max(got.column("source_line").to_pylist()) == len(first.splitlines()) + 1
    for number, raw in zip(got.column("source_line").to_pylist(), got.column("raw_line").to_pylist(), strict=True):
        assert raw == lines[number - 1]
    ws.close()


def test_raw_lines_come_out_of_compressed_logs(tmp_path: Path) -> None:
    day = Day().get("09:00:00", "https://example.com/a", user="carol").get("09:01:00", "https://x.org/", user="dan")
    day.get("09:02:00", "https://example.com/b", user="carol")
    log = tmp_path / "access.log.gz"
    log.write_bytes(gzip.compress(day.text().encode()))
    ws = Workspace(tmp_path / "ws")
    assert not ingest(ws, [log]).failed
    pack = audit.write_pack(ws, "carol", out=tmp_path / "out")
    expected = day.text().split("\n")
    got = _parquet(pack)
    assert got.column("raw_line").to_pylist() == [expected[0], expected[2]]
    assert pack.sources[0].verified
    ws.close()


# the access log -------------------------------------------------------------------
def test_every_run_is_logged_and_listed(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    runner = CliRunner()
    base = ["--workspace", str(ws.root), "audit"]
    result = runner.invoke(cli, [*base, "=1+2", "--out", str(tmp_path / "o"), "--by", "Ms Inspector",
                                 "--from", "2026-11-18", "--to", "2026-11-18"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 events, 1 findings, 1 source file" in result.output and "pack: " in result.output
    result = runner.invoke(cli, [*base, "nobody", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and "0 events" in result.output
    listed = runner.invoke(cli, [*base, "--log", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert [(e["actor"], e["subject"], e["events"], e["command"]) for e in entries] == [
        ("Ms Inspector", "=1+2", 4, "audit"), (access.actor(), "nobody", 0, "audit"),
    ]  # fmt: skip
    assert entries[0]["date_from"] == entries[0]["date_to"] == "2026-11-18"
    assert entries[0]["output"].startswith(str(tmp_path / "o"))
    table = runner.invoke(cli, [*base, "--log"])
    assert "Ms Inspector" in table.output and "nobody" in table.output
    only = runner.invoke(cli, [*base, "NOBODY", "--log", "--format", "csv"])
    assert len(list(csv.DictReader(io.StringIO(only.output)))) == 1
    text = runner.invoke(cli, [*base, "--log", "--format", "csv"]).output
    assert "'=1+2" in text and "\n=1+2" not in text and ",=1+2" not in text
    ws.close()


def test_the_access_log_cannot_be_changed(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    audit.write_pack(ws, "bob", out=tmp_path / "o")
    assert len(access.entries(ws)) == 1
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.db.execute("UPDATE access_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.db.execute("DELETE FROM access_log")
    assert access.entries(ws)[0].subject == "bob"
    ws.close()


def test_a_failed_pack_is_still_on_record(tmp_path: Path) -> None:
    ws = _hostile(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "audit", "bob", "--out", str(blocker / "sub")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    details = [e.detail for e in access.entries(ws)]
    assert len(details) == 2 and details[1].startswith("pack not written")
    ws.close()


def test_audit_needs_a_user_unless_listing(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "audit"])
    assert result.exit_code == 2 and "USER" in result.output
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path / "ws"), "audit", "--log"])
    assert result.exit_code == 0 and "no audit runs recorded" in result.output
