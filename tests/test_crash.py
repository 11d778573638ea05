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
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from crash_checks import (
    DAY1,
    DAY2,
    GARBAGE,
    WAIT,
    Reference,
    all_events,
    all_quarantine,
    assert_same,
    check_final,
    check_findings_state,
    check_ingest_state,
    cli,
    command,
    count,
    holds_lock,
    kill_at,
    leftovers,
    recover,
)

from filterlog import findings as store
from filterlog.config import DEFAULT_TOML
from filterlog.demo.generate import generate_day
from filterlog.ingest import ingest
from filterlog.report import access
from filterlog.report.audit import write_pack
from filterlog.report.files import safe_name
from filterlog.rules import detect
from filterlog.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from filterlog.workspace import Workspace


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
        .replace("file_rows = 200000", "file_rows = 1", 1)  # a file per block: many points to be killed at
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
