"""A Dask client cuts and numbers chunks from a newline table as ``Source.blocks`` does by reading every byte."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filterlog.errors import InputError
from filterlog.ingest import chunks, source
from filterlog.ingest.chunks import cut
from filterlog.ingest.source import Source, last_newline_end, sha256_file

TEXT = st.text(alphabet="ab \r\x00é", max_size=40).map(str.encode)  # never a compressed file's magic bytes
LINE = TEXT.map(lambda b: b + b"\n")


@st.composite
def files(draw: st.DrawFn) -> tuple[bytes, int, int, int, int]:
    """Content (a last line perhaps unterminated), the size hashed, a start offset, a block size and a grid."""
    body = b"".join(draw(st.lists(LINE, max_size=30))) + draw(TEXT)
    size = len(body) - draw(st.integers(0, min(len(body), 15)))  # the file grew after it was measured
    offset = draw(st.integers(0, size))
    return body, size, offset, draw(st.integers(1, 60)), draw(st.integers(1, 70))


def _blocks(path: Path, size: int, start: tuple[int, int, bool], block: int) -> list[tuple]:
    """What the in-process engine reads: (lo, hi, first line, lines, terminated) per block, or where it stopped."""
    offset, first_line, mid_line = start
    out: list[tuple] = []
    try:
        for b in Source(path).blocks(block, offset, first_line, size, mid_line):
            lo = b.end_offset - len(b.data) + (0 if b.terminated else 1)
            out.append((lo, b.end_offset, b.first_line, b.lines, b.terminated))
    except InputError as exc:
        out.append(str(exc))
    return out


def _chunks(path: Path, size: int, start: tuple[int, int, bool], block: int, grid: int) -> list[tuple]:
    """The same, cut from the newline table a worker counts while hashing."""
    digest = sha256_file(path, size, last_newline_end(path, size), count=True, grid=grid)
    assert digest.newlines is not None
    out: list[tuple] = []
    try:
        for number, c in enumerate(cut(path, digest.newlines, size, start, block, grid)):
            assert c.number == number
            out.append((c.lo, c.hi, c.first_line, c.lines, c.terminated))
    except InputError as exc:
        out.append(str(exc))
    return out


@settings(max_examples=400, deadline=None)
@given(files(), st.integers(1, 50), st.sampled_from([1 << 20, 25]))
@example((b"x" * 25 + b"\n", 26, 0, 25, 7), 1, 25)  # a read of exactly the longest line allowed, no newline in it
def test_chunks_fall_where_blocks_do(case: tuple[bytes, int, int, int, int], first_line: int, max_line: int) -> None:
    """Every start (a new file, a grown one, one resumed inside a line), block size, grid and long line."""
    body, size, offset, block, grid = case
    mid_line = offset > 0 and body[offset - 1 : offset] != b"\n"
    start = (offset, first_line, mid_line)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        path.write_bytes(body)
        with mock.patch.object(source, "MAX_LINE", max_line), mock.patch.object(chunks, "MAX_LINE", max_line):
            assert _chunks(path, size, start, block, grid) == _blocks(path, size, start, block)


@settings(max_examples=200, deadline=None)
@given(files())
def test_digest_hashes_and_counts_in_one_pass(case: tuple[bytes, int, int, int, int]) -> None:
    body, size, offset, _, grid = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        path.write_bytes(body)
        digest = sha256_file(path, size, offset, count=True, grid=grid)
        assert digest.sha == hashlib.sha256(body[:size]).hexdigest()
        assert digest.cut_sha == hashlib.sha256(body[:offset]).hexdigest()
        assert digest.newlines is not None
        assert digest.newlines.tolist() == [body[i : min(i + grid, size)].count(b"\n") for i in range(0, size, grid)]
        assert sha256_file(path, size, offset)[:2] == tuple(digest[:2]) and sha256_file(path, size).newlines is None


def test_a_file_that_shrank_is_refused(tmp_path: Path) -> None:
    """Rotated in place after its hash: the cut says so rather than numbering lines that are not there."""
    path = tmp_path / "access.log"
    path.write_bytes(b"one\ntwo\nthree\n" * 10)
    digest = sha256_file(path, path.stat().st_size, count=True)
    path.write_bytes(b"one\n")
    with pytest.raises(Exception, match="file shrank while being read"):
        list(cut(path, digest.newlines, 140, (0, 1, False), 16))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200), st.integers(1, 8), st.integers(1, 6), st.integers(0, 3))
def test_tasks_run_every_chunk_once_in_order(n: int, workers: int, most: int, ragged: int) -> None:
    """Runs of consecutive chunks, none longer than ``most``, the last ones short enough to share among workers."""
    block = 100
    end = n * block - ragged * 10 if n else 0  # a last chunk shorter than a block
    cut_chunks = [chunks.Chunk(i, i * block, min((i + 1) * block, end), i * 3 + 1, 3, True) for i in range(n)]
    runs = list(chunks.tasks(iter(cut_chunks), end, block, workers, most))
    assert [c for run in runs for c in run] == cut_chunks
    assert all(1 <= len(run) <= most for run in runs)
    for run in runs:
        left = n - run[0].number  # chunks from this run's first to the file's end
        assert len(run) <= max(1, left // (2 * workers))  # a quarter per worker: the tail is shared
    if n >= 8 * workers * most:
        assert len(runs[0]) == most  # a large file goes out in full runs


def test_tasks_stop_where_the_cut_fails(tmp_path: Path) -> None:
    """A cut that fails mid-file raises through the runs (the client fails the file), after the runs before it."""
    path = tmp_path / "access.log"
    path.write_bytes(b"one\ntwo\nthree\n" * 40)
    digest = sha256_file(path, path.stat().st_size, count=True)
    path.write_bytes(b"one\ntwo\nthree\n" * 10)
    runs = chunks.tasks(cut(path, digest.newlines, 560, (0, 1, False), 16), 560, 16, 1, 2)
    got = []
    with pytest.raises(Exception, match="file shrank while being read"):
        got.extend(runs)
    numbers = [c.number for run in got for c in run]
    assert numbers and numbers == list(range(len(numbers)))  # the runs before the failure, in order
