"""The reference, the CLI driving and the consistency checks of the crash tests, in one place.

The kill tests (test_crash.py) and the in-process ones (test_crash_in_process.py) must judge a
workspace by the same rules, or a recovery bug could pass one and fail the other.
"""

from __future__ import annotations

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

from filterlog import findings as store
from filterlog.rules import RULE_IDS
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

    def enough() -> bool:
        try:
            return sum(1 for _ in ws.glob(pattern)) >= at_least
        except FileNotFoundError:  # the run removed a directory while the glob walked it
            return False

    return enough


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
