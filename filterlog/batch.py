"""``filterlog run``: the network admin's morning batch in one idempotent call.

Ingest the logs, judge the local dates they cover, and write the summary and
the coordinator's review for those dates. Running it twice on the same logs
ingests nothing new and rewrites the same findings and the same reports, so
cron can retry it freely. A bad file does not stop the batch: the others are
ingested, judged and reported, and the failure is reported so cron sees a
non-zero exit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .ingest import IngestReport, ingest
from .ingest.pipeline import FileResult
from .ingest.source import expand
from .report.files import write_private
from .rules import DetectReport, detect
from .workspace import Workspace

if TYPE_CHECKING:
    from distributed import Client

    from .report.review import Review


@dataclass
class BatchResult:
    """What one batch read, found and wrote."""

    ingested: IngestReport
    dates: list[date] = field(default_factory=list)
    detected: DetectReport | None = None
    people: int = 0
    summary_path: Path | None = None
    review_path: Path | None = None

    @property
    def failed(self) -> bool:
        """Whether any input file failed (the batch still reports the others)."""
        return bool(self.ingested.failed)

    def summary(self) -> str:
        """The closing line for the terminal and for cron mail."""
        found = self.detected.findings if self.detected else 0
        span = "no dates" if not self.dates else str(self.dates[0])
        if len(self.dates) > 1:
            span = f"{self.dates[0]}..{self.dates[-1]}"
        return (
            f"run: {self.ingested.total('lines'):,} lines read, {self.ingested.total('events'):,} new events, "
            f"{self.ingested.total('quarantined'):,} quarantined, {len(self.ingested.failed)} files failed; "
            f"{span}: {found} findings, {self.people} people flagged"
        )


def covered_dates(ws: Workspace, files: Iterable[Path]) -> list[date]:
    """The local dates the ingested parts of ``files`` hold events on (by the manifest's time range).

    Taken from the manifest rather than from what this run added, so a re-run
    that adds nothing judges and reports the same dates again.
    """
    wanted = {f.resolve() for f in files}
    zone = ws.config.site.tz
    spans = [
        (
            datetime.fromisoformat(r.time_min).astimezone(zone).date(),
            datetime.fromisoformat(r.time_max).astimezone(zone).date(),
        )
        for r in ws.manifest()
        if r.time_min and r.time_max and Path(r.path).resolve() in wanted
    ]
    return [d for d in ws.event_dates() if any(first <= d <= last for first, last in spans)]


def run_batch(
    ws: Workspace,
    logs: Iterable[str | Path],
    fmt: str = "auto",
    *,
    out: Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    client: Client | None = None,
) -> BatchResult:
    """Ingest ``logs``, detect on the dates they cover, write the summary CSV and the review HTML.

    The reports go to the workspace's ``reports/`` (``out`` names the review
    file instead); both cover exactly the dates the logs hold. With a Dask
    ``client`` ingest and detect run on its workers; the reports are the same.
    """
    from .report.review import build_review

    logs = list(logs)
    with ws.lock():  # one run from ingest to reports: no other run can change the data in between
        result = BatchResult(ingest(ws, logs, fmt=fmt, progress=progress, on_file=on_file, client=client))
        files, _ = expand(logs)
        result.dates = covered_dates(ws, files)
        if not result.dates:
            return result
        first, last = result.dates[0], result.dates[-1]
        result.detected = detect(ws, first, last, client=client)
        review = build_review(ws, first, last)  # reads the events once, for the summary and the review
        _write_reports(ws, result, review, out)
    return result


def _write_reports(ws: Workspace, result: BatchResult, review: Review, out: Path | None) -> None:
    from .report import summary as summary_report
    from .report.review import default_path, render_review, span

    first, last = result.dates[0], result.dates[-1]
    result.people = review.summary.num_rows
    name = f"summary-{span(first, last)}.csv"
    result.summary_path = write_private(ws.reports_dir / name, summary_report.to_csv(review.summary))
    result.review_path = write_private(out or default_path(ws, first, last), render_review(review))
