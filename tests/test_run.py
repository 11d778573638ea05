"""``filterlog run``: the daily batch, end to end, as cron would run it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from filterlog import findings as store
from filterlog.cli import cli
from filterlog.demo.generate import generate_day
from filterlog.workspace import Workspace


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory):
    return generate_day(tmp_path_factory.mktemp("run-logs"), lines=6_000, seed=3)


def _run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--workspace", str(root), "run", *args])


def test_one_command_does_the_morning(tmp_path: Path, day) -> None:
    root = tmp_path / "ws"
    result = _run(root, str(day.log))
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    # Off a terminal: the count line and where the reports are, nothing else.
    assert len(lines) == 3 and lines[0].startswith("run: 6,000 lines read, 6,000 new events")
    assert f"{day.day}: " in lines[0] and "findings" in lines[0]
    review = Path(lines[1].removeprefix("review: "))
    summary = Path(lines[2].removeprefix("summary: "))
    assert review.parent == root / "reports" and review.read_text().startswith("<!DOCTYPE html>")
    assert summary.read_text().startswith("user,group,highest_severity")
    for path in (review, summary):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(review.parent.stat().st_mode) == 0o700
    ws = Workspace(root)
    assert store.read(ws).num_rows > 0
    ws.close()


def test_running_again_changes_nothing(tmp_path: Path, day) -> None:
    root = tmp_path / "ws"
    first = _run(root, str(day.log))
    ws = Workspace(root)
    before = store.read(ws).column("finding_id").to_pylist()
    summary = (root / "reports" / f"summary-{day.day}.csv").read_text()
    again = _run(root, str(day.log))
    assert again.exit_code == 0, again.output
    assert "6,000 lines read" not in again.output and "0 new events" in again.output
    assert first.output.splitlines()[0].split("; ")[1] == again.output.splitlines()[0].split("; ")[1]
    assert store.read(ws).column("finding_id").to_pylist() == before
    assert (root / "reports" / f"summary-{day.day}.csv").read_text() == summary
    ws.close()


def test_a_bad_file_fails_the_run_but_not_the_others(tmp_path: Path, day) -> None:
    root = tmp_path / "ws"
    result = _run(root, str(day.log), str(tmp_path / "missing.log"))
    assert result.exit_code == 1
    assert "missing.log: no such file or directory" in result.output
    assert "Traceback" not in result.output
    assert (root / "reports" / f"review-{day.day}.html").exists()


def test_nothing_readable_writes_no_report(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    result = _run(tmp_path / "ws", str(empty))
    assert result.exit_code == 0, result.output
    assert "no dates" in result.output and "review:" not in result.output


def test_out_names_the_review(tmp_path: Path, day) -> None:
    out = tmp_path / "mail" / "today.html"
    result = _run(tmp_path / "ws", str(day.log), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"review: {out}" in result.output and out.exists()
