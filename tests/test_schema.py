"""The canonical event schema: conform(), validate(), Parquet round-trip, and every reader's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import SAMPLE_LOGS

from filterlog.errors import SchemaError
from filterlog.ingest import READERS, Reader
from filterlog.schema import (
    ACTIONS,
    EVENT_COLUMNS,
    EVENT_NAMES,
    EVENT_SCHEMA,
    conform,
    empty_events,
    markdown_table,
    pandas_dtypes,
    validate,
)

REQUIRED = [f.name for f in EVENT_SCHEMA if not f.nullable]
OPTIONAL = [f.name for f in EVENT_SCHEMA if f.nullable]


def minimal(n: int = 2) -> dict[str, list]:
    """Only the required columns, in plain Python types (conform must cast them)."""
    return {
        "time": [datetime(2026, 11, 18, 9, 15, 2, 123000, tzinfo=UTC)] * n,
        "client_ip": ["10.0.0.1"] * n,
        "method": ["GET"] * n,
        "url": ["http://example.org/"] * n,
        "action": ["allowed"] * n,
        "source_format": ["squid"] * n,
        "source_id": ["0" * 64] * n,
        "source_line": list(range(1, n + 1)),
    }


def test_required_columns_are_the_contract() -> None:
    # DESIGN.md: time, client_ip, method, url, action, source_* are always present.
    assert set(REQUIRED) == {
        "time",
        "client_ip",
        "method",
        "url",
        "action",
        "source_format",
        "source_id",
        "source_line",
    }
    assert EVENT_SCHEMA.field("time").type == pa.timestamp("ms", tz="UTC")
    assert list(EVENT_NAMES) == EVENT_SCHEMA.names
    assert len(EVENT_COLUMNS) == len(EVENT_SCHEMA)


def test_conform_fills_optional_columns_with_nulls() -> None:
    table = conform(pa.table(minimal()))
    assert table.schema.equals(EVENT_SCHEMA)
    for name in OPTIONAL:
        assert table.column(name).null_count == 2, name
    validate(table)


def test_conform_orders_and_drops_extra_columns() -> None:
    data = minimal()
    data = {k: data[k] for k in reversed(list(data))}
    data["not_a_column"] = [1, 2]
    table = conform(pa.table(data))
    assert table.column_names == EVENT_SCHEMA.names


def test_conform_accepts_pandas() -> None:
    table = conform(pd.DataFrame(minimal()))
    validate(table)
    assert table.column("source_line").to_pylist() == [1, 2]


@pytest.mark.parametrize("missing", REQUIRED)
def test_conform_missing_required_column_names_it(missing: str) -> None:
    data = minimal()
    del data[missing]
    with pytest.raises(SchemaError, match=repr(missing)):
        conform(pa.table(data))


@pytest.mark.parametrize(
    ("column", "value"),
    [("time", "yesterday-ish"), ("source_line", "line one"), ("status", "two hundred"), ("port", "http")],
)
def test_conform_impossible_cast_names_the_column(column: str, value: str) -> None:
    data = minimal()
    data[column] = [value, value]
    with pytest.raises(SchemaError, match=repr(column)):
        conform(pa.table(data))


@pytest.mark.parametrize("missing", ["time", "action", "status"])
def test_validate_missing_column_names_it(missing: str) -> None:
    table = conform(pa.table(minimal())).drop_columns([missing])
    with pytest.raises(SchemaError, match=missing):
        validate(table)


def test_validate_wrong_type_names_the_column() -> None:
    table = conform(pa.table(minimal()))
    i = table.column_names.index("status")
    table = table.set_column(i, pa.field("status", pa.string()), pa.array(["200", "404"]))
    with pytest.raises(SchemaError, match="'status'"):
        validate(table)


def test_validate_null_in_required_column_names_it() -> None:
    table = conform(pa.table(minimal()))
    i = table.column_names.index("client_ip")
    table = table.set_column(i, pa.field("client_ip", pa.string(), nullable=False), pa.array(["10.0.0.1", None]))
    with pytest.raises(SchemaError, match="'client_ip'"):
        validate(table)


@pytest.mark.parametrize("bad", ["denied", "BLOCKED", "Allowed", ""])
def test_validate_rejects_actions_outside_the_vocabulary(bad: str) -> None:
    data = minimal()
    data["action"] = ["allowed", bad]
    with pytest.raises(SchemaError, match="action"):
        validate(conform(pa.table(data)))


def test_validate_accepts_every_action() -> None:
    data = minimal(len(ACTIONS))
    data["action"] = list(ACTIONS)
    validate(conform(pa.table(data)))
    assert set(ACTIONS) == {"allowed", "blocked", "auth_required", "error"}


def test_empty_events_and_pandas_dtypes_follow_the_schema() -> None:
    validate(empty_events())
    assert empty_events().num_rows == 0
    assert list(pandas_dtypes()) == EVENT_SCHEMA.names
    for line in markdown_table().splitlines()[2:]:
        assert line.split("|")[1].strip() in EVENT_NAMES


def test_low_cardinality_strings_are_dictionary_encoded() -> None:
    for name in ("method", "action", "source_format", "scheme", "content_type", "vendor_action"):
        assert pa.types.is_dictionary(EVENT_SCHEMA.field(name).type), name


def test_parquet_round_trip_preserves_schema_exactly(tmp_path: Path) -> None:
    data = minimal()
    data["status"] = [200, None]
    data["user"] = ["alice", None]
    table = conform(pa.table(data))
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    back = pq.read_table(path)
    assert back.schema.equals(EVENT_SCHEMA), back.schema
    assert back.equals(table)


def test_workspace_parquet_files_have_the_event_schema(tmp_path: Path) -> None:
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    ingest(ws, SAMPLE_LOGS)
    files = sorted(ws.events_dir.rglob("*.parquet"))
    assert files
    for f in files:
        schema = pq.read_schema(f)
        assert schema.equals(EVENT_SCHEMA), f"{f}: {schema}"
    ws.close()


# --- every registered reader produces schema-valid output --------------------------------


def _sample_line_for(name: str) -> bytes | None:
    """The first line of a sample whose expected events say this reader parsed it."""
    for log in SAMPLE_LOGS:
        expected = log.with_name(log.stem + ".expected.jsonl")
        first = json.loads(expected.read_text(encoding="utf-8").splitlines()[0])
        if first["source_format"] == name:
            line = log.read_bytes().splitlines()[first["source_line"] - 1]
            return line + b"\n"
    return None


@pytest.fixture(params=sorted(READERS), ids=str)
def all_readers(request: pytest.FixtureRequest) -> type[Reader]:
    """Every registered reader class, by name."""
    return READERS[request.param]


def test_reader_has_name_and_description(all_readers: type[Reader]) -> None:
    assert all_readers.name and all_readers.name in READERS
    assert all_readers.description


def test_reader_on_empty_block(all_readers: type[Reader]) -> None:
    parsed = all_readers().parse(b"", 1)
    validate(parsed.events)
    assert parsed.events.num_rows == 0
    assert not parsed.bad_lines


def test_reader_on_blank_line(all_readers: type[Reader]) -> None:
    parsed = all_readers().parse(b"\n", 1)
    validate(parsed.events)
    assert parsed.events.num_rows + len(parsed.bad_lines) + parsed.skipped == 1


def test_reader_on_its_sample_line(all_readers: type[Reader]) -> None:
    line = _sample_line_for(all_readers.name)
    assert line is not None, f"reader {all_readers.name!r} has no sample in samples/ (DESIGN: one or more per format)"
    parsed = all_readers().parse(line, 7)
    assert not parsed.bad_lines, parsed.bad_reasons
    validate(parsed.events)
    assert parsed.events.num_rows == 1
    assert parsed.events.column("source_line").to_pylist() == [7]
    assert all_readers.sniff([line.rstrip(b"\n")]) == 1.0
