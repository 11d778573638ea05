"""Crash safety: ingest, detect, run and audit killed (SIGKILL, in a subprocess) part-way, and the workspace lock.

Each scenario runs the real CLI (``python -m filterlog``) and kills it at a
point chosen by watching the workspace from outside (the lock taken, the
first block written to a temporary file, the first part renamed into place,
the second file started, a findings file written), plus a seeded random
delay, so the kills land in every stage without a hook in the code. After
each kill the workspace must hold, for every completed ingest, exactly the
events of the uninterrupted reference run and nothing a half-done ingest
left that recovery would not remove; a run to completion afterwards must
give exactly the reference's events, quarantine and findings (same ids).

Where a kill lands varies with the machine's speed, so the tests assert only
what must hold wherever it lands; ``-s`` prints what each kill left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from helpers import SAMPLES

from filterlog import findings as store
from filterlog.config import DEFAULT_TOML
from filterlog.demo.generate import generate_day
from filterlog.ingest import ingest
from filterlog.report import access
from filterlog.report.audit import write_pack
from filterlog.report.files import safe_name
from filterlog.rules import RULE_IDS, detect
from filterlog.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from filterlog.workspace import Workspace

DAY1, DAY2 = date(2026, 11, 18), date(2026, 11, 19)
GARBAGE = [b"not a log line at all\n", b"\x00\x01\x02 binary junk\n", b"1763456789.000 garbage\n"]
WAIT = 120  # seconds any one subprocess may take before the test gives up on it


# --- data and reference ------------------------------------------------------------------------


@dataclass
class Reference:
    """The inputs, the site config, and what an uninterrupted ingest + detect makes of them."""

    logs: list[Path]
    config: str
    events: pa.Table
    quarantine: pa.Table
    findings: pa.Table
    shas: dict[Path, str]
    root: Path | None = None
    """The reference workspace itself (read-only: copy it to change it)."""

    def only(self, rules: set[str]) -> Reference:
        """The same with only ``rules`` enabled: each rule's findings do not depend on the others'."""
        off = "".join(f"\n[rules.{r}]\nenabled = false\n" for r in sorted(set(RULE_IDS) - rules))
        keep = pc.is_in(pc.cast(self.findings.column("rule"), pa.string()), pa.array(sorted(rules), pa.string()))
        return replace(self, config=self.config + off, findings=self.findings.filter(keep))

    def workspace(self, path: Path) -> Workspace:
        """A fresh workspace at ``path`` with the reference's config."""
        ws = Workspace(path).create()
        ws.config_path.write_text(self.config, encoding="utf-8")
        return ws


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """Two logs (the first several 1 MB blocks, the second on the next day with bad lines) and their reference."""
    base = tmp_path_factory.mktemp("crash")
    first = generate_day(base / "day1", lines=20_000, day=DAY1, seed=11)
    generate_day(base / "day2", lines=6_000, day=DAY2, seed=12)
    log2 = base / "day2" / "access.log"
    with open(log2, "ab") as fh:  # lines that must be quarantined, so quarantine files are at stake too
        fh.write(b"".join(GARBAGE))
    old = time.time() - 3600  # settled: nothing is held back as "still being written"
    for log in (first.log, log2):
        os.utime(log, (old, old))
    config = (
        DEFAULT_TOML.replace('ip_map = ""', f"ip_map = {json.dumps(str(first.ip_map))}", 1)
        .replace('groups = ""', f"groups = {json.dumps(str(first.groups))}", 1)
        .replace("block_mb = 16", "block_mb = 1", 1)
    )
    assert "block_mb = 1" in config
    r = Reference([first.log, log2], config, EVENT_SCHEMA.empty_table(), QUARANTINE_SCHEMA.empty_table(),
                  pa.table({}), {})  # fmt: skip
    ws = r.workspace(base / "reference")
    report = ingest(ws, r.logs)
    assert not report.failed and report.total("quarantined") == len(GARBAGE)
    with ws.lock():
        detect(ws)
    r.events, r.quarantine, r.findings = all_events(ws), all_quarantine(ws), store.read(ws)
    r.shas = {Path(row.path): row.sha256 for row in ws.manifest()}
    r.root = ws.root
    ws.close()
    assert len(list((ws.events_dir / f"date={DAY1}").glob("*.parquet"))) > 5, "the first log should span many blocks"
    assert r.findings.num_rows > 0 and set(pc.unique(r.findings.column("date")).to_pylist()) == {DAY1, DAY2}
    return r


def _sorted(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """Rows in key order, dictionary columns decoded, so two workspaces' tables compare with ``equals``."""
    table = _plain(table)
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])).combine_chunks()


def all_events(ws: Workspace, ingest_ids: set[str] | None = None) -> pa.Table:
    """Every event part file in the workspace (or only those of some ingests), by source and line."""
    files = sorted(ws.events_dir.glob("date=*/*.parquet"))
    if ingest_ids is not None:
        files = [f for f in files if f.name.split("-")[0] in ingest_ids]
    table = pq.read_table([str(f) for f in files], schema=EVENT_SCHEMA) if files else EVENT_SCHEMA.empty_table()
    return _sorted(table, ("source_id", "source_line"))


def all_quarantine(ws: Workspace, ingest_ids: set[str] | None = None) -> pa.Table:
    """Every quarantine file (or only those of some ingests), by source and line."""
    files = sorted(ws.quarantine_dir.glob("*.parquet"))
    if ingest_ids is not None:
        files = [f for f in files if f.stem in ingest_ids]
    table = (
        pq.read_table([str(f) for f in files], schema=QUARANTINE_SCHEMA) if files else QUARANTINE_SCHEMA.empty_table()
    )
    return _sorted(table, ("source_id", "source_line"))


def of_sources(table: pa.Table, shas: set[str]) -> pa.Table:
    """The rows of ``table`` from these source files."""
    return table.filter(pc.is_in(table.column("source_id"), pa.array(sorted(shas), pa.string())))


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded: a filtered table keeps its whole dictionary, a stored one only what it uses."""
    columns = [pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(columns, names=table.column_names).combine_chunks()


def assert_same(got: pa.Table, want: pa.Table, what: str) -> None:
    """Equal tables (values, not dictionary layout), or a message saying how they differ."""
    got, want = _plain(got), _plain(want)
    if got.equals(want):
        return
    assert got.num_rows == want.num_rows, f"{what}: {got.num_rows} rows, expected {want.num_rows}"
    assert got.schema == want.schema, f"{what}: schema {got.schema} != {want.schema}"
    differ = [n for n in want.column_names if not got.column(n).equals(want.column(n))]
    raise AssertionError(f"{what}: columns differ: {differ}")


# --- driving the CLI ---------------------------------------------------------------------------


def command(ws: Path, *args: str) -> list[str]:
    """The command line of a filterlog run on ``ws``, with this venv's python."""
    return [sys.executable, "-m", "filterlog", "--workspace", str(ws), *args]


def cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run filterlog to the end."""
    return subprocess.run(command(ws, *args), capture_output=True, text=True, timeout=WAIT, cwd=ws.parent)


def holds_lock(ws: Path, proc: subprocess.Popen[bytes]) -> Callable[[], bool]:
    """True once ``proc`` has taken the workspace lock (it writes its pid into ``.lock``)."""
    lock = ws / ".lock"

    def check() -> bool:
        try:
            return lock.read_text() == str(proc.pid)
        except FileNotFoundError:
            return False

    return check


def count(ws: Path, pattern: str, at_least: int = 1) -> Callable[[], bool]:
    """True once ``at_least`` files match ``pattern`` under the workspace."""
    return lambda: sum(1 for _ in ws.glob(pattern)) >= at_least


def kill_at(ws: Path, args: list[str], when: Callable[[subprocess.Popen[bytes]], Callable[[], bool]],
            delay: float) -> str:  # fmt: skip
    """Start a run, wait until ``when`` is true (or the run ends), wait ``delay`` more, SIGKILL it.

    Returns "killed" or, if the run finished first, "finished".
    """
    proc = subprocess.Popen(command(ws, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ws.parent)
    ready = when(proc)
    deadline = time.monotonic() + WAIT
    while proc.poll() is None and not ready():
        assert time.monotonic() < deadline, f"{args} never reached its kill point"
        time.sleep(0.002)
    if delay and proc.poll() is None:
        time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=WAIT)
    if proc.returncode == -signal.SIGKILL:
        if ws.joinpath(".lock").exists() and holds_lock(ws, proc)():
            return "killed holding the lock"  # its pid stays in .lock; the next run must take the lock anyway
        return "killed"
    assert proc.returncode == 0, f"{args} failed on its own (exit {proc.returncode})"
    return "finished"


def leftovers(ws: Path) -> str:
    """What a kill left: for the ``-s`` log."""
    w = Workspace(ws)
    try:
        pending = len(w.manifest("pending"))
        done = len(w.manifest())
    finally:
        w.close()
    tmp = sum(1 for _ in ws.rglob("*.tmp"))
    return f"done={done} pending={pending} tmp={tmp}"


# --- consistency -------------------------------------------------------------------------------


def check_ingest_state(ws_path: Path, ref: Reference, recovered: bool) -> None:
    """Completed ingests hold exactly the reference's rows; anything else belongs to a pending ingest.

    Before recovery a killed run may have left temporary files and part files
    of its pending ingest; after recovery there must be none of either.
    """
    ws = Workspace(ws_path)
    try:
        done = {r.ingest_id: r for r in ws.manifest()}
        pending = {r.ingest_id for r in ws.manifest("pending")}
        parts = [f.name.split("-")[0] for f in ws.events_dir.glob("date=*/*.parquet")]
        quarantined = [f.stem for f in ws.quarantine_dir.glob("*.parquet")]
        tmp = sorted(str(p.relative_to(ws_path)) for p in ws_path.rglob("*.tmp"))
        if recovered:
            assert not pending, "recovery left a pending manifest row"
            assert not tmp, f"recovery left temporary files: {tmp}"
        orphans = set(parts + quarantined) - set(done) - pending
        assert not orphans, f"part files of no ingest: {orphans}"
        shas = {r.sha256 for r in done.values()}
        assert len(shas) == len(done), "a file was ingested twice"
        assert shas <= set(ref.shas.values())
        events = all_events(ws, set(done))
        assert_same(events, of_sources(ref.events, shas), "events of completed ingests")
        assert events.num_rows == sum(r.events for r in done.values())
        quarantine = all_quarantine(ws, set(done))
        assert_same(quarantine, of_sources(ref.quarantine, shas), "quarantine of completed ingests")
        for r in done.values():
            assert r.lines_read == r.events + r.quarantined + r.skipped
    finally:
        ws.close()


def recover(ws_path: Path) -> None:
    """What the next run does first: take the lock, which undoes a killed run's half-done work."""
    ws = Workspace(ws_path)
    try:
        with ws.lock():
            pass
    finally:
        ws.close()


def check_findings_state(ws_path: Path, ref: Reference) -> None:
    """Every findings file is readable and holds a date's complete reference findings."""
    ws = Workspace(ws_path)
    try:
        for day in store.finding_dates(ws):
            if not (ws_path / "findings" / f"date={day}" / store.FILE).exists():
                continue  # a killed write left only its temporary file, which recovery removes
            want = ref.findings.filter(pc.equal(ref.findings.column("date"), pa.scalar(day, pa.date32())))
            assert_same(store.read_day(ws, day), want, f"findings of {day}")
    finally:
        ws.close()


def check_final(ws_path: Path, ref: Reference) -> None:
    """The workspace holds exactly what the uninterrupted run made: events, quarantine, manifest, findings."""
    check_ingest_state(ws_path, ref, recovered=True)
    ws = Workspace(ws_path)
    try:
        assert {Path(r.path): r.sha256 for r in ws.manifest()} == ref.shas
        assert_same(all_events(ws), ref.events, "events")
        assert_same(all_quarantine(ws), ref.quarantine, "quarantine")
        got = store.read(ws)
        assert got.column("finding_id").to_pylist() == ref.findings.column("finding_id").to_pylist()
        assert_same(got, ref.findings, "findings")
    finally:
        ws.close()


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_and_detect_killed_at_many_points(ref: Reference, tmp_path: Path) -> None:
    rng = random.Random(8)
    ws = ref.workspace(tmp_path / "ws").root
    logs = [str(p) for p in ref.logs]
    day2 = f"events/date={DAY2}/*.parquet*"
    ingest_kills = [
        ("while reading the first log", lambda p: holds_lock(ws, p), rng.uniform(0.02, 0.3)),
        ("at the first block's temporary file", lambda p: count(ws, "events/*/*.tmp"), 0.0),
        ("after several blocks", lambda p: count(ws, "events/*/*.tmp", rng.randint(2, 5)), rng.uniform(0, 0.05)),
        ("as the first log's parts are renamed", lambda p: count(ws, "events/*/*.parquet"), 0.0),
        ("while reading the second log", lambda p: count(ws, day2), rng.uniform(0, 0.05)),
    ]
    for i, (where, when, delay) in enumerate(ingest_kills):
        outcome = kill_at(ws, ["ingest", *logs], when, delay)
        print(f"ingest kill {i + 1} {where} (+{delay:.3f}s): {outcome}, {leftovers(ws)}")
        check_ingest_state(ws, ref, recovered=False)
        if i % 2:  # every other time the next CLI run does the recovering itself
            recover(ws)
            check_ingest_state(ws, ref, recovered=True)
    done = cli(ws, "ingest", *logs)
    assert done.returncode == 0, done.stderr
    check_ingest_state(ws, ref, recovered=True)

    findings_tmp = f"findings/date={DAY1}/*.tmp"
    detect_kills = [
        ("while judging the first date", lambda p: holds_lock(ws, p), rng.uniform(0.1, 0.6)),
        ("at the first findings file's temporary file", lambda p: count(ws, findings_tmp), 0.0),
        ("between the two dates", lambda p: count(ws, f"findings/date={DAY1}/findings.parquet"), 0.0),
    ]
    for i, (where, when, delay) in enumerate(detect_kills):
        outcome = kill_at(ws, ["detect"], when, delay)
        print(f"detect kill {i + 1} {where} (+{delay:.3f}s): {outcome}, {leftovers(ws)}")
        check_findings_state(ws, ref)
        check_ingest_state(ws, ref, recovered=False)
    done = cli(ws, "detect")
    assert done.returncode == 0, done.stderr
    check_final(ws, ref)


@pytest.mark.slow
def test_batch_run_killed_then_rerun(ref: Reference, tmp_path: Path) -> None:
    ref = ref.only({"repeated-blocked", "large-transfer"})  # few people flagged: the review draws charts for each
    assert ref.findings.num_rows
    rng = random.Random(9)
    ws = ref.workspace(tmp_path / "ws").root
    logs = [str(p) for p in ref.logs]
    kills = [("while detecting or reporting", lambda p: count(ws, f"findings/date={DAY1}/*"), rng.uniform(0, 0.5))]
    for i, (where, when, delay) in enumerate(kills):
        outcome = kill_at(ws, ["run", *logs], when, delay)
        print(f"run kill {i + 1} {where} (+{delay:.3f}s): {outcome}, {leftovers(ws)}")
        check_ingest_state(ws, ref, recovered=False)
        check_findings_state(ws, ref)
    done = cli(ws, "run", *logs)
    assert done.returncode == 0, done.stderr
    check_final(ws, ref)
    reports = sorted(p.name for p in (ws / "reports").iterdir())
    assert any(n.startswith("summary-") and n.endswith(".csv") for n in reports), reports
    assert any(n.endswith(".html") for n in reports), reports
    assert not [n for n in reports if n.endswith(".tmp")], reports


def _verify_sums(pack: Path) -> None:
    assert (pack / "SHA256SUMS").read_text().strip(), "SHA256SUMS is empty"
    done = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=pack, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_audit_killed_then_rerun(ref: Reference, tmp_path: Path) -> None:
    assert ref.root is not None
    ws = tmp_path / "ws"
    shutil.copytree(ref.root, ws, ignore=shutil.ignore_patterns(".lock"))
    user = next(u for u in ref.findings.column("user").to_pylist() if u)
    out = tmp_path / "packs"
    args = ["audit", user, "--out", str(out), "--by", "crash-test"]
    w = Workspace(ws)
    write_pack(w, user, out=tmp_path / "earlier", by="crash-test")  # one audit on record before the kill
    before = access.entries(w)
    w.close()
    assert len(before) == 1

    rng = random.Random(10)
    pack = out / (safe_name(user) + f"-{DAY1}-{DAY2}")
    outcome = kill_at(ws, args, lambda p: count(out, "*/*"), rng.uniform(0, 0.02))
    print(f"audit kill: {outcome}, pack holds {sorted(f.name for f in pack.iterdir()) if pack.exists() else None}")

    w = Workspace(ws)
    after_kill = access.entries(w)
    w.close()
    assert after_kill[: len(before)] == before, "the access log lost or changed rows"
    assert len(after_kill) <= len(before) + 1

    again = cli(ws, *args)
    assert again.returncode == 0, again.stderr
    _verify_sums(pack)
    names = {f.name for f in pack.iterdir()}  # nothing else: no half-written file of the killed run either
    listed = {line.split("  ", 1)[1] for line in (pack / "SHA256SUMS").read_text().splitlines()}
    assert names == listed | {"SHA256SUMS"}
    w = Workspace(ws)
    final = access.entries(w)
    w.close()
    assert final[: len(after_kill)] == after_kill
    assert len(final) == len(after_kill) + 1 and final[-1].subject == user


# --- the lock ----------------------------------------------------------------------------------


def _refused(result: subprocess.CompletedProcess[str], ws: Path, holder: int) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert str(ws) in lines[0] and "in use" in lines[0] and f"pid {holder}" in lines[0], lines[0]


def _wait_for(ready: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before it took the lock"
        assert time.monotonic() < deadline, "the run never took the lock"
        time.sleep(0.002)


@pytest.mark.slow
def test_second_run_is_refused_while_one_holds_the_workspace(ref: Reference, tmp_path: Path) -> None:
    ws = ref.workspace(tmp_path / "ws").root
    logs = [str(p) for p in ref.logs]
    first = subprocess.Popen(command(ws, "ingest", *logs), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(holds_lock(ws, first), first)
        first.send_signal(signal.SIGSTOP)  # frozen while holding the lock: the others meet it for certain
        try:
            assert first.poll() is None
            others = [["ingest", *logs], ["detect"], ["run", *logs]]
            running = [subprocess.Popen(command(ws, *a), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                       for a in others]  # fmt: skip
            for args, proc in zip(others, running, strict=True):
                out, err = proc.communicate(timeout=WAIT)
                _refused(subprocess.CompletedProcess(args, proc.returncode, out, err), ws, first.pid)
        finally:
            first.send_signal(signal.SIGCONT)
        out, err = first.communicate(timeout=WAIT)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert b"2 files ingested" in out
    check_ingest_state(ws, ref, recovered=True)  # the refused runs changed nothing
    w = Workspace(ws)
    assert {Path(r.path): r.sha256 for r in w.manifest()} == ref.shas
    assert_same(all_events(w), ref.events, "events")
    w.close()
    # a holder killed outright releases the lock with its process: the kill tests above show the next run proceed


# --- forgetting a file (ingest --replace) ------------------------------------------------------


def test_replace_killed_while_forgetting_leaves_the_file_to_be_read_again(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between deleting an ingest's files must not leave its manifest row claiming it is done."""
    log = tmp_path / "access.log"
    log.write_bytes((SAMPLES / "squid-native.log").read_bytes() + b"".join(GARBAGE))
    ingest(ws, [log])
    events, quarantine = all_events(ws), all_quarantine(ws)
    assert events.num_rows and quarantine.num_rows
    real, deleted = Path.unlink, []

    def dies_on_the_second(self: Path, missing_ok: bool = False) -> None:
        if self.suffix == ".parquet" and ws.root in self.parents:
            deleted.append(self)
            if len(deleted) == 2:
                raise KeyboardInterrupt("killed between two deletions")
        real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        ingest(ws, [log], replace=True)
    monkeypatch.undo()
    ws.close()

    again = Workspace(ws.root)
    (result,) = ingest(again, [log]).files  # not "unchanged": the half-forgotten ingest is gone
    assert result.status == "ingested", result.message
    assert_same(all_events(again), events, "events")
    assert_same(all_quarantine(again), quarantine, "quarantine")
    assert len(again.manifest()) == 1 and again.manifest("pending") == []
    again.close()


class _DiesBeforeMarkingDone:
    """The database, except that the UPDATE marking an ingest done never happens: the process 'dies' there."""

    def __init__(self, con: object) -> None:
        self._con = con

    def execute(self, sql: str, *args: object) -> object:
        if sql.lstrip().upper().startswith("UPDATE INGESTS"):
            raise KeyboardInterrupt("killed after the renames, before the manifest update")
        return self._con.execute(sql, *args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def test_readers_without_the_lock_never_see_an_uncommitted_ingest(ws: Workspace, tmp_path: Path) -> None:
    """Audit, review and summary take no lock: until recovery runs they must not read a killed ingest's parts."""
    ingest(ws, [SAMPLES / "squid-native.log"])
    (day,) = ws.event_dates()
    before = ws.read_events(day)
    row = {"path": str(tmp_path / "killed.log"), "size": 1, "sha256": "f" * 64, "compression": None,
           "format": "squid", "head_sha256": "e" * 64, "first_line": 1, "end_line": 0, "content_bytes": 0}  # fmt: skip
    writer = ws.begin(row)
    writer.write_events(day.isoformat(), 0, before)  # the same rows again: seen, they would be duplicates
    real = ws.db
    ws._db = _DiesBeforeMarkingDone(real)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        writer.commit({"lines_read": before.num_rows, "events": before.num_rows})
    ws._db = real
    assert len(list((ws.events_dir / f"date={day}").glob("*.parquet"))) == 2  # renamed into place, not committed

    reader = Workspace(ws.root)  # another process, no lock taken
    assert reader.read_events(day).equals(before)
    assert len(reader.event_files(day)) == 1
    reader.close()
