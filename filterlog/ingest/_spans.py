"""Byte-level column tools: find characters and cut substrings without a Python loop.

Readers locate fields as (start, end) byte offsets with numpy, then turn many
spans into one Arrow string array at once (``strings``: one compiled copy loop,
see ``_compiled.gather``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PAD = 16
"""Bytes of zero padding after a buffer's end, so that a test of the byte or two after a field stays inside it."""


def padded(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Copy ``data`` into a writable uint8 array with PAD zero bytes after it."""
    src = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    out = np.zeros(len(src) + PAD, dtype=np.uint8)
    out[: len(src)] = src
    return out


def find(buf: np.ndarray, chars: bytes) -> dict[int, np.ndarray]:
    """Positions of each of ``chars`` in ``buf``.

    Control and space bytes are found with one range test; others with one
    SIMD comparison each, so pass only characters that can occur.
    """
    if max(chars) <= 34:
        mask = buf <= max(chars)
    else:
        mask = buf == chars[0]
        for c in chars[1:]:
            np.logical_or(mask, buf == c, out=mask)
    pos = np.flatnonzero(mask)
    found = buf[pos]
    return {c: pos[found == c] for c in chars}


def first_from(positions: np.ndarray, starts: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """For each start, the first position >= start, or the limit if none lies before it."""
    i = np.searchsorted(positions, starts)
    hit = np.append(positions, np.iinfo(np.int64).max)[i]
    return np.minimum(hit, limits)


def last_before(positions: np.ndarray, starts: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """For each [start, limit) range, the last position inside it, or -1 if none."""
    i = np.searchsorted(positions, limits) - 1
    hit = np.where(i >= 0, positions[np.maximum(i, 0)] if len(positions) else -1, -1)
    return np.where(hit >= starts, hit, -1)


def strings(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray | None = None, lower: bool = False
) -> pa.Array:
    """Cut ``buf[starts[i]:ends[i]]`` for every i into a string array (null where not valid).

    Bytes are not checked for UTF-8 here: the caller repairs the block first.
    ``lower``: lower-cased as ``pc.utf8_lower`` would, in the same copy.
    """
    from . import _compiled  # Numba loads on first use: commands that cut no columns do not pay for it

    n = len(starts)
    keep = np.ones(n, dtype=np.bool_) if valid is None else np.asarray(valid, dtype=np.bool_)
    buf = np.asarray(buf, dtype=np.uint8)
    fold = lower and not _compiled.has_byte(buf, 128)  # ASCII: lower-cased in the copy; else by Arrow below
    offsets, data = _compiled.gather(buf, np.asarray(starts, np.int64), np.asarray(ends, np.int64), keep, fold)
    mask = None if valid is None else pa.py_buffer(np.packbits(keep, bitorder="little"))
    if offsets[-1] < 2**31:
        out = pa.Array.from_buffers(pa.string(), n, [mask, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)])
    else:  # over 2 GiB of text: Arrow refuses, as it would for any string column
        out = pa.Array.from_buffers(pa.large_string(), n, [mask, pa.py_buffer(offsets), pa.py_buffer(data)])
        out = out.cast(pa.string())
    return pc.utf8_lower(out) if lower and not fold else out


def digits(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Parse unsigned decimal numbers of at most ``width`` digits from spans.

    Returns (values, ok) where ok is False for empty, too long or non-digit spans.
    """
    lens = ends - starts
    ok = (lens > 0) & (lens <= width)
    values = np.zeros(len(starts), dtype=np.int64)
    for k in range(width):
        inside = ok & (k < lens)
        d = buf[np.where(inside, starts + k, 0)].astype(np.int64) - 48
        ok &= ~inside | ((d >= 0) & (d <= 9))
        values = np.where(inside, values * 10 + d, values)
    return values, ok
