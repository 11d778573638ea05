"""The rules' column helpers: picking evidence rows and testing dictionary columns agree on every path."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.arrays import spread
from filterlog.config import Config
from filterlog.rules import context
from filterlog.rules.context import Context


def _events(sizes: list[int]) -> pa.Table:
    """A chunked table (one chunk per size) with plain, dictionary and null-bearing columns."""
    tables = []
    start = 0
    for size in sizes:
        n = np.arange(start, start + size)
        users = pa.array([None if i % 5 == 0 else f"u{i % 7}" for i in n], pa.string()).dictionary_encode()
        tables.append(
            pa.table(
                {
                    "time": pa.array(1_795_000_000_000 + n * 1000, pa.timestamp("ms", tz="UTC")),
                    "host": pa.array([f"h{i % 11}.example" for i in n], pa.string()),
                    "user": users,
                    "client_ip": pa.array([f"10.0.0.{i % 3}" for i in n], pa.string()).dictionary_encode(),
                    "bytes_in": pa.array(n * 10, pa.int64()),
                }
            )
        )
        start += size
    return pa.concat_tables(tables)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    picks=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_take_by_chunk_equals_take_by_filter(sizes: list[int], picks: list[int]) -> None:
    events = _events(sizes)
    if not events.num_rows:
        return
    positions = np.array([p % events.num_rows for p in picks], dtype=np.int64)
    columns = ["time", "host", "user", "who", "bytes_in"]
    ctx = Context(events, Config())
    by_filter = ctx.take(positions, columns)
    old = context.FEW_ROWS
    context.FEW_ROWS = 10**9  # every selection counts as few
    try:
        by_chunk = Context(events, Config()).take(positions, columns)
    finally:
        context.FEW_ROWS = old
    assert by_chunk.num_rows == len(positions)
    for name in columns:
        assert by_chunk.column(name).to_pylist() == by_filter.column(name).to_pylist(), name
    assert by_chunk.column("bytes_in").to_pylist() == [int(p) * 10 for p in positions]
    increasing = np.unique(positions)  # each row once, in order: taken as picked, not indexed again
    assert ctx.take(increasing, ["bytes_in"]).column("bytes_in").to_pylist() == [int(p) * 10 for p in increasing]


@pytest.mark.parametrize("offset", [0, 1, 7, 9])
@pytest.mark.parametrize("index_type", [pa.int8(), pa.int16(), pa.int32(), pa.int64()])
def test_spread_reads_sliced_nullable_indices(offset: int, index_type: pa.DataType) -> None:
    values = ["a", None, "b", "c", "a", None, "c", "b", "b", "a", None, "c"]
    whole = pa.array(values).dictionary_encode()
    whole = pa.DictionaryArray.from_arrays(whole.indices.cast(index_type), whole.dictionary)
    chunk = whole.slice(offset)
    per_value = pa.array([v in ("a", "c") for v in chunk.dictionary.to_pylist()])
    got = spread(per_value, chunk)
    assert got.tolist() == [v in ("a", "c") for v in values[offset:]]
    assert spread(np.zeros(0, bool), chunk).tolist() == [False] * len(chunk)
