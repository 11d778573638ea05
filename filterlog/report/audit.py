"""The investigator's audit pack: everything one person did in a date range, ordered, sourced and hashed.

An investigation can end in a disciplinary hearing, so the pack has to stand
on its own: every event of the person (by the user name they logged in with
and by the addresses the identity map says they held), each with the raw line
it came from and the SHA-256 of its source file, checked again now; the
findings about them with what the school decided; and a ``SHA256SUMS`` file so
anyone can confirm later that nothing in the pack was altered.

Each day's events are read one local date at a time and cut down to the
person's rows before anything is enriched or converted, so a pack for one
pupil does not hold a whole school's month in memory.

The access log gets one entry per run, written once the person's events have
been read and before any file is written: a pack never exists without its
entry, and a run that reads the data but then fails to write the pack is
still on record (a second entry says why it failed).
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import findings as store
from .. import output
from ..enrich.events import Enricher
from ..enrich.identity import attribute
from ..errors import FilterlogError, WorkspaceError
from ..ingest.base import normalise_user
from ..output import safe_column
from ..schema import EVENT_SCHEMA
from ..storage import arrow_sources, failing
from ..workspace import Workspace, within
from . import access, rawlines
from .files import private_dir, safe_name, write_private
from .templates import render

HTML_ROWS = 5_000
"""Most events the HTML timeline shows; a browser stays usable, and the CSV and Parquet always hold them all."""

PACK_FILES = ("audit.html", "events.csv", "events.parquet", "findings.csv", "findings.json", "sources.csv")
"""Every file of a pack but ``SHA256SUMS``, which covers them all."""

EXTRA_COLUMNS = ("attributed_by", "source_path", "raw_line", "raw_line_note")
"""Columns a pack adds to the enriched events: how the person was identified, and provenance."""

CSV_COLUMNS = (
    "time_utc", "time_local", "user", "attributed_by", "user_raw", "ip_user", "group", "client_ip", "device",
    "method", "url", "host", "domain", "category", "category_source", "vendor_category", "status", "action",
    "vendor_action", "bytes_in", "bytes_out", "duration_ms", "content_type", "in_working_hours", "search_terms",
    "user_agent", "referer", "source_format", "source_path", "source_id", "source_line", "raw_line", "raw_line_note",
)  # fmt: skip
"""The columns of ``events.csv``: what an investigator reads, in reading order."""


@dataclass(frozen=True)
class Subject:
    r"""Whose events: a user name (any case, ``DOMAIN\user`` accepted) or a client address with no person."""

    text: str
    name: str | None
    address: str | None

    @classmethod
    def parse(cls, text: str) -> Subject:
        """Read the command-line argument: an IP address means the address, anything else a user name."""
        cleaned = text.strip()
        if not cleaned:
            raise FilterlogError("no user given: name a user or a client IP address")
        try:
            return cls(text, None, str(ipaddress.ip_address(cleaned)))
        except ValueError:
            return cls(text, normalise_user(cleaned) or cleaned.lower(), None)

    def mask(self, person: pa.ChunkedArray | pa.Array, client_ip: pa.ChunkedArray | pa.Array) -> pa.Array:
        """Which rows are this subject's, given each row's person (logged user, else the identity map's)."""
        if self.address is not None:
            return pc.and_(pc.equal(pc.cast(client_ip, pa.string()), self.address), pc.is_null(person))
        return pc.fill_null(pc.equal(pc.utf8_lower(pc.cast(person, pa.string())), self.name), False)


@dataclass
class AuditPack:
    """What an audit run wrote, for the CLI's closing lines and for tests."""

    directory: Path
    subject: str
    date_from: date | None
    date_to: date | None
    events: int
    findings: int
    sources: list[rawlines.SourceCheck]
    raw_missing: int
    html_rows: int
    files: list[str] = field(default_factory=list)
    entry: access.Entry | None = None

    def summary(self) -> str:
        """The count line."""
        bad = sum(not s.verified for s in self.sources)
        return (
            f"audit of {output.clean(self.subject)}: {self.events:,} events, {self.findings:,} findings, "
            f"{len(self.sources)} source file{'s' if len(self.sources) != 1 else ''}"
            + (f" ({bad} not verified)" if bad else "")
            + (f", {self.raw_missing:,} raw lines unavailable" if self.raw_missing else "")
        )


def person_events(ws: Workspace, subject: Subject, days: list[date], enricher: Enricher | None = None) -> pa.Table:
    """The subject's enriched events on these local dates, with ``attributed_by``, in time order."""
    enricher = enricher or Enricher.from_workspace(ws)
    parts = [_day(ws, subject, day, enricher) for day in days]
    parts = [p for p in parts if p is not None]
    if not parts:
        table = _with_attribution(enricher(EVENT_SCHEMA.empty_table()), pa.array([], pa.string()))
    else:
        table = pa.concat_tables(parts).combine_chunks()
    keys = pa.table({"t": table.column("time"), "s": pc.cast(table.column("source_id"), pa.string()),
                     "l": table.column("source_line")})  # fmt: skip
    order = pc.sort_indices(keys, sort_keys=[("t", "ascending"), ("s", "ascending"), ("l", "ascending")])
    return table.take(order)


def _day(ws: Workspace, subject: Subject, day: date, enricher: Enricher) -> pa.Table | None:
    """One date's events of the subject: find them on four columns, then read and enrich only their addresses."""
    who = ws.read_events(day, columns=["time", "client_ip", "user"])
    mapped = (
        attribute(who.column("time"), who.column("client_ip"), enricher.ip_map)[0]
        if enricher.ip_map is not None
        else pa.nulls(who.num_rows, pa.string())
    )
    person = pc.coalesce(pc.cast(who.column("user"), pa.string()), pc.cast(mapped, pa.string()))
    ips = pc.unique(pc.cast(who.column("client_ip"), pa.string()).filter(subject.mask(person, who.column("client_ip"))))
    if len(ips) == 0:
        return None
    try:  # the person's addresses only: other people's rows on a shared PC are dropped after enrichment
        files, filesystem = arrow_sources(ws.event_files(day))
        with failing(ws.storage.day(day), "read events"):
            rows = pq.read_table(
                files, schema=EVENT_SCHEMA, filters=[("client_ip", "in", ips.to_pylist())], filesystem=filesystem
            )
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{ws.storage.day(day)}: cannot read events: {exc}") from exc
    logged = rows.column("user")
    enriched = enricher(rows)
    keep = subject.mask(enriched.column("user"), enriched.column("client_ip"))
    how = pc.if_else(pc.is_null(logged), "identity map" if subject.address is None else "address", "log")
    return _with_attribution(enriched, how).filter(keep)


def _with_attribution(table: pa.Table, how: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.append_column(pa.field("attributed_by", pa.string()), pc.cast(how, pa.string()))


def write_pack(
    ws: Workspace,
    who: str,
    date_from: date | None = None,
    date_to: date | None = None,
    out: str | Path | None = None,
    by: str | None = None,
) -> AuditPack:
    """Collect one person's trail and write the pack to ``out/<name>-<from>-<to>/``, logging the access.

    ``out`` defaults to the workspace's ``reports/audit``; the folder name is
    made safe whatever ``who`` holds.
    """
    subject = Subject.parse(who)
    if date_from and date_to and date_to < date_from:
        raise FilterlogError(f"--to {date_to} is before --from {date_from}")
    days = within(ws.event_dates(), date_from, date_to)
    lo = date_from or (days[0] if days else None)
    hi = date_to or (days[-1] if days else None)
    events = person_events(ws, subject, days)
    raw = rawlines.fetch(ws, events.column("source_id"), events.column("source_line"))
    paths = {s.source_id: s.path for s in raw.sources}
    sid = pc.cast(events.column("source_id"), pa.string())
    source_path = pa.array(list(paths.values()), pa.string()).take(pc.index_in(sid, pa.array(list(paths), pa.string())))
    events = events.append_column("source_path", source_path)
    events = events.append_column("raw_line", raw.lines).append_column("raw_line_note", raw.notes)
    found = store.read(ws, date_from, date_to, user=subject.address or subject.name)
    if subject.address is not None:
        found = found.filter(pc.is_null(found.column("user")))
    folder = Path(out) if out is not None else ws.reports_dir / "audit"
    pack = AuditPack(
        folder / f"{safe_name(who)}-{_label(lo, 'start')}-{_label(hi, 'end')}",
        who, lo, hi, events.num_rows, found.num_rows, raw.sources, raw.lines.null_count,
        min(events.num_rows, HTML_ROWS),
    )  # fmt: skip
    actor = access.actor(by)
    detail = f"findings={pack.findings} sources={len(raw.sources)} raw_unavailable={pack.raw_missing}"
    pack.entry = access.record(ws, actor=actor, command="audit", subject=who, date_from=lo, date_to=hi,
                               output=str(pack.directory), events=pack.events, detail=detail)  # fmt: skip
    try:
        _write(ws, pack, subject, events, found, actor)
    except (FilterlogError, OSError) as exc:
        access.record(ws, actor=actor, command="audit", subject=who, date_from=lo, date_to=hi,
                      output=str(pack.directory), events=0, detail=f"pack not written: {exc}")  # fmt: skip
        raise
    return pack


def _label(day: date | None, default: str) -> str:
    return day.isoformat() if day else default


def _write(ws: Workspace, pack: AuditPack, subject: Subject, events: pa.Table, found: pa.Table, actor: str) -> None:
    """Every pack file, then ``SHA256SUMS`` over them."""
    d = private_dir(pack.directory)
    for stale in d.glob(".*.tmp"):  # a killed run's half-written file: personal data outside SHA256SUMS
        stale.unlink(missing_ok=True)
    buf = io.BytesIO()
    pq.write_table(events, buf, compression="zstd")
    files: dict[str, str | bytes] = {
        "events.parquet": buf.getvalue(),
        "events.csv": events_csv(events, ws.config.site.timezone),
        "findings.csv": output.to_csv(found),
        "findings.json": output.to_json(found),
        "sources.csv": _sources_csv(pack.sources),
        "audit.html": _html(ws, pack, subject, events, found, actor),
    }
    for name, data in files.items():
        write_private(d / name, data)
    # hashed from the bytes just written: no second read of a pack that may hold a month of events
    digests = {n: hashlib.sha256(v.encode("utf-8") if isinstance(v, str) else v).hexdigest() for n, v in files.items()}
    write_private(d / "SHA256SUMS", "".join(f"{digests[name]}  {name}\n" for name in sorted(PACK_FILES)))
    pack.files = [*PACK_FILES, "SHA256SUMS"]


def events_csv(events: pa.Table, timezone: str) -> bytes:
    """``events.csv``: the investigator's columns, times in UTC and on the site clock, text cells neutralised."""
    time = events.column("time")
    cols: dict[str, pa.ChunkedArray | pa.Array] = {
        "time_utc": pc.strftime(time, format="%Y-%m-%dT%H:%M:%SZ"),
        "time_local": pc.strftime(pc.cast(time, pa.timestamp("ms", tz=timezone)), format="%Y-%m-%d %H:%M:%S%z"),
    }
    for name in CSV_COLUMNS[2:]:
        col = events.column(name)
        if pa.types.is_dictionary(col.type) or pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = safe_column(col)
        cols[name] = col
    buf = io.BytesIO()
    pacsv.write_csv(pa.table(cols), buf, pacsv.WriteOptions(quoting_style="needed"))
    return buf.getvalue()


def _sources_csv(sources: list[rawlines.SourceCheck]) -> str:
    heads = ("path", "sha256", "format", "ingested_at", "first_line", "end_line", "verified", "status", "events",
             "lines_found")  # fmt: skip
    rows = ((s.path, s.source_id, s.format, s.ingested_at, s.first_line, s.end_line, s.verified, s.status,
             s.events, s.lines_found) for s in sources)  # fmt: skip
    return output.csv_text(heads, rows)


def _counts(column: pa.ChunkedArray) -> list[tuple[str, int]]:
    """Distinct values and how many events each, most first (addresses and devices: a handful)."""
    vc = pc.value_counts(pc.drop_null(pc.cast(column, pa.string())))
    pairs = list(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def anchor(source_id: str, line: int) -> str:
    """The HTML id of an event's row, so a finding's evidence can link to it (``_html`` builds the same, columnwise)."""
    return f"e-{source_id[:16]}-{line}"


def _html(ws: Workspace, pack: AuditPack, subject: Subject, events: pa.Table, found: pa.Table, actor: str) -> str:
    """The pack's HTML: summary, sources, findings, then the timeline with findings at their start times."""
    from .. import incidents

    tz = ws.config.site.timezone
    shown = events.slice(0, HTML_ROWS)
    local = pc.strftime(pc.cast(shown.column("time"), pa.timestamp("ms", tz=tz)), format="%Y-%m-%d %H:%M:%S")
    cols = ["method", "url", "status", "action", "bytes_in", "category", "client_ip", "device", "raw_line",
            "raw_line_note", "source_id", "source_line", "attributed_by"]  # fmt: skip
    ids = pc.utf8_slice_codeunits(pc.cast(shown.column("source_id"), pa.string()), 0, 16)
    ids = pc.binary_join_element_wise("e-", ids, "-", pc.cast(shown.column("source_line"), pa.string()), "")
    rows = shown.select(cols).append_column("local", local).append_column("anchor", ids).to_pylist()
    anchors = set(ids.to_pylist())
    outcomes = incidents.latest(ws, found.column("finding_id").to_pylist()) if found.num_rows else {}
    items = []
    for f in found.to_pylist():
        links = [(anchor(e["source_id"], e["source_line"]), e["source_line"]) for e in f["evidence"]]
        f["links"] = [(a, line, a in anchors) for a, line in links]
        f["more"] = f["evidence_total"] - len(links)
        f["incident"] = outcomes.get(f["finding_id"])
        items.append(f)
    starts = np.asarray(pc.cast(found.column("start"), pa.int64()), dtype=np.int64)
    times = np.asarray(pc.cast(shown.column("time"), pa.int64()), dtype=np.int64)
    at = np.searchsorted(times, starts, side="left")  # a finding goes just before its first event
    timeline: list[tuple[str, dict]] = []
    placed = 0
    for i, row in enumerate(rows):
        while placed < len(items) and at[placed] <= i:
            timeline.append(("finding", items[placed]))
            placed += 1
        timeline.append(("event", row))
    late = items[placed:]  # findings after the last event shown (the timeline was cut, or no events)
    generated = datetime.now(UTC)
    return render(
        "audit.html.j2",
        site=ws.config.site.name,
        tz=tz,
        subject=pack.subject,
        subject_kind="client address (events with no person attached)" if subject.address else "user",
        date_from=pack.date_from,
        date_to=pack.date_to,
        generated=generated,
        actor=actor,
        events=pack.events,
        findings=items,
        sources=pack.sources,
        raw_missing=pack.raw_missing,
        addresses=_counts(events.column("client_ip")),
        devices=_counts(events.column("device")),
        attribution=_counts(events.column("attributed_by")),
        timeline=timeline,
        late=late,
        cap=HTML_ROWS if pack.events > HTML_ROWS else None,
    )
