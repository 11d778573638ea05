"""Block plumbing shared by the readers: clean and cut a block, bisect tokeniser failures, join pieces.

The readers hand a whole block to a C++ tokeniser (Arrow's CSV or JSON
reader, or an RE2 regex over a string column of lines). The tokeniser is fast
but all-or-nothing, so the Python side only has to answer three questions
without a per-line loop: which lines are blank, what are their numbers, and
which lines did the tokeniser fail on. ``bisect`` answers the last one by
splitting a block between lines until each failing piece is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import empty_events
from . import _spans
from .base import Parsed, clean, line_bounds, newlines


@dataclass
class Lines:
    """The lines of one block: byte spans, absolute numbers, and which are blank."""

    buf: np.ndarray
    """The block, padded for ``_spans.strings``."""
    starts: np.ndarray
    ends: np.ndarray
    numbers: np.ndarray
    blank: np.ndarray

    @classmethod
    def of(cls, block: bytes, first_line: int, found: np.ndarray | None = None) -> Lines:
        """Cut a block (whole lines, newline-terminated) into lines; pass the newlines if ``found`` already."""
        buf = _spans.padded(block)
        if found is None:
            found = newlines(buf[: len(block)])
        starts, ends = line_bounds(buf, found)
        numbers = np.arange(len(starts), dtype=np.int64) + first_line
        return cls(buf, starts, ends, numbers, starts == ends)

    def strings(self, mask: np.ndarray | None = None) -> pa.Array:
        """The text of the lines selected by ``mask`` (all lines if None), without line ends."""
        if mask is None:
            return _spans.strings(self.buf, self.starts, self.ends)
        return _spans.strings(self.buf, self.starts[mask], self.ends[mask])


def begin(block: bytes, first_line: int) -> tuple[bytes, Parsed, Lines]:
    """What every vendor reader does first: clean the block, cut it into lines, count the blank ones."""
    if block and not block.endswith(b"\n"):
        block += b"\n"  # the pipeline never passes such a block; a direct caller may
    block, repaired, found = clean(block)
    lines = Lines.of(block, first_line, found)
    out = Parsed(empty_events(), repaired=repaired, skipped=int(lines.blank.sum()))
    return block, out, lines


def bisect(
    block: bytes, lines: np.ndarray, read: Callable[[bytes], pa.Table | None], out: Parsed, reason: str
) -> list[pa.Table]:
    """Tokenise ``block`` with ``read``; where it fails, split between lines and retry.

    ``lines`` are the absolute numbers of the block's non-blank lines, in order;
    ``read`` must skip blank lines and return one row per other line, or None
    (or raise ``pa.ArrowInvalid``) when it cannot. Returned tables carry a
    ``source_line`` column. A single line that still fails is quarantined with
    ``reason``. One bad line in n costs about log2(n) extra tokeniser calls.
    """
    pieces: list[pa.Table] = []
    todo = [(block, lines)]
    while todo:
        data, nums = todo.pop()
        if not len(nums):
            continue
        try:
            t = read(data)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            t = None
        if t is not None and t.num_rows == len(nums):
            pieces.append(t.append_column("source_line", pa.array(nums)))
            continue
        if len(nums) == 1:
            out.reject(nums, reason)
            continue
        half = len(nums) // 2
        cut = _after_nonblank(data, half)
        todo.append((data[cut:], nums[half:]))
        todo.append((data[:cut], nums[:half]))
    return pieces


def _after_nonblank(block: bytes, n: int) -> int:
    """Offset just after the n-th non-blank line, so a block splits between lines."""
    buf = np.frombuffer(block, np.uint8)
    nl = newlines(buf)
    starts, ends = line_bounds(buf, nl)
    full = np.flatnonzero(ends > starts)
    return int(nl[full[n - 1]]) + 1


def concat(pieces: list[pa.Table]) -> pa.Table | None:
    """Join tokenised pieces back into file order (None if there are none)."""
    if not pieces:
        return None
    t = pa.concat_tables(pieces, promote_options="permissive") if len(pieces) > 1 else pieces[0]
    if len(pieces) > 1:
        t = t.take(pc.sort_indices(t, [("source_line", "ascending")]))
    return t


def blank_to_null(col: pa.Array | pa.ChunkedArray, *nothing: str) -> pa.Array | pa.ChunkedArray:
    """Empty strings, and any of ``nothing`` (``-``, ``None`` ...), become real nulls."""
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    drop = pc.is_in(col, pa.array(["", *nothing], pa.string()))
    return pc.if_else(drop, pa.scalar(None, pa.string()), col)


def integers(col: pa.Array | pa.ChunkedArray, typ: pa.DataType | None = None) -> pa.Array | pa.ChunkedArray:
    """Decimal text to integers (int64 unless ``typ``); anything else (empty, ``-``, junk, too long) becomes null."""
    typ = typ or pa.int64()
    if pa.types.is_dictionary(col.type):
        col = col.cast(pa.string())
    digits = 4 if typ == pa.int16() else 18
    ok = pc.fill_null(pc.match_substring_regex(col, rf"^\d{{1,{digits}}}$"), False)
    return pc.cast(pc.if_else(ok, col, pa.scalar(None, pa.string())), typ)
