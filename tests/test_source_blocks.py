"""Blocks of whole lines: every line once, in order, numbered; a start inside a line skips only that line."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.ingest import source
from filterlog.ingest.source import Source, _newlines

LINES = st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.encode), max_size=40)
"""Text lines: random bytes could open with a gzip or zstd magic number and be read as compressed."""


def _cuts(src: Source, **kw) -> list[tuple[int, int, int, int, bool, bytes]]:
    return [
        (b.first_line, b.lines, b.end_offset - len(b.data), b.end_offset, b.terminated, bytes(b.data))
        for b in src.blocks(**kw)
    ]


@settings(max_examples=150, deadline=None)
@given(LINES, st.booleans(), st.integers(1, 64), st.integers(0, 80), st.booleans())
def test_blocks_hold_every_line_once(lines, last_newline, size, offset, skip_partial) -> None:
    data = b"\n".join(lines) + (b"\n" if last_newline and lines else b"")
    offset = min(offset, len(data))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.log"
        path.write_bytes(data)
        src = Source(path)
        kw = {"size": size, "offset": offset, "limit": len(data), "skip_partial": skip_partial}
        fresh = _cuts(src, **kw)
    body = b"".join(d if term else d[:-1] for *_, term, d in fresh)
    if skip_partial:  # the rest of the line at the offset was read before: reading starts after it
        assert body == (data[data.find(b"\n", offset) + 1 :] if b"\n" in data[offset:] else b"")
    else:
        assert body == data[offset:]
    if offset == 0 and not skip_partial:  # from the start: every line once, in order, numbered from 1
        body = b"".join(d if term else d[:-1] for *_, term, d in fresh)
        assert body == data
        assert sum(n for _, n, *_ in fresh) == data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
        assert all(f[0] == 1 + sum(g[1] for g in fresh[:i]) for i, f in enumerate(fresh))


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300) | st.lists(st.sampled_from(b"a\n"), max_size=300).map(bytes),
    st.integers(0, 300),
    st.integers(0, 300),
)
def test_newlines_counted_between_any_bounds(data: bytes, lo: int, hi: int) -> None:
    lo, hi = sorted((min(lo, len(data)), min(hi, len(data))))
    buf = bytearray(data)
    assert _newlines(buf, lo, hi) == data.count(b"\n", lo, hi)
    del buf[hi:]  # the count let go of the buffer: it can be trimmed, as blocks() trims it


def test_unfilled_buffers_are_ordinary_bytearrays() -> None:
    buf = source.unfilled(1 << 20)
    assert type(buf) is bytearray and len(buf) == 1 << 20
    buf[:5] = b"abcde"
    del buf[3:]  # trimmed in place, as Source.blocks does
    assert buf == bytearray(b"abc")
    assert source.unfilled(0) == bytearray()
