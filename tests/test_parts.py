"""How events are laid out in Parquet (parts.py): the encodings each column is written with."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from filterlog.ingest.squid import SquidNative
from filterlog.ingest.stream import _with_source
from filterlog.parts import DELTA_COLUMNS, DICTIONARY_COLUMNS, PartWriter, read_file
from filterlog.schema import EVENT_SCHEMA

LINES = b"".join(
    b"1795392%03d.806   %4d 10.20.30.%d TCP_MISS/200 %d GET http://h%d.example/p?q=%d alice HIER_DIRECT/1.2.3.4 "
    b"text/html\n" % (i, i * 7, i % 9, 100 + i, i % 5, i)
    for i in range(300)
)


def _written(tmp_path: Path) -> Path:
    events = _with_source(SquidNative().parse(LINES, 1).events, "0" * 64)
    writer = PartWriter(tmp_path, "ingest")
    writer.write_events("2026-11-23", 0, events)
    ((tmp, _final),) = writer.parts
    return Path(tmp)


def test_columns_are_written_with_the_declared_encodings(tmp_path: Path) -> None:
    meta = pq.ParquetFile(_written(tmp_path)).metadata.row_group(0)
    chunks = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    for name in DELTA_COLUMNS:
        assert "DELTA_BINARY_PACKED" in chunks[name].encodings, name
    for name in DICTIONARY_COLUMNS:
        assert chunks[name].has_dictionary_page, name
    assert "DELTA_BINARY_PACKED" not in chunks["duration_ms"].encodings


def test_what_is_written_reads_back_the_same(tmp_path: Path) -> None:
    events = _with_source(SquidNative().parse(LINES, 1).events, "0" * 64)
    back = pa.Table.from_batches(read_file(_written(tmp_path), EVENT_SCHEMA))
    assert back.column("time").to_pylist() == events.column("time").to_pylist()
    assert back.column("source_line").to_pylist() == list(range(1, 301))
    assert back.column("bytes_in").to_pylist() == [100 + i for i in range(300)]
    assert back.column("vendor_action").to_pylist() == ["TCP_MISS"] * 300
