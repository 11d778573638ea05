"""Finding input files and reading them as blocks of whole lines.

Compression is recognised by magic bytes, not by name, because rotated logs
are often renamed. Blocks end on a newline so a reader never sees half a line;
memory is bounded by the block size, not by the file.

A log's pages are left to the kernel once read. Telling it ingest was done
with them (``POSIX_FADV_DONTNEED``, per file and per Dask chunk) freed them at
once, and on a VM whose balloon takes back freed memory the detect that
followed paid for fresh pages: ingest of a 50M-line day in 4 files then
detect, 6 alternating pairs, ingest 38.7-40.0 -> 36.8-39.0 s and detect
23.1-24.7 -> 19.6-24.5 s (its system time 11.8-14.1 -> 6.9-11.7 s); at 10M
no difference.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ..errors import InputError

MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\x28\xb5\x2f\xfd", "zstd"))
MAX_LINE = 64 << 20
"""A 'line' longer than this is not a log line: the file is refused rather than buffered."""


def compression_of(path: Path) -> str | None:
    """The compression codec named by the file's first bytes, or None for plain text."""
    with open(path, "rb") as f:
        head = f.read(4)
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return None


def expand(inputs: Iterable[str | Path]) -> tuple[list[Path], list[InputError]]:
    """Files named by paths, directories (recursively) and glob patterns, in a stable order."""
    files: list[Path] = []
    errors: list[InputError] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not found:
                errors.append(InputError(path, "directory holds no files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():  # opening a named pipe would wait for a writer forever
            errors.append(InputError(path, "not a regular file (a named pipe, socket or device?): not read"))
        elif path.is_symlink():
            errors.append(InputError(path, "symbolic link to nothing (dangling, or a loop)"))
        elif any(ch in text for ch in "*?["):
            matched = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not matched:
                errors.append(InputError(text, "no files match this pattern"))
            files.extend(matched)
        else:
            errors.append(InputError(path, "no such file or directory"))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, errors


class Digest(NamedTuple):
    """A file's SHA-256, that of its complete lines, and (if asked) its newlines counted per ``GRID`` bytes."""

    sha: str
    cut_sha: str | None
    newlines: np.ndarray | None


GRID = 256 << 10
"""Bytes per entry of a digest's newline table, and per read while hashing and counting."""

HASH_READ = 8 << 20
"""Bytes per read while only hashing. A read and a hash release the GIL, but each takes it back
on return, which while the main thread imports (the first second of a run) comes once per switch
interval: with 256 KiB reads the hashing thread got 15-37 % of a core then, with 8 MiB 68-87 %.
A new file's first blocks wait for its hash to be written (it is their ``source_id``): one file
of 2.5M demo lines ingested in 3.70-3.76 s before, 3.39-3.49 s after, in four runs each."""


def sha256_file(path: Path, size: int, cut: int | None = None, count: bool = False, grid: int = GRID) -> Digest:
    """SHA-256 of the first ``size`` bytes as stored, and of the first ``cut`` bytes too.

    One pass serves both the file's identity and, for a plain log, the hash of
    its complete lines that tells a later run whether the file has only grown.
    With ``count`` the same pass counts newlines per ``grid`` bytes: enough for
    a Dask client to number the lines of any chunk without reading the file
    (chunks.py); counting bytes already in cache costs far less than a second read.
    """
    h = hashlib.sha256()
    at_cut = hashlib.sha256().hexdigest() if cut == 0 else None
    counts: list[int] = []
    step = grid if count else max(grid, HASH_READ)
    buf = bytearray(step)
    view = memoryview(buf)
    done = 0
    with open(path, "rb", buffering=0) as f:
        while done < size:
            got = f.readinto(view[: min(step, size - done)])
            if not got:
                break
            if cut is not None and done < cut <= done + got:
                h.update(view[: cut - done])
                at_cut = h.hexdigest()
                h.update(view[cut - done : got])
            else:
                h.update(view[:got])
            if count:
                counts.append(_newlines(buf, 0, got))
            done += got
    return Digest(h.hexdigest(), at_cut, np.array(counts, dtype=np.int64) if count else None)


def last_newline_end(path: Path, size: int) -> int:
    """Offset just after the last newline of a plain file (0 if none near the end)."""
    with open(path, "rb") as f:
        pos = size
        while pos > 0:
            start = max(0, pos - (1 << 16))
            f.seek(start)
            chunk = f.read(pos - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                return start + i + 1
            pos = start
            if size - pos > MAX_LINE:
                break
    return 0


@dataclass
class Block:
    """Whole lines from a file, numbered from ``first_line``."""

    data: bytes | bytearray | memoryview
    first_line: int
    lines: int
    end_offset: int
    """Offset in the decompressed content just after this block."""
    terminated: bool
    """False when the file's last line had no newline (one was added to ``data``)."""


class Source:
    """One input file opened for reading (plain, gzip, bz2 or zstd)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.compression = compression_of(path)
        self._raw: pa.NativeFile | None = None

    def open(self, offset: int = 0) -> pa.NativeFile:
        """A stream of the decompressed content, positioned at ``offset``."""
        raw = pa.OSFile(str(self.path), "rb")
        self._raw = raw
        if self.compression is None:
            raw.seek(offset)
            return raw
        stream = pa.CompressedInputStream(raw, self.compression)
        left = offset
        while left > 0:
            got = stream.read(min(left, 16 << 20))
            if not got:
                break
            left -= len(got)
        return stream

    @property
    def raw_position(self) -> int:
        """How far into the stored file reading has got, for progress bars."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def head(self, size: int = 64 << 10) -> bytes:
        """The first ``size`` bytes of content, for sniffing."""
        stream = self.open()
        try:
            return stream.read(size)
        except OSError as exc:
            raise InputError(self.path, f"cannot read: {exc}") from exc
        finally:
            stream.close()

    def blocks(
        self,
        size: int,
        offset: int = 0,
        first_line: int = 1,
        limit: int | None = None,
        skip_partial: bool = False,
    ) -> Iterator[Block]:
        """Yield blocks of about ``size`` bytes of whole lines, from ``offset`` up to ``limit``.

        A limit keeps a log that is being appended to consistent with the hash
        taken of it before reading. ``skip_partial`` drops the rest of a line
        that began before ``offset`` (it was read already). Each block's ``data``
        is its own buffer, trimmed in place: a reader may change it (see squid.py).
        """
        stream = self.open(offset)
        carry = b""
        line = first_line
        pos = offset
        left = None if limit is None else limit - offset
        try:
            while True:
                want = size if left is None else min(size, left)
                if want <= 0:
                    break
                need = len(carry) + want
                buf = unfilled(need)
                buf[: len(carry)] = carry  # read straight in after the carried part line
                try:
                    got = stream.readinto(memoryview(buf)[len(carry) : need])
                except OSError as exc:
                    where = f"after line {line - 1}" if line > 1 else "before the first complete line"
                    raise InputError(self.path, f"{_why(exc)} ({where})") from exc
                if not got:
                    break
                end, start = len(carry) + got, 0
                if left is not None:
                    left -= got
                if skip_partial:
                    start = buf.find(b"\n", 0, end) + 1
                    if start == 0:
                        pos += end
                        carry = b""
                        continue
                    pos += start
                    skip_partial = False
                cut = buf.rfind(b"\n", start, end) + 1
                if cut == 0:
                    carry = bytes(buf[start:end])
                    if len(carry) > MAX_LINE:
                        raise InputError(self.path, f"line longer than {MAX_LINE >> 20} MiB: not a text log", line)
                    continue
                carry = bytes(buf[cut:end])
                n = _newlines(buf, start, cut)
                pos += cut - start
                del buf[cut:]  # trimmed in place, not copied
                del buf[:start]
                yield Block(buf, line, n, pos, True)
                line += n
            if carry:
                pos += len(carry)
                yield Block(carry + b"\n", line, 1, pos, False)
        finally:
            stream.close()


_BYTEARRAY = ctypes.pythonapi.PyByteArray_FromStringAndSize
_BYTEARRAY.restype = ctypes.py_object
_BYTEARRAY.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t)


def unfilled(size: int) -> bytearray:
    """A bytearray of ``size`` bytes not set to anything, for ``readinto`` to fill.

    ``bytearray(size)`` zeroes its 16 MB while holding the GIL, and on this
    machine first touches (faults in) every page there: the reading thread's
    largest hold on the GIL, 0.4 s per 10M lines, while the parse threads wait.
    CPython's ``PyByteArray_FromStringAndSize(NULL, size)`` only allocates;
    ``readinto`` then touches the pages while the GIL is free.
    """
    return _BYTEARRAY(None, size)


def _newlines(buf: bytearray, lo: int, hi: int) -> int:
    """Newlines in ``buf[lo:hi]``, counted by a compiled loop rather than ``bytearray.count``.

    The loop counts without holding the GIL, which the parse threads want (the
    count was the reading thread's largest hold on it), and without numpy's
    scratch of one flag a byte: 0.6 ms a 16 MB block, against 1.4 for numpy.
    """
    from . import _compiled  # loaded by the parse threads anyway

    return int(_compiled.count(np.frombuffer(buf, np.uint8, hi - lo, lo), 10))


def _why(exc: OSError) -> str:
    text = str(exc)
    if "Truncated" in text or "truncated" in text:
        return "compressed file is truncated (incomplete download or still being written?)"
    return f"cannot read: {text}"
