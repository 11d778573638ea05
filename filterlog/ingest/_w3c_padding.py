"""Runs of spaces in W3C lines: found once per block, then made harmless before Arrow tokenises.

ProxySG pads fields (``-  200``) and some exports indent lines; Arrow's CSV reader
would read every extra space as an empty field, and the row count would be wrong.
The padding is found with numpy before any tokenising (no failed read first).
The cheap way to neutralise it is to overwrite it, in a copy of the block, with a
marker byte that no field holds: ``-  200`` becomes ``-^A 200`` (^A: byte 1), Arrow
reads the field ``-^A``, and the marker is then removed from the dictionary values of the
columns (a few thousand strings, not the rows). Where a marker would stand in
front of a quoted field (an indented line starting with ``"``), or the block
holds the marker byte already, the lines are read with the padding cut out
instead, which costs a compacting copy of the bytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MARK = 1
"""The marker byte (U+0001): a block that already holds one has its padding cut out instead."""


def surplus(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Positions of padding spaces (the 2nd.. of a run, or leading) outside ``"quotes"``, sorted.

    Pairs of spaces are found two bytes at a time (the block as 16-bit words, at
    each alignment); only they get the quote-parity test.
    """
    lead = starts[(ends > starts) & (buf[np.minimum(starts, max(len(buf) - 1, 0))] == 32)]
    n = len(buf)
    even = np.flatnonzero(np.frombuffer(buf, np.uint16, count=n // 2) == 0x2020) * 2 + 1
    odd = np.flatnonzero(np.frombuffer(buf, np.uint16, count=(n - 1) // 2, offset=1) == 0x2020) * 2 + 2
    cand = np.union1d(np.concatenate([even, odd]), lead) if len(even) or len(odd) else lead
    if not len(cand):
        return cand.astype(np.int64)
    line = np.searchsorted(ends, cand, side="right")
    return cand[_quotes_before(buf, starts[line], cand) & 1 == 0]


def _quotes_before(buf: np.ndarray, line_starts: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many ``"`` lie between each position in ``at`` (sorted) and the start of its line.

    Counted by Arrow over the stretches between consecutive positions (line start
    or the previous position, to this one): the block viewed in place as one string
    column whose values alternate between stretches and the gaps between them.
    """
    seg_s = np.maximum(line_starts, np.concatenate([[0], at[:-1]]))
    offsets = np.empty(2 * len(at), np.int64)
    offsets[0::2], offsets[1::2] = seg_s, at
    text = pa.Array.from_buffers(pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])
    stretches = text.take(pa.array(np.arange(0, len(text), 2)))  # a copy of the stretches alone, not the gaps
    counts = np.asarray(pc.count_substring(stretches, '"')).astype(np.int64)
    total = np.cumsum(counts)
    new_line = np.flatnonzero(np.r_[True, line_starts[1:] != line_starts[:-1]])
    before = np.repeat(total[new_line] - counts[new_line], np.diff(np.r_[new_line, len(at)]))
    return total - before


def marks(buf: np.ndarray, spare: np.ndarray, starts: np.ndarray) -> np.ndarray | None:
    """Where the markers go for padding ``spare`` (from ``surplus``): the spaces before the last of each run.

    The last space of a run stays the delimiter, so a quoted field after it still
    starts with its quote; an indented line's leading spaces are all marked. None
    if a line's indent is followed by a quote: marked, its first field would not
    start with the quote any more, and Arrow would not read it as quoted.
    """
    if not len(spare):
        return spare
    new_run = np.r_[True, spare[1:] != spare[:-1] + 1]
    first, size = spare[new_run], np.diff(np.r_[np.flatnonzero(new_run), len(spare)])
    at = np.minimum(np.searchsorted(starts, first), len(starts) - 1)
    indent = starts[at] == first
    if (buf[np.minimum(first[indent] + size[indent], len(buf) - 1)] == ord('"')).any():
        return None
    return np.where(np.repeat(indent, size), spare, spare - 1)


def marked(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A copy of the block with the marker byte at ``at``."""
    out = buf.copy()
    out[at] = MARK
    return out


def unmark(t: pa.Table) -> pa.Table:
    """Remove the markers from a table read from marked bytes (one chunk per column).

    A dictionary column is cleaned in its values; a plain string column only if
    its bytes hold a marker at all.
    """
    mark = chr(MARK)
    cols = []
    for c in t.columns:
        arr = c.chunk(0)
        if pa.types.is_dictionary(arr.type):
            if pc.any(pc.match_substring(arr.dictionary, mark)).as_py():
                arr = pa.DictionaryArray.from_arrays(arr.indices, pc.replace_substring(arr.dictionary, mark, ""))
        elif _holds_mark(arr):
            arr = pc.replace_substring(arr, mark, "")
        cols.append(arr)
    return pa.table(cols, names=t.column_names)


def _holds_mark(arr: pa.Array) -> bool:
    offsets = np.frombuffer(arr.buffers()[1], np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    data = arr.buffers()[2]
    if data is None:
        return False
    return bool((np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]] == MARK).any())
