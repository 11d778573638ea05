"""Ingest gathers consecutive blocks' events into files of ``[ingest] file_rows``: the same rows in the same order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.ingest.gather import EventFiles
from filterlog.parts import PartWriter

DAYS = ["2026-11-18", "2026-11-19"]


def _block(number: int, rows: int, words: list[str]) -> pa.Table:
    """Rows numbered by block and position, with a dictionary column whose dictionary is the block's own."""
    rng = np.random.default_rng(number)
    names = pa.array([words[i] for i in rng.integers(0, len(words), rows)]).dictionary_encode()
    return pa.table(
        {"block": pa.array([number] * rows, pa.int64()), "row": pa.array(range(rows), pa.int64()), "host": names}
    )


def _written(writer: PartWriter) -> dict[str, list[tuple[int, pa.Table]]]:
    """Each date's files in name order: (first block, rows)."""
    out: dict[str, list[tuple[int, pa.Table]]] = {}
    for tmp, final in sorted(writer.parts, key=lambda p: p[1]):
        day = Path(final).parent.name.removeprefix("date=")
        out.setdefault(day, []).append((int(Path(final).stem.split("-")[1]), pq.read_table(tmp)))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.sampled_from(DAYS), st.integers(1, 40)), max_size=2), max_size=12),
    st.integers(1, 100),
    st.booleans(),
)
def test_files_hold_each_dates_rows_in_block_order(blocks: list, rows: int, threaded: bool) -> None:
    """Per date: the files, read in name order, give every block's rows in order; each but the last holds ``rows``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        writer = PartWriter(tmp, "ingest")
        with ThreadPoolExecutor(2) as pool:
            files = EventFiles(writer, pool.submit if threaded else None, 2, rows)
            for number, days in enumerate(blocks):
                files.add(number, [(day, _block(number, n, ["a", "b"])) for day, n in dict(days).items()])
            files.close()
        written = _written(writer)
        for day in DAYS:
            expected = [(number, n) for number, days in enumerate(blocks) for d, n in dict(days).items() if d == day]
            got = written.get(day, [])
            assert [first for first, _ in got] == sorted(first for first, _ in got)
            rows_read = [
                (b, r) for _, t in got for b, r in zip(t["block"].to_pylist(), t["row"].to_pylist(), strict=True)
            ]
            assert rows_read == [(number, r) for number, n in expected for r in range(n)]
            for first, table in got:
                assert table["block"][0].as_py() == first  # named by its first block
            assert all(t.num_rows >= rows for _, t in got[:-1])


def test_a_file_keeps_one_dictionary_per_column(tmp_path: Path) -> None:
    """Blocks bring dictionaries of their own; written as they come, Parquet would store the column plain (10x)."""
    words = [f"host-{i:05d}.example.{i * 7919 % 10007}" for i in range(3000)]
    writer = PartWriter(tmp_path, "ingest")
    files = EventFiles(writer, rows=40_000)
    for number in range(4):
        files.add(number, [(DAYS[0], _block(number, 10_000, words[number * 500 : number * 500 + 1500]))])
    files.close()
    ((tmp, _),) = writer.parts
    column = pq.ParquetFile(tmp).metadata.row_group(0).column(2)
    assert column.path_in_schema == "host" and column.has_dictionary_page
    assert column.total_uncompressed_size < 40_000 * 4  # indices of 12 bits, not 25-byte strings


def test_a_failed_write_is_raised_and_nothing_still_runs(tmp_path: Path) -> None:
    """close() raises the first failure; no write is left running to put files back after the caller clears up."""

    class Failing(PartWriter):
        def write_events(self, day: str, block: int, events: pa.Table) -> None:
            if block == 2:
                raise OSError("disk full")
            super().write_events(day, block, events)

    writer = Failing(tmp_path, "ingest")
    with ThreadPoolExecutor(2) as pool:
        files = EventFiles(writer, pool.submit, 4, rows=1)
        for number in range(6):
            files.add(number, [(DAYS[0], _block(number, 5, ["a"]))])
        with pytest.raises(OSError, match="disk full"):
            files.close()
        assert not files.writing
    writer.discard()
    assert not list(tmp_path.rglob("*.tmp"))
