"""``filterlog demo``: generate a school day and put it through filterlog, end to end.

The demo is the first thing a school sees, so it uses the real pipeline on
realistic data and ends by saying where everything is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import findings
from ..batch import BatchResult, run_batch
from ..config import DEFAULT_TOML
from ..ingest import IngestReport, ingest
from ..rules import DetectReport, detect
from ..workspace import Workspace
from .check import KeyCheck, check
from .generate import DemoDay, generate_day


@dataclass(frozen=True)
class DemoResult:
    """What the demo made and where it put it."""

    directory: Path
    day: DemoDay
    workspace: Path
    report: IngestReport
    detected: DetectReport
    key: KeyCheck
    batch: BatchResult | None = None
    """The daily batch's result (with the report paths), unless reports were skipped."""

    def describe(self) -> list[str]:
        """Plain lines for the terminal: what happened, where to look, what to try next."""
        ws = self.workspace
        return [
            f"Generated {self.day.lines:,} proxy log lines for a school day ({self.day.day}, Europe/London):",
            f"  {self.day.log}",
            f"Ingested: {self.report.summary()}",
            f"  events (Parquet, one folder per day): {ws / 'events'}",
            f"  ingest manifest (SQLite):             {ws / 'filterlog.db'}",
            f"  site configuration:                   {ws / 'filterlog.toml'}",
            f"Detected: {self.detected.summary().removeprefix('detect: ')}",
            f"  findings (Parquet, one folder per day):  {ws / 'findings'}",
            f"Planted misuse and look-alike decoys (the answer key): {self.day.planted}",
            f"  answer key check: {self.key.describe()}",
            *self._reports(),
            "Try:",
            f"  filterlog --workspace {ws} findings",
            f"  filterlog --workspace {ws} findings --rule circumvention --format json",
            f"  filterlog --workspace {ws} summary",
            f"  filterlog --workspace {ws} audit {self._someone()}",
            f"  filterlog --workspace {ws} incidents list --status unreviewed",
            f"  filterlog --workspace {ws} governors",
            f"  filterlog --workspace {ws} ingest {self.day.log}   (again: nothing is added twice)",
        ]

    def _reports(self) -> list[str]:
        if self.batch is None or self.batch.review_path is None:
            return []
        return [
            "Reports (open the review in a browser):",
            f"  coordinator's review (HTML): {self.batch.review_path}",
            f"  per-person summary (CSV):    {self.batch.summary_path}",
        ]

    def _someone(self) -> str:
        """A planted person to try an audit on."""
        key = json.loads(self.day.planted.read_text(encoding="utf-8"))["rules"]
        return next(iter(key.values()))["planted"][0]["user"]


def run_demo(
    directory: Path,
    *,
    lines: int = 50_000,
    seed: int = 7,
    on: date | None = None,
    progress: Callable[[int], None] | None = None,
    reports: bool = True,
) -> DemoResult:
    """Generate a day of logs in ``directory/logs`` and put it through the daily batch (``filterlog run``).

    The batch ingests into ``directory/workspace``, detects misuse and writes
    the summary and the review into its ``reports/``; ``reports=False`` stops
    after detecting (tests that only need findings). ``on`` picks the school
    day (default: a Wednesday in November; a June date gives a BST day).
    """
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    day = generate_day(directory / "logs", lines=lines, seed=seed, **({"day": on} if on else {}))
    ws = Workspace(directory / "workspace")
    if not ws.config_path.exists():
        ws.create()
        ws.config_path.write_text(_site_config(day), encoding="utf-8")
    try:
        batch = None
        if reports:
            batch = run_batch(ws, [day.log], progress=progress)
            report, detected = batch.ingested, batch.detected or DetectReport()
        else:
            report = ingest(ws, [day.log], progress=progress)
            with ws.lock():
                detected = detect(ws)
        key = check(day.planted, findings.read(ws))
    finally:
        ws.close()
    return DemoResult(directory, day, ws.root, report, detected, key, batch)


def _site_config(day: DemoDay) -> str:
    """The default configuration, pointed at the demo's identity files."""
    text = DEFAULT_TOML.replace('name = "Example School"', 'name = "Demo Academy"', 1)
    text = text.replace('ip_map = ""', f"ip_map = {json.dumps(str(day.ip_map.resolve()))}", 1)
    return text.replace('groups = ""', f"groups = {json.dumps(str(day.groups.resolve()))}", 1)
