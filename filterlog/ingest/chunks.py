"""Cutting a plain log into numbered chunks of whole lines for a cluster, without reading it here.

A Dask client that read every byte of every file, to hash it and to number
its lines, would be the bottleneck of any cluster: one core at about 1 GB/s,
however many workers wait. So a worker takes the hash and, in the same pass
over the same bytes, counts newlines per 256 KiB (``source.sha256_file``). With
that table this process numbers any offset by reading less than 256 KiB, and
finds each chunk's end by reading back from its target to the nearest
newline: a few KiB per chunk.

The chunks fall exactly where ``Source.blocks`` puts its blocks (reads of
``size`` bytes from the start offset, each cut after its last newline), so a
file is cut and numbered the same way in-process and on a cluster, and the
same line too long to be a log line is refused with the same message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import FilterlogError, InputError
from .source import GRID, MAX_LINE

WINDOW = 4 << 10
"""Bytes first read when looking for a newline (a dozen log lines); doubled while none is found."""


@dataclass(frozen=True)
class Chunk:
    """Whole lines ``[lo, hi)`` of a plain file, starting at line ``first_line``."""

    number: int
    lo: int
    hi: int
    first_line: int
    lines: int
    terminated: bool
    """False for a last line without newline (the reader is given one)."""


def cut(
    path: Path,
    newlines: np.ndarray,
    size: int,
    start: tuple[int, int, bool],
    block: int,
    grid: int = GRID,
) -> Iterator[Chunk]:
    """The chunks of the first ``size`` bytes of a plain file, from ``start`` (offset, first line, mid line).

    ``newlines`` is the file's newline count per ``grid`` bytes, taken with its
    hash. A start inside a line skips the rest of that line (it was read before).
    """
    offset, first_line, mid_line = start
    with open(path, "rb") as f:
        file = _File(f, path, newlines, grid)
        begin: int | None = file.next_line(offset, size) if mid_line else offset
        if begin is None:
            return  # the rest of a line read before, and nothing after it
        base = file.lines_before(begin)
        prev, line, number, k = begin, first_line, 0, 1
        while True:
            target = min(offset + k * block, size)
            if target > prev:
                end = file.last_line_end(prev, target)
                if end is not None:
                    lines = file.lines_before(end) - base - (line - first_line)
                    yield Chunk(number, prev, end, line, lines, True)
                    prev, line, number = end, line + lines, number + 1
                elif target - prev > MAX_LINE:
                    raise InputError(path, f"line longer than {MAX_LINE >> 20} MiB: not a text log", line)
            if target >= size:
                break
            k += 1
        if prev < size:
            yield Chunk(number, prev, size, line, 1, False)


CHUNKS_PER_TASK = 4
"""Chunks one task parses in turn (a block's memory at a time): 64 MB of text in the default 16 MB blocks.
Every task costs the scheduler and the client a few milliseconds whatever its size, and on one
machine they share the cores with the workers: 10M lines on local:2 in 5 alternating pairs
11.25-11.85 -> 10.33-11.16 s, the client's CPU 1.7-1.8 -> 1.1-1.5 s; local:1 unchanged."""


def tasks(
    chunks: Iterator[Chunk], end: int, block: int, workers: int, most: int = CHUNKS_PER_TASK
) -> Iterator[list[Chunk]]:
    """Consecutive chunks in runs of up to ``most``, one task each, shorter towards the file's ``end``.

    A run starting ``left`` blocks before the end takes at most a quarter of
    them per worker, so a file ends in short tasks that the workers finish
    together, not in one long task that leaves the others idle.
    """
    run: list[Chunk] = []
    size = 1
    for chunk in chunks:
        if not run:
            left = -(-(end - chunk.lo) // block)
            size = max(1, min(most, left // (2 * workers)))
        run.append(chunk)
        if len(run) == size:
            yield run
            run = []
    if run:
        yield run


class _File:
    """Small reads of one plain file: newlines near an offset, and line numbers by the newline table."""

    def __init__(self, f: BinaryIO, path: Path, newlines: np.ndarray, grid: int) -> None:
        self.f, self.path, self.grid = f, path, grid
        self.before = np.concatenate([[0], np.cumsum(newlines)])

    def read(self, lo: int, hi: int) -> bytes:
        self.f.seek(lo)
        data = self.f.read(hi - lo)
        if len(data) != hi - lo:
            raise FilterlogError(f"{self.path}: file shrank while being read (truncated or rotated in place?)")
        return data

    def lines_before(self, offset: int) -> int:
        """Newlines in the first ``offset`` bytes."""
        piece = offset // self.grid
        return int(self.before[piece]) + self.read(piece * self.grid, offset).count(b"\n")

    def last_line_end(self, lo: int, hi: int) -> int | None:
        """Just after the last newline in ``[lo, hi)``, or None if there is none."""
        pos, step = hi, WINDOW
        while pos > lo:
            at = max(lo, pos - step)
            i = self.read(at, pos).rfind(b"\n")
            if i >= 0:
                return at + i + 1
            pos, step = at, 2 * step
        return None

    def next_line(self, lo: int, hi: int) -> int | None:
        """Just after the first newline in ``[lo, hi)``, or None if there is none."""
        step = WINDOW
        while lo < hi:
            at = min(hi, lo + step)
            i = self.read(lo, at).find(b"\n")
            if i >= 0:
                return lo + i + 1
            lo, step = at, 2 * step
        return None
