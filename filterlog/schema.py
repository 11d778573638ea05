"""The canonical event schema, defined once.

Every reader produces these columns and nothing else; Parquet files, pandas
dtypes and the documentation table are all derived from ``EVENT_COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from .errors import SchemaError

if TYPE_CHECKING:  # pandas costs 0.4 s to import; the ingest path never needs it
    import pandas as pd

DICT = pa.dictionary(pa.int32(), pa.string())
"""Type for string columns with few distinct values (methods, actions, formats)."""

ACTIONS = ("allowed", "blocked", "auth_required", "error")
"""The closed vocabulary of the normalised ``action`` column."""


@dataclass(frozen=True)
class Column:
    """One column of the canonical schema."""

    name: str
    type: pa.DataType
    nullable: bool
    doc: str
    ecs: str = ""
    """The nearest Elastic Common Schema field, for readers who know ECS."""


EVENT_COLUMNS: tuple[Column, ...] = (
    Column("time", pa.timestamp("ms", tz="UTC"), False, "when the request was logged (UTC)", "@timestamp"),
    Column("duration_ms", pa.int64(), True, "elapsed time of the request, if logged", "event.duration"),
    Column("client_ip", pa.string(), False, "client address as logged", "source.ip"),
    Column("user", DICT, True, "normalised user name: lower case, realm and domain removed", "user.name"),
    Column("user_raw", DICT, True, "user name exactly as logged", "user.original"),
    Column("device", pa.string(), True, "device name or ID, where the format has one", "host.name"),
    Column("method", DICT, False, "HTTP method (CONNECT for tunnels)", "http.request.method"),
    Column("url", pa.string(), False, "URL as logged (CONNECT: host:port)", "url.original"),
    Column("scheme", DICT, True, "URL scheme, lower case", "url.scheme"),
    Column("host", pa.string(), True, "host name or IP literal, lower case", "url.domain"),
    Column("port", pa.int32(), True, "port: explicit, or the scheme's default", "url.port"),
    Column("path", pa.string(), True, "path part of the URL", "url.path"),
    Column("query", pa.string(), True, "query string without the '?'", "url.query"),
    Column("status", pa.int16(), True, "HTTP status code", "http.response.status_code"),
    Column("action", DICT, False, "filter decision: allowed, blocked, auth_required, error", "event.action"),
    Column("vendor_action", DICT, True, "the filter's own result code (TCP_DENIED, BLOCKED ...)", "event.outcome"),
    Column("bytes_in", pa.int64(), True, "bytes sent to the client (download)", "destination.bytes"),
    Column("bytes_out", pa.int64(), True, "bytes sent by the client (upload)", "source.bytes"),
    Column("content_type", DICT, True, "reply MIME type", "http.response.mime_type"),
    Column("vendor_category", DICT, True, "category written by the filter, if any", ""),
    Column("user_agent", pa.string(), True, "User-Agent request header", "user_agent.original"),
    Column("referer", pa.string(), True, "Referer request header", "http.request.referrer"),
    Column("source_format", DICT, False, "name of the reader that parsed the line", ""),
    Column("source_id", DICT, False, "SHA-256 of the source file (the manifest maps it to a path)", "log.file.hash"),
    Column("source_line", pa.int64(), False, "1-based line number in the source file", "log.file.line"),
)

EVENT_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in EVENT_COLUMNS])
"""The Arrow schema of an events table and of every events Parquet file."""

ENRICHED_COLUMNS: tuple[Column, ...] = (
    Column(
        "domain", DICT, True, "registered domain of host (an IP literal is its own domain)", "url.registered_domain"
    ),
    Column("category", DICT, True, "category of the longest matching list entry", ""),
    Column("category_source", DICT, True, "the list that entry came from", ""),
    Column("ip_user", pa.string(), True, "who held client_ip at that time, by the identity map", ""),
    Column("group", DICT, True, "the person's group (staff, year7 ...)", "user.group.name"),
    Column("in_working_hours", pa.bool_(), False, "inside the site's working hours, breaks excluded", ""),
    Column("search_terms", pa.string(), True, "what was searched for, if the request was a search", ""),
)
"""What enrichment adds. ``user`` and ``device`` are also filled from the identity map where the log has none."""

ENRICHED_SCHEMA = pa.schema([*EVENT_SCHEMA, *(pa.field(c.name, c.type, nullable=c.nullable) for c in ENRICHED_COLUMNS)])
"""Events as the rules see them."""

EVENT_NAMES: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS)

SEVERITIES = ("low", "medium", "high", "critical")
"""The closed vocabulary of a finding's ``severity``, least to most serious."""

EVIDENCE_TYPE = pa.list_(
    pa.struct([pa.field("source_id", pa.string(), nullable=False), pa.field("source_line", pa.int64(), nullable=False)])
)
"""A finding's evidence: the source lines it rests on (the manifest maps ``source_id`` to a file)."""

FINDING_COLUMNS: tuple[Column, ...] = (
    Column("finding_id", pa.string(), False, "stable id: the same events and thresholds give the same id"),
    Column("rule", DICT, False, "rule id (repeated-blocked, circumvention ...)"),
    Column("title", DICT, False, "the rule's title"),
    Column("severity", DICT, False, "low, medium, high or critical"),
    Column("date", pa.date32(), False, "local date the finding starts on (the partition it is stored in)"),
    Column("user", pa.string(), True, "who: the user the log or the identity map names"),
    Column("client_ip", pa.string(), True, "the client address (the first, if the finding spans several)"),
    Column("group", DICT, True, "the person's group (staff, year7 ...)"),
    Column("start", pa.timestamp("ms", tz="UTC"), False, "first event of the finding (UTC)"),
    Column("end", pa.timestamp("ms", tz="UTC"), False, "last event of the finding (UTC)"),
    Column("count", pa.int64(), False, "what the rule counts: attempts, page views, requests, searches"),
    Column("bytes", pa.int64(), False, "bytes involved (0 where the rule is not about volume)"),
    Column("domain", pa.string(), True, "the main domain or indicator"),
    Column("category", DICT, True, "the category that made the events relevant"),
    Column("detail", pa.string(), False, "one plain-English line with the numbers that fired the rule"),
    Column("policy", pa.string(), False, "the acceptable-use clause the rule enforces"),
    Column("evidence", EVIDENCE_TYPE, False, "source lines behind the finding (all, or the first ones if many)"),
    Column("evidence_total", pa.int64(), False, "how many source lines the finding rests on in all"),
)
"""One row per (rule, person, window): what ``filterlog detect`` stores and ``filterlog findings`` shows."""

FINDING_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in FINDING_COLUMNS])

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("source_line", pa.int64(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw", pa.binary(), nullable=False),
    ]
)
"""Rejected lines: where they came from, why, and the exact bytes."""


def _as_table(data: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    return pa.Table.from_pandas(data, preserve_index=False)


def conform(data: pa.Table | pd.DataFrame, schema: pa.Schema = EVENT_SCHEMA) -> pa.Table:
    """Order, cast and complete columns so the result has exactly ``schema``.

    Missing nullable columns are filled with nulls; extra columns are dropped.
    A missing required column or an impossible cast raises SchemaError.
    """
    table = _as_table(data)
    arrays = []
    for field in schema:
        if field.name not in table.column_names:
            if not field.nullable:
                raise SchemaError(f"column {field.name!r} is required but missing")
            arrays.append(pa.nulls(table.num_rows, field.type))
            continue
        col = table.column(field.name)
        if col.type != field.type:
            try:
                col = _cast(col, field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaError(f"column {field.name!r}: cannot cast {col.type} to {field.type}: {exc}") from exc
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=schema)


def _cast(col: pa.ChunkedArray | pa.Array, to: pa.DataType) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(to) and not pa.types.is_dictionary(col.type):
        return pc.dictionary_encode(pc.cast(col, to.value_type)).cast(to)
    if pa.types.is_dictionary(col.type) and not pa.types.is_dictionary(to):
        return pc.cast(pc.cast(col, col.type.value_type), to)
    return pc.cast(col, to)


def validate(data: pa.Table | pd.DataFrame, schema: pa.Schema = EVENT_SCHEMA) -> None:
    """Raise SchemaError naming the first column that breaks the schema.

    Checks names, order, types, nulls in required columns and the action vocabulary.
    """
    table = _as_table(data)
    if table.column_names != schema.names:
        missing = [n for n in schema.names if n not in table.column_names]
        extra = [n for n in table.column_names if n not in schema.names]
        raise SchemaError(f"columns differ from the schema: missing {missing}, extra {extra}, or out of order")
    for field in schema:
        col = table.column(field.name)
        if col.type != field.type:
            raise SchemaError(f"column {field.name!r} has type {col.type}, expected {field.type}")
        if not field.nullable and col.null_count:
            raise SchemaError(f"column {field.name!r} has {col.null_count} nulls but is required")
    if "action" in schema.names and table.num_rows:
        bad = pc.invert(pc.is_in(pc.cast(table.column("action"), pa.string()), pa.array(ACTIONS)))
        if pc.any(bad).as_py():
            raise SchemaError("column 'action' holds values outside " + ", ".join(ACTIONS))


def empty_events() -> pa.Table:
    """A zero-row events table with the canonical schema.

    Made once: Arrow tables cannot be changed, and building one (25 columns)
    cost 1.5 ms of the GIL each time a block was parsed. Not made by
    ``Schema.empty_table()``, which imports pandas (0.16-0.4 s): made at import,
    that would put pandas into the start-up of every command.
    """
    return _EMPTY


_EMPTY = pa.Table.from_batches([], schema=EVENT_SCHEMA)


def pandas_dtypes() -> dict[str, Any]:
    """Pandas dtypes matching the schema, for frames built without Arrow."""
    import pandas as pd

    return {c.name: pd.ArrowDtype(c.type) for c in EVENT_COLUMNS}


def markdown_table() -> str:
    """The schema as a Markdown table, for the README and docs tests."""
    rows = ["| column | type | nullable | meaning |", "|---|---|---|---|"]
    rows += [f"| {c.name} | {c.type} | {'yes' if c.nullable else 'no'} | {c.doc} |" for c in EVENT_COLUMNS]
    return "\n".join(rows)
